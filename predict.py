"""Read Korean characters: the top-n syllables, with probabilities, for each image file.

    python predict.py examples/
    python predict.py char.png other.jpg --n 3 --json
    python predict.py --text examples/lines/      # the text of images of lines
"""
import argparse
import json
import os
import sys

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('images', nargs='+', help='image files, or folders of them')
    parser.add_argument('--n', type=positive_int, default=5, help='how many candidates per image (default 5)')
    parser.add_argument('--weights', default='default',
                        help="'default' (the shipped model), a model file or a .tflite export.py wrote")
    parser.add_argument('--json', action='store_true', help='print JSON instead of a table')
    parser.add_argument('--text', action='store_true',
                        help='read each image as a line of text (or a column of lines), not one character')
    return parser.parse_args(argv)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'{text}: must be 1 or more')
    return value


def expand(paths):
    """Files as given; folders -> their image files, sorted."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(os.path.join(path, name) for name in os.listdir(path)
                            if name.lower().endswith(IMAGE_EXTENSIONS))
        else:
            files.append(path)
    return files


def read_images(files, prepare):
    """Prepared images of the readable files, and {file: error} for the others."""
    images, errors = {}, {}
    for path in files:
        try:
            images[path] = prepare(path)
        except (ValueError, OSError) as e:
            errors[path] = str(e)
    return images, errors


def open_reader(weights):
    """A .tflite file (any export.py wrote) or the shipped model's LiteRT twin when it can run (no TensorFlow
    to load), else a KoOCR model."""
    if weights.endswith('.tflite'):
        from utils.inference.lite import LiteReader
        return LiteReader(weights)
    if weights == 'default':
        try:
            from utils.inference.lite import LiteReader
            from utils.inference.shipped import DEFAULT_WEIGHTS
            return LiteReader(DEFAULT_WEIGHTS)
        except (ImportError, OSError, ValueError):
            pass  # KoOCR below loads the Keras model, or says what is missing
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's start-up notices are not answers
    import model
    return model.KoOCR(weights=weights)


def main(argv=None):
    args = parse_args(argv)
    files = expand(args.images)
    if not files:
        sys.exit('predict.py: no image files found in ' + ' '.join(args.images))
    if args.text:
        return read_texts(files, args)
    import numpy as np  # after parsing: --help stays fast
    from utils.inference.preprocess import prepare
    try:
        ocr = open_reader(args.weights)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'predict.py: {e}')
    images, errors = read_images(files, lambda path: prepare(path, ocr.image_size))
    answers = {}
    if images:
        batch = np.stack(list(images.values()))
        answers = dict(zip(images, ocr.rank(batch, n=args.n, probabilities=True)))
    if args.json:
        print(json.dumps({path: {'top': [{'char': c, 'p': round(p, 6)} for c, p in answers[path]]}
                          if path in answers else {'error': errors[path]} for path in files},
                         ensure_ascii=False, indent=2))
    else:
        for path in files:
            if path in answers:
                print(f'{path}\t' + '  '.join(f'{c} {p:.3f}' for c, p in answers[path]))
    for error in errors.values():
        print(f'predict.py: {error}', file=sys.stderr)
    return 1 if errors else 0


def read_texts(files, args):
    """predict.py --text: each file's text, the lines of a paragraph indented under the first."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import model
    try:
        ocr = model.KoOCR(weights=args.weights)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'predict.py: {e}')
    texts, errors = {}, {}
    for path in files:
        try:
            texts[path] = ocr.read_text(path)
        except (ValueError, OSError) as e:
            errors[path] = str(e)
    if args.json:
        print(json.dumps({path: {'text': texts[path]} if path in texts else {'error': errors[path]}
                          for path in files}, ensure_ascii=False, indent=2))
    else:
        for path, text in texts.items():
            print(f'{path}\t' + text.replace('\n', '\n\t'))
    for error in errors.values():
        print(f'predict.py: {error}', file=sys.stderr)
    return 1 if errors else 0


def cli():
    from utils.cli import reported
    with reported():
        return main()


if __name__ == '__main__':
    sys.exit(cli())
