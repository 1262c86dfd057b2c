"""A CRNN line reader (convolutions, a bidirectional LSTM, CTC) in the manner of EasyOCR and PaddleOCR: the
issue's other design for reading lines, measured against the shipped segmenter by ``bench/crnn.py``. Its
output is per-frame scores over ``utils.data.line_tokens`` (jamo by position, symbols, space, blank)."""
import keras

from network.layers import InkScale

HEIGHT = 32   # lines are scaled to this height
STRIDE = 4    # input columns per output frame


def _conv(x, filters, name):
    x = keras.layers.Conv2D(filters, 3, padding='same', use_bias=False, name=f'{name}_conv')(x)
    x = keras.layers.BatchNormalization(name=f'{name}_bn')(x)
    return keras.layers.ReLU(name=f'{name}_relu')(x)


def build_crnn(tokens, width=32, units=128):
    """uint8-range line images (HEIGHT, any width[, 1]) -> logits (width / STRIDE frames, ``tokens``)."""
    inputs = keras.Input((HEIGHT, None, 1), name='line')
    x = InkScale(name='ink_scale')(inputs)
    x = _conv(x, width, 'stage0')
    x = keras.layers.MaxPooling2D(2, name='stage0_pool')(x)                 # 16 rows, 1/2 the columns
    x = _conv(x, 2 * width, 'stage1')
    x = keras.layers.MaxPooling2D(2, name='stage1_pool')(x)                 # 8 rows, 1/4
    x = _conv(x, 3 * width, 'stage2_a')
    x = _conv(x, 3 * width, 'stage2_b')
    x = keras.layers.MaxPooling2D((2, 1), name='stage2_pool')(x)            # 4 rows
    x = _conv(x, 4 * width, 'stage3')
    x = keras.layers.MaxPooling2D((4, 1), name='stage3_pool')(x)            # 1 row: a sequence of frames
    x = keras.layers.Reshape((-1, 4 * width), name='frames')(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name='context')(x)
    outputs = keras.layers.Dense(tokens, name='tokens')(x)
    return keras.Model(inputs, outputs, name='crnn')
