"""Each estimator's gradient is its paper's formula, evaluated with the same noise.

float64 NumPy references from the noise the estimator drew (same seeds), at
temperatures other than 1, where several of them would hide a misplaced T.
"""

import numpy as np
import pytest
import tensorflow as tf

from relaxed_dist import _numerics
from relaxed_dist import estimators
from relaxed_dist.estimators import _common

NUM_ROWS, NUM_CLASSES = 4, 5
THETA = np.random.default_rng(0).normal(size=[NUM_ROWS, NUM_CLASSES])
WEIGHTS = np.random.default_rng(1).normal(size=NUM_CLASSES)
SEED = [3, 4]


def f(z):
  """A nonlinear loss of the sample, per row."""
  projection = tf.linalg.matvec(z, tf.constant(WEIGHTS, z.dtype))
  return tf.sin(projection) ** 2 + projection


def f_numpy(z):
  projection = z @ WEIGHTS
  return np.sin(projection) ** 2 + projection


def softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def softmax_jacobian(p):
  """J(p) = diag(p) - p p^T per row."""
  return np.einsum('ni,ij->nij', p, np.eye(p.shape[-1])) - np.einsum('ni,nj->nij', p, p)


def estimated_gradient(name, **options):
  logits = tf.constant(THETA)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.get(name)(f, logits, seed=SEED, **options)
  return tape.gradient(estimate.surrogate, logits).numpy()


def noise_and_sample():
  """G and b = one_hot(argmax(theta + G)) as every estimator draws them."""
  noise, hard = _common.gumbel_max(tf.constant(THETA), _common.seeds(SEED)[0])
  return noise.numpy(), hard.numpy()


def f_gradient_at(z):
  z = tf.constant(z)
  with tf.GradientTape() as tape:
    tape.watch(z)
    total = tf.reduce_sum(f(z))
  return tape.gradient(total, z).numpy()


def straight_through_reference(name, temperature):
  """(ds/dtheta)^T df/db for the estimator's soft vector s."""
  noise, hard = noise_and_sample()
  jacobian = {
      'straight_through': lambda: softmax_jacobian(softmax(THETA / temperature)) / temperature,
      'st_gumbel_softmax': lambda: softmax_jacobian(
          softmax((THETA + noise) / temperature)) / temperature,
      # Liu et al. 2023, Algorithm 2: 2 J((softmax(theta / T) + b) / 2) - J(softmax(theta)) / 2.
      'reinmax': lambda: (2. * softmax_jacobian((softmax(THETA / temperature) + hard) / 2.)
                          - softmax_jacobian(softmax(THETA)) / 2.),
      # Fan et al. 2022: m_b = max theta, m_k = min(theta_k, max theta - 1), dm/dtheta = I.
      'gapped_straight_through': lambda: softmax_jacobian(softmax(np.where(
          hard > 0, THETA.max(-1, keepdims=True),
          np.minimum(THETA, THETA.max(-1, keepdims=True) - 1.)) / temperature)) / temperature,
  }[name]()
  return np.einsum('nij,nj->ni', jacobian, f_gradient_at(hard))


@pytest.mark.parametrize('temperature', [0.5, 2.])
@pytest.mark.parametrize('name', ['straight_through', 'st_gumbel_softmax', 'reinmax',
                                  'gapped_straight_through'])
def test_straight_through_estimators(name, temperature):
  np.testing.assert_allclose(estimated_gradient(name, temperature=temperature),
                             straight_through_reference(name, temperature), rtol=1e-10)


def conditional_noise(theta, hard, sample_shape=()):
  """z~ ~ (theta + G | argmax = b) from the estimators' second seed (the
  top-down construction of Maddison et al. 2014, as Tucker et al. 2017 use)."""
  shape = list(sample_shape) + [NUM_ROWS, NUM_CLASSES]
  exponential = -np.log(_numerics.uniform(shape, _common.seeds(SEED)[1], tf.float64).numpy())
  log_normaliser = np.log(np.exp(theta).sum(-1, keepdims=True))
  top = (exponential * hard).sum(-1, keepdims=True)
  return np.where(hard > 0, log_normaliser - np.log(top),
                  -np.log(exponential * np.exp(-theta) + top * np.exp(-log_normaliser)))


@pytest.mark.parametrize('temperature', [0.5, 2.])
def test_gumbel_rao_averages_st_gumbel_softmax_over_the_conditional_noise(temperature):
  _, hard = noise_and_sample()
  perturbed = conditional_noise(THETA, hard, [7])
  assert np.all(perturbed.argmax(-1) == hard.argmax(-1))
  jacobian = np.mean([softmax_jacobian(softmax(z / temperature)) / temperature
                      for z in perturbed], 0)
  expected = np.einsum('nij,nj->ni', jacobian, f_gradient_at(hard))
  np.testing.assert_allclose(
      estimated_gradient('gumbel_rao', temperature=temperature, num_samples=7), expected,
      rtol=1e-10)


def test_rebar_is_its_formula():
  # g = (f(b) - c(s(z~))) (b - softmax(theta)) + d/dtheta [c(s(z)) - c(s(z~))],
  # c = eta f + baseline, s(z) = softmax(z / T); the derivative by central
  # differences, moving z~ with theta as the conditional construction does.
  eta, temperature, baseline = 0.7, 0.3, 0.2
  parameters = estimators.RebarParameters(eta=eta, temperature=temperature, baseline=baseline)
  noise, hard = noise_and_sample()

  def control_difference(theta):
    return eta * (f_numpy(softmax((theta + noise) / temperature))
                  - f_numpy(softmax(conditional_noise(theta, hard) / temperature)))

  step = 1e-6
  derivative = np.stack([
      (control_difference(THETA + step * unit) - control_difference(THETA - step * unit))
      / (2 * step) for unit in np.eye(NUM_CLASSES)], -1)
  c_tilde = eta * f_numpy(softmax(conditional_noise(THETA, hard) / temperature)) + baseline
  expected = (f_numpy(hard) - c_tilde)[:, None] * (hard - softmax(THETA)) + derivative
  np.testing.assert_allclose(estimated_gradient('rebar', parameters=parameters), expected,
                             rtol=1e-6, atol=1e-8)
