"""The density of an own sample, computed from the noise it was drawn with.

Every value and derivative is compared, in float64, with the general formula
at the same point (`log_prob(tf.identity(y))`: another tensor, so no noise)
and with the independent NumPy formula.
"""

import gc

import numpy as np
import pytest
import tensorflow as tf

import relaxed_dist as rd
from relaxed_dist.distributions import sample_noise
from tests.distributions import reference

MODES = {
    'eager': lambda fn: fn,
    'function': lambda fn: tf.function(fn, autograph=False),
    'xla': lambda fn: tf.function(fn, autograph=False, jit_compile=True),
}
CLASSES = [rd.RelaxedOneHotCategorical, rd.ExpRelaxedCategorical]


def parameters(masked, rows=3):
  logits = np.random.default_rng(0).normal(size=[rows, 5])
  if masked:
    logits[0, 1] = logits[2, 3] = logits[2, 4] = -np.inf
  return (tf.constant(logits, tf.float64),
          tf.constant(np.linspace(0.2, 2.5, rows), tf.float64))


def own_and_general(cls, logits, temperature, sample_shape, pattern):
  """(log p of own samples, log p of the same points as other tensors,
  and each one's gradient with respect to (logits, temperature))."""
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([logits, temperature])
    dist = cls(temperature, logits=logits)
    if pattern == 'reparameterized':
      sample = dist.sample(sample_shape, seed=[1, 2])
      own = dist.log_prob(sample)
    elif pattern == 'drawn_outside_the_tape':
      with tape.stop_recording():
        sample = dist.sample(sample_shape, seed=[1, 2])
      own = dist.log_prob(sample)
    else:
      sample, own = dist.experimental_sample_and_log_prob(sample_shape, seed=[1, 2])
    general = dist.log_prob(tf.identity(sample))
    weights = tf.range(1., 1. + tf.size(own, tf.float64), dtype=tf.float64)
    own_loss = tf.reduce_sum(own * tf.reshape(weights, tf.shape(own)))
    general_loss = tf.reduce_sum(general * tf.reshape(weights, tf.shape(own)))
  return (sample, own, general, tape.gradient(own_loss, [logits, temperature]),
          tape.gradient(general_loss, [logits, temperature]))


@pytest.mark.parametrize('pattern', ['reparameterized', 'drawn_outside_the_tape',
                                     'sample_and_log_prob'])
@pytest.mark.parametrize('masked', [False, True], ids=['live', 'masked'])
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('cls', CLASSES, ids=lambda cls: cls.__name__)
def test_value_and_gradient_equal_the_general_formula(cls, mode, masked, pattern):
  logits, temperature = parameters(masked)
  sample, own, general, own_grads, general_grads = MODES[mode](
      lambda logits, temperature: own_and_general(cls, logits, temperature, [4], pattern)
  )(logits, temperature)
  np.testing.assert_allclose(own, general, rtol=1e-12, atol=1e-10)
  y = sample.numpy() if cls is rd.RelaxedOneHotCategorical else np.exp(sample)
  live = np.isfinite(logits.numpy())
  expected = [reference.concrete_log_density(row[..., keep], logit[keep], t)
              for row, logit, t, keep in zip(np.moveaxis(y, 1, 0), logits.numpy(),
                                             temperature.numpy(), live)]
  expected = np.stack(expected, 1)
  if cls is rd.ExpRelaxedCategorical:  # density of x = log y: p_y(y) prod_k y_k
    expected = expected + np.where(live, np.log(np.where(live, y, 1.)), 0.).sum(-1)
  np.testing.assert_allclose(own, expected, rtol=1e-9)
  for own_grad, general_grad in zip(own_grads, general_grads):
    assert np.all(np.isfinite(own_grad))
    np.testing.assert_allclose(own_grad, general_grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize('masked', [False, True], ids=['live', 'masked'])
def test_large_inputs_take_the_branching_path_with_the_same_result(masked):
  # Above 2**17 elements the masked arithmetic runs under a tf.cond.
  logits, temperature = parameters(masked, rows=3)
  _, own, general, own_grads, general_grads = MODES['function'](
      lambda logits, temperature: own_and_general(
          rd.RelaxedOneHotCategorical, logits, temperature, [9000], 'reparameterized')
  )(logits, temperature)
  np.testing.assert_allclose(own, general, rtol=1e-12, atol=1e-10)
  for own_grad, general_grad in zip(own_grads, general_grads):
    np.testing.assert_allclose(own_grad, general_grad, rtol=1e-9, atol=1e-9)


# Masked and reparameterized is left out: the second derivative of the
# sample itself is NaN in a row with a masked class, on either path.
@pytest.mark.parametrize('masked,pattern', [(False, 'reparameterized'),
                                            (False, 'drawn_outside_the_tape'),
                                            (True, 'drawn_outside_the_tape')])
def test_second_derivatives_equal_the_general_formula(masked, pattern):
  logits, temperature = parameters(masked)

  def hessians(logits, temperature):
    with tf.GradientTape(persistent=True) as outer:
      outer.watch([logits, temperature])
      *_, own_grads, general_grads = own_and_general(
          rd.RelaxedOneHotCategorical, logits, temperature, [4], pattern)
      direction = tf.reshape(tf.range(15, dtype=tf.float64), [3, 5])
      own = tf.reduce_sum(own_grads[0] * direction) + own_grads[1][0]
      general = tf.reduce_sum(general_grads[0] * direction) + general_grads[1][0]
    return (outer.gradient(own, [logits, temperature]),
            outer.gradient(general, [logits, temperature]))

  own, general = MODES['function'](hessians)(logits, temperature)
  for own_part, general_part in zip(own, general):
    assert np.all(np.isfinite(own_part))
    np.testing.assert_allclose(own_part, general_part, rtol=1e-8, atol=1e-8)


def test_a_variable_temperature_is_read_when_log_prob_runs():
  logits = tf.constant([[0.3, -1.0, 0.5]], tf.float64)
  temperature = tf.Variable(0.5, dtype=tf.float64)
  dist = rd.RelaxedOneHotCategorical(temperature, logits=logits)
  y = dist.sample(3, seed=[1, 2])
  temperature.assign(2.0)
  np.testing.assert_allclose(
      dist.log_prob(y), reference.concrete_log_density(y.numpy(), logits.numpy(), 2.0),
      rtol=1e-10)


def test_noise_is_recalled_only_for_the_same_tensor_and_parameters():
  logits, temperature = parameters(masked=False)

  @tf.function(autograph=False)
  def recalls(logits, temperature):
    dist = rd.ExpRelaxedCategorical(temperature, logits=logits)
    twin = rd.ExpRelaxedCategorical(temperature, logits=logits)
    other = rd.ExpRelaxedCategorical(temperature * 1., logits=logits)
    x = dist.sample(2, seed=[3, 4])
    noise = dist._sample_noise.recall(x)  # pylint: disable=protected-access
    assert noise is not None and noise.shape == x.shape
    assert twin._sample_noise.recall(x) is noise  # pylint: disable=protected-access
    assert other._sample_noise.recall(x) is None  # pylint: disable=protected-access
    assert dist._sample_noise.recall(tf.identity(x)) is None  # pylint: disable=protected-access
    return noise

  gumbel = recalls(logits, temperature)
  x = rd.ExpRelaxedCategorical(temperature, logits=logits).sample(2, seed=[3, 4])
  np.testing.assert_allclose(  # the noise of the same draw in eager mode
      x, tf.nn.log_softmax((logits + gumbel) / temperature[:, None]), rtol=1e-12)


def test_noise_is_remembered_in_graphs_only_and_forgotten_with_its_sample():
  # ExpRelaxedCategorical: TFP's bijector cache keeps a graph alive longer.
  logits, temperature = parameters(masked=False)
  remembered = sample_noise._NOISE_BY_SAMPLE_ID  # pylint: disable=protected-access
  gc.collect()  # graphs of earlier tests
  before = len(remembered)
  rd.ExpRelaxedCategorical(temperature, logits=logits).sample(seed=[1, 1])
  graph = tf.Graph()
  with graph.as_default():
    dist = rd.ExpRelaxedCategorical(temperature.numpy(), logits=logits.numpy())
    samples = [dist.sample(seed=[i, 1]) for i in range(5)]
    variable = tf.Variable(temperature.numpy())
    rd.ExpRelaxedCategorical(variable, logits=logits.numpy()).sample(seed=[1, 1])
  assert len(remembered) == before + 5
  del samples, dist, variable, graph
  gc.collect()
  assert len(remembered) == before
