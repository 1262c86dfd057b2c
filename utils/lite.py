"""LiteRT (TFLite) twin of a KoOCR network: the same outputs as the Keras model, several times cheaper per call.

On these CPUs one Keras ``predict_on_batch`` costs 5-11 ms whatever the batch; one LiteRT call on one image
costs about 1 ms (FACTS.md), and batches run ~1.3x faster too. ``KoOCR`` uses ``model.tflite`` when it sits
beside ``model.keras`` and gives the same answers; ``KoOCR.save('x.tflite')`` writes one.
"""
import contextlib
import io
import os

import numpy as np

from utils.patches import atomic_write

BATCH = 256  # images per interpreter call: larger batches are no faster and cost memory


def export_tflite(keras_model, path):
    """Convert a Keras model to a float32 .tflite file (written to a temp file, then renamed)."""
    import tensorflow as tf

    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints every variable of the exported signature
        data = tf.lite.TFLiteConverter.from_keras_model(keras_model).convert()
    atomic_write(path, lambda f: f.write(data))


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

    def __call__(self, inputs):
        inputs = np.asarray(inputs, np.float32)
        # Each call's outputs live in the interpreter's buffers: concatenate copies them out.
        parts = [self._run(**{self.input_name: inputs[i:i + BATCH]}) for i in range(0, len(inputs), BATCH)]
        return {name: np.concatenate([part[name] for part in parts]) for name in self.output_names}
