"""Heads: pool the feature map (``fc_link``), a dense layer, then jamo or whole-character softmaxes."""
import keras

from network.layers import pooling_layer
from utils.data.hangul import output_sizes


def apply_head(features, split_components, charset_size, fc_link='GWAP', units=512, dropout=0.3, suffix=''):
    """Feature map -> {output name: softmax probabilities}; ``suffix`` ends the output layers' names."""
    x = pooling_layer(fc_link)(features)
    x = keras.layers.Dense(units, use_bias=False, name='fc')(x)
    x = keras.layers.BatchNormalization(name='fc_bn')(x)
    x = keras.layers.ReLU(name='fc_relu')(x)
    x = keras.layers.Dropout(dropout, name='fc_dropout')(x)
    return {name: keras.layers.Dense(size, activation='softmax', name=name + suffix)(x)
            for name, size in output_sizes(split_components, charset_size).items()}
