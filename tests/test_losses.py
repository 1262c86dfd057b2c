"""The hybrid loss: cross-entropy plus a pairwise term against each image's most confused class."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import train
from utils.config import TrainConfig
from utils.training.losses import HybridLoss, get_loss

LOGITS = np.array([[2.0, 1.5, -1.0, 0.0], [0.1, 0.2, 3.0, -0.5], [1.0, 1.0, 1.0, 1.0]], np.float32)
LABELS = np.array([0, 2, 3])


def _value_and_gradient(loss):
    logits = tf.Variable(LOGITS)
    with tf.GradientTape() as tape:
        value = loss(LABELS, tf.nn.softmax(logits))
    return float(value), tape.gradient(value, logits).numpy()


def test_weight_zero_is_cross_entropy_and_the_term_changes_the_gradient():
    cross_entropy = keras.losses.SparseCategoricalCrossentropy()
    value, gradient = _value_and_gradient(cross_entropy)
    zero_value, zero_gradient = _value_and_gradient(HybridLoss(weight=0.0))
    assert zero_value == pytest.approx(value, rel=1e-5)
    np.testing.assert_allclose(zero_gradient, gradient, atol=1e-6)
    hybrid_value, hybrid_gradient = _value_and_gradient(HybridLoss(weight=0.5))
    assert hybrid_value > value
    assert np.abs(hybrid_gradient - gradient).max() > 1e-3


def test_the_term_pushes_the_true_class_against_its_most_confused_rival_only():
    logits = tf.Variable(LOGITS[:1])  # true 0; rival 1 (1.5) beats 3 (0.0) and 2 (-1.0)
    with tf.GradientTape() as tape:
        probabilities = tf.nn.softmax(logits)
        log_p = tf.math.log(probabilities)
        term = HybridLoss(weight=1.0)(LABELS[:1], probabilities) + log_p[0, 0]  # the term alone
    gradient = tape.gradient(term, logits).numpy()[0]
    assert gradient[0] < 0 < gradient[1] and gradient[2] == pytest.approx(0, abs=1e-6)
    assert gradient[3] == pytest.approx(0, abs=1e-6)


def test_serializes_and_is_chosen_by_name():
    loss = HybridLoss(weight=0.3, margin=2.0)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, HybridLoss) and (again.weight, again.margin) == (0.3, 2.0)
    assert isinstance(get_loss('hybrid', 0.2), HybridLoss) and get_loss('hybrid', 0.2).weight == 0.2
    assert get_loss('crossentropy') == 'sparse_categorical_crossentropy'
    with pytest.raises(ValueError, match="loss='focal'; choose from"):
        TrainConfig(loss='focal')
    with pytest.raises(ValueError, match='hybrid_weight'):
        TrainConfig(hybrid_weight=-1)


@pytest.mark.slow
def test_train_py_trains_with_the_hybrid_loss_and_resumes(patch_dirs, tmp_path, charset_file):
    train_dir, val_dir, _ = patch_dirs
    log_dir = str(tmp_path / 'logs')
    flags = ['--network=compact', '--width=0.25', '--image_size=32', '--batch_size=16', f'--data_path={train_dir}',
             f'--val_path={val_dir}', f'--charset={charset_file}', f'--log_dir={log_dir}', '--optimizer=adam',
             '--log_tensorboard=false', '--silent_mode=true', '--loss=hybrid', '--hybrid_weight=0.4']
    ocr = train.main([*flags, '--epochs=1'])
    assert all(isinstance(loss, HybridLoss) and loss.weight == 0.4 for loss in ocr.model.loss.values())
    resumed = train.main([*flags, '--epochs=2', f'--weights={log_dir}'])
    assert int(resumed.model.optimizer.iterations) > int(ocr.model.optimizer.iterations)
