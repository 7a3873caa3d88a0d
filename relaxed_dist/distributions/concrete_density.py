"""The ExpConcrete log-density: at any point of the log-simplex, or from the
Gumbel noise behind one of the distribution's own samples.

For logits a, temperature T and a point x of the log-simplex, with s = a - T x:
`log p(x) = lgamma(K) + (K-1) log T + sum_k log_softmax(s)_k`
(minus `sum_k x_k` for the density of y = exp(x) on the simplex). Sums and K
run over the live classes, those with a finite logit.
"""

import tensorflow as tf

from relaxed_dist import _numerics

# Up to this many elements (static shapes) the masked arithmetic of the noise
# formula costs less than the graph ops of a tf.cond; above it, and for the
# general formula at every size, the cond wins (benchmarks/run.py).
_BRANCH_FREE_MAX_ELEMENTS = 2**17


def log_density(temperature, logits, x, on_simplex, gumbel=None):
  """log p(x) in the compute dtype; computed from the Gumbel noise when x was
  drawn with `gumbel` (shaped like x).

  Masked classes cost a few elementwise ops. They always run under XLA (which
  fuses them) and for the noise formula on small inputs; otherwise a
  `tf.cond` runs them only when some logit is -inf.
  """
  if gumbel is None:
    density = lambda masked: _at_point(logits, temperature, x, on_simplex, masked)
    branch_free = False
  else:
    density = lambda masked: _from_noise(logits, temperature, x, gumbel, on_simplex, masked)
    size = x.shape.num_elements()
    branch_free = size is not None and size <= _BRANCH_FREE_MAX_ELEMENTS
  if branch_free or _numerics.in_xla_context():
    return density(True)
  return tf.cond(_numerics.is_masked(tf.reduce_min(logits)),
                 lambda: density(True), lambda: density(False))


def _normalizer(num_classes, temperature):
  """lgamma(K) + (K-1) log T."""
  return tf.math.lgamma(num_classes) + (num_classes - 1.) * tf.math.log(temperature[..., 0])


def _at_point(logits, temperature, x, on_simplex, has_masked):
  """The density at any x, differentiated by autodiff.

  With `has_masked`, the sums and K run over live classes (w_k = 1[a_k > -inf])
  only. A masked class's x is -inf on own samples: `multiply_no_nan` makes its
  T x and its Jacobian term 0 (with zero gradients), and its logit becomes a
  finite -max/2 whose softmax weight is 0, so no inf meets an arithmetic op.
  """
  if not has_masked:
    num_classes = tf.cast(tf.shape(logits)[-1], logits.dtype)
    log_prob = tf.reduce_sum(tf.nn.log_softmax(logits - temperature * x), -1)
    jacobian = tf.reduce_sum(x, -1) if on_simplex else 0.
  else:
    live = tf.cast(~_numerics.is_masked(logits), logits.dtype)
    num_classes = tf.reduce_sum(live, -1)
    finite_logits = tf.maximum(logits, -0.5 * _numerics.finfo(logits.dtype).max)
    scaled = tf.math.multiply_no_nan(x, temperature * live)
    log_prob = tf.reduce_sum(tf.nn.log_softmax(finite_logits - scaled) * live, -1)
    jacobian = (tf.reduce_sum(tf.math.multiply_no_nan(x, live), -1)
                if on_simplex else 0.)
  return log_prob - jacobian + _normalizer(num_classes, temperature)


def _from_noise(logits, temperature, x, gumbel, on_simplex, has_masked):
  """The density at an own sample x = log_softmax((a + G) / T), from G.

  There s = a - T x = -G + c with c constant along the class axis, so
  `sum_k log_softmax(s)_k = sum_k log E_k - K log sum_k E_k`: two sums instead
  of a log_softmax. Its gradient is the partial derivative of the general
  formula (a sample drawn outside the tape still gets the score function),
  `d/ds_k = w_k - K softmax(s)_k` with `softmax(s) = E / sum E`, again
  without a softmax; higher derivatives are exact too.
  """
  # Tensors of this graph, not captures of an outer one: the gradient of a
  # surrounding tf.cond may only reach its inputs through its own graph.
  logits, temperature, x, gumbel = map(tf.identity, (logits, temperature, x, gumbel))
  live = tf.cast(~_numerics.is_masked(logits), logits.dtype) if has_masked else None
  exponential = tf.exp(-gumbel)
  if live is not None:
    exponential *= live  # masked classes leave the sums
  total = tf.reduce_sum(exponential, -1, keepdims=True)

  def live_part(x):
    """x with the -inf of masked classes made 0."""
    return x if live is None else tf.math.multiply_no_nan(x, live)

  @tf.custom_gradient
  def density(logits, temperature, x):
    if live is None:
      num_classes = tf.cast(tf.shape(x)[-1], x.dtype)
      neg_sum_log_e = tf.reduce_sum(gumbel, -1)
    else:
      num_classes = tf.reduce_sum(live, -1, keepdims=True)
      neg_sum_log_e = tf.reduce_sum(gumbel * live, -1)
    num_classes_of_row = num_classes if live is None else num_classes[..., 0]
    jacobian = tf.reduce_sum(live_part(x), -1) if on_simplex else 0.
    log_prob = (-neg_sum_log_e - num_classes_of_row * tf.math.log(total[..., 0]) - jacobian
                + _normalizer(num_classes_of_row, temperature))

    def gradient(upstream):
      x_live = live_part(x)
      probs = _softmax_from_noise(logits, temperature, x_live, exponential / total)
      column = upstream[..., tf.newaxis]
      weight = column if live is None else column * live
      d_s = weight - (num_classes * column) * probs
      d_x = -temperature * d_s - (weight if on_simplex else 0.)
      d_temperature = ((num_classes_of_row - 1.) * upstream / temperature[..., 0]
                       - tf.reduce_sum(x_live * d_s, -1))
      return (_numerics.sum_to_shape(d_s, logits),
              _numerics.sum_to_shape(d_temperature[..., tf.newaxis], temperature),
              _numerics.sum_to_shape(d_x, x))
    return log_prob, gradient
  return density(logits, temperature, x)


def _softmax_from_noise(logits, temperature, x, probs):
  """softmax(a - T x) at an own sample, where its value `probs` = E / sum E is
  known. The gradient is the softmax's, written with this function's own
  output, so derivatives of every order are exact."""
  @tf.custom_gradient
  def softmax(logits, temperature, x):
    def gradient(upstream):
      p = _softmax_from_noise(logits, temperature, x, probs)
      d_s = p * (upstream - tf.reduce_sum(upstream * p, -1, keepdims=True))
      d_temperature = -tf.reduce_sum(x * d_s, -1, keepdims=True)
      return (_numerics.sum_to_shape(d_s, logits),
              _numerics.sum_to_shape(d_temperature, temperature),
              _numerics.sum_to_shape(-temperature * d_s, x))
    return tf.identity(probs), gradient
  return softmax(logits, temperature, x)
