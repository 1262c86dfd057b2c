"""Calibration inputs for the line reader's int8 twins (``utils/inference/line_twins.py``): what its two
networks are shown while it reads training lines (training faces, training text, random letter spacing, half
of them mildly photographed), recorded from the float networks."""
import numpy as np
from tqdm import tqdm

from utils.data.lines import LineRenderer
from utils.inference import reading
from utils.training.symbol_data import augment_line

LINES_PER_FACE = 3
COUNT = 1000  # inputs per network: the export bench found 100 to 3,000 rendered glyphs alike (bench/README.md)


def reader_inputs(ocr, symbol_probabilities, faces, texts, lines_per_face=LINES_PER_FACE, height=40, seed=0,
                  count=COUNT):
    """(views uint8 (≤count, 32, 32), glyphs uint8 (≤count, S, S)): a random ``count`` of the symbol views and
    of the syllable glyphs that ``reading.read_lines`` shows ``symbol_probabilities`` and ``ocr.rank`` while
    reading ``lines_per_face`` of ``texts`` in each face."""
    rng = np.random.default_rng(seed)
    views, glyphs = [], []

    def symbols(shown):
        views.append(shown)
        return symbol_probabilities(shown)

    def syllables(shown):
        glyphs.append(shown)
        return ocr.rank(shown, reading.SYLLABLES_ASKED, True)

    for face in tqdm(faces, desc='calibration lines', unit='face'):
        renderer = LineRenderer(face.path, height, face.index)
        covered = [text for text in texts if renderer.covers(text)]
        for index in rng.choice(len(covered), size=min(len(covered), lines_per_face), replace=False):
            gray, _ = renderer.render(covered[index], letter_spacing=rng.uniform(-0.04, 0.12))
            if rng.random() < 0.5:
                gray, _ = augment_line(gray, rng)
            reading.read_lines(gray, symbols, syllables, ocr.image_size)
    if not views or not glyphs:
        raise ValueError(f'the line reader saw no characters in the lines of {len(faces)} faces')
    return tuple(_sample(np.concatenate(found), count, rng) for found in (views, glyphs))


def _sample(inputs, count, rng):
    return inputs[np.sort(rng.choice(len(inputs), size=min(count, len(inputs)), replace=False))]
