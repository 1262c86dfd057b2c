"""The line reader's LiteRT twins: copies of the symbol network and of the syllable model for ``read_text``,
their bodies in full integer (int8): a line's symbol views in 0.6 and its glyphs in 0.35 of float32's time on
these CPUs (bench/README.md, "Reading lines").

Only the body is int8: the twin hands out the features that the softmax heads read, and the heads, whose
weights the file carries, are applied here in floats. An int8 head would round every probability under 1/256
to zero, where the reader weighs runs by log-probabilities; int8 logits, tried too, read training lines a
little worse. Each twin records the SHA-256 of the .keras file it was made from and answers only for that
file: a retrained network makes its old twin stale, and the reader then runs the .keras file itself.
"""
import hashlib
import io
import json
import logging
import os

import numpy as np

from utils.inference import lite
from utils.io import atomic_write

log = logging.getLogger(__name__)

SOURCE_METADATA, HEADS_METADATA = 'koocr_twin_source', 'koocr_twin_heads'


def file_digest(path):
    """The SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def split_heads(keras_model):
    """(body, heads): the network up to the features its softmax Dense heads share (same layers and weights),
    and {output name: (kernel, bias)} of those heads."""
    import keras

    features, heads = [], {}
    for name, output in zip(keras_model.output_names, keras_model.outputs):
        head = output._keras_history[0]
        if not isinstance(head, keras.layers.Dense) or head.activation.__name__ != 'softmax':
            raise ValueError(f'{keras_model.name}: output {name!r} is not a softmax Dense layer')
        features.append(head.input)
        heads[name] = tuple(head.get_weights())
    if any(tensor is not features[0] for tensor in features):
        raise ValueError(f'{keras_model.name}: its heads read different features')
    return keras.Model(keras_model.inputs, features[0], name=keras_model.name), heads


def write_twin(keras_model, source, calibration, path):
    """Write the twin of ``keras_model`` (loaded from the file ``source``) to ``path``: its body in int8,
    calibrated on ``calibration`` (uint8 (N, S, S) inputs as the reader shows them), its heads' weights
    and ``source``'s digest as metadata."""
    body, heads = split_heads(keras_model)
    data = lite.convert(body, 'int8', np.asarray(calibration, np.float32)[..., None])
    record = json.dumps({'source': os.path.basename(source), 'sha256': file_digest(source)}).encode()
    data = lite.with_metadata(data, SOURCE_METADATA, record)
    arrays = io.BytesIO()
    np.savez(arrays, **{f'{name}/{part}': value for name, weights in heads.items()
                        for part, value in zip(('kernel', 'bias'), weights)})
    data = lite.with_metadata(data, HEADS_METADATA, arrays.getvalue())
    atomic_write(path, lambda f: f.write(data))


def softmax(logits):
    """Row-wise softmax, in float64: float32 exponents of very unlikely classes fall to denormals, ~100x slower."""
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def load_twin(path, source):
    """A function float32 (N, S, S, 1) -> {output name: (N, classes) probabilities} running the twin at
    ``path``, or None when there is none or LiteRT is missing, and (with a warning) when it was made from
    another file than ``source`` or cannot be read."""
    if not os.path.isfile(path):
        return None
    try:
        record = lite.read_metadata(path, SOURCE_METADATA)
        if record is None or json.loads(record)['sha256'] != file_digest(source):
            log.warning(f'{path}: not made from {source}; running the .keras file instead '
                        f'(rewrite the twin: python train_lines.py --steps twins)')
            return None
        runner = lite.LiteRunner(path)
        heads = _heads(lite.read_metadata(path, HEADS_METADATA))
    except ImportError:
        return None
    except (ValueError, KeyError, TypeError, OSError) as e:
        log.warning(f'{path}: unusable ({e}); running the .keras file instead')
        return None
    output, = runner.output_names

    def probabilities(inputs):
        features = runner(inputs)[output]
        # einsum, not BLAS: OpenBLAS wakes its threads for a product this small, costing ~0.4 ms a call
        return {name: softmax(np.einsum('nf,fc->nc', features, kernel) + bias)
                for name, (kernel, bias) in heads.items()}
    return probabilities


def _heads(data):
    """{output name: (kernel, bias)} from the npz bytes of HEADS_METADATA (no pickles)."""
    if data is None:
        raise ValueError('no head weights inside')
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        names = dict.fromkeys(key.rsplit('/', 1)[0] for key in arrays.files)
        return {name: (arrays[f'{name}/kernel'], arrays[f'{name}/bias']) for name in names}
