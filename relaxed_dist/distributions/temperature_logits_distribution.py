"""TemperatureLogitsDistribution: the parameter plumbing of the relaxations.

`ExpRelaxedCategorical` (one class axis) and `LogitRelaxedBernoulli` (no event
axis) share it: a temperature and exactly one of logits / probs, one float
dtype, parameters kept live when they are variables, and the checks behind
`validate_args`. Subclasses set `EVENT_NDIMS` and the logits <-> probs maps.
"""

import tensorflow as tf
import tensorflow_probability as tfp

from relaxed_dist import _numerics
from relaxed_dist import _parameters

tfd = tfp.distributions


class TemperatureLogitsDistribution(tfd.AutoCompositeTensorDistribution):
  """Base class: temperature T > 0 broadcasting against the logits' batch part."""

  EVENT_NDIMS = None  # 1: logits [..., K]; 0: elementwise logits

  def __init__(self, temperature, logits=None, probs=None, validate_args=False,
               allow_nan_stats=True, name=None):
    """Builds the distribution; exactly one of `logits` and `probs`.

    Args:
      temperature: positive float tensor broadcasting against the logits'
        batch part. May be a `tf.Variable` or `tfp.util.DeferredTensor`,
        read at use time.
      logits: float tensor of logits (a last class axis if `EVENT_NDIMS` is 1).
      probs: float tensor of probabilities (rows summing to 1 with a class axis).
      validate_args: check parameters and `log_prob` inputs at run time.
      allow_nan_stats: TFP's flag, kept for compatibility.
      name: name scope of the ops; the class name by default.
    """
    parameters = dict(locals())
    _parameters.exactly_one_of(logits, probs)
    with tf.name_scope(name or type(self).__name__) as name:
      dtype = _parameters.resolve_dtype(
          temperature=temperature, logits=logits, probs=probs)
      self._temperature = _parameters.convert(temperature, dtype, 'temperature')
      self._logits = (None if logits is None else
                      _parameters.convert(logits, dtype, 'logits'))
      self._probs = (None if probs is None else
                     _parameters.convert(probs, dtype, 'probs'))
      super().__init__(
          dtype=dtype,
          reparameterization_type=tfd.FULLY_REPARAMETERIZED,
          validate_args=validate_args,
          allow_nan_stats=allow_nan_stats,
          parameters=parameters,
          name=name)

  @staticmethod
  def logits_from_probs(probs):
    """The subclass's map from probs to logits."""
    raise NotImplementedError

  @staticmethod
  def probs_from_logits(logits):
    """The subclass's map from logits to probs."""
    raise NotImplementedError

  @property
  def temperature(self):
    """Temperature T > 0, as given."""
    return self._temperature

  @property
  def logits(self):
    """The `logits` argument, or None if `probs` was given."""
    return self._logits

  @property
  def probs(self):
    """The `probs` argument, or None if `logits` was given."""
    return self._probs

  def logits_parameter(self, name=None):
    """Logits, computed from `probs` if those were given."""
    with self._name_and_control_scope(name or 'logits_parameter'):
      return self._logits_parameter_no_checks()

  def probs_parameter(self, name=None):
    """Probabilities, computed from `logits` if those were given."""
    with self._name_and_control_scope(name or 'probs_parameter'):
      if self._probs is None:
        return self.probs_from_logits(tf.convert_to_tensor(self._logits))
      return tf.identity(self._probs)

  def _logits_parameter_no_checks(self):
    if self._logits is None:
      return self.logits_from_probs(tf.convert_to_tensor(self._probs))
    return tf.convert_to_tensor(self._logits)

  def _named_parameter(self):
    """(logits or probs, whichever was given, and its name)."""
    if self._logits is not None:
      return self._logits, 'logits'
    return self._probs, 'probs'

  def _batch_part(self, shape):
    return shape[:-self.EVENT_NDIMS] if self.EVENT_NDIMS else shape

  # Direct formulas: TFP's inference from parameter properties is correct
  # too, but runs several times per eager `sample` call.
  def _batch_shape(self):
    param, _ = self._named_parameter()
    return tf.broadcast_static_shape(self._temperature.shape,
                                     self._batch_part(param.shape))

  def _batch_shape_tensor(self):
    param, _ = self._named_parameter()
    return tf.broadcast_dynamic_shape(tf.shape(self._temperature),
                                      self._batch_part(tf.shape(param)))

  def _call_sample_n(self, sample_shape, seed, **kwargs):
    """Eagerly, draws directly in the requested shape: TFP's route (draw
    [prod(sample_shape), ...], then reshape) is a third of an eager `sample`
    call. The noise stream and so the values are the same either way; graph
    mode keeps TFP's route, which handles symbolic sample shapes. `_sample_n` takes the list of ints as its `n`."""
    if not tf.executing_eagerly() or kwargs:
      return super()._call_sample_n(sample_shape, seed, **kwargs)
    return self._sample_n(_parameters.sample_shape_sizes(sample_shape), seed)

  def _compute_parameters(self):
    """(temperature, logits) in the compute dtype; with a class axis the
    temperature gets a trailing axis to broadcast against it."""
    dtype = _numerics.compute_dtype(self.dtype)
    logits = tf.cast(self._logits_parameter_no_checks(), dtype)
    temperature = tf.cast(tf.convert_to_tensor(self._temperature), dtype)
    if self.EVENT_NDIMS:
      temperature = tf.expand_dims(temperature, -1)
    return temperature, logits

  def _parameter_control_dependencies(self, is_init):
    param, name = self._named_parameter()
    if is_init:
      if self.EVENT_NDIMS:
        _parameters.check_event_rank(name, param)
      _parameters.check_broadcastable(self._temperature, param, name, self.EVENT_NDIMS)
      _parameters.check_static_temperature(self._temperature)
      if self._probs is not None:
        _parameters.check_static_probs(self._probs, self.EVENT_NDIMS)
    if not self.validate_args:
      return []
    assertions = []
    if is_init != _parameters.is_ref(self._temperature):
      assertions += _parameters.temperature_assertions(
          tf.convert_to_tensor(self._temperature))
    if self._probs is not None and is_init != _parameters.is_ref(self._probs):
      assertions += _parameters.probs_assertions(
          tf.convert_to_tensor(self._probs), self.EVENT_NDIMS)
    return assertions


class ParametersOfBase:
  """Mixin for a TransformedDistribution of a TemperatureLogitsDistribution:
  the same parameter accessors, read from the base distribution."""

  experimental_is_sharded = False

  def _parameter_control_dependencies(self, is_init):
    """At use, the base's checks of variable parameters: the density methods
    call the base's formulas directly, outside its own control scope (the
    others go through it as well and so check twice)."""
    if is_init:
      return []  # the base checked them when it was built
    return self.distribution._parameter_control_dependencies(is_init)  # pylint: disable=protected-access

  @property
  def temperature(self):
    """Temperature T > 0, as given."""
    return self.distribution.temperature

  @property
  def logits(self):
    """The `logits` argument, or None if `probs` was given."""
    return self.distribution.logits

  @property
  def probs(self):
    """The `probs` argument, or None if `logits` was given."""
    return self.distribution.probs

  def logits_parameter(self, name=None):
    """Logits, computed from `probs` if those were given."""
    return self.distribution.logits_parameter(name)

  def probs_parameter(self, name=None):
    """Probabilities, computed from `logits` if those were given."""
    return self.distribution.probs_parameter(name)
