"""The symbol network's accuracy on the runs the segmenter cuts from fresh training lines, every line given
extra symbols (``symbol_data.sprinkle_symbols``), in every training face: all runs, Hangul, fragments, symbols,
and RARE marks (few or none in the help pages). It asks whether a network can name each symbol at all.

    python bench/symbol_runs.py pretrained/compact48_w075_split/symbols.keras [OTHER.keras ...]
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lines import VAL_RATIO  # noqa: E402
from utils.data import corpus, fonts  # noqa: E402
from utils.data.symbols import FRAGMENT_CLASS, HANGUL_CLASS, SYMBOL_CLASSES  # noqa: E402

RARE = "'=‘’“”·…～※_{}[]<>|~^`@#$&*+;\\"
LINES, SEED, TEXT_SEED = 20, 99, 9


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('networks', nargs='+', help='symbols.keras files')
    parser.add_argument('--lines', type=int, default=LINES, help='lines per training face')
    return parser.parse_args(argv)


def shares(predicted, classes):
    """{name: (share right, runs)} over all runs, Hangul, fragments, symbols and the RARE marks."""
    symbol = (classes != HANGUL_CLASS) & (classes != FRAGMENT_CLASS)
    groups = {'all': np.ones(len(classes), bool), 'hangul': classes == HANGUL_CLASS,
              'fragment': classes == FRAGMENT_CLASS, 'symbols': symbol,
              'rare': np.isin(classes, [SYMBOL_CLASSES.index(c) for c in RARE])}
    return {name: (float((predicted[kept] == classes[kept]).mean()) if kept.any() else None, int(kept.sum()))
            for name, kept in groups.items()}


def main(argv=None):
    args = parse_args(argv)
    import keras
    import network.layers  # noqa: F401  (registers the symbol network's layers)
    from utils.training import symbol_data
    faces = [face for face, (side, _) in fonts.split_faces(VAL_RATIO, seed=0).items() if side == 'train']
    views, classes = symbol_data.examples(faces, corpus.text_lines('train', count=3000, seed=TEXT_SEED),
                                          args.lines, 40, SEED, 'lines', sprinkled=1.0, wobbled=0)
    for path in args.networks:
        predicted = keras.models.load_model(path).predict(views[..., None].astype(np.float32), verbose=0).argmax(1)
        found = shares(predicted, classes)
        print(path + ': ' + ', '.join(f'{name} {share:.1%} of {count}' for name, (share, count) in found.items()
                                      if share is not None))


if __name__ == '__main__':
    main()
