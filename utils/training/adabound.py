"""AdaBound: Adam whose per-parameter step size is clipped into bounds that converge to SGD's.

Luo, Xiong, Liu & Sun, "Adaptive Gradient Methods with Dynamic Bound of Learning Rate", ICLR 2019,
https://arxiv.org/abs/1902.09843. The update follows the authors' reference implementation
(github.com/Luolc/AdaBound), which drops the paper's extra 1/sqrt(t) factor.
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="koocr")
class AdaBound(keras.optimizers.Optimizer):
    """AdaBound (or AMSBound) optimizer.

    Each step, Adam's step size ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) / (sqrt(v) + epsilon)`` is
    clipped into ``[final * (1 - 1/(gamma*t + 1)), final * (1 + 1/(gamma*t))]`` and multiplied by the
    first moment ``m``; ``final = final_lr * lr / base_lr``, so the bounds follow learning-rate
    schedules. The bounds start near [0, inf) (plain Adam) and close in on ``final`` (plain SGD with
    momentum) at a speed set by ``gamma``.

    Args:
        learning_rate: float, schedule or callable: Adam's step size. Defaults to 0.001.
        final_lr: the SGD learning rate the bounds converge to, for ``learning_rate == base_lr``.
            Defaults to 0.1.
        beta_1: decay of the first moment estimate. Defaults to 0.9.
        beta_2: decay of the second moment estimate. Defaults to 0.999.
        gamma: convergence speed of the bounds. Defaults to 1e-3.
        epsilon: added to ``sqrt(v)`` for numerical stability. Defaults to 1e-8.
        amsbound: use the running maximum of ``v`` (AMSBound). Defaults to False.
        base_lr: the learning rate ``final_lr`` is quoted against. Defaults to the starting value of
            ``learning_rate``; it is saved in the config because ``learning_rate`` is saved at its
            current value, which callbacks such as ReduceLROnPlateau may have lowered.
        **kwargs: the standard optimizer arguments (name, weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ...). ``weight_decay`` is Keras's decoupled decay, not the
            reference implementation's L2 term added to the gradient.
    """

    def __init__(self, learning_rate=0.001, final_lr=0.1, beta_1=0.9, beta_2=0.999, gamma=1e-3,
                 epsilon=1e-8, amsbound=False, base_lr=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        for arg, value in (('final_lr', final_lr), ('gamma', gamma), ('epsilon', epsilon)):
            if not value > 0:
                raise ValueError(f'{arg} must be > 0, got {value!r}')
        for arg, value in (('beta_1', beta_1), ('beta_2', beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f'{arg} must be in [0, 1), got {value!r}')
        if base_lr is None:
            base_lr = _initial_value(learning_rate)
        if not base_lr > 0:
            raise ValueError(f'base_lr must be > 0, got {base_lr!r}')
        self.final_lr = final_lr
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.gamma = gamma
        self.epsilon = epsilon
        self.amsbound = amsbound
        self.base_lr = float(base_lr)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = [self.add_variable_from_reference(v, 'momentum') for v in var_list]
        self._velocities = [self.add_variable_from_reference(v, 'velocity') for v in var_list]
        if self.amsbound:
            self._velocity_hats = [self.add_variable_from_reference(v, 'velocity_hat')
                                   for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]

        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        if self.amsbound:
            v_hat = self._velocity_hats[index]
            self.assign(v_hat, ops.maximum(v_hat, v))
            v = v_hat

        # As in the reference, both bias corrections sit inside the clipped step size and the raw
        # m multiplies it afterwards, so the bounds limit exactly |update| / |m|.
        bias_1 = 1 - ops.power(ops.cast(self.beta_1, dtype), step)
        bias_2 = 1 - ops.power(ops.cast(self.beta_2, dtype), step)
        step_size = ops.divide(lr * ops.sqrt(bias_2) / bias_1, ops.add(ops.sqrt(v), self.epsilon))
        # Scaling final_lr by lr / base_lr lets a learning-rate schedule or ReduceLROnPlateau lower
        # the SGD end point too, as in the reference implementation.
        final_lr = self.final_lr * lr / self.base_lr
        lower = final_lr * (1 - 1 / (self.gamma * step + 1))
        upper = final_lr * (1 + 1 / (self.gamma * step))
        self.assign_sub(variable, ops.multiply(ops.clip(step_size, lower, upper), m))

    def get_config(self):
        config = super().get_config()
        config.update({
            'final_lr': self.final_lr,
            'beta_1': self.beta_1,
            'beta_2': self.beta_2,
            'gamma': self.gamma,
            'epsilon': self.epsilon,
            'amsbound': self.amsbound,
            'base_lr': self.base_lr,
        })
        return config


def _initial_value(learning_rate):
    """The learning rate at step 0, whether a number, a schedule or a callable."""
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = learning_rate(0)
    elif callable(learning_rate):
        learning_rate = learning_rate()
    return float(ops.convert_to_numpy(learning_rate))
