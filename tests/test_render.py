"""utils/render.py: both placements, tofu detection, normalisation of a user's image."""
import os

import numpy as np
import pytest

from utils.data.render import GlyphRenderer, glyph_margin, ink_box, normalize_glyph, render_glyph, legacy_offsets

from conftest import FONT  # noqa: E402
DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'


def check_glyph(image, size):
    assert image.dtype == np.uint8 and image.shape == (size, size)
    assert image.min() < 64 and image.max() == 255  # dark ink on white
    assert image[0, 0] == 255 and (image > 128).mean() > 0.5  # mostly paper


def test_legacy_table():
    assert legacy_offsets(64) == (5, 5, 50) and legacy_offsets(96) == (8, 8, 80)
    assert legacy_offsets(128) == (14, 10, 100) and legacy_offsets(256) == (50, 10, 200)
    assert legacy_offsets(32) == (2, 2, 25)  # scaled from 64


def test_legacy_placement_follows_the_offsets():
    image = render_glyph(FONT, '가', 64, placement='legacy')
    check_glyph(image, 64)
    left, top, _, _ = ink_box(image)
    assert 5 <= left <= 15 and 5 <= top <= 15  # text origin at (5, 5)
    moved = render_glyph(FONT, '가', 64, placement='legacy', x_offset=9, y_offset=7)
    np.testing.assert_array_equal(np.array(ink_box(moved)) - ink_box(image), [4, 2, 4, 2])
    bigger = render_glyph(FONT, '가', 64, placement='legacy', char_size=60)
    assert ink_box(bigger)[2] - ink_box(bigger)[0] > ink_box(image)[2] - ink_box(image)[0]


@pytest.mark.parametrize('size', [32, 64, 96])
@pytest.mark.parametrize('char', ['가', '빼', '을', '쐈', 'ㅡ'])
def test_centred_placement(size, char):
    image = render_glyph(FONT, char, size)
    check_glyph(image, size)
    left, top, right, bottom = ink_box(image)
    margin = glyph_margin(size)
    assert min(left, top) >= margin - 1 and max(right, bottom) <= size - margin + 1
    assert max(right - left, bottom - top) >= size - 2 * margin - 1  # the longer side fills the box
    assert abs(left - (size - right)) <= 1 and abs(top - (size - bottom)) <= 1  # ink box centred


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="'middle'"):
        GlyphRenderer(FONT, 32, placement='middle')
    junk = tmp_path / 'junk.ttf'
    junk.write_bytes(b'not a font')
    with pytest.raises(ValueError, match='junk.ttf'):
        GlyphRenderer(str(junk), 32)


@pytest.mark.skipif(not os.path.exists(DEJAVU), reason='DejaVu Sans is not installed')
@pytest.mark.parametrize('placement', ['center', 'legacy'])
def test_font_without_hangul_renders_none(placement):
    renderer = GlyphRenderer(DEJAVU, 32, placement=placement)
    assert renderer.render('A') is not None  # the font works...
    assert all(renderer.render(c) is None for c in '가각뷁힣')  # ...but draws no Hangul


def test_char_missing_from_the_bundled_subset():
    assert render_glyph(FONT, '가', 32) is not None
    assert render_glyph(FONT, '똠', 32) is None  # not in KS X 1001, so not in the subset font


@pytest.mark.parametrize('placement', ['center', 'legacy'])
def test_notdef_lookalike_is_tofu(placement):
    renderer = GlyphRenderer(FONT, 32, placement=placement)
    renderer.cmap.add(ord('똠'))  # as if the cmap mapped it to nothing better than .notdef
    assert renderer.render('똠') is None


def test_normalize_glyph_of_a_users_image():
    canvas = np.full((50, 80), 255, np.uint8)
    canvas[10:20, 5:45] = 0  # a wide bar off-centre
    image = normalize_glyph(canvas, 32)
    left, top, right, bottom = ink_box(image)
    margin = glyph_margin(32)
    assert (left, right) == (margin, 32 - margin)
    assert abs(top - (32 - bottom)) <= 1
    assert normalize_glyph(np.full((20, 20), 200, np.uint8), 32) is None  # blank


def test_seed_is_the_old_name_of_the_legacy_placement():
    np.testing.assert_array_equal(render_glyph(FONT, '각', 48, placement='seed'),
                                  render_glyph(FONT, '각', 48, placement='legacy'))
    with pytest.raises(ValueError, match="placement='middle'.*'legacy'"):
        render_glyph(FONT, '각', 48, placement='middle')
