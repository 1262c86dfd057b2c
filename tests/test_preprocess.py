"""utils.preprocess: what a photo or scan does to a crop is undone before the model sees it."""
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from conftest import FONT
from utils.data.render import glyph_margin, ink_box
from scipy import ndimage

from utils.inference.preprocess import (clean_glyph, flatten_and_stretch, grown, ink_dark, otsu_threshold,
                                       percentiles, prepare)

SIZE = 32


@pytest.fixture(scope='module')
def crop():
    """한 drawn 60 px high on a 100×90 white crop, ink 0: float32, so tests can degrade it."""
    image = Image.new('L', (100, 90), 255)
    ImageDraw.Draw(image).text((50, 45), '한', font=ImageFont.truetype(FONT, 60), fill=0, anchor='mm')
    return np.asarray(image, np.float32)


@pytest.fixture(scope='module')
def clean(crop):
    return prepare(crop.astype(np.uint8), SIZE)


def as_image(values):
    return np.clip(values, 0, 255).astype(np.uint8)


def close_to(prepared, clean, mean_difference=12):
    assert prepared.shape == (SIZE, SIZE) and prepared.dtype == np.uint8
    assert prepared.min() == 0 and prepared.max() == 255  # ink black and paper white again
    assert np.abs(prepared.astype(int) - clean).mean() < mean_difference


def test_otsu_threshold_splits_two_levels():
    values = np.concatenate([np.full(300, 40), np.full(700, 200)])
    assert 40 <= otsu_threshold(values) < 200


@pytest.mark.parametrize('side', [48, 384])
def test_otsu_threshold_splits_a_noisy_photo_sized_image_between_its_classes(side):
    rng = np.random.default_rng(0)
    gray = rng.normal(200, 20, (side, side))
    gray[side // 4:side // 2, side // 3:side // 2] = rng.normal(60, 20, (side // 2 - side // 4, side // 2 - side // 3))
    assert 100 < otsu_threshold(gray) < 160  # integer sums overflowed at 200 px and put it at ~20


@pytest.mark.parametrize('size', [1, 2, 5, 2304])
def test_percentiles_are_numpys(size):
    values = (np.random.default_rng(size).random(size) * 255).astype(np.uint8)
    qs = (0, 2, 50, 98, 100)
    np.testing.assert_allclose(percentiles(values, qs), np.percentile(values, qs), atol=1e-9)


@pytest.mark.parametrize('steps', [0, 1, 2, 3])
def test_grown_is_binary_dilation_by_the_cross(steps):
    mask = np.random.default_rng(steps).random((23, 41)) > 0.93
    mask[0, 5] = mask[-1, -1] = True  # at the edges too
    expected = ndimage.binary_dilation(mask, iterations=steps) if steps else mask
    assert np.array_equal(grown(mask, steps), expected)


def test_low_contrast_is_stretched_to_black_on_white(crop, clean):
    faint = as_image(120 + crop / 255 * 80)  # ink 120, paper 200: 80 grey levels apart
    close_to(prepare(faint, SIZE), clean)
    stretched = flatten_and_stretch(faint)
    assert np.median(stretched) == 255 and np.percentile(stretched, 2) == 0


def test_light_ink_on_dark_paper_is_flipped(crop, clean):
    close_to(prepare(as_image(200 - crop / 255 * 140), SIZE), clean)  # ink 200 on paper 60


def test_dark_paper_under_darker_ink_is_not_flipped(crop, clean):
    dim = as_image(20 + crop / 255 * 80)  # ink 20 on paper 100: all of it below mid-grey
    assert np.array_equal(ink_dark(dim), dim)
    close_to(prepare(dim, SIZE), clean)


def test_lighting_gradient_is_divided_out(crop, clean):
    light = np.linspace(1.0, 0.35, crop.shape[1])[None, :]  # paper 255 on the left, 89 on the right
    shaded = as_image((crop / 255 * 0.8 + 0.2) * 255 * light)
    prepared = prepare(shaded, SIZE)
    close_to(prepared, clean)
    left, top, right, bottom = ink_box(prepared)
    assert right - left < SIZE - 2 * glyph_margin(SIZE) + 2 or bottom - top == SIZE - 2 * glyph_margin(SIZE)
    # Without the division, the dark side of the paper would count as ink and fill the box.
    assert ink_box(prepared) == ink_box(clean)


def test_specks_neither_move_the_box_nor_stay(crop, clean):
    specked = crop.copy()
    specked[2:4, 2:4] = 0
    specked[85:87, 95:97] = 0
    specked[3, 90] = 0
    prepared = prepare(as_image(specked), SIZE)
    assert ink_box(prepared) == ink_box(clean)
    assert np.abs(prepared.astype(int) - clean).max() <= 8


def test_noise_keeps_the_glyph(crop, clean):
    noisy = crop + np.random.default_rng(0).normal(0, 25, crop.shape)
    prepared = prepare(as_image(noisy), SIZE)
    close_to(prepared, clean, mean_difference=15)
    assert np.corrcoef(prepared.ravel(), clean.ravel())[0, 1] > 0.9


def test_glyph_touching_the_edge_is_centred(crop):
    left, _, _, _ = ink_box(crop.astype(np.uint8))
    cut = crop[:, left + 2:]  # the crop cuts 2 px of ink on the left
    prepared = prepare(as_image(cut), SIZE)
    box = ink_box(prepared)
    margin = glyph_margin(SIZE)
    assert min(box[0], box[1], SIZE - box[2], SIZE - box[3]) >= margin - 1
    assert max(box[2] - box[0], box[3] - box[1]) >= SIZE - 2 * margin - 1  # scaled to fill as in training


def test_blank_and_flat_images_prepare_blank():
    for blank in (np.full((40, 40), 200, np.uint8), np.zeros((30, 50), np.uint8)):
        assert flatten_and_stretch(blank) is None
        assert (prepare(blank, SIZE) == 255).all()


def test_clean_glyph_keeps_small_parts_of_a_syllable():
    image = np.full((60, 60), 255, np.uint8)
    image[10:50, 10:16] = 0   # a long stroke
    image[28:32, 20:23] = 0   # a short tick beside it (as in ㅏ), 12 px: 5% of the stroke, kept
    image[3:5, 50:52] = 0     # a speck of 4 px, as large as a tick but away from the glyph: dropped
    image[55, 55] = 0         # a one-pixel speck, dropped
    cleaned, box = clean_glyph(image)
    assert box == (10, 10, 23, 50)
    assert cleaned[55, 55] == 255 and cleaned[4, 51] == 255 and cleaned[30, 21] == 0
