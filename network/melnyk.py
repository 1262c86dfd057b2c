"""Melnyk-net: stacked 3×3 conv-BN-ReLU blocks with max pooling, ending in the fc_link head.

Melnyk, Zhou, Zhu et al., "A High-Performance CNN Method for Offline Handwritten Chinese Character
Recognition and Visualization", 2018. The layer list follows the paper's; ``width`` scales it.
A GPU configuration: ~4.9M parameters, 533 MMACs at 64 px (bench/README.md).
"""
from network.blocks import apply_conv_stages

STAGES = ((64, 64), (96, 64, 96), (128, 96, 128), (256, 192, 256), (448, 256, 448))


def build(x, width=1.0):
    return apply_conv_stages(x, STAGES, width)
