"""The TFP distribution contract. What the four relaxations share runs for all
of them (LOGITS is one row of 5 classes for the categorical ones, a batch of 5
for the Bernoulli ones); what depends on the event shape runs per family, here
for the categorical ones and in test_relaxed_bernoulli.py for the Bernoulli ones."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import relaxed_dist as rd
from tests.distributions import checkpointing

CATEGORICAL = [rd.ExpRelaxedCategorical, rd.RelaxedOneHotCategorical]
EVERY_RELAXATION = CATEGORICAL + [rd.LogitRelaxedBernoulli, rd.RelaxedBernoulli]
DTYPES = [tf.float16, tf.bfloat16, tf.float32, tf.float64]
LOGITS = [-2., 2., 0., 1., -1.]

categorical = pytest.mark.parametrize('cls', CATEGORICAL, ids=lambda c: c.__name__)
every_relaxation = pytest.mark.parametrize('cls', EVERY_RELAXATION, ids=lambda c: c.__name__)


def finite(tensor):
  return np.all(np.isfinite(tf.cast(tensor, tf.float32).numpy()))


@categorical
@pytest.mark.parametrize('batch_shape', [(), (3,), (2, 3)])
@pytest.mark.parametrize('sample_shape', [(), (4,), (2, 5)])
@pytest.mark.parametrize('num_classes', [1, 2, 7])
def test_shapes(cls, batch_shape, sample_shape, num_classes):
  logits = tf.zeros(batch_shape + (num_classes,))
  dist = cls(0.5, logits=logits)
  assert dist.batch_shape == batch_shape
  assert dist.event_shape == (num_classes,)
  sample = dist.sample(sample_shape, seed=1)
  assert sample.shape == sample_shape + batch_shape + (num_classes,)
  assert dist.log_prob(sample).shape == sample_shape + batch_shape
  assert finite(dist.log_prob(sample))
  assert list(dist.batch_shape_tensor().numpy()) == list(batch_shape)


@every_relaxation
@pytest.mark.parametrize('sample_shape', [
    (), 4, [2, 3], np.int64(3), tf.TensorShape([2, 2]), tf.constant(4),
    tf.constant([2, 3]), [tf.constant(2), 3]], ids=str)
def test_eager_and_graph_samples_agree_for_every_sample_shape_form(cls, sample_shape):
  # Eagerly the sample is drawn directly in the requested shape, in graph mode
  # through TFP's flatten-and-reshape: same shape, same noise stream.
  dist = cls(0.5, logits=tf.random.stateless_normal([3, 5], seed=[1, 2]))
  eager = dist.sample(sample_shape, seed=[7, 8])
  graph = tf.function(lambda: dist.sample(sample_shape, seed=[7, 8]), autograph=False)()
  assert eager.shape == graph.shape
  np.testing.assert_array_equal(eager, graph)


@every_relaxation
def test_negative_sample_shape_is_rejected(cls):
  dist = cls(0.5, logits=LOGITS)
  for draw in [dist.sample, dist.experimental_sample_and_log_prob]:
    with pytest.raises(ValueError, match=r'`sample_shape` must be non-negative; got \[2, -1\]'):
      draw([2, -1], seed=1)


@categorical
def test_shapes_known_only_at_run_time(cls):
  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32),
                                tf.TensorSpec([None], tf.float32),
                                tf.TensorSpec([None], tf.int32)], autograph=False)
  def shapes(logits, temperature, sample_shape):
    dist = cls(temperature, logits=logits)
    sample = dist.sample(sample_shape, seed=[1, 2])
    log_prob = dist.log_prob(sample)
    return (dist.batch_shape_tensor(), dist.event_shape_tensor(), tf.shape(sample),
            tf.shape(log_prob), log_prob - dist.log_prob(tf.identity(sample)))

  batch, event, sample, log_prob, difference = shapes(
      tf.zeros([3, 5]), tf.fill([3], 0.5), tf.constant([2, 4]))
  assert list(batch.numpy()) == [3] and list(event.numpy()) == [5]
  assert list(sample.numpy()) == [2, 4, 3, 5] and list(log_prob.numpy()) == [2, 4, 3]
  np.testing.assert_allclose(difference, 0., atol=1e-4)


@categorical
def test_event_shape_has_rank_one_when_the_logits_rank_is_unknown(cls):
  @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)], autograph=False)
  def event_rank(logits):
    dist = cls(0.5, logits=logits)
    assert dist.event_shape.rank == 1, dist.event_shape
    return dist.event_shape_tensor()

  assert list(event_rank(tf.zeros([3, 5])).numpy()) == [5]


@categorical
def test_temperature_broadcasts_against_logits_batch(cls):
  dist = cls(tf.constant([0.5, 2.]), logits=tf.zeros([3, 1, 4]))
  assert dist.batch_shape == [3, 2]
  assert dist.event_shape == [4]
  assert dist.sample(5, seed=1).shape == [5, 3, 2, 4]
  sliced = dist[1:, 0]
  assert sliced.batch_shape == [2]
  assert sliced.temperature.shape == [] or sliced.temperature.shape == [1]
  np.testing.assert_allclose(
      sliced.log_prob(dist.sample(seed=2)[1:, 0]),
      dist.log_prob(dist.sample(seed=2))[1:, 0], rtol=1e-5)


@categorical
def test_slicing_copy_and_parameters(cls):
  dist = cls(tf.fill([4, 3], 0.7), probs=tf.fill([4, 3, 2], 0.5))
  assert dist[1:, 0].batch_shape == [3]
  assert set(dist.parameters) >= {'temperature', 'logits', 'probs'}
  copy = dist.copy(temperature=2.)
  assert float(tf.reduce_mean(copy.temperature)) == 2.
  assert copy.batch_shape == [4, 3]
  np.testing.assert_allclose(dist.probs_parameter(), 0.5)
  np.testing.assert_allclose(dist.logits_parameter(), np.log(0.5), rtol=1e-6)
  assert dist.logits is None and dist.probs is not None


@every_relaxation
def test_composite_tensor_crosses_tf_function(cls):
  dist = cls(0.5, logits=LOGITS)
  assert isinstance(dist, tf.__internal__.CompositeTensor)

  @tf.function
  def rescale(d):
    return d.copy(temperature=d.temperature * 2.)

  out = rescale(dist)
  assert isinstance(out, cls)
  assert float(out.temperature) == 1.0
  flat = tf.nest.flatten(dist, expand_composites=True)
  rebuilt = tf.nest.pack_sequence_as(dist, flat, expand_composites=True)
  np.testing.assert_allclose(rebuilt.sample(seed=3), dist.sample(seed=3))


@categorical
def test_variable_temperature_anneals_without_retrace(cls):
  temperature = tf.Variable(5.)
  dist = cls(temperature, logits=LOGITS)
  traces = []

  @tf.function
  def spread(seed):
    traces.append(1)
    y = dist.sample(2000, seed=seed)
    if cls is rd.ExpRelaxedCategorical:
      y = tf.exp(y)
    return tf.reduce_mean(tf.reduce_max(y, -1))

  hot = spread(tf.constant([1, 2]))
  temperature.assign(0.05)
  cold = spread(tf.constant([1, 2]))
  assert len(traces) == 1
  assert hot < 0.6 < 0.95 < cold


@every_relaxation
def test_deferred_tensor_temperature_gets_gradient(cls):
  raw = tf.Variable(0.3)
  temperature = tfp.util.DeferredTensor(raw, tf.math.softplus)
  dist = cls(temperature, logits=LOGITS)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(dist.log_prob(dist.sample(10, seed=1)))
  gradient = tape.gradient(loss, raw)
  assert gradient is not None and finite(gradient)
  raw.assign(2.)
  np.testing.assert_allclose(dist.temperature, np.log1p(np.exp(2.)), rtol=1e-6)


@categorical
def test_make_trainable(cls):
  dist = tfp.experimental.util.make_trainable(
      cls, batch_and_event_shape=[3, 4], seed=[1, 2])
  assert dist.batch_shape == [3] and dist.event_shape == [4]
  assert len(dist.trainable_variables) == 2
  with tf.GradientTape() as tape:
    loss = -tf.reduce_mean(dist.log_prob(dist.sample(8, seed=[3, 4])))
  gradients = tape.gradient(loss, dist.trainable_variables)
  assert all(g is not None and finite(g) for g in gradients)


@categorical
def test_event_space_bijector_round_trips(cls):
  dist = cls(0.5, logits=LOGITS)
  bijector = dist.experimental_default_event_space_bijector()
  unconstrained = tf.random.stateless_normal([6, 4], seed=[1, 1])
  value = bijector(unconstrained)
  np.testing.assert_allclose(bijector.inverse(value), unconstrained, atol=1e-4)
  assert finite(dist.log_prob(tf.constant(value.numpy())))


@categorical
def test_sample_and_log_prob_matches_log_prob(cls):
  dist = cls(0.3, logits=LOGITS)
  sample, log_prob = dist.experimental_sample_and_log_prob(100, seed=[4, 2])
  np.testing.assert_allclose(dist.sample(100, seed=[4, 2]), sample)
  np.testing.assert_allclose(dist.log_prob(sample), log_prob, rtol=1e-5)


@every_relaxation
def test_seeds_are_reproducible(cls):
  dist = cls(0.5, logits=LOGITS)
  same = [dist.sample(5, seed=s) for s in (7, 7, [1, 2], tf.constant([1, 2]))]
  np.testing.assert_array_equal(same[0], same[1])
  np.testing.assert_array_equal(same[2], same[3])
  assert not np.array_equal(same[0], same[2])
  assert not np.array_equal(dist.sample(5), dist.sample(5))


@every_relaxation
@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: d.name)
def test_compiles_with_xla_in_every_dtype(cls, dtype):
  @tf.function(jit_compile=True)
  def sample_log_prob_and_gradients(temperature, logits, seed):
    with tf.GradientTape() as tape:
      tape.watch([temperature, logits])
      dist = cls(temperature, logits=logits)
      sample, log_prob = dist.experimental_sample_and_log_prob(16, seed=seed)
      fresh_log_prob = dist.log_prob(tf.stop_gradient(sample))
      loss = (tf.reduce_sum(log_prob) + tf.reduce_sum(fresh_log_prob)
              + tf.reduce_sum(sample))
    return (sample, log_prob, fresh_log_prob) + tuple(
        tape.gradient(loss, [temperature, logits]))

  outputs = sample_log_prob_and_gradients(
      tf.constant(0.2, dtype), tf.constant(LOGITS, dtype), tf.constant([3, 4]))
  for output in outputs:
    assert output.dtype == dtype and finite(output)
  # XLA's Philox lays out its stream differently from the TF kernel's, so the
  # same seed reproduces a sample within a mode, not across eager and XLA.
  again = sample_log_prob_and_gradients(
      tf.constant(0.2, dtype), tf.constant(LOGITS, dtype), tf.constant([3, 4]))
  np.testing.assert_array_equal(outputs[0], again[0])


@every_relaxation
@pytest.mark.parametrize('quantity,mode', [
    ('sample', 'eager'), ('sample', 'function'), ('sample', 'xla'), ('log_prob', 'xla')])
@pytest.mark.parametrize('masked', [False, True], ids=['', 'masked'])
def test_per_example_gradients_and_hessian_vector_products(cls, quantity, mode, masked):
  # tf.vectorized_map (per-example gradients) agrees with a loop, and forward-
  # over-reverse Hessian-vector products with reverse-over-reverse ones, also
  # with a -inf logit. Samples hold no tf.cond, so this works in every mode;
  # log_prob's tf.cond supports neither outside XLA (README, Known limitations).
  weights = tf.Variable(tf.random.stateless_normal([2, 5], seed=[1, 2]))
  inputs = tf.random.stateless_normal([4, 2], seed=[3, 4])
  direction = tf.random.stateless_normal([2, 5], seed=[7, 8])
  mask = tf.constant([0., -np.inf, 0., 0., 0.] if masked else [0.] * 5)

  def loss(x):
    dist = cls(0.5, logits=tf.linalg.matvec(weights, x, transpose_a=True) + mask)
    sample = dist.sample(seed=[5, 6])
    if quantity == 'log_prob':
      return tf.reduce_sum(dist.log_prob(sample))
    return tf.reduce_sum(sample * tf.range(1., 6.))

  def per_example_gradient(x):
    with tf.GradientTape() as tape:
      value = loss(x)
    return tape.gradient(value, weights)

  def gradients_and_hessian_vector_products():
    vectorized = tf.vectorized_map(per_example_gradient, inputs)
    looped = tf.stack([per_example_gradient(x) for x in tf.unstack(inputs)])
    zero = tf.UnconnectedGradients.ZERO  # a LogitRelaxedBernoulli sample is linear
    with tf.autodiff.ForwardAccumulator(weights, direction) as accumulator:
      with tf.GradientTape(persistent=True) as outer:
        with tf.GradientTape() as inner:
          value = loss(inputs[0])
        gradient = inner.gradient(value, weights)
        directional = tf.reduce_sum(gradient * direction)
    forward_over_reverse = accumulator.jvp(gradient, unconnected_gradients=zero)
    reverse_over_reverse = outer.gradient(directional, weights, unconnected_gradients=zero)
    return vectorized, looped, forward_over_reverse, reverse_over_reverse

  run = gradients_and_hessian_vector_products
  if mode != 'eager':
    run = tf.function(run, jit_compile=mode == 'xla')
  vectorized, looped, forward_over_reverse, reverse_over_reverse = run()
  np.testing.assert_allclose(vectorized, looped, rtol=1e-5, atol=1e-6)
  assert finite(forward_over_reverse)
  np.testing.assert_allclose(forward_over_reverse, reverse_over_reverse, rtol=1e-4, atol=1e-5)


@every_relaxation
def test_runs_in_mirrored_strategy_with_a_sample_per_replica(cls):
  strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
  assert strategy.num_replicas_in_sync == 2

  @tf.function
  def replica_step(seed):
    context = tf.distribute.get_replica_context()
    replica_seed = tf.random.experimental.stateless_fold_in(
        seed, context.replica_id_in_sync_group)
    dist = cls(0.5, logits=LOGITS)
    sample = dist.sample(4, seed=replica_seed)
    return sample, dist.log_prob(sample)

  with strategy.scope():
    samples, log_probs = strategy.run(replica_step, args=(tf.constant([1, 2]),))
  first, second = strategy.experimental_local_results(samples)
  assert not np.array_equal(first, second)
  assert all(finite(lp) for lp in strategy.experimental_local_results(log_probs))


@every_relaxation
def test_variable_parameters_survive_a_checkpoint(cls, tmp_path):
  checkpointing.assert_variable_parameters_survive_a_checkpoint(cls, LOGITS, tmp_path)


@every_relaxation
@pytest.mark.parametrize('dtype', [tf.float16, tf.bfloat16, tf.float32], ids=lambda d: d.name)
@pytest.mark.parametrize('mode', ['eager', 'function', 'xla'])
def test_probs_of_exactly_zero_or_one_have_finite_gradients(cls, dtype, mode):
  # softmax / sigmoid of a saturated score is exactly 0 (or 1): a masked class
  # or a point mass, whose gradient is 0, not 0 * log'(0) = NaN.
  categorical = cls in CATEGORICAL
  scores = tf.Variable(np.array([0., 1., -120.] if categorical else [0., 1., 120., -120.],
                                dtype.as_numpy_dtype))

  def gradient():
    with tf.GradientTape() as tape:
      probs = tf.nn.softmax(scores) if categorical else tf.math.sigmoid(scores)
      dist = cls(tf.constant(0.5, dtype), probs=probs)
      sample = dist.sample(seed=[1, 2])
      other, log_prob = dist.experimental_sample_and_log_prob(seed=[3, 4])
      loss = (tf.reduce_sum(sample[..., :2]) + tf.reduce_sum(other[..., :2])
              + tf.reduce_sum(log_prob) + tf.reduce_sum(dist.log_prob(sample)))
    return loss, tape.gradient(loss, scores)

  if mode != 'eager':
    gradient = tf.function(gradient, jit_compile=mode == 'xla')
  loss, score_gradient = gradient()
  assert not np.isnan(float(loss))  # +inf at a Bernoulli point mass
  assert finite(score_gradient), score_gradient


@pytest.mark.parametrize('cls', [rd.RelaxedOneHotCategorical, rd.RelaxedBernoulli],
                         ids=lambda c: c.__name__)
def test_float16_subnormal_points_are_not_moved(cls):
  # float16 numbers below its smallest normal one (6.1e-5) are ordinary float32
  # numbers: the density of a fresh one is taken there, as in float32 (and an
  # exact 0 is clamped at float32's tiny in both).
  if cls is rd.RelaxedBernoulli:
    logits, points = [0., 0., 0., 0.], [6e-8, 3e-5, 0.5, 0.]
  else:
    logits, points = [0., 0.], [[6e-8, 1.], [3e-5, 1.], [0.5, 0.5], [0., 1.]]
  half = tf.constant(points, tf.float16)
  in_half = cls(tf.constant(0.1, tf.float16), logits=tf.constant(logits, tf.float16))
  in_float32 = cls(0.1, logits=logits)
  single = tf.cast(half, tf.float32)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([half, single])
    log_prob, reference = in_half.log_prob(half), in_float32.log_prob(single)
  np.testing.assert_allclose(tf.cast(log_prob, tf.float32), reference, rtol=2e-3)
  # 1/y is past float16's range below its tiny: there the gradient is that of
  # the clamp at float16's tiny (0), elsewhere float32's, rounded.
  gradient = tf.cast(tape.gradient(log_prob, half), tf.float32).numpy()
  reference_gradient = tape.gradient(reference, single).numpy()
  below = half.numpy() < np.finfo(np.float16).tiny
  assert np.all(gradient[below] == 0.)
  np.testing.assert_allclose(gradient[~below], reference_gradient[~below], rtol=2e-3)


@pytest.mark.parametrize('cls', [rd.RelaxedOneHotCategorical, rd.RelaxedBernoulli],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize('dtype', [tf.float16, tf.bfloat16], ids=lambda d: d.name)
@pytest.mark.parametrize('in_function', [False, True], ids=['eager', 'function'])
def test_half_precision_log_prob_of_a_fresh_point_is_rounded_once(cls, dtype, in_function):
  # The log (or logit) of a fresh point is computed in float32 and is not
  # rounded to the half type before the density: log_prob and its gradient
  # are the float32 distribution's at the same point and parameters, rounded.
  shape = [400, 3] if cls is rd.RelaxedOneHotCategorical else [400]
  logits = tf.cast(2. * tf.random.stateless_normal(shape, seed=[1, 2]), dtype)
  temperature = tf.constant(0.3, dtype)
  point = tf.constant(cls(temperature, logits=logits).sample(seed=[3, 4]).numpy())

  def log_prob_and_gradient(dist_dtype):
    cast = lambda v: tf.cast(v, dist_dtype)
    params = [cast(logits), cast(point)]
    with tf.GradientTape() as tape:
      tape.watch(params)
      log_prob = cls(cast(temperature), logits=params[0]).log_prob(params[1])
    return [log_prob] + tape.gradient(log_prob, params)

  if in_function:
    log_prob_and_gradient = tf.function(log_prob_and_gradient)
  half = log_prob_and_gradient(dtype)
  reference = log_prob_and_gradient(tf.float32)
  # Left out by design: a Bernoulli point of 1 is clamped at 1 - eps/2 of its
  # own dtype, and below float16's tiny the point's gradient is 0.
  point = tf.cast(point, tf.float32).numpy()
  kept = point < 1. if cls is rd.RelaxedBernoulli else np.ones_like(point, bool)
  kept_for = {'log_prob': kept if cls is rd.RelaxedBernoulli else kept.all(-1),
              'logits': kept, 'point': kept & (point >= np.finfo(np.float16).tiny)}
  assert kept.mean() > 0.5
  for name, value, expected in zip(['log_prob', 'logits', 'point'], half, reference):
    np.testing.assert_array_equal(
        tf.cast(value, tf.float32).numpy()[kept_for[name]],
        tf.cast(tf.cast(expected, dtype), tf.float32).numpy()[kept_for[name]], err_msg=name)


@pytest.mark.parametrize('cls', [rd.RelaxedOneHotCategorical, rd.RelaxedBernoulli],
                         ids=lambda c: c.__name__)
def test_half_precision_log_prob_keeps_no_float32_copy_of_a_held_point(cls):
  # The float32 log of a fresh point is not cached: points the caller holds
  # (a validation set, a list of batches) do not each carry a float32 copy.
  shape = [100_000, 10] if cls is rd.RelaxedOneHotCategorical else [1_000_000]
  dist = cls(tf.constant(0.5, tf.bfloat16), logits=tf.zeros(shape[1:], tf.bfloat16))
  points = [tf.fill(shape, tf.constant(0.1, tf.bfloat16)) for _ in range(5)]
  dist.log_prob(points[0])  # allocations made once
  held_before = tf.config.experimental.get_memory_info('CPU:0')['current']
  for point in points[1:]:
    dist.log_prob(point)
  held = tf.config.experimental.get_memory_info('CPU:0')['current'] - held_before
  assert held < 4 * 2**20, held  # one float32 copy of a point is 4 MiB


@pytest.mark.parametrize('dtype', [tf.bfloat16, tf.float32], ids=lambda d: d.name)
@pytest.mark.parametrize('mode', ['eager', 'function', 'xla'])
def test_subnormal_probs_are_masked_classes_in_every_mode(dtype, mode):
  # CPU kernels read a subnormal as 0 in some comparisons and not in others;
  # probs below tiny are masked classes everywhere, also beside a gradient.
  probs = tf.Variable(np.array([9.2e-41, 0.5, 0.5], dtype.as_numpy_dtype))

  def logits_and_sample():
    dist = rd.RelaxedOneHotCategorical(tf.constant(1., dtype), probs=probs)
    with tf.GradientTape() as tape:
      sample = dist.sample(1000, seed=[1, 2])
    tape.gradient(sample, probs)
    return dist.logits_parameter(), sample

  if mode != 'eager':
    logits_and_sample = tf.function(logits_and_sample, jit_compile=mode == 'xla')
  logits, sample = logits_and_sample()
  assert logits.numpy()[0] == -np.inf and np.all(sample.numpy()[:, 0] == 0.)


@every_relaxation
def test_float16_probs_below_its_tiny_keep_their_log(cls):
  # float16's subnormals are normal float32 numbers: not masked classes.
  probs = tf.constant([3e-5, 1. - 3e-5] if cls in CATEGORICAL else [3e-5, 0.5], tf.float16)
  logits = tf.cast(cls(tf.constant(1., tf.float16), probs=probs).logits_parameter(), tf.float32)
  assert np.isfinite(logits.numpy()[0]) and abs(logits.numpy()[0] - np.log(3e-5)) < 0.05


@every_relaxation
def test_a_variable_sample_shape_works_eagerly(cls):
  assert cls(0.5, logits=LOGITS).sample(tf.Variable([2, 3]), seed=1).shape[:2] == [2, 3]
