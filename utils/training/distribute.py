"""The tf.distribute strategy for this machine: workers from TF_CONFIG, several GPUs, or one device."""
import json
import os

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
