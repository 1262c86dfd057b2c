"""bench/tesseract_vs_koocr.py: sampling, Tesseract's input, its Korean coverage, one real read (no TensorFlow)."""
import importlib.util
import os
import shutil

import numpy as np
import pytest

from utils.data.patches import write_patch
from utils.data.render import GlyphRenderer
from utils.io import BUNDLED_FONT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location('bench_tesseract', os.path.join(ROOT, 'bench', 'tesseract_vs_koocr.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
KOR = os.path.join(bench.TESSDATA, 'kor.traineddata')


def test_load_groups_samples_deterministically_and_tunes_apart(tmp_path):
    labels = np.array(['가', '나', '다', '라', '마'] * 4)
    images = np.arange(20, dtype=np.uint8)[:, None, None] * np.ones((1, 8, 8), np.uint8)
    write_patch(str(tmp_path / 'printed_0.pickle'), images, labels)
    write_patch(str(tmp_path / 'clova_0.pickle'), images[:6], labels[:6])
    first, again = bench.load_groups(str(tmp_path), 5, 6), bench.load_groups(str(tmp_path), 5, 6)
    printed = first['printed']
    assert np.array_equal(printed['images'], again['printed']['images']) and len(printed['images']) == 5
    assert printed['tune_disjoint'] and not set(printed['images'][:, 0, 0]) & set(printed['tune_images'][:, 0, 0])
    assert not first['handwriting']['tune_disjoint'] and len(first['handwriting']['images']) == 5  # 6 <= tune


def test_for_tesseract_scales_onto_a_white_border():
    glyph = np.zeros((48, 48), np.uint8)
    image = bench.for_tesseract(glyph, 96)
    assert image.shape == (96 + 2 * 16,) * 2 and image[:16].min() == 255 and image[16:112, 16:112].max() == 0


@pytest.mark.skipif(not (shutil.which('combine_tessdata') and os.path.isfile(KOR)), reason='no Tesseract kor data')
def test_tesseract_korean_model_outputs_1076_ksx1001_syllables():
    syllables = bench.tesseract_syllables(bench.TESSDATA)
    assert len(syllables) == 1076 and '가' in syllables and '똠' not in syllables


def test_tesseract_reads_a_rendered_syllable():
    pytest.importorskip('tesserocr')
    if not os.path.isfile(KOR):
        pytest.skip('no Tesseract kor data')
    glyph = GlyphRenderer(BUNDLED_FONT, 48).render('한')
    assert bench._read_chunk((10, [bench.for_tesseract(glyph, 48)])) == ['한']
