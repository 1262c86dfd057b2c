"""Training and inference throughput, size and cost of every network on this machine.

    nice -n 10 python bench/train_speed.py                          # every network × 64, 96 px (< 15 min)
    nice -n 10 python bench/train_speed.py --networks compact --sizes 64 --seconds 20

float32, three jamo heads (split mode), ``--fc_link`` GWAP, random images held in memory, Adam, jit_compile off.
Training steps are batches of 128 (``train_on_batch``), inference batches of 256 (``predict_on_batch``); a few
warm-up steps (the first one traces the graph; no more once they took ``--seconds``) are not timed, then steps
are timed until ``--seconds`` have passed or ``--max_steps`` are done (at least one). The .keras size is that of
the model without an optimizer, as shipped. Sizes below an application's minimum (inception-resnet: 75 px) are
skipped. Prints a Markdown table.
"""
import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import network  # noqa: E402
from network import applications  # noqa: E402
from utils.inference import BATCH_SIZE  # noqa: E402


def count_macs(layer):
    """Multiply-accumulates of one image through the convolutions and dense layers (nested models too)."""
    inner = getattr(layer, 'layers', None)
    if inner is not None:
        return sum(count_macs(sub) for sub in inner)
    if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
                          keras.layers.Dense)):
        out_shape, in_channels = layer.output.shape, layer.input.shape[-1]
        positions = int(np.prod(out_shape[1:-1])) if len(out_shape) > 2 else 1
        if isinstance(layer, keras.layers.Dense):
            return in_channels * out_shape[-1] * positions
        kernel = int(np.prod(layer.kernel_size))
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            return positions * out_shape[-1] * kernel
        if isinstance(layer, keras.layers.SeparableConv2D):
            depth = in_channels * layer.depth_multiplier
            return positions * (depth * kernel + depth * out_shape[-1])
        return positions * out_shape[-1] * kernel * in_channels // layer.groups
    return 0


def saved_size_mb(model):
    """Size of the model's .keras file with no optimizer (the model is not compiled yet)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'model.keras')
        model.save(path)
        return os.path.getsize(path) / 2 ** 20


def timed_steps(step, images_per_step, warmup, seconds, max_steps):
    """Run ``warmup`` untimed steps, then timed ones for ``seconds`` (or ``max_steps``): images/s.

    The warm-up stops early once it has taken ``seconds``: after the first step (which traces the graph)
    a slow network's steps are long enough that one more warm-up step would only lengthen the bench."""
    began = time.perf_counter()
    for _ in range(warmup):
        step()
        if time.perf_counter() - began > seconds:
            break
    steps, started = 0, time.perf_counter()
    while steps < 1 or (steps < max_steps and time.perf_counter() - started < seconds):
        step()
        steps += 1
    return steps * images_per_step / (time.perf_counter() - started)


def measure(name, image_size, args):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = network.build_model(name, image_size, split_components=True, fc_link=args.fc_link, width=args.width,
                                data_augmentation=args.data_augmentation)
    row = {'params': model.count_params(), 'macs': count_macs(model), 'size': saved_size_mb(model)}
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False,
                  loss={n: 'sparse_categorical_crossentropy' for n in model.output_names})
    rng = np.random.default_rng(0)
    batch = max(args.train_batch, args.infer_batch)
    images = rng.integers(0, 256, (batch, image_size, image_size, 1)).astype(np.float32)
    targets = {n: rng.integers(0, int(o.shape[-1]), args.train_batch).astype(np.int32)
               for n, o in zip(model.output_names, model.outputs)}
    train_images, infer_images = images[:args.train_batch], images[:args.infer_batch]
    row['train'] = timed_steps(lambda: model.train_on_batch(train_images, targets), args.train_batch,
                               args.warmup, args.seconds, args.max_steps)
    row['infer'] = timed_steps(lambda: model.predict_on_batch(infer_images), args.infer_batch,
                               args.warmup, args.seconds, args.max_steps)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--networks', nargs='+', default=list(network.BACKBONES), choices=list(network.BACKBONES))
    parser.add_argument('--sizes', nargs='+', type=int, default=[64, 96])
    parser.add_argument('--fc_link', default='GWAP')
    parser.add_argument('--width', type=float, default=1.0, help='channel width multiplier (compact, fire, melnyk)')
    parser.add_argument('--data_augmentation', action='store_true',
                        help="with the model's augmentation layer (it runs in training steps only)")
    parser.add_argument('--train_batch', type=int, default=128)
    parser.add_argument('--infer_batch', type=int, default=BATCH_SIZE)
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps before each measurement')
    parser.add_argument('--seconds', type=float, default=15, help='timed seconds per measurement')
    parser.add_argument('--max_steps', type=int, default=50, help='timed steps at most per measurement')
    args = parser.parse_args()

    print(f'{os.cpu_count()} cores, keras {keras.__version__}, float32, batch {args.train_batch} train / '
          f'{args.infer_batch} infer, fc_link {args.fc_link or "flatten"}, three jamo heads')
    print('| network | px | params | MMACs | train img/s | infer img/s | .keras MB (no optimizer) | bench s |')
    print('|---|---|---|---|---|---|---|---|')
    started = time.time()
    for name in args.networks:
        for size in args.sizes:
            min_size = applications.APPLICATIONS[name][1] if name in applications.APPLICATIONS else 0
            if size < min_size:
                print(f'| {name} | {size} | needs ≥ {min_size} px | | | | | |', flush=True)
                continue
            begun = time.time()
            row = measure(name, size, args)
            label = name if args.width == 1.0 else f'{name} ×{args.width:g}'
            print(f"| {label} | {size} | {row['params'] / 1e6:.2f}M | {row['macs'] / 1e6:.0f} | {row['train']:.1f} | "
                  f"{row['infer']:.0f} | {row['size']:.1f} | {time.time() - begun:.0f} |", flush=True)
    print(f'total {time.time() - started:.0f} s')


if __name__ == '__main__':
    main()
