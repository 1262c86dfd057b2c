"""Compress a trained model (after Xiao et al., "Building fast and compact CNNs for offline handwritten Chinese
character recognition", Pattern Recognition 2017): global supervised low-rank expansion of its 3×3
convolutions, then adaptive drop-weight pruning, then its LiteRT twins; reports size, MACs, speed and held-out
accuracy before and after.

    python compress.py --weights default --data_path ./data --val_path ./val_data --output ./compressed

1. Low-rank expansion, one layer at a time in network order: each square stride-1 convolution becomes a k×1
   convolution to r channels then a 1×k one (r: the smallest rank keeping --energy of the kernel's squared
   singular values), started from the kernel's SVD, then the whole network is fine-tuned --layer_steps
   steps to the original model's outputs (every jamo head) and the labels before the next layer goes.
2. Pruning in --prune_rounds rounds: each convolution and dense kernel loses the smallest weights up to
   round/rounds × --sparsity of its own weights (its own threshold), and fine-tunes --round_steps steps with
   the pruned weights held at zero.
3. Writes --output/model.keras (loads with ``KoOCR(weights=...)``), its float32 twin model.tflite,
   model_int8.tflite (full-integer), and compression.json with the figures of the original and the result.
"""
import argparse
import os
import sys
import tempfile
import time

from utils.cli import reported


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default', help="the model to compress: 'default' (shipped) or a file")
    parser.add_argument('--data_path', default='./data', help='training patches for the fine-tuning')
    parser.add_argument('--val_path', default='./val_data', help='held-out patches for the figures')
    parser.add_argument('--output', default='./compressed', help='folder for the compressed model and figures')
    parser.add_argument('--energy', type=float, default=0.9, help="share of each kernel's spectrum kept")
    parser.add_argument('--layer_steps', type=int, default=150, help='fine-tuning steps after each layer')
    parser.add_argument('--sparsity', type=float, default=0.5, help='share of weights pruned in the end')
    parser.add_argument('--prune_rounds', type=int, default=3)
    parser.add_argument('--round_steps', type=int, default=150, help='fine-tuning steps after each round')
    parser.add_argument('--batch_size', type=int, default=64)
    parser.add_argument('--learning_rate', type=float, default=3e-4)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if not 0 < args.energy <= 1 or not 0 <= args.sparsity < 1:
        parser.error('--energy must be in (0, 1] and --sparsity in [0, 1)')
    return args


def main(argv=None):
    args = parse_args(argv)
    import keras

    import model
    from network.adversarial import inference_model
    from network.low_rank import expand, expandable, rank_for
    from utils.data.dataset import Labeler, PatchDataset
    from utils.evaluation.compression import measure, table
    from utils.io import write_json
    from utils.training import compression
    from utils.training.callbacks import save_model
    keras.utils.set_random_seed(args.seed)
    teacher = model.KoOCR(weights=args.weights, runtime='keras')
    original = inference_model(teacher.model)  # a checkpoint's discriminator is no part of what is served
    if any(isinstance(layer, keras.Model) for layer in original.layers):
        raise ValueError(f'{teacher.weights_path}: its backbone is a nested model (keras.applications); '
                         f'compress.py expands and counts the layers of our own backbones only')
    ranks = {layer.name: rank_for(layer.get_weights()[0], args.energy)
             for layer in original.layers if expandable(layer)}
    if not ranks:
        raise ValueError(f'{teacher.weights_path}: no square stride-1 convolution to expand')
    labeler = Labeler(teacher.config.split_components, teacher.charset, original.output_names)
    batches = PatchDataset(args.data_path, teacher.image_size, labeler, args.batch_size, shuffle=True,
                           seed=args.seed).as_tf()
    student = original
    started = time.perf_counter()
    for name, rank in ranks.items():
        student = expand(student, {name: rank})
        loss = compression.distill(student, original, batches, args.layer_steps, args.learning_rate)
        print(f'compress.py: {name} at rank {rank}: loss {loss:.3f}', flush=True)
    for round_ in range(1, args.prune_rounds + 1):
        masks = compression.prune_masks(student, args.sparsity * round_ / args.prune_rounds)
        compression.apply_masks(masks)
        loss = compression.distill(student, original, batches, args.round_steps, args.learning_rate, masks=masks)
        print(f'compress.py: pruned {compression.sparsity(student):.0%}: loss {loss:.3f}', flush=True)
    seconds = time.perf_counter() - started
    save_model(student, os.path.join(args.output, 'model.keras'))
    compressed = model.KoOCR(weights=os.path.join(args.output, 'model.keras'), runtime='keras')
    with tempfile.TemporaryDirectory() as original:
        figures = {}
        for name, ocr, folder in (('original', teacher, original), ('compressed', compressed, args.output)):
            if name == 'original':
                ocr.save(os.path.join(folder, 'model.keras'))
            ocr.save(os.path.join(folder, 'model.tflite'))
            ocr.export(os.path.join(folder, 'model_int8.tflite'), 'tflite-int8')
            figures[name] = measure(ocr, folder, args.val_path)
    before, after = figures['original'], figures['compressed']
    report = {'command': ' '.join(sys.argv), 'ranks': ranks, 'sparsity': compression.sparsity(student),
              'compress_seconds': round(seconds), 'original': before, 'compressed': after,
              'options': vars(args)}
    write_json(os.path.join(args.output, 'compression.json'), report)
    print(table(report))


def cli():
    with reported((ValueError, FileNotFoundError)):
        main()


if __name__ == '__main__':
    cli()
