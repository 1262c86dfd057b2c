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
