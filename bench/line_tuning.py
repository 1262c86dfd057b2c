"""The line reader's tuning set: training faces and training text, never the held-out ones of bench/lines.py.

    nice -n 10 python bench/line_tuning.py
    nice -n 10 python bench/line_tuning.py --set SYLLABLE_PRIOR=0.15 PRIOR_CENTRE=0 --set KIND_PRIOR=0

Every handwriting-style training face of the split (14) and 13 printed ones drawn at seed 11, each reading 40
(handwriting-style) or 30 (printed) lines of ``corpus.text_lines('train', count=6000, seed=5)`` it covers,
the k-th face of each kind starting k x OFFSET lines into them, clean and with bench/lines.py's scan look.
The language model is counted from ``corpus.text_lines('train')`` less these lines, so that their own counts
cannot flatter them (its dictionary-word lines are drawn at seed 0, the pool's at seed 5); the networks
and the spacing model are the shipped ones. Each ``--set`` reads the set once more with constants of
``utils.inference.reading`` changed (they add up, in order). Prints CER overall (Hangul, non-Hangul, spaces)
per kind and condition, their sum, and lines/s.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reader_constants  # noqa: E402
from lines import CONDITIONS, VAL_RATIO, read_all, summarise  # noqa: E402
from utils.data import corpus, fonts  # noqa: E402

PRINTED_FACES, FACE_SEED = 13, 11
LINES = {'printed': 30, 'handwriting': 40}
POOL, POOL_SEED = 6000, 5
OFFSET = 97   # each face starts this many lines further into the pool than the one before it of its kind
SCAN_SEED = 1000  # face k's scan looks are drawn at SCAN_SEED + k


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default', help="KoOCR's weights")
    parser.add_argument('--runtime', default='auto', choices=('auto', 'keras'),
                        help="'keras': read with the float networks, not their int8 twins")
    reader_constants.add_argument(parser)
    args = parser.parse_args(argv)
    reader_constants.check(parser, args.set)
    return args


def tuning_faces():
    """{'printed': [...], 'handwriting': [...]}: training faces of the shipped model's split."""
    split = fonts.split_faces(VAL_RATIO, seed=0)
    train = [face for face, (side, _) in split.items() if side == 'train']
    printed = [face for face in train if face.kind() == 'printed']
    chosen = np.random.default_rng(FACE_SEED).choice(len(printed), PRINTED_FACES, replace=False)
    return {'printed': [printed[k] for k in sorted(chosen)],
            'handwriting': [face for face in train if face.kind() == 'clova']}


def tuning_lines(faces, pool):
    """[(group, face, lines)]: each face's lines, from its own offset into ``pool``."""
    from utils.data.lines import LineRenderer
    found = []
    for group, group_faces in faces.items():
        for number, face in enumerate(group_faces):
            renderer = LineRenderer(face.path, 40, face.index)
            found.append((group, face, [text for text in pool[number * OFFSET:] if renderer.covers(text)]
                          [:LINES[group]]))
    return found


def language_without(lines):
    """The language model counted from the training text less ``lines``."""
    from utils.inference.language import LanguageModel
    held = set(lines)
    return LanguageModel.count([text for text in corpus.text_lines('train') if text not in held])


def report(summary):
    """One line: CER per group and condition, their sum, lines/s."""
    cells, total = [], 0.0
    for group, by_condition in summary['cer']['koocr'].items():
        for condition in CONDITIONS:
            r = by_condition[condition]
            total += r['overall']
            cells.append(f"{group} {condition} {r['overall']:.2%} (Hangul {r['hangul']:.2%}, "
                         f"non-Hangul {r['non_hangul']:.1%}, spaces {r['spaces']:.1%})")
    return '; '.join(cells) + f" | sum {100 * total:.2f} | {summary['lines_per_second']['koocr']:.0f} lines/s"


def main(argv=None):
    args = parse_args(argv)
    import model  # TensorFlow: after the arguments are checked
    pool = corpus.text_lines('train', count=POOL, seed=POOL_SEED)
    chosen = tuning_lines(tuning_faces(), pool)
    ocr = model.KoOCR(weights=args.weights, runtime=args.runtime)
    ocr.line_models = (language_without([t for _, _, found in chosen for t in found]), ocr._line_models()[1])
    for changes in [[]] + args.set:
        reader_constants.apply(changes)
        records, seconds = [], {'koocr': 0.0}
        for number, (group, face, found) in enumerate(chosen):
            more, spent = read_all({group: [face]}, found, {'koocr': ocr.read_text}, len(found), 40,
                                   SCAN_SEED + number, log=lambda _: None)
            records += more
            seconds['koocr'] += spent['koocr']
        print(' '.join(changes) or 'as shipped', ':', report(summarise(records, seconds)), flush=True)


if __name__ == '__main__':
    main()
