"""ComputeDtypeInverse: a bijector's inverse before it is rounded to a half type."""

import weakref

import tensorflow as tf

from relaxed_dist import _numerics

# (bijector class, id(y)) -> y, for the half-precision outputs of `forward`
# still alive; an entry goes when its y does.
_OUTPUTS_OF_FORWARD = weakref.WeakValueDictionary()


class ComputeDtypeInverse:
  """Mixin for a bijector whose inverse is computed in the compute dtype.

  `inverse(y)` returns y's dtype, as TFP's bijectors do; for float16 and
  bfloat16 that rounds a float32 value which a density would cast straight
  back. `inverse_in_compute_dtype(y)` is in the compute dtype: for an output
  of `forward`, the x it came from (cast), as `inverse` returns it through
  the cache; for any other y, the inverse computed afresh, unrounded, and not
  cached, so that no float32 copy of a half-precision point outlives the call.

  Subclasses define `_clamp(y, floor_dtype)` (y in the compute dtype, moved
  into the inverse's finite domain with floor_dtype's tiny as lower bound)
  and `_inverse_of_clamped(y)`, and pass the result of `_forward` through
  `_remember_output_of_forward`. (A weak registry, not the bijector cache's
  attributes: those cost 0.1 ms an eager sample.)
  """

  def _remember_output_of_forward(self, y):
    """y, noted as an output of `forward` (half types only: in the others
    `inverse(y)` is already unrounded)."""
    if y.dtype != _numerics.compute_dtype(y.dtype):
      _OUTPUTS_OF_FORWARD[type(self), id(y)] = y
    return y

  def _inverse(self, y):
    return tf.cast(self._inverse_in_compute_dtype(y), y.dtype)

  def _inverse_in_compute_dtype(self, y):
    """The inverse of y clamped at the compute dtype's tiny. In float16 its
    gradient is that of the clamp at float16's tiny: below it the
    derivative (of order 1/y) is not a float16 number."""
    x = self._inverse_of_clamped(self._clamp(y, _numerics.compute_dtype(y.dtype)))
    if y.dtype == tf.float16:
      x = _numerics.with_gradient_of(x, self._inverse_of_clamped(self._clamp(y, y.dtype)))
    return x

  def inverse_in_compute_dtype(self, y):
    """`inverse(y)` in the compute dtype (float32 for half types), unrounded
    for a y that is not an output of `forward`."""
    y = tf.convert_to_tensor(y)
    dtype = _numerics.compute_dtype(y.dtype)
    if y.dtype == dtype or _OUTPUTS_OF_FORWARD.get((type(self), id(y))) is y:
      return tf.cast(self.inverse(y), dtype)
    return self._inverse_in_compute_dtype(y)
