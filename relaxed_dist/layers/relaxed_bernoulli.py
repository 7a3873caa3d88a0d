"""RelaxedBernoulli: a Keras 3 layer from logits to relaxed binary samples."""

import keras
import tensorflow as tf

from relaxed_dist import functional
from relaxed_dist.layers import relaxed_layer


@keras.saving.register_keras_serializable(package='relaxed_dist')
class RelaxedBernoulli(relaxed_layer.RelaxedLayer):
  """Logits in, `sigmoid((logits + L) / T)` out elementwise when training.

  Independent binary units (Binary Concrete, L standard logistic). With
  `hard=True` the training output is exactly `1[y > 1/2]` with y's gradient.
  At inference the output is `1[logits > 0]` when hard, else
  `sigmoid(logits / T)`; `sample_at_inference=True` samples there too.

  Args: as `GumbelSoftmax`, without `axis`.
  """

  def sample(self, logits, temperature, seed):
    return functional.gumbel_sigmoid(logits, temperature, hard=self.hard, seed=seed)

  def deterministic(self, logits, temperature):
    if self.hard:
      return tf.cast(logits > 0, logits.dtype)
    scaled = self.scaled(logits, temperature)
    return tf.cast(tf.math.sigmoid(scaled), logits.dtype)
