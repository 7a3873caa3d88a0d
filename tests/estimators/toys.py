"""Toy problems with exact gradients, and the harness that measures an estimator on them."""

import keras
import numpy as np
from scipy import special
import tensorflow as tf

from relaxed_dist import estimators

NUM_ROWS = 20_000

# REBAR / RELAX toy: b ~ Bernoulli(sigmoid(theta)) as the first class of K = 2
# logits [theta, 0], f(b) = (b - t)^2. At theta = 0 (p = 1/2) straight-through
# happens to be exactly unbiased for this f, so the toy sits at theta = 1.
THETA = 1.0
TARGETS = (0.45, 0.499)

# Categorical toy: K = 10, f(z) = softplus(8 (c . z - 0.45)), c_k = k / 9: not
# quadratic, so that ReinMax (exact for quadratic f) shows its bias too.
CATEGORICAL_LOGITS = np.array([0.5, -1., 1.2, 0., -0.3, 0.8, -2., 0.3, 1.5, -0.7])
READOUT = np.linspace(0., 1., 10)


def bernoulli_f(target):
  return lambda z: (z[..., 0] - target) ** 2


def bernoulli_exact(target):
  """d/dtheta E[(b - t)^2] = sigmoid'(theta) (1 - 2t)."""
  p = special.expit(THETA)
  return p * (1 - p) * (1 - 2 * target)


def bernoulli_logits(num_rows=NUM_ROWS):
  return tf.constant(np.tile([THETA, 0.], [num_rows, 1]), tf.float32)


def categorical_f(z):
  return tf.math.softplus(8. * (tf.linalg.matvec(z, tf.constant(READOUT, z.dtype)) - 0.45))


def categorical_exact():
  """d/dlogits E[f] by enumeration: p_k (f(e_k) - sum_j p_j f(e_j)), in float64."""
  p = special.softmax(CATEGORICAL_LOGITS)
  f_k = np.logaddexp(0., 8. * (READOUT - 0.45))
  return p * (f_k - p @ f_k)


def categorical_logits(num_rows=NUM_ROWS):
  return tf.constant(np.tile(CATEGORICAL_LOGITS, [num_rows, 1]), tf.float32)


def per_row_gradients(name, f, logits, seed, **options):
  """[rows, K]: each row's estimate of d E[f] / d logits, from one call."""
  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.get(name)(f, logits, seed=seed, **options)
  return tape.gradient(estimate.surrogate, logits).numpy().astype(np.float64)


def z_scores(gradients, exact):
  """(mean - exact) / standard error, per component."""
  standard_error = gradients.std(0) / np.sqrt(len(gradients))
  return (gradients.mean(0) - exact) / standard_error


def options_for(name, tunable):
  """The keyword that passes a RebarParameters or RelaxControlVariate."""
  return {'parameters': tunable} if name == 'rebar' else {'control_variate': tunable}


def tune(name, tunable, f, logits, steps, learning_rate=0.05):
  """Minimises the mean surrogate over `tunable`'s variables only: its variance."""
  options = options_for(name, tunable)
  optimizer = keras.optimizers.Adam(learning_rate)
  variables = list(tunable.trainable_variables)

  @tf.function(autograph=False)
  def step(seed):
    with tf.GradientTape() as tape:
      surrogate = estimators.get(name)(f, logits, seed=seed, **options).surrogate
      objective = tf.reduce_mean(surrogate)
    optimizer.apply_gradients(zip(tape.gradient(objective, variables), variables))

  for i in range(steps):
    step(tf.constant([i, 1]))
