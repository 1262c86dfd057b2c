"""What compression bought: size on disk (and zipped: what sparsity saves in transport), MACs, LiteRT speed
and held-out accuracy of a model, and the before/after table."""
import io
import os
import zipfile

import keras
import numpy as np

from utils.data.dataset import Labeler, PatchDataset
from utils.data.patches import HANDWRITING_KINDS
from utils.evaluation.predictions import predict_dataset
from utils.evaluation.speed import timed
from utils.inference.lite import LiteReader, LiteRunner
from utils.inference.topn import top_n_syllables


def conv_macs(model):
    """Multiply-accumulates of the convolutions and dense layers for one image (the halves of a low-rank
    pair, 'same' padding and stride 1, both at their block's output size)."""
    total = 0
    for layer in model.layers:
        for part in layer.layers if isinstance(layer, keras.Sequential) else [layer]:
            if isinstance(part, keras.layers.Conv2D):
                height, width = layer.output.shape[1:3]
                total += int(np.prod(part.kernel.shape)) * height * width
            elif isinstance(part, keras.layers.Dense):
                total += int(np.prod(part.kernel.shape))
    return total


def zipped_mb(path):
    """Size of the file deflated: what exact zeros save when the file is sent or stored compressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, os.path.basename(path))
    return buffer.tell() / 2 ** 20


def lite_speed(path, image_size, images=1024):
    """(ms for one image, batched img/s) through the LiteRT file at ``path``."""
    reader = LiteReader(path)
    one = np.full((1, image_size, image_size), 255, np.uint8)
    one[0, image_size // 4:3 * image_size // 4, image_size // 2 - 2:image_size // 2 + 2] = 0
    return timed(lambda: reader.rank(one), reader.rank, image_size, images=images)


def measure(ocr, folder, val_path):
    """Figures of ``ocr`` whose .keras, float32 .tflite and int8 .tflite are ``folder``/model*.{keras,tflite}."""
    files = {name: os.path.join(folder, name) for name in ('model.keras', 'model.tflite', 'model_int8.tflite')}
    kernels = [w for layer in ocr.model.layers for w in layer.get_weights()]
    figures = {'parameters': int(sum(w.size for w in kernels)),
               'nonzero_parameters': int(sum(np.count_nonzero(w) for w in kernels)),
               'macs': conv_macs(ocr.model)}
    for name, path in files.items():
        stem = name.replace('.', '_')
        figures[f'{stem}_mb'] = os.path.getsize(path) / 2 ** 20
        figures[f'{stem}_zipped_mb'] = zipped_mb(path)
    for name in ('model.tflite', 'model_int8.tflite'):
        stem = name.replace('.', '_')
        figures[f'{stem}_ms_per_image'], figures[f'{stem}_batched_img_s'] = lite_speed(files[name], ocr.image_size)
    dataset = PatchDataset(val_path, ocr.image_size, Labeler(ocr.config.split_components, ocr.charset),
                           shuffle=False)
    predictions = predict_dataset(ocr.model, ocr.charset, dataset, progress=False)
    int8 = LiteRunner(files['model_int8.tflite'])
    int8_right = np.concatenate([top_n_syllables(int8(images[..., None]), ocr.charset, 1)[0][:, 0]
                                 == [ocr.charset.index(label) for label in labels]
                                 for images, labels, _, _ in dataset.examples()])
    handwriting = np.isin(predictions.kinds, HANDWRITING_KINDS)
    for group, mask in (('printed', ~handwriting), ('handwriting', handwriting)):
        if mask.any():
            figures[f'{group}_top1'] = float(predictions.correct[mask].mean())
            figures[f'int8_{group}_top1'] = float(int8_right[mask].mean())
    return figures


ROWS = [('parameters (non-zero)', lambda f: f"{f['parameters']:,} ({f['nonzero_parameters']:,})"),
        ('MACs per image', lambda f: f"{f['macs'] / 1e6:.1f} M"),
        ('.keras MB (zipped)', lambda f: f"{f['model_keras_mb']:.2f} ({f['model_keras_zipped_mb']:.2f})"),
        ('.tflite MB (zipped)', lambda f: f"{f['model_tflite_mb']:.2f} ({f['model_tflite_zipped_mb']:.2f})"),
        ('int8 .tflite MB', lambda f: f"{f['model_int8_tflite_mb']:.2f}"),
        ('LiteRT ms/image, float32 / int8',
         lambda f: f"{f['model_tflite_ms_per_image']:.2f} / {f['model_int8_tflite_ms_per_image']:.2f}"),
        ('LiteRT batched img/s, float32 / int8',
         lambda f: f"{f['model_tflite_batched_img_s']:,.0f} / {f['model_int8_tflite_batched_img_s']:,.0f}"),
        ('held-out printed top-1, float32 / int8', lambda f: _both(f, 'printed_top1')),
        ('held-out handwriting top-1, float32 / int8', lambda f: _both(f, 'handwriting_top1'))]


def _both(figures, key):
    nan = float('nan')
    return f"{figures.get(key, nan):.2%} / {figures.get('int8_' + key, nan):.2%}"


def table(report):
    """The Markdown table of a compress.py report: the original against the compressed model."""
    lines = ['| | original | compressed |', '|---|---|---|']
    lines += [f"| {name} | {show(report['original'])} | {show(report['compressed'])} |" for name, show in ROWS]
    return '\n'.join(lines)
