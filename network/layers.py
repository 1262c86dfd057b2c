"""Input scaling, DirectMap and the pooling layers that link a feature map to the dense layers."""
import keras
import numpy as np
from keras import ops

POOLINGS = ('', 'GAP', 'GWAP', 'GWOAP')


@keras.saving.register_keras_serializable(package='koocr')
class InkScale(keras.layers.Layer):
    """uint8-range images, ink dark on white, -> float with ink = 1 and paper = 0, shape (H, W, 1)."""

    def call(self, images):
        images = ops.cast(images, 'float32')
        if len(images.shape) == 3:
            images = ops.expand_dims(images, -1)
        return 1.0 - images / 255.0


def _direction_kernels():
    # Sobel in x and y, rotated to 0°, 45°, ..., 315°: eight directional gradients.
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], 'float32')
    sobel_y = sobel_x.T
    angles = np.arange(8) * np.pi / 4
    kernels = [np.cos(a) * sobel_x + np.sin(a) * sobel_y for a in angles]
    return np.stack(kernels, -1)[:, :, None, :]  # (3, 3, 1, 8)


@keras.saving.register_keras_serializable(package='koocr')
class DirectMap(keras.layers.Layer):
    """The image stacked with its eight directional gradient maps (positive part), shape (H, W, 9).

    Zhang, Bengio, Liu, "Online and offline handwritten Chinese character recognition: a comprehensive
    study and new benchmark", 2017. The kernels are constants: the original's were trainable.
    """

    def call(self, images):
        # np.cos gives float64 kernels: cast them to the images' dtype, or the convolution refuses them.
        kernels = ops.convert_to_tensor(_direction_kernels(), dtype=images.dtype)
        gradients = ops.relu(ops.conv(images, kernels, padding='same'))
        return ops.concatenate([images, gradients], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 9)


@keras.saving.register_keras_serializable(package='koocr')
class GlobalWeightedAveragePooling2D(keras.layers.Layer):
    """GWAP: a learned weight for every position and channel, summed over positions -> (C,).

    Melnyk et al., "A High-Performance CNN Method for Offline Handwritten Chinese Character Recognition
    and Visualization", 2018. Initialised to 1/(H·W), i.e. to GAP.
    """

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        self.position_weights = self.add_weight(
            name='position_weights', shape=(height, width, channels),
            initializer=keras.initializers.Constant(1.0 / (height * width)))

    def call(self, features):
        return ops.sum(features * self.position_weights, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package='koocr')
class GlobalWeightedOutputAveragePooling2D(GlobalWeightedAveragePooling2D):
    """GWOAP: GWAP and GAP of the same features side by side -> (2C,). The original's never pooled."""

    def call(self, features):
        return ops.concatenate([super().call(features), ops.mean(features, axis=(1, 2))], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])


def pooling_layer(fc_link, name='pool'):
    """The layer for ``--fc_link``: '' (flatten), 'GAP', 'GWAP' or 'GWOAP'."""
    layers = {'': keras.layers.Flatten, 'GAP': keras.layers.GlobalAveragePooling2D,
              'GWAP': GlobalWeightedAveragePooling2D, 'GWOAP': GlobalWeightedOutputAveragePooling2D}
    if fc_link not in layers:
        raise ValueError(f'fc_link={fc_link!r}; choose from {POOLINGS}')
    return layers[fc_link](name=name)
