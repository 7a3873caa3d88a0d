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

HALF_DTYPES = (tf.float16, tf.bfloat16)
FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def finfo(dtype):
  """`numpy.finfo` for any TF float dtype, bfloat16 included."""
  return ml_dtypes.finfo(tf.as_dtype(dtype).as_numpy_dtype)


def compute_dtype(dtype):
  """The dtype arithmetic runs in: float32 for float16/bfloat16, else `dtype`."""
  dtype = tf.as_dtype(dtype)
  return tf.float32 if dtype in HALF_DTYPES else dtype


def log_tiny(dtype):
  """log of the smallest normal number of `dtype`: where log-inputs are clamped."""
  return float(np.log(finfo(dtype).tiny))


def sanitize_seed(seed):
  """Maps a seed to a stateless `int32[2]` tensor.

  A Python int maps deterministically to `[0, seed]`, so the same int gives the
  same sample in every call (TFP treats ints as stateful op seeds). `None` draws
  a fresh seed; a tensor or pair of ints is used as a stateless seed.
  """
  if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
    return tf.constant([0, int(seed)], dtype=tf.int32)
  return tfp.random.sanitize_seed(seed)


def uniform(shape, seed, dtype):
  """U ~ Uniform[tiny, 1) with Philox, so that log(U) and log(-log(U)) are finite."""
  return tf.random.stateless_uniform(
      shape, seed=sanitize_seed(seed), minval=finfo(dtype).tiny, maxval=1.,
      dtype=dtype, alg='philox')


def gumbel(shape, seed, dtype):
  """G = -log(-log U): standard Gumbel noise, always finite."""
  return -tf.math.log(-tf.math.log(uniform(shape, seed, dtype)))


def logistic(shape, seed, dtype):
  """L = log U - log(1 - U): standard logistic noise, always finite."""
  u = uniform(shape, seed, dtype)
  return tf.math.log(u) - tf.math.log1p(-u)


def is_masked(logits):
  """True for masked classes: those whose logit is -inf."""
  return tf.equal(logits, tf.constant(-np.inf, logits.dtype))


def _scale(noisy_logits, temperature):
  """noisy_logits / T. With `multiply_no_nan`, an infinite logit (whose
  upstream gradient is 0: softmax or sigmoid saturates there) gets a zero
  gradient instead of 0 * inf = NaN, at the cost of no extra op."""
  return tf.math.multiply_no_nan(noisy_logits, tf.math.reciprocal(temperature))


def gumbel_perturbed_logits(logits, temperature, shape, seed):
  """z = (logits + G) / T, G ~ Gumbel of `shape`; exactly -inf at masked classes."""
  return _scale(logits + gumbel(shape, seed, logits.dtype), temperature)


def logistic_perturbed_logits(logits, temperature, shape, seed):
  """z = (logits + L) / T, L ~ Logistic of `shape`; +-inf logits stay +-inf."""
  return _scale(logits + logistic(shape, seed, logits.dtype), temperature)
