"""Gaps for fitting the line reader's spacing model: training lines drawn in training faces at random
letter spacing, half of them mildly photographed, read by the line reader with a ``GapRecorder`` in place
of the spacing model. A line whose characters (spaces aside) are all read right gives one labelled example
per gap: a space in the text there or not."""
import numpy as np
from tqdm import tqdm

from utils.data.lines import LineRenderer
from utils.inference.spacing import GapRecorder
from utils.training.symbol_data import augment_line


def space_labels(text):
    """For each character of ``text`` but the last (spaces left out), whether a space follows it."""
    text = ' '.join(text.split())
    return np.array([b == ' ' for a, b in zip(text, text[1:]) if a != ' '], bool)


def gap_examples(ocr, language, faces, texts, lines_per_face, height, seed):
    """(features (N, len(FEATURES)), labels (N,)) of the gaps of ``lines_per_face`` lines per face, read
    by ``ocr`` (a KoOCR) with ``language``."""
    rng = np.random.default_rng(seed)
    recorder = GapRecorder()
    ocr.line_models = (language, recorder)
    features, labels = [], []
    for face in tqdm(faces, desc='spacing lines', unit='face'):
        renderer = LineRenderer(face.path, height, face.index)
        covered = [text for text in texts if renderer.covers(text)]
        for index in rng.choice(len(covered), size=min(len(covered), lines_per_face), replace=False):
            text = covered[index]
            gray, _ = renderer.render(text, letter_spacing=rng.uniform(-0.04, 0.12))
            if rng.random() < 0.5:
                gray, _ = augment_line(gray, rng)
            recorded = len(recorder.lines)
            reading = ocr.read_text(gray)
            if len(recorder.lines) == recorded + 1 and reading == text.replace(' ', ''):
                features.append(recorder.lines[-1])
                labels.append(space_labels(text))
    del ocr.line_models  # loaded afresh from the files on the next read
    if not features:
        raise ValueError(f'none of the lines drawn in {len(faces)} faces was read right: no gaps to fit on')
    return np.concatenate(features), np.concatenate(labels)
