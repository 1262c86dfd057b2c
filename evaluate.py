"""Evaluate a KoOCR model on validation patches (the original's flags), e.g.

    python evaluate.py --weights='./logs/weights.h5' --accuracy=true --confusion_matrix=true --class_activation=true

Top-1/top-n accuracy per data kind, jamo and font (metrics.json), misread examples, confusion matrices
(split mode) or the most confused pairs (complete mode), Grad-CAM figures and augmentation samples, written
to --out (default: pretrained/NAME_evaluation for a shipped model, else <weights dir>/evaluation).
"""
import argparse

from utils.cli import reported
from utils.config import EvaluateConfig, add_arguments, pick, str2bool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default',
                        help="'default' (the shipped model), a .keras/.h5 file or a directory holding one")
    parser.add_argument('--image_size', type=int, default=None,
                        help="the model's input size (default: the model's; must match the data)")
    parser.add_argument('--split_components', type=str2bool, default=None,
                        help="jamo outputs (default: the model's; must match it)")
    add_arguments(parser, EvaluateConfig)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    config = EvaluateConfig(**pick(EvaluateConfig, args))  # a bad option fails before the model loads
    import model  # after parsing: --help stays fast
    from utils.evaluation.reports import check_options, evaluate
    ocr = model.KoOCR(weights=args.weights, runtime='keras')  # metrics read the Keras model's outputs
    check_options(ocr, config, args.image_size, args.split_components)
    evaluate(ocr, config)


def cli():
    with reported((ValueError, FileNotFoundError)):
        main()


if __name__ == '__main__':
    cli()
