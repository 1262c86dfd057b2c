"""model.KoOCR: exact top-n, predict on every kind of input, loading and its errors."""
import os
import re

import keras
import numpy as np
import pytest
from PIL import Image

import model
from utils.data import hangul
from utils.data.render import GlyphRenderer
from utils.inference.preprocess import prepare
from utils.inference.topn import top_n_syllables

from conftest import CHARS, FONT


# Exact top-n -----------------------------------------------------------------------------------------

def random_softmax(rng, rows, classes, sharpness=3.0):
    logits = rng.normal(size=(rows, classes)) * sharpness
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype('float32')


def brute_force(outputs, charset, n):
    """Every syllable's probability computed outright, ranked: the definition top-n must match."""
    if 'output' in outputs:
        probs = np.asarray(outputs['output'], np.float64)
    else:
        cho, jung, jong = (np.asarray(outputs[name], np.float64) for name in hangul.COMPONENTS)
        every = cho[:, :, None, None] * jung[:, None, :, None] * jong[:, None, None, :]
        offsets = [ord(c) - hangul.FIRST_SYLLABLE for c in charset]
        probs = every.reshape(len(cho), -1)[:, offsets]
    order = np.argsort(-probs, axis=1, kind='stable')[:, :n]
    return order, np.take_along_axis(probs, order, 1)


@pytest.mark.parametrize('charset_name,rows', [('ksx1001', 7), ('all', 3), ('tiny', 5), ('ksx1001', 2051)])
def test_split_top_n_is_exact(charset_name, rows):
    rng = np.random.default_rng(rows)
    charset = list(CHARS) if charset_name == 'tiny' else hangul.load_charset(charset_name)
    outputs = {name: random_softmax(rng, rows, len(jamo)) for name, jamo in hangul.COMPONENTS.items()}
    indices, probabilities = top_n_syllables(outputs, charset, n=10)
    expected_indices, expected_probabilities = brute_force(outputs, charset, 10)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(probabilities, expected_probabilities, rtol=1e-4)


def test_split_top_n_stays_in_the_charset_where_per_component_argmax_does_not():
    # The most likely jamo spell 뷁, which KS X 1001 lacks: the answer is the best syllable it has.
    cho, jung, jong = hangul.split_syllable('뷁')
    rng, outputs = np.random.default_rng(4), {}
    for (name, jamo), best in zip(hangul.COMPONENTS.items(), (cho, jung, jong)):
        p = rng.uniform(0.5, 1.0, (1, len(jamo)))  # distinct small probabilities: no ties
        p[0, best] = 10 * len(jamo)
        outputs[name] = (p / p.sum()).astype(np.float32)
    charset = hangul.load_charset('ksx1001')
    assert '뷁' not in charset
    indices, _ = top_n_syllables(outputs, charset, n=3)
    expected, _ = brute_force(outputs, charset, 3)
    np.testing.assert_array_equal(indices, expected)
    assert hangul.compose_syllable(*(np.argmax(outputs[name]) for name in hangul.COMPONENTS)) == '뷁'
    assert sum(a == b for a, b in zip(hangul.split_syllable(charset[indices[0, 0]]), (cho, jung, jong))) == 2


def test_complete_top_n_is_exact_and_n_is_capped_by_the_charset():
    rng = np.random.default_rng(3)
    outputs = {'output': random_softmax(rng, 6, len(CHARS))}
    indices, probabilities = top_n_syllables(outputs, CHARS, n=4)
    expected_indices, expected_probabilities = brute_force(outputs, CHARS, 4)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(probabilities, expected_probabilities, rtol=1e-5)
    indices, _ = top_n_syllables(outputs, CHARS, n=len(CHARS) + 5)
    assert indices.shape == (6, len(CHARS))


# Predict ---------------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def ocr(charset_file):
    keras.utils.set_random_seed(0)
    return model.KoOCR(weights=None, network='compact', image_size=32, width=0.25, fc_link='GAP',
                       charset=charset_file)


@pytest.fixture(scope='module')
def glyph():
    """'각' at 60 px, ink dark on white: a user's image of another size than the model's."""
    return GlyphRenderer(FONT, 60).render('각')


def on_canvas(gray, height=60, width=80):
    canvas = np.full((height, width), 255, np.uint8)
    top, left = (height - gray.shape[0]) // 2, (width - gray.shape[1]) // 2
    canvas[top:top + gray.shape[0], left:left + gray.shape[1]] = gray
    return canvas


def test_predict_one_image_gives_n_syllables_best_first(ocr, glyph):
    answer = ocr.predict(glyph, n=5)
    assert len(answer) == 5 and all(char in CHARS for char in answer)
    scored = ocr.predict(glyph, n=5, probabilities=True)
    assert [char for char, _ in scored] == answer
    probabilities = [p for _, p in scored]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < probabilities[-1] <= probabilities[0] < 1
    # The same ranking as the joint probability computed outright from the model's outputs.
    outputs = ocr.model.predict_on_batch(ocr.prepare(glyph))
    expected, expected_probabilities = brute_force(outputs, ocr.charset, 5)
    assert answer == [ocr.charset[i] for i in expected[0]]
    np.testing.assert_allclose(probabilities, expected_probabilities[0], rtol=1e-4)
    assert len(ocr.predict(glyph, n=3)) == 3


def test_predict_colour_image_of_another_size(ocr, glyph):
    gray = on_canvas(glyph)
    ink = np.array([20, 30, 120], np.float32)
    paper = np.array([250, 240, 200], np.float32)
    share = (gray.astype(np.float32) / 255)[..., None]
    colour = (ink + share * (paper - ink)).astype(np.uint8)
    assert colour.shape == (60, 80, 3)
    prepared = ocr.prepare(colour)
    assert prepared.shape == (1, 32, 32, 1) and prepared.dtype == np.float32
    # Greyed, cropped to the ink and resized like the grey image: the same glyph, a paler paper.
    grey_prepared = ocr.prepare(gray)
    assert np.mean(np.abs(prepared - grey_prepared)) < 25
    assert np.corrcoef(prepared.ravel(), grey_prepared.ravel())[0, 1] > 0.9
    answer = ocr.predict(colour, n=5, probabilities=True)
    assert len(answer) == 5 and all(char in CHARS for char, _ in answer)
    rgba = np.concatenate([colour, np.full((60, 80, 1), 255, np.uint8)], axis=-1)
    np.testing.assert_array_equal(ocr.prepare(rgba), prepared)


def test_ink_on_a_transparent_sheet_reads_as_ink_on_white(ocr, glyph, tmp_path):
    gray = on_canvas(glyph)
    alpha = 255 - gray  # black ink, opaque where the glyph is, see-through elsewhere
    rgba = np.stack([np.zeros_like(gray)] * 3 + [alpha], axis=-1)
    expected = ocr.prepare(gray)
    path = tmp_path / 'transparent.png'
    Image.fromarray(rgba, 'RGBA').save(path)
    for image in (rgba, Image.fromarray(rgba, 'RGBA'), str(path), np.stack([gray * 0, alpha], axis=-1)):
        assert np.mean(np.abs(ocr.prepare(image) - expected)) < 2
    assert ocr.prepare(rgba.astype(np.float32) / 255).shape == (1, 32, 32, 1)


def test_white_on_black_reads_as_black_on_white(ocr, glyph):
    image = on_canvas(glyph)
    np.testing.assert_array_equal(ocr.prepare(255 - image), ocr.prepare(image))
    assert ocr.predict(255 - image, probabilities=True) == ocr.predict(image, probabilities=True)


def test_prepare_centres_the_glyph_like_training_data(ocr, glyphs):
    # A training glyph (32 px, centred) offset on a larger canvas comes back as the training glyph.
    canvas = np.full((50, 70), 255, np.uint8)
    canvas[3:35, 30:62] = glyphs['각']
    # Equal up to rounding: the lighting fit sees a little more paper on the larger canvas.
    difference = prepare(canvas, 32).astype(int) - prepare(glyphs['각'], 32)
    assert np.abs(difference).max() <= 4 and np.abs(difference).mean() < 1


def test_predict_path_pil_and_batches(ocr, glyph, tmp_path):
    image = on_canvas(glyph)
    path = tmp_path / 'glyph.png'
    Image.fromarray(image).convert('RGB').save(path)
    single = ocr.predict(image, probabilities=True)
    assert ocr.predict(str(path), probabilities=True) == single
    assert ocr.predict(path, probabilities=True) == single
    assert ocr.predict(Image.open(path), probabilities=True) == single
    assert ocr.predict(image.astype(np.float32) / 255, probabilities=True) == single

    other = on_canvas(GlyphRenderer(FONT, 48).render('좋'))
    batch = ocr.predict([str(path), Image.fromarray(other), image], n=3)
    assert len(batch) == 3 and all(len(answer) == 3 for answer in batch)
    assert batch[0] == batch[2] == [char for char, _ in single[:3]]
    assert batch[1] == ocr.predict(other, n=3)
    stacked = np.stack([image, other])
    assert ocr.predict(stacked, n=3) == [batch[0], batch[1]]              # (N, H, W)
    assert ocr.predict(stacked[..., None], n=3) == [batch[0], batch[1]]   # (N, H, W, 1)
    assert ocr.predict([image]) == [ocr.predict(image)]


def test_predict_a_large_batch_goes_through_model_predict(ocr, glyph):
    images = np.repeat(on_canvas(glyph)[None], 300, axis=0)
    answers = ocr.predict(images, n=2)
    assert len(answers) == 300 and all(answer == answers[0] for answer in answers)
    assert answers[0] == ocr.predict(glyph, n=2)


def test_predict_blank_image_and_unreadable_file(ocr, tmp_path):
    assert len(ocr.predict(np.full((40, 40), 255, np.uint8), n=2)) == 2
    bad = tmp_path / 'notes.png'
    bad.write_text('not an image')
    with pytest.raises(ValueError, match='notes.png'):
        ocr.predict(str(bad))


def test_rank_refuses_inputs_of_another_size_and_n_below_one(ocr, glyph):
    prepared = ocr.prepare(glyph)
    assert ocr.rank(prepared[..., 0], n=2) == ocr.rank(prepared, n=2)
    with pytest.raises(ValueError, match=r'\(N, 32, 32\[, 1\]\), got \(3, 64, 64, 1\)'):
        ocr.rank(np.zeros((3, 64, 64, 1), np.float32))
    with pytest.raises(ValueError, match='n=0'):
        ocr.predict(glyph, n=0)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_nan_or_infinity_is_refused_not_answered(ocr, bad):
    image = np.full((48, 48), 200.0)
    image[3, 4] = bad
    with pytest.raises(ValueError, match='NaN or infinity'):
        ocr.predict(image)
    with pytest.raises(ValueError, match='NaN or infinity'):
        ocr.rank(np.full((2, 32, 32, 1), bad, np.float32))


@pytest.mark.parametrize('shape', [(0, 0), (0, 40), (40, 0), (0, 40, 3)])
def test_an_empty_image_names_its_shape(ocr, shape):
    with pytest.raises(ValueError, match=re.escape(f'empty image of shape {shape}')):
        ocr.predict(np.zeros(shape, np.uint8))


def test_an_empty_batch_has_no_answers(ocr):
    assert ocr.predict([]) == [] and ocr.rank(np.zeros((0, 32, 32, 1), np.float32)) == [] and ocr.rank([]) == []
    assert ocr.prepare([]).shape == (0, 32, 32, 1)


@pytest.mark.parametrize('bad, name', [(12345, 'int'), (None, 'NoneType'), (4.5, 'float'), ({}, 'dict')])
def test_something_that_is_no_image_names_its_type(ocr, bad, name):
    with pytest.raises(TypeError, match=f'expected a path, PIL image or array, got {name}$'):
        ocr.predict(bad)


# Loading ---------------------------------------------------------------------------------------------

def test_save_and_load_by_file_and_directory(ocr, glyph, tmp_path):
    path = tmp_path / 'run' / 'model.keras'
    ocr.save(str(path))  # the folder is made
    expected = ocr.predict(glyph, probabilities=True)
    for weights in (str(path), str(path.parent), str(path.parent) + os.sep):
        loaded = model.KoOCR(weights=weights)
        assert loaded.weights_path == str(path)
        assert loaded.config == ocr.config and loaded.charset == ocr.charset
        got = loaded.predict(glyph, probabilities=True)
        assert [c for c, _ in got] == [c for c, _ in expected]
        np.testing.assert_allclose([p for _, p in got], [p for _, p in expected], rtol=1e-4)


def test_weights_given_as_the_seed_does_or_as_a_path_object(ocr, tmp_path):
    logs = tmp_path / 'logs'
    logs.mkdir()
    ocr.save(str(logs / 'weights.h5'))
    # The original resumes with --weights=./logs/weights/ after writing ./logs/weights.h5.
    assert model.find_weights(f'{logs}/weights/') == str(logs / 'weights.h5')
    assert model.find_weights(logs / 'weights.h5') == str(logs / 'weights.h5')
    ocr.save(str(tmp_path / 'a.keras'))
    ocr.save(str(tmp_path / 'b.keras'))
    with pytest.raises(FileNotFoundError, match='several model files'):
        model.find_weights(tmp_path)


def test_missing_weights_file_names_it(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'weights.h5')
    with pytest.raises(FileNotFoundError, match='nowhere/weights.h5'):
        model.KoOCR(weights=missing)
    with pytest.raises(FileNotFoundError, match='holds no model file'):
        model.KoOCR(weights=str(tmp_path))


def test_weights_of_the_wrong_kind_are_named(tmp_path):
    text = tmp_path / 'weights.txt'
    text.write_text('hello')
    with pytest.raises(ValueError, match=r'weights.txt.*\.keras or \.h5'):
        model.KoOCR(weights=str(text))
    broken = tmp_path / 'broken.keras'
    broken.write_bytes(b'not a zip')
    with pytest.raises(ValueError, match='broken.keras.*not a KoOCR model'):
        model.KoOCR(weights=str(broken))


def test_a_keras_model_that_is_not_koocr_is_refused(tmp_path):
    path = str(tmp_path / 'other.keras')
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(path)
    with pytest.raises(ValueError, match='other.keras.*not a KoOCR one'):
        model.KoOCR(weights=path)


def test_default_weights_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(model, 'DEFAULT_WEIGHTS', str(tmp_path / 'pretrained' / 'default'))
    with pytest.raises(FileNotFoundError, match='no shipped pretrained model.*weights=None'):
        model.KoOCR()


def test_unknown_keyword_and_the_seed_methods(charset_file):
    with pytest.raises(TypeError, match='netwrok'):
        model.KoOCR(weights=None, netwrok='fire')
    adversarial = model.KoOCR(weights=None, network='compact', image_size=32, width=0.25, charset=charset_file,
                              adversarial_learning=True)
    assert 'domain' in adversarial.model.output_names
    refined = model.KoOCR(weights=None, network='compact', image_size=32, width=0.25, charset=charset_file,
                          iterative_refinement=True, refinement_t=3)
    assert refined.model.get_layer('refinement').steps == 3 and 'CHOSUNG_step2' in refined.model.output_names
