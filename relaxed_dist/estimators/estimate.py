"""Estimate: what every estimator returns."""

from typing import NamedTuple

import tensorflow as tf


class Estimate(NamedTuple):
  """The loss at the discrete sample, and a surrogate that carries the gradient.

  `loss`: f at the discrete sample z ~ p_theta, shape [...]; the value to
  report. It carries no gradient.
  `surrogate`: shape [...], equal to `loss` in value. Its gradient through
  `tf.GradientTape`, w.r.t. the logits (and whatever produced them), the
  variables of f and the estimator's own variables, is the estimator: reduce it
  over the batch as the loss is reduced (mean or sum) and minimise it.
  """
  loss: tf.Tensor
  surrogate: tf.Tensor
