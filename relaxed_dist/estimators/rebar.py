"""REBAR and RELAX: unbiased estimators with a relaxed, variance-tuned control variate.

Both draw z = logits + G, b = one_hot(argmax z) and z~ ~ (z | b)
(`conditional_gumbel`), relax with s(z) = softmax(z / T), and estimate

    g = (f(b) - c(s(z~))) d log p(b)/d logits + d c(s(z))/d logits - d c(s(z~))/d logits,

unbiased for any c since E[c(s(z))] = E[E[c(s(z~)) | b]]: c = eta f + baseline
for REBAR, a learned network for RELAX.

Tuning through the surrogate. E[g] does not depend on the estimator's own
variables (eta, baseline, T, the network), so minimising E[sum_k g_k^2] over them
minimises the variance. The per-example g is computed under a nested tape, on a
stop_gradient copy of the logits, as a differentiable function of those
variables, and the surrogate is

    f(b) + sum_k stop_gradient(g_k) (logits_k - stop_gradient(logits_k)) + V,

where V is zero-valued and, through `tf.custom_gradient`, sends the gradient
of sum_k g_k^2 (weighted per example like the surrogate) to the estimator's
variables only: nothing reaches the logits, and f's own variables (REBAR's c
calls f) receive d f(b) alone. One surrogate and one optimiser step train the
model and tune the estimator. g_k is per example when f treats the rows of a
batch independently (no batch statistics).
"""

import math
import types

import keras
import tensorflow as tf

from relaxed_dist.estimators import _common
from relaxed_dist.estimators.conditional_gumbel import conditional_gumbel
from relaxed_dist.estimators.estimate import Estimate


class RebarParameters(tf.Module):
  """REBAR's control-variate scale `eta`, baseline and relaxation temperature, as variables.

  The control variate is c(y) = eta f(y) + baseline. The constant baseline
  changes only the learning signal f(b) - c(s(z~)); the authors' implementation
  (tensorflow/models research/rebar) learns it too, input-dependent. The
  temperature is held as `log_temperature`, so it stays positive. Passed to
  `rebar`, all three receive the gradient of the estimator's variance through
  its surrogate (Tucker et al. 2017, sec. 3.3).
  """

  def __init__(self, eta=1.0, temperature=0.5, baseline=0.0, name=None):
    super().__init__(name=name)
    if not temperature > 0:
      raise ValueError(f'Argument `temperature` must be positive; got {temperature!r}.')
    self.eta = tf.Variable(eta, dtype=tf.float32, name='eta')
    self.baseline = tf.Variable(baseline, dtype=tf.float32, name='baseline')
    self.log_temperature = tf.Variable(math.log(temperature), dtype=tf.float32,
                                       name='log_temperature')

  @property
  def temperature(self):
    return tf.exp(self.log_temperature)


class RelaxControlVariate(tf.Module):
  """RELAX's control variate c(z) = network(softmax(z / T)), with T learned.

  `network` (a Keras model or a `tf.Module`) maps relaxed samples [rows, K] to
  [rows] or [rows, 1]; it must not hold f's variables. Its trainable variables
  and `log_temperature` receive the gradient of the estimator's variance
  through `relax`'s surrogate.
  """

  def __init__(self, network, temperature=0.5, name=None):
    super().__init__(name=name)
    if not callable(network) or not hasattr(network, 'trainable_variables'):
      raise TypeError('Argument `network` must be a callable with trainable_variables '
                      f'(a Keras model or tf.Module); got {type(network).__name__}.')
    if not temperature > 0:
      raise ValueError(f'Argument `temperature` must be positive; got {temperature!r}.')
    self.network = network
    self.log_temperature = tf.Variable(math.log(temperature), dtype=tf.float32,
                                       name='log_temperature')

  @classmethod
  def mlp(cls, num_classes, hidden_units=16, temperature=0.5, seed=0):
    """A control variate with a one-hidden-layer tanh network, as in RELAX's toy."""
    network = keras.Sequential([
        keras.Input([num_classes]),
        keras.layers.Dense(hidden_units, activation='tanh',
                           kernel_initializer=keras.initializers.GlorotUniform(seed)),
        keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
    ])
    return cls(network, temperature)

  @property
  def temperature(self):
    return tf.exp(self.log_temperature)

  @property
  def trainable_variables(self):
    return (self.log_temperature,) + tuple(self.network.trainable_variables)

  def __call__(self, relaxed):
    """c = network(relaxed) per example; leading axes are flattened for the network."""
    rows = tf.reshape(relaxed, [-1, tf.shape(relaxed)[-1]])
    value = tf.reshape(self.network(rows), tf.shape(relaxed)[:-1])
    return tf.cast(value, relaxed.dtype)


# What `rebar` uses without RebarParameters: constants, nothing to tune.
_UNTUNED_REBAR = types.SimpleNamespace(eta=1., baseline=0., temperature=0.5,
                                       trainable_variables=())


def rebar(f, logits, *, seed, parameters=None):
  """REBAR (Tucker et al. 2017): the relaxed f as control variate, c(y) = eta f(y) + baseline.

  g = (f(b) - c(s(z~))) d log p(b) + eta (d f(s(z)) - d f(s(z~))), s(z) = softmax(z / T).
  Unbiased. 3 evaluations of f: at b, s(z) and s(z~). `parameters`: a
  `RebarParameters`, tuned through the surrogate (see the module docstring);
  None fixes eta = 1, baseline = 0 and T = 0.5.
  """
  logits = _common.checked_logits(f, logits)
  if parameters is None:
    parameters = _UNTUNED_REBAR
  elif not isinstance(parameters, RebarParameters):
    raise TypeError('Argument `parameters` must be None or a RebarParameters; got '
                    f'{type(parameters).__name__}.')

  def control(relaxed, dtype):
    eta, baseline = (tf.cast(v, dtype) for v in (parameters.eta, parameters.baseline))
    return eta * tf.cast(_common.evaluate(f, relaxed), dtype) + baseline

  return _estimate(f, logits, seed, control, lambda: parameters.temperature,
                   parameters.trainable_variables)


def relax(f, logits, *, seed, control_variate):
  """RELAX (Grathwohl et al. 2018): a learned control variate c = network(s(z)).

  g = (f(b) - c(s(z~))) d log p(b) + d c(s(z)) - d c(s(z~)), s(z) = softmax(z / T).
  Unbiased. 1 evaluation of f (and 2 of the network). `control_variate`: a
  `RelaxControlVariate`, tuned through the surrogate (see the module docstring).
  """
  logits = _common.checked_logits(f, logits)
  if not isinstance(control_variate, RelaxControlVariate):
    raise TypeError('Argument `control_variate` must be a RelaxControlVariate; got '
                    f'{type(control_variate).__name__}.')
  return _estimate(f, logits, seed, lambda relaxed, dtype: tf.cast(control_variate(relaxed), dtype),
                   lambda: control_variate.temperature, control_variate.trainable_variables)


def _estimate(f, logits, seed, control, temperature, variables):
  """The Estimate for c(z) = control(softmax(z / temperature()), compute dtype).

  `temperature` is a callable so that the variables it reads are read under the
  variance tape; `variables` are the estimator's own, which alone receive the
  variance gradient. f sees the logits' dtype; g, its square and their
  gradients are taken in the compute dtype (float32 for half types), where
  sum_k g_k^2 of a float16 estimate does not overflow.
  """
  sample_seed, conditional_seed = _common.seeds(seed)
  noise, hard = _common.gumbel_max(logits, sample_seed)  # noise in the compute dtype
  loss = _common.evaluate(f, hard)
  watched = [_backing_variable(v) for v in variables]

  @tf.custom_gradient
  def gradient_and_zero(logits, loss):
    """(g, 0): the per-example estimate and a zero carrying d sum_k g_k^2."""
    dtype = noise.dtype
    compute_logits = tf.cast(logits, dtype)
    with tf.GradientTape(persistent=True, watch_accessed_variables=False) as variance_tape:
      variance_tape.watch(watched)
      with tf.GradientTape() as tape:
        tape.watch(compute_logits)
        t = tf.cast(temperature(), dtype)
        c = control(_common.relaxation(compute_logits + noise, t, logits.dtype), dtype)
        z_tilde = conditional_gumbel(compute_logits, hard, conditional_seed)
        c_tilde = control(_common.relaxation(z_tilde, t, logits.dtype), dtype)
        difference = c - c_tilde
      score = tf.cast(hard, dtype) - tf.nn.softmax(compute_logits)  # d log p(b) / d logits
      g = ((tf.cast(loss, dtype) - c_tilde)[..., None] * score
           + tape.gradient(difference, compute_logits))
      variance = tf.reduce_sum(tf.square(g), -1)

    def grad_fn(unused_d_g, d_zero, variables=None):
      no_input_gradients = (None, None)
      if variables is None:
        return no_input_gradients
      gradients = {}
      if d_zero is not None and watched:
        gradients = dict(zip(
            (v.ref() for v in watched),
            variance_tape.gradient(variance, watched,
                                   output_gradients=tf.cast(d_zero, dtype))))
      return no_input_gradients, [gradients.get(v.ref()) for v in variables]

    return (tf.cast(g, logits.dtype), tf.zeros_like(loss)), grad_fn

  g, zero = gradient_and_zero(tf.stop_gradient(logits), tf.stop_gradient(loss))
  # logits - stop_gradient(logits) would be NaN at a masked (-inf) logit.
  zero_with_logits_gradient = _common.value_with_gradient_of(tf.zeros_like(logits), logits)
  linear = tf.reduce_sum(tf.stop_gradient(g) * zero_with_logits_gradient, -1)
  return Estimate(tf.stop_gradient(loss), loss + linear + zero)


def _backing_variable(variable):
  """The tf.Variable a Keras variable reads: what tapes and custom_gradient see."""
  return variable.value if isinstance(variable, keras.Variable) else variable
