"""Every export format of one model, side by side: size, one-image time, batched throughput, held-out top-1.

    nice -n 10 python bench/export.py --weights default --val_path ./val_data --limit 3000

Held-out data: a fixed sample (a seeded shuffle) of the validation patches crawl_data.py made from font
families no training run saw, printed and handwriting-style together. The .keras model and the .tflite files
rank the patches as they are (network and exact top-5); the SavedModel answers each raw patch through its
own signature (its TensorFlow preprocessing, the network and top-5), and is compared with the .keras model
answering the same raw patches through ``prepare``. One image: the median of single calls from a raw image
to the top-5 (``prepare`` + network + top-5; the SavedModel from PNG bytes). Batched: network + top-5 over
the whole sample in batches of 256, the best of three passes; the SavedModel takes one image per call, so its
figure is sequential.
int8 is calibrated on glyphs of the training fonts only (the manifest's 'train' rows). Writes a JSON (--out)
and prints a markdown table.
"""
import argparse
import io
import os
import platform
import sys
import tempfile
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from utils.data.patches import list_patches, read_manifest, read_patch  # noqa: E402

FORMATS = ('saved_model', 'tflite', 'tflite-fp16', 'tflite-int8')
FILE_NAMES = {'saved_model': 'saved_model', 'tflite': 'model.tflite', 'tflite-fp16': 'model_fp16.tflite',
              'tflite-int8': 'model_int8.tflite'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default')
    parser.add_argument('--val_path', default='./val_data', help='validation patches (crawl_data.py)')
    parser.add_argument('--limit', type=int, default=3000, help='held-out images in the sample')
    parser.add_argument('--single', type=int, default=200, help='single-image calls timed per format')
    parser.add_argument('--representative_size', type=int, default=1000, help='int8 calibration glyphs')
    parser.add_argument('--more_int8', default='', help='more int8 rows at these calibration sizes, e.g. 100,3000')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'export.json'))
    return parser.parse_args(argv)


def held_out_sample(val_path, limit):
    """(uint8 images (N, S, S), labels (N,)): a seeded shuffle of every validation patch, the first ``limit``."""
    parts = [read_patch(path) for path in list_patches(val_path)]
    if not parts:
        raise SystemExit(f'{val_path}: no validation patches')
    images = np.concatenate([p.images for p in parts])
    labels = np.concatenate([p.labels for p in parts])
    order = np.random.default_rng(0).permutation(len(images))[:limit]
    return images[order], labels[order]


def training_fonts(val_path):
    """(file, face index) of the manifest's training fonts: int8 calibration never sees a held-out face."""
    rows = read_manifest(os.path.join(val_path, 'manifest.tsv'))
    return sorted({(r['file'], r['face_index']) for r in rows if r['split'] == 'train'})


def size_mb(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files) / 1e6
    return os.path.getsize(path) / 1e6


def median_ms(call, items):
    call(items[0])  # the first call builds what later ones reuse
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def top1(answers, labels):
    return 100.0 * float(np.mean([row[0] == label for row, label in zip(answers, labels)]))


def timed_batches(rank, inputs, repeats=3):
    """(answers, the best img/s of ``repeats`` passes): other work on the shared cores only slows a pass."""
    rank(inputs[:256])  # warm: the first call of a runtime traces or allocates
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        answers = rank(inputs)
        rates.append(len(inputs) / (time.perf_counter() - started))
    return answers, max(rates)


def run_saved_model(path, images, singles):
    """(one-image ms from PNG bytes, answers, sequential img/s) of the SavedModel loaded by TensorFlow alone."""
    import tensorflow as tf

    served = tf.saved_model.load(path)
    read_bytes, read_pixels = served.signatures['serving_default'], served.signatures['serve_pixels']

    def answer(image):
        out = read_pixels(pixels=tf.constant(image[..., None]))
        return [s.decode('utf-8') for s in out['syllables'].numpy()]
    one_ms = median_ms(lambda b: read_bytes(image_bytes=tf.constant(b)), [png_bytes(i) for i in singles])
    answers, rate = timed_batches(lambda batch: [answer(i) for i in batch], images, repeats=1)
    return one_ms, answers, rate


def run_tflite(path, images, singles):
    """(one-image ms through prepare, answers, batched img/s) of a .tflite file read as predict.py does."""
    from utils.inference.lite import LiteReader
    from utils.inference.preprocess import prepare

    reader = LiteReader(path)
    one_ms = median_ms(lambda i: reader.rank(prepare(i, reader.image_size)[None], n=5), singles)
    answers, rate = timed_batches(lambda x: reader.rank(x, n=5), images)
    return one_ms, answers, rate


def machine():
    with open('/proc/cpuinfo', encoding='utf-8') as f:
        names = [line.split(':', 1)[1].strip() for line in f if line.startswith('model name')]
    return f'{names[0] if names else platform.machine()}, {os.cpu_count()} cores'


def png_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format='PNG')
    return buffer.getvalue()


def main(argv=None):
    args = parse_args(argv)
    images, labels = held_out_sample(args.val_path, args.limit)
    fonts = training_fonts(args.val_path)
    import tensorflow as tf

    import model
    from utils.inference import BATCH_SIZE
    from utils.inference.preprocess import prepare

    ocr = model.KoOCR(weights=args.weights, runtime='keras')
    singles = list(images[:args.single])
    rows = []

    keras_answers, keras_rate = timed_batches(lambda x: ocr.rank(x, n=5), images)
    keras_top1 = top1(keras_answers, labels)
    keras_prepared_top1 = top1(ocr.rank(np.stack([prepare(i, ocr.image_size) for i in images]), n=5), labels)
    rows.append({'format': 'keras (reference)', 'size_mb': size_mb(ocr.weights_path),
                 'one_image_ms': median_ms(lambda i: ocr.predict(i, n=5), singles), 'batched_img_s': keras_rate,
                 'top1': keras_top1, 'keras_top1': keras_top1})
    with tempfile.TemporaryDirectory() as tmp:
        more = [('tflite-int8', int(n)) for n in args.more_int8.split(',') if n]
        for format, calibration in [(f, args.representative_size) for f in FORMATS] + more:
            path = os.path.join(tmp, f'{calibration}_' + FILE_NAMES[format])
            started = time.perf_counter()
            fonts_used = fonts if format == 'tflite-int8' else None
            ocr.export(path, format, representative_size=calibration, fonts=fonts_used)
            export_s = time.perf_counter() - started
            if format == 'saved_model':
                one_ms, answers, rate = run_saved_model(path, images, singles)
                reference = keras_prepared_top1
            else:
                one_ms, answers, rate = run_tflite(path, images, singles)
                reference = keras_top1
            name = f'{format} ({calibration:,} glyphs)' if format == 'tflite-int8' else format
            rows.append(dict(format=name, size_mb=size_mb(path), one_image_ms=one_ms, batched_img_s=rate,
                             top1=top1(answers, labels), keras_top1=reference, export_s=export_s,
                             agree_with_keras=top1(answers, [a[0] for a in keras_answers])))
            print(f'{name}: done', file=sys.stderr)
    result = dict(
        date=time.strftime('%Y-%m-%d'), machine=machine(),
        python=platform.python_version(), tensorflow=tf.__version__, weights=ocr.weights_path,
        val_path=args.val_path, images=len(images), single_calls=len(singles), batch_size=BATCH_SIZE,
        representative_size=args.representative_size, calibration_fonts=len(fonts), rows=rows,
        command='nice -n 10 python bench/export.py ' + ' '.join(sys.argv[1:] if argv is None else argv))
    from utils.io import write_json
    write_json(args.out, result)
    print(table(result))


def table(result):
    lines = ['| format | size MB | one image ms | batched img/s | held-out top-1 | Keras top-1, same inputs '
             '| Δ points |',
             '|---|---|---|---|---|---|---|']
    for r in result['rows']:
        lines.append(f"| {r['format']} | {r['size_mb']:.2f} | {r['one_image_ms']:.2f} | {r['batched_img_s']:,.0f} | "
                     f"{r['top1']:.2f}% | {r['keras_top1']:.2f}% | {r['top1'] - r['keras_top1']:+.2f} |")
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
