"""Network registry: ``--network`` name -> backbone builder, and the whole model around it."""
import keras

from network import applications, compact, densenet, fire, melnyk
from network.adversarial import apply_discriminator
from network.augment import GlyphAugmentation
from network.decoder import apply_decoder
from network.heads import apply_head
from network.layers import DirectMap, InkScale
from network.refinement import apply_refinement, step_name
from utils.data.hangul import DOMAIN_OUTPUT, output_sizes

BACKBONES = {'melnyk': melnyk.build, 'fire': fire.build, 'compact': compact.build, 'densenet': densenet.build,
             **{name: applications.builder(name) for name in applications.APPLICATIONS}}
FEATURES_LAYER = 'features'  # the backbone's last feature map: Grad-CAM looks here


def build_model(network='melnyk', image_size=96, split_components=True, charset_size=2350,
                fc_link='GWAP', direct_map=False, data_augmentation=False, width=1.0, info=None,
                refinement_steps=0, adversarial=False, decoder=False):
    """Input (S, S, 1) ink-dark image -> dict of softmax outputs (see ``network.heads``).

    ``info``: a ``ModelInfo`` layer that carries the options and charset inside the saved model.
    ``refinement_steps``: t > 0 adds iterative refinement; every step's answers are outputs too.
    ``adversarial``: adds the discriminator of adversarial learning (an output for training only).
    ``decoder``: the jamo heads are the steps of a DenseRAN-style attention decoder (``network.decoder``)."""
    if network not in BACKBONES:
        raise ValueError(f'network={network!r}; choose from {sorted(BACKBONES)}')
    inputs = keras.Input((image_size, image_size, 1), name='image')
    x = InkScale(name='ink_scale')(info(inputs) if info is not None else inputs)
    if data_augmentation:
        x = GlyphAugmentation(name='augmentation')(x)
    if direct_map:
        x = DirectMap(name='direct_map')(x)
    x = BACKBONES[network](x, width=width)
    features = keras.layers.Identity(name=FEATURES_LAYER)(x)
    if decoder:
        if not split_components or refinement_steps:
            raise ValueError('the jamo decoder reads jamo: it needs split_components and no refinement')
        outputs = apply_decoder(features)
    elif refinement_steps:
        first = apply_head(features, split_components, charset_size, fc_link, suffix=step_name('', 0))
        outputs = apply_refinement(features, first, refinement_steps)
    else:
        outputs = apply_head(features, split_components, charset_size, fc_link)
    if adversarial:
        answers = {name: outputs[name] for name in output_sizes(split_components, charset_size)}
        outputs[DOMAIN_OUTPUT] = apply_discriminator(features, answers)
    return keras.Model(inputs, outputs, name=f'koocr_{network.replace("-", "_")}')
