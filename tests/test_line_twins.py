"""The line reader's int8 twins: written from a network, answering as it does, refused when stale or damaged,
and the shipped ones made from the shipped networks."""
import logging
import os

import numpy as np
import pytest

from conftest import FONT
from utils.data.lines import LineRenderer
from utils.data.symbols import SYMBOL_CLASSES
from utils.inference import line_twins, segment
from utils.inference.segment import SYMBOL_SIDE


def line_views(text='다음 조건을 입력합니다 (GIMP 2.10)'):
    """The symbol views the reader cuts from one drawn line: realistic inputs for calibration and checks."""
    gray, _ = LineRenderer(FONT, 40).render(text)
    cleaned, ink = segment.clean_page(segment.stretched_page(gray))
    line, = segment.find_lines(ink)
    return segment.symbol_views(cleaned, line, segment.candidate_columns(line)[1])


def small_network(seed):
    import keras

    from network.symbols import build_symbol_network
    keras.utils.set_random_seed(seed)
    return build_symbol_network(len(SYMBOL_CLASSES), SYMBOL_SIDE, width=4)


@pytest.fixture(scope='module')
def twin(tmp_path_factory):
    """(network, its .keras path, its twin's path, the views it was calibrated on)."""
    folder = tmp_path_factory.mktemp('twin')
    network, source = small_network(0), str(folder / 'symbols.keras')
    network.save(source)
    views = line_views()
    line_twins.write_twin(network, source, views, str(folder / 'symbols_int8_body.tflite'))
    return network, source, str(folder / 'symbols_int8_body.tflite'), views


def test_a_twin_answers_as_its_network(twin):
    network, source, path, views = twin
    probabilities = line_twins.load_twin(path, source)(views[..., None].astype(np.float32))
    expected = network.predict_on_batch(views[..., None].astype(np.float32))
    got, = probabilities.values()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-5)
    assert np.abs(np.log(got) - np.log(expected)).max() < 0.1  # int8 features, float heads: close in log space


def test_a_twin_of_another_file_is_refused_with_a_warning(twin, tmp_path, caplog):
    _, source, path, _ = twin
    retrained = str(tmp_path / 'symbols.keras')
    small_network(1).save(retrained)
    with caplog.at_level(logging.WARNING):
        assert line_twins.load_twin(path, retrained) is None
    assert 'not made from' in caplog.text and 'train_lines.py --steps twins' in caplog.text


def test_a_missing_or_damaged_twin_is_refused(twin, tmp_path, caplog):
    _, source, path, _ = twin
    assert line_twins.load_twin(str(tmp_path / 'absent.tflite'), source) is None
    damaged = tmp_path / 'damaged.tflite'
    damaged.write_bytes(open(path, 'rb').read()[:5000])
    with caplog.at_level(logging.WARNING):
        assert line_twins.load_twin(str(damaged), source) is None
    assert 'damaged.tflite' in caplog.text


def test_only_softmax_dense_heads_split():
    import keras
    inputs = keras.Input((4,))
    flat = keras.Model(inputs, keras.layers.Dense(3, activation='relu')(inputs))
    with pytest.raises(ValueError, match='not a softmax Dense layer'):
        line_twins.split_heads(flat)


def test_the_shipped_twins_are_made_from_the_shipped_networks():
    from utils.inference.shipped import DEFAULT_WEIGHTS, MODEL_TWIN_FILE, SYMBOLS_FILE, SYMBOLS_TWIN_FILE
    for twin, source in ((SYMBOLS_TWIN_FILE, SYMBOLS_FILE), (MODEL_TWIN_FILE, 'model.keras')):
        assert line_twins.load_twin(os.path.join(DEFAULT_WEIGHTS, twin), os.path.join(DEFAULT_WEIGHTS, source))


def test_the_shipped_twins_read_lines_as_the_float_networks_do():
    import model
    from utils.evaluation.cer import cer_report
    fast, exact = model.KoOCR(), model.KoOCR(runtime='keras')
    for text in ('새로운 글자를 읽습니다.', '(예: 2.10 판) 다음 쪽!', 'Korean 글꼴로 편집합니다'):
        gray, _ = LineRenderer(FONT, 40).render(text)
        reading = exact.read_text(gray)
        assert fast.read_text(gray) == reading and cer_report([(text, reading)])['overall'] < 0.1
    assert fast.model_twin is not None and exact.model_twin is None


def test_calibration_records_what_the_reader_shows_each_network():
    from types import SimpleNamespace

    import model
    from utils.training.calibration import reader_inputs
    ocr = model.KoOCR()
    face = SimpleNamespace(path=FONT, index=0)
    views, glyphs = reader_inputs(ocr, ocr._symbol_probabilities, [face], ['다음 조건을 입력합니다.', '새 글자 (2개)'],
                                  lines_per_face=2, count=7)
    assert views.shape == (7, SYMBOL_SIDE, SYMBOL_SIDE) and glyphs.shape == (7, ocr.image_size, ocr.image_size)
    assert views.dtype == glyphs.dtype == np.uint8
    assert (glyphs < 128).any(axis=(1, 2)).all()  # every glyph holds ink


def test_train_lines_writes_fresh_twins(tmp_path):
    import shutil
    import subprocess
    import sys

    from conftest import ROOT
    from utils.inference.shipped import DEFAULT_WEIGHTS, MODEL_TWIN_FILE, SYMBOLS_FILE, SYMBOLS_TWIN_FILE
    shutil.copy(os.path.join(DEFAULT_WEIGHTS, SYMBOLS_FILE), tmp_path / SYMBOLS_FILE)
    result = subprocess.run([sys.executable, 'train_lines.py', '--steps', 'twins', '--out',
                             str(tmp_path / SYMBOLS_FILE)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert line_twins.load_twin(str(tmp_path / SYMBOLS_TWIN_FILE), str(tmp_path / SYMBOLS_FILE))
    assert line_twins.load_twin(str(tmp_path / MODEL_TWIN_FILE), os.path.join(DEFAULT_WEIGHTS, 'model.keras'))
