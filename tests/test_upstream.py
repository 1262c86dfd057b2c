"""Upstream bugs we work around, each asserted to be still there: when one of these tests fails, upstream
has fixed the bug, and the workaround named in its docstring can go."""
import keras
import numpy as np


def _trained_functional_model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation='softmax', name='out')(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy', jit_compile=False)
    model.fit(np.ones((4, 4), np.float32), np.zeros((4,), np.int32), epochs=1, verbose=0)
    return model


def test_keras_h5_drops_a_functional_models_optimizer_slots(tmp_path, clear_keras):
    """Worked around by ``utils.training.optimizers.restore_h5_optimizer`` (used by model.load_keras_model):
    Keras 3 builds an .h5 model's optimizer over ``model._trainable_variables``, empty for a functional
    model, so the saved Adam moments are not restored and resuming from weights.h5 lost them."""
    model = _trained_functional_model()
    path = str(tmp_path / 'weights.h5')
    model.save(path)
    loaded = keras.models.load_model(path)
    saved_slots = len(model.optimizer.variables)
    assert len(loaded.optimizer.variables) < saved_slots, (
        f'Keras {keras.__version__} restores the .h5 optimizer state: restore_h5_optimizer can go')


def test_keras_h5_save_pops_the_optimizer_from_the_compile_config(tmp_path, clear_keras):
    """Worked around in ``utils.training.callbacks.save_model``: saving as .h5 pops 'optimizer' from the
    model's compile config, so a later .keras save of the same model reloads with RMSprop."""
    model = _trained_functional_model()
    assert 'optimizer' in model._compile_config.config
    model.save(str(tmp_path / 'weights.h5'))
    assert 'optimizer' not in model._compile_config.config, (
        f'Keras {keras.__version__} keeps the compile config: the fix-up in save_model can go')


def test_the_workarounds_undo_both_bugs(tmp_path, clear_keras):
    from utils.training.callbacks import save_model
    from utils.training.optimizers import restore_h5_optimizer
    model = _trained_functional_model()
    path = str(tmp_path / 'weights.h5')
    save_model(model, path)
    assert model._compile_config.config['optimizer'] is model.optimizer
    loaded = keras.models.load_model(path)
    restore_h5_optimizer(loaded, path)
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    for got, expected in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected))
