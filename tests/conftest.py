"""Shared fixtures: tiny 32 px patch folders rendered from the bundled font, and a tiny charset.

Nothing here imports TensorFlow, so test files that do not need it stay fast.
"""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from utils.io import BUNDLED_FONT as FONT  # noqa: E402  (ROOT on the path first)
IMAGE_SIZE = 32
# Ten syllables with varied jamo (finals, compound vowels); OUTSIDE is in KS X 1001 but not in CHARS.
CHARS = '가각냐됐람봤숑웬좋힝'
OUTSIDE = '한'


def variants(image):
    """The glyph and three small variations of it (shifted, bolder), like a few fonts."""
    bold = np.minimum(image, np.roll(image, 1, axis=1))
    return [image, np.roll(image, 1, axis=0), np.roll(image, -1, axis=1), bold]


@pytest.fixture(scope='session')
def glyphs():
    """{syllable: uint8 (32, 32) ink-dark glyph} for CHARS and OUTSIDE."""
    from utils.data.render import GlyphRenderer
    renderer = GlyphRenderer(FONT, IMAGE_SIZE)
    return {char: renderer.render(char) for char in CHARS + OUTSIDE}


def write_examples(path, glyphs, chars, copies):
    from utils.data.patches import write_patch
    images, labels = [], []
    for char in chars:
        for image in variants(glyphs[char])[:copies]:
            images.append(image)
            labels.append(char)
    write_patch(str(path), np.stack(images), labels)
    return len(labels)


@pytest.fixture(scope='session')
def patch_dirs(tmp_path_factory, glyphs):
    """(train folder, validation folder, {patch file name: examples}) of 32 px patches.

    Training: printed_0 (CHARS × 2 = 20), printed_1 (CHARS × 1 + OUTSIDE × 1 = 11, OUTSIDE is dropped
    by a charset-restricted model), handwritten_0.npz (first five CHARS × 3 = 15).
    Validation: printed_0 (CHARS × 1 = 10), held out in that it uses the fourth variant only."""
    root = tmp_path_factory.mktemp('patches')
    train, val = root / 'data', root / 'val_data'
    train.mkdir()
    val.mkdir()
    counts = {
        'printed_0.pickle': write_examples(train / 'printed_0.pickle', glyphs, CHARS, 2),
        'printed_1.pickle': write_examples(train / 'printed_1.pickle', glyphs, CHARS + OUTSIDE, 1),
        'handwritten_0.npz': write_examples(train / 'handwritten_0.npz', glyphs, CHARS[:5], 3),
    }
    from utils.data.patches import write_patch
    write_patch(str(val / 'printed_0.pickle'), np.stack([variants(glyphs[c])[3] for c in CHARS]), list(CHARS))
    return str(train), str(val), counts


@pytest.fixture(scope='session')
def charset_file(tmp_path_factory):
    """A UTF-8 charset file naming CHARS (one per line)."""
    path = tmp_path_factory.mktemp('charset') / 'tiny_charset.txt'
    path.write_text('\n'.join(CHARS) + '\n', encoding='utf-8')
    return str(path)


@pytest.fixture
def clear_keras():
    """Free the previous test's models (graphs, names) before the next one builds its own."""
    import keras
    keras.backend.clear_session()
    yield
    keras.backend.clear_session()


@pytest.fixture(scope='session')
def repo_root():
    """The repository's root folder (scripts, files/, pretrained/)."""
    return ROOT


@pytest.fixture(scope='session')
def bundled_font():
    """The bundled OFL Korean font (KS X 1001 syllables)."""
    return FONT


@pytest.fixture
def closed_port():
    """A localhost port nothing listens on: a connection to it is refused at once."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
