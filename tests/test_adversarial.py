"""network/adversarial.py and its training: the discriminator's gradient reaches the backbone reversed
(sign and scale), batches pair handwriting with printed twins, and the shipped save drops the discriminator."""
import numpy as np
import pytest
import tensorflow as tf

import keras
import model
import network
import train
from network.adversarial import GradientReversal, inference_model, set_reversal_scale
from utils.data.dataset import Labeler, PatchDataset, PrintedPairs
from utils.data.hangul import DOMAIN_OUTPUT

from conftest import CHARS, IMAGE_SIZE

TINY = dict(network='compact', image_size=IMAGE_SIZE, width=0.25)


def test_gradient_reversal_is_identity_forward_and_minus_scale_backward():
    layer = GradientReversal()
    x = tf.Variable(np.random.default_rng(0).normal(size=(4, 6)).astype('float32'))
    upstream = np.random.default_rng(1).normal(size=(4, 6)).astype('float32')
    for scale in (0.15, 1.0, 0.0):
        layer(x)
        layer.scale.assign(scale)
        with tf.GradientTape() as tape:
            y = layer(x)
            loss = tf.reduce_sum(y * upstream)
        assert np.allclose(y, x, atol=1e-6)
        assert np.allclose(tape.gradient(loss, x), -scale * upstream, atol=1e-6)


def _domain_gradient(ocr, images, targets, scale):
    set_reversal_scale(ocr.model, scale)
    first_conv = next(layer for layer in ocr.model.layers if isinstance(layer, keras.layers.Conv2D)).kernel
    disc = ocr.model.get_layer('discriminator_hidden').kernel
    with tf.GradientTape() as tape:
        p = ocr.model(images, training=False)[DOMAIN_OUTPUT]
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(targets, p))
    backbone_grad, disc_grad = tape.gradient(loss, [first_conv, disc])
    return backbone_grad.numpy(), disc_grad.numpy()


def test_the_discriminator_gradient_reaches_the_backbone_reversed_and_scaled(charset_file, clear_keras):
    ocr = model.KoOCR(weights=None, charset=charset_file, adversarial_learning=True, **TINY)
    images = np.random.default_rng(0).uniform(0, 255, (6, IMAGE_SIZE, IMAGE_SIZE, 1)).astype('float32')
    targets = np.array([[1], [0], [1], [0], [1], [0]], 'float32')
    plain_backbone, plain_disc = _domain_gradient(ocr, images, targets, -1.0)  # scale -1: no reversal at all
    reversed_backbone, reversed_disc = _domain_gradient(ocr, images, targets, 0.15)
    assert np.abs(plain_backbone).max() > 0
    assert np.allclose(reversed_backbone, -0.15 * plain_backbone, rtol=1e-4, atol=1e-8)
    assert np.allclose(reversed_disc, plain_disc, atol=1e-7)  # the discriminator itself learns as usual
    alone_backbone, _ = _domain_gradient(ocr, images, targets, 0.0)  # fit_discriminator: nothing reaches it
    assert np.abs(alone_backbone).max() == 0


def test_batches_pair_handwriting_with_printed_twins(patch_dirs, charset_file):
    train_dir, _, counts = patch_dirs
    labeler = Labeler(True, CHARS, ['CHOSUNG', 'JUNGSUNG', 'JONGSUNG', DOMAIN_OUTPUT])
    pairs = PrintedPairs(IMAGE_SIZE)
    dataset = PatchDataset(train_dir, IMAGE_SIZE, labeler, batch_size=8, shuffle=True, printed_pairs=pairs)
    seen = {'printed': 0, 'handwriting': 0}
    for images, targets in dataset.batches():
        domain = targets[DOMAIN_OUTPUT][:, 0]
        assert images.shape[0] == len(domain) == len(targets['CHOSUNG'])
        hand = int(domain.sum())
        seen['handwriting'] += hand
        seen['printed'] += len(domain) - hand
        # The twins are appended last, one per handwriting image, of the same syllables.
        if hand:
            assert (domain[-hand:] == 0).all()
            original = np.flatnonzero(domain == 1)
            assert np.array_equal(targets['JUNGSUNG'][-hand:], targets['JUNGSUNG'][original])
    assert seen['handwriting'] == counts['handwritten_0.npz'] == 15
    assert seen['printed'] == 20 + 10 + 15  # printed patches (less the syllable outside the charset) + twins
    assert np.array_equal(pairs.render('가'), pairs.render('가')) and pairs.render('가').shape == (32, 32)


def test_domain_targets_need_kinds():
    labeler = Labeler(True, CHARS, ['CHOSUNG', 'JUNGSUNG', 'JONGSUNG', DOMAIN_OUTPUT])
    got = labeler.targets(np.array(['가', '각']), np.array(['clova', 'printed']))
    assert got[DOMAIN_OUTPUT].tolist() == [[1.0], [0.0]]
    with pytest.raises(ValueError, match='kind of every image'):
        labeler.targets(np.array(['가']))


def test_adversarial_training_from_the_script_resumes_and_ships_without_the_discriminator(
        patch_dirs, tmp_path, charset_file):
    train_dir, val_dir, _ = patch_dirs
    base = [f'--data_path={train_dir}', f'--val_path={val_dir}', f'--log_dir={tmp_path}', '--network=compact',
            '--width=0.25', f'--image_size={IMAGE_SIZE}', f'--charset={charset_file}', '--silent_mode=true',
            '--batch_size=8', '--log_tensorboard=false']
    train.main(base + ['--adversarial_learning=true', '--adversarial_ratio=0.3', '--epochs=1'])
    header = (tmp_path / 'history.csv').read_text().splitlines()[0]
    assert 'domain_loss' in header and 'domain_accuracy' in header and 'val_top1' in header
    checkpoint = keras.models.load_model(str(tmp_path / 'best.keras'))  # no custom objects
    assert DOMAIN_OUTPUT in checkpoint.output_names
    assert float(checkpoint.get_layer('gradient_reversal').scale) == pytest.approx(0.3)
    train.main([f'--weights={tmp_path}/', *base, '--epochs=2'])  # resumes with the discriminator
    assert len((tmp_path / 'history.csv').read_text().splitlines()) == 3

    ocr = model.KoOCR(weights=str(tmp_path / 'weights.h5'), runtime='keras')
    shipped = tmp_path / 'shipped.keras'
    ocr.save(str(shipped))
    served = keras.models.load_model(str(shipped))
    assert DOMAIN_OUTPUT not in served.output_names
    plain = network.build_model('compact', IMAGE_SIZE, True, len(CHARS), 'GWAP', width=0.25)
    assert served.count_params() == plain.count_params()  # no extra cost at inference
    images = np.random.default_rng(0).uniform(0, 255, (3, IMAGE_SIZE, IMAGE_SIZE, 1)).astype('float32')
    full, bare = ocr.model.predict_on_batch(images), served.predict_on_batch(images)
    assert all(np.allclose(full[name], bare[name], atol=1e-5) for name in bare)
    assert model.KoOCR(weights=str(shipped)).predict(images[0, ..., 0], n=3) == ocr.predict(images[0, ..., 0], n=3)


def test_fit_discriminator_learns_alone_and_needs_a_discriminator(patch_dirs, tmp_path, charset_file):
    train_dir, _, _ = patch_dirs
    options = dict(data_path=train_dir, val_path='', log_dir=str(tmp_path), epochs=1, batch_size=8,
                   silent_mode=True, log_tensorboard=False)
    ocr = model.KoOCR(weights=None, charset=charset_file, adversarial_learning=True, **TINY)
    ocr.train(fit_discriminator=True, **options)
    assert float(ocr.model.get_layer('gradient_reversal').scale) == 0.0
    assert sorted(inference_model(ocr.model).output_names) == ['CHOSUNG', 'JONGSUNG', 'JUNGSUNG']
    plain = model.KoOCR(weights=None, charset=charset_file, **TINY)
    with pytest.raises(ValueError, match='adversarial_learning=True'):
        plain.train(fit_discriminator=True, **options)
    with pytest.raises(ValueError, match='no discriminator'):
        set_reversal_scale(plain.model, 0.1)
