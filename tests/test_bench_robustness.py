"""bench/degrade.py and bench/robustness.py: what each degradation and style does, and one small real run."""
import importlib
import json
import os
import sys

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
degrade = importlib.import_module('degrade')
robustness = importlib.import_module('robustness')
from conftest import FONT  # noqa: E402


def _ink(char='한'):
    from utils.data.render import GlyphRenderer
    return degrade.ink_of(GlyphRenderer(FONT, robustness.RENDER_SIZE).render(char))


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize('family', degrade.FAMILIES)
def test_every_family_makes_a_deterministic_uint8_crop(family):
    ink = _ink()
    first, again = degrade.degrade(ink, family, _rng()), degrade.degrade(ink, family, _rng())
    assert first.dtype == np.uint8 and first.ndim in (2, 3) and min(first.shape[:2]) >= 20
    assert np.array_equal(first, again)


def test_unknown_family_and_step_are_refused():
    with pytest.raises(ValueError, match="family='smudge'"):
        degrade.degrade(_ink(), 'smudge', _rng())
    with pytest.raises(ValueError, match='unknown photo steps'):
        degrade.photograph(_ink(), _rng(), ('smudge',))


def test_clean_crop_is_black_ink_on_white_with_margins():
    crop = degrade.degrade(_ink(), 'clean', _rng())
    assert crop[0].min() == 255 and crop[:, 0].min() == 255 and crop.min() == 0


def test_outline_keeps_the_edge_and_empties_the_inside():
    square = np.zeros((40, 40), np.float32)
    square[5:35, 5:35] = 1
    hollow = degrade.outline(square, _rng())
    assert hollow[20, 20] < 0.05 and hollow[5:35, 5].mean() > 0.4
    assert hollow.sum() < 0.5 * square.sum()


def _parts(ink):
    """(ink components, paper regions) of a glyph: its separate strokes, and its counters plus the outside."""
    solid = np.pad(ink > 0.5, 1)
    return ndimage.label(solid, np.ones((3, 3)))[1], ndimage.label(~solid)[1]


def test_heavy_thickens_strokes_to_a_fifth_of_the_glyph_and_keeps_its_parts_apart():
    ink = _ink()
    bold = degrade.heavy(ink, _rng())
    assert degrade.stroke_width(bold) > 1.8 * degrade.stroke_width(ink)
    assert 0.12 * max(bold.shape) < degrade.stroke_width(bold) < 0.3 * max(bold.shape)
    assert _parts(bold) == _parts(ink)


def test_heavy_closes_a_counter_to_a_hairline_not_to_nothing():
    ink = np.zeros((60, 60), np.float32)
    ink[5:17, 5:17] = 1
    ink[8:14, 8:14] = 0  # a box of 3 px strokes round a 6 px counter: a 3 px dilation alone fills it
    ink[50:53, :] = 1    # a bar far below makes the glyph 60 px wide: the target asks for 3-5 px
    bold = degrade.heavy(ink, _rng())
    assert _parts(bold) == _parts(ink) == (2, 2)
    assert degrade.stroke_width(bold) > 2 * degrade.stroke_width(ink)


def test_stroke_width_of_a_bar():
    bar = np.zeros((30, 60), np.float32)
    bar[10:18, 5:55] = 1
    assert 7 <= degrade.stroke_width(bar) <= 9


def test_widths_and_slant():
    ink = _ink()
    assert degrade.condensed(ink, _rng()).shape[1] < 0.8 * ink.shape[1]
    assert degrade.expanded(ink, _rng()).shape[1] > 1.25 * ink.shape[1]
    bar = np.zeros((40, 6), np.float32)
    bar[:, :] = 1
    slanted = degrade.oblique(bar, _rng())
    top, bottom = np.flatnonzero(slanted[2] > 0.5).mean(), np.flatnonzero(slanted[-3] > 0.5).mean()
    assert top - bottom > 5  # the top leans right, as italics do


def test_shadow_is_grey_beside_the_black_ink():
    bar = np.ones((10, 10), np.float32)
    shaded = degrade.shadow(bar, _rng())
    assert shaded[:10, :10].min() == 1 and 0.3 < shaded[-1, -1] < 0.65


def test_cut_removes_at_most_four_percent_of_the_ink():
    ink = _ink()
    for seed in range(20):
        kept = degrade.cut(ink, _rng(seed)).sum()
        assert 0.96 * ink.sum() <= kept <= ink.sum()


def test_contrast_keeps_ink_and_paper_80_levels_apart_and_sometimes_inverts():
    ink = np.zeros((30, 30), np.float32)
    ink[10:20, 10:20] = 1
    inverted = 0
    for seed in range(60):
        image = degrade.colour(ink, _rng(seed))
        grey = image.mean(axis=-1) if image.ndim == 3 else image
        paper, glyph = grey[0, 0], grey[15, 15]
        assert abs(paper - glyph) >= 0.6 * 80  # a tint may take a little from the gap, never most of it
        inverted += glyph > paper
    assert 2 <= inverted <= 20  # about 15%


def test_lighting_darkens_one_side_only():
    lit = degrade.lighting(np.full((40, 40), 200.0), _rng())
    assert lit.max() == pytest.approx(200) and 100 <= lit.min() <= 170


def test_resolution_loses_detail_but_keeps_the_size():
    crop = degrade.photograph(_ink(), _rng())
    low = degrade.resolution(crop.astype(np.float32), _rng())
    assert low.shape == crop.shape and np.abs(low - crop).mean() > 1


def test_for_tesseract_scales_to_the_height_with_an_extended_edge():
    crop = np.full((30, 60, 3), 90, np.uint8)
    image = robustness.for_tesseract(crop, 48)
    assert image.shape == (48 + 2 * 8, 96 + 2 * 8) and image.dtype == np.uint8 and image.min() == 90


def test_held_out_faces_need_a_manifest(tmp_path):
    with pytest.raises(SystemExit, match='manifest.tsv: not found'):
        robustness.held_out_faces(str(tmp_path))


def _manifest(folder, font_file):
    from utils.data.patches import write_manifest
    row = dict(font_id=3, file=font_file, face_index=0, family='KoOCR Gothic', style='Regular',
               family_key='koocrgothic', kind='printed', split='val', glyphs=2350, skipped=0)
    write_manifest(os.path.join(folder, 'manifest.tsv'), [row, {**row, 'font_id': 4, 'split': 'train'}])


def test_held_out_faces_names_a_missing_font_file(tmp_path):
    _manifest(str(tmp_path), str(tmp_path / 'gone.ttf'))
    with pytest.raises(SystemExit, match='gone.ttf is missing'):
        robustness.held_out_faces(str(tmp_path))


def test_a_small_run_reads_the_held_out_font_and_writes_its_results(tmp_path):
    _manifest(str(tmp_path), FONT)
    out = tmp_path / 'results' / 'robustness.json'
    robustness.main(['--data_path', str(tmp_path), '--per_font', '12', '--families', 'clean', 'outline',
                     '--tesseract', 'false', '--out', str(out)])
    summary = json.loads(out.read_text(encoding='utf-8'))
    clean = summary['results']['koocr']['clean']['printed']
    assert clean['images'] == 12 and clean['top1'] >= 0.9  # the shipped model reads clean renders
    assert summary['held_out_fonts'] == {'printed': ['KoOCR Gothic Regular']}  # the train row is not used
    sheet = Image.open(tmp_path / 'results' / 'robustness_crops.png')
    assert sheet.height == 2 * 64 and sheet.width > 10 * 64
    assert (tmp_path / 'results' / 'robustness_prepared.png').is_file()
