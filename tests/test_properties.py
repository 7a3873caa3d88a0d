"""Property-based tests: no NaN, on the support, reproducible, for any input.

Hypothesis generates the cases from a fixed seed (`derandomize=True`), so a
failure reproduces on every run; the suite runs over 10,000 cases in total.
"""

import hypothesis
from hypothesis import strategies as st
import numpy as np
import pytest
import tensorflow as tf

import relaxed_dist as rd

DTYPES = [tf.float16, tf.bfloat16, tf.float32, tf.float64]
SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=list(hypothesis.HealthCheck))


@st.composite
def cases(draw, max_classes=1000, masks=True):
  """A dtype, temperature in [1e-3, 1e3], logits up to +-1e4 with -inf masks."""
  dtype = draw(st.sampled_from(DTYPES))
  num_classes = draw(st.one_of(st.integers(2, 12), st.integers(2, max_classes)))
  batch_shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
  sample_shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
  temperature = 10. ** draw(st.floats(-3., 3.))
  scale = 10. ** draw(st.floats(-2., 4.))
  rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
  logits = np.clip(rng.normal(size=batch_shape + (num_classes,)) * scale, -1e4, 1e4)
  if masks and draw(st.booleans()):
    masked = rng.uniform(size=logits.shape) < draw(st.floats(0., 0.9))
    masked[..., rng.integers(num_classes)] = False  # one class stays live
    logits = np.where(masked, -np.inf, logits)
  return dict(dtype=dtype, temperature=temperature, logits=logits,
              sample_shape=sample_shape, seed=draw(st.integers(0, 2**31 - 1)))


def finite(tensor):
  return bool(np.all(np.isfinite(tf.cast(tensor, tf.float64).numpy())))


def tolerance(dtype):
  return {tf.float16: 1e-2, tf.bfloat16: 3e-2, tf.float32: 1e-5, tf.float64: 1e-12}[dtype]


def sample_log_prob_and_gradients(make, case, dtype=None):
  dtype = dtype or case['dtype']
  temperature = tf.constant(case['temperature'], dtype)
  logits = tf.constant(case['logits'], dtype)
  with tf.GradientTape() as tape:
    tape.watch([temperature, logits])
    dist = make(temperature, logits)
    sample, log_prob = dist.experimental_sample_and_log_prob(
        case['sample_shape'], seed=case['seed'])
    loss = tf.reduce_sum(tf.cast(log_prob, tf.float32)) + weighted_sum(sample)
  return dist, sample, log_prob, tape.gradient(loss, [temperature, logits])


def weighted_sum(sample):
  """sum_k k x_k over the finite entries: a loss with a gradient through x."""
  sample = tf.cast(sample, tf.float32)
  weights = tf.range(sample.shape[-1] or 1, dtype=tf.float32) if sample.shape.rank else 1.
  finite_sample = tf.where(tf.math.is_finite(sample), sample, tf.zeros_like(sample))
  return tf.reduce_sum(finite_sample * weights)


def assert_finite_where_representable(make, case, log_prob, gradients):
  """log_prob and gradients finite, except where the exact value exceeds the
  dtype's range.

  In float16 (max 65504) a log density of 8e4 (logits of 1e4) or a
  temperature gradient of -8e4 (T = 0.01) rounds to inf correctly. The
  float32 computation of the same case tells which entries those are.
  """
  outputs = [log_prob, *gradients]
  if all(finite(output) for output in outputs):
    return
  assert case['dtype'] == tf.float16
  _, _, log_prob32, gradients32 = sample_log_prob_and_gradients(make, case, tf.float32)
  for output, output32 in zip(outputs, [log_prob32, *gradients32]):
    output, output32 = output.numpy().astype(np.float64), output32.numpy()
    assert np.all(np.isfinite(output32))
    assert np.all(np.abs(output32[~np.isfinite(output)]) > 6e4)


def assert_fresh_log_prob_finite_where_representable(make, case, dist, y):
  """log_prob of a copy of y (no cache) is finite, or past float16's range.

  float16 points are evaluated in float32 (zeros at float32's smallest normal
  number); the float32 reference evaluates the same point.
  """
  log_prob = dist.log_prob(tf.constant(y.numpy()))
  if finite(log_prob):
    return
  assert case['dtype'] == tf.float16
  point = y.numpy().astype(np.float32)
  reference = make(tf.constant(case['temperature'], tf.float32),
                   tf.constant(case['logits'], tf.float32)).log_prob(point).numpy()
  assert np.all(np.isfinite(reference))
  assert np.all(np.abs(reference[~np.isfinite(log_prob.numpy())]) > 6e4)


@hypothesis.settings(max_examples=2500, **SETTINGS)
@hypothesis.given(cases())
def test_relaxed_onehot_categorical(case):
  make = lambda t, l: rd.RelaxedOneHotCategorical(t, logits=l)
  dist, y, log_prob, gradients = sample_log_prob_and_gradients(make, case)
  assert finite(y)
  assert_finite_where_representable(make, case, log_prob, gradients)
  y64 = tf.cast(y, tf.float64).numpy()
  assert np.all(y64 >= 0) and np.all(y64 <= 1)
  np.testing.assert_allclose(y64.sum(-1), 1., atol=tolerance(case['dtype']) * 10)
  assert np.all(y64[np.broadcast_to(np.isneginf(case['logits']), y64.shape)] == 0)
  assert_fresh_log_prob_finite_where_representable(make, case, dist, y)
  np.testing.assert_array_equal(
      dist.sample(case['sample_shape'], seed=case['seed']), y)


@hypothesis.settings(max_examples=1500, **SETTINGS)
@hypothesis.given(cases())
def test_exp_relaxed_categorical(case):
  make = lambda t, l: rd.ExpRelaxedCategorical(t, logits=l)
  _, x, log_prob, gradients = sample_log_prob_and_gradients(make, case)
  masked = np.broadcast_to(np.isneginf(case['logits']), x.shape)
  x64 = tf.cast(x, tf.float64).numpy()
  assert np.all(np.isfinite(x64[~masked])) and np.all(x64[masked] == -np.inf)
  assert np.all(x64 <= 0)
  assert_finite_where_representable(make, case, log_prob, gradients)


@hypothesis.settings(max_examples=2000, **SETTINGS)
@hypothesis.given(cases(masks=False))
def test_relaxed_bernoulli(case):
  make = lambda t, l: rd.RelaxedBernoulli(t, logits=l)
  dist, y, log_prob, gradients = sample_log_prob_and_gradients(make, case)
  y64 = tf.cast(y, tf.float64).numpy()
  assert np.all((y64 >= 0) & (y64 <= 1))
  assert_finite_where_representable(make, case, log_prob, gradients)
  assert_fresh_log_prob_finite_where_representable(make, case, dist, y)


@hypothesis.settings(max_examples=2000, **SETTINGS)
@hypothesis.given(cases())
def test_straight_through_samples_are_exactly_one_hot(case):
  make = lambda t, l: rd.StraightThrough(rd.RelaxedOneHotCategorical(t, logits=l))
  dist, hard, log_prob, gradients = sample_log_prob_and_gradients(make, case)
  hard64 = tf.cast(hard, tf.float64).numpy()
  assert set(np.unique(hard64)) <= {0., 1.}
  np.testing.assert_array_equal(hard64.sum(-1), 1.)
  assert_finite_where_representable(make, case, log_prob, gradients)
  del dist


@hypothesis.settings(max_examples=1500, **SETTINGS)
@hypothesis.given(cases(), st.booleans())
def test_gumbel_softmax_gradients(case, hard):
  temperature = tf.constant(case['temperature'], case['dtype'])
  logits = tf.constant(case['logits'], case['dtype'])
  with tf.GradientTape() as tape:
    tape.watch([temperature, logits])
    y = rd.gumbel_softmax(logits, temperature, hard=hard, seed=case['seed'])
    loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.range(y.shape[-1], dtype=tf.float32))
  assert finite(y) and all(finite(g) for g in tape.gradient(loss, [temperature, logits]))
  if hard:
    np.testing.assert_array_equal(tf.cast(y, tf.float64).numpy().sum(-1), 1.)


_XLA_STEPS = {}


def xla_step(dtype, num_classes):
  """One compiled function per (dtype, K): the values vary without retracing."""
  key = (dtype, num_classes)
  if key not in _XLA_STEPS:
    @tf.function(jit_compile=True)
    def step(temperature, logits, seed):
      with tf.GradientTape() as tape:
        tape.watch([temperature, logits])
        dist = rd.RelaxedOneHotCategorical(temperature, logits=logits)
        y, log_prob = dist.experimental_sample_and_log_prob(4, seed=seed)
        loss = tf.reduce_sum(tf.cast(log_prob, tf.float32)) + weighted_sum(y)
      return (y, log_prob) + tuple(tape.gradient(loss, [temperature, logits]))
    _XLA_STEPS[key] = step
  return _XLA_STEPS[key]


@hypothesis.settings(max_examples=800, **SETTINGS)
@hypothesis.given(st.sampled_from(DTYPES), st.sampled_from([2, 10, 1000]),
                  st.floats(-3., 3.), st.floats(-2., 4.), st.integers(0, 2**31 - 1),
                  st.booleans())
def test_xla(dtype, num_classes, log_temperature, log_scale, seed, mask):
  rng = np.random.default_rng(seed)
  logits = np.clip(rng.normal(size=[3, num_classes]) * 10. ** log_scale, -1e4, 1e4)
  if mask:
    logits[:, 0] = -np.inf

  def run(dtype):
    return xla_step(dtype, num_classes)(
        tf.constant(10. ** log_temperature, dtype), tf.constant(logits, dtype),
        tf.constant([seed, 1], tf.int32))

  outputs = run(dtype)
  if all(finite(output) for output in outputs):
    return
  assert dtype == tf.float16  # past float16's range only, as checked above
  for output, output32 in zip(outputs[1:], run(tf.float32)[1:]):
    output, output32 = output.numpy().astype(np.float64), output32.numpy()
    assert np.all(np.isfinite(output32))
    assert np.all(np.abs(output32[~np.isfinite(output)]) > 6e4)
