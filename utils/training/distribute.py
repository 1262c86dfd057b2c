"""The tf.distribute strategy for this machine: workers from TF_CONFIG, several GPUs, or one device."""
import json
import os

import keras
import tensorflow as tf

_strategy = None


def choose_strategy():
    """MultiWorkerMirrored when TF_CONFIG names a cluster, Mirrored on 2+ GPUs, else the default (one
    device). Chosen once per process: TensorFlow allows one multi-worker strategy per process.
    Inside a caller's own ``strategy.scope()`` that strategy is used: scopes must not nest."""
    global _strategy
    if tf.distribute.has_strategy():
        return tf.distribute.get_strategy()
    if _strategy is None:
        cluster = json.loads(os.environ.get('TF_CONFIG', '{}')).get('cluster')
        if cluster:
            _strategy = tf.distribute.MultiWorkerMirroredStrategy()
        elif len(tf.config.list_logical_devices('GPU')) > 1:
            _strategy = tf.distribute.MirroredStrategy()
        else:
            _strategy = tf.distribute.get_strategy()
    return _strategy


def worker():
    """(task type, index) of this process in TF_CONFIG's cluster; ('chief', 0) when there is no cluster."""
    task = json.loads(os.environ.get('TF_CONFIG', '{}')).get('task') or {}
    return task.get('type', 'chief'), int(task.get('index', 0))


def is_chief():
    """The process that keeps the logs: the cluster's chief, or worker 0 when the cluster names no chief."""
    cluster = json.loads(os.environ.get('TF_CONFIG', '{}')).get('cluster') or {}
    kind, index = worker()
    return kind == 'chief' or (kind == 'worker' and index == 0 and 'chief' not in cluster)


def synchronize_batch_norm(model):
    """Over several replicas (GPUs, workers), every batch normalization of ``model`` (nested backbones
    included) normalizes by the global batch's statistics, so every replica keeps the same moving mean and
    variance; on one device nothing changes."""
    if model.distribute_strategy.num_replicas_in_sync < 2:
        return
    layers = list(model.layers)
    while layers:
        layer = layers.pop()
        layers += getattr(layer, 'layers', [])  # nested backbones (keras.applications), low-rank pairs
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def fit_under_multi_worker(model):
    """Two workarounds for Keras 3.15's ``fit`` under MultiWorkerMirroredStrategy (keras-team/keras#20585),
    applied only under that strategy:
    - ``fit`` first averages a batch across workers to learn its shapes, and that reduction fails outside a
      replica context ("Attempt to convert a value (PerReplica...)"): shapes need no other worker, so the
      model is built from this worker's own replica;
    - each step averages the metrics across workers along axis 0, which a scalar has not ("Invalid
      reduction dimension 0"): scalars are averaged whole."""
    strategy = model.distribute_strategy
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    from keras.src.backend.tensorflow import trainer
    if not getattr(trainer.reduce_per_replica, 'scalar_safe', False):
        keras_reduce = trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if reduction in ('mean', 'auto') and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
                return tf.nest.map_structure(lambda value: strategy.reduce('MEAN', value, axis=None), values)
            return keras_reduce(values, strategy, reduction)

        reduce_per_replica.scalar_safe = True
        trainer.reduce_per_replica = reduce_per_replica

    def build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(lambda value: strategy.experimental_local_results(value)[0],
                                                   next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = build
