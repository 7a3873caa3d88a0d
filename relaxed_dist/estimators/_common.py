"""What the estimators share: argument checks, seeds and the discrete sample.

Every estimator draws its discrete sample b = one_hot(argmax(logits + G)) from
the first of the seeds `seeds(seed)` returns, so for one seed all estimators
evaluate f at the same sample; any further noise comes from the second seed.
"""

import numbers

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist import _parameters
from relaxed_dist import functional
from relaxed_dist.estimators.estimate import Estimate


def checked_logits(f, logits):
  """`logits` as a float tensor with a class axis; rejects a non-callable `f`."""
  if not callable(f):
    raise TypeError(f'Argument `f` must be callable; got {type(f).__name__}.')
  logits = tf.convert_to_tensor(logits, _parameters.resolve_dtype(logits=logits))
  _parameters.check_event_rank('logits', logits)
  return logits


def checked_temperature(temperature, dtype, logits):
  """A positive temperature as a tensor of `dtype` (variables are read now),
  shaped to broadcast against `logits`: a scalar, one per example, or one with
  a class axis of size 1 (`_parameters.temperature_per_logit`)."""
  temperature = tf.cast(tf.convert_to_tensor(temperature, dtype_hint=dtype), dtype)
  _parameters.check_static_temperature(temperature)
  return _parameters.temperature_per_logit(temperature, logits, axis=-1)


def checked_count(name, value, minimum=1):
  """A Python int >= `minimum`, or a ValueError naming the argument."""
  if (not isinstance(value, numbers.Integral) or isinstance(value, bool)
      or value < minimum):
    raise ValueError(f'Argument `{name}` must be an integer >= {minimum}; got {value!r}.')
  return int(value)


def seeds(seed):
  """(sample_seed, extra_seed): two independent stateless seeds from `seed`.

  `seed` is an int (deterministic), an `int32[2]` tensor or None (fresh), as in
  `_numerics.sanitize_seed`.
  """
  return tfp.random.split_seed(_numerics.sanitize_seed(seed), n=2,
                               salt='relaxed_dist.estimators')


def gumbel_max(logits, seed, sample_shape=()):
  """(G, b): Gumbel noise and the one-hot sample b = one_hot(argmax(logits + G)).

  b ~ Categorical(softmax(logits)) (the Gumbel-max trick); both have shape
  `sample_shape + logits.shape`. b has the dtype of `logits`, G the compute
  dtype: half types draw the noise and take the argmax in float32, whose Gumbel
  tails they cannot hold, and relax in float32 (logits / T overflows float16's
  65504 already at logits 70 and T = 1e-3).
  """
  shape = tf.concat([tf.cast(sample_shape, tf.int32), tf.shape(logits)], 0)
  compute_dtype = _numerics.compute_dtype(logits.dtype)
  noise = _numerics.gumbel(shape, seed, compute_dtype)
  num_classes = logits.shape[-1] if logits.shape[-1] is not None else tf.shape(logits)[-1]
  hard = tf.one_hot(tf.argmax(tf.cast(logits, compute_dtype) + noise, -1), num_classes,
                    dtype=logits.dtype)
  return noise, hard


def temperature_and_sample(f, logits, seed, temperature):
  """(logits, temperature, G, b): the checked arguments and the Gumbel noise in
  the compute dtype, and the Gumbel-max sample b that the temperature-controlled
  estimators share, in the logits' dtype (see `gumbel_max`)."""
  logits = checked_logits(f, logits)
  noise, hard = gumbel_max(logits, seeds(seed)[0])
  temperature = checked_temperature(temperature, noise.dtype, logits)
  return tf.cast(logits, noise.dtype), temperature, noise, hard


def relaxation(perturbed, temperature, dtype=None):
  """softmax(perturbed / T), computed in the dtype of `perturbed`, returned in
  `dtype` (default: that one)."""
  soft = tf.nn.softmax(_numerics.divide_by_temperature(perturbed, temperature))
  return soft if dtype is None else tf.cast(soft, dtype)


def log_prob(logits, hard):
  """log p(b) = sum_k b_k log softmax(logits)_k; a `where`, so masked classes are not NaN."""
  log_probs = tf.nn.log_softmax(logits)
  return tf.reduce_sum(tf.where(hard > 0, log_probs, tf.zeros_like(log_probs)), -1)


def value_with_gradient_of(value, of):
  """`value` exactly in the forward pass; its gradient goes to `of` unchanged."""
  return functional._identity_gradient(of, value)  # pylint: disable=protected-access


def evaluate(f, z):
  """f(z) in the dtype of `z`, checked to be one loss per example: shape z.shape[:-1]."""
  loss = tf.convert_to_tensor(f(z))
  if not loss.shape.is_compatible_with(z.shape[:-1]):
    raise ValueError(
        f'Argument `f` must map samples of shape {z.shape} to per-example losses '
        f'of shape {z.shape[:-1]}; got shape {loss.shape}.')
  return tf.cast(loss, z.dtype)


def straight_through_estimate(f, hard, soft):
  """Estimate with f evaluated at `hard` and differentiated as if at `soft`
  (computed in the compute dtype, cast to that of `hard`)."""
  loss = evaluate(f, value_with_gradient_of(hard, tf.cast(soft, hard.dtype)))
  return Estimate(tf.stop_gradient(loss), loss)
