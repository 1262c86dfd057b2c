"""Adversarial feature learning guided by printed data: a discriminator on the backbone's pooled features
tells printed from handwriting-style images, and a gradient-reversal layer pushes the backbone the other
way, towards features that do not depend on the writer.

Zhang, Liu et al., "Robust offline handwritten character recognition through exploring writer-independent
features under the guidance of printed data", Pattern Recognition Letters 2018.

The discriminator is conditioned on the class: it sees the features beside the model's own jamo (or
syllable) probabilities, held fixed. Unconditioned, it could be fooled by features that merely share the
printed features' spread while a handwritten 가 lands where a printed 나 does; conditioned, printed and
handwriting features of the same syllable must meet. The model's probabilities stand in for the labels so
that the model keeps one input (the image) and saves and loads as any other.

The branch is a training-time part: ``inference_model`` drops it, and ``KoOCR.save`` ships the model
without it.
"""
import keras
from keras import ops

from utils.data.hangul import DOMAIN_OUTPUT


@keras.saving.register_keras_serializable(package='koocr')
class GradientReversal(keras.layers.Layer):
    """Identity forwards; backwards the gradient times ``-scale``. ``scale`` is a weight (saved with the
    model) that training sets from ``--adversarial_ratio``; 0 lets the discriminator learn alone."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer='ones', trainable=False, name='scale')

    def call(self, x):
        # (1 + s)·x held constant, minus s·x: the value is x, the gradient is -s.
        return ops.stop_gradient(x * (1.0 + self.scale)) - x * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package='koocr')
class StopGradient(keras.layers.Layer):
    """Identity forwards, no gradient backwards: the class condition must not be trained by the discriminator."""

    def call(self, x):
        return ops.stop_gradient(x)

    def compute_output_shape(self, input_shape):
        return input_shape


def apply_discriminator(features, probabilities, units=256):
    """Feature map and {output: probabilities} -> P(handwriting-style) (B, 1), named ``DOMAIN_OUTPUT``."""
    pooled = keras.layers.GlobalAveragePooling2D(name='domain_pool')(features)
    reversed_features = GradientReversal(name='gradient_reversal')(pooled)
    parts = list(probabilities.values())
    condition = StopGradient(name='domain_condition')(
        parts[0] if len(parts) == 1 else keras.layers.Concatenate(name='domain_classes')(parts))
    x = keras.layers.Concatenate(name='domain_input')([reversed_features, condition])
    x = keras.layers.Dense(units, activation='relu', name='discriminator_hidden')(x)
    return keras.layers.Dense(1, activation='sigmoid', name=DOMAIN_OUTPUT)(x)


def set_reversal_scale(model, scale):
    """Set the gradient-reversal scale of a model with a discriminator; a ValueError for one without."""
    layers = [layer for layer in model.layers if isinstance(layer, GradientReversal)]
    if not layers:
        raise ValueError('this model has no discriminator: build it with adversarial_learning=True')
    for layer in layers:
        layer.scale.assign(float(scale))


def inference_model(model):
    """The model without its discriminator (the same layers and weights), or the model itself if it has none."""
    if DOMAIN_OUTPUT not in model.output_names:
        return model
    kept = {name: output for name, output in zip(model.output_names, model.outputs) if name != DOMAIN_OUTPUT}
    return keras.Model(model.inputs, kept, name=model.name)
