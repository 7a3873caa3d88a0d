"""ComputeDtypeInverse: a bijector's inverse before it is rounded to a half type."""

import tensorflow as tf

from relaxed_dist import _numerics

_ATTRIBUTE = 'inverse_in_compute_dtype'


class ComputeDtypeInverse:
  """Mixin for a bijector whose inverse is computed in the compute dtype.

  `inverse(y)` returns y's dtype, as TFP's bijectors do; for float16 and
  bfloat16 that rounds a float32 value the density would cast straight back.
  `_inverse` keeps the float32 value in the bijector cache's attributes of y
  (which TFP shares between the two directions and frees with y), and
  `inverse_in_compute_dtype(y)` returns it: the float32 inverse of a fresh y,
  the cached x, cast, of an output of `forward`.

  Subclasses define `_inverse_in_compute_dtype(y)`, the uncached computation.
  """

  def _inverse(self, y):
    x = self._inverse_in_compute_dtype(y)
    if x.dtype != y.dtype:
      self._cache.inverse_attributes(y)[_ATTRIBUTE] = x
    return tf.cast(x, y.dtype)

  def inverse_in_compute_dtype(self, y):
    """`inverse(y)` in the compute dtype (float32 for half types), unrounded."""
    y = tf.convert_to_tensor(y)
    x = self.inverse(y)
    dtype = _numerics.compute_dtype(x.dtype)
    if x.dtype == dtype:
      return x
    attributes = self._cache.inverse_attributes(y)
    return attributes[_ATTRIBUTE] if _ATTRIBUTE in attributes else tf.cast(x, dtype)
