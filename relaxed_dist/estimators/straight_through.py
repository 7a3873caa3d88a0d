"""Straight-through estimators: f at the one-hot sample b, a surrogate Jacobian backward.

Each evaluates f once, at b ~ Categorical(softmax(logits)), and differentiates
as if f had been evaluated at a soft vector s(logits): grad = (ds/dlogits)^T df/db.
They differ in s; all are biased.
"""

import numbers

import tensorflow as tf

from relaxed_dist.estimators import _common


def straight_through(f, logits, *, seed, temperature=1.0):
  """Straight-through (Bengio et al. 2013): s = softmax(logits / T), no noise backward.

  grad = (d softmax(logits / T) / d logits)^T df/db. Biased, 1 evaluation of f.
  """
  logits, temperature, _, hard = _common.temperature_and_sample(f, logits, seed, temperature)
  return _common.straight_through_estimate(f, hard, _common.relaxation(logits, temperature))


def st_gumbel_softmax(f, logits, *, seed, temperature=1.0):
  """Straight-through Gumbel-Softmax (Jang et al. 2017): s = softmax((logits + G) / T).

  b = one_hot(argmax(logits + G)) forward, the same noise G in s backward:
  grad = (ds/dlogits)^T df/db. Biased, 1 evaluation of f.
  """
  logits, temperature, noise, hard = _common.temperature_and_sample(
      f, logits, seed, temperature)
  return _common.straight_through_estimate(
      f, hard, _common.relaxation(logits + noise, temperature))


def gapped_straight_through(f, logits, *, seed, temperature=1.0, gap=1.0):
  """Gapped straight-through (Fan et al. 2022): s = softmax(m / T), m a noise-free
  perturbation of the logits that makes b the argmax by at least `gap`.

  m_b = max_k logits_k, m_k = min(logits_k, m_b - gap) for k != b; dm/dlogits = I.
  grad = (ds/dlogits)^T df/db. Biased, 1 evaluation of f. gap = 1 is the paper's GST-1.0.
  """
  if not (isinstance(gap, numbers.Real) and gap > 0):
    raise ValueError(f'Argument `gap` must be positive; got {gap!r}.')
  logits, temperature, _, hard = _common.temperature_and_sample(f, logits, seed, temperature)
  top = tf.reduce_max(logits, -1, keepdims=True)
  gapped = tf.where(hard > 0, top, tf.minimum(logits, top - tf.cast(gap, logits.dtype)))
  soft = _common.relaxation(_common.value_with_gradient_of(gapped, logits), temperature)
  return _common.straight_through_estimate(f, hard, soft)


def reinmax(f, logits, *, seed, temperature=1.0):
  """ReinMax (Liu et al. 2023): Heun's method instead of straight-through's Euler step.

  grad = 2 J((softmax(logits / T) + b) / 2)^T df/db - J(softmax(logits))^T df/db / 2,
  J(p) = diag(p) - p p^T, the softmax Jacobian at p. Biased (second-order
  accurate), 1 evaluation of f. The paper recommends T >= 1.
  """
  logits, temperature, _, hard = _common.temperature_and_sample(f, logits, seed, temperature)
  midpoint = (_common.relaxation(logits, temperature) + tf.cast(hard, logits.dtype)) / 2.
  # softmax at log(midpoint), with the identity gradient to the logits: value
  # midpoint, Jacobian J(midpoint).
  at_midpoint = tf.nn.softmax(
      _common.value_with_gradient_of(tf.math.log(midpoint), logits))
  soft = 2. * at_midpoint - tf.nn.softmax(logits) / 2.
  return _common.straight_through_estimate(f, hard, soft)
