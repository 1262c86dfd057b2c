"""network/refinement.py: the state carries between steps, every step answers, the model saves and reloads."""
import numpy as np
import pytest

import keras
import network
from network.refinement import IterativeRefinement, step_name

SIZES = [19, 21, 28]


def _inputs(batch=3, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(batch, 4, 4, 8)).astype('float32')
    first = [keras.ops.softmax(rng.normal(size=(batch, s)).astype('float32')) for s in SIZES]
    return [features, *first]


def test_every_step_answers_a_distribution_per_output():
    layer = IterativeRefinement(SIZES, steps=3, units=16, attention_units=8)
    answers = layer(_inputs())
    assert len(answers) == 3
    for probabilities in answers:
        assert [p.shape for p in probabilities] == [(3, s) for s in SIZES]
        assert np.allclose([np.sum(p, axis=-1) for p in probabilities], 1, atol=1e-5)


def test_the_state_carries_from_step_to_step():
    layer = IterativeRefinement(SIZES, steps=2, units=16, attention_units=8)
    inputs = _inputs()
    layer(inputs)
    flat, keys, state0, previous = layer.start(inputs)
    state1, _, answer1 = layer.step(flat, keys, state0, previous)
    previous1 = keras.ops.concatenate(answer1, axis=-1)
    state2, _, answer2 = layer.step(flat, keys, state1, previous1)
    assert not np.allclose(state1, state2, atol=1e-4)
    # The original re-created the state each step: step 2 from a fresh state would answer otherwise.
    fresh, _, answer_fresh = layer.step(flat, keys, state0, previous1)
    assert not np.allclose(fresh, state2, atol=1e-4)
    assert np.allclose(layer(inputs)[1][0], answer2[0], atol=1e-5)
    assert not np.allclose(answer_fresh[0], answer2[0], atol=1e-5)


def test_zero_steps_refused_and_config_round_trip():
    with pytest.raises(ValueError, match='steps=0'):
        IterativeRefinement(SIZES, steps=0)
    layer = IterativeRefinement(SIZES, steps=2, units=12, attention_units=6)
    again = IterativeRefinement.from_config(layer.get_config())
    assert (again.sizes, again.steps, again.units, again.attention_units) == (SIZES, 2, 12, 6)


def test_step_outputs_are_labelled_like_their_heads():
    from utils.data.dataset import Labeler
    labeler = Labeler(True, ['가', '힣'], ['CHOSUNG', step_name('CHOSUNG', 1), 'JONGSUNG_step0'])
    targets = labeler.targets(['힣'])
    assert targets['CHOSUNG_step1'] == targets['CHOSUNG'] == 18 and targets['JONGSUNG_step0'] == 27
    with pytest.raises(ValueError, match='answer none of the heads'):
        Labeler(True, ['가'], ['style'])


@pytest.mark.parametrize('split', [True, False])
def test_refined_model_trains_every_step_saves_and_reloads(tmp_path, split):
    model = network.build_model('compact', 32, split, 30, 'GWAP', width=0.25, refinement_steps=2)
    heads = list(network.heads.output_sizes(split, 30))
    expected = {step_name(h, s) for h in heads for s in (0, 1)} | set(heads)
    assert set(model.output_names) == expected
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (8, 32, 32, 1)).astype('float32')
    labels = {name: rng.integers(0, model.get_layer(name).output.shape[-1], 8) for name in model.output_names}
    model.compile('adam', loss={n: 'sparse_categorical_crossentropy' for n in model.output_names})
    before = [w.copy() for w in model.get_layer('refinement').get_weights()]
    losses = model.train_on_batch(images, labels, return_dict=True)
    assert all(f'{n}_loss' in losses for n in model.output_names)  # every step is supervised
    after = model.get_layer('refinement').get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    path = str(tmp_path / 'refined.keras')
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom objects
    got, want = loaded.predict_on_batch(images), model.predict_on_batch(images)
    assert all(np.allclose(got[n], want[n], atol=1e-5) for n in want)


def test_steps_change_the_answer():
    keras.utils.set_random_seed(0)
    two = network.build_model('compact', 32, True, 30, 'GWAP', width=0.25, refinement_steps=2)
    four = network.build_model('compact', 32, True, 30, 'GWAP', width=0.25, refinement_steps=4)
    four.set_weights(two.get_weights())  # the same weights: only the number of steps differs
    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 1)).astype('float32')
    a, b = two.predict_on_batch(images), four.predict_on_batch(images)
    assert np.allclose(a['CHOSUNG_step1'], b['CHOSUNG_step1'], atol=1e-5)
    assert not np.allclose(a['CHOSUNG'], b['CHOSUNG'], atol=1e-4)
