import keras
import numpy as np
import pytest
import tensorflow as tf

from utils.training.adabound import AdaBound
from utils.training.optimizers import get_optimizer


def tiny_model(optimizer):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation='relu'),
                              keras.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss='mse', jit_compile=False)
    return model


def tiny_data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype('float32'), rng.normal(size=(n, 2)).astype('float32')


def bounds(step, final_lr, gamma):
    return final_lr * (1 - 1 / (gamma * step + 1)), final_lr * (1 + 1 / (gamma * step))


def reference_step(w, g, state, step, lr, base_lr, final_lr=0.1, beta_1=0.9, beta_2=0.999,
                   gamma=1e-3, epsilon=1e-8, amsbound=False):
    """One update of the authors' PyTorch AdaBound (github.com/Luolc/AdaBound), in float64 NumPy."""
    state['m'] = beta_1 * state['m'] + (1 - beta_1) * g
    state['v'] = beta_2 * state['v'] + (1 - beta_2) * g * g
    v = state['v']
    if amsbound:
        state['v_hat'] = np.maximum(state['v_hat'], v)
        v = state['v_hat']
    step_size = lr * np.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step) / (np.sqrt(v) + epsilon)
    lower, upper = bounds(step, final_lr * lr / base_lr, gamma)
    return w - np.clip(step_size, lower, upper) * state['m']


def test_each_name_gives_its_own_optimizer():
    sgd = get_optimizer('sgd', 0.1)
    assert type(sgd) is keras.optimizers.SGD and sgd.momentum == 0.9 and sgd.nesterov
    assert type(get_optimizer('adam', 0.1)) is keras.optimizers.Adam
    assert type(get_optimizer('adabound', 0.1)) is AdaBound
    assert get_optimizer('adam', 0.1) is not get_optimizer('adam', 0.1)


def test_unknown_optimizer_name_is_quoted_with_choices():
    with pytest.raises(ValueError, match=r"'rmsprop'.*sgd, adam, adabound"):
        get_optimizer('rmsprop', 0.01)


@pytest.mark.parametrize('kwargs', [{'final_lr': 0}, {'gamma': -1e-3}, {'beta_1': 1.0},
                                    {'beta_2': -0.1}, {'epsilon': 0}])
def test_adabound_rejects_bad_arguments(kwargs):
    (arg, value), = kwargs.items()
    with pytest.raises(ValueError, match=rf'{arg} must be .*{value!r}'):
        AdaBound(**kwargs)


def test_adabound_fits_linear_regression():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 8)).astype('float32')
    y = (x @ rng.normal(size=(8, 1)) + 0.5).astype('float32')
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile(optimizer=AdaBound(learning_rate=0.01, final_lr=0.1), loss='mse',
                  jit_compile=False)
    losses = model.fit(x, y, batch_size=32, epochs=20, verbose=0, shuffle=False).history['loss']
    assert losses[-1] < 0.01 * losses[0]


def gradients_over_many_scales(steps, size, seed=2):
    # Gradient scales from 1e-4 to 1e4 push Adam's step size far above and far below the bounds,
    # so both clip sides are exercised; shrinking them after the first third lets v fall, which is
    # where AMSBound's running maximum differs from AdaBound.
    rng = np.random.default_rng(seed)
    scales = np.logspace(-4, 4, size) * np.where(np.arange(steps) < steps // 3, 1.0, 0.1)[:, None]
    return rng.normal(size=(steps, size)) * scales


@pytest.mark.parametrize('amsbound', [False, True])
def test_adabound_matches_reference_and_keeps_steps_within_bounds(amsbound):
    lr, final_lr, gamma, size, steps = 0.01, 0.1, 0.1, 64, 30
    optimizer = AdaBound(learning_rate=lr, final_lr=final_lr, gamma=gamma, amsbound=amsbound)
    w = keras.Variable(np.zeros(size, 'float32'))
    optimizer.build([w])
    m, = [v for v in optimizer.variables if v.path.endswith('_momentum')]
    state = {'m': np.zeros(size), 'v': np.zeros(size), 'v_hat': np.zeros(size)}
    hit_lower = hit_upper = False
    for step, g in enumerate(gradients_over_many_scales(steps, size), start=1):
        if step == steps // 2:
            # A schedule or ReduceLROnPlateau lowering the rate must lower final_lr with it.
            lr /= 4
            optimizer.learning_rate = lr
        # The update does not depend on w, so starting each step from zero reads it without the
        # cancellation of subtracting two large float32 weights.
        w.assign(np.zeros(size, 'float32'))
        g = g.astype('float32')
        optimizer.apply_gradients([(tf.constant(g), w)])
        update = -w.numpy()
        expected = -reference_step(np.zeros(size), g.astype('float64'), state, step, lr,
                                   base_lr=0.01, final_lr=final_lr, gamma=gamma, amsbound=amsbound)
        # float32 m loses relative precision where it passes near zero.
        np.testing.assert_allclose(update, expected, rtol=1e-3)

        step_size = update / m.numpy()
        lower, upper = bounds(step, final_lr * lr / 0.01, gamma)
        assert np.all(step_size >= lower * (1 - 1e-5)) and np.all(step_size <= upper * (1 + 1e-5))
        hit_lower |= bool(np.any(np.isclose(step_size, lower, rtol=1e-5)))
        hit_upper |= bool(np.any(np.isclose(step_size, upper, rtol=1e-5)))
    assert hit_lower and hit_upper


def test_adabound_base_lr_comes_from_a_schedule_and_survives_config():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=10, decay_rate=0.5)
    optimizer = AdaBound(learning_rate=schedule, final_lr=0.05)
    assert optimizer.base_lr == pytest.approx(0.02)
    restored = AdaBound.from_config(optimizer.get_config())
    assert restored.base_lr == pytest.approx(0.02)
    assert isinstance(restored._learning_rate, keras.optimizers.schedules.ExponentialDecay)


def test_adabound_base_lr_is_kept_when_learning_rate_was_lowered():
    optimizer = AdaBound(learning_rate=0.01)
    optimizer.learning_rate = 0.001
    assert AdaBound.from_config(optimizer.get_config()).base_lr == pytest.approx(0.01)


@pytest.mark.parametrize('amsbound', [False, True])
def test_adabound_model_round_trips_through_keras_file(tmp_path, amsbound):
    model = tiny_model(AdaBound(learning_rate=0.01, final_lr=0.05, gamma=2e-3, amsbound=amsbound,
                                weight_decay=1e-4, clipnorm=1.0))
    x, y = tiny_data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / 'x.keras'
    model.save(path)

    loaded = keras.models.load_model(path)
    assert type(loaded.optimizer) is AdaBound
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    saved_vars, loaded_vars = model.optimizer.variables, loaded.optimizer.variables
    assert len(loaded_vars) == len(saved_vars) == 2 + 4 * (3 if amsbound else 2)
    for saved, restored in zip(saved_vars, loaded_vars):
        np.testing.assert_array_equal(restored.numpy(), saved.numpy(), err_msg=saved.path)
    assert int(loaded.optimizer.iterations) == 1

    # The restored slots must carry on training exactly where the original left off.
    x2, y2 = tiny_data(seed=3)
    model.train_on_batch(x2, y2)
    loaded.train_on_batch(x2, y2)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
