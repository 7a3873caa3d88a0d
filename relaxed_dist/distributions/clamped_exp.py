"""ClampedExp: the Exp bijector whose inverse never returns -inf."""

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist.distributions import compute_dtype_inverse


class ClampedExp(compute_dtype_inverse.ComputeDtypeInverse, tfp.bijectors.Exp):
  """`y = exp(x)`, with inverse `x = log(max(y, tiny))`.

  A fresh float32 point of the simplex often holds exact zeros (a component
  below 1e-38 underflows); `log(0) = -inf` turns the Concrete density into
  NaN. Clamping at the smallest normal number keeps it finite. Samples that
  went through `forward` are inverted exactly through the bijector cache, and
  so is the inverse log-det-Jacobian, `-inverse(y) = -log max(y, tiny)`.

  The log is taken in the compute dtype and tiny is its own: float16's
  subnormals (6e-8 to 6e-5), which low-temperature samples often are, are
  ordinary float32 numbers and are not moved. Their derivative 1/y is not a
  float16 number, though: in float16 the gradient is that of the clamp at
  float16's tiny (0 below it), as it was before the value was exact.
  `inverse_in_compute_dtype(y)` leaves the log in float32 for half types
  (`ComputeDtypeInverse`).
  """

  def __init__(self, validate_args=False, name='clamped_exp'):
    super().__init__(validate_args=validate_args, name=name)

  def _forward(self, x):
    return self._remember_output_of_forward(super()._forward(x))

  @staticmethod
  def _inverse_of_clamped(y):
    return tf.math.log(y)

  def _inverse_log_det_jacobian(self, y):
    return -self.inverse(y)  # public: cached x for own outputs

  @staticmethod
  def _clamp(y, floor_dtype):
    """max(y, tiny of floor_dtype) in the compute dtype; outside XLA only when
    some y is below it (or NaN).

    TensorFlow's gradient of `maximum` is a comparison and a broadcasting
    select, which cost more than the rest of a fresh input's log_prob
    gradient; the `tf.cond` skips the clamp, and that gradient, when it would
    change nothing. Under XLA the clamp fuses and always runs.
    """
    y = tf.cast(y, _numerics.compute_dtype(y.dtype))
    tiny = tf.constant(_numerics.finfo(floor_dtype).tiny, y.dtype)
    clamped = lambda: tf.maximum(y, tiny)
    if _numerics.in_xla_context():
      return clamped()
    return tf.cond(tf.reduce_min(y) >= tiny, lambda: y, clamped)
