"""StraightThrough: exact hard samples, relaxed gradients, discrete log_prob."""

import numpy as np
import pytest
from scipy import stats
import tensorflow as tf
import tensorflow_probability as tfp

import relaxed_dist as rd

tfd = tfp.distributions
LOGITS = [-2., 2., 0., 1., -1.]
DTYPES = [tf.float16, tf.bfloat16, tf.float32, tf.float64]


def categorical(temperature=0.5, logits=LOGITS, **kwargs):
  return rd.StraightThrough(rd.RelaxedOneHotCategorical(temperature, logits=logits, **kwargs))


def bernoulli(temperature=0.5, logits=(-1., 0.5, 2.)):
  return rd.StraightThrough(rd.RelaxedBernoulli(temperature, logits=list(logits)))


WRAPPERS = [categorical, bernoulli]
wrapper_ids = ['categorical', 'bernoulli']


@pytest.mark.parametrize('make', WRAPPERS, ids=wrapper_ids)
def test_hard_sample_is_the_rounded_relaxed_sample_of_the_same_seed(make):
  dist = make()
  hard, soft = dist.sample_hard_and_soft(1000, seed=[3, 1])
  np.testing.assert_array_equal(dist.sample(1000, seed=[3, 1]), hard)
  np.testing.assert_array_equal(dist.distribution.sample(1000, seed=[3, 1]), soft)
  if dist.is_categorical:
    np.testing.assert_array_equal(hard, tf.one_hot(tf.argmax(soft, -1), 5))
    np.testing.assert_array_equal(tf.reduce_sum(hard, -1), 1.)
  else:
    np.testing.assert_array_equal(hard, tf.cast(soft > 0.5, tf.float32))
  assert set(np.unique(hard.numpy())) <= {0., 1.}


@pytest.mark.parametrize('make', WRAPPERS, ids=wrapper_ids)
def test_gradient_of_hard_sample_is_gradient_of_soft_sample(make):
  logits = tf.Variable(make().distribution.logits)
  temperature = tf.Variable(0.5)
  dist = make(temperature=temperature, logits=logits)
  gradients = []
  for sample in (dist.sample, dist.distribution.sample):
    with tf.GradientTape() as tape:
      value = sample(64, seed=[5, 5])
      loss = tf.reduce_sum(value * tf.range(1., 1. + value.shape[-1]))
    gradients.append(tape.gradient(loss, [logits, temperature]))
  for hard_gradient, soft_gradient in zip(*gradients):
    np.testing.assert_array_equal(hard_gradient, soft_gradient)


def test_hard_categorical_samples_follow_softmax_of_logits():
  hard = categorical(temperature=2.0).sample(100_000, seed=[6, 7])
  counts = tf.reduce_sum(hard, 0).numpy()
  expected = tf.nn.softmax(np.float64(LOGITS)).numpy() * 100_000
  assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_hard_bernoulli_samples_follow_sigmoid_of_logits():
  logits = np.array([-1., 0.5, 2.])
  hard = bernoulli(temperature=2.0, logits=logits).sample(50_000, seed=[6, 7])
  ones = tf.reduce_sum(hard, 0).numpy()
  for k, p in zip(ones, 1 / (1 + np.exp(-logits))):
    assert stats.binomtest(int(k), 50_000, p).pvalue > 1e-3


def test_log_prob_is_the_discrete_mass():
  dist = categorical()
  hard = dist.sample(10, seed=1)
  np.testing.assert_allclose(
      dist.log_prob(hard),
      tfd.OneHotCategorical(logits=LOGITS, dtype=tf.float32).log_prob(hard), rtol=1e-6)
  bern = bernoulli()
  bits = bern.sample(10, seed=1)
  np.testing.assert_allclose(
      bern.log_prob(bits), tfd.Bernoulli(logits=[-1., 0.5, 2.]).log_prob(bits), rtol=1e-6)


@pytest.mark.parametrize('make', WRAPPERS, ids=wrapper_ids)
def test_log_prob_is_the_documented_formula_with_its_gradient(make):
  # sum_k x_k log p_k (TFP's value) also off one-hot points, and its gradient
  # in x: it was taken with a where, whose gradient w.r.t. x is None.
  dist = make()
  x = tf.constant(dist.distribution.sample(6, seed=4))  # relaxed, not one-hot
  logits = tf.constant(dist.distribution.logits)
  if dist.is_categorical:
    formula = lambda x: tf.reduce_sum(x * tf.nn.log_softmax(logits), -1)
    tfp_value = tfd.OneHotCategorical(logits=logits, dtype=tf.float32).log_prob(x)
  else:
    formula = lambda x: x * tf.math.log_sigmoid(logits) + (1. - x) * tf.math.log_sigmoid(-logits)
    tfp_value = tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(x)
  values_and_gradients = []
  for log_prob in (dist.log_prob, formula):
    with tf.GradientTape() as tape:
      tape.watch(x)
      value = log_prob(x)
    values_and_gradients.append((value, tape.gradient(value, x)))
  for ours, expected in zip(*values_and_gradients):
    np.testing.assert_allclose(ours, expected, rtol=1e-5)
  np.testing.assert_allclose(values_and_gradients[0][0], tfp_value, rtol=1e-5)


def test_masked_class_never_sampled_and_log_prob_finite():
  dist = categorical(logits=[0.5, -np.inf, 0.2])
  hard = dist.sample(1000, seed=2)
  assert np.all(hard.numpy()[:, 1] == 0.)
  with tf.GradientTape() as tape:
    tape.watch(hard)
    log_prob = dist.log_prob(hard)
  assert np.all(np.isfinite(log_prob))
  assert np.all(np.isfinite(tape.gradient(log_prob, hard)))
  assert dist.log_prob([0., 1., 0.]) == -np.inf  # the masked class itself
  bits = rd.StraightThrough(rd.RelaxedBernoulli(0.5, logits=[-np.inf, np.inf]))
  np.testing.assert_array_equal(bits.log_prob([[0., 1.], [1., 0.]]),
                                [[0., 0.], [-np.inf, -np.inf]])


@pytest.mark.parametrize('dtype', [tf.float16, tf.bfloat16], ids=lambda d: d.name)
def test_half_type_hard_samples_are_unbiased(dtype):
  # Rounded to the half type first, near-equal components tied (argmax took
  # the first) or became exactly 1/2: at T = 10, class frequencies of
  # 0.259 / 0.242 and a Bernoulli mean of 0.48 in bfloat16.
  temperature = tf.constant(10., dtype)
  hard = rd.StraightThrough(rd.RelaxedOneHotCategorical(
      temperature, logits=tf.zeros([4], dtype))).sample(100_000, seed=[2, 3])
  counts = tf.reduce_sum(tf.cast(hard, tf.float32), 0).numpy()
  assert stats.chisquare(counts, [25_000.] * 4).pvalue > 1e-3
  bits = rd.StraightThrough(rd.RelaxedBernoulli(
      temperature, logits=tf.zeros([], dtype))).sample(100_000, seed=[2, 3])
  ones = int(tf.reduce_sum(tf.cast(bits, tf.float32)))
  assert stats.binomtest(ones, 100_000, 0.5).pvalue > 1e-3
  # probs rounded to the half type need not sum to 1 within float32's tolerance.
  by_probs = rd.StraightThrough(rd.RelaxedOneHotCategorical(
      temperature, probs=tf.constant([.1, .2, .3, .4], dtype)))
  assert by_probs.sample(3, seed=1).dtype == dtype


def test_mean_and_mode():
  dist = categorical(logits=tf.constant([LOGITS] * 2))
  np.testing.assert_allclose(dist.mean(), tf.nn.softmax([LOGITS] * 2), rtol=1e-6)
  np.testing.assert_array_equal(dist.mode(), tf.one_hot([1, 1], 5))
  np.testing.assert_array_equal(bernoulli().mode(), [0., 1., 1.])


def test_batch_shapes_slicing_and_composite_tensor():
  dist = rd.StraightThrough(rd.RelaxedOneHotCategorical(
      tf.constant([0.5, 2.]), logits=tf.zeros([3, 1, 4])))
  assert dist.batch_shape == [3, 2] and dist.event_shape == [4]
  assert dist.sample([5], seed=1).shape == [5, 3, 2, 4]
  assert dist[1:, 0].batch_shape == [2]
  assert dist.log_prob(dist.sample(seed=1)).shape == [3, 2]
  assert dist.copy(allow_nan_stats=False).allow_nan_stats is False
  with pytest.raises(ValueError, match=r'`sample_shape` must be non-negative; got \[2, -1\]'):
    dist.sample([2, -1], seed=1)
  with pytest.raises(TypeError, match=r"unexpected arguments \['foo'\]"):
    dist.sample(seed=1, foo=3)
  symbolic = tf.function(lambda n: dist.sample(n, seed=[1, 2]),
                         input_signature=[tf.TensorSpec([2], tf.int32)])
  assert symbolic(tf.constant([5, 1])).shape == [5, 1, 3, 2, 4]


@pytest.mark.parametrize('make', WRAPPERS, ids=wrapper_ids)
def test_log_prob_has_the_batch_shape_a_temperature_adds(make):
  # A leading temperature axis of 2 over the logits' batch b: batch [2] + b, and
  # log_prob of one value is one term per batch member (Independent sums them all).
  single = make(temperature=0.5)
  batch = single.batch_shape.as_list()
  dist = make(temperature=tf.reshape([0.5, 1.], [2] + [1] * len(batch)))
  value = single.sample(seed=[1, 2])
  assert dist.batch_shape == [2] + batch and dist.log_prob(value).shape == [2] + batch
  np.testing.assert_allclose(tfd.Independent(dist, 1 + len(batch)).log_prob(value),
                             2. * tf.reduce_sum(single.log_prob(value)), rtol=1e-6)
  values = tf.expand_dims(tf.stack([value] * 3), 1)
  assert dist.log_prob(values).shape == [3, 2] + batch


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize('make', WRAPPERS, ids=wrapper_ids)
def test_every_dtype_under_xla(make, dtype):
  @tf.function(jit_compile=True)
  def hard_log_prob_and_gradient(temperature, seed):
    with tf.GradientTape() as tape:
      tape.watch(temperature)
      base = make().distribution
      dist = rd.StraightThrough(base.copy(
          temperature=temperature, logits=tf.cast(base.logits, dtype)))
      hard = dist.sample(16, seed=seed)
      loss = tf.reduce_sum(hard * tf.cast(tf.range(hard.shape[-1]), dtype))
    return hard, dist.log_prob(hard), tape.gradient(loss, temperature)

  hard, log_prob, gradient = hard_log_prob_and_gradient(
      tf.constant(0.3, dtype), tf.constant([1, 2]))
  assert hard.dtype == log_prob.dtype == gradient.dtype == dtype
  assert set(np.unique(tf.cast(hard, tf.float32).numpy())) <= {0., 1.}
  assert np.all(np.isfinite(tf.cast(log_prob, tf.float32)))
  assert np.isfinite(float(tf.cast(gradient, tf.float32)))


def test_wraps_tfp_classes_and_rejects_others():
  tfp_dist = rd.StraightThrough(tfd.RelaxedOneHotCategorical(0.5, logits=LOGITS))
  assert tfp_dist.sample(seed=[1, 1]).numpy().sum() == 1.
  with pytest.raises(TypeError, match='`distribution` must be .*got Normal'):
    rd.StraightThrough(tfd.Normal(0., 1.))
  with pytest.raises(TypeError, match='got ExpRelaxedCategorical'):
    rd.StraightThrough(rd.ExpRelaxedCategorical(0.5, logits=LOGITS))


def test_straight_through_gradient_is_biased():
  """ST is biased: measured against the exact gradient of E[f(z)].

  K = 3, logits a = [0.5, -0.3, 0.1], f(z) = (c . z - 1.5)^2 with c = [1, 2, 3],
  so E[f] = sum_k p_k f(e_k) and its exact gradient is p * (f - p . f).
  With 200,000 samples at T = 0.5 the ST mean is off by about (0.23, -0.20,
  -0.03) on (0.055, -0.014, -0.040): many standard errors, and it does not
  vanish as T -> 0. The score-function estimator on the same samples is
  unbiased, which checks the harness.
  """
  num_samples = 200_000
  logits = tf.Variable(tf.broadcast_to([0.5, -0.3, 0.1], [num_samples, 3]))
  c = tf.constant([1., 2., 3.], tf.float64)
  f = lambda z: (tf.reduce_sum(tf.cast(z, tf.float64) * c, -1) - 1.5) ** 2
  with tf.GradientTape() as tape:
    hard = rd.StraightThrough(rd.RelaxedOneHotCategorical(0.5, logits=logits)).sample(
        seed=[8, 8])
    values = f(hard)
  per_sample_st = tf.cast(tape.gradient(values, logits), tf.float64).numpy()
  p = tf.nn.softmax(tf.constant([0.5, -0.3, 0.1], tf.float64)).numpy()
  f_k = f(tf.eye(3)).numpy()
  exact = p * (f_k - p @ f_k)
  per_sample_score = values.numpy()[:, None] * (tf.cast(hard, tf.float64).numpy() - p)

  def z_scores(per_sample):
    standard_error = per_sample.std(0) / np.sqrt(num_samples)
    return (per_sample.mean(0) - exact) / standard_error

  assert np.max(np.abs(z_scores(per_sample_score))) < 4
  assert np.max(np.abs(z_scores(per_sample_st))) > 20
