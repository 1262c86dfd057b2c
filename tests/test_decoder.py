"""The DenseRAN-style jamo decoder: attention that sums to 1, each step reading what the one before read,
exact ranking of the charset by the steps' product, and training/saving like any other network."""

import keras
import numpy as np
import pytest

import model
import train
from utils.config import NetworkConfig
from utils.inference.topn import top_n_syllables

TINY = dict(network='densenet', image_size=32, width=0.25, decoder=True)


@pytest.fixture
def ocr(clear_keras):
    return model.KoOCR(weights=None, **TINY)


def _images(count=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (count, 32, 32, 1)).astype('float32')


def test_each_steps_attention_sums_to_one_over_the_feature_map(ocr):
    decoder = ocr.model.get_layer('decoder')
    attention = keras.Model(ocr.model.input, decoder.output[-1])(_images())
    height, width = ocr.model.get_layer('features').output.shape[1:3]
    assert attention.shape == (3, 3, height * width)
    np.testing.assert_allclose(np.sum(attention, axis=-1), 1.0, atol=1e-5)
    assert np.all(np.asarray(attention) >= 0)


def test_a_step_reads_what_the_step_before_it_read(ocr):
    """The medial step is fed the initial step's answer: cutting that feed changes the medial's answer,
    not the initial's."""
    images = _images()
    before = ocr.model(images)
    embed = ocr.model.get_layer('decoder').embed[1]
    embed.set_weights([np.zeros_like(w) for w in embed.get_weights()])
    after = ocr.model(images)
    np.testing.assert_allclose(after['CHOSUNG'], before['CHOSUNG'], atol=1e-6)
    assert np.abs(np.asarray(after['JUNGSUNG']) - np.asarray(before['JUNGSUNG'])).max() > 1e-5


def test_the_charset_is_ranked_exactly_by_the_product_of_the_steps(ocr):
    outputs = {name: np.asarray(value) for name, value in ocr.model(_images(2, seed=1)).items()}
    indices, probabilities = top_n_syllables(outputs, ocr.charset, n=10)
    from utils.data.hangul import split_labels
    jamo = split_labels(list(ocr.charset))
    for row in range(2):
        brute = (outputs['CHOSUNG'][row, jamo[:, 0]] * outputs['JUNGSUNG'][row, jamo[:, 1]]
                 * outputs['JONGSUNG'][row, jamo[:, 2]])
        assert list(indices[row]) == list(np.argsort(-brute, kind='stable')[:10])
        np.testing.assert_allclose(probabilities[row], np.sort(brute)[::-1][:10], rtol=1e-4)


def test_the_decoder_reads_jamo_only():
    with pytest.raises(ValueError, match='decoder=True reads jamo'):
        NetworkConfig(decoder=True, split_components=False)
    with pytest.raises(ValueError, match='decoder=True reads jamo'):
        NetworkConfig(decoder=True, iterative_refinement=True)


@pytest.mark.slow
def test_train_py_trains_saves_and_reloads_the_decoder(patch_dirs, tmp_path, charset_file, clear_keras):
    train_dir, val_dir, _ = patch_dirs
    log_dir = str(tmp_path / 'logs')
    ocr = train.main(['--network=densenet', '--decoder=true', '--width=0.25', '--image_size=32', '--epochs=1',
                      '--batch_size=16', f'--data_path={train_dir}', f'--val_path={val_dir}',
                      f'--charset={charset_file}', f'--log_dir={log_dir}', '--optimizer=adam',
                      '--log_tensorboard=false', '--silent_mode=true'])
    ocr.save(str(tmp_path / 'shipped' / 'model.keras'))
    reloaded = keras.models.load_model(str(tmp_path / 'shipped' / 'model.keras'))
    images = _images()
    for name, value in ocr.model.predict(images, verbose=0).items():
        np.testing.assert_allclose(reloaded.predict(images, verbose=0)[name], value, atol=1e-5)
    resumed = model.KoOCR(weights=log_dir)
    assert resumed.config.decoder and resumed.config.network == 'densenet'
