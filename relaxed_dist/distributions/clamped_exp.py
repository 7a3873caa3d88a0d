"""ClampedExp: the Exp bijector whose inverse never returns -inf."""

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics


class ClampedExp(tfp.bijectors.Exp):
  """`y = exp(x)`, with inverse `x = log(max(y, tiny))`.

  A fresh float32 point of the simplex often holds exact zeros (a component
  below 1e-38 underflows); `log(0) = -inf` turns the Concrete density into
  NaN. Clamping at the smallest normal number keeps it finite. Samples that
  went through `forward` are inverted exactly through the bijector cache, and
  so is the inverse log-det-Jacobian, `-inverse(y) = -log max(y, tiny)`.
  """

  def __init__(self, validate_args=False, name='clamped_exp'):
    super().__init__(validate_args=validate_args, name=name)

  def _inverse(self, y):
    return tf.math.log(self._clamp(y))

  def _inverse_log_det_jacobian(self, y):
    return -self.inverse(y)  # public: cached x for own outputs

  @staticmethod
  def _clamp(y):
    return tf.maximum(y, tf.constant(_numerics.finfo(y.dtype).tiny, y.dtype))
