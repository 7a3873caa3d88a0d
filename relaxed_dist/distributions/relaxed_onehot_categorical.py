"""RelaxedOneHotCategorical: the Concrete / Gumbel-Softmax distribution on the simplex."""

import functools

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _parameters
from relaxed_dist.distributions import clamped_exp
from relaxed_dist.distributions import exp_relaxed_categorical
from relaxed_dist.distributions import temperature_logits_distribution

tfb = tfp.bijectors
tfd = tfp.distributions


@functools.lru_cache(maxsize=None)
def _clamped_exp(validate_args):
  """One shared ClampedExp per flag: bijectors are immutable, and building one
  is a third of an eager `RelaxedOneHotCategorical(...)` call."""
  return clamped_exp.ClampedExp(validate_args=validate_args)


class RelaxedOneHotCategorical(temperature_logits_distribution.ParametersOfBase,
                               tfd.TransformedDistribution):
  """Gumbel-Softmax sample `y = softmax((logits + G) / T)` on the simplex.

  The `ExpRelaxedCategorical` pushed through `exp` (a `ClampedExp` bijector):
  `log p(y) = log p_exp(log y) - sum_k log y_k`, the sum over classes with
  finite logits. Own samples are evaluated exactly (the bijector caches
  log y); a fresh input with exact zeros is evaluated at `max(y, tiny)`, so
  `log_prob` is finite where TFP 0.25 returns NaN. Masked classes (logits -inf)
  sample exactly 0 and are left out of the density.
  """

  def __init__(self, temperature, logits=None, probs=None, validate_args=False,
               allow_nan_stats=True, name='RelaxedOneHotCategorical'):
    """Same arguments as `ExpRelaxedCategorical`."""
    parameters = dict(locals())
    base = exp_relaxed_categorical.ExpRelaxedCategorical(
        temperature, logits=logits, probs=probs, validate_args=validate_args,
        allow_nan_stats=allow_nan_stats)
    super().__init__(base, _clamped_exp(validate_args),
                     validate_args=validate_args, parameters=parameters, name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return exp_relaxed_categorical.temperature_and_class_properties(dtype)

  def _log_prob(self, y):
    return self.distribution._log_density_of(  # pylint: disable=protected-access
        self.bijector.inverse_in_compute_dtype(y), on_simplex=True)

  def _sample_and_log_prob(self, sample_shape, seed):
    log_y, log_prob = self.distribution._sample_and_log_density(  # pylint: disable=protected-access
        sample_shape, seed, on_simplex=True)
    return self.bijector.forward(log_y), log_prob

  def _default_event_space_bijector(self):
    return tfb.SoftmaxCentered(validate_args=self.validate_args)

  def _sample_control_dependencies(self, y):
    if not self.validate_args:
      return []
    name = 'Argument `value` of RelaxedOneHotCategorical'
    return [
        tf.debugging.assert_non_negative(y, message=f'{name} must be >= 0.'),
        tf.debugging.assert_less_equal(
            y, tf.ones([], y.dtype), message=f'{name} must be <= 1.'),
        _parameters.assert_sums_to_one(y, 'value'),
    ]
