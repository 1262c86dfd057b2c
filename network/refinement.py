"""Iterative refinement: after the head's first answer, t steps of attention over the feature map, each
conditioned on a recurrent state and on the previous step's probabilities, each step answering again.

Yang, Jin, Huang, Xie, Liu, "Improving Offline Handwritten Chinese Character Recognition by Iterative
Refinement", ICDAR 2017. The GRU state carries from step to step (the original re-created it at every step,
so no step knew what the one before it had looked at); every step is supervised; the last one answers.
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package='koocr')
class IterativeRefinement(keras.layers.Layer):
    """[feature map (B, H, W, C), first probabilities per output...] -> per step, one softmax per output.

    Args:
        sizes: classes of each output, in order (19, 21, 28 for the jamo heads; the charset for one output).
        steps: refinement steps t after the first answer.
        units: size of the GRU state.
        attention_units: size of the additive attention's hidden layer.
    """

    def __init__(self, sizes, steps=4, units=256, attention_units=128, **kwargs):
        super().__init__(**kwargs)
        if steps < 1:
            raise ValueError(f'steps={steps}: refinement needs at least one step')
        self.sizes, self.steps, self.units, self.attention_units = list(sizes), steps, units, attention_units
        self.initial_state = keras.layers.Dense(units, activation='tanh', name='initial_state')
        self.attend_features = keras.layers.Dense(attention_units, name='attend_features')
        self.attend_state = keras.layers.Dense(attention_units, use_bias=False, name='attend_state')
        self.attend_previous = keras.layers.Dense(attention_units, use_bias=False, name='attend_previous')
        self.score = keras.layers.Dense(1, name='score')
        self.cell = keras.layers.GRUCell(units, name='gru')
        self.classifiers = [keras.layers.Dense(size, activation='softmax', name=f'classifier_{i}')
                            for i, size in enumerate(self.sizes)]

    def build(self, input_shape):
        features_shape = input_shape[0]
        channels, classes = features_shape[-1], sum(self.sizes)
        self.initial_state.build((None, channels))
        self.attend_features.build((None, None, channels))
        self.attend_state.build((None, self.units))
        self.attend_previous.build((None, classes))
        self.score.build((None, None, self.attention_units))
        self.cell.build((None, channels + classes))
        for classifier in self.classifiers:
            classifier.build((None, self.units + channels))

    def start(self, inputs):
        """(flattened features (B, HW, C), their attention keys, initial state, first probabilities)."""
        features, first = inputs[0], list(inputs[1:])
        flat = ops.reshape(features, (-1, features.shape[1] * features.shape[2], features.shape[3]))
        state = self.initial_state(ops.mean(flat, axis=1))
        return flat, self.attend_features(flat), state, ops.concatenate(first, axis=-1)

    def step(self, flat, keys, state, previous):
        """One refinement step -> (new state, glimpse, probabilities per output)."""
        query = self.attend_state(state) + self.attend_previous(previous)
        energy = self.score(ops.tanh(keys + ops.expand_dims(query, 1)))     # (B, HW, 1)
        glimpse = ops.sum(ops.softmax(energy, axis=1) * flat, axis=1)        # (B, C)
        state, _ = self.cell(ops.concatenate([glimpse, previous], axis=-1), [state])
        joined = ops.concatenate([state, glimpse], axis=-1)
        return state, glimpse, [classifier(joined) for classifier in self.classifiers]

    def call(self, inputs):
        flat, keys, state, previous = self.start(inputs)
        answers = []
        for _ in range(self.steps):
            state, _, probabilities = self.step(flat, keys, state, previous)
            previous = ops.concatenate(probabilities, axis=-1)
            answers.append(probabilities)
        return answers

    def compute_output_shape(self, input_shape):
        batch = input_shape[0][0]
        return [[(batch, size) for size in self.sizes] for _ in range(self.steps)]

    def get_config(self):
        return {**super().get_config(), 'sizes': self.sizes, 'steps': self.steps, 'units': self.units,
                'attention_units': self.attention_units}


def step_name(output, step):
    """Name of ``output``'s answer at refinement ``step`` (0: the head's first answer)."""
    return f'{output}_step{step}'


def apply_refinement(features, first, steps):
    """{output: the head's first probabilities (its layers named ``step_name(output, 0)``)} -> every step's
    outputs by layer name, the last step's under the outputs' own names (what ``predict`` reads)."""
    names = list(first)
    answers = IterativeRefinement([first[n].shape[-1] for n in names], steps, name='refinement')(
        [features, *first.values()])
    outputs = {step_name(n, 0): first[n] for n in names}
    for step, probabilities in enumerate(answers, start=1):
        for n, p in zip(names, probabilities):
            name = n if step == steps else step_name(n, step)
            outputs[name] = keras.layers.Identity(name=name)(p)
    return outputs
