"""ExpRelaxedCategorical: the Concrete distribution in log space (ExpConcrete)."""

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist import _parameters
from relaxed_dist.distributions import temperature_logits_distribution

tfb = tfp.bijectors


def temperature_and_class_properties(dtype):
  """Parameter properties shared by the categorical relaxations (TFP's layout).

  Temperature is a batch parameter broadcasting against `logits[..., 0]` and is
  kept positive by Softplus; logits and probs carry one event (class) axis.
  """
  return dict(
      temperature=tfp.util.ParameterProperties(
          shape_fn=lambda sample_shape: sample_shape[:-1],
          default_constraining_bijector_fn=(
              lambda: tfb.Softplus(low=_numerics.finfo(dtype).eps))),
      logits=tfp.util.ParameterProperties(event_ndims=1),
      probs=tfp.util.ParameterProperties(
          event_ndims=1,
          default_constraining_bijector_fn=tfb.SoftmaxCentered,
          is_preferred=False))


class ExpRelaxedCategorical(temperature_logits_distribution.TemperatureLogitsDistribution):
  """The log of a Concrete (Gumbel-Softmax) sample: a point of the log-simplex.

  Sample: `x = log_softmax((logits + G) / T)` with G i.i.d. standard Gumbel.
  Density (Maddison et al. 2017, appendix), over the K' classes with finite logits:
  `log p(x) = lgamma(K') + (K'-1) log T + sum_k (a_k - T x_k) - K' logsumexp(a - T x)`.

  A drop-in for `tfp.distributions.ExpRelaxedOneHotCategorical` that also works
  in float16 and bfloat16, compiles under XLA with Philox noise, and accepts
  logits of -inf (masked classes: their samples are exactly -inf, they are left
  out of the density, and their logits receive a zero gradient).
  """

  EVENT_NDIMS = 1
  logits_from_probs = staticmethod(_numerics.log_of_probability)
  probs_from_logits = staticmethod(tf.math.softmax)

  def __init__(self, temperature, logits=None, probs=None, validate_args=False,
               allow_nan_stats=True, name='ExpRelaxedCategorical'):
    """Builds the distribution; exactly one of `logits` and `probs`.

    Args:
      temperature: positive float tensor broadcasting against `logits[..., 0]`.
        May be a `tf.Variable` or `tfp.util.DeferredTensor`, read at use time.
      logits: float tensor `[..., K]` of unnormalised log-probabilities;
        -inf marks a masked class.
      probs: float tensor `[..., K]` of class probabilities (rows sum to 1).
      validate_args: check parameters and `log_prob` inputs at run time.
      allow_nan_stats: TFP's flag, kept for compatibility.
      name: name scope of the ops.
    """
    super().__init__(temperature, logits=logits, probs=probs,
                     validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                     name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return temperature_and_class_properties(dtype)

  def _event_shape(self):
    shape = self._named_parameter()[0].shape
    return shape[-1:] if shape.rank is not None else tf.TensorShape([None])

  def _event_shape_tensor(self):
    return tf.shape(self._named_parameter()[0])[-1:]

  def _sample_n(self, n, seed=None):
    x, _ = _sample_log_simplex(*self._compute_parameters(), n, seed)
    return _numerics.cast_clamped(x, self.dtype)

  def _sample_and_log_prob(self, sample_shape, seed):
    return self._sample_and_log_density(sample_shape, seed, on_simplex=False)

  def _sample_and_log_density(self, sample_shape, seed, on_simplex):
    """(x, _log_density_of(x, on_simplex)), the density taken before x is cast.

    The parameters are read and cast once: in float16 the sample path and
    the density path each carry temperature gradients of order T K x that
    cancel, and must meet in float32, not overflow separately.

    On the simplex the density comes from the noise x was drawn with. The
    sample returned there is exp(x), on which neither density depends, so
    both have the same derivatives. Here x itself is returned, and TFP's
    density has a partial derivative in x that the noise formula lacks.
    """
    _parameters.sample_shape_sizes(sample_shape)  # a negative size is named
    temperature, logits = self._compute_parameters()
    x, exponential = _sample_log_simplex(
        temperature, logits, tf.reduce_prod(sample_shape), seed)
    if on_simplex:
      log_prob = _own_sample_log_density(temperature, logits, x, exponential)
    else:
      log_prob = _log_density(temperature, logits, x, on_simplex)

    def unflatten(value):
      return tf.reshape(value, tf.concat([sample_shape, tf.shape(value)[1:]], 0))
    return (_numerics.cast_clamped(unflatten(x), self.dtype),
            tf.cast(unflatten(log_prob), self.dtype))

  def _log_prob(self, x):
    return self._log_density_of(x, on_simplex=False)

  def _log_density_of(self, x, on_simplex):
    """log p(x); with `on_simplex`, log p(y = exp(x)) = log p(x) - sum_k x_k."""
    temperature, logits = self._compute_parameters()
    log_prob = _log_density(temperature, logits, tf.cast(x, logits.dtype), on_simplex)
    return tf.cast(log_prob, self.dtype)

  def _default_event_space_bijector(self):
    return tfb.Chain([tfb.Log(validate_args=self.validate_args),
                      tfb.SoftmaxCentered(validate_args=self.validate_args)],
                     validate_args=self.validate_args)

  def _sample_control_dependencies(self, x):
    if not self.validate_args:
      return []
    return [
        tf.debugging.assert_non_positive(
            x, message='Argument `value` of ExpRelaxedCategorical must be <= 0 '
                       '(a point of the log-simplex).'),
        tf.debugging.assert_near(
            tf.reduce_logsumexp(tf.cast(x, _numerics.compute_dtype(x.dtype)), -1),
            tf.zeros([], _numerics.compute_dtype(x.dtype)),
            atol=_parameters.simplex_atol(x.dtype), rtol=0.,
            message='Argument `value` of ExpRelaxedCategorical must satisfy '
                    'logsumexp(value) == 0 over the last axis.'),
    ]


def _sample_log_simplex(temperature, logits, n, seed):
  """n (an int, a scalar tensor or a list of ints: the sample shape) samples x = log_softmax((logits + G) / T) in the compute dtype, and
  the noise they were drawn with as E = exp(-G) (standard exponential)."""
  shape = _numerics.sample_shape(n, logits, temperature)
  exponential = _numerics.exponential(shape, seed, logits.dtype)
  perturbed = _numerics.divide_by_temperature(
      logits - tf.math.log(exponential), temperature)
  return tf.nn.log_softmax(perturbed), exponential


def _own_sample_log_density(temperature, logits, x, exponential):
  """log p(exp(x)) of a sample drawn with noise E, from the noise.

  a - T x = log E + T logsumexp((a - log E) / T), so sum_k log_softmax(a - T x)_k
  = sum_k log E_k - K log sum_k E_k: the density is
  lgamma(K) + (K-1) log T + sum_k log E_k - K log sum_k E_k - sum_k x_k,
  and depends on the logits only through x. A masked class (x = -inf) makes
  it +inf; such rows, and XLA, take the general formula.
  """
  if _numerics.in_xla_context():
    return _log_density(temperature, logits, x, on_simplex=True)
  num_classes = tf.cast(tf.shape(x)[-1], x.dtype)
  log_prob = (tf.reduce_sum(tf.math.log(exponential), -1)
              - num_classes * tf.math.log(tf.reduce_sum(exponential, -1))
              - tf.reduce_sum(x, -1) + tf.math.lgamma(num_classes)
              + (num_classes - 1.) * tf.math.log(temperature[..., 0]))
  return tf.cond(tf.math.is_finite(tf.reduce_sum(log_prob)), lambda: log_prob,
                 lambda: _masked_log_density(temperature, logits, x, on_simplex=True))


def _log_density(temperature, logits, x, on_simplex):
  """The density over the unmasked classes, in the compute dtype.

  Masking costs a few elementwise ops: under XLA they fuse and always run;
  elsewhere a `tf.cond` runs them only when some logit is -inf.
  """
  masked = lambda: _masked_log_density(temperature, logits, x, on_simplex)
  if _numerics.in_xla_context():
    return masked()
  return tf.cond(_numerics.is_masked(tf.reduce_min(logits)), masked,
                 lambda: _concrete_log_density(temperature, logits, x, on_simplex))


def _concrete_log_density(temperature, logits, x, on_simplex, live=None):
  """lgamma(K) + (K-1) log T + sum_k log_softmax(a - T x)_k [- sum_k x_k].

  The sum of log_softmax(u) is taken as sum_k (u_k - m) - K log sum_k exp(u_k - m)
  with m the row maximum: two row sums instead of a tensor of K log-probabilities.
  With `live` (1 for the classes that count, else 0) the first sum and K run
  over the live classes only.
  """
  if live is None:
    num_classes = tf.cast(tf.shape(logits)[-1], logits.dtype)
    live = 1.
  else:
    num_classes = tf.reduce_sum(live, -1)
  u = logits - temperature * x
  u -= tf.stop_gradient(tf.reduce_max(u, -1, keepdims=True))
  log_prob = (tf.reduce_sum(u * live, -1)
              - num_classes * tf.math.log(tf.reduce_sum(tf.exp(u), -1)))
  if on_simplex:
    log_prob -= tf.reduce_sum(x, -1)
  return (log_prob + tf.math.lgamma(num_classes)
          + (num_classes - 1.) * tf.math.log(temperature[..., 0]))


def _masked_log_density(temperature, logits, x, on_simplex):
  """The density with sums and K over the live classes (logits > -inf).

  A masked class's x is -inf on own samples: `multiply_no_nan` makes it 0
  (with a zero gradient), and its logit becomes a finite -max/2 whose
  exponential is 0, so no inf meets an arithmetic op.
  """
  live = tf.cast(~_numerics.is_masked(logits), logits.dtype)
  finite_logits = tf.maximum(logits, -0.5 * _numerics.finfo(logits.dtype).max)
  return _concrete_log_density(temperature, finite_logits,
                               tf.math.multiply_no_nan(x, live), on_simplex, live)


ExpRelaxedOneHotCategorical = ExpRelaxedCategorical
