"""Bad input gets an error that names the argument and the value: the shared
checks for every relaxation, the categorical-only ones here, the Bernoulli-only
ones in test_relaxed_bernoulli.py."""

import numpy as np
import pytest
import tensorflow as tf

import relaxed_dist as rd

CATEGORICAL = [rd.ExpRelaxedCategorical, rd.RelaxedOneHotCategorical]
EVERY_RELAXATION = CATEGORICAL + [rd.LogitRelaxedBernoulli, rd.RelaxedBernoulli]
categorical = pytest.mark.parametrize('cls', CATEGORICAL, ids=lambda c: c.__name__)
every_relaxation = pytest.mark.parametrize('cls', EVERY_RELAXATION, ids=lambda c: c.__name__)


@every_relaxation
@pytest.mark.parametrize('temperature', [0., -1., np.nan])
def test_constant_bad_temperature_is_rejected_always(cls, temperature):
  with pytest.raises(ValueError, match=r'`temperature` must be positive.*got'):
    cls(temperature, logits=[0., 1.])


@every_relaxation
@pytest.mark.parametrize('temperature', [0., -1., np.nan])
def test_variable_bad_temperature_is_rejected_with_validate_args(cls, temperature):
  variable = tf.Variable(1.)
  dist = cls(variable, logits=[0., 1.], validate_args=True)
  variable.assign(temperature)
  for method in every_method(cls, dist):
    with pytest.raises(tf.errors.InvalidArgumentError, match='`temperature` must be positive'):
      method()


def every_method(cls, dist):
  """sample, log_prob of a valid point, and experimental_sample_and_log_prob."""
  point = tf.identity(cls(1., logits=[0., 1.]).sample(seed=2))
  return [lambda: dist.sample(seed=1), lambda: dist.log_prob(point),
          lambda: dist.experimental_sample_and_log_prob(seed=1)]


@every_relaxation
def test_both_or_neither_of_logits_and_probs(cls):
  with pytest.raises(ValueError, match='exactly one of `logits` and `probs`; got both'):
    cls(1., logits=[0., 1.], probs=[0.5, 0.5])
  with pytest.raises(ValueError, match='got neither'):
    cls(1.)


@pytest.mark.parametrize('probs,message', [
    ([1.5, -0.5], r'`probs` must lie in \[0, 1\]; got \[ 1.5 -0.5\]'),
    ([0.3, 0.3], r'`probs` must sum to 1 .*got sums 0.6'),
])
@categorical
def test_constant_bad_probs_are_rejected(cls, probs, message):
  with pytest.raises(ValueError, match=message):
    cls(1., probs=probs)


@pytest.mark.parametrize('probs,message', [
    ([1.5, -0.5], '`probs` must be non-negative'),
    ([0.3, 0.3], '`probs` must sum to 1'),
])
@categorical
def test_variable_bad_probs_are_rejected_with_validate_args(cls, probs, message):
  variable = tf.Variable([0.5, 0.5])
  dist = cls(1., probs=variable, validate_args=True)
  variable.assign(probs)
  for method in every_method(cls, dist):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
      method()


@every_relaxation
def test_integer_logits_are_rejected(cls):
  with pytest.raises(TypeError, match='`logits` must have a floating dtype.*int32'):
    cls(1., logits=tf.constant([0, 1]))


@every_relaxation
def test_mismatched_dtypes_are_rejected(cls):
  with pytest.raises(TypeError, match='`temperature` and `logits` .*float64 and float32'):
    cls(tf.constant(1., tf.float64), logits=tf.constant([0., 1.]))


@categorical
def test_scalar_logits_are_rejected(cls):
  with pytest.raises(ValueError, match=r'`logits` must have rank at least 1.*shape \(\)'):
    cls(1., logits=0.)


@categorical
def test_incompatible_shapes_are_rejected(cls):
  with pytest.raises(ValueError, match=r'`temperature` \(shape \(3,\)\) must broadcast '
                                       r'against `logits\[..., 0\]` \(shape \(4,\)\)'):
    cls(tf.ones([3]), logits=tf.zeros([4, 2]))


@categorical
def test_values_off_the_support_are_rejected_with_validate_args(cls):
  dist = cls(1., logits=[0., 1.], validate_args=True)
  off_support = [0.5, 0.7] if cls is rd.RelaxedOneHotCategorical else [-0.1, -0.2]
  with pytest.raises(tf.errors.InvalidArgumentError, match='`value` .*must'):
    dist.log_prob(off_support)
  positive = [1.5, -0.5] if cls is rd.RelaxedOneHotCategorical else [0.1, -2.]
  with pytest.raises(tf.errors.InvalidArgumentError, match='`value` .*must'):
    dist.log_prob(positive)
