"""The score-function (REINFORCE) estimator, with its baselines."""

import tensorflow as tf

from relaxed_dist.estimators import _common
from relaxed_dist.estimators.estimate import Estimate

LEAVE_ONE_OUT = 'leave_one_out'


class RunningMeanBaseline(tf.Module):
  """beta = exponential running mean of f over past calls: beta <- d beta + (1 - d) mean f.

  Read before it is updated, so beta does not depend on the current samples and
  the score-function estimator stays unbiased. Starts at `initial_value`.
  """

  def __init__(self, decay=0.9, initial_value=0., name=None):
    super().__init__(name=name)
    if not 0. <= decay < 1.:
      raise ValueError(f'Argument `decay` must lie in [0, 1); got {decay!r}.')
    self.decay = float(decay)
    self.value = tf.Variable(initial_value, dtype=tf.float32, trainable=False,
                             name='value')

  def update(self, losses):
    """Moves the running mean towards the mean of `losses`; returns the assign op."""
    mean = tf.cast(tf.reduce_mean(tf.stop_gradient(losses)), self.value.dtype)
    return self.value.assign(self.decay * self.value + (1. - self.decay) * mean)


def score_function(f, logits, *, seed, baseline=None, num_samples=1):
  """REINFORCE: grad = mean_s (f(b_s) - beta_s) d log p(b_s) / d logits, b_s ~ p.

  Unbiased for every `baseline` beta_s that does not depend on b_s: None
  (beta = 0), a `RunningMeanBaseline` (read, then updated with this call's mean
  f), or 'leave_one_out' (beta_s = mean of f over the other samples of the same
  row, num_samples >= 2; Kool et al. 2019). Costs `num_samples` evaluations of
  f, at independent samples. Williams 1992.

  Args:
    f: callable from one-hot samples [..., K] to per-example losses [...].
    logits: float tensor [..., K].
    seed: int (deterministic), stateless `int32[2]` seed, or None (fresh).
    baseline: None, a `RunningMeanBaseline`, or 'leave_one_out'.
    num_samples: samples per row; `loss` and `surrogate` average over them.

  Returns:
    `Estimate(loss, surrogate)`, both of shape logits.shape[:-1].
  """
  logits = _common.checked_logits(f, logits)
  num_samples = _common.checked_count('num_samples', num_samples)
  _check_baseline(baseline, num_samples)
  sample_seed, _ = _common.seeds(seed)
  _, hard = _common.gumbel_max(logits, sample_seed, [num_samples])
  losses = tf.stack([_common.evaluate(f, hard[s]) for s in range(num_samples)])
  if baseline is None:
    signal = losses
  elif isinstance(baseline, str):
    signal = losses - (tf.reduce_sum(losses, 0) - losses) / (num_samples - 1)
  else:
    signal = losses - tf.cast(baseline.value, losses.dtype)
    baseline.update(losses)
  log_probs = _common.log_prob(logits, hard)
  surrogate = losses + tf.stop_gradient(signal) * (log_probs - tf.stop_gradient(log_probs))
  return Estimate(tf.stop_gradient(tf.reduce_mean(losses, 0)), tf.reduce_mean(surrogate, 0))


def _check_baseline(baseline, num_samples):
  if baseline is None or isinstance(baseline, RunningMeanBaseline):
    return
  if not (isinstance(baseline, str) and baseline == LEAVE_ONE_OUT):
    raise ValueError(
        f"Argument `baseline` must be None, a RunningMeanBaseline or '{LEAVE_ONE_OUT}'; "
        f'got {baseline!r}.')
  if num_samples < 2:
    raise ValueError(
        f"Argument `baseline='{LEAVE_ONE_OUT}'` needs `num_samples` >= 2; got "
        f'{num_samples}.')
