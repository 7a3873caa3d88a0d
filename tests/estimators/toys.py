"""The toy problems of examples/estimator_comparison.py, defined there once, and
the harness that measures an estimator on them.

REBAR / RELAX toy: b ~ Bernoulli(sigmoid(theta)) as the first class of the K = 2
logits [theta, 0], f(b) = (b - t)^2. Categorical toy: K = 10, f(z) =
softplus(8 (c . z - 0.45)), not quadratic, so that ReinMax shows its bias too.
"""

import numpy as np
import tensorflow as tf

from relaxed_dist import estimators
from tests import scripts

COMPARISON = scripts.load('examples/estimator_comparison.py')
NUM_ROWS = COMPARISON.ROWS
TARGETS = (0.45, 0.499)


def bernoulli(target):
  """(f, logits [NUM_ROWS, 2], exact d E[f] / d theta as a [1] array)."""
  return _as_arrays(COMPARISON.bernoulli_toy(target))


def categorical():
  """(f, logits [NUM_ROWS, 10], exact d E[f] / d logits by enumeration)."""
  return _as_arrays(COMPARISON.categorical_toy())


def _as_arrays(toy):
  return toy['f'], COMPARISON.tile(toy['logits'], NUM_ROWS), np.asarray(toy['exact'])


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
