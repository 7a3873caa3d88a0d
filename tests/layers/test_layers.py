"""Keras 3 layers: GumbelSoftmax, RelaxedBernoulli, CategoricalKL, annealing."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import relaxed_dist as rd
from relaxed_dist import layers

LAYERS = [layers.GumbelSoftmax, layers.RelaxedBernoulli]
layer_ids = ['gumbel_softmax', 'relaxed_bernoulli']


def logits_batch(batch=8, classes=5, seed=0):
  return np.random.default_rng(seed).normal(size=[batch, classes]).astype('float32')


def on_support(layer_cls, outputs, hard):
  outputs = np.asarray(outputs, np.float32)
  if hard:
    assert set(np.unique(outputs)) <= {0., 1.}
  assert np.all((outputs >= 0) & (outputs <= 1))
  if layer_cls is layers.GumbelSoftmax:
    np.testing.assert_allclose(outputs.sum(-1), 1., atol=1e-2 if not hard else 0)


def make_model(layer_cls, hard=False, classes=5, **layer_kwargs):
  inputs = keras.Input([classes])
  logits = keras.layers.Dense(classes)(inputs)
  relaxed = layer_cls(hard=hard, seed=1, **layer_kwargs)(logits)
  outputs = keras.layers.Dense(1)(relaxed)
  return keras.Model(inputs, outputs)


@pytest.mark.parametrize('hard', [False, True], ids=['soft', 'hard'])
@pytest.mark.parametrize('layer_cls', LAYERS, ids=layer_ids)
def test_training_outputs_are_random_and_inference_deterministic(layer_cls, hard):
  layer = layer_cls(temperature=0.5, hard=hard, seed=3)
  x = logits_batch()
  first, second = layer(x, training=True), layer(x, training=True)
  assert not np.array_equal(first, second)
  on_support(layer_cls, first, hard)
  np.testing.assert_array_equal(layer(x, training=False), layer(x, training=False))
  expected = {
      (layers.GumbelSoftmax, False): tf.nn.softmax(x / 0.5),
      (layers.GumbelSoftmax, True): tf.one_hot(tf.argmax(x, -1), 5),
      (layers.RelaxedBernoulli, False): tf.sigmoid(x / 0.5),
      (layers.RelaxedBernoulli, True): tf.cast(x > 0, tf.float32),
  }[layer_cls, hard]
  np.testing.assert_allclose(layer(x, training=False), expected, rtol=1e-5)
  sampling = layer_cls(temperature=0.5, hard=hard, seed=3, sample_at_inference=True)
  assert not np.array_equal(sampling(x), sampling(x))


@pytest.mark.parametrize('layer_cls', LAYERS, ids=layer_ids)
def test_hard_outputs_pass_the_gradient_to_the_logits(layer_cls):
  layer = layer_cls(temperature=0.5, hard=True, seed=3)
  x = tf.constant(logits_batch())
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = layer(x, training=True)
    loss = tf.reduce_sum(y * tf.range(5, dtype=tf.float32))
  gradient = tape.gradient(loss, x)
  assert np.all(np.isfinite(gradient)) and np.any(gradient != 0)


@pytest.mark.parametrize('jit_compile', [False, True], ids=['graph', 'xla'])
@pytest.mark.parametrize('layer_cls', LAYERS, ids=layer_ids)
def test_fit_runs_and_learns(layer_cls, jit_compile):
  model = make_model(layer_cls, hard=True)
  model.compile(optimizer=keras.optimizers.Adam(0.01), loss='mse', jit_compile=jit_compile)
  x = logits_batch(256, seed=1)
  y = x[:, :1] * 2.
  history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
  assert history.history['loss'][-1] < history.history['loss'][0]
  assert np.all(np.isfinite(model.predict(x, verbose=0)))


def test_trainable_temperature_gets_a_gradient_and_stays_positive():
  layer = layers.GumbelSoftmax(temperature=0.5, trainable_temperature=True, seed=1)
  x = tf.constant(logits_batch())
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(layer(x, training=True) ** 2)
  assert layer.trainable_weights == [layer.log_temperature]
  gradient = tape.gradient(loss, layer.log_temperature)
  assert gradient is not None and np.isfinite(gradient)
  layer.log_temperature.assign(-30.)
  assert float(layer.temperature) > 0
  fixed = layers.GumbelSoftmax(temperature=0.5)
  assert fixed.trainable_weights == [] and len(fixed.non_trainable_weights) >= 1


def test_assigning_the_temperature_does_not_retrace():
  layer = layers.GumbelSoftmax(temperature=5., seed=1)
  traces = []

  @tf.function
  def peak(x):
    traces.append(1)
    return tf.reduce_mean(tf.reduce_max(layer(x, training=True), -1))

  x = tf.constant(logits_batch(512))
  hot = peak(x)
  layer.assign_temperature(0.05)
  cold = peak(x)
  assert len(traces) == 1 and hot < 0.6 and cold > 0.95
  np.testing.assert_allclose(layer.temperature, 0.05, rtol=1e-6)


@pytest.mark.parametrize('layer_cls', LAYERS, ids=layer_ids)
def test_sequential_functional_and_subclassed_models(layer_cls):
  sequential = keras.Sequential([keras.Input([5]), keras.layers.Dense(5), layer_cls()])
  assert sequential.output_shape == (None, 5)

  class Subclassed(keras.Model):
    def __init__(self):
      super().__init__()
      self.dense = keras.layers.Dense(5)
      self.relaxed = layer_cls(hard=True)

    def call(self, x, training=None):
      return self.relaxed(self.dense(x), training=training)

  x = logits_batch()
  for model in (sequential, make_model(layer_cls), Subclassed()):
    assert np.all(np.isfinite(model(x, training=True)))
    assert np.all(np.isfinite(model(x, training=False)))


def test_config_round_trip_and_axis():
  layer = layers.GumbelSoftmax(temperature=0.3, hard=True, axis=1, seed=4,
                               trainable_temperature=True, sample_at_inference=True)
  clone = layers.GumbelSoftmax.from_config(layer.get_config())
  for name in ['initial_temperature', 'hard', 'axis', 'seed',
               'trainable_temperature', 'sample_at_inference']:
    assert getattr(clone, name) == getattr(layer, name)
  y = layers.GumbelSoftmax(axis=1)(tf.zeros([2, 4, 3]), training=True)
  np.testing.assert_allclose(tf.reduce_sum(y, 1), 1., rtol=1e-5)
  assert layer.compute_output_shape((2, 4, 3)) == (2, 4, 3)


@pytest.mark.parametrize('layer_cls', LAYERS, ids=layer_ids)
def test_save_load_keras_and_saved_model_export(layer_cls, tmp_path):
  model = make_model(layer_cls, hard=False, temperature=0.7)
  model.layers[2].assign_temperature(0.3)  # a trained/annealed state survives
  x = logits_batch(16, seed=2)
  expected = model.predict(x, verbose=0)
  model(x, training=True)  # advances the noise stream past its initial state
  model.save(tmp_path / 'model.keras')
  loaded = keras.saving.load_model(tmp_path / 'model.keras')
  np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6)
  np.testing.assert_allclose(loaded.layers[2].temperature, 0.3, rtol=1e-6)
  # The noise stream continues where it was: training outputs match too.
  np.testing.assert_array_equal(loaded(x, training=True), model(x, training=True))
  model.export(str(tmp_path / 'exported'), verbose=False)
  served = tf.saved_model.load(str(tmp_path / 'exported'))
  np.testing.assert_allclose(served.serve(x), expected, rtol=1e-6)


@pytest.mark.parametrize('policy', ['mixed_float16', 'mixed_bfloat16'])
@pytest.mark.parametrize('layer_cls', LAYERS, ids=layer_ids)
def test_mixed_precision(layer_cls, policy):
  keras.mixed_precision.set_global_policy(policy)
  try:
    model = make_model(layer_cls, hard=False)
    model.compile(optimizer='adam', loss='mse')
    x = logits_batch(64, seed=3)
    model.fit(x, x[:, :1], epochs=1, batch_size=16, verbose=0)
    relaxed = model.layers[2]
    out = relaxed(tf.constant(x, relaxed.compute_dtype), training=True)
    assert out.dtype == relaxed.compute_dtype != 'float32'
    assert np.all(np.isfinite(tf.cast(out, tf.float32)))
    assert np.all(np.isfinite(model.predict(x, verbose=0)))
  finally:
    keras.mixed_precision.set_global_policy('float32')


@pytest.mark.parametrize('policy', ['mixed_float16', 'mixed_bfloat16'])
@pytest.mark.parametrize('training', [False, True])
def test_mixed_precision_uses_the_float32_temperature(policy, training):
  # The weight was autocast, so call read log T rounded to the compute dtype:
  # T = 0.123 became 0.12322 in bfloat16.
  class Recording(layers.GumbelSoftmax):

    def sample(self, logits, temperature, seed):
      self.used = temperature
      return super().sample(logits, temperature, seed)

    def deterministic(self, logits, temperature):
      self.used = temperature
      return super().deterministic(logits, temperature)

  keras.mixed_precision.set_global_policy(policy)
  try:
    layer = Recording(temperature=0.123)
    layer(tf.constant(logits_batch(), layer.compute_dtype), training=training)
    assert layer.used.dtype == tf.float32
    np.testing.assert_allclose(float(layer.used), 0.123, rtol=1e-6)
  finally:
    keras.mixed_precision.set_global_policy('float32')


@pytest.mark.parametrize('layer_cls', LAYERS, ids=layer_ids)
def test_inference_temperature_gradient_is_finite_with_masked_classes(layer_cls):
  # logits / T handed the temperature 0 * inf = NaN at the -inf logit.
  layer = layer_cls(temperature=0.5, trainable_temperature=True)
  with tf.GradientTape() as tape:
    output = layer(tf.constant([[0.3, -np.inf, 1.2]]), training=False)
    loss = tf.reduce_sum(output * [1., 2., 3.])
  assert np.isfinite(tape.gradient(loss, layer.log_temperature))


def test_fit_under_mirrored_strategy():
  strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
  with strategy.scope():
    model = make_model(layers.GumbelSoftmax, hard=True)
    model.compile(optimizer='adam', loss='mse')
  x = logits_batch(64, seed=4)
  history = model.fit(x, x[:, :1], epochs=2, batch_size=16, verbose=0,
                      callbacks=[layers.TemperatureAnnealing(update_every=2)])
  assert np.all(np.isfinite(history.history['loss']))


def test_rank_zero_input_is_rejected():
  with pytest.raises(ValueError, match='rank at least 1'):
    layers.GumbelSoftmax()(tf.constant(1.))


def test_bad_temperature_is_rejected():
  with pytest.raises(ValueError, match='`temperature` must be a positive number; got -1'):
    layers.GumbelSoftmax(temperature=-1)


def test_categorical_kl_matches_numpy_and_adds_a_loss():
  logits = logits_batch(4, 10)
  q = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  np.testing.assert_allclose(layers.categorical_kl(logits),
                             (q * np.log(q * 10)).sum(-1), rtol=1e-5)
  prior = np.log(np.arange(1., 11.) / 55.)
  np.testing.assert_allclose(layers.categorical_kl(logits, prior),
                             (q * (np.log(q) - prior)).sum(-1), rtol=1e-5)
  masked = layers.categorical_kl(tf.constant([[0., -np.inf, 0.]]))
  np.testing.assert_allclose(masked, [np.log(1.5)], rtol=1e-6)
  kl_layer = layers.CategoricalKL(weight=2.)
  out = kl_layer(tf.reshape(logits, [2, 2, 10]))
  assert out.shape == [2, 2, 10]
  expected = 2. * np.mean((q * np.log(q * 10)).sum(-1).reshape(2, 2).sum(-1))
  np.testing.assert_allclose(kl_layer.losses[0], expected, rtol=1e-5)


def test_annealing_follows_the_default_schedule_for_2000_steps():
  model = make_model(layers.GumbelSoftmax)
  model.compile(optimizer='sgd', loss='mse')
  x = logits_batch(1)
  annealing = layers.TemperatureAnnealing()
  history = model.fit(np.repeat(x, 2000, 0), np.zeros([2000, 1]), batch_size=1,
                      epochs=1, verbose=0, callbacks=[annealing])
  expected = max(0.5, math.exp(-3e-5 * 2000))
  np.testing.assert_allclose(model.layers[2].temperature, expected, rtol=1e-6)
  assert history.history['temperature'] == [pytest.approx(expected)]


def test_annealing_with_a_callable_and_variables():
  variable = tf.Variable(1.)
  model = make_model(layers.GumbelSoftmax)
  model.compile(optimizer='sgd', loss='mse')
  annealing = layers.TemperatureAnnealing(lambda step: 1. / (1 + step),
                                          update_every=3, variables=[variable])
  model.fit(logits_batch(10), np.zeros([10, 1]), batch_size=1, verbose=0,
            callbacks=[annealing])
  np.testing.assert_allclose(variable, 1. / 10.)  # last update at step 9
  np.testing.assert_allclose(model.layers[2].temperature, 1.)  # not a target
  with pytest.raises(ValueError, match='`update_every` must be a positive integer'):
    layers.TemperatureAnnealing(update_every=0)


def test_categorical_kl_gradient_is_finite_with_masked_classes():
  logits = tf.constant([[0.5, -np.inf, -0.2]])
  with tf.GradientTape() as tape:
    tape.watch(logits)
    kl = layers.categorical_kl(logits)
  gradient = tape.gradient(kl, logits).numpy()
  assert np.all(np.isfinite(gradient)) and gradient[0, 1] == 0.


def test_replicas_draw_different_noise():
  strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
  with strategy.scope():
    layer = layers.GumbelSoftmax(seed=5)
  outputs = strategy.run(lambda: layer(tf.zeros([4, 6]), training=True))
  first, second = strategy.experimental_local_results(outputs)
  assert not np.array_equal(first, second)


def test_annealing_with_several_steps_per_execution():
  model = make_model(layers.GumbelSoftmax)
  model.compile(optimizer='sgd', loss='mse', steps_per_execution=3)
  annealing = layers.TemperatureAnnealing(lambda step: 1. / (1 + step), update_every=4)
  model.fit(logits_batch(10), np.zeros([10, 1]), batch_size=1, verbose=0,
            callbacks=[annealing])
  # The callback sees steps 3, 6, 9, 10: the multiple 8 is crossed at 9.
  np.testing.assert_allclose(model.layers[2].temperature, 1. / 9., rtol=1e-6)


def test_numpy_and_tensor_temperatures_are_accepted():
  assert layers.GumbelSoftmax(temperature=np.float32(0.5)).initial_temperature == 0.5
  with pytest.raises(ValueError, match='positive number; got True'):
    layers.GumbelSoftmax(temperature=True)
