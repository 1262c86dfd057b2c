"""Where the shipped pretrained model lives, and which file a weights path names; imports nothing heavy, so
predict.py can find the model fast."""
import glob
import os

from utils.io import PRETRAINED

DEFAULT_MODEL = 'compact48_w075_split'  # pretrained/DEFAULT_MODEL/model.keras (+ its LiteRT twin model.tflite)
DEFAULT_WEIGHTS = os.path.join(PRETRAINED, DEFAULT_MODEL)
MODEL_SUFFIXES = ('.keras', '.h5')
# The line reader's files, beside the model's weights: its second network, and its language and spacing
# models (optional: without them read_text goes by the networks alone and places spaces by a fixed rule).
SYMBOLS_FILE, LANGUAGE_FILE, SPACING_FILE = 'symbols.keras', 'language.json', 'spacing.json'
# The int8 LiteRT twins read_text runs (utils/inference/line_twins.py): the symbol network's and the model's.
SYMBOLS_TWIN_FILE, MODEL_TWIN_FILE = 'symbols_int8_body.tflite', 'model_int8_body.tflite'


def find_weights(path):
    """A .keras/.h5 file, or the one a directory holds (model.keras, then weights.h5, then best.keras).
    The original's ``--weights=./logs/weights/`` names ``./logs/weights.h5``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        stem = path.rstrip('/\\')
        for suffix in MODEL_SUFFIXES:
            if os.path.isfile(stem + suffix):
                return stem + suffix
    if os.path.isdir(path):
        for name in ('model.keras', 'weights.h5', 'best.keras'):
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        found = sorted(p for p in glob.glob(os.path.join(path, '*')) if p.endswith(MODEL_SUFFIXES))
        if len(found) != 1:
            raise FileNotFoundError(f'{path}: directory holds {"no" if not found else "several"} model files '
                                    f'(.keras or .h5) and no model.keras, weights.h5 or best.keras; name one')
        return found[0]
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: no such weights file (expected a .keras or .h5 model, '
                                f'or a directory holding one)')
    if not path.endswith(MODEL_SUFFIXES):
        raise ValueError(f'{path}: expected a .keras or .h5 model file')
    return path
