"""LogitRelaxedBernoulli: the Binary Concrete distribution in logit space."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist import _parameters
from relaxed_dist.distributions import temperature_logits_distribution

tfb = tfp.bijectors


def temperature_and_logit_properties(dtype):
  """Parameter properties shared by the Bernoulli relaxations (TFP's layout).

  Temperature, logits and probs are all scalar batch parameters that broadcast
  together; temperature is kept positive by Softplus, probs in (0, 1) by Sigmoid.
  """
  return dict(
      temperature=tfp.util.ParameterProperties(
          default_constraining_bijector_fn=(
              lambda: tfb.Softplus(low=_numerics.finfo(dtype).eps))),
      logits=tfp.util.ParameterProperties(),
      probs=tfp.util.ParameterProperties(
          default_constraining_bijector_fn=tfb.Sigmoid,
          is_preferred=False))


class LogitRelaxedBernoulli(temperature_logits_distribution.TemperatureLogitsDistribution):
  """The logit of a Binary Concrete sample: a Logistic(a / T, 1 / T) variable.

  Sample: `x = (a + L) / T` with L standard logistic, so `sigmoid(x)` is a
  `RelaxedBernoulli` sample. With `z = a - T x`:
  `log p(x) = log T + z - 2 softplus(z)` and `P(X <= x) = sigmoid(-z)`.

  Logits of +-inf (probs 1 or 0) are a point mass at +-inf: samples are
  exactly +-inf with a zero temperature gradient, and `log_prob` is +inf there
  and -inf elsewhere, never NaN.
  """

  EVENT_NDIMS = 0
  probs_from_logits = staticmethod(tf.math.sigmoid)

  @staticmethod
  def logits_from_probs(probs):
    """log p - log(1 - p): +-inf at p = 1 / 0, with a zero gradient there."""
    return _numerics.log_of_probability(probs) - _numerics.log_of_probability(1. - probs)

  def __init__(self, temperature, logits=None, probs=None, validate_args=False,
               allow_nan_stats=True, name='LogitRelaxedBernoulli'):
    """Builds the distribution; exactly one of `logits` and `probs`.

    Args:
      temperature: positive float tensor broadcasting against `logits`. May be
        a `tf.Variable` or `tfp.util.DeferredTensor`, read at use time.
      logits: float tensor of log-odds `log p - log(1 - p)`.
      probs: float tensor of probabilities in [0, 1].
      validate_args: check parameters at run time.
      allow_nan_stats: TFP's flag, kept for compatibility.
      name: name scope of the ops.
    """
    super().__init__(temperature, logits=logits, probs=probs,
                     validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                     name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return temperature_and_logit_properties(dtype)

  def _event_shape(self):
    return tf.TensorShape([])

  def _event_shape_tensor(self):
    return tf.constant([], dtype=tf.int32)

  def _standardize(self, x, temperature, logits):
    """(z, degenerate, x) in the compute dtype, z = a - T x.

    `degenerate` marks where x or a is infinite; z is 0 there, so that no inf
    meets an arithmetic op and the gradients stay finite.
    """
    x = tf.cast(x, logits.dtype)
    degenerate = tf.math.is_inf(x) | tf.math.is_inf(logits)
    zero = tf.zeros([], x.dtype)
    z = (tf.where(degenerate, zero, logits)
         - temperature * tf.where(degenerate, zero, x))
    return z, degenerate, x

  def _sample_n(self, n, seed=None):
    temperature, logits = self._compute_parameters()
    return _numerics.cast_clamped(_draw(temperature, logits, n, seed), self.dtype)

  def _sample_and_log_prob(self, sample_shape, seed):
    x, log_prob = self._sample_and_log_density(sample_shape, seed)
    return _numerics.cast_clamped(x, self.dtype), tf.cast(log_prob, self.dtype)

  def _sample_and_log_density(self, sample_shape, seed):
    """(x, log p(x)) in the compute dtype, the parameters read once: in
    float16 the density of x as drawn, not of x clamped to +-65504 by the cast."""
    _parameters.sample_shape_sizes(sample_shape)  # a negative size is named
    temperature, logits = self._compute_parameters()
    x = _draw(temperature, logits, tf.reduce_prod(sample_shape), seed)
    x = tf.reshape(x, tf.concat([sample_shape, tf.shape(x)[1:]], 0))
    return x, self._log_density(x, temperature, logits)

  def _log_prob(self, x):
    return tf.cast(self._log_density(x, *self._compute_parameters()), self.dtype)

  def _log_density(self, x, temperature, logits):
    """log p(x) in the compute dtype."""
    z, degenerate, x = self._standardize(x, temperature, logits)
    # z - 2 softplus(z), written symmetrically: log sigmoid(z) + log sigmoid(-z).
    log_prob = (tf.math.log(temperature)
                - tf.math.softplus(z) - tf.math.softplus(-z))
    inf = tf.constant(np.inf, x.dtype)
    point_mass = tf.where(tf.equal(x, logits), inf, -inf)
    return tf.where(degenerate, point_mass, log_prob)

  def _cdf_argument(self, x):
    """-z = T x - a, so that P(X <= x) = sigmoid(-z); +-inf when degenerate."""
    temperature, logits = self._compute_parameters()
    z, degenerate, x = self._standardize(x, temperature, logits)
    inf = tf.constant(np.inf, x.dtype)
    return tf.where(degenerate, tf.where(x >= logits, inf, -inf), -z)

  def _log_cdf(self, x):
    return tf.cast(tf.math.log_sigmoid(self._cdf_argument(x)), self.dtype)

  def _cdf(self, x):
    return tf.cast(tf.math.sigmoid(self._cdf_argument(x)), self.dtype)

  def _log_survival_function(self, x):
    return tf.cast(tf.math.log_sigmoid(-self._cdf_argument(x)), self.dtype)

  def _survival_function(self, x):
    return tf.cast(tf.math.sigmoid(-self._cdf_argument(x)), self.dtype)

  def _default_event_space_bijector(self):
    return tfb.Identity(validate_args=self.validate_args)


def _draw(temperature, logits, n, seed):
  """n samples (an int, a scalar tensor or a list of ints: the sample shape)
  x = (logits + L) / T in the compute dtype, L standard logistic."""
  shape = _numerics.sample_shape(n, logits, temperature)
  return _numerics.logistic_perturbed_logits(logits, temperature, shape, seed)
