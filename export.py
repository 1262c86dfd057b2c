"""Export a KoOCR model for serving, e.g.

    python export.py --format saved_model --output koocr_saved_model
    python export.py --weights logs/best.keras --format tflite-int8 --output model_int8.tflite

Formats: saved_model (a folder: raw image bytes or uint8 pixels in, top-5 syllables and probabilities out,
the preprocessing in TensorFlow ops; for TF Serving or tf.saved_model.load), tflite (float32), tflite-int8
(full integer, calibrated on glyphs rendered from the installed Korean fonts), tflite-fp16 (float16
weights). ``python predict.py --weights FILE.tflite`` reads any of the .tflite files.
"""
import argparse
import os

from utils.cli import reported
from utils.inference.export import FORMATS, REPRESENTATIVE_SIZE

DEFAULT_OUTPUTS = {'saved_model': 'koocr_saved_model', 'tflite': 'koocr.tflite',
                   'tflite-int8': 'koocr_int8.tflite', 'tflite-fp16': 'koocr_fp16.tflite'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default',
                        help="'default' (the shipped model), a .keras/.h5 file or a directory holding one")
    parser.add_argument('--format', default='saved_model', choices=FORMATS, help='what to write (default saved_model)')
    parser.add_argument('--output', default='',
                        help='the file (a folder for saved_model) to write; default: koocr_<format> here')
    parser.add_argument('--representative_size', type=int, default=REPRESENTATIVE_SIZE,
                        help=f'tflite-int8: rendered glyphs that calibrate the ranges (default {REPRESENTATIVE_SIZE})')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    output = args.output or DEFAULT_OUTPUTS[args.format]
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's start-up notices are not results
    import model  # after parsing: --help stays fast
    ocr = model.KoOCR(weights=args.weights, runtime='keras')
    ocr.export(output, args.format, representative_size=args.representative_size)
    print(f'export.py: wrote {output} ({args.format}) from {ocr.weights_path}')


def cli():
    with reported((ValueError, FileNotFoundError)):
        main()


if __name__ == '__main__':
    cli()
