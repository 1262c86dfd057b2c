"""LiteRT (TFLite) twin of a KoOCR network: the same outputs as the Keras model, several times cheaper per call.

On these CPUs one Keras ``predict_on_batch`` costs 5-11 ms whatever the batch; one LiteRT call on one image
costs about 1 ms, and batches run ~1.3x faster too. ``KoOCR`` uses ``model.tflite`` when it sits
beside ``model.keras`` and gives the same answers; ``KoOCR.save('x.tflite')`` writes one.
"""
import contextlib
import io
import json
import os
import sys
import zipfile

import numpy as np

from utils.inference import BATCH_SIZE
from utils.inference.preprocess import model_inputs
from utils.inference.topn import ranked
from utils.io import atomic_write



def export_tflite(keras_model, path):
    """Convert a Keras model to a float32 .tflite file (written to a temp file, then renamed)."""
    import tensorflow as tf

    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints every variable of the exported signature
        data = tf.lite.TFLiteConverter.from_keras_model(keras_model).convert()
    atomic_write(path, lambda f: f.write(data))


@contextlib.contextmanager
def _quiet_native_stderr():
    """Send what native code writes to the process's stderr (fd 2) to /dev/null for a moment."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, 'wb') as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LiteRunner:
    """A .tflite model as a function: float32 (N, S, S, 1) -> {output name: (N, classes)} probabilities."""

    def __init__(self, path, threads=None):
        from ai_edge_litert.interpreter import Interpreter  # ImportError: callers fall back to Keras

        try:
            interpreter = Interpreter(model_path=path, num_threads=threads or os.cpu_count())
            signature = interpreter.get_signature_list()['serving_default']
        except (ValueError, RuntimeError, KeyError) as e:
            raise ValueError(f'{path}: not a TFLite model with a serving signature ({e})') from None
        self.path = path
        self.input_name, = signature['inputs']
        self.output_names = signature['outputs']
        self._run = interpreter.get_signature_runner()
        with _quiet_native_stderr():  # the first call prints a notice ('Created ... XNNPACK delegate') once
            self(np.zeros(interpreter.get_input_details()[0]['shape'], np.float32))

    def __call__(self, inputs):
        inputs = np.asarray(inputs, np.float32)
        # Each call's outputs live in the interpreter's buffers: concatenate copies them out.
        parts = [self._run(**{self.input_name: inputs[i:i + BATCH_SIZE]})
                 for i in range(0, len(inputs), BATCH_SIZE)]
        return {name: np.concatenate([part[name] for part in parts]) for name in self.output_names}


def read_model_info(keras_path):
    """(options dict, charset) that a KoOCR .keras file carries in its ModelInfo layer, read without Keras."""
    try:
        with zipfile.ZipFile(keras_path) as archive:
            layers = json.loads(archive.read('config.json'))['config']['layers']
        info = next(layer['config'] for layer in layers if layer['class_name'] == 'ModelInfo')
        return info['config'], info['charset']
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, StopIteration, json.JSONDecodeError) as e:
        raise ValueError(f'{keras_path}: not a KoOCR .keras model ({type(e).__name__}: {e})') from None


class LiteReader:
    """A model folder's LiteRT twin on its own (``model.tflite``, with the charset and image size read from
    ``model.keras``): reads characters without loading TensorFlow, so ``predict.py`` starts in about a second.
    It trusts the twin, so it is meant for the shipped model, whose pair the tests check agrees; ``KoOCR``
    checks any other."""

    def __init__(self, folder):
        config, self.charset = read_model_info(os.path.join(folder, 'model.keras'))
        self.image_size = int(config['image_size'])
        self.runner = LiteRunner(os.path.join(folder, 'model.tflite'))

    def rank(self, inputs, n=5, probabilities=False):
        """Prepared inputs (N, S, S[, 1]) -> one list of the n most likely syllables per image."""
        return ranked(self.runner(model_inputs(inputs, self.image_size)), self.charset, n, probabilities)
