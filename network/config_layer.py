"""ModelInfo: an identity layer that carries a model's options and charset inside its saved file."""
import keras


@keras.saving.register_keras_serializable(package='koocr')
class ModelInfo(keras.layers.Layer):
    """Passes its input through; ``config`` (the NetworkConfig as a dict) and ``charset`` (the
    syllables the model names, in output order) travel with the model in .keras and .h5 files."""

    def __init__(self, config=None, charset='', **kwargs):
        kwargs.setdefault('name', 'model_info')
        super().__init__(**kwargs)
        self.config, self.charset = dict(config or {}), str(charset)

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), 'config': self.config, 'charset': self.charset}

    def compute_output_shape(self, input_shape):
        return input_shape
