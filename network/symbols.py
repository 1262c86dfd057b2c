"""The line reader's symbol network: a column of a text line, the line's full height kept -> one of
``utils.data.symbols.SYMBOL_CLASSES`` (Hangul, not a whole character, or a digit, letter or mark).

Flattened, not pooled: where the ink sits in the line's height is what tells a full stop from a middle
dot and a comma from an apostrophe."""
import keras
import numpy as np

from network.layers import InkScale


def _conv(x, filters, name):
    x = keras.layers.Conv2D(filters, 3, padding='same', use_bias=False, name=f'{name}_conv')(x)
    x = keras.layers.BatchNormalization(name=f'{name}_bn')(x)
    return keras.layers.ReLU(name=f'{name}_relu')(x)


def build_symbol_network(classes, side=32, width=16, dropout=0.3):
    """uint8-range (side, side[, 1]) symbol views -> softmax 'symbol' over ``classes`` classes
    (``len(SYMBOL_CLASSES)``). Small on purpose: a line asks it about twice as many views as it has
    characters."""
    inputs = keras.Input((side, side, 1), name='view')
    x = InkScale(name='ink_scale')(inputs)
    x = _conv(x, width, 'stage0_a')
    x = keras.layers.MaxPooling2D(name='stage0_pool')(x)
    for stage, filters in ((1, 2 * width), (2, 4 * width)):
        x = _conv(x, filters, f'stage{stage}_a')
        x = _conv(x, filters, f'stage{stage}_b')
        x = keras.layers.MaxPooling2D(name=f'stage{stage}_pool')(x)
    x = keras.layers.Flatten(name='flatten')(x)
    x = keras.layers.Dropout(dropout, name='dropout')(x)
    x = keras.layers.Dense(256, activation='relu', name='fc')(x)
    outputs = keras.layers.Dense(classes, activation='softmax', name='symbol')(x)
    return keras.Model(inputs, outputs, name='symbol_network')


def train_symbol_network(views, classes, class_count, epochs, batch_size=128, learning_rate=0.002, seed=0,
                         width=16, validation=None, class_weight=None, ema=0.0):
    """(network, history): a symbol network over ``class_count`` classes, fitted to uint8 (N, side, side)
    views and their classes by Adam on a cosine schedule, each class's examples weighed by ``class_weight``
    ({class: weight}, None: all alike); ``validation``: (views, classes) scored each epoch (with the weights
    of the moment). ``ema``: when above 0, the network ends with the moving average of its weights over the
    steps, at that momentum (0.999: about the last thousand)."""
    keras.utils.set_random_seed(seed)
    network = build_symbol_network(class_count, views.shape[1], width=width)
    steps = epochs * int(np.ceil(len(views) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    optimizer = keras.optimizers.Adam(schedule, use_ema=ema > 0, ema_momentum=ema or 0.99)
    network.compile(optimizer, 'sparse_categorical_crossentropy', metrics=['accuracy'])
    history = network.fit(views[..., None], classes, batch_size=batch_size, epochs=epochs, verbose=2,
                          class_weight=class_weight,
                          validation_data=None if validation is None else (validation[0][..., None], validation[1]))
    return network, history


def merge_symbol_networks(networks):
    """One network that reads as ``networks`` together: each one's features (what its softmax head reads) side
    by side, and one softmax head whose logits are the mean of theirs, so its probabilities are the
    renormalized geometric mean of theirs. Still one body and one softmax Dense head, as the int8 twin needs."""
    views = keras.Input(networks[0].inputs[0].shape[1:], name='view')
    features = [keras.Model(network.inputs, network.get_layer('symbol').input, name=f'member{k}')(views)
                for k, network in enumerate(networks)]
    kernels, biases = zip(*(network.get_layer('symbol').get_weights() for network in networks))
    head = keras.layers.Dense(len(biases[0]), activation='softmax', name='symbol')
    outputs = head(keras.layers.Concatenate(name='members')(features))
    head.set_weights([np.concatenate(kernels) / len(networks), np.mean(biases, axis=0)])
    return keras.Model(views, outputs, name='symbol_networks')
