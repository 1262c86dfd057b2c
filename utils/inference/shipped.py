"""Where the shipped pretrained model lives; imports nothing heavy, so predict.py can find it fast."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = 'compact48_w075_split'  # pretrained/DEFAULT_MODEL/model.keras (+ its LiteRT twin model.tflite)
DEFAULT_WEIGHTS = os.path.join(ROOT, 'pretrained', DEFAULT_MODEL)
