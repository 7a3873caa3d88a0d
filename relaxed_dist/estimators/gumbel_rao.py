"""The Gumbel-Rao estimator: straight-through Gumbel-Softmax, Rao-Blackwellised."""

import tensorflow as tf

from relaxed_dist.estimators import _common
from relaxed_dist.estimators.conditional_gumbel import conditional_gumbel


def gumbel_rao(f, logits, *, seed, temperature=1.0, num_samples=10):
  """Gumbel-Rao (Paulus et al. 2021): E[straight-through Gumbel-Softmax | b] by Monte Carlo.

  grad = (ds/dlogits)^T df/db, s = mean_i softmax((logits + G_i) / T), where the
  G_i are `num_samples` draws of the Gumbel noise given argmax(logits + G) = b
  (conditional_gumbel), held fixed. Same expectation as `st_gumbel_softmax`
  (biased), lower variance. 1 evaluation of f (and num_samples softmaxes).
  """
  num_samples = _common.checked_count('num_samples', num_samples)
  logits, temperature, _, hard = _common.temperature_and_sample(f, logits, seed, temperature)
  conditional_seed = _common.seeds(seed)[1]  # the stream after the sample's
  perturbed = conditional_gumbel(tf.stop_gradient(logits), hard, conditional_seed,
                                 [num_samples])
  perturbed = _common.value_with_gradient_of(
      perturbed, tf.broadcast_to(logits, tf.shape(perturbed)))
  soft = tf.reduce_mean(_common.relaxation(perturbed, temperature), 0)
  return _common.straight_through_estimate(f, hard, soft)
