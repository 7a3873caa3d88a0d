"""RelaxedBernoulli: the Binary Concrete distribution on (0, 1)."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist.distributions import clamped_sigmoid
from relaxed_dist.distributions import logit_relaxed_bernoulli
from relaxed_dist.distributions import temperature_logits_distribution

tfd = tfp.distributions


def _logit(y):
  """log y - log(1 - y) in the compute dtype: -inf for y <= 0, +inf for y >= 1."""
  y = tf.cast(y, _numerics.compute_dtype(y.dtype))
  inf = tf.constant(np.inf, y.dtype)
  outside = (y <= 0.) | (y >= 1.)
  inside_y = tf.where(outside, tf.constant(0.5, y.dtype), y)
  logit = tf.math.log(inside_y) - tf.math.log1p(-inside_y)
  return tf.where(y <= 0., -inf, tf.where(y >= 1., inf, logit))


class RelaxedBernoulli(temperature_logits_distribution.ParametersOfBase,
                       tfd.TransformedDistribution):
  """Binary Concrete sample `y = sigmoid((a + L) / T)`, L standard logistic.

  The `LogitRelaxedBernoulli` pushed through a sigmoid (a `ClampedSigmoid`):
  `log p(y) = log p_logit(x) - log sigmoid(x) - log sigmoid(-x)`, x = logit(y),
  and `P(Y <= y) = sigmoid(T logit(y) - a)`. Sample gradients are finite
  everywhere (a plain sigmoid of finite noisy logits) where TFP 0.25 returns
  NaN once a sample rounds to 1; own samples are evaluated exactly (the
  bijector caches x), and a fresh 0 or 1 is evaluated at the nearest normal
  number inside (0, 1), so `log_prob` is finite where TFP's is +-inf.
  """

  def __init__(self, temperature, logits=None, probs=None, validate_args=False,
               allow_nan_stats=True, name='RelaxedBernoulli'):
    """Same arguments as `LogitRelaxedBernoulli`."""
    parameters = dict(locals())
    base = logit_relaxed_bernoulli.LogitRelaxedBernoulli(
        temperature, logits=logits, probs=probs, validate_args=validate_args,
        allow_nan_stats=allow_nan_stats)
    super().__init__(
        base, clamped_sigmoid.ClampedSigmoid(validate_args=validate_args),
        validate_args=validate_args, parameters=parameters, name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return logit_relaxed_bernoulli.temperature_and_logit_properties(dtype)

  def _change_of_variables(self, x, logit_log_prob):
    """log p(y) = log p(x) - log sigmoid(x) - log sigmoid(-x), from x and
    log p(x) in the compute dtype, rounded once to the distribution's dtype.

    At x = +-inf (a point mass, or a draw past the compute dtype's range)
    log p(x) is already +-inf and the Jacobian term is left out.
    """
    jacobian = tf.where(tf.math.is_inf(x), tf.zeros([], x.dtype),
                        -tf.math.softplus(x) - tf.math.softplus(-x))
    return tf.cast(logit_log_prob - jacobian, self.dtype)

  def _log_prob(self, y):
    x = self.bijector.inverse_in_compute_dtype(y)
    temperature, logits = self.distribution._compute_parameters()  # pylint: disable=protected-access
    # probs of exactly 0 or 1: a point mass at y = 0 or 1, which the clamp moved.
    at_point_mass = tf.math.is_inf(logits) & tf.equal(tf.cast(y, x.dtype),
                                                      tf.math.sigmoid(logits))
    x = tf.where(at_point_mass, logits, x)
    return self._change_of_variables(
        x, self.distribution._log_density(x, temperature, logits))  # pylint: disable=protected-access

  def _sample_and_log_prob(self, sample_shape, seed):
    """The density and Jacobian of x as drawn (in float16, not clamped)."""
    x, log_prob = self.distribution._sample_and_log_density(sample_shape, seed)  # pylint: disable=protected-access
    y = self.bijector.forward(_numerics.cast_clamped(x, self.dtype))
    return y, self._change_of_variables(x, log_prob)

  def _logit_of_value(self, y):
    return tf.cast(_logit(y), self.dtype)

  def _cdf(self, y):
    return self.distribution.cdf(self._logit_of_value(y))

  def _log_cdf(self, y):
    return self.distribution.log_cdf(self._logit_of_value(y))

  def _survival_function(self, y):
    return self.distribution.survival_function(self._logit_of_value(y))

  def _log_survival_function(self, y):
    return self.distribution.log_survival_function(self._logit_of_value(y))

  def _default_event_space_bijector(self):
    return clamped_sigmoid.ClampedSigmoid(validate_args=self.validate_args)

  def _sample_control_dependencies(self, y):
    if not self.validate_args:
      return []
    name = 'Argument `value` of RelaxedBernoulli'
    return [
        tf.debugging.assert_non_negative(y, message=f'{name} must be >= 0.'),
        tf.debugging.assert_less_equal(
            y, tf.ones([], y.dtype), message=f'{name} must be <= 1.'),
    ]
