"""ClampedExp: exp forward, an inverse that never returns -inf."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist.distributions import ClampedExp
from relaxed_dist.distributions import ClampedSigmoid


def test_matches_exp_away_from_zero():
  y = tf.constant([1e-30, 0.3, 1.])
  np.testing.assert_allclose(ClampedExp().inverse(y), tf.math.log(y))
  np.testing.assert_allclose(
      ClampedExp().inverse_log_det_jacobian(y, event_ndims=1),
      tfp.bijectors.Exp().inverse_log_det_jacobian(y, event_ndims=1))


def test_zero_maps_to_log_tiny_and_has_a_finite_gradient():
  y = tf.constant([0., 0.5])
  with tf.GradientTape() as tape:
    tape.watch(y)
    x = ClampedExp().inverse(y)
  assert x.numpy()[0] == np.float32(np.log(np.finfo(np.float32).tiny))
  assert np.all(np.isfinite(tape.gradient(x, y)))


def test_own_outputs_invert_exactly_through_the_cache():
  bijector = ClampedExp()
  x = tf.constant([-500., 0.])  # exp(-500) underflows to 0 in float32
  y = bijector.forward(x)
  assert y.numpy()[0] == 0.
  np.testing.assert_array_equal(bijector.inverse(y), x)
  assert isinstance(bijector, tf.__internal__.CompositeTensor)


def test_inverse_log_det_jacobian_is_finite_at_zero_and_exact_on_own_outputs():
  bijector = ClampedExp()
  tiny = np.finfo(np.float32).tiny
  np.testing.assert_allclose(
      bijector.inverse_log_det_jacobian(tf.constant([0., 0.5]), event_ndims=0),
      [-np.log(tiny), -np.log(0.5)], rtol=1e-6)
  x = tf.constant([-500., 0.])
  y = bijector.forward(x)
  np.testing.assert_array_equal(bijector.inverse_log_det_jacobian(y, event_ndims=0), -x)


@pytest.mark.parametrize('mode', ['eager', 'function', 'xla'])
def test_inverse_and_its_gradient_are_those_of_log_max_y_tiny(mode):
  # Outside XLA a tf.cond skips the clamp when no y is below tiny; every case,
  # skipped or not, matches log(max(y, tiny)) and its gradient exactly.
  tiny = np.finfo(np.float32).tiny

  def inverse_and_gradient(y, reference):
    with tf.GradientTape() as tape:
      tape.watch(y)
      x = tf.math.log(tf.maximum(y, tiny)) if reference else ClampedExp().inverse(y)
      weighted = tf.reduce_sum(x * [0.5, -2.])
    return x, tape.gradient(weighted, y)

  if mode != 'eager':
    inverse_and_gradient = tf.function(inverse_and_gradient, jit_compile=mode == 'xla')
  for case in [[0.2, 0.8], [tiny, 0.5], [0., 1.], [1e-40, 0.5], [np.nan, 0.5], [-0.1, 1.1]]:
    y = tf.constant(case, tf.float32)
    for ours, reference in zip(inverse_and_gradient(y, False), inverse_and_gradient(y, True)):
      np.testing.assert_array_equal(ours, reference, err_msg=str(case))


def test_float16_inverse_is_float32_rounded_also_at_infinity():
  y = tf.constant([np.inf, 0.5, 3e-5])
  np.testing.assert_array_equal(ClampedExp().inverse(tf.cast(y, tf.float16)),
                                tf.cast(ClampedExp().inverse(y), tf.float16))


@pytest.mark.parametrize('bijector_cls', [ClampedExp, ClampedSigmoid], ids=lambda c: c.__name__)
@pytest.mark.parametrize('dtype', [tf.float16, tf.bfloat16, tf.float32], ids=lambda d: d.name)
def test_inverse_in_compute_dtype_is_unrounded_for_fresh_points_and_cached_for_outputs(
    bijector_cls, dtype):
  bijector = bijector_cls()
  fresh = tf.constant([0., 3e-5, 0.3, 0.7], dtype)
  single = tf.cast(fresh, tf.float32)
  inverse = bijector.inverse(fresh)
  assert inverse.dtype == dtype  # TFP's contract
  unrounded = bijector.inverse_in_compute_dtype(fresh)
  assert unrounded.dtype == tf.float32
  np.testing.assert_array_equal(unrounded, bijector_cls().inverse(single))
  np.testing.assert_array_equal(tf.cast(unrounded, dtype), inverse)
  # An output of forward: the x it came from, which log y (or logit y) is not,
  # also inside a function.
  x = tf.constant([-9.7, -1.3, 0.1], dtype)
  round_trip = lambda x: bijector.inverse_in_compute_dtype(bijector.forward(x))
  for fn in (round_trip, tf.function(round_trip)):
    np.testing.assert_array_equal(fn(x), tf.cast(x, tf.float32))
