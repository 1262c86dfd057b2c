"""Blocks shared by the backbones: plain functions over Keras tensors, every layer named."""
import keras


def conv_bn_relu(x, filters, name, kernel_size=3, strides=1):
    """3×3 convolution (no bias), batch norm, ReLU."""
    x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding='same', use_bias=False,
                            name=f'{name}_conv')(x)
    x = keras.layers.BatchNormalization(name=f'{name}_bn')(x)
    return keras.layers.ReLU(name=f'{name}_relu')(x)


def max_pool(x, name):
    return keras.layers.MaxPooling2D(2, padding='same', name=name)(x)


def apply_conv_stages(x, stages, width=1.0):
    """Stages of 3×3 conv-BN-ReLU blocks (``stages``: filters per block, per stage), 2×2 max pooling
    between stages."""
    for stage, filters in enumerate(stages):
        if stage:
            x = max_pool(x, f'stage{stage}_pool')
        for block, f in enumerate(filters):
            x = conv_bn_relu(x, int(f * width), f'stage{stage}_block{block}')
    return x
