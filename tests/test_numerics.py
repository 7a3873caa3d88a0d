"""Noise and dtype helpers in relaxed_dist._numerics."""

import numpy as np
import pytest
from scipy import stats
import tensorflow as tf
from tensorflow.python.framework import ops  # pylint: disable=g-direct-tensorflow-import

import relaxed_dist as rd
from relaxed_dist import _numerics


@pytest.mark.parametrize('dtype', [tf.float32, tf.float64], ids=lambda d: d.name)
def test_uniform_lies_in_tiny_to_one(dtype):
  u = _numerics.uniform([200_000], seed=[1, 2], dtype=dtype).numpy()
  assert u.min() >= np.finfo(u.dtype).tiny and u.max() < 1.
  assert stats.kstest(u, 'uniform').pvalue > 1e-3


def test_gumbel_and_logistic_noise_have_the_right_law():
  g = _numerics.gumbel([50_000], seed=[3, 4], dtype=tf.float64).numpy()
  assert stats.kstest(g, stats.gumbel_r.cdf).pvalue > 1e-3
  l = _numerics.logistic([50_000], seed=[3, 4], dtype=tf.float64).numpy()
  assert stats.kstest(l, stats.logistic.cdf).pvalue > 1e-3


def test_noise_is_finite_at_the_extremes_of_the_uniform():
  # The smallest uniform float32 can return is tiny: log(-log(tiny)) is finite.
  tiny = tf.constant(np.finfo(np.float32).tiny)
  assert np.isfinite(-tf.math.log(-tf.math.log(tiny)).numpy())


def test_integer_seed_is_deterministic_and_none_is_fresh():
  np.testing.assert_array_equal(_numerics.sanitize_seed(5), [0, 5])
  a = _numerics.uniform([4], seed=None, dtype=tf.float32)
  b = _numerics.uniform([4], seed=None, dtype=tf.float32)
  assert not np.array_equal(a, b)


@pytest.mark.parametrize('dtype,expected', [
    (tf.float16, tf.float32), (tf.bfloat16, tf.float32),
    (tf.float32, tf.float32), (tf.float64, tf.float64)])
def test_half_types_compute_in_float32(dtype, expected):
  assert _numerics.compute_dtype(dtype) == expected
  assert _numerics.finfo(dtype).tiny > 0


def test_gumbel_perturbed_logits_are_minus_inf_with_zero_gradient_when_masked():
  logits = tf.constant([1., -np.inf, 2.])
  temperature = tf.constant(0.5)
  with tf.GradientTape() as tape:
    tape.watch([logits, temperature])
    z = _numerics.gumbel_perturbed_logits(logits, temperature, [4, 3], seed=[1, 2])
    loss = tf.reduce_sum(tf.nn.softmax(z) * [1., 2., 3.])
  d_logits, d_temperature = tape.gradient(loss, [logits, temperature])
  assert d_logits.numpy()[1] == 0. and np.isfinite(d_temperature)
  assert np.all(z.numpy()[:, 1] == -np.inf)
  gumbel = _numerics.gumbel([4, 3], seed=[1, 2], dtype=tf.float32)
  np.testing.assert_allclose(z.numpy()[:, [0, 2]],
                             ((np.array([1., 2.]) + gumbel.numpy()[:, [0, 2]]) / 0.5),
                             rtol=1e-6)


@pytest.mark.parametrize('logits_shape, temperature_shape', [
    ([5, 2, 3], []), ([5, 2, 3], [2, 1]), ([3], [2, 1]), ([4, 2], [2]), ([2, 3], [1, 1, 1])])
@pytest.mark.parametrize('mode', ['eager', 'function', 'xla'])
def test_divide_by_temperature_has_the_quotients_value_and_gradients(
    logits_shape, temperature_shape, mode):
  # Its custom gradient (under XLA) sums over broadcast axes like the plain
  # quotient's; logits may be a variable.
  rng = np.random.default_rng(4)
  logits = tf.Variable(rng.normal(size=logits_shape))
  temperature = tf.constant(rng.uniform(0.2, 2., size=temperature_shape))
  weights = tf.constant(rng.normal(size=np.broadcast_shapes(logits_shape, temperature_shape)))

  def value_and_gradients(divide):
    with tf.GradientTape() as tape:
      tape.watch(temperature)
      quotient = divide(logits, temperature)
      loss = tf.reduce_sum(weights * quotient)
    return (quotient,) + tuple(tape.gradient(loss, [logits, temperature]))

  ours = value_and_gradients if mode == 'eager' else tf.function(
      value_and_gradients, jit_compile=mode == 'xla')
  for actual, expected in zip(ours(_numerics.divide_by_temperature),
                              value_and_gradients(tf.math.divide)):
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-12)


@pytest.mark.parametrize('mode', ['eager', 'function', 'xla'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_infinite_logits_keep_their_limits_at_any_temperature(dtype, mode):
  # Past T = 1/tiny, 1/T flushes to 0 unless held at tiny: a masked class got
  # mass 1/K and Bernoulli logits of +-inf sampled 1/2. At T -> inf a sample
  # tends to the uniform point over the live classes, and to 0 / 1 at -inf / +inf.
  masked = np.array([[0., -np.inf, 1., 2.]], dtype)
  signs = np.array([-np.inf, 0., np.inf], dtype)
  temperatures = [np.finfo(dtype).max, np.inf, 2 / np.finfo(dtype).tiny, 1e30]

  def samples(temperature):
    return (rd.functional.gumbel_softmax(masked, temperature, seed=1),
            rd.RelaxedOneHotCategorical(temperature, logits=masked).sample(seed=2),
            rd.functional.gumbel_sigmoid(signs, temperature, seed=3),
            rd.RelaxedBernoulli(temperature, logits=signs).sample(seed=4))
  run = samples if mode == 'eager' else tf.function(samples, jit_compile=mode == 'xla')
  for temperature in temperatures:
    categorical, distribution, sigmoid, bernoulli = run(tf.constant(temperature, dtype))
    for sample in (categorical, distribution):
      assert sample.numpy()[0, 1] == 0.
      np.testing.assert_allclose(sample.numpy()[0, [0, 2, 3]], 1 / 3, rtol=1e-6)
    for sample in (sigmoid, bernoulli):
      np.testing.assert_array_equal(sample.numpy()[[0, 2]], [0., 1.])
      np.testing.assert_allclose(sample.numpy()[1], 0.5, rtol=1e-6)


@pytest.mark.parametrize('mode', ['eager', 'function', 'xla'])
def test_masked_class_temperature_derivatives_are_finite_in_first_order_reverse_mode_only(mode):
  # d/dT of sum_k w_k softmax(l / T)_k with a -inf logit matches a float64
  # central difference; forward mode and the second derivative are NaN there.
  # That is the documented limitation (README, Known limitations): if this
  # starts to fail, they became finite and the README should say so.
  logits = tf.constant([1.3, -np.inf, 2.5], tf.float64)
  weights = tf.constant([1., 2., 3.], tf.float64)

  def loss(t):
    return tf.reduce_sum(weights * tf.nn.softmax(_numerics.divide_by_temperature(logits, t)))

  def derivatives(t):
    with tf.autodiff.ForwardAccumulator(t, tf.ones_like(t)) as accumulator:
      forward = accumulator.jvp(loss(t))
    with tf.GradientTape() as outer:
      outer.watch(t)
      with tf.GradientTape() as inner:
        inner.watch(t)
        value = loss(t)
      first = inner.gradient(value, t)
    return forward, first, outer.gradient(first, t)

  run = derivatives if mode == 'eager' else tf.function(derivatives,
                                                        jit_compile=mode == 'xla')
  forward, first, second = run(tf.constant(0.5, tf.float64))
  step = 1e-6
  central_difference = (loss(tf.constant(0.5 + step, tf.float64))
                        - loss(tf.constant(0.5 - step, tf.float64))) / (2. * step)
  np.testing.assert_allclose(first, central_difference, rtol=1e-8)
  assert np.isnan(forward) and np.isnan(second)


@pytest.mark.parametrize('relax', [
    lambda logits: rd.functional.gumbel_softmax(logits, 0.5, seed=[1, 2]),
    lambda logits: rd.RelaxedOneHotCategorical(0.5, logits=logits).sample(seed=[1, 2])])
@pytest.mark.parametrize('jit_compile', [False, True])
def test_divide_by_temperature_registers_a_gradient_function_only_under_xla(relax, jit_compile):
  # Each trace of a tf.custom_gradient registers a gradient function that
  # TensorFlow never frees, and with it the traced graph (TensorFlow issue
  # 27492): divide_by_temperature uses one under XLA only, where it makes
  # bfloat16 gradients faster (README, Performance).
  def relaxation_and_gradient(logits):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      relaxed = relax(logits)
    return tape.gradient(relaxed[..., 0], logits)

  registered = len(ops.gradient_registry.list())
  for size in range(1, 4):
    tf.function(relaxation_and_gradient, jit_compile=jit_compile).get_concrete_function(
        tf.TensorSpec([size, 3]))
  assert len(ops.gradient_registry.list()) - registered == (3 if jit_compile else 0)


def test_any_python_int_is_a_seed():
  for seed in (2**31, 2**40 + 3, -1, 2**64 + 5):
    words = _numerics.sanitize_seed(seed)
    assert words.dtype == tf.int32 and words.shape == [2]
    np.testing.assert_array_equal(words, _numerics.sanitize_seed(seed))
  assert not np.array_equal(_numerics.sanitize_seed(2**40), _numerics.sanitize_seed(2**41))
