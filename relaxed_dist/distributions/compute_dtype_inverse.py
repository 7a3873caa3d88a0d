"""ComputeDtypeInverse: a bijector's inverse before it is rounded to a half type."""

import tensorflow as tf

from relaxed_dist import _numerics

_OUTPUT_OF_FORWARD = 'output_of_forward'


class ComputeDtypeInverse:
  """Mixin for a bijector whose inverse is computed in the compute dtype.

  `inverse(y)` returns y's dtype, as TFP's bijectors do; for float16 and
  bfloat16 that rounds a float32 value which a density would cast straight
  back. `inverse_in_compute_dtype(y)` is in the compute dtype: for an output
  of `forward`, the x it came from (cast), as `inverse` returns it through
  the cache; for any other y, the inverse computed afresh, unrounded, and not
  cached, so that no float32 copy of a half-precision point outlives the call.

  Subclasses define `_inverse_in_compute_dtype(y)` and call
  `_mark_output_of_forward(x)` in `_forward`.
  """

  def _mark_output_of_forward(self, x):
    """Flags x's cache entry, whose attributes TFP shares with y = forward(x)
    (half types only: in the others inverse(y) is already unrounded)."""
    if x.dtype != _numerics.compute_dtype(x.dtype):
      self._cache.forward_attributes(x)[_OUTPUT_OF_FORWARD] = True

  def _inverse(self, y):
    return tf.cast(self._inverse_in_compute_dtype(y), y.dtype)

  def inverse_in_compute_dtype(self, y):
    """`inverse(y)` in the compute dtype (float32 for half types), unrounded
    for a y that is not an output of `forward`."""
    y = tf.convert_to_tensor(y)
    dtype = _numerics.compute_dtype(y.dtype)
    if y.dtype == dtype or self._cache.inverse_attributes(y).get(_OUTPUT_OF_FORWARD):
      return tf.cast(self.inverse(y), dtype)
    return self._inverse_in_compute_dtype(y)
