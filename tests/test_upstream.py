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


# Two workers of MultiWorkerMirroredStrategy fitting a tiny model: 'none' as Keras ships it, 'first' with only
# the first of fit_under_multi_worker's two workarounds kept. Prints the error each worker's fit raised.
MULTI_WORKER_FIT = '''
import sys
import numpy as np
import tensorflow as tf
import keras
sys.path.insert(0, sys.argv[2])
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation='softmax')])
    model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])
data = tf.data.Dataset.from_tensor_slices((np.zeros((16, 4), 'float32'), np.zeros(16, 'int32'))).batch(8)
if sys.argv[1] == 'first':
    from keras.src.backend.tensorflow import trainer
    from utils.training.distribute import fit_under_multi_worker
    keras_reduce = trainer.reduce_per_replica
    fit_under_multi_worker(model)
    trainer.reduce_per_replica = keras_reduce
try:
    model.fit(data, epochs=1, verbose=0)
    print('fit worked')
except ValueError as e:
    print(str(e).replace(chr(10), ' ')[:200])
'''


def _two_worker_fit(stage):
    import json
    import os
    import socket
    import subprocess
    import sys

    from conftest import ROOT
    sockets = [socket.socket() for _ in range(2)]
    for s in sockets:
        s.bind(('127.0.0.1', 0))
    cluster = {'worker': [f'127.0.0.1:{s.getsockname()[1]}' for s in sockets]}
    for s in sockets:
        s.close()
    workers = [subprocess.Popen(
        [sys.executable, '-c', MULTI_WORKER_FIT, stage, ROOT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', TF_CONFIG=json.dumps(
            {'cluster': cluster, 'task': {'type': 'worker', 'index': index}}))) for index in range(2)]
    return [worker.communicate(timeout=180)[0].strip().splitlines()[-1] for worker in workers]


def test_keras_fit_under_multi_worker_fails_on_its_first_batch_and_on_scalar_metrics():
    """Worked around by ``utils.training.distribute.fit_under_multi_worker`` (keras-team/keras#20585): under
    MultiWorkerMirroredStrategy, Keras 3.15's fit averages the first batch across workers outside a replica
    context, then averages scalar metrics along an axis they do not have."""
    assert all('Attempt to convert a value (PerReplica' in answer for answer in _two_worker_fit('none')), (
        'Keras builds under MultiWorkerMirroredStrategy: the symbolic-build workaround can go')
    assert all('Invalid reduction dimension 0' in answer for answer in _two_worker_fit('first')), (
        'Keras averages scalar metrics across workers: the reduce_per_replica workaround can go')
