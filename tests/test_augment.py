"""network.augment: each augmentation alone (shape, range, what it does, a fixed seed), then the layer."""
import numpy as np
import pytest
import tensorflow as tf

from network import augment
from network.augment import GlyphAugmentation


def glyphs(batch=8, side=32):
    """ink = 1 bars: a thick vertical stroke and a thin horizontal one, on paper 0."""
    images = np.zeros((batch, side, side, 1), np.float32)
    images[:, 6:26, 8:16] = 1.0
    images[:, 20:22, 16:26] = 1.0
    return tf.constant(images)


STEPS = {
    'hollow': lambda x: augment.hollow(x, 1.0),
    'embolden': lambda x: augment.embolden(x, 1.0),
    'drop_shadow': lambda x: augment.drop_shadow(x, 1.0),
    'resample': lambda x: augment.resample(x, 1.0),
    'blur': lambda x: augment.blur(x, 2.0),
    'paper_and_gamma': lambda x: augment.paper_and_gamma(x, 0.2, 0.4),
    'lighting': lambda x: augment.lighting(x, 0.2),
    'noise': lambda x: augment.noise(x, 0.1),
    'jpeg': lambda x: augment.jpeg(x, 1.0),
}


def seeded(step, images, seed=3):
    tf.random.set_seed(seed)
    return np.asarray(step(images))


@pytest.mark.parametrize('name', sorted(STEPS))
def test_each_step_keeps_the_shape_changes_pixels_and_repeats_with_a_seed(name):
    images = glyphs()
    first, again = seeded(STEPS[name], images), seeded(STEPS[name], images)
    assert first.shape == images.shape and first.dtype == np.float32
    assert np.abs(first - images).mean() > 1e-3
    np.testing.assert_array_equal(first, again)
    assert -0.6 <= first.min() and first.max() <= 1.6  # near the ink range; the layer clips at the end


@pytest.mark.parametrize('name', ['hollow', 'embolden', 'drop_shadow', 'resample', 'jpeg'])
def test_a_share_of_zero_leaves_images_alone(name):
    step = {'hollow': augment.hollow, 'embolden': augment.embolden, 'drop_shadow': augment.drop_shadow,
            'resample': augment.resample, 'jpeg': augment.jpeg}[name]
    images = glyphs()
    np.testing.assert_allclose(step(images, 0.0), images, atol=1e-6)


def test_hollow_keeps_a_rim_and_empties_the_thick_stroke():
    out = seeded(STEPS['hollow'], glyphs())
    assert (out[:, 16, 11:13] == 0).all()       # inside the 8 px stroke: paper now
    assert (out[:, 16, 7] == 1).all()           # its rim (a pixel thicker than the stroke): ink


def test_embolden_adds_ink_around_every_stroke():
    images = glyphs()
    out = seeded(STEPS['embolden'], images)
    assert (out >= np.asarray(images) - 1e-6).all()
    assert (out[:, 16, 7] == 1).all() and (out[:, 22, 20] == 1).all()  # 1 px beside each stroke
    assert out.sum() > 1.3 * float(tf.reduce_sum(images))


def test_drop_shadow_is_fainter_ink_down_and_right():
    images = glyphs()
    out = seeded(STEPS['drop_shadow'], images)
    assert (out[:, 26, 11:16] > 0.25).all() and (out[:, 26, 11:16] < 0.75).all()  # below the stroke's end
    assert (out[:, 5, :] == 0).all()  # nothing above the glyph


def test_blur_softens_edges_but_keeps_the_ink():
    images = glyphs()
    out = seeded(STEPS['blur'], images)
    assert np.abs(np.diff(out, axis=2)).max() < 1.0
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), float(tf.reduce_sum(images[0])), rtol=0.05)


def test_paper_and_gamma_greys_the_paper_and_lightens_the_ink():
    out = seeded(STEPS['paper_and_gamma'], glyphs())
    paper, ink = out[:, 1, 1, 0], out[:, 16, 11, 0]
    assert (paper >= 0).all() and (paper <= 0.2).all() and paper.max() > 0.01
    assert (ink >= 0.6 - 1e-6).all() and (ink <= 1).all()


def test_lighting_is_a_ramp():
    flat = tf.zeros((4, 32, 32, 1))
    out = seeded(STEPS['lighting'], flat)[..., 0]
    assert (np.ptp(out, axis=(1, 2)) <= 0.2 + 1e-6).all() and np.ptp(out, axis=(1, 2)).max() > 0.01
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0, atol=1e-3)  # centred: lighter on one side


def test_noise_deviation_is_bounded():
    out = seeded(STEPS['noise'], tf.zeros((16, 32, 32, 1)))
    assert 0 < out.std(axis=(1, 2, 3)).max() <= 0.12


def test_jpeg_blocks_appear_at_low_quality():
    out = seeded(lambda x: augment.jpeg(x, 1.0, quality=(10, 10)), glyphs())
    assert np.abs(out - np.asarray(glyphs())).max() > 0.05
    assert 0 <= out.min() and out.max() <= 1


def test_layer_is_identity_at_inference_and_deterministic_with_a_seed():
    layer = GlyphAugmentation(hollow=0.5, heavy=0.5, jpeg=0.5, name='augmentation')
    images = glyphs(16)
    np.testing.assert_array_equal(layer(images), images)
    first = seeded(lambda x: layer(x, training=True), images)
    np.testing.assert_array_equal(first, seeded(lambda x: layer(x, training=True), images))
    assert first.shape == images.shape and 0.0 <= first.min() and first.max() <= 1.0
    assert not np.allclose(first, seeded(lambda x: layer(x, training=True), images, seed=4))


def test_layer_config_round_trips_with_the_new_steps():
    layer = GlyphAugmentation(hollow=0.2, resample=0.1, clean=0.5)
    again = GlyphAugmentation.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    assert (again.hollow, again.resample, again.clean) == (0.2, 0.1, 0.5)


def test_clean_share_of_one_keeps_only_the_geometry():
    layer = GlyphAugmentation(rotation=0, shear=0, scale=(1, 1), aspect=0, shift=0, elastic=0, stroke=0,
                              hollow=0, heavy=0, shadow=0, clean=1.0)
    images = glyphs()
    np.testing.assert_allclose(seeded(lambda x: layer(x, training=True), images), images, atol=1e-5)


def test_embolden_keeps_a_hairline_between_strokes_it_would_join():
    bars = np.zeros((16, 24, 24, 1), np.float32)
    bars[:, 4:20, 5:9] = bars[:, 4:20, 13:17] = 1.0  # two strokes 4 px apart: 2 px of growth would join them
    out = seeded(STEPS['embolden'], tf.constant(bars))[..., 0]
    assert (out[:, 4:20, 10:12].min(axis=2) == 0).all()  # a paper pixel in every row of the gap
    assert (out[:, 12, 4] > 0).all() and (out[:, 12, 17] > 0).all()  # the strokes grew outwards all the same


def test_gap_middles_mark_the_middle_of_narrow_gaps_only():
    image = np.zeros((1, 12, 30, 1), np.float32)
    image[:, :, 2:4] = image[:, :, 9:11] = image[:, :, 24:26] = 1.0  # gaps of 5 and 13 px
    middles = np.asarray(augment.gap_middles(tf.constant(image)))[0, 6, :, 0]
    assert list(np.flatnonzero(middles)) == [6]  # the 5 px gap's middle; the 13 px gap is too wide to close


def test_embolden_grows_strokes_by_one_to_three_pixels():
    dot = np.zeros((64, 15, 15, 1), np.float32)
    dot[:, 7, 7] = 1
    out = seeded(STEPS['embolden'], tf.constant(dot))[..., 0]
    reach = [max(abs(c - 7) for c in np.argwhere(image > 0.5).ravel()) for image in out]
    assert min(reach) >= 1 and max(reach) == 3  # the strongest images grow a full 3 px
    assert out[:, :3].max() == 0 and out[:, 11:].max() == 0  # never 4 px
