"""conditional_gumbel: Gumbel-perturbed logits given their argmax."""

import numpy as np
from scipy import stats
import tensorflow as tf

from relaxed_dist import _numerics
from relaxed_dist import estimators

LOGITS = np.array([0.4, -0.6, 1.1])


def test_has_the_law_of_perturbed_logits_given_their_argmax():
  # Unconditional z = logits + G, split by argmax, against z~ drawn given that
  # argmax: every coordinate, two-sample Kolmogorov-Smirnov.
  z = (LOGITS + _numerics.gumbel([60_000, 3], seed=[1, 1], dtype=tf.float64)).numpy()
  winners = z.argmax(-1)
  for b in range(3):
    hard = tf.one_hot(tf.fill([10_000], b), 3, dtype=tf.float64)
    z_tilde = estimators.conditional_gumbel(LOGITS, hard, seed=[2, b]).numpy()
    assert np.all(z_tilde.argmax(-1) == b)
    for k in range(3):
      assert stats.ks_2samp(z[winners == b, k], z_tilde[:, k]).pvalue > 1e-3, (b, k)


def test_the_maximum_is_gumbel_at_logsumexp_whatever_the_argmax():
  z_tilde = estimators.conditional_gumbel(
      tf.constant(LOGITS, tf.float32), tf.one_hot(tf.fill([20_000], 1), 3), seed=3)
  top = z_tilde.numpy()[:, 1]
  location = np.log(np.exp(LOGITS).sum())
  assert stats.kstest(top, stats.gumbel_r(loc=location).cdf).pvalue > 1e-3


def test_sample_shape_masked_classes_and_finite_gradients():
  logits = tf.constant([[0.3, -np.inf, 1.0, -0.5]] * 5)
  hard = tf.one_hot([0, 2, 3, 0, 2], 4)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    z_tilde = estimators.conditional_gumbel(logits, hard, seed=[4, 4], sample_shape=[7])
    loss = tf.reduce_sum(tf.nn.softmax(z_tilde / 0.5) * [1., 2., 3., 4.])
  assert z_tilde.shape == [7, 5, 4]
  assert np.all(z_tilde.numpy()[..., 1] == -np.inf)
  np.testing.assert_array_equal(tf.argmax(z_tilde, -1), tf.broadcast_to([0, 2, 3, 0, 2], [7, 5]))
  gradient = tape.gradient(loss, logits).numpy()
  assert np.all(np.isfinite(gradient)) and np.all(gradient[:, 1] == 0.)


def test_same_seed_same_noise():
  hard = tf.one_hot([1, 0], 3)
  first, second = (estimators.conditional_gumbel(LOGITS, hard, seed=5) for _ in range(2))
  np.testing.assert_array_equal(first, second)
