"""Functional Gumbel-Softmax and straight-through ops (torch.nn.functional style)."""

import tensorflow as tf

from relaxed_dist import _numerics
from relaxed_dist import _parameters


@tf.custom_gradient
def _identity_gradient(soft, hard):
  """Returns `hard` exactly; its gradient flows to `soft` unchanged."""
  return tf.identity(hard), lambda upstream: (upstream, None)


def straight_through(soft, axis=-1):
  """one_hot(argmax(soft)) forward, identity gradient backward.

  Exactly one 1 per slice along `axis`, even on ties (argmax picks one index).

  Args:
    soft: float tensor of scores or relaxed one-hot vectors.
    axis: the class axis.

  Returns:
    A tensor like `soft` holding exact one-hot vectors, whose gradient w.r.t.
    `soft` is the identity (Bengio et al. 2013).
  """
  soft = tf.convert_to_tensor(soft)
  return _identity_gradient(soft, one_hot_argmax(soft, axis, soft.dtype))


def one_hot_argmax(scores, axis=-1, dtype=None):
  """one_hot(argmax(scores)) along `axis`, in `dtype` (default: the scores')."""
  axis = _positive_axis(axis, scores)
  num_classes = scores.shape[axis]
  return tf.one_hot(tf.argmax(scores, axis=axis),
                    num_classes if num_classes is not None else tf.shape(scores)[axis],
                    axis=axis, dtype=dtype or scores.dtype)


def straight_through_round(soft):
  """1[soft > 1/2] forward, identity gradient backward: the Bernoulli case."""
  soft = tf.convert_to_tensor(soft)
  return _identity_gradient(soft, tf.cast(soft > 0.5, soft.dtype))


def gumbel_softmax(logits, temperature=1.0, hard=False, axis=-1, seed=None):
  """y = softmax((logits + G) / T) along `axis`, G i.i.d. standard Gumbel.

  As `torch.nn.functional.gumbel_softmax`: with `hard=True` the output is the
  exact one-hot argmax of y with y's gradient (straight-through). Logits of
  -inf (masked classes) give exact zeros. Half types compute in float32.

  Args:
    logits: float tensor `[..., K, ...]` of unnormalised log-probabilities.
    temperature: positive scalar, or a tensor broadcasting to the shape of
      `logits` without `axis`, or to that of `logits` with `axis` of size 1.
    hard: return straight-through one-hot vectors instead of relaxed ones.
    axis: the class axis.
    seed: int (deterministic), stateless `int32[2]` seed, or None (fresh).

  Returns:
    A tensor of the shape and dtype of `logits`.
  """
  logits, temperature = _logits_and_temperature(logits, temperature)
  axis = _positive_axis(axis, logits)
  temperature = _parameters.temperature_per_logit(temperature, logits, axis)
  z = _numerics.gumbel_perturbed_logits(
      tf.cast(logits, temperature.dtype), temperature, tf.shape(logits), seed)
  soft = tf.nn.softmax(z, axis=axis)
  if not hard:
    return tf.cast(soft, logits.dtype)
  # The argmax of the compute-dtype sample: in a half type near-equal top
  # components could round to a tie.
  return _identity_gradient(tf.cast(soft, logits.dtype),
                            one_hot_argmax(soft, axis, logits.dtype))


def gumbel_sigmoid(logits, temperature=1.0, hard=False, seed=None):
  """y = sigmoid((logits + L) / T), L i.i.d. standard logistic: Binary Concrete.

  The elementwise (independent Bernoulli) counterpart of `gumbel_softmax`:
  `hard=True` returns exact {0, 1} values `1[y > 1/2]` with y's gradient.

  Args:
    logits: float tensor of Bernoulli logits, any shape.
    temperature: positive scalar or a tensor broadcasting against `logits`.
    hard: return straight-through {0, 1} values instead of relaxed ones.
    seed: int (deterministic), stateless `int32[2]` seed, or None (fresh).

  Returns:
    A tensor of the shape and dtype of `logits`.
  """
  logits, temperature = _logits_and_temperature(logits, temperature, event_rank=0)
  temperature = _parameters.temperature_per_logit(temperature, logits)
  z = _numerics.logistic_perturbed_logits(
      tf.cast(logits, temperature.dtype), temperature, tf.shape(logits), seed)
  soft = tf.cast(tf.math.sigmoid(z), logits.dtype)
  if not hard:
    return soft
  return _identity_gradient(soft, tf.cast(z > 0, logits.dtype))  # z, not a rounded y


def _logits_and_temperature(logits, temperature, event_rank=1):
  """Checked logits tensor, and temperature in their compute dtype."""
  dtype = _parameters.resolve_dtype(logits=logits)
  logits = tf.convert_to_tensor(logits, dtype)
  if event_rank:
    _parameters.check_event_rank('logits', logits)
  compute_dtype = _numerics.compute_dtype(dtype)
  temperature = tf.cast(
      tf.convert_to_tensor(temperature, dtype_hint=compute_dtype), compute_dtype)
  _parameters.check_static_temperature(temperature)
  return logits, temperature


def _positive_axis(axis, tensor):
  """`axis` as an index in [0, rank), or a ValueError; as given if the rank is unknown."""
  rank = tensor.shape.rank
  if rank is None:
    return axis
  if not -rank <= axis < rank:
    raise ValueError(f'Argument `axis` must be in [-{rank}, {rank}) for a tensor of rank '
                     f'{rank}; got {axis}.')
  return axis % rank

