"""SampleNoise: the noise behind each sample the relaxed distributions returned."""

import weakref

import tensorflow as tf

from relaxed_dist import _parameters

# id(sample) -> weak references to (the sample, its noise, the parameters it
# was drawn with). Weak throughout: a strong reference to any
# tensor of a graph would keep the graph, and so the sample, alive forever.
# Shared by all distributions: two instances built from the same parameter
# tensors describe the same distribution.
_NOISE_BY_SAMPLE_ID = {}


class SampleNoise:
  """Remembers the noise a sample tensor was drawn with, while the tensor lives.

  The density of an own sample is cheaper to compute from its noise (see
  `concrete_density`). A sample is recognised by identity, as by TFP's
  bijector cache (a slice, a copy or `tf.stop_gradient(sample)` is another
  tensor and gets the general formula), and only by a distribution whose
  parameters are the very tensors it was drawn with.

  Nothing is remembered when a parameter is a variable (it may change before
  `log_prob`), nor in eager mode, where the noise would hold twice the
  sample's memory for as long as the sample lives; in a graph the noise is a
  symbolic tensor, freed at run time once the density has read it.
  """

  def __init__(self, parameters):
    """`parameters`: the distribution's parameters (None for absent ones)."""
    self._parameters = parameters
    self._fixed = not any(map(_parameters.is_ref, parameters))

  def remember(self, sample, noise):
    """Remembers `noise` (a tensor shaped like `sample`) as `sample`'s."""
    if not self._fixed or tf.executing_eagerly():
      return
    key = id(sample)
    _NOISE_BY_SAMPLE_ID[key] = (weakref.ref(sample), weakref.ref(noise),
                                tuple(map(_weak_or_none, self._parameters)))
    weakref.finalize(sample, _NOISE_BY_SAMPLE_ID.pop, key, None)

  def recall(self, value):
    """The noise behind `value` if it is a sample drawn with these parameters."""
    entry = _NOISE_BY_SAMPLE_ID.get(id(value))
    if entry is None or entry[0]() is not value:
      return None
    _, noise, parameters = entry
    if any(mine is not (theirs and theirs())
           for mine, theirs in zip(self._parameters, parameters)):
      return None
    return noise()


def _weak_or_none(value):
  return None if value is None else weakref.ref(value)
