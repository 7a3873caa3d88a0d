"""Noise, dtypes and log-space helpers shared by every distribution.

All randomness in the package is drawn here, with an explicit Philox algorithm:
under `jit_compile=True` on CPU the default stateless algorithm is about 80x
slower. Half-precision types draw noise and reduce in float32 and hand back
their own dtype.
"""

import ml_dtypes
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow.python.ops import control_flow_util  # pylint: disable=g-direct-tensorflow-import

HALF_DTYPES = (tf.float16, tf.bfloat16)
_PHILOX = 1  # tf.random.Algorithm.PHILOX
FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def finfo(dtype):
  """`numpy.finfo` for any TF float dtype, bfloat16 included."""
  return ml_dtypes.finfo(tf.as_dtype(dtype).as_numpy_dtype)


def compute_dtype(dtype):
  """The dtype arithmetic runs in: float32 for float16/bfloat16, else `dtype`."""
  dtype = tf.as_dtype(dtype)
  return tf.float32 if dtype in HALF_DTYPES else dtype


def cast_clamped(x, dtype):
  """x cast to `dtype`, finite values clamped to its range when that is
  narrower: a float16 log-space sample of -1e5 becomes -65504, not -inf,
  while a masked class's -inf stays -inf."""
  if tf.as_dtype(dtype) == tf.float16:
    info = finfo(dtype)
    x = tf.where(tf.math.is_inf(x), x,
                 tf.clip_by_value(x, float(info.min), float(info.max)))
  return tf.cast(x, dtype)


def sanitize_seed(seed):
  """Maps a seed to a stateless `int32[2]` tensor.

  A Python int maps deterministically to its two 32-bit words (`[0, seed]`
  for 0 <= seed < 2**31), so the same int gives the
  same sample in every call (TFP treats ints as stateful op seeds). `None` draws
  a fresh seed; a tensor or pair of ints is used as a stateless seed.
  """
  if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
    seed = int(seed) % 2**64  # any int: its two 32-bit words
    words = np.array([seed >> 32, seed & 0xFFFFFFFF], np.uint32).view(np.int32)
    return tf.constant(words, dtype=tf.int32)
  if tf.is_tensor(seed) and seed.dtype == tf.int32 and seed.shape == [2]:
    return seed
  return tfp.random.sanitize_seed(seed)


def sample_shape(n, *parameters):
  """[n] (or the list of ints n) + the broadcast shape of `parameters`:
  plain Python when static."""
  leading = list(n) if isinstance(n, list) else [n]
  shape = tf.TensorShape([])
  for parameter in parameters:
    shape = tf.broadcast_static_shape(shape, parameter.shape)
  if shape.is_fully_defined():
    if tf.is_tensor(n):  # a scalar batch's [] would become a float32 tensor
      return tf.concat([tf.reshape(n, [-1]), tf.constant(shape.as_list(), n.dtype)], 0)
    return leading + shape.as_list()
  dynamic = tf.shape(parameters[0])
  for parameter in parameters[1:]:
    dynamic = tf.broadcast_dynamic_shape(dynamic, tf.shape(parameter))
  return tf.concat([leading, dynamic], 0)


def uniform(shape, seed, dtype):
  """U ~ Uniform[tiny, 1) with Philox, so that log(U) and log(-log(U)) are finite.

  The stateless Philox op is keyed directly by the 64 bits of the seed pair:
  `tf.random.stateless_uniform(alg='philox')` first scrambles the seed with a
  dozen small ops, which costs more than the sampling itself in eager mode.
  """
  key = tf.reshape(tf.bitcast(sanitize_seed(seed), tf.uint64), [1])
  unit = tf.raw_ops.StatelessRandomUniformV2(
      shape=shape, key=key, counter=tf.zeros([2], tf.uint64), alg=_PHILOX,
      dtype=dtype)
  return unit + tf.constant(finfo(dtype).tiny, dtype)


def exponential(shape, seed, dtype):
  """E = -log U: standard exponential noise, in [6e-8, 87.4] for float32."""
  return -tf.math.log(uniform(shape, seed, dtype))


def gumbel(shape, seed, dtype):
  """G = -log(-log U) = -log E: standard Gumbel noise, always finite."""
  return -tf.math.log(exponential(shape, seed, dtype))


def logistic(shape, seed, dtype):
  """L = log U - log(1 - U): standard logistic noise, always finite."""
  u = uniform(shape, seed, dtype)
  return tf.math.log(u) - tf.math.log1p(-u)


def in_xla_context():
  """True while tracing for `jit_compile=True` (XLA fuses elementwise selects,
  so a branch that skips them only costs there)."""
  return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def is_masked(logits):
  """True for masked classes: those whose logit is -inf."""
  return tf.equal(logits, tf.constant(-np.inf, logits.dtype))


def log_of_probability(p):
  """log p, -inf with a zero gradient (not NaN) for p in [0, tiny).

  A probability of 0 is a masked class or a point mass: its logit is -inf and
  receives a zero gradient, which a plain log's backward pass multiplies by
  1/0. The inner `where` keeps 1/0 out of the backward pass. p below the
  compute dtype's tiny (subnormal there) count as 0: CPU kernels read them as
  0 in some comparisons and not in others, and the two `where`s must agree;
  float16's subnormals are normal float32 numbers and keep their log.
  Negative or NaN p stay NaN.
  """
  dtype = compute_dtype(p.dtype)  # float32's tiny is 0 in float16: compare there
  zero = (p >= 0.) & (tf.cast(p, dtype) < finfo(dtype).tiny)
  return tf.where(zero, tf.constant(-np.inf, p.dtype),
                  tf.math.log(tf.where(zero, tf.ones_like(p), p)))


def with_gradient_of(value, surrogate):
  """`value`, differentiated as `surrogate` where the two differ (where they
  are equal, infinities included, `value` and its own gradient)."""
  return tf.where(tf.equal(value, surrogate), value,
                  surrogate + tf.stop_gradient(value - surrogate))


def divide_by_temperature(logits, temperature):
  """logits / T, as `multiply_no_nan(logits, 1 / min(T, 1 / tiny))`; T is
  float32 or float64 (the compute dtype), tiny its smallest normal number.

  At an infinite logit softmax and sigmoid saturate, so its upstream gradient
  is 0; a plain product would hand the temperature 0 * inf = NaN there,
  `multiply_no_nan` hands it 0. That covers first-order reverse mode only:
  forward-mode and second derivatives in T stay NaN when a logit is infinite.
  Every cure measured costs more than that niche is worth (README, Known
  limitations). (Multiplying also beats dividing under XLA on CPU, which keeps
  a division by a tensor as a division.)

  T is held at 1/tiny (8.5e37 in float32) at most: past it 1/T is subnormal
  and flushes to 0, at T = inf it is 0, and `multiply_no_nan` would then turn
  an infinite logit into 0 (a masked class got mass, a Bernoulli logit of
  +-inf sampled 1/2). 1/(1/tiny) is tiny exactly.
  """
  largest = tf.constant(1 / finfo(temperature.dtype).tiny, temperature.dtype)
  reciprocal = tf.math.reciprocal(tf.minimum(temperature, largest))
  if in_xla_context():
    return _multiply_no_nan_for_xla(logits, reciprocal)
  return tf.math.multiply_no_nan(logits, reciprocal)


@tf.custom_gradient
def _multiply_no_nan_for_xla(x, r):
  """`multiply_no_nan(x, r)` whose gradient for x is g * r, not
  `multiply_no_nan(g, r)`: under XLA on CPU that select on r == 0 made
  bfloat16 sample + log_prob + gradient 1.4-1.5x slower (README, Performance).

  Forward mode inside the compiled function differentiates the forward op,
  `multiply_no_nan`; an accumulator outside it takes this gradient, whose ops
  are as finite at a -inf x. Only under XLA: each trace of a custom gradient
  registers a gradient function that TensorFlow never frees, holding the
  traced graph (tensorflow/tensorflow#27492; README, Known limitations).
  """
  def gradient(upstream):
    x_axes, r_axes = tf.raw_ops.BroadcastGradientArgs(s0=tf.shape(x), s1=tf.shape(r))
    return (tf.reshape(tf.reduce_sum(upstream * r, x_axes), tf.shape(x)),
            tf.reshape(tf.reduce_sum(tf.math.multiply_no_nan(x, upstream), r_axes),
                       tf.shape(r)))
  return tf.math.multiply_no_nan(x, r), gradient


def gumbel_perturbed_logits(logits, temperature, shape, seed):
  """z = (logits + G) / T, G ~ Gumbel of `shape`; exactly -inf at masked classes."""
  return divide_by_temperature(logits + gumbel(shape, seed, logits.dtype), temperature)


def logistic_perturbed_logits(logits, temperature, shape, seed):
  """z = (logits + L) / T, L ~ Logistic of `shape`; +-inf logits stay +-inf."""
  return divide_by_temperature(logits + logistic(shape, seed, logits.dtype), temperature)
