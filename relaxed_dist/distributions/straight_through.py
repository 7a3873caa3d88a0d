"""StraightThrough: hard samples forward, the relaxed sample's gradient backward."""

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist import functional
from relaxed_dist.distributions import relaxed_bernoulli
from relaxed_dist.distributions import relaxed_onehot_categorical

tfd = tfp.distributions

_CATEGORICAL = (relaxed_onehot_categorical.RelaxedOneHotCategorical,
                tfd.RelaxedOneHotCategorical)
_BERNOULLI = (relaxed_bernoulli.RelaxedBernoulli, tfd.RelaxedBernoulli)


class StraightThrough(tfd.AutoCompositeTensorDistribution):
  """The straight-through Gumbel-Softmax estimator as a distribution.

  `sample(seed=s)` is `one_hot(argmax(y))` (or `1[y > 1/2]` for a Bernoulli)
  of the relaxed sample `y = distribution.sample(seed=s)`, with the gradient
  of `y` (Jang et al. 2017, sec. 2.2). By Gumbel-max the hard samples are
  exactly Categorical(softmax(logits)) / Bernoulli(sigmoid(logits)), and
  `log_prob(hard)` is that discrete log-probability mass,
  `sum_k hard_k log softmax(logits)_k` (`hard log sigmoid(logits) + (1 - hard)
  log sigmoid(-logits)`), with 0 * -inf = 0, which is what an ELBO with a
  discrete latent needs. `sample_hard_and_soft` returns both samples
  explicitly. In float16 and bfloat16, `y` is drawn from a float32 copy of
  the distribution and rounded after the hard sample is taken from it:
  near-equal components rounded first would tie, or round to exactly 1/2, and
  bias the hard samples. For relaxed_dist's classes `y` is then
  `distribution.sample(seed=s)` up to 1 ulp; TFP's draw other noise in float32.

  Wraps `RelaxedOneHotCategorical` or `RelaxedBernoulli` (relaxed_dist's or
  TFP's); any other distribution is rejected with a `TypeError`, since
  "hard" has no meaning for it.
  """

  def __init__(self, distribution, validate_args=False, allow_nan_stats=None,
               name='StraightThrough'):
    """Wraps `distribution`, a RelaxedOneHotCategorical or RelaxedBernoulli;
    `allow_nan_stats` defaults to the wrapped distribution's."""
    parameters = dict(locals())
    if not isinstance(distribution, _CATEGORICAL + _BERNOULLI):
      raise TypeError(
          'Argument `distribution` must be a RelaxedOneHotCategorical or '
          f'RelaxedBernoulli; got {type(distribution).__name__}.')
    self._distribution = distribution
    with tf.name_scope(name) as name:
      super().__init__(
          dtype=distribution.dtype,
          reparameterization_type=tfd.FULLY_REPARAMETERIZED,
          validate_args=validate_args,
          allow_nan_stats=(distribution.allow_nan_stats if allow_nan_stats is None
                           else allow_nan_stats),
          parameters=parameters,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return dict(distribution=tfp.util.BatchedComponentProperties())

  @property
  def distribution(self):
    """The wrapped relaxed distribution."""
    return self._distribution

  @property
  def is_categorical(self):
    """True for one-hot events, False for independent {0, 1} values."""
    return isinstance(self._distribution, _CATEGORICAL)

  def _event_shape(self):
    return self._distribution.event_shape

  def _event_shape_tensor(self):
    return self._distribution.event_shape_tensor()

  def _hard(self, soft):
    if self.is_categorical:
      return functional.straight_through(soft)
    return functional.straight_through_round(soft)

  def sample_hard_and_soft(self, sample_shape=(), seed=None, name='sample_hard_and_soft'):
    """(hard, soft): the hard sample and the relaxed sample it was rounded from."""
    with tf.name_scope(name):
      return self._hard_and_soft(sample_shape, seed)

  def _call_sample_n(self, sample_shape, seed, **kwargs):
    """The hard sample of the wrapped distribution's `sample(sample_shape)`,
    which takes every form of sample shape (and names a bad one as given)."""
    if kwargs:
      raise TypeError(f'StraightThrough.sample got unexpected arguments {sorted(kwargs)}.')
    return self._hard_and_soft(sample_shape, seed)[0]

  def _hard_and_soft(self, sample_shape, seed):
    soft = self._relaxed_in_compute_dtype().sample(sample_shape, seed=seed)
    return tf.cast(self._hard(soft), self.dtype), tf.cast(soft, self.dtype)

  def _relaxed_in_compute_dtype(self):
    """The wrapped distribution, with its temperature and logits cast to
    float32 if they are in a half type (logits even if it was given probs,
    which rounded to a half type need not sum to 1 within float32's tolerance)."""
    distribution = self._distribution
    if self.dtype not in _numerics.HALF_DTYPES:
      return distribution
    return distribution.copy(
        temperature=tf.cast(distribution.temperature, tf.float32),
        logits=tf.cast(distribution.logits_parameter(), tf.float32), probs=None)

  def _log_prob(self, hard):
    dtype = _numerics.compute_dtype(self.dtype)
    logits = tf.cast(self._logits_of_every_batch_member(), dtype)
    hard = tf.cast(hard, dtype)
    if self.is_categorical:
      return tf.cast(_expected_log(hard, tf.nn.log_softmax(logits), axis=-1), self.dtype)
    return tf.cast(_expected_log(hard, tf.math.log_sigmoid(logits))
                   + _expected_log(1. - hard, tf.math.log_sigmoid(-logits)), self.dtype)

  def _mean(self):
    return tf.broadcast_to(self._distribution.probs_parameter(),
                           self._batch_and_event_shape())

  def _mode(self):
    logits = self._logits_of_every_batch_member()
    if self.is_categorical:
      return tf.one_hot(tf.argmax(logits, -1), tf.shape(logits)[-1], dtype=self.dtype)
    return tf.cast(logits > 0, self.dtype)

  def _logits_of_every_batch_member(self):
    """The logits broadcast to batch + event shape: a temperature may add
    batch dimensions that the logits lack."""
    return tf.broadcast_to(self._distribution.logits_parameter(),
                           self._batch_and_event_shape())

  def _batch_and_event_shape(self):
    return tf.concat([self.batch_shape_tensor(), self.event_shape_tensor()], 0)

  def _default_event_space_bijector(self):
    return None


def _expected_log(weights, log_mass, axis=None):
  """sum of weights * log_mass (over `axis`, if any), with 0 * -inf = 0.

  Where the mass is 0 (log_mass = -inf), a positive weight makes it -inf and
  the gradient with respect to the weight is 0 instead of -inf, so that it
  stays finite through a straight-through sample.
  """
  impossible = tf.math.is_inf(log_mass)
  terms = weights * tf.where(impossible, tf.zeros_like(log_mass), log_mass)
  hits_impossible = tf.logical_and(weights > 0, impossible)
  if axis is not None:
    terms = tf.reduce_sum(terms, axis)
    hits_impossible = tf.reduce_any(hits_impossible, axis)
  return tf.where(hits_impossible, tf.constant(-float('inf'), terms.dtype), terms)
