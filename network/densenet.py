"""A small DenseNet (Huang et al., CVPR 2017), the encoder of DenseRAN (Wang et al., ICFHR 2018): a stride-2
stem, then dense blocks (each layer's 3×3 output joined to everything before it, a 1×1 bottleneck first)
with 1×1 transitions and 2×2 average pooling between them. At 48 px the feature map is 6×6."""
import keras

from network.blocks import conv_bn_relu

BLOCKS = (4, 4, 4)  # layers per dense block
GROWTH = 24


def dense_layer(x, growth, name):
    y = conv_bn_relu(x, 4 * growth, f'{name}_bottleneck', kernel_size=1)
    y = conv_bn_relu(y, growth, name)
    return keras.layers.Concatenate(name=f'{name}_join')([x, y])


def transition(x, name):
    x = keras.layers.Conv2D(x.shape[-1] // 2, 1, use_bias=False, name=f'{name}_conv')(x)
    x = keras.layers.BatchNormalization(name=f'{name}_bn')(x)
    x = keras.layers.ReLU(name=f'{name}_relu')(x)
    return keras.layers.AveragePooling2D(2, padding='same', name=f'{name}_pool')(x)


def build(x, width=1.0):
    growth = max(4, int(GROWTH * width))
    x = conv_bn_relu(x, 2 * growth, 'stem', strides=2)
    for block, layers in enumerate(BLOCKS):
        if block:
            x = transition(x, f'transition{block}')
        for layer in range(layers):
            x = dense_layer(x, growth, f'dense{block}_{layer}')
    return x
