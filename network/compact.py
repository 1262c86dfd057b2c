"""The CPU network we ship: dense 3×3 convolutions at low resolution after a stride-2 stem.

Depthwise convolutions use these CPUs worst per MAC, and full-resolution stems cost most in memory
traffic (see FACTS.md), so the stem halves the image and every later stage is plain 3×3 conv-BN-ReLU.
~45 MMACs and ~0.9M parameters at 48 px; ~200 img/s training on 2 cores.
"""
from network.blocks import conv_bn_relu, max_pool

STAGES = ((32,), (96, 96), (192, 256))


def build(x, width=1.0):
    x = conv_bn_relu(x, int(32 * width), 'stem', strides=2)
    for stage, filters in enumerate(STAGES):
        if stage:
            x = max_pool(x, f'stage{stage}_pool')
        for block, f in enumerate(filters):
            x = conv_bn_relu(x, int(f * width), f'stage{stage}_block{block}')
    return x
