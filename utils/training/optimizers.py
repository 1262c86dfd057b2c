"""Optimizers chosen by name for training flags and ``KoOCR(optimizer=...)``."""
import logging

import keras
import numpy as np

from utils.config import OPTIMIZERS as OPTIMIZER_NAMES
from utils.training.adabound import AdaBound

log = logging.getLogger(f'koocr.{__name__}')


def get_optimizer(name, learning_rate):
    """A fresh optimizer instance for ``name`` (one of OPTIMIZER_NAMES) at ``learning_rate``."""
    if name == 'sgd':
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    if name == 'adam':
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == 'adabound':
        return AdaBound(learning_rate=learning_rate)
    raise ValueError(f'Unknown optimizer {name!r}; choose one of {", ".join(OPTIMIZER_NAMES)}')


def restore_h5_optimizer(loaded, path):
    """Keras 3.15 builds an .h5 model's optimizer over ``model._trainable_variables`` (empty for a
    functional model): the saved slots are dropped and the first training step fails ("Unknown
    variable"), so resuming from the original's weights.h5 broke. Build it over the model's variables and
    load the saved state."""
    import h5py
    from keras.src.legacy.saving.legacy_h5_format import load_optimizer_weights_from_hdf5_group

    optimizer = type(loaded.optimizer).from_config(loaded.optimizer.get_config())
    optimizer.build(loaded.trainable_variables)
    with h5py.File(path, 'r') as f:
        values = load_optimizer_weights_from_hdf5_group(f) if 'optimizer_weights' in f else []
        if len(values) == len(optimizer.variables):
            optimizer.set_weights([np.asarray(v) for v in values])
        elif values:
            log.warning(f'KoOCR: {path}: its optimizer state does not fit the model ({len(values)} saved '
                        f'values, {len(optimizer.variables)} expected); training restarts the optimizer')
    loaded.optimizer = optimizer
