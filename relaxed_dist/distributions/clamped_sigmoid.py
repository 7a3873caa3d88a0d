"""ClampedSigmoid: the Sigmoid bijector whose inverse is finite at 0 and 1."""

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist.distributions import compute_dtype_inverse


class ClampedSigmoid(compute_dtype_inverse.ComputeDtypeInverse, tfp.bijectors.Sigmoid):
  """`y = sigmoid(x)`, with inverse `x = logit(clip(y, tiny, 1 - eps/2))`.

  A float32 sample rounds to exactly 1 once x > 17 and to 0 once x < -87;
  `logit` of a fresh 0 or 1 is -inf or +inf and the Binary Concrete density
  with it. Clamping into the normal numbers strictly inside (0, 1) keeps it
  finite; the logit is taken in the compute dtype, whose smallest normal
  number is the lower bound (float16's subnormals are not moved). The
  forward pass is a plain sigmoid, whose gradient `y (1 - y)` is finite
  everywhere (TFP's Sigmoid overflows in an unused `exp` branch and gives NaN
  gradients, TFP issue 1393). Outputs of `forward` are inverted exactly
  through the bijector cache; `inverse_in_compute_dtype(y)` leaves the logit
  in float32 for half types (`ComputeDtypeInverse`).

  The inverse log-det-Jacobian is `-fldj(inverse(y)) = -log y - log(1 - y)` at
  the clamped y: consistent with `inverse` for fresh inputs, and exact (from
  the cached x) for outputs of `forward` that rounded to 0 or 1.
  """

  def __init__(self, validate_args=False, name='clamped_sigmoid'):
    super().__init__(validate_args=validate_args, name=name)
    # Sigmoid records its `low` and `high`; `copy()` rebuilds from these.
    self._parameters = self._no_dependency(
        dict(validate_args=validate_args, name=name))

  def _forward(self, x):
    dtype = _numerics.compute_dtype(x.dtype)
    return self._remember_output_of_forward(
        tf.cast(tf.math.sigmoid(tf.cast(x, dtype)), x.dtype))

  @staticmethod
  def _inverse_of_clamped(y):
    return tf.math.log(y) - tf.math.log1p(-y)

  def _forward_log_det_jacobian(self, x):
    """log sigmoid(x) + log sigmoid(-x)."""
    x_compute = tf.cast(x, _numerics.compute_dtype(x.dtype))
    return tf.cast(-tf.math.softplus(x_compute) - tf.math.softplus(-x_compute),
                   x.dtype)

  @staticmethod
  def _clamp(y, floor_dtype):
    """y in the compute dtype, clipped to [floor_dtype's tiny, the largest
    number below 1 in y's dtype]. With the compute dtype's tiny, float16's
    subnormals (normal float32 numbers) are not moved; with float16's, the
    gradient stays a float16 number."""
    dtype = _numerics.compute_dtype(y.dtype)
    return tf.clip_by_value(
        tf.cast(y, dtype), tf.constant(_numerics.finfo(floor_dtype).tiny, dtype),
        tf.constant(1. - _numerics.finfo(y.dtype).eps / 2., dtype))
