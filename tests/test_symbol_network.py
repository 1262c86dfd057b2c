"""The line reader's symbol network: shape, a training step, and a save/load round trip without custom
objects beyond the registered ones."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from utils.data.symbols import SYMBOL_CLASSES
from utils.inference.segment import SYMBOL_SIDE


def test_symbol_network_trains_saves_and_loads(tmp_path):
    import keras

    from network.symbols import build_symbol_network
    network = build_symbol_network(len(SYMBOL_CLASSES), SYMBOL_SIDE, width=4)
    views = np.random.default_rng(0).uniform(0, 255, (8, SYMBOL_SIDE, SYMBOL_SIDE, 1)).astype(np.float32)
    probabilities = network.predict_on_batch(views)
    assert probabilities.shape == (8, len(SYMBOL_CLASSES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    network.compile('adam', 'sparse_categorical_crossentropy')
    before = [w.copy() for w in network.get_weights()]
    network.fit(views, np.arange(8), epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, network.get_weights()))
    path = str(tmp_path / 'symbols.keras')
    network.save(path)
    np.testing.assert_allclose(keras.models.load_model(path).predict_on_batch(views),
                               network.predict_on_batch(views), atol=1e-6)



def test_class_weights_weigh_rare_symbols_up_and_keep_hangul_and_fragments():
    from utils.data.symbols import FRAGMENT_CLASS, HANGUL_CLASS
    from utils.training.symbol_data import class_weights
    classes = np.array([HANGUL_CLASS] * 500 + [FRAGMENT_CLASS] * 400 + [5] * 90 + [6] * 10)
    assert class_weights(classes, 0.0) is None
    weights = class_weights(classes, 0.5)
    assert weights[HANGUL_CLASS] == weights[FRAGMENT_CLASS] == 1.0
    assert np.isclose(weights[6] / weights[5], 3.0)               # (90 / 10) ** 0.5
    assert np.isclose(90 * weights[5] + 10 * weights[6], 100)     # the symbols weigh as much in all


def test_training_with_class_weights_runs():
    from network.symbols import train_symbol_network
    from utils.training.symbol_data import class_weights
    rng = np.random.default_rng(0)
    views = rng.uniform(0, 255, (32, SYMBOL_SIDE, SYMBOL_SIDE)).astype(np.uint8)
    classes = np.array([0] * 20 + [1] * 8 + [5] * 3 + [7])
    network, history = train_symbol_network(views, classes, len(SYMBOL_CLASSES), epochs=2, batch_size=8,
                                            width=4, class_weight=class_weights(classes, 0.5))
    assert network.output_shape == (None, len(SYMBOL_CLASSES))
    assert len(history.history['loss']) == 2 and np.isfinite(history.history['loss']).all()


def test_training_can_end_on_the_moving_average_of_the_weights():
    import keras

    from network.symbols import build_symbol_network, train_symbol_network
    rng = np.random.default_rng(0)
    views = rng.uniform(0, 255, (32, SYMBOL_SIDE, SYMBOL_SIDE)).astype(np.uint8)
    classes = rng.integers(0, 8, 32)
    keras.utils.set_random_seed(0)   # as train_symbol_network seeds itself: the same starting weights
    start, = build_symbol_network(len(SYMBOL_CLASSES), SYMBOL_SIDE, width=4).get_layer('fc').get_weights()[:1]

    def moved(ema):
        network, _ = train_symbol_network(views, classes, len(SYMBOL_CLASSES), epochs=4, batch_size=8, width=4,
                                          ema=ema)
        return np.abs(network.get_layer('fc').get_weights()[0] - start).mean()
    plain = moved(0.0)
    # Keras starts the average at the first step's weights; 15 steps more hardly move an average of ~10,000.
    assert plain > 0 and moved(0.9999) < 0.4 * plain


def test_merged_networks_read_as_the_geometric_mean_of_theirs_and_keep_one_head(tmp_path):
    import keras

    from network.symbols import build_symbol_network, merge_symbol_networks
    from utils.inference.line_twins import split_heads
    rng = np.random.default_rng(0)
    networks = []
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        network = build_symbol_network(len(SYMBOL_CLASSES), SYMBOL_SIDE, width=4)
        kernel, _ = network.get_layer('symbol').get_weights()
        network.get_layer('symbol').set_weights([5 * kernel, rng.normal(0, 1, len(SYMBOL_CLASSES)).astype(np.float32)])
        networks.append(network)
    merged = merge_symbol_networks(networks)
    views = rng.uniform(0, 255, (6, SYMBOL_SIDE, SYMBOL_SIDE, 1)).astype(np.float32)
    first, second = (network.predict_on_batch(views) for network in networks)
    assert np.abs(np.log(first) - np.log(second)).max() > 1   # two networks that disagree
    expected = np.sqrt(first * second)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(merged.predict_on_batch(views), expected, atol=1e-5)
    path = str(tmp_path / 'symbols.keras')
    merged.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict_on_batch(views), expected, atol=1e-5)
    body, heads = split_heads(loaded)   # what the int8 twin is made of
    assert body.output.shape[-1] == 2 * networks[0].get_layer('symbol').input.shape[-1] and list(heads) == ['symbol']


@pytest.mark.slow
def test_train_lines_merges_its_members_into_one_network(tmp_path):
    import keras

    import network.layers  # noqa: F401  (registers the layers the file is made of)

    out = tmp_path / 'symbols.keras'
    result = subprocess.run([sys.executable, 'train_lines.py', '--steps', 'symbols', '--members', '2',
                             '--lines_per_face', '1', '--val_lines_per_face', '1', '--epochs', '1', '--out', str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((tmp_path / 'symbols.json').read_text())
    assert [member['seed'] for member in record['members']] == [0, 1] and 0 < record['heldout_accuracy'] <= 1
    network = keras.models.load_model(out)
    assert [layer.name for layer in network.layers if isinstance(layer, keras.Model)] == ['member0', 'member1']
