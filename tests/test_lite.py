"""The LiteRT twin: KoOCR.save('x.tflite'), and KoOCR answering with it only when it agrees with Keras."""
import numpy as np
import pytest

keras = pytest.importorskip('keras')
import model  # noqa: E402
from utils.data.render import GlyphRenderer  # noqa: E402
from utils.inference.lite import LiteReader, LiteRunner, read_model_info  # noqa: E402

from conftest import FONT  # noqa: E402


@pytest.fixture(scope='module')
def saved(tmp_path_factory, charset_file):
    """A tiny model saved as model.keras with its twin model.tflite; returns the folder."""
    keras.utils.set_random_seed(1)
    ocr = model.KoOCR(weights=None, network='compact', image_size=32, width=0.25, fc_link='GAP',
                      charset=charset_file)
    folder = tmp_path_factory.mktemp('lite')
    ocr.save(str(folder / 'model.keras'))
    ocr.save(str(folder / 'model.tflite'))
    return folder


@pytest.fixture(scope='module')
def big_glyphs():
    renderer = GlyphRenderer(FONT, 50)
    return [renderer.render(c) for c in '각냐좋']


def test_twin_has_the_keras_outputs_by_name(saved):
    keras_model = keras.models.load_model(str(saved / 'model.keras'))
    runner = LiteRunner(str(saved / 'model.tflite'))
    inputs = np.random.default_rng(0).uniform(0, 255, (300, 32, 32, 1)).astype(np.float32)  # two calls
    got, expected = runner(inputs), keras_model.predict(inputs, verbose=0)
    assert sorted(got) == sorted(expected) == ['CHOSUNG', 'JONGSUNG', 'JUNGSUNG']
    for name in got:
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5)


def test_interpreters_side_by_side_keep_the_batch_order(saved):
    """A batch split over several interpreters comes back in its own order, from one image to several
    batches' worth, the same as one interpreter alone."""
    inputs = np.random.default_rng(1).uniform(0, 255, (601, 32, 32, 1)).astype(np.float32)
    alone, side_by_side = LiteRunner(str(saved / 'model.tflite'), workers=1), LiteRunner(str(saved / 'model.tflite'),
                                                                                          workers=3)
    for count in (1, 2, 5, 601):
        expected, got = alone(inputs[:count]), side_by_side(inputs[:count])
        for name in expected:
            assert got[name].shape == expected[name].shape
            np.testing.assert_allclose(got[name], expected[name], atol=1e-6)
    rows = side_by_side(inputs)['CHOSUNG']
    np.testing.assert_allclose(rows[::-1], side_by_side(inputs[::-1])['CHOSUNG'], atol=1e-6)


def test_koocr_answers_with_the_twin_and_the_same_as_keras(saved, big_glyphs):
    with_twin, plain = model.KoOCR(weights=str(saved)), model.KoOCR(weights=str(saved), runtime='keras')
    assert with_twin.lite is not None and plain.lite is None
    calls = []
    runner = with_twin.lite
    with_twin.lite = lambda inputs: calls.append(len(inputs)) or runner(inputs)
    got = with_twin.predict(big_glyphs, n=3, probabilities=True)
    expected = plain.predict(big_glyphs, n=3, probabilities=True)
    assert calls == [3]
    for row, expected_row in zip(got, expected):
        assert [c for c, _ in row] == [c for c, _ in expected_row]
        np.testing.assert_allclose([p for _, p in row], [p for _, p in expected_row], atol=1e-5)


def test_a_stale_twin_is_not_used(saved, tmp_path, caplog):
    """A model.keras retrained after its .tflite was written: Keras answers, and the user is told why."""
    ocr = model.KoOCR(weights=str(saved), runtime='keras')
    head = ocr.model.get_layer('CHOSUNG')
    head.set_weights([w * 5 + 0.1 for w in head.get_weights()])
    ocr.save(str(tmp_path / 'model.keras'))
    (tmp_path / 'model.tflite').write_bytes((saved / 'model.tflite').read_bytes())
    assert model.KoOCR(weights=str(tmp_path)).lite is None
    assert 'outputs differ' in caplog.text
    with pytest.raises(ValueError, match='model.tflite: outputs differ'):
        model.KoOCR(weights=str(tmp_path), runtime='litert')


def test_a_corrupt_or_missing_twin(saved, tmp_path, caplog):
    (tmp_path / 'model.keras').write_bytes((saved / 'model.keras').read_bytes())
    with pytest.raises(FileNotFoundError, match='model.tflite'):
        model.KoOCR(weights=str(tmp_path), runtime='litert')
    assert model.KoOCR(weights=str(tmp_path)).lite is None  # no twin: Keras, quietly
    assert caplog.text == ''
    (tmp_path / 'model.tflite').write_bytes(b'not a flatbuffer')
    assert model.KoOCR(weights=str(tmp_path)).lite is None
    assert 'using Keras, not LiteRT' in caplog.text and 'model.tflite' in caplog.text
    with pytest.raises(ValueError, match='model.tflite: not a TFLite model'):
        model.KoOCR(weights=str(tmp_path), runtime='litert')


def test_runtime_choices_and_training_drops_the_twin(saved, patch_dirs):
    with pytest.raises(ValueError, match="runtime='tpu'"):
        model.KoOCR(weights=str(saved), runtime='tpu')
    with pytest.raises(FileNotFoundError, match='a new network'):
        model.KoOCR(weights=None, runtime='litert')
    ocr = model.KoOCR(weights=str(saved))
    assert ocr.lite is not None
    train, val, _ = patch_dirs
    ocr.train(data_path=str(train), val_path='', epochs=1, batch_size=8, log_dir=str(saved / 'logs'),
              silent_mode=True, log_tensorboard=False)
    assert ocr.lite is None


def test_save_tflite_writes_nothing_partial_on_failure(saved, tmp_path, monkeypatch):
    import tensorflow as tf

    class Broken:
        def convert(self):
            raise RuntimeError('conversion failed')
    monkeypatch.setattr(tf.lite.TFLiteConverter, 'from_keras_model', lambda keras_model: Broken())
    target = tmp_path / 'model.tflite'
    target.write_bytes(b'old twin')
    with pytest.raises(RuntimeError, match='conversion failed'):
        model.KoOCR(weights=str(saved), runtime='keras').save(str(target))
    assert target.read_bytes() == b'old twin'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.tflite']


def test_lite_reader_reads_options_from_the_keras_file_and_ranks_as_koocr(saved, big_glyphs, tmp_path):
    ocr = model.KoOCR(weights=str(saved), runtime='keras')
    config, charset = read_model_info(str(saved / 'model.keras'))
    assert config['image_size'] == 32 and charset == ocr.charset
    reader = LiteReader(str(saved))
    inputs = ocr.prepare(big_glyphs)
    got, expected = reader.rank(inputs, n=4, probabilities=True), ocr.rank(inputs, n=4, probabilities=True)
    assert [[c for c, _ in row] for row in got] == [[c for c, _ in row] for row in expected]
    np.testing.assert_allclose([[p for _, p in row] for row in got], [[p for _, p in row] for row in expected],
                               atol=1e-5)
    other = tmp_path / 'model.keras'
    other.write_bytes(b'PK not really a zip')
    with pytest.raises(ValueError, match='model.keras: not a KoOCR .keras model'):
        read_model_info(str(other))
