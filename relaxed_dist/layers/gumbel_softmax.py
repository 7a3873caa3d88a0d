"""GumbelSoftmax: a Keras 3 layer from logits to relaxed one-hot samples."""

import keras
import tensorflow as tf

from relaxed_dist import functional
from relaxed_dist.layers import relaxed_layer


@keras.saving.register_keras_serializable(package='relaxed_dist')
class GumbelSoftmax(relaxed_layer.RelaxedLayer):
  """Logits in, `softmax((logits + G) / T)` out along `axis` when training.

  With `hard=True` the training output is the exact one-hot argmax with the
  relaxed sample's gradient (straight-through). At inference
  (`training=False`) the output is deterministic: `one_hot(argmax(logits))`
  when hard, else `softmax(logits / T)`; `sample_at_inference=True` samples
  there too.

  Args:
    temperature: initial temperature T > 0 (a weight, held as log T).
    hard: straight-through one-hot outputs.
    axis: the class axis.
    seed: int seed of the layer's `keras.random.SeedGenerator`.
    trainable_temperature: learn log T by gradient descent.
    sample_at_inference: sample also when `training=False`.
  """

  def __init__(self, temperature=1.0, hard=False, axis=-1, seed=None,
               trainable_temperature=False, sample_at_inference=False, **kwargs):
    super().__init__(temperature=temperature, hard=hard, seed=seed,
                     trainable_temperature=trainable_temperature,
                     sample_at_inference=sample_at_inference, **kwargs)
    self.axis = axis

  def sample(self, logits, temperature, seed):
    return functional.gumbel_softmax(logits, temperature, hard=self.hard,
                                     axis=self.axis, seed=seed)

  def deterministic(self, logits, temperature):
    if self.hard:
      return functional.one_hot_argmax(logits, self.axis)
    scaled = self.scaled(logits, temperature)
    return tf.cast(tf.nn.softmax(scaled, axis=self.axis), logits.dtype)

  def get_config(self):
    return {**super().get_config(), 'axis': self.axis}
