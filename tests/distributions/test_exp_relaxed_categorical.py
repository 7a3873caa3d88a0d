"""ExpRelaxedCategorical: the log-space density and its gradients."""

import numpy as np
import pytest
import tensorflow as tf

import relaxed_dist as rd
from tests.distributions import reference


@pytest.mark.parametrize('temperature', [0.01, 0.1, 1.0, 5.0])
def test_log_prob_is_the_concrete_density_plus_log_jacobian(temperature):
  logits = np.random.default_rng(2).normal(size=[2, 4])
  dist = rd.ExpRelaxedCategorical(np.float64(temperature), logits=logits)
  x = rd.ExpRelaxedCategorical(np.float64(1.), logits=logits).sample(50, seed=2).numpy()
  # p_x(x) = p_y(exp x) * prod_k exp(x_k), TFP's convention.
  expected = reference.concrete_log_density(np.exp(x), logits, temperature) + x.sum(-1)
  np.testing.assert_allclose(dist.log_prob(x), expected, rtol=1e-10)


def test_log_space_stays_finite_where_the_simplex_underflows():
  dist = rd.ExpRelaxedCategorical(0.01, logits=[-2., 2., 0., 1., -1.])
  x = dist.sample(1000, seed=[8, 9])
  assert np.any(tf.exp(x).numpy() == 0.)  # y would underflow
  assert np.all(np.isfinite(x)) and np.all(np.isfinite(dist.log_prob(x)))


def test_gradients_match_finite_differences():
  logits = tf.constant([0.3, -1.2, 0.8], tf.float64)
  temperature = tf.constant(0.7, tf.float64)
  x = rd.ExpRelaxedCategorical(temperature, logits=logits).sample(5, seed=1)

  def log_prob(temperature, logits):
    return rd.ExpRelaxedCategorical(temperature, logits=logits).log_prob(x)

  analytic, numeric = tf.test.compute_gradient(
      log_prob, [temperature, logits], delta=1e-6)
  for a, n in zip(analytic, numeric):
    np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8)


def test_sample_gradient_matches_finite_differences():
  logits = tf.constant([0.3, -1.2, 0.8], tf.float64)
  temperature = tf.constant(0.7, tf.float64)

  def sample(temperature, logits):
    return rd.ExpRelaxedCategorical(temperature, logits=logits).sample(4, seed=3)

  analytic, numeric = tf.test.compute_gradient(
      sample, [temperature, logits], delta=1e-6)
  for a, n in zip(analytic, numeric):
    np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8)


def test_masked_logit_samples_minus_inf_with_zero_gradient():
  logits = tf.constant([0.5, -np.inf, -0.5])
  temperature = tf.constant(0.2)
  with tf.GradientTape() as tape:
    tape.watch([temperature, logits])
    dist = rd.ExpRelaxedCategorical(temperature, logits=logits)
    x, log_prob = dist.experimental_sample_and_log_prob(100, seed=[1, 1])
    loss = tf.reduce_sum(log_prob) + tf.reduce_sum(tf.exp(x))
  assert np.all(x.numpy()[:, 1] == -np.inf)
  d_temperature, d_logits = tape.gradient(loss, [temperature, logits])
  assert np.isfinite(d_temperature) and np.all(np.isfinite(d_logits))
  assert d_logits.numpy()[1] == 0.
