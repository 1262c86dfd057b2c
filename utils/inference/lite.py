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
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from utils.inference import BATCH_SIZE
from utils.inference.preprocess import model_inputs
from utils.inference.topn import ranked
from utils.io import atomic_write



QUANTIZATIONS = (None, 'int8', 'fp16')
INFO_METADATA = 'koocr_model_info'  # the flatbuffer metadata entry holding the options and the charset


def convert(keras_model, quantization=None, representative=None):
    """A Keras model -> .tflite bytes: float32 (None); float16 weights ('fp16', computed in float32 on CPUs
    without fp16 units); or full-integer ('int8': int8 weights, activations, input and outputs, calibrated
    on ``representative``, float32 (N, S, S, 1) images as the network sees them)."""
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ValueError(f'quantization={quantization!r}; choose from {QUANTIZATIONS}')
    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    if quantization == 'fp16':
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == 'int8':
        if representative is None or not len(representative):
            raise ValueError('int8 quantization needs a representative set of images')
        images = np.asarray(representative, np.float32)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[None]] for image in images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():  # Keras prints every variable
        # TF 2.21 warns 'Statistics for quantized inputs were expected' for every int8 Keras conversion: the
        # calibration sets the input's scale (1.0, zero point -128 for 0-255 grey levels) all the same.
        warnings.filterwarnings('ignore', 'Statistics for quantized inputs')
        return converter.convert()


def export_tflite(keras_model, path, info=None, quantization=None, representative=None):
    """Convert a Keras model to a .tflite file (see ``convert``; written to a temp file, then renamed).
    ``info``: (options dict, charset) to carry inside the file, so it can be read on its own."""
    data = convert(keras_model, quantization, representative)
    if info is not None:
        data = with_metadata(data, INFO_METADATA, json.dumps({'config': info[0], 'charset': info[1]}).encode())
    atomic_write(path, lambda f: f.write(data))


def with_metadata(data, name, value):
    """.tflite bytes with one more metadata entry ``name`` holding the bytes ``value``."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(value, np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = name, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != name.encode()] + [entry]
    builder = flatbuffers.Builder(len(data) + len(value) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b'TFL3')
    return bytes(builder.Output())


def read_metadata(path, name):
    """The bytes of metadata entry ``name`` in a .tflite file, or None; ValueError naming a non-TFLite file."""
    from ai_edge_litert import schema_py_generated as schema

    with open(path, 'rb') as f:
        data = f.read()
    try:
        model = schema.Model.GetRootAs(data, 0)
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() == name.encode():
                return model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    except Exception as e:  # a damaged flatbuffer fails with struct or index errors
        raise ValueError(f'{path}: not a TFLite model ({type(e).__name__}: {e})') from None
    return None


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
    """A .tflite model as a function: float32 (N, S, S, 1) -> {output name: (N, classes)} probabilities.
    A quantized model (int8/uint8 input or outputs) gets its input quantized and its outputs dequantized
    with the tensors' own scale and zero point.

    ``workers`` interpreters (default: one per core), one thread each, take a batch's pieces side by side:
    on 2 cores that ran ~9% more images/s than one interpreter of two threads (3,580 against 3,260), and
    one image is quicker on one thread than split over two. The calling thread runs the first lane.
    Not for calls from several threads at once."""

    def __init__(self, path, workers=None):
        from ai_edge_litert.interpreter import Interpreter  # ImportError: callers fall back to Keras

        runs = []
        for _ in range(workers or os.cpu_count() or 1):
            try:
                interpreter = Interpreter(model_path=path, num_threads=1)
                signature = interpreter.get_signature_list()['serving_default']
            except (ValueError, RuntimeError, KeyError) as e:
                raise ValueError(f'{path}: not a TFLite model with a serving signature ({e})') from None
            runs.append(interpreter.get_signature_runner())
        self.path = path
        self.input_name, = signature['inputs']
        self.output_names = signature['outputs']
        self._runs = runs
        self._pool = ThreadPoolExecutor(len(runs) - 1) if len(runs) > 1 else None
        self._input = runs[0].get_input_details()[self.input_name]
        self._outputs = runs[0].get_output_details()
        with _quiet_native_stderr():  # the first call prints a notice ('Created ... XNNPACK delegate') once
            for worker in range(len(runs)):
                self._invoke(worker, np.zeros(self._input['shape'], np.float32))

    def _quantize(self, inputs):
        dtype = self._input['dtype']
        if not np.issubdtype(dtype, np.integer):
            return inputs
        scale, zero_point = self._input['quantization']
        limits = np.iinfo(dtype)
        return np.clip(np.rint(inputs / scale + zero_point), limits.min, limits.max).astype(dtype)

    def _dequantize(self, name, values):
        if not np.issubdtype(values.dtype, np.integer):
            return values  # the signature runner hands out arrays of their own, not its buffers
        scale, zero_point = self._outputs[name]['quantization']
        return (values.astype(np.float32) - zero_point) * scale

    def _invoke(self, worker, inputs):
        outputs = self._runs[worker](**{self.input_name: self._quantize(inputs)})
        return {name: self._dequantize(name, outputs[name]) for name in self.output_names}

    def _lane(self, worker, pieces):
        return [self._invoke(worker, piece) for piece in pieces]

    def __call__(self, inputs):
        inputs = np.asarray(inputs, np.float32)
        lanes = len(self._runs)
        size = max(1, min(BATCH_SIZE, -(-len(inputs) // lanes)))  # every interpreter gets work, none over a batch
        pieces = [inputs[i:i + size] for i in range(0, len(inputs), size)]
        if self._pool is None or len(pieces) <= 1:
            parts = self._lane(0, pieces)
        else:
            # The calling thread runs the first lane itself: handing every lane to the pool and waiting cost
            # a thread's wake-up per call, about a sixth of the line reader's time (bench/README.md).
            futures = [self._pool.submit(self._lane, k, pieces[k::lanes]) for k in range(1, lanes)]
            done = [self._lane(0, pieces[0::lanes])] + [future.result() for future in futures]
            parts = [done[j % lanes][j // lanes] for j in range(len(pieces))]  # back in the batch's order
        return {name: np.concatenate([part[name] for part in parts]) for name in self.output_names}


def checked_twin(twin, keras_model, image_size, keras_path):
    """The ``LiteRunner`` of ``twin`` if it answers a probe as ``keras_model`` does; a ValueError saying how
    to re-export it otherwise (a twin left behind by a retrained model.keras must not answer for it)."""
    if not os.path.isfile(twin):
        raise FileNotFoundError(f'{twin or "a new network"}: no .tflite twin of the Keras model')
    runner = LiteRunner(twin)
    probe = np.random.default_rng(0).uniform(0, 255, (2, image_size, image_size, 1))
    expected = keras_model.predict_on_batch(probe.astype(np.float32))
    got = runner(probe)
    if set(got) != set(expected) or not all(np.allclose(got[k], expected[k], atol=1e-4) for k in got):
        raise ValueError(f'{twin}: outputs differ from {keras_path}; re-export it with '
                         f'KoOCR(weights=...).save({twin!r})')
    return runner


def read_model_info(keras_path):
    """(options dict, charset) that a KoOCR .keras file carries in its ModelInfo layer, read without Keras."""
    try:
        with zipfile.ZipFile(keras_path) as archive:
            layers = json.loads(archive.read('config.json'))['config']['layers']
        info = next(layer['config'] for layer in layers if layer['class_name'] == 'ModelInfo')
        return info['config'], info['charset']
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, StopIteration, json.JSONDecodeError) as e:
        raise ValueError(f'{keras_path}: not a KoOCR .keras model ({type(e).__name__}: {e})') from None


def read_tflite_info(path):
    """(options dict, charset) of a .tflite file: the copy exported inside it, else the ``model.keras``
    beside it (the shipped twin predates the copy); ValueError/FileNotFoundError naming the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: no such .tflite file')
    inside = read_metadata(path, INFO_METADATA)
    if inside is not None:
        info = json.loads(inside)
        return info['config'], info['charset']
    beside = os.path.join(os.path.dirname(path), 'model.keras')
    if not os.path.isfile(beside):
        raise ValueError(f'{path}: carries no KoOCR model info and has no model.keras beside it; '
                         f'export it with export.py')
    return read_model_info(beside)


class LiteReader:
    """A LiteRT model on its own: a model folder's twin (``model.tflite``, with the charset and image size
    read from ``model.keras``), or any .tflite file export.py wrote (float32, fp16 or int8, carrying them
    inside). Reads characters without loading TensorFlow, so ``predict.py`` starts in about a second.
    It trusts the file, so it is meant for the shipped model, whose pair the tests check agrees, and for
    exports; ``KoOCR`` checks any other twin."""

    def __init__(self, path):
        if os.path.isdir(path):
            config, self.charset = read_model_info(os.path.join(path, 'model.keras'))
            path = os.path.join(path, 'model.tflite')
        else:
            config, self.charset = read_tflite_info(path)
        self.image_size = int(config['image_size'])
        self.runner = LiteRunner(path)

    def rank(self, inputs, n=5, probabilities=False):
        """Prepared inputs (N, S, S[, 1]) -> one list of the n most likely syllables per image."""
        return ranked(self.runner(model_inputs(inputs, self.image_size)), self.charset, n, probabilities)
