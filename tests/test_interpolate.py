"""Weight-space interpolation (WiSE-FT): the arithmetic, its checks, and interpolate.py end to end."""
import numpy as np
import pytest

import interpolate
import model
from utils.training.interpolation import interpolated

TINY = dict(network='compact', image_size=32, width=0.25)


def test_the_ends_are_the_two_models_and_the_middle_their_mean():
    start = [np.zeros((2, 3), np.float32), np.full(4, 2.0, np.float32)]
    tuned = [np.ones((2, 3), np.float32), np.full(4, 4.0, np.float32)]
    for fraction, expected in ((0.0, start), (1.0, tuned), (0.25, [np.full((2, 3), 0.25), np.full(4, 2.5)])):
        mixed = interpolated(start, tuned, fraction)
        for got, want in zip(mixed, expected):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want)


def test_other_networks_and_fractions_outside_0_1_are_errors_naming_the_models():
    with pytest.raises(ValueError, match='a.keras holds 1 weight arrays and b.keras 2'):
        interpolated([np.zeros(2)], [np.zeros(2), np.zeros(2)], 0.5, names=('a.keras', 'b.keras'))
    with pytest.raises(ValueError, match=r'weight 0: \(2,\) in a.keras against \(3,\) in b.keras'):
        interpolated([np.zeros(2)], [np.zeros(3)], 0.5, names=('a.keras', 'b.keras'))
    with pytest.raises(ValueError, match='between 0 and 1'):
        interpolated([np.zeros(2)], [np.zeros(2)], 1.5)


def test_interpolate_py_writes_a_model_that_koocr_loads_with_the_mixed_weights(tmp_path, clear_keras):
    paths = []
    for seed in (1, 2):
        ocr = model.KoOCR(weights=None, **TINY)
        ocr.model.set_weights([np.random.default_rng(seed).normal(size=w.shape).astype(w.dtype)
                               for w in ocr.model.get_weights()])
        paths.append(str(tmp_path / f'{seed}.keras'))
        ocr.save(paths[-1])
    out = str(tmp_path / 'mixed' / 'model.keras')
    interpolate.main(['--start', paths[0], '--tuned', paths[1], '--fraction', '0.25', '--output', out])
    weights = [model.KoOCR(weights=path, runtime='keras').model.get_weights() for path in paths + [out]]
    for a, b, mixed in zip(*weights):
        np.testing.assert_allclose(mixed, 0.75 * a + 0.25 * b, rtol=1e-5, atol=1e-6)
    image = np.full((40, 40), 255, np.uint8)
    image[8:32, 18:22] = 0
    assert len(model.KoOCR(weights=out).predict(image, n=3)) == 3


def test_interpolate_py_refuses_bad_flags_and_models_of_other_networks(tmp_path, clear_keras, capsys):
    with pytest.raises(SystemExit):
        interpolate.parse_args(['--start', 'a', '--tuned', 'b', '--fraction', '2', '--output', 'c.keras'])
    with pytest.raises(SystemExit):
        interpolate.parse_args(['--start', 'a', '--tuned', 'b', '--output', 'c.h5'])
    small = str(tmp_path / 'small.keras')
    wide = str(tmp_path / 'wide.keras')
    model.KoOCR(weights=None, **TINY).save(small)
    model.KoOCR(weights=None, **{**TINY, 'width': 0.5}).save(wide)
    with pytest.raises(ValueError, match='small.keras.*wide.keras.*not the same network'):
        interpolate.main(['--start', small, '--tuned', wide, '--output', str(tmp_path / 'out.keras')])
    assert not (tmp_path / 'out.keras').exists()
    with pytest.raises(FileNotFoundError, match='missing.keras'):
        interpolate.main(['--start', str(tmp_path / 'missing.keras'), '--tuned', wide,
                          '--output', str(tmp_path / 'out.keras')])
