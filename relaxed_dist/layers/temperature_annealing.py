"""TemperatureAnnealing: the Gumbel-Softmax temperature schedule as a Keras callback."""

import math

import keras
import tensorflow as tf

from relaxed_dist.layers import relaxed_layer


def exponential_schedule(initial=1.0, rate=3e-5, minimum=0.5):
  """step -> max(minimum, initial * exp(-rate * step)) (Jang et al. 2017)."""
  def schedule(step):
    return max(minimum, initial * math.exp(-rate * step))
  return schedule


class TemperatureAnnealing(keras.callbacks.Callback):
  """Sets temperatures to `schedule(step)` after every `update_every` steps.

  The step is the optimizer's iteration count, so a resumed run continues the
  schedule where it stopped. Targets: every relaxed_dist layer in the model
  (the default), or the given `layers`, or the given `variables` (which hold
  a temperature itself, e.g. a distribution's `tf.Variable`). The current
  temperature goes into the batch and epoch logs as `temperature`, so it shows
  in the progress bar and in `History`.

  Args:
    schedule: callable `step -> temperature`; default `exponential_schedule()`,
      Jang et al.'s tau = max(0.5, exp(-3e-5 step)).
    update_every: update period N in steps (Jang et al.: 1000).
    layers: relaxed_dist layers to anneal instead of all of the model's.
    variables: temperature variables to anneal instead of layers.
  """

  def __init__(self, schedule=None, update_every=1000, layers=None, variables=None):
    super().__init__()
    if isinstance(update_every, bool) or not isinstance(update_every, int) or update_every < 1:
      raise ValueError(
          f'Argument `update_every` must be a positive integer; got {update_every!r}.')
    self.schedule = schedule or exponential_schedule()
    self.update_every = int(update_every)
    self.layers = list(layers) if layers is not None else None
    self.variables = list(variables) if variables is not None else []
    self.current = None

  def _targets(self):
    if self.layers is not None or self.variables:
      return self.layers or []
    return [layer for layer in self.model._flatten_layers(include_self=False)  # pylint: disable=protected-access
            if isinstance(layer, relaxed_layer.RelaxedLayer)]

  def on_train_begin(self, logs=None):
    self._layers = self._targets()
    if not self._layers and not self.variables:
      raise ValueError('TemperatureAnnealing found no relaxed_dist layer in the '
                       'model; pass `layers` or `variables`.')
    self._set(self._step())

  def on_train_batch_end(self, batch, logs=None):
    step = self._step()
    # A new multiple of update_every, even when a callback sees only every
    # k-th step (steps_per_execution = k).
    if step // self.update_every != self._applied // self.update_every:
      self._set(step)
    if logs is not None:
      logs['temperature'] = self.current

  def on_epoch_end(self, epoch, logs=None):
    if logs is not None:
      logs['temperature'] = self.current

  def _step(self):
    return int(self.model.optimizer.iterations.numpy())

  def _set(self, step):
    """Assigns schedule(step) computed from the last multiple of update_every."""
    self._applied = step
    self.current = float(self.schedule(step - step % self.update_every))
    for layer in self._layers:
      layer.assign_temperature(self.current)
    for variable in self.variables:
      variable.assign(tf.cast(self.current, variable.dtype))
