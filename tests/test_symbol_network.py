"""The line reader's symbol network: shape, a training step, and a save/load round trip without custom
objects beyond the registered ones."""
import numpy as np

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


def test_class_weights_weigh_rare_classes_up_and_average_one_per_example():
    from network.symbols import class_weights
    classes = np.array([0] * 900 + [1] * 90 + [2] * 10)
    weights = class_weights(classes, 4, 0.5)
    assert np.isclose(weights[1] / weights[0], 10 ** 0.5) and np.isclose(weights[2] / weights[1], 3.0)
    assert np.isclose(sum(weights[c] for c in classes) / len(classes), 1.0)
    assert all(np.isclose(class_weights(classes, 4, 0.0)[c], 1.0) for c in range(3))
    kept = class_weights(classes, 4, 0.5, kept=(0,))
    assert kept[0] == 1.0 and np.isclose(kept[2] / kept[1], 3.0)
    assert np.isclose(90 * kept[1] + 10 * kept[2], 100)


def test_training_with_rare_symbols_weighed_up_runs():
    from network.symbols import train_symbol_network
    rng = np.random.default_rng(0)
    views = rng.uniform(0, 255, (32, SYMBOL_SIDE, SYMBOL_SIDE)).astype(np.uint8)
    classes = np.array([0] * 20 + [1] * 8 + [5] * 3 + [7])
    network, history = train_symbol_network(views, classes, len(SYMBOL_CLASSES), epochs=2, batch_size=8,
                                            width=4, balance=0.5, kept=(0, 1))
    assert network.output_shape == (None, len(SYMBOL_CLASSES))
    assert len(history.history['loss']) == 2 and np.isfinite(history.history['loss']).all()
