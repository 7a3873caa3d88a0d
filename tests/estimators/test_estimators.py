"""The estimator interface: registry, shapes, seeds, gradients to every variable, errors."""

import re

import keras
import numpy as np
import pytest
from scipy import stats
import tensorflow as tf

from relaxed_dist import estimators
from relaxed_dist.estimators import _common

NAMES = list(estimators.ESTIMATORS)
LOGITS = [0.3, -0.8, 1.1, 0.]
WEIGHTS = tf.constant([1., -2., 0.5, 3.])


def f(z):
  return tf.reduce_sum(z * tf.cast(WEIGHTS, z.dtype), -1) ** 2


def options(name, num_classes=4):
  """Options that exercise each estimator's machinery."""
  return {
      'score_function': {'baseline': 'leave_one_out', 'num_samples': 3},
      'rebar': {'parameters': estimators.RebarParameters()},
      'relax': {'control_variate': estimators.RelaxControlVariate.mlp(num_classes)},
  }.get(name, {})


def test_registry_maps_the_issue_names_to_the_estimators():
  assert NAMES == ['score_function', 'straight_through', 'gumbel_softmax', 'st_gumbel_softmax',
                   'gumbel_rao', 'reinmax', 'gapped_straight_through', 'rebar', 'relax']
  for name in NAMES:
    assert estimators.get(name) is getattr(estimators, name)
    doc = estimators.get(name).__doc__  # says bias, cost and paper
    assert re.search('[Bb]iased', doc) and 'evaluation' in doc and re.search(r'20\d\d', doc)


def test_unknown_name_lists_the_valid_names():
  with pytest.raises(ValueError, match="`name` must be one of score_function, .*relax; "
                                       "got 'reinforce'"):
    estimators.get('reinforce')


@pytest.mark.parametrize('batch_shape', [[], [3], [2, 3]], ids=str)
@pytest.mark.parametrize('name', NAMES)
def test_shapes_and_surrogate_equals_loss(name, batch_shape):
  logits = tf.broadcast_to(LOGITS, batch_shape + [4])
  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.get(name)(f, logits, seed=1, **options(name))
  assert isinstance(estimate, estimators.Estimate)
  assert estimate.loss.shape == estimate.surrogate.shape == batch_shape
  np.testing.assert_array_equal(estimate.loss, estimate.surrogate)
  gradient = tape.gradient(estimate.surrogate, logits)
  assert gradient.shape == batch_shape + [4] and np.all(np.isfinite(gradient))


def test_one_seed_gives_every_estimator_the_same_discrete_sample():
  logits = tf.broadcast_to(LOGITS, [50, 4])
  losses = {name: estimators.get(name)(f, logits, seed=[3, 4], **options(name)).loss.numpy()
            for name in NAMES if name != 'score_function'}
  _, hard = _common.gumbel_max(logits, _common.seeds([3, 4])[0])
  for name, loss in losses.items():
    np.testing.assert_array_equal(loss, f(hard), err_msg=name)
  other = estimators.straight_through(f, logits, seed=[3, 5]).loss
  assert not np.array_equal(other, losses['straight_through'])


def dense_f(layer):
  """A loss with its own variables: a Dense read-out of the sample."""
  return lambda z: tf.reduce_sum(layer(z) ** 2, -1)


@pytest.mark.parametrize('name', NAMES)
def test_gradient_reaches_fs_variables_as_that_of_f_at_the_sample(name):
  """Every estimator but the relaxed one trains f on the discrete sample; REBAR's
  and RELAX's variance gradient does not leak into f's variables."""
  layer = keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(0))
  loss_fn = dense_f(layer)
  logits = tf.broadcast_to(LOGITS, [16, 4])
  num_samples = 3 if name == 'score_function' else 1  # as in options()
  _, hard = _common.gumbel_max(logits, _common.seeds([5, 5])[0], [num_samples])
  loss_fn(hard)  # builds the layer
  with tf.GradientTape(persistent=True) as tape:
    estimate = estimators.get(name)(loss_fn, logits, seed=[5, 5], **options(name))
    surrogate = tf.reduce_mean(estimate.surrogate)
    at_sample = tf.reduce_mean(loss_fn(hard))
  gradients = tape.gradient(surrogate, layer.trainable_variables)
  assert all(g is not None and np.all(np.isfinite(g)) for g in gradients)
  expected = tape.gradient(at_sample, layer.trainable_variables)
  for gradient, exact in zip(gradients, expected):
    if name == 'gumbel_softmax':  # f at the relaxed sample
      assert not np.allclose(gradient, exact)
    else:
      np.testing.assert_allclose(gradient, exact, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name', ['rebar', 'relax'])
def test_estimator_variables_get_the_gradient_of_the_variance(name):
  """d mean(surrogate) / d variable = d mean_rows(sum_k g_k^2) / d variable, where
  g is each row's estimate (the logits' gradient): checked by finite differences
  for every one-element variable (REBAR: eta, baseline, log T; RELAX: log T and
  the network's output bias)."""
  logits = tf.broadcast_to(tf.constant(LOGITS, tf.float64), [200, 4])
  tunable = options(name)
  (module,) = tunable.values()
  variables = [v for v in module.trainable_variables if v.shape.num_elements() == 1]
  assert len(variables) == (3 if name == 'rebar' else 2)

  def gradients():
    with tf.GradientTape() as tape:
      tape.watch(logits)
      surrogate = tf.reduce_mean(estimators.get(name)(f, logits, seed=[6, 6], **tunable).surrogate)
    return tape.gradient(surrogate, [logits] + variables)

  def mean_squared_norm(variable, shift):
    variable.assign_add(tf.fill(variable.shape, shift))
    g = gradients()[0].numpy() * 200.
    variable.assign_add(tf.fill(variable.shape, -shift))
    return np.mean(np.sum(g ** 2, -1))

  h = 1e-3
  for variable, d_variable in zip(variables, gradients()[1:]):
    finite_difference = (mean_squared_norm(variable, h) - mean_squared_norm(variable, -h)) / (2 * h)
    np.testing.assert_allclose(np.ravel(d_variable), finite_difference, rtol=2e-3,
                               err_msg=variable.name)


def test_one_optimizer_step_trains_encoder_decoder_and_control_variate_together():
  encoder = keras.layers.Dense(4)
  decoder = keras.layers.Dense(3)
  control_variate = estimators.RelaxControlVariate.mlp(4)
  x = tf.random.stateless_normal([32, 5], seed=[1, 2])
  target = tf.random.stateless_normal([32, 3], seed=[2, 3])
  optimizer = keras.optimizers.Adam(0.01)

  def loss_fn(z):
    return tf.reduce_sum((decoder(z) - target) ** 2, -1)

  @tf.function
  def train_step(seed):
    with tf.GradientTape() as tape:
      estimate = estimators.relax(loss_fn, encoder(x), seed=seed,
                                  control_variate=control_variate)
      objective = tf.reduce_mean(estimate.surrogate)
    variables = (encoder.trainable_variables + decoder.trainable_variables
                 + list(control_variate.trainable_variables))
    optimizer.apply_gradients(zip(tape.gradient(objective, variables), variables))
    return tf.reduce_mean(estimate.loss)

  encoder.build([None, 5])
  decoder.build([None, 4])
  before = [v.numpy().copy() for v in encoder.trainable_variables + decoder.trainable_variables
            + list(control_variate.trainable_variables)]
  losses = [float(train_step(tf.constant([i, 0]))) for i in range(60)]
  after = encoder.trainable_variables + decoder.trainable_variables + list(
      control_variate.trainable_variables)
  assert all(not np.array_equal(b, a) for b, a in zip(before, after))
  assert np.mean(losses[-10:]) < np.mean(losses[:10])


def test_graph_mode_matches_eager_and_xla_compiles():
  """Graph mode with an unknown batch size, and f with a Dense layer (it needs K statically)."""
  all_options = {name: options(name) for name in NAMES}
  layer = keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(1))
  loss_fn = dense_f(layer)

  def losses_and_gradients(logits, seed):
    results = {}
    for name in NAMES:
      with tf.GradientTape() as tape:
        tape.watch(logits)
        estimate = estimators.get(name)(loss_fn, logits, seed=seed, **all_options[name])
      results[name] = (estimate.loss, tape.gradient(estimate.surrogate, logits))
    return results

  logits, seed = tf.broadcast_to(tf.constant(LOGITS), [8, 4]), tf.constant([2, 3])
  eager = losses_and_gradients(logits, seed)
  graph = tf.function(losses_and_gradients, input_signature=[
      tf.TensorSpec([None, 4]), tf.TensorSpec([2], tf.int32)])(logits, seed)
  xla = tf.function(losses_and_gradients, jit_compile=True)(logits, seed)
  for name in NAMES:
    for e, g in zip(eager[name], graph[name]):
      np.testing.assert_allclose(e, g, rtol=1e-5, atol=1e-6, err_msg=name)
    loss, gradient = xla[name]
    assert loss.shape == [8] and np.all(np.isfinite(gradient)), name


@pytest.mark.parametrize('name', NAMES)
def test_masked_classes_are_never_sampled_and_gradients_are_finite(name):
  logits = tf.broadcast_to([0.3, -np.inf, 1.1, 0.], [64, 4])
  seen = []

  def recording_f(z):
    seen.append(z)
    return f(z)

  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.get(name)(recording_f, logits, seed=2, **options(name))
  variables = [logits] + list(tape.watched_variables())
  gradients = tape.gradient(estimate.surrogate, variables)
  gradient = gradients[0].numpy()
  assert np.all(np.isfinite(gradient)) and np.all(gradient[:, 1] == 0.)
  # The estimator's own variables (REBAR's and RELAX's temperature) too.
  assert all(g is None or np.all(np.isfinite(g)) for g in gradients[1:])
  assert all(np.all(z.numpy()[..., 1] == 0.) for z in seen)
  # The surrogate's value is the loss (REBAR's and RELAX's were NaN here).
  np.testing.assert_array_equal(estimate.surrogate, estimate.loss)


@pytest.mark.parametrize('dtype', [tf.float16, tf.bfloat16, tf.float64], ids=lambda d: d.name)
@pytest.mark.parametrize('name', NAMES)
def test_every_float_dtype(name, dtype):
  logits = tf.constant([LOGITS] * 3, dtype)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.get(name)(f, logits, seed=1, **options(name))
  gradient = tape.gradient(estimate.surrogate, logits)
  assert estimate.loss.dtype == estimate.surrogate.dtype == gradient.dtype == dtype
  assert np.all(np.isfinite(tf.cast(gradient, tf.float32)))


@pytest.mark.parametrize('name', [name for name in NAMES if name != 'score_function'])
@pytest.mark.parametrize('dtype', [tf.float16, tf.bfloat16], ids=lambda d: d.name)
@pytest.mark.parametrize('temperature', [1e-3, 0.5])
def test_half_types_estimate_what_float32_does_where_logits_over_t_overflow(
    name, dtype, temperature):
  # logits / T reaches 7e4 > float16's 65504: the relaxations run in float32,
  # so the half-type loss and gradient are the float32 ones, rounded.
  logits = tf.constant([[70., 0., -3., 1.], LOGITS], dtype)
  temperature_option = {
      'rebar': {'parameters': estimators.RebarParameters(temperature=temperature)},
      'relax': {'control_variate': estimators.RelaxControlVariate.mlp(
          len(LOGITS), temperature=temperature)},
  }.get(name, {'temperature': temperature})

  def loss_and_gradient(logits):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      estimate = estimators.get(name)(f, logits, seed=1, **temperature_option)
    return estimate.loss, tape.gradient(estimate.surrogate, logits)

  half_loss, half_gradient = loss_and_gradient(logits)
  loss, gradient = loss_and_gradient(tf.cast(logits, tf.float32))
  assert half_gradient.dtype == dtype
  np.testing.assert_allclose(tf.cast(half_loss, tf.float32), loss, rtol=2e-2)
  # atol: float16 flushes gradients below 6e-8 (down to 1e-18 here) to 0.
  np.testing.assert_allclose(tf.cast(half_gradient, tf.float32), gradient, rtol=2e-2,
                             atol=2e-2 * float(tf.reduce_max(tf.abs(gradient))) + 1e-6)


def test_half_types_tune_rebar_with_the_float32_variance_gradient():
  # Per example, sum_k g_k^2 reaches about 1e5 here, past float16's 65504: it
  # and its gradient are taken in float32 (they were inf and NaN in float16).
  # Summed over examples instead of averaged, f's own float16 derivatives
  # still overflow (README, Gradient estimators).
  def tuning_gradients(dtype):
    parameters = estimators.RebarParameters(eta=0.5)
    with tf.GradientTape() as tape:
      estimate = estimators.rebar(lambda z: 100. * f(z), tf.constant([LOGITS] * 64, dtype),
                                  seed=3, parameters=parameters)
      objective = tf.reduce_mean(tf.cast(estimate.surrogate, tf.float32))
    return tape.gradient(objective, parameters.trainable_variables)

  for half, full in zip(tuning_gradients(tf.float16), tuning_gradients(tf.float32)):
    np.testing.assert_allclose(half, full, rtol=2e-2, atol=2e-2 * np.max(np.abs(full)))


TEMPERED = ['straight_through', 'gumbel_softmax', 'st_gumbel_softmax', 'gumbel_rao', 'reinmax',
            'gapped_straight_through']


@pytest.mark.parametrize('name', TEMPERED)
def test_a_temperature_per_example_applies_to_that_example(name):
  # It was applied along the class axis instead.
  logits = tf.constant([LOGITS, [1., 0.5, -1., 2.]])

  def loss_and_gradient(temperature):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      estimate = estimators.get(name)(f, logits, seed=1, temperature=temperature)
    return estimate.loss.numpy(), tape.gradient(estimate.surrogate, logits).numpy()

  loss, gradient = loss_and_gradient(tf.constant([0.5, 2.]))
  kept_loss, kept_gradient = loss_and_gradient(tf.constant([[0.5], [2.]]))  # class axis kept
  np.testing.assert_array_equal(kept_loss, loss)
  np.testing.assert_array_equal(kept_gradient, gradient)
  for row, temperature in enumerate([0.5, 2.]):
    row_loss, row_gradient = loss_and_gradient(temperature)
    assert loss[row] == row_loss[row]
    np.testing.assert_allclose(gradient[row], row_gradient[row], rtol=1e-6)


def test_half_types_sample_a_rare_class_at_its_probability():
  """bfloat16 uniforms would cut the Gumbel tail at 5.5 and all but never draw
  p = sigmoid(-8) = 3.4e-4; the noise is drawn in float32."""
  num_rows = 200_000
  logits = tf.constant([[4., -4.]] * num_rows, tf.bfloat16)
  estimate = estimators.straight_through(lambda z: z[..., 1], logits, seed=[1, 2])
  count = int(tf.reduce_sum(tf.cast(estimate.loss, tf.float32)))
  assert stats.binomtest(count, num_rows, 1 / (1 + np.exp(8.))).pvalue > 1e-3


def test_running_mean_baseline_is_read_before_it_is_updated():
  baseline = estimators.RunningMeanBaseline(decay=0.75, initial_value=1.)
  logits = tf.broadcast_to(LOGITS, [10, 4])
  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.score_function(f, logits, seed=4, baseline=baseline)
  np.testing.assert_allclose(baseline.value, 0.75 + 0.25 * np.mean(estimate.loss), rtol=1e-6)
  # The gradient used the old value, 1: (f(b) - 1) d log p(b).
  _, hard = _common.gumbel_max(logits, _common.seeds(4)[0])
  expected = (f(hard)[:, None] - 1.) * (hard - tf.nn.softmax(logits))
  np.testing.assert_allclose(tape.gradient(estimate.surrogate, logits), expected, rtol=1e-5)


def test_leave_one_out_baseline_is_the_mean_of_the_other_samples():
  logits = tf.constant([LOGITS])
  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.score_function(f, logits, seed=8, baseline='leave_one_out',
                                         num_samples=3)
  _, hard = _common.gumbel_max(logits, _common.seeds(8)[0], [3])
  values = f(hard).numpy()[:, 0]
  signal = values - (values.sum() - values) / 2
  expected = np.mean(signal[:, None] * (hard[:, 0] - tf.nn.softmax(logits)), 0)
  np.testing.assert_allclose(tape.gradient(estimate.surrogate, logits)[0], expected, rtol=1e-5)
  np.testing.assert_allclose(estimate.loss, [values.mean()], rtol=1e-6)


@pytest.mark.parametrize('call, error, message', [
    (lambda: estimators.straight_through('f', LOGITS, seed=1), TypeError,
     '`f` must be callable; got str'),
    (lambda: estimators.gumbel_rao(f, tf.constant([1, 2]), seed=1), TypeError,
     '`logits` must have a floating dtype'),
    (lambda: estimators.reinmax(f, 1., seed=1), ValueError, '`logits` must have rank at least 1'),
    (lambda: estimators.gumbel_softmax(f, LOGITS, seed=1, temperature=0.), ValueError,
     '`temperature` must be positive.*got 0'),
    (lambda: estimators.straight_through(f, [LOGITS] * 2, seed=1, temperature=[1., 2., 3.]),
     ValueError, r'`temperature` \(shape \(3,\)\) must be a scalar or broadcast to the shape '
     r'of `logits` without its class axis, \(2,\)'),
    (lambda: estimators.reinmax(f, [LOGITS] * 2, seed=1, temperature=[[1., 2.]]),
     ValueError, r'`temperature` \(shape \(1, 2\)\) must be a scalar or broadcast'),
    (lambda: estimators.gumbel_rao(f, LOGITS, seed=1, num_samples=0), ValueError,
     '`num_samples` must be an integer >= 1; got 0'),
    (lambda: estimators.score_function(f, LOGITS, seed=1, baseline='mean'), ValueError,
     "`baseline` must be None, a RunningMeanBaseline or 'leave_one_out'; got 'mean'"),
    (lambda: estimators.score_function(f, LOGITS, seed=1, baseline='leave_one_out'),
     ValueError, "`baseline='leave_one_out'` needs `num_samples` >= 2; got 1"),
    (lambda: estimators.gapped_straight_through(f, LOGITS, seed=1, gap=-1.), ValueError,
     '`gap` must be positive; got -1.0'),
    (lambda: estimators.straight_through(lambda z: z, LOGITS, seed=1), ValueError,
     r'`f` must map samples of shape \(4,\) to per-example losses of shape \(\); got '
     r'shape \(4,\)'),
    (lambda: estimators.rebar(f, LOGITS, seed=1, parameters={'eta': 1.}), TypeError,
     '`parameters` must be None or a RebarParameters; got dict'),
    (lambda: estimators.relax(f, LOGITS, seed=1, control_variate=None), TypeError,
     '`control_variate` must be a RelaxControlVariate; got NoneType'),
    (lambda: estimators.RelaxControlVariate(lambda y: y), TypeError,
     '`network` must be a callable with trainable_variables'),
    (lambda: estimators.RebarParameters(temperature=-1.), ValueError,
     '`temperature` must be positive; got -1.0'),
    (lambda: estimators.RunningMeanBaseline(decay=1.), ValueError,
     r'`decay` must lie in \[0, 1\); got 1.0'),
], ids=lambda value: None if callable(value) or isinstance(value, type) else value[:30])
def test_bad_arguments_are_named(call, error, message):
  with pytest.raises(error, match=message):
    call()
