"""Train the line reader (``KoOCR.read_text``) beside a syllable model, in four steps:
- language: count the language model (syllable frequencies, spaces between kinds of character) from the
  training text -> language.json;
- symbols: the symbol network, on lines of Korean documentation text drawn in the training fonts
  (crawl_data.py's split by family), mildly photographed, cut by the reader's own segmenter: --members of them
  at successive seeds, each on its own draw of lines, merged into one; scored on the held-out fonts and held-out
  text -> symbols.keras and .json;
- twins: the int8 LiteRT twins read_text runs, of the symbol network and of the --weights model, calibrated on
  what the reader shows them in training lines -> symbols_int8_body.tflite, model_int8_body.tflite;
- spacing: the spacing model, fitted on the gaps of training lines read with the two above -> spacing.json.

    python train_lines.py        # all four, beside the shipped model
    python train_lines.py --steps language,spacing      # keep the symbol network
    python train_lines.py --lines_per_face 40 --epochs 2 --out /tmp/symbols.keras
"""
import argparse
import os
import sys
import time

from utils.inference.shipped import (DEFAULT_WEIGHTS, LANGUAGE_FILE, MODEL_TWIN_FILE, SPACING_FILE, SYMBOLS_FILE,
                                     SYMBOLS_TWIN_FILE)

DEFAULT_OUT = os.path.join(DEFAULT_WEIGHTS, SYMBOLS_FILE)  # beside the shipped model, where read_text looks
STEPS = ('language', 'symbols', 'twins', 'spacing')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help="the symbol network's .keras file, named symbols.keras (default: the shipped one); "
                             'language.json and spacing.json go beside it')
    parser.add_argument('--weights', default='default',
                        help='the syllable model the twins and spacing steps read with')
    parser.add_argument('--lines_per_face', type=int, default=150, help='training lines drawn per font face')
    parser.add_argument('--val_lines_per_face', type=int, default=30, help='held-out lines per held-out face')
    parser.add_argument('--height', type=int, default=40, help='text height the lines are drawn at, px')
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--batch_size', type=int, default=128)
    parser.add_argument('--learning_rate', type=float, default=0.002)
    parser.add_argument('--balance', type=float, default=0.0,
                        help="weigh the symbol network's rare symbols up: each by (its count / the average "
                             "symbol's) ** -balance (Hangul and fragments as they are)")
    parser.add_argument('--slant', type=float, default=0.0,
                        help="the share of the symbol network's training lines whose characters lean")
    parser.add_argument('--ema', type=float, default=0.0,
                        help="end on the moving average of the symbol network's weights at this momentum (0: off)")
    parser.add_argument('--members', type=int, default=1,
                        help='symbol networks trained (at seeds --seed, --seed + 1, ...) and merged into one '
                             '(network.symbols.merge_symbol_networks)')
    parser.add_argument('--val_ratio', type=float, default=0.15, help="crawl_data.py's font split")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--steps', default=','.join(STEPS), help=f'comma-separated, from {",".join(STEPS)}')
    parser.add_argument('--spacing_lines_per_face', type=int, default=30,
                        help='training lines per face whose gaps fit the spacing model')
    args = parser.parse_args(argv)
    if os.path.basename(args.out) != SYMBOLS_FILE:
        parser.error(f'--out={args.out}: read_text looks for the symbol network as {SYMBOLS_FILE}')
    if args.members < 1:
        parser.error(f'--members={args.members}: expected at least 1')
    args.steps = [step.strip() for step in args.steps.split(',') if step.strip()]
    unknown = sorted(set(args.steps) - set(STEPS))
    if unknown or not args.steps:
        parser.error(f'--steps={",".join(args.steps)}: choose one or more of {",".join(STEPS)}')
    language = os.path.join(os.path.dirname(os.path.abspath(args.out)), LANGUAGE_FILE)
    if 'spacing' in args.steps and 'language' not in args.steps and not os.path.isfile(language):
        parser.error(f'--steps spacing reads the language model {language}: there is none (add the step '
                     'language, or copy one there)')
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    from utils.data.corpus import text_lines
    from utils.data.fonts import split_faces

    faces = split_faces(args.val_ratio, args.seed)
    train_faces = [face for face, (split, _) in faces.items() if split == 'train']
    val_faces = [face for face, (split, _) in faces.items() if split == 'val']
    if not train_faces or not val_faces:
        sys.exit('train_lines.py: needs Korean fonts of two families or more: install fonts-nanum')
    command = 'python train_lines.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    texts = text_lines('train')
    folder = os.path.dirname(os.path.abspath(args.out))
    if 'language' in args.steps:
        count_language(texts, os.path.join(folder, LANGUAGE_FILE), command)
    if 'symbols' in args.steps:
        train_symbols(args, train_faces, val_faces, texts, command)
    if 'twins' in args.steps:
        write_twins(args, train_faces, texts, folder)
    if 'spacing' in args.steps:
        fit_spacing(args, train_faces, texts, folder, command)
    return 0


def count_language(texts, path, command):
    from utils.inference.language import LanguageModel
    LanguageModel.count(texts).save(path, command=command, text="corpus.text_lines('train')", lines=len(texts))
    print(f'wrote {path}: counted from {len(texts)} training lines')


def train_symbols(args, train_faces, val_faces, texts, command):
    import keras

    from network.symbols import merge_symbol_networks, train_symbol_network
    from utils.data.corpus import text_lines
    from utils.data.symbols import SYMBOL_CLASSES
    from utils.io import write_json
    from utils.training.callbacks import save_model
    from utils.training.symbol_data import class_weights, examples

    started = time.time()
    val_x, val_y = examples(val_faces, text_lines('heldout'), args.val_lines_per_face, args.height,
                            args.seed + 1, 'held-out', sprinkled=0, wobbled=0)
    members, trained = [], []
    for seed in range(args.seed, args.seed + args.members):
        x, y = examples(train_faces, texts, args.lines_per_face, args.height, seed, 'training', slanted=args.slant)
        network, history = train_symbol_network(x, y, len(SYMBOL_CLASSES), args.epochs, args.batch_size,
                                                args.learning_rate, seed, validation=(val_x, val_y),
                                                class_weight=class_weights(y, args.balance), ema=args.ema)
        bare = keras.Model.from_config(network.get_config())  # without the optimizer: a third of the size
        bare.set_weights(network.get_weights())
        members.append(bare)
        trained.append(dict(seed=seed, train_examples=int(len(x)),
                            heldout_accuracy=float(history.history['val_accuracy'][-1]),
                            train_accuracy=float(history.history['accuracy'][-1])))
    network = members[0] if len(members) == 1 else merge_symbol_networks(members)
    save_model(network, args.out)
    right = network.predict(val_x[..., None].astype('float32'), batch_size=256, verbose=0).argmax(axis=1) == val_y
    record = dict(
        command=command,
        options=vars(args) | {'out': os.path.basename(args.out)},
        train_faces=len(train_faces), heldout_faces=sorted(face.name for face in val_faces),
        heldout_examples=int(len(val_x)), heldout_accuracy=float(right.mean()), members=trained,
        seconds=round(time.time() - started))
    write_json(os.path.splitext(args.out)[0] + '.json', record)
    print(f"wrote {args.out}: held-out run accuracy {record['heldout_accuracy']:.4f} "
          f"on {len(val_x)} runs of {len(val_faces)} held-out faces")


def write_twins(args, train_faces, texts, folder):
    """The int8 twins of the symbol network (--out) and of the --weights model, into ``folder``."""
    import keras

    import model
    from network.adversarial import inference_model
    from utils.inference.line_twins import write_twin
    from utils.training.calibration import reader_inputs

    ocr = model.KoOCR(weights=args.weights)
    symbols = model.load_symbol_network(args.out, twin=False)
    views, glyphs = reader_inputs(ocr, symbols, train_faces, texts, height=args.height, seed=args.seed)
    write_twin(keras.models.load_model(args.out), args.out, views, os.path.join(folder, SYMBOLS_TWIN_FILE))
    write_twin(inference_model(ocr.model), ocr.weights_path, glyphs, os.path.join(folder, MODEL_TWIN_FILE))
    print(f'wrote {SYMBOLS_TWIN_FILE} and {MODEL_TWIN_FILE} in {folder}: calibrated on {len(views)} views '
          f'and {len(glyphs)} glyphs of training lines')


def fit_spacing(args, train_faces, texts, folder, command):
    """The spacing model, from gaps read by --weights with the language model and symbols in ``folder``."""
    import model
    from utils.inference.language import LanguageModel
    from utils.inference.spacing import SpaceModel
    from utils.training.spacing_data import gap_examples

    ocr = model.KoOCR(weights=args.weights)
    ocr.symbol_network = model.load_symbol_network(args.out)
    language = LanguageModel.load(os.path.join(folder, LANGUAGE_FILE))
    features, labels = gap_examples(ocr, language, train_faces, texts, args.spacing_lines_per_face, args.height,
                                    args.seed)
    spacing = SpaceModel.fit(features, labels)
    right = float((spacing.spaces(features) == labels).mean())
    path = os.path.join(folder, SPACING_FILE)
    spacing.save(path, command=command, train_faces=len(train_faces), gaps=int(len(labels)),
                 spaces=int(labels.sum()), train_accuracy=round(right, 4))
    print(f'wrote {path}: fitted on {len(labels)} gaps of training lines ({right:.2%} right)')



if __name__ == '__main__':
    sys.exit(main())
