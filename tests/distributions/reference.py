"""Independent float64 NumPy formulas the tests compare against."""

import numpy as np
from scipy import special


def concrete_log_density(y, logits, temperature):
  """log p(y) of the Concrete distribution (Maddison et al. 2017, eq. 10).

  log p = lgamma(K) + (K-1) log T + sum_k [log pi_k - (T+1) log y_k]
          - K log sum_k pi_k y_k^-T,  pi = softmax(logits).
  """
  y = np.asarray(y, np.float64)
  log_pi = special.log_softmax(np.asarray(logits, np.float64), axis=-1)
  temperature = np.asarray(temperature, np.float64)[..., np.newaxis]
  k = y.shape[-1]
  log_y = np.log(y)
  return (special.gammaln(k) + (k - 1) * np.log(temperature[..., 0])
          + np.sum(log_pi - (temperature + 1) * log_y, -1)
          - k * special.logsumexp(log_pi - temperature * log_y, axis=-1))


def sigmoid(x):
  return special.expit(x)
