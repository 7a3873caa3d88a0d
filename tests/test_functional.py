"""gumbel_softmax and straight_through, the functional ops."""

import numpy as np
import pytest
from scipy import stats
import tensorflow as tf

import relaxed_dist as rd
from relaxed_dist import _numerics

LOGITS = [-2., 2., 0., 1., -1.]
DTYPES = [tf.float16, tf.bfloat16, tf.float32, tf.float64]


def test_is_the_softmax_of_gumbel_perturbed_logits():
  logits = tf.constant([LOGITS] * 3, tf.float64)
  y = rd.gumbel_softmax(logits, temperature=0.7, seed=[4, 5])
  gumbel = _numerics.gumbel([3, 5], seed=[4, 5], dtype=tf.float64).numpy()
  z = (np.array(LOGITS) + gumbel) / 0.7
  expected = np.exp(z - z.max(-1, keepdims=True))
  np.testing.assert_allclose(y, expected / expected.sum(-1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize('axis', [0, 1, -1, -2])
def test_any_axis(axis):
  logits = tf.random.stateless_normal([4, 6, 5], seed=[1, 1])
  y = rd.gumbel_softmax(logits, 0.5, axis=axis, seed=3)
  assert y.shape == logits.shape
  np.testing.assert_allclose(tf.reduce_sum(y, axis), 1., rtol=1e-5)
  hard = rd.gumbel_softmax(logits, 0.5, hard=True, axis=axis, seed=3)
  np.testing.assert_array_equal(tf.reduce_sum(hard, axis), 1.)
  np.testing.assert_array_equal(tf.argmax(hard, axis), tf.argmax(y, axis))


def test_temperature_tensor_broadcasts_against_logits_without_the_class_axis():
  logits = tf.zeros([2, 3, 4])
  temperature = tf.constant([[100.], [0.01]])  # [2, 1]: one per row of the batch
  y = rd.gumbel_softmax(logits, temperature, seed=1)
  assert np.all(tf.reduce_max(y[0], -1) < 0.4)   # hot: near uniform (1/4)
  assert np.all(tf.reduce_max(y[1], -1) > 0.99)  # cold: near one-hot
  columns = rd.gumbel_softmax(logits, tf.fill([2, 4], 0.5), axis=1, seed=1)
  np.testing.assert_allclose(tf.reduce_sum(columns, 1), 1., rtol=1e-5)
  # With the class axis kept at size 1, as in torch: one per row too.
  kept = rd.gumbel_softmax(logits, tf.constant([[[100.]], [[0.01]]]), seed=1)
  np.testing.assert_array_equal(kept, y)
  # A shape that would extend the output's or does not broadcast (an op error
  # before) is named.
  for function, bad in [(rd.gumbel_softmax, [[1., 2.]]), (rd.gumbel_softmax, [1., 2., 3.]),
                        (rd.gumbel_sigmoid, [1., 2.])]:
    with pytest.raises(ValueError, match=r'`temperature` \(shape \(\d.*\)\) must be a scalar '
                                         r'or broadcast to the shape of `logits'):
      function(tf.zeros([2, 4]), tf.constant(bad), seed=1)


def test_temperature_shapes_unknown_when_tracing_are_checked_when_run():
  spec = tf.TensorSpec

  def traced(logits_shape, temperature_shape, function=rd.gumbel_softmax):
    return tf.function(lambda logits, t: function(logits, t, seed=1),
                       input_signature=[spec(logits_shape), spec(temperature_shape)])

  with pytest.raises(ValueError, match='`temperature` must be a scalar when its rank'):
    traced([2, 4], None)(tf.zeros([2, 4]), tf.ones([2]))  # was a TypeError
  # Shapes that fit run; ones that would extend the output (it was [3, 4] for
  # [1, 4] logits) fail at run time, naming the argument.
  per_row, kept_axis = traced([None, 4], [None]), traced([None, 4], [None, None])
  sigmoid = traced([None, 4], [None, 4], rd.gumbel_sigmoid)
  assert per_row(tf.zeros([3, 4]), tf.ones([3])).shape == [3, 4]
  assert kept_axis(tf.zeros([2, 4]), tf.ones([2, 1])).shape == [2, 4]
  assert sigmoid(tf.zeros([3, 4]), tf.ones([3, 4])).shape == [3, 4]
  for function, logits, temperature in [(per_row, [1, 4], [3]), (kept_axis, [2, 4], [2, 4]),
                                        (sigmoid, [1, 4], [3, 4])]:
    with pytest.raises(tf.errors.InvalidArgumentError, match='`temperature` .* must be a scalar'):
      function(tf.zeros(logits), tf.ones(temperature))
  # XLA compiles the assertion to nothing: there the broadcast fails to compile.
  for temperature_shape, fits, misfits in [([None], [3], [3]), ([None, None], [3, 1], [3, 4])]:
    compiled = tf.function(lambda logits, t: rd.gumbel_softmax(logits, t, seed=1),
                           jit_compile=True,
                           input_signature=[spec([None, 4]), spec(temperature_shape)])
    assert compiled(tf.zeros([3, 4]), tf.ones(fits)).shape == [3, 4]
    with pytest.raises(tf.errors.InvalidArgumentError, match='broadcast'):
      compiled(tf.zeros([1, 4]) if misfits == [3] else tf.zeros([3, 4]), tf.ones(misfits))


def test_axis_out_of_range_is_named():
  for axis in (2, -3):
    with pytest.raises(ValueError, match=f'`axis` must be in \\[-2, 2\\) .*; got {axis}'):
      rd.gumbel_softmax(tf.zeros([2, 4]), 1., axis=axis)


def test_hard_gradient_is_the_soft_gradient_for_the_same_seed():
  logits = tf.constant([LOGITS, LOGITS[::-1]])
  weights = tf.random.stateless_normal([2, 5], seed=[2, 2])
  gradients = []
  for hard in (False, True):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      y = rd.gumbel_softmax(logits, 0.5, hard=hard, seed=[9, 9])
      loss = tf.reduce_sum(y * weights)
    gradients.append(tape.gradient(loss, logits))
  np.testing.assert_array_equal(gradients[0], gradients[1])


def test_straight_through_is_exact_one_hot_with_identity_gradient():
  soft = tf.constant([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])  # second row: a tie
  with tf.GradientTape() as tape:
    tape.watch(soft)
    hard = rd.straight_through(soft)
    loss = tf.reduce_sum(hard * [[1., 2., 3.]])
  np.testing.assert_array_equal(hard, [[0., 1., 0.], [1., 0., 0.]])
  np.testing.assert_array_equal(tape.gradient(loss, soft), [[1., 2., 3.]] * 2)


def test_hard_samples_are_categorical():
  num_samples = 100_000
  hard = rd.gumbel_softmax(tf.broadcast_to(LOGITS, [num_samples, 5]), 0.3,
                           hard=True, seed=[5, 5])
  counts = tf.reduce_sum(hard, 0).numpy()
  expected = tf.nn.softmax(np.float64(LOGITS)).numpy() * num_samples
  assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_masked_logits_give_exact_zeros_and_finite_gradients():
  logits = tf.constant([1., -np.inf, 0.])
  temperature = tf.constant(0.1)
  with tf.GradientTape() as tape:
    tape.watch([logits, temperature])
    y = rd.gumbel_softmax(tf.broadcast_to(logits, [100, 3]), temperature, seed=1)
    loss = tf.reduce_sum(y * [1., 2., 3.])
  assert np.all(y.numpy()[:, 1] == 0.)
  d_logits, d_temperature = tape.gradient(loss, [logits, temperature])
  assert np.all(np.isfinite(d_logits)) and d_logits.numpy()[1] == 0.
  assert np.isfinite(d_temperature)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize('jit_compile', [False, True], ids=['eager', 'xla'])
def test_every_dtype_eager_and_xla(dtype, jit_compile):
  def sample_and_gradient(logits, seed):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      y = rd.gumbel_softmax(logits, 0.1, hard=True, seed=seed)
      loss = tf.reduce_sum(y * tf.cast(tf.range(5), dtype))
    return y, tape.gradient(loss, logits)

  if jit_compile:
    sample_and_gradient = tf.function(sample_and_gradient, jit_compile=True)
  y, gradient = sample_and_gradient(tf.constant([LOGITS] * 8, dtype), tf.constant([1, 2]))
  assert y.dtype == dtype and gradient.dtype == dtype
  np.testing.assert_array_equal(tf.reduce_sum(tf.cast(y, tf.float32), -1), 1.)
  assert np.all(np.isfinite(tf.cast(gradient, tf.float32)))


def test_same_seed_same_sample_and_fresh_without_seed():
  first, second = (rd.gumbel_softmax(LOGITS, seed=3) for _ in range(2))
  np.testing.assert_array_equal(first, second)
  assert not np.array_equal(rd.gumbel_softmax(LOGITS), rd.gumbel_softmax(LOGITS))


def test_bad_input_names_the_argument():
  with pytest.raises(ValueError, match='`temperature` must be positive.*got -1'):
    rd.gumbel_softmax(LOGITS, temperature=-1.)
  with pytest.raises(TypeError, match='`logits` must have a floating dtype.*int32'):
    rd.gumbel_softmax(tf.constant([1, 2]))
  with pytest.raises(ValueError, match='`logits` must have rank at least 1'):
    rd.gumbel_softmax(1.)


def test_gumbel_sigmoid_has_the_binary_concrete_cdf():
  logits, temperature = 0.6, 0.7
  y = rd.gumbel_sigmoid(tf.fill([20_000], np.float64(logits)), temperature, seed=[2, 3])
  cdf = lambda v: 1 / (1 + np.exp(-(temperature * np.log(v / (1 - v)) - logits)))
  assert stats.kstest(y.numpy(), cdf).pvalue > 1e-3


def test_gumbel_sigmoid_hard_is_bernoulli_with_the_soft_gradient():
  logits = tf.fill([50_000], 0.4)
  gradients = []
  for hard in (False, True):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      y = rd.gumbel_sigmoid(logits, 0.3, hard=hard, seed=[7, 7])
      loss = tf.reduce_sum(y * tf.range(50_000, dtype=tf.float32) / 50_000.)
    gradients.append(tape.gradient(loss, logits))
    if hard:
      assert set(np.unique(y.numpy())) == {0., 1.}
      p = 1 / (1 + np.exp(-0.4))
      assert stats.binomtest(int(y.numpy().sum()), 50_000, p).pvalue > 1e-3
  np.testing.assert_array_equal(gradients[0], gradients[1])


def test_gumbel_sigmoid_infinite_logits_are_certain_with_finite_gradients():
  logits = tf.constant([-np.inf, 0., np.inf])
  temperature = tf.constant(0.2)
  with tf.GradientTape() as tape:
    tape.watch([logits, temperature])
    y = rd.gumbel_sigmoid(tf.broadcast_to(logits, [100, 3]), temperature, seed=1)
    loss = tf.reduce_sum(y)
  np.testing.assert_array_equal(y.numpy()[:, [0, 2]], [[0., 1.]] * 100)
  gradients = tape.gradient(loss, [logits, temperature])
  assert all(np.all(np.isfinite(g)) for g in gradients)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: d.name)
def test_gumbel_sigmoid_every_dtype_under_xla(dtype):
  @tf.function(jit_compile=True)
  def sample_and_gradient(logits, seed):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      y = rd.gumbel_sigmoid(logits, 0.05, seed=seed)
      loss = tf.reduce_sum(y)
    return y, tape.gradient(loss, logits)

  y, gradient = sample_and_gradient(tf.constant(LOGITS, dtype), tf.constant([1, 2]))
  assert y.dtype == gradient.dtype == dtype
  assert np.all(np.isfinite(tf.cast(gradient, tf.float32)))


@pytest.mark.parametrize('dtype', [tf.float16, tf.bfloat16], ids=lambda d: d.name)
def test_half_precision_hard_samples_come_from_the_float32_sample(dtype):
  logits = tf.random.stateless_normal([20_000, 5], seed=[3, 3]) * 0.01  # near ties
  half = rd.gumbel_softmax(tf.cast(logits, dtype), 1.0, hard=True, seed=[4, 4])
  full = rd.gumbel_softmax(tf.cast(tf.cast(logits, dtype), tf.float32), 1.0, hard=True,
                           seed=[4, 4])
  np.testing.assert_array_equal(tf.cast(half, tf.float32), full)
