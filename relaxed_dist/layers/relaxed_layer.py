"""RelaxedLayer: what the Gumbel-Softmax and relaxed-Bernoulli layers share.

The temperature is a layer weight held in log space, `T = exp(log_temperature)`:
always positive, trainable on request, and assignable by a callback or user
code without retracing. Noise comes from a `keras.random.SeedGenerator` and is
drawn with Philox (relaxed_dist._numerics), so XLA stays fast.
"""

import math
import numbers

import keras
import tensorflow as tf

from relaxed_dist import _numerics


class RelaxedLayer(keras.layers.Layer):
  """Base class: samples when training (or when asked), deterministic otherwise."""

  def __init__(self, temperature=1.0, hard=False, seed=None,
               trainable_temperature=False, sample_at_inference=False, **kwargs):
    super().__init__(**kwargs)
    if (isinstance(temperature, bool) or not isinstance(temperature, numbers.Real)
        or not temperature > 0):
      raise ValueError(
          f'Argument `temperature` must be a positive number; got {temperature!r}.')
    self.initial_temperature = float(temperature)
    self.hard = bool(hard)
    self.seed = seed
    self.trainable_temperature = bool(trainable_temperature)
    self.sample_at_inference = bool(sample_at_inference)
    self.seed_generator = keras.random.SeedGenerator(seed)
    # Not autocast: under a mixed policy, call would read log T rounded to
    # float16 or bfloat16 (T = 0.123 became 0.1232 in bfloat16).
    self.log_temperature = self.add_weight(
        shape=(), name='log_temperature', dtype='float32',
        initializer=keras.initializers.Constant(math.log(self.initial_temperature)),
        trainable=self.trainable_temperature, autocast=False)

  @property
  def temperature(self):
    """The current temperature, a float32 scalar tensor."""
    return tf.exp(tf.convert_to_tensor(self.log_temperature))

  def assign_temperature(self, value):
    """Sets the temperature (no retracing: it is a weight)."""
    value = tf.convert_to_tensor(value, tf.float32)
    tf.debugging.assert_positive(
        value, message='Argument `value` (a temperature) must be positive.')
    self.log_temperature.assign(tf.math.log(value))

  def call(self, inputs, training=None):
    if inputs.shape.rank == 0:
      raise ValueError(
          f'{type(self).__name__} needs inputs of rank at least 1; got a scalar '
          f'of shape {inputs.shape}.')
    if training or self.sample_at_inference:
      return self.sample(inputs, self.temperature, self._next_seed())
    return self.deterministic(inputs, self.temperature)

  def _next_seed(self):
    """The generator's next seed, folded with the replica id under tf.distribute
    (every replica reads the same generator state: without it they would
    draw the same noise)."""
    seed = tf.cast(self.seed_generator.next(), tf.int32)
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
      seed = tf.random.experimental.stateless_fold_in(
          seed, context.replica_id_in_sync_group)
    return seed

  def sample(self, logits, temperature, seed):
    """The relaxed (or, if `hard`, straight-through) sample. Subclasses define it."""
    raise NotImplementedError

  def deterministic(self, logits, temperature):
    """The inference output. Subclasses define it."""
    raise NotImplementedError

  @staticmethod
  def scaled(logits, temperature):
    """logits / T in float32 (no half overflow), through `divide_by_temperature`
    (no NaN temperature gradient at a masked, -inf, logit)."""
    return _numerics.divide_by_temperature(tf.cast(logits, tf.float32), temperature)

  def save_own_variables(self, store):
    """Saves the weights and the noise generator's state, so a reloaded layer
    continues the same random stream (Keras saves no seed state by default)."""
    super().save_own_variables(store)
    store['seed_generator_state'] = self.seed_generator.state

  def load_own_variables(self, store):
    weights = {key: store[key] for key in store.keys()
               if key != 'seed_generator_state'}
    super().load_own_variables(weights)
    if 'seed_generator_state' in store.keys():
      self.seed_generator.state.assign(store['seed_generator_state'])

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {
        **super().get_config(),
        'temperature': self.initial_temperature,
        'hard': self.hard,
        'seed': self.seed,
        'trainable_temperature': self.trainable_temperature,
        'sample_at_inference': self.sample_at_inference,
    }
