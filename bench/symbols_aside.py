"""How well the line reader's symbol network reads faces it never saw, without touching the held-out faces:
train it on the training faces less a few kept aside, then read lines in those with ``read_text``.

    nice -n 10 python bench/symbols_aside.py                    # the shipped recipe (symbols sprinkled)
    nice -n 10 python bench/symbols_aside.py --no-sprinkle      # the text's own symbols only
    nice -n 10 python bench/symbols_aside.py --no-wobble        # syllables all of the face's size
    nice -n 10 python bench/symbols_aside.py --slant 0.5        # half the lines leaning (not shipped)
    nice -n 10 python bench/symbols_aside.py --seed 1           # other training lines and initial weights
    nice -n 10 python bench/symbols_aside.py --ema 0.999        # end on the weights' moving average
    nice -n 10 python bench/symbols_aside.py --reshape          # lines reshaped as well (bench/README.md)
    nice -n 10 python bench/symbols_aside.py --save logs/aside.keras       # keep the network trained
    nice -n 10 python bench/symbols_aside.py --network logs/aside.keras --set HANGUL_WEIGHT=0.5
    nice -n 10 python bench/symbols_aside.py --network logs/aside.keras logs/aside_seed1.keras   # two, merged

The syllable network, language and spacing models are the shipped ones (trained on the aside faces too, so
only the symbol network's share of the errors is measured fairly). Each aside face reads --lines lines of
held-out text (seed 1, not bench/lines.py's seed 0), clean and with the scan look. Prints CER per kind and
condition and per face; writes a JSON (--out). With ``--network`` the network saved by an earlier run's ``--save``
is read, not trained, and no JSON is written; each ``--set`` reads the faces once more
with constants of the reader changed (as in bench/line_tuning.py), printing one line each.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reader_constants  # noqa: E402
from lines import CONDITIONS, GROUPS, SAMPLE_POOL, VAL_RATIO, percent, read_all  # noqa: E402
from utils.data import corpus, fonts  # noqa: E402
from utils.evaluation.cer import cer_report  # noqa: E402
from utils.io import write_json  # noqa: E402

# Training faces of different families, printed and handwriting-style, plain and unusual.
ASIDE = ('Nanum Brush Script Regular', 'UnPenheulim Regular', 'BM KIRANGHAERANG Regular', 'Bandal Regular',
         'UnBatang Regular', 'BM DoHyeon Regular', 'LexiSaebomR Regular')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--no-sprinkle', dest='sprinkle', action='store_false',
                        help="train on the text's own symbols only (symbol_data.sprinkle_symbols)")
    parser.add_argument('--no-wobble', dest='wobble', action='store_false',
                        help="draw every syllable at the face's size (symbol_data.wobble)")
    parser.add_argument('--slant', type=float, default=0.0,
                        help="the share of training lines whose characters lean (symbol_data.lean)")
    parser.add_argument('--seed', type=int, default=0, help='seed of the training lines and the training')
    parser.add_argument('--reshape', action='store_true',
                        help='reshape the training lines too (symbol_data.reshape_line)')
    parser.add_argument('--lines_per_face', type=int, default=100, help='training lines per training face')
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--width', type=int, default=16, help="the symbol network's first convolutions' filters")
    parser.add_argument('--balance', type=float, default=0.0,
                        help='weigh rare symbols up (symbol_data.class_weights; Hangul and fragments as they are)')
    parser.add_argument('--ema', type=float, default=0.0,
                        help="end on the moving average of the network's weights at this momentum (0: off)")
    parser.add_argument('--lines', type=int, default=40, help='lines read per aside face per condition')
    parser.add_argument('--save', default=None, help='save the trained symbol network here (.keras)')
    parser.add_argument('--network', nargs='+', default=None,
                        help='read with this saved symbol network instead of training one (several: merged, '
                             'network.symbols.merge_symbol_networks)')
    reader_constants.add_argument(parser)
    parser.add_argument('--out', default=None, help='JSON of the results (default: bench/results/symbols_aside'
                                                   '.json, a suffix for each option changed: _seed1, _ema0.999…)')
    args = parser.parse_args(argv)
    reader_constants.check(parser, args.set)
    if args.out is None:
        name = ('symbols_aside' + ('' if args.sprinkle else '_no_sprinkle') + ('' if args.wobble else '_no_wobble')
                + (f'_slant{args.slant:g}' if args.slant else '') + (f'_seed{args.seed}' if args.seed else '')
                + ('_reshape' if args.reshape else '')
                + ('' if args.width == 16 else f'_width{args.width}')
                + (f'_balance{args.balance:g}' if args.balance else '') + (f'_ema{args.ema:g}' if args.ema else '')
                + '.json')
        args.out = os.path.join(ROOT, 'bench', 'results', name)
    return args


def split_aside():
    """(training faces less ASIDE, the ASIDE faces)."""
    train = [face for face, (side, _) in fonts.split_faces(VAL_RATIO, seed=0).items() if side == 'train']
    aside = [face for face in train if face.name in ASIDE]
    if len(aside) != len(ASIDE):
        raise SystemExit(f'bench/symbols_aside.py: found {len(aside)} of the {len(ASIDE)} faces kept aside; '
                         'install the Korean font packages of README.md')
    return [face for face in train if face not in aside], aside


def train_symbols(faces, args):
    """A symbol network trained as train_lines.py trains it, on ``faces``."""
    from network.symbols import train_symbol_network
    from utils.data.symbols import SYMBOL_CLASSES
    from utils.training.symbol_data import SPRINKLED, WOBBLED, class_weights, examples
    x, y = examples(faces, corpus.text_lines('train'), args.lines_per_face, 40, args.seed, 'training',
                    SPRINKLED if args.sprinkle else 0, args.reshape, WOBBLED if args.wobble else 0,
                    args.slant)
    return train_symbol_network(x, y, len(SYMBOL_CLASSES), args.epochs, seed=args.seed, width=args.width,
                                class_weight=class_weights(y, args.balance), ema=args.ema)[0]


def cer_of(records, **match):
    """``cer_report`` of the records whose fields equal ``match``."""
    return cer_report([(r['reference'], r['readings']['koocr']) for r in records
                       if all(r[key] == value for key, value in match.items())])


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    train, aside = split_aside()
    if args.network:
        import keras

        import network.layers  # noqa: F401  (registers the layers the saved network is made of)
        from network.symbols import merge_symbol_networks
        networks = [keras.models.load_model(path) for path in args.network]
        symbols = networks[0] if len(networks) == 1 else merge_symbol_networks(networks)
    else:
        symbols = train_symbols(train, args)
        if args.save:
            symbols.save(args.save)
    import model
    from utils.training import symbol_data
    ocr = model.KoOCR()
    ocr.symbol_network = lambda views: symbols.predict(views[..., None].astype(np.float32), verbose=0)
    groups = {group: [face for face in aside if GROUPS[face.kind()] == group] for group in GROUPS.values()}
    pool = corpus.text_lines('heldout', count=SAMPLE_POOL, seed=1)
    for changes in [[]] + args.set:
        reader_constants.apply(changes)
        records, _ = read_all(groups, pool, {'koocr': ocr.read_text}, args.lines, 40, 1)
        by_kind = {group: {condition: cer_of(records, group=group, condition=condition) for condition in CONDITIONS}
                   for group in groups}
        if changes or args.network:
            print(' '.join(changes) or 'as saved', ':', ' / '.join(f"{100 * by_kind[group][condition]['overall']:.2f}%"
                                                     for group in groups for condition in CONDITIONS), flush=True)
            continue
        results = {
            'sprinkle': args.sprinkle, 'wobble': args.wobble, 'slant': args.slant, 'seed': args.seed,
            'wobble_scale': symbol_data.WOBBLE_SCALE if args.wobble else None, 'reshape': args.reshape,
            'width': args.width, 'lines_per_face': args.lines_per_face, 'epochs': args.epochs, 'ema': args.ema,
            'by_kind': by_kind, 'by_face': {face.name: cer_of(records, font=face.name) for face in aside},
            'seconds': round(time.time() - started)}
        write_json(args.out, results)
        for group, by_condition in results['by_kind'].items():
            for condition, report in by_condition.items():
                print(f"{group} {condition}: CER {percent(report['overall'])} (Hangul {percent(report['hangul'])}, "
                      f"non-Hangul {percent(report['non_hangul'])}, spaces {percent(report['spaces'])})")
        for name, report in results['by_face'].items():
            print(f"  {name}: {percent(report['overall'])}")
        print(f'wrote {args.out}', flush=True)


if __name__ == '__main__':
    main()
