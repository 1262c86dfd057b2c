"""Optimizers chosen by name for training flags and ``KoOCR(optimizer=...)``."""
import keras

from utils.training.adabound import AdaBound

OPTIMIZER_NAMES = ('sgd', 'adam', 'adabound')


def get_optimizer(name, learning_rate):
    """A fresh optimizer instance for ``name`` (one of OPTIMIZER_NAMES) at ``learning_rate``."""
    if name == 'sgd':
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    if name == 'adam':
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == 'adabound':
        return AdaBound(learning_rate=learning_rate)
    raise ValueError(f'Unknown optimizer {name!r}; choose one of {", ".join(OPTIMIZER_NAMES)}')
