"""Fire-module network: squeeze 1×1, then expand 1×1 ‖ 3×3, with batch norm.

Li et al., "Building Efficient CNN Architecture for Offline Handwritten Chinese Character Recognition",
2018 (fire modules from SqueezeNet). The squeeze really feeds the expands: the original's block skipped it.
"""
import keras

from network.blocks import conv_bn_relu, max_pool

# (squeeze, expand) per fire module, stages separated by pooling.
STAGES = (((16, 64), (16, 64)), ((32, 128), (32, 128)), ((48, 192), (48, 192)), ((64, 256), (64, 256)))


def apply_fire_block(x, squeeze, expand, name):
    """Squeeze to ``squeeze`` channels, expand to ``expand`` (half 1×1, half 3×3), concatenated."""
    x = conv_bn_relu(x, squeeze, f'{name}_squeeze', kernel_size=1)
    expand_1 = conv_bn_relu(x, expand // 2, f'{name}_expand1', kernel_size=1)
    expand_3 = conv_bn_relu(x, expand // 2, f'{name}_expand3', kernel_size=3)
    return keras.layers.Concatenate(name=f'{name}_concat')([expand_1, expand_3])


def build(x, width=1.0):
    x = conv_bn_relu(x, int(64 * width), 'stem', strides=2)
    for stage, modules in enumerate(STAGES):
        if stage:
            x = max_pool(x, f'stage{stage}_pool')
        for block, (squeeze, expand) in enumerate(modules):
            x = apply_fire_block(x, int(squeeze * width), int(expand * width), f'stage{stage}_fire{block}')
    return x
