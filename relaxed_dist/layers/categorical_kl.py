"""The analytic KL divergence of a categorical posterior from its prior, for VAEs."""

import keras
import tensorflow as tf


def categorical_kl(logits, prior_logits=None, axis=-1):
  """KL(q || p) = sum_k q_k (log q_k - log p_k), q = softmax(logits).

  The KL of the categorical limit of the Gumbel-Softmax posterior (Jang et al.
  2017 use it in the categorical VAE ELBO). Classes with q_k = 0 contribute 0.

  Args:
    logits: posterior logits `[..., K, ...]`.
    prior_logits: prior logits broadcasting against `logits`; None means the
      uniform prior, log p_k = -log K.
    axis: the class axis.

  Returns:
    The KL per distribution: `logits` with `axis` removed.
  """
  logits = tf.convert_to_tensor(logits)
  log_q = tf.nn.log_softmax(logits, axis=axis)
  if prior_logits is None:
    num_classes = tf.cast(tf.shape(logits)[axis], logits.dtype)
    log_p = -tf.math.log(num_classes)
  else:
    log_p = tf.nn.log_softmax(tf.cast(prior_logits, logits.dtype), axis=axis)
  q = tf.math.exp(log_q)
  # The select sits inside the product: outside it, a masked class would
  # backpropagate 0 * (-inf) = NaN through the discarded branch.
  log_ratio = tf.where(q > 0, log_q - log_p, tf.zeros_like(q))
  return tf.reduce_sum(q * log_ratio, axis=axis)


@keras.saving.register_keras_serializable(package='relaxed_dist')
class CategoricalKL(keras.layers.Layer):
  """Passes logits through and adds `weight * mean_batch(sum KL)` via `add_loss`.

  The KL is summed over every non-batch axis but `axis` (e.g. N latent
  categoricals), then averaged over the batch, as in a VAE's negative ELBO.
  """

  def __init__(self, weight=1.0, axis=-1, **kwargs):
    super().__init__(**kwargs)
    self.weight = float(weight)
    self.axis = axis

  def call(self, logits):
    kl = categorical_kl(tf.cast(logits, tf.float32), axis=self.axis)
    per_example = tf.reduce_sum(tf.reshape(kl, [tf.shape(kl)[0], -1]), -1)
    self.add_loss(self.weight * tf.reduce_mean(per_example))
    return logits

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), 'weight': self.weight, 'axis': self.axis}
