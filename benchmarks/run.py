"""Same-process benchmarks: relaxed_dist against TFP 0.25 and a hand-written floor.

For every configuration the implementations are timed interleaved (one call of
each per round, at least `--rounds` rounds and `--seconds` seconds), and the
median over rounds is reported with ratios: the median of the per-round ratios
and its bootstrap 90% interval, so that "equal within noise" can be read off.
Seeds are tensors, so no compiler can fold the noise into a constant.

    python benchmarks/run.py                 # the full grid, about 10 minutes on 2 cores
    python benchmarks/run.py --quick         # 32 x 10 only: the test suite's smoke run

Writes benchmarks/out/results.json (or --out). Runs on the GPU when one is
visible to TensorFlow (all timings then include a device-to-host copy of a
scalar, which synchronises).
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow_probability as tfp  # pylint: disable=g-import-not-at-top,wrong-import-position

import relaxed_dist as rd  # pylint: disable=g-import-not-at-top,wrong-import-position

DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / 'out'
SIZES = [(32, 10), (131072, 10), (1_048_576, 10), (1024, 1000)]
MODES = ['eager', 'function', 'xla']
DTYPES = ['float32', 'bfloat16']
OPERATIONS = ['sample', 'log_prob', 'log_prob_grad', 'sample_log_prob_grad',
              'sample_and_log_prob_grad']


def floor_sample(logits, temperature, seed):
  """log_softmax((logits - log(-log u)) / T) with Philox noise, written by hand.

  Scales by 1/T: XLA on CPU does not turn a division by a tensor into a
  multiplication, and the division alone makes it about 3x slower.
  """
  dtype = tf.float32 if logits.dtype == tf.bfloat16 else logits.dtype
  u = tf.random.stateless_uniform(tf.shape(logits), seed, minval=1e-37, maxval=1.,
                                  dtype=dtype, alg='philox')
  z = (tf.cast(logits, dtype) - tf.math.log(-tf.math.log(u))) * (
      1. / tf.cast(temperature, dtype))
  return tf.cast(tf.nn.log_softmax(z), logits.dtype)


def floor_log_prob(log_y, logits, temperature):
  """The ExpConcrete density of log y, minus sum(log y), by hand."""
  dtype = tf.float32 if logits.dtype == tf.bfloat16 else logits.dtype
  log_y, logits, temperature = (tf.cast(v, dtype) for v in (log_y, logits, temperature))
  k = tf.cast(tf.shape(logits)[-1], dtype)
  log_prob = (tf.math.lgamma(k) + (k - 1.) * tf.math.log(temperature)
              + tf.reduce_sum(tf.nn.log_softmax(logits - temperature * log_y), -1)
              - tf.reduce_sum(log_y, -1))
  return tf.cast(log_prob, logits.dtype)


def implementations():
  """name -> (sample(logits, T, seed), log_prob(y, logits, T),
  sample_and_log_prob(logits, T, seed)); y on the simplex."""
  def library(cls):
    return (lambda logits, t, seed: cls(t, logits=logits).sample(seed=seed),
            lambda y, logits, t: cls(t, logits=logits).log_prob(y),
            lambda logits, t, seed: cls(t, logits=logits).experimental_sample_and_log_prob(
                seed=seed))

  def floor_sample_and_log_prob(logits, t, seed):
    log_y = floor_sample(logits, t, seed)
    return tf.exp(log_y), floor_log_prob(log_y, logits, t)
  return {
      'relaxed_dist': library(rd.RelaxedOneHotCategorical),
      'tfp': library(tfp.distributions.RelaxedOneHotCategorical),
      'floor': (lambda logits, t, seed: tf.exp(floor_sample(logits, t, seed)),
                lambda y, logits, t: floor_log_prob(tf.math.log(y), logits, t),
                floor_sample_and_log_prob),
  }


def operation(name, sample, log_prob, sample_and_log_prob):
  """fn(logits, temperature, y, seed) -> tensor(s) for one operation.

  'log_prob_grad' differentiates log_prob of the fresh point y with respect to
  the logits and y; 'sample_log_prob_grad' calls `sample` and then `log_prob`
  of its result; 'sample_and_log_prob_grad' calls
  `experimental_sample_and_log_prob` (TFP's default for it is the same two
  calls)."""
  if name == 'sample':
    return lambda logits, t, y, seed: sample(logits, t, seed)
  if name == 'log_prob':
    return lambda logits, t, y, seed: log_prob(y, logits, t)
  if name == 'log_prob_grad':
    def log_prob_gradient(logits, t, y, seed):
      with tf.GradientTape() as tape:
        tape.watch([logits, y])
        loss = tf.reduce_sum(tf.cast(log_prob(y, logits, t), tf.float32))
      return tape.gradient(loss, [logits, y])
    return log_prob_gradient

  def sample_then_log_prob(logits, t, seed):
    y = sample(logits, t, seed)
    return y, log_prob(y, logits, t)
  draw = sample_then_log_prob if name == 'sample_log_prob_grad' else sample_and_log_prob

  def gradient(logits, t, y, seed):
    with tf.GradientTape() as tape:
      tape.watch(logits)
      y, log_prob_of_y = draw(logits, t, seed)
      loss = tf.reduce_sum(tf.cast(log_prob_of_y, tf.float32))
      loss += tf.reduce_sum(tf.cast(y[..., 0], tf.float32))
    return tape.gradient(loss, logits)
  return gradient


def compile_mode(fn, mode):
  if mode == 'eager':
    return fn
  return tf.function(fn, jit_compile=(mode == 'xla'), autograph=False)


def block(result):
  """Waits for a result by reading one element back to the host."""
  first = tf.nest.flatten(result)[0]
  return float(tf.reshape(tf.cast(first, tf.float32), [-1])[0])


def time_interleaved(functions, args, rounds, min_seconds=0.):
  """name -> seconds of each round, or the error raised; one call of each per round."""
  times, errors = {name: [] for name in functions}, {}
  for name, fn in functions.items():
    try:
      block(fn(*args))  # trace / compile / warm up
    except Exception as error:  # pylint: disable=broad-except
      errors[name] = f'{type(error).__name__}: {str(error).splitlines()[0][:120]}'
  live = {name: fn for name, fn in functions.items() if name not in errors}
  start = time.perf_counter()
  done = 0
  while done < rounds or time.perf_counter() - start < min_seconds:
    for name, fn in live.items():
      begin = time.perf_counter()
      block(fn(*args))
      times[name].append(time.perf_counter() - begin)
    done += 1
  return {name: errors.get(name, np.array(times[name])) for name in functions}


def medians(times):
  return {name: (float(np.median(t)) if isinstance(t, np.ndarray) else t)
          for name, t in times.items()}


def ratio(times, numerator, denominator, resamples=2000):
  """Median over rounds of numerator/denominator (paired by round) and its
  bootstrap 90% interval, or None if either failed. An interval containing 1
  means the two are equal within this machine's noise."""
  a, b = times.get(numerator), times.get(denominator)
  if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
    return None
  per_round = a / b
  rng = np.random.default_rng(0)
  picks = rng.integers(0, len(per_round), size=(resamples, len(per_round)))
  low, high = np.percentile(np.median(per_round[picks], axis=1), [5, 95])
  return [float(np.median(per_round)), float(low), float(high)]


def inputs(size, dtype):
  logits = tf.cast(tf.random.stateless_normal(size, seed=[1, 2]), dtype)
  temperature = tf.constant(0.5, dtype)
  y = rd.RelaxedOneHotCategorical(temperature, logits=logits).sample(seed=[3, 4])
  return logits, temperature, tf.constant(y.numpy()), tf.constant([5, 6])


def distribution_grid(sizes, modes, dtypes, operations, rounds, seconds):
  rows = []
  impls = implementations()
  for dtype in dtypes:
    for size in sizes:
      args = inputs(size, dtype)
      for op in operations:
        for mode in modes:
          if mode == 'eager' and size[0] * size[1] > 2_000_000:
            continue
          functions = {name: compile_mode(operation(op, *pair), mode)
                       for name, pair in impls.items()}
          times = time_interleaved(functions, args, rounds, seconds)
          rows.append(dict(dtype=dtype, size=list(size), operation=op, mode=mode,
                           seconds=medians(times),
                           tfp_over_ours=ratio(times, 'tfp', 'relaxed_dist'),
                           ours_over_floor=ratio(times, 'relaxed_dist', 'floor')))
          print_row(rows[-1])
  return rows


def format_ratio(value):
  return f'{value[0]:5.2f} ({value[1]:.2f}-{value[2]:.2f})' if value else f'{"nan":>17s}'


def print_row(row):
  cells = []
  for name in ('relaxed_dist', 'tfp', 'floor'):
    value = row['seconds'][name]
    cells.append(f'{value * 1e3:9.3f}' if isinstance(value, float) else '    error')
  print(f'{row["dtype"]:8s} {str(tuple(row["size"])):14s} {row["operation"]:24s} '
        f'{row["mode"]:8s} ' + ' '.join(cells) + f'  {format_ratio(row["tfp_over_ours"])}'
        f'  {format_ratio(row["ours_over_floor"])}', flush=True)


def vae_train_step(rounds, seconds, jit_compile):
  """Keras train step of a categorical VAE: our layer vs the formula inline."""
  import keras  # pylint: disable=g-import-not-at-top

  class InlineGumbelSoftmax(keras.layers.Layer):
    """softmax((logits - log(-log u)) / T), u from a SeedGenerator via Philox."""

    def __init__(self):
      super().__init__()
      self.seed_generator = keras.random.SeedGenerator(1)
      self.temperature = self.add_weight(shape=(), initializer='ones', trainable=False)

    def call(self, logits, training=None):
      seed = tf.cast(self.seed_generator.next(), tf.int32)
      u = tf.random.stateless_uniform(tf.shape(logits), seed, minval=1e-37,
                                      maxval=1., alg='philox')
      return tf.nn.softmax((logits - tf.math.log(-tf.math.log(u))) / self.temperature)

  def model(sampler):
    x = keras.Input([784])
    h = keras.layers.Dense(256, activation='relu')(keras.layers.Dense(512, activation='relu')(x))
    logits = keras.layers.Reshape([30, 10])(keras.layers.Dense(300)(h))
    z = keras.layers.Flatten()(sampler(logits))
    h = keras.layers.Dense(512, activation='relu')(keras.layers.Dense(256, activation='relu')(z))
    vae = keras.Model(x, keras.layers.Dense(784)(h))
    vae.compile(optimizer='adam', jit_compile=jit_compile,
                loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return vae

  x = (np.random.default_rng(0).uniform(size=[100, 784]) > 0.7).astype('float32')
  models = {'relaxed_dist': model(rd.layers.GumbelSoftmax(seed=1)),
            'inline': model(InlineGumbelSoftmax())}
  functions = {name: (lambda m: lambda: m.train_on_batch(x, x))(m)
               for name, m in models.items()}
  times = time_interleaved(functions, (), rounds, seconds)
  return dict(operation='vae_train_step', jit_compile=jit_compile, seconds=medians(times),
              ratio=ratio(times, 'relaxed_dist', 'inline'))


PEAK_MEMORY_CODE = '''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf, tensorflow_probability as tfp, relaxed_dist as rd
cls = {"relaxed_dist": rd.RelaxedOneHotCategorical,
       "tfp": tfp.distributions.RelaxedOneHotCategorical}[sys.argv[1]]
device = "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"
logits = tf.random.stateless_normal([1048576, 10], seed=[1, 2])
@tf.function
def step(logits, seed):
  with tf.GradientTape() as tape:
    tape.watch(logits)
    y = cls(0.5, logits=logits).sample(seed=seed)
    loss = tf.reduce_sum(y[..., 0])
  return tape.gradient(loss, logits)
step.get_concrete_function(logits, tf.constant([3, 4]))  # traced, not run
tf.config.experimental.reset_memory_stats(device)
baseline = tf.config.experimental.get_memory_info(device)["current"]
float(tf.reduce_sum(step(logits, tf.constant([1, 2]))))
print(tf.config.experimental.get_memory_info(device)["peak"] - baseline)
'''


def peak_memory_mib():
  """Peak bytes held by TensorFlow's allocator (MiB) above what was held before
  the first sample + gradient at 1M x 10 (the 40 MiB logits), one process each:
  exact and repeatable, unlike the process's RSS."""
  result = {}
  for name in ('relaxed_dist', 'tfp'):
    output = subprocess.run([sys.executable, '-c', PEAK_MEMORY_CODE, name],
                            capture_output=True, text=True, check=True).stdout
    result[name] = int(output.split()[-1]) / 2**20
  return result


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
  parser.add_argument('--quick', action='store_true', help='small grid, few rounds')
  parser.add_argument('--rounds', type=int, default=15, help='at least this many rounds')
  parser.add_argument('--seconds', type=float, default=2.,
                      help='and rounds until this many seconds have passed')
  parser.add_argument('--out', type=pathlib.Path, default=DEFAULT_OUT)
  args = parser.parse_args(argv)
  sizes, rounds, seconds = ((SIZES[:1], 2, 0.) if args.quick
                            else (SIZES, args.rounds, args.seconds))

  device = 'GPU' if tf.config.list_physical_devices('GPU') else 'CPU'
  print(f'TF {tf.__version__}, TFP {tfp.__version__}, relaxed_dist {rd.__version__}, '
        f'{device}, {os.cpu_count()} cores; medians over >= {rounds} interleaved rounds '
        f'and >= {seconds:g} s (ms)')
  print(f'{"dtype":8s} {"size":14s} {"operation":24s} {"mode":8s} '
        f'{"ours":>9s} {"tfp":>9s} {"floor":>9s}  {"tfp/ours (90% CI)":>17s}  '
        f'{"ours/floor (90% CI)":>19s}')
  rows = distribution_grid(sizes, MODES, DTYPES, OPERATIONS, rounds, seconds)
  vae = [vae_train_step(rounds * 2, seconds * 5, jit) for jit in (False, True)]
  for row in vae:
    print(f'VAE train step (jit_compile={row["jit_compile"]}): ours '
          f'{row["seconds"]["relaxed_dist"] * 1e3:.2f} ms, inline '
          f'{row["seconds"]["inline"] * 1e3:.2f} ms, ours/inline {format_ratio(row["ratio"])}')
  memory = None if args.quick else peak_memory_mib()
  if memory:
    print(f'peak allocator memory, sample + gradient at 1M x 10: ours {memory["relaxed_dist"]:.0f} '
          f'MiB, TFP {memory["tfp"]:.0f} MiB')
  args.out.mkdir(parents=True, exist_ok=True)
  results = dict(tensorflow=tf.__version__, tfp=tfp.__version__, device=device,
                 platform=platform.platform(), cpu_count=os.cpu_count(),
                 rounds=rounds, seconds=seconds, distributions=rows, vae_train_step=vae,
                 peak_memory_mib=memory)
  (args.out / 'results.json').write_text(json.dumps(results, indent=1))
  print(f'wrote {args.out / "results.json"}')
  return results


if __name__ == '__main__':
  main()
