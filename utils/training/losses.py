"""The training losses by name: cross-entropy, and the hybrid loss after Kim, Choi & Lee (IJDAR 2016).

The paper (behind a paywall here; we read its abstract) embeds discriminators of similar classes beside the
recognizer in one shared CNN and learns recognition and discrimination together, with no predefined sets of
similar classes. Our form of it: cross-entropy, plus for each image a pairwise discrimination term between
its true class and the class the recognizer confuses it with most right now (the best-scoring wrong class),
a logistic loss on their log-probability margin. The hard pair is chosen afresh every step, so the network
learns to tell apart exactly the classes it mixes up.
"""
import keras
from keras import ops

from utils.config import LOSSES

_EPSILON = 1e-7


@keras.saving.register_keras_serializable(package='koocr')
class HybridLoss(keras.losses.Loss):
    """Sparse cross-entropy + ``weight`` · softplus(``margin`` − (log p(true) − log p(most confused wrong
    class))), on softmax probabilities. At weight 0 it is the cross-entropy exactly."""

    def __init__(self, weight=0.5, margin=1.0, name='hybrid', **kwargs):
        super().__init__(name=name, **kwargs)
        self.weight, self.margin = float(weight), float(margin)

    def call(self, y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        truth = ops.one_hot(ops.reshape(ops.cast(y_true, 'int32'), (-1,)), classes, dtype=y_pred.dtype)
        log_p = ops.log(ops.clip(y_pred, _EPSILON, 1.0))
        true_log_p = ops.sum(truth * log_p, axis=-1)
        confused_log_p = ops.max(ops.where(truth > 0, -1e9, log_p), axis=-1)
        return -true_log_p + self.weight * ops.softplus(self.margin - (true_log_p - confused_log_p))

    def get_config(self):
        return {**super().get_config(), 'weight': self.weight, 'margin': self.margin}


def get_loss(name, hybrid_weight=0.5):
    """A class-output loss by name (``LOSSES``)."""
    if name == 'hybrid':
        return HybridLoss(hybrid_weight)
    if name == 'crossentropy':
        return 'sparse_categorical_crossentropy'
    raise ValueError(f'unknown loss {name!r}; choose from {LOSSES}')
