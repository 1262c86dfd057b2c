"""Train the line reader's symbol network (``KoOCR.read_text``): lines of Korean documentation text drawn
in the training fonts (crawl_data.py's split by family), mildly photographed, cut by the reader's own
segmenter; scored on the held-out fonts and held-out text.

    python train_lines.py        # writes symbols.keras, .tflite and .json beside the shipped model
    python train_lines.py --lines_per_face 40 --epochs 2 --out /tmp/symbols.keras
"""
import argparse
import os
import sys
import time

from utils.inference.shipped import DEFAULT_WEIGHTS

DEFAULT_OUT = os.path.join(DEFAULT_WEIGHTS, 'symbols.keras')  # beside the shipped model, where read_text looks


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=DEFAULT_OUT, help='the .keras file to write (default: the shipped one)')
    parser.add_argument('--lines_per_face', type=int, default=150, help='training lines drawn per font face')
    parser.add_argument('--val_lines_per_face', type=int, default=30, help='held-out lines per held-out face')
    parser.add_argument('--height', type=int, default=40, help='text height the lines are drawn at, px')
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--batch_size', type=int, default=128)
    parser.add_argument('--learning_rate', type=float, default=0.002)
    parser.add_argument('--val_ratio', type=float, default=0.15, help="crawl_data.py's font split")
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import keras
    import numpy as np

    from network.symbols import build_symbol_network
    from utils.data.corpus import text_lines
    from utils.data.symbols import SYMBOL_CLASSES
    from utils.inference.segment import SYMBOL_SIDE
    from utils.inference.lite import export_tflite
    from utils.io import write_json
    from utils.training.callbacks import save_model
    from utils.data.fonts import split_faces
    from utils.training.symbol_data import examples

    started = time.time()
    faces = split_faces(args.val_ratio, args.seed)
    train_faces = [face for face, (split, _) in faces.items() if split == 'train']
    val_faces = [face for face, (split, _) in faces.items() if split == 'val']
    if not train_faces or not val_faces:
        sys.exit('train_lines.py: needs Korean fonts of two families or more: install fonts-nanum')
    x, y = examples(train_faces, text_lines('train'), args.lines_per_face, args.height, args.seed, 'training')
    val_x, val_y = examples(val_faces, text_lines('heldout'), args.val_lines_per_face, args.height,
                            args.seed + 1, 'held-out')
    keras.utils.set_random_seed(args.seed)
    network = build_symbol_network(len(SYMBOL_CLASSES), SYMBOL_SIDE)
    steps = args.epochs * int(np.ceil(len(x) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
    network.compile(keras.optimizers.Adam(schedule), 'sparse_categorical_crossentropy', metrics=['accuracy'])
    history = network.fit(x[..., None], y, batch_size=args.batch_size, epochs=args.epochs, verbose=2,
                          validation_data=(val_x[..., None], val_y))
    bare = keras.Model.from_config(network.get_config())  # without the optimizer: a third of the size
    bare.set_weights(network.get_weights())
    save_model(bare, args.out)
    export_tflite(network, os.path.splitext(args.out)[0] + '.tflite')  # what read_text runs
    record = dict(
        command='python train_lines.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
        options=vars(args) | {'out': os.path.basename(args.out)},
        train_faces=len(train_faces), heldout_faces=sorted(face.name for face in val_faces),
        train_examples=int(len(x)), heldout_examples=int(len(val_x)),
        heldout_accuracy=float(history.history['val_accuracy'][-1]),
        train_accuracy=float(history.history['accuracy'][-1]), seconds=round(time.time() - started))
    write_json(os.path.splitext(args.out)[0] + '.json', record)
    print(f"wrote {args.out}: held-out run accuracy {record['heldout_accuracy']:.4f} "
          f"on {len(val_x)} runs of {len(val_faces)} held-out faces")
    return 0


if __name__ == '__main__':
    sys.exit(main())
