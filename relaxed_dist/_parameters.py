"""Parameter handling shared by the relaxed distributions and functional ops.

Dtype resolution, conversion that keeps `tf.Variable` / `DeferredTensor`
parameters live, and the checks behind `validate_args`. This is also the one
place that touches TFP internals (`tensor_util`).
"""

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.internal import tensor_util

from relaxed_dist import _numerics

is_ref = tensor_util.is_ref


def _dtype_of(value):
  dtype = getattr(value, 'dtype', None)
  if dtype is None or type(value) in (bool, int, float):
    return None
  return tf.as_dtype(dtype)


def resolve_dtype(**named_values):
  """The common float dtype of the named parameters (float32 if none has one).

  Raises a `TypeError` naming the argument for a non-float dtype, and naming
  both arguments when two float dtypes disagree.
  """
  resolved_name, resolved = None, None
  for name, value in named_values.items():
    if value is None:
      continue
    dtype = _dtype_of(value)
    if dtype is None:
      continue
    if dtype not in _numerics.FLOAT_DTYPES:
      raise TypeError(
          f'Argument `{name}` must have a floating dtype (float16, bfloat16, '
          f'float32 or float64); got dtype {dtype.name}.')
    if resolved is not None and dtype != resolved:
      raise TypeError(
          f'Arguments `{resolved_name}` and `{name}` must have the same dtype; '
          f'got {resolved.name} and {dtype.name}.')
    resolved_name, resolved = name, dtype
  return resolved or tf.float32


def convert(value, dtype, name):
  """Tensor from `value`, keeping variables and deferred tensors as they are."""
  return tensor_util.convert_nonref_to_tensor(value, dtype=dtype, name=name)


def exactly_one_of(logits, probs):
  if (logits is None) == (probs is None):
    raise ValueError(
        'Pass exactly one of `logits` and `probs`; got '
        f'{"both" if logits is not None else "neither"}.')


def check_event_rank(name, value):
  """Logits or probs need a class axis: rank >= 1 and at least one class."""
  shape = value.shape
  if shape.rank is not None and shape.rank < 1:
    raise ValueError(
        f'Argument `{name}` must have rank at least 1 (a class axis); got '
        f'shape {shape}.')
  if shape.rank is not None and shape[-1] == 0:
    raise ValueError(f'Argument `{name}` must have at least one class; got '
                     f'shape {shape}.')


def check_broadcastable(temperature, param, name, event_ndims):
  """Temperature must broadcast against the batch part of logits/probs."""
  batch_shape = param.shape[:-1] if event_ndims else param.shape
  try:
    tf.broadcast_static_shape(temperature.shape, batch_shape)
  except ValueError:
    where = f'`{name}[..., 0]`' if event_ndims else f'`{name}`'
    raise ValueError(
        f'Argument `temperature` (shape {temperature.shape}) must broadcast '
        f'against {where} (shape {batch_shape}).') from None


def temperature_per_logit(temperature, logits, axis=None):
  """`temperature` shaped to broadcast against `logits` without extending it,
  for functions that return one value per logit (distributions differ: a
  temperature may extend their batch).

  With a class `axis`: a scalar; one per example, of lower
  rank than `logits` and broadcasting to their shape without that axis (which
  is then inserted where the temperature reaches it); or one of the logits'
  rank with size 1 on that axis. With `axis` None: a scalar or one
  broadcasting to the shape of `logits`. Shapes known when tracing are
  checked then, the rest when the function runs; a ValueError (an
  InvalidArgumentError at run time; under XLA, a compile error about the
  broadcast) names the shapes.
  """
  rank, given = logits.shape.rank, temperature.shape
  if given.rank == 0:
    return temperature
  if rank is None or given.rank is None:
    raise ValueError('Argument `temperature` must be a scalar when its rank or that of '
                     f'`logits` is unknown; got shape {given} for `logits` of shape '
                     f'{logits.shape}.')
  if axis is not None:
    axis %= rank
  keeps_axis = axis is not None and given.rank == rank
  if axis is None:
    expected = f'the shape of `logits`, {logits.shape}'
  else:
    batch_shape = logits.shape[:axis].concatenate(logits.shape[axis + 1:])
    expected = (f'the shape of `logits` without its class axis, {batch_shape} (or '
                f'{logits.shape} with a class axis of size 1)')
    if not keeps_axis and given.rank > rank - 1 - axis:
      temperature = tf.expand_dims(temperature, axis - rank)
  message = (f'Argument `temperature` (shape {given}) must be a scalar or broadcast to '
             f'{expected}.')
  try:
    fits = (tf.broadcast_static_shape(temperature.shape, logits.shape).is_compatible_with(
        logits.shape) and not (keeps_axis and given[axis] not in (1, None)))
  except ValueError:
    fits = False
  if not fits:
    raise ValueError(message)
  if temperature.shape.is_fully_defined() and logits.shape.is_fully_defined():
    return temperature
  if _numerics.in_xla_context():
    # XLA compiles an Assert to nothing; a broadcast to the logits' shape,
    # with a class axis of size 1, fails to compile unless the temperature
    # fits, and fuses into its use.
    shape = tf.shape(logits)
    if axis is not None:
      shape = tf.concat([shape[:axis], [1], shape[axis + 1:]], 0)
    return tf.broadcast_to(temperature, shape)
  temperature_shape = tf.shape(temperature)
  aligned = tf.shape(logits)[rank - temperature.shape.rank:]
  fits = tf.reduce_all((temperature_shape == 1) | (temperature_shape == aligned))
  if keeps_axis:
    fits = tf.logical_and(fits, tf.equal(temperature_shape[axis], 1))
  with tf.control_dependencies([tf.debugging.Assert(fits, [message, temperature_shape])]):
    return tf.identity(temperature)


def static_value(value):
  """NumPy value of a constant tensor, else None (variables are never static)."""
  if value is None or is_ref(value):
    return None
  return tf.get_static_value(value)


def sample_shape_sizes(sample_shape):
  """The sizes of a sample shape known eagerly or when tracing, else None; a
  negative one is a ValueError naming the shape as given."""
  value = sample_shape if tf.executing_eagerly() else tf.get_static_value(sample_shape)
  if value is None:
    return None
  sizes = [int(size) for size in np.reshape(value, [-1])]
  if min(sizes, default=0) < 0:
    raise ValueError(f'Argument `sample_shape` must be non-negative; got {sizes}.')
  return sizes


def check_static_temperature(temperature):
  """Rejects a known non-positive or NaN temperature at construction."""
  value = static_value(temperature)
  if value is not None and not np.all(np.asarray(value, np.float64) > 0):
    raise ValueError(
        f'Argument `temperature` must be positive and not NaN; got {value}.')


def temperature_assertions(temperature):
  return [tf.debugging.assert_positive(
      temperature, message='Argument `temperature` must be positive.')]


def check_static_probs(probs, event_ndims):
  """Rejects known probs outside [0, 1] (or, for events, rows not summing to 1)."""
  value = static_value(probs)
  if value is None:
    return
  value = np.asarray(value, np.float64)
  if not np.all((value >= 0) & (value <= 1)):
    raise ValueError(f'Argument `probs` must lie in [0, 1]; got {value}.')
  if event_ndims and not np.allclose(value.sum(-1), 1., atol=simplex_atol(probs.dtype)):
    raise ValueError(
        f'Argument `probs` must sum to 1 over the last axis; got sums '
        f'{value.sum(-1)}.')


def probs_assertions(probs, event_ndims):
  one = tf.ones([], probs.dtype)
  assertions = [
      tf.debugging.assert_non_negative(
          probs, message='Argument `probs` must be non-negative.'),
      tf.debugging.assert_less_equal(
          probs, one, message='Argument `probs` must be at most 1.')]
  if event_ndims:
    assertions.append(assert_sums_to_one(probs, 'probs'))
  return assertions


def simplex_atol(dtype):
  """How far from 1 a row of the simplex may sum: sqrt(eps) of its dtype."""
  return float(np.sqrt(_numerics.finfo(dtype).eps))


def assert_sums_to_one(value, name):
  total = tf.reduce_sum(tf.cast(value, _numerics.compute_dtype(value.dtype)), -1)
  return tf.debugging.assert_near(
      total, tf.ones_like(total), atol=simplex_atol(value.dtype), rtol=0.,
      message=f'Argument `{name}` must sum to 1 over the last axis.')
