"""Gumbel-perturbed logits conditioned on their argmax: shared by REBAR, RELAX, Gumbel-Rao."""

import numpy as np
import tensorflow as tf

from relaxed_dist import _numerics


def conditional_gumbel(logits, hard, seed, sample_shape=()):
  """z~ ~ (logits + G | argmax(logits + G) = b), G i.i.d. standard Gumbel, b = argmax(hard).

  With E_k = -log V_k i.i.d. Exp(1) and L = logsumexp(logits):

      z~_b = L - log E_b,    z~_k = -log(E_k exp(-logits_k) + E_b exp(-L))  (k != b):

  the maximum is Gumbel(L) independently of where it is, and every other
  coordinate is a Gumbel(logits_k) truncated at z~_b (REBAR, Tucker et al.
  2017, app. C; RELAX, Grathwohl et al. 2018, app. B). With V held fixed z~ is
  a differentiable function of `logits`: the reparameterisation REBAR and RELAX
  differentiate. Masked classes (logit -inf) get -inf. Half types compute in
  float32 and return their own dtype.

  Args:
    logits: float tensor [..., K].
    hard: one-hot tensor broadcasting against `logits`, the conditioning argmax b.
    seed: int (deterministic), stateless `int32[2]` seed, or None (fresh).
    sample_shape: leading shape of independent draws given the same b.

  Returns:
    A tensor of shape `sample_shape + broadcast_shape(logits, hard)`.
  """
  logits = tf.convert_to_tensor(logits)
  dtype = logits.dtype
  logits = tf.cast(logits, _numerics.compute_dtype(dtype))  # half types: float32 noise
  hard = tf.cast(hard, logits.dtype)
  shape = tf.concat([tf.cast(sample_shape, tf.int32),
                     tf.broadcast_dynamic_shape(tf.shape(logits), tf.shape(hard))], 0)
  log_e = tf.math.log(-tf.math.log(_numerics.uniform(shape, seed, logits.dtype)))
  is_top = hard > 0
  log_e_top = tf.reduce_sum(tf.where(is_top, log_e, tf.zeros_like(log_e)), -1, keepdims=True)
  log_normalizer = tf.reduce_logsumexp(logits, -1, keepdims=True)
  masked = _numerics.is_masked(logits)
  finite_logits = tf.where(masked, tf.zeros_like(logits), logits)
  others = -_logaddexp(log_e - finite_logits, log_e_top - log_normalizer)
  others = tf.where(masked, tf.constant(-np.inf, logits.dtype), others)
  return tf.cast(tf.where(is_top, log_normalizer - log_e_top, others), dtype)


def _logaddexp(x, y):
  """log(exp(x) + exp(y)), without overflow."""
  return tf.maximum(x, y) + tf.math.softplus(-tf.abs(x - y))
