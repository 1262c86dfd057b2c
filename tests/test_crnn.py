"""The CRNN option for reading lines: its jamo tokens, its network, and bench/crnn.py's input and training."""
import importlib.util
import os

import numpy as np
import pytest

from utils.data import hangul, line_tokens
from utils.data.lines import LineRenderer
from utils.io import BUNDLED_FONT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('bench_crnn', os.path.join(ROOT, 'bench', 'crnn.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_syllable_and_symbol_goes_through_tokens_and_back():
    syllables = ''.join(chr(hangul.FIRST_SYLLABLE + k) for k in range(hangul.SYLLABLE_COUNT))
    assert line_tokens.decode(line_tokens.encode(syllables)) == syllables
    text = 'GIMP는 2.10 판입니다! “값” ※ 힣'
    tokens = line_tokens.encode(text)
    assert line_tokens.decode(tokens) == text and max(tokens) < line_tokens.TOKENS and min(tokens) > 0
    assert len(line_tokens.encode('각')) == 3 and len(line_tokens.encode('가')) == 2


def test_a_character_without_a_token_is_named():
    with pytest.raises(ValueError, match='漢'):
        line_tokens.encode('한漢')


def test_jamo_out_of_order_are_dropped():
    ga = line_tokens.encode('가')
    assert line_tokens.decode([ga[1]] + ga + [ga[0]]) == '가'   # a lone medial before, a lone initial after


def test_best_path_collapses_repeats_and_drops_blanks():
    a, b = line_tokens.encode('ab')
    frames = np.zeros((7, line_tokens.TOKENS))
    for k, token in enumerate([a, a, line_tokens.BLANK, a, b, b, line_tokens.BLANK]):
        frames[k, token] = 1
    assert line_tokens.greedy(frames) == [a, a, b]


def test_crnn_frames_are_a_quarter_of_the_columns():
    from network.crnn import HEIGHT, STRIDE, build_crnn
    network = build_crnn(line_tokens.TOKENS, width=4, units=8)
    logits = network.predict_on_batch(np.full((2, HEIGHT, 96, 1), 255, np.float32))
    assert logits.shape == (2, 96 // STRIDE, line_tokens.TOKENS)


def test_line_input_is_the_ink_scaled_to_the_crnn_height(bench):
    gray, _ = LineRenderer(BUNDLED_FONT, 60).render('한국어 문장')
    framed = np.pad(gray, 40, constant_values=255)
    line = bench.line_input(255 - framed)               # light on dark, with wide paper around it
    assert line.shape[0] == bench.HEIGHT and line.dtype == np.uint8
    assert 3 < line.shape[1] / line.shape[0] < 6         # the paper around the line is cut away
    assert line[:, :2].min() > 200 and line.min() < 60   # dark ink on light paper, a margin kept
    blank = bench.line_input(np.full((40, 100), 200, np.uint8))
    assert blank.shape[0] == bench.HEIGHT and blank.min() == 255


def test_training_lines_are_line_inputs_with_their_tokens(bench):
    lines = bench.training_lines(seed=0)
    for _ in range(3):
        image, tokens = next(lines)
        assert image.shape[0] == bench.HEIGHT and image.dtype == np.uint8
        assert tokens.dtype == np.int32 and len(tokens) >= 1 and line_tokens.BLANK not in tokens


def test_training_steps_change_the_network_and_save_it_to_resume(bench, tmp_path):
    from argparse import Namespace

    from network.crnn import build_crnn
    network = build_crnn(line_tokens.TOKENS, width=4, units=8)
    before = [w.copy() for w in network.get_weights()]
    args = Namespace(minutes=0.05, checkpoint=str(tmp_path / 'crnn.keras'), batch_size=4, learning_rate=0.001,
                     seed=0)
    state = bench.train(args, network)
    assert state['steps'] >= 1 and state['lines'] == 4 * state['steps']
    assert any(not np.array_equal(a, b) for a, b in zip(before, network.get_weights()))
    assert (tmp_path / 'crnn.keras').is_file() and (tmp_path / 'crnn.json').is_file()
    again = bench.train(args, network)   # resumes the count
    assert again['steps'] > state['steps']
