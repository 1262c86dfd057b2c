"""A DenseRAN-style jamo decoder (after Wang, Du, Zhang, Wang, "DenseRAN for Offline Handwritten Chinese
Character Recognition", ICFHR 2018): an attention GRU that reads a syllable as the sequence of its parts,
initial, medial, then final (its 'none' class ending the syllable), one part per step, each step attending
over the encoder's feature map from its state and from what the step before it read.

The step before's answer is fed back as its probabilities (not as the true part, as teacher forcing would):
the model keeps one image input and trains, saves and predicts like any other. The three steps answer under
the jamo heads' names, and the charset is ranked exactly as for the split heads, by the product of the three
steps' probabilities. Each step is conditioned on the whole distribution the step before predicted, not on a
candidate's own initial or medial: the product ranks the syllables, it is not their chain-rule joint
probability (scoring that would take one decoder pass per candidate prefix).
"""
import keras
from keras import ops

from utils.data.hangul import output_sizes


@keras.saving.register_keras_serializable(package='koocr')
class JamoDecoder(keras.layers.Layer):
    """Feature map (B, H, W, C) -> [probabilities per step (B, sizes[t])..., attention (B, steps, H·W)].

    Args:
        sizes: classes of each step (19 initials, 21 medials, 28 finals with 'none').
        units: size of the GRU state.
        attention_units: size of the additive attention's hidden layer.
    """

    def __init__(self, sizes, units=256, attention_units=128, **kwargs):
        super().__init__(**kwargs)
        self.sizes, self.units, self.attention_units = list(sizes), units, attention_units
        self.initial_state = keras.layers.Dense(units, activation='tanh', name='initial_state')
        self.attend_features = keras.layers.Dense(attention_units, name='attend_features')
        self.attend_state = keras.layers.Dense(attention_units, use_bias=False, name='attend_state')
        self.score = keras.layers.Dense(1, name='score')
        self.embed = [keras.layers.Dense(units, use_bias=False, name=f'embed_{t}') for t in range(len(sizes))]
        self.cell = keras.layers.GRUCell(units, name='gru')
        self.classifiers = [keras.layers.Dense(size, activation='softmax', name=f'classifier_{t}')
                            for t, size in enumerate(self.sizes)]

    def build(self, input_shape):
        channels = input_shape[-1]
        self.initial_state.build((None, channels))
        self.attend_features.build((None, None, channels))
        self.attend_state.build((None, self.units))
        self.score.build((None, None, self.attention_units))
        self.embed[0].build((None, 1))  # the first step reads a constant start token
        for t in range(1, len(self.sizes)):
            self.embed[t].build((None, self.sizes[t - 1]))
        self.cell.build((None, channels + self.units))
        for classifier in self.classifiers:
            classifier.build((None, self.units + channels))

    def call(self, features):
        flat = ops.reshape(features, (-1, features.shape[1] * features.shape[2], features.shape[3]))
        keys = self.attend_features(flat)
        state = self.initial_state(ops.mean(flat, axis=1))
        previous = self.embed[0](ops.ones_like(flat[:, 0, :1]))
        answers, attention = [], []
        for t, classifier in enumerate(self.classifiers):
            energy = self.score(ops.tanh(keys + ops.expand_dims(self.attend_state(state), 1)))  # (B, HW, 1)
            weights = ops.softmax(energy, axis=1)
            glimpse = ops.sum(weights * flat, axis=1)
            state, _ = self.cell(ops.concatenate([glimpse, previous], axis=-1), [state])
            probabilities = classifier(ops.concatenate([state, glimpse], axis=-1))
            if t + 1 < len(self.classifiers):
                previous = self.embed[t + 1](probabilities)
            answers.append(probabilities)
            attention.append(weights[..., 0])
        return [*answers, ops.stack(attention, axis=1)]

    def compute_output_shape(self, input_shape):
        batch, height, width = input_shape[0], input_shape[1], input_shape[2]
        return [*((batch, size) for size in self.sizes), (batch, len(self.sizes), height * width)]

    def get_config(self):
        return {**super().get_config(), 'sizes': self.sizes, 'units': self.units,
                'attention_units': self.attention_units}


def apply_decoder(features):
    """Feature map -> {jamo head name: that step's probabilities}."""
    sizes = output_sizes(True, 0)
    *answers, _ = JamoDecoder(list(sizes.values()), name='decoder')(features)
    return {name: keras.layers.Identity(name=name)(p) for name, p in zip(sizes, answers)}
