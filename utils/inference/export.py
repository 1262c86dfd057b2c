"""A trained KoOCR network written for serving: a SavedModel that reads raw images (``serving.py``) or a
LiteRT file in float32, float16 weights or full integer (``lite.py``).

    ocr.export('out/koocr', 'saved_model')                       # model.KoOCR.export calls export_model
    ocr.export('out/model_int8.tflite', 'tflite-int8')

Every .tflite carries the model's options and charset, so ``predict.py --weights FILE`` reads it alone.
"""
import os

import numpy as np

from utils.data.render import GlyphRenderer
from utils.io import BUNDLED_FONT, atomic_write_dir

FORMATS = ('saved_model', 'tflite', 'tflite-int8', 'tflite-fp16')
QUANTIZATION = {'tflite': None, 'tflite-int8': 'int8', 'tflite-fp16': 'fp16'}
REPRESENTATIVE_SIZE = 1000  # rendered glyphs that calibrate the int8 ranges (bench/README.md: sizes compared)


def check_format(format):
    """Return ``format`` if it is one of FORMATS, else raise ValueError naming it and the choices."""
    if format not in FORMATS:
        raise ValueError(f'format={format!r}; choose from {", ".join(FORMATS)}')
    return format


def representative_glyphs(image_size, charset, count=REPRESENTATIVE_SIZE, fonts=None, seed=0):
    """uint8 (count, S, S) glyphs of random charset syllables, each from the next of ``fonts`` in turn (font
    files or (file, face index) pairs; default: the installed Korean fonts, ``fc-list :lang=ko``), rendered
    and placed exactly as the training glyphs are (``GlyphRenderer``, centred). A font that cannot be read
    or lacks a syllable is passed over; the bundled font when no other draws anything."""
    from utils.data.fonts import system_font_files

    faces = [f if isinstance(f, tuple) else (f, 0) for f in (fonts if fonts is not None else system_font_files())]
    rng = np.random.default_rng(seed)
    renderers = []
    for path, index in faces:
        try:
            renderers.append(GlyphRenderer(path, image_size, index))
        except ValueError:
            continue  # a damaged or unreadable font file: the others calibrate
    renderers = renderers or [GlyphRenderer(BUNDLED_FONT, image_size)]
    glyphs, tries = [], 0
    while len(glyphs) < count and tries < 4 * count:
        glyph = renderers[tries % len(renderers)].render(charset[rng.integers(len(charset))])
        tries += 1
        if glyph is not None:
            glyphs.append(glyph)
    if not glyphs:
        raise ValueError(f'no font drew any of the charset\'s syllables ({len(renderers)} fonts tried)')
    return np.stack(glyphs)


def export_model(network, config, charset, path, format='saved_model', representative_size=REPRESENTATIVE_SIZE,
                 fonts=None):
    """Write an inference network (its discriminator, if any, dropped: ``KoOCR.export`` does so) to ``path``
    in ``format`` (see FORMATS), whole or not at all. ``config``: the model's options (a dict with at least
    ``image_size``); ``charset``: the syllables it names, a string. ``representative_size`` and ``fonts``:
    the int8 calibration set (see ``representative_glyphs``)."""
    from utils.inference import lite

    check_format(format)
    image_size = int(config['image_size'])
    if format == 'saved_model':
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f'{path}: a file is there; a SavedModel is a folder')
        from utils.inference import serving
        atomic_write_dir(path, lambda tmp: serving.export_saved_model(network, charset, image_size, tmp))
        return
    quantization = QUANTIZATION[format]
    representative = None
    if quantization == 'int8':
        if representative_size < 1:
            raise ValueError(f'representative_size={representative_size}: int8 needs at least one glyph')
        glyphs = representative_glyphs(image_size, charset, representative_size, fonts)
        representative = glyphs[..., None].astype(np.float32)
    lite.export_tflite(network, path, info=(config, charset), quantization=quantization,
                       representative=representative)
