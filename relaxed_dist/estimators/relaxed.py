"""The relaxed Gumbel-Softmax (Concrete) estimator."""

import tensorflow as tf

from relaxed_dist.estimators import _common
from relaxed_dist.estimators.estimate import Estimate


def gumbel_softmax(f, logits, *, seed, temperature=1.0):
  """Gumbel-Softmax / Concrete (Jang et al. 2017; Maddison et al. 2017): f at a relaxed sample.

  grad = d f(y) / d logits, y = softmax((logits + G) / T): the exact gradient of
  the relaxed objective E[f(y)] (f's own variables get d f(y) too), a biased
  estimate of that of E[f(b)] (the bias vanishes as T -> 0 while the variance
  grows). 2 evaluations of f: f(y) for
  the gradient, f(b) at b = one_hot(argmax(y)) for `loss`, which is also the
  surrogate's value.
  """
  logits, temperature, noise, hard = _common.temperature_and_sample(
      f, logits, seed, temperature)
  loss = tf.stop_gradient(_common.evaluate(f, hard))
  relaxed_loss = _common.evaluate(f, _common.relaxation(logits + noise, temperature, hard.dtype))
  return Estimate(loss, loss + (relaxed_loss - tf.stop_gradient(relaxed_loss)))
