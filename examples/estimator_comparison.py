"""Gradient estimators for discrete samples, measured against exact gradients.

Every estimator in `relaxed_dist.estimators` estimates d/dlogits E_{z ~ p}[f(z)]
for z one-hot, z ~ Categorical(softmax(logits)). Here each is called once on
`--rows` independent rows of the same logits, which gives as many independent
estimates, and compared with the exact gradient on three toys:

* bernoulli_t0.45, bernoulli_t0.499 (the REBAR / RELAX toy): b ~
  Bernoulli(sigmoid(theta)) as the first class of the K = 2 logits [theta, 0],
  theta = 1, f(b) = (b - t)^2, exact gradient sigmoid'(theta) (1 - 2t) w.r.t.
  theta. (At theta = 0, p = 1/2, straight-through happens to be unbiased for
  this f, which would hide its bias.)
* categorical_k10: K = 10 fixed logits, f(z) = softplus(8 (c . z - 0.45)) with
  c_k = k / 9, exact gradient p_k (f(e_k) - sum_j p_j f(e_j)) by enumeration.

For each estimator the table shows whether f is evaluated at the discrete sample
where f's own variables get their gradient (measured: the gradient of the
surrogate w.r.t. a scale on f equals the loss), whether it is unbiased (as
claimed by its paper, and as measured: mean within 4 standard errors of the
exact gradient), the measured bias and variance of one row's estimate (summed
over the logits for K = 10), and the evaluations of f per call (counted).

The stateful estimators are tuned first on `--tune-steps` calls of 1,000 rows:
REBAR's eta, baseline and temperature and RELAX's control-variate network with
Adam on the estimator's own variance (through the surrogate), the running-mean
baseline by being called. Writes `metrics.json` and `variance.png` into `--out`.

Run it from the repository root:

    python examples/estimator_comparison.py [--seed 0] [--small]
"""

import argparse
import json
import os
import pathlib

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position
import matplotlib  # pylint: disable=g-import-not-at-top,wrong-import-position

matplotlib.use('Agg')

import matplotlib.ticker  # pylint: disable=g-import-not-at-top,wrong-import-position
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
from scipy import special  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from relaxed_dist import estimators  # pylint: disable=g-import-not-at-top,wrong-import-position

THETA = 1.0
CATEGORICAL_LOGITS = [0.5, -1., 1.2, 0., -0.3, 0.8, -2., 0.3, 1.5, -0.7]
READOUT = np.linspace(0., 1., 10)
ROWS = 20_000
TUNE_ROWS = 1000
DEFAULT_TUNE_STEPS, SMALL_TUNE_STEPS = 500, 100
LEARNING_RATE = 0.05
Z_THRESHOLD = 4.
UNBIASED = {'score_function', 'rebar', 'relax'}  # as their papers claim
DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / 'out' / 'estimator_comparison'

# (label, estimator, options for K classes). Options holding variables are
# built fresh for every toy.
METHODS = [
    ('score_function', 'score_function', lambda k: {}),
    ('score_function, running mean', 'score_function',
     lambda k: {'baseline': estimators.RunningMeanBaseline(decay=0.9)}),
    ('score_function, leave-one-out x2', 'score_function',
     lambda k: {'baseline': 'leave_one_out', 'num_samples': 2}),
    ('straight_through', 'straight_through', lambda k: {}),
    ('gumbel_softmax T=0.5', 'gumbel_softmax', lambda k: {'temperature': 0.5}),
    ('st_gumbel_softmax T=0.5', 'st_gumbel_softmax', lambda k: {'temperature': 0.5}),
    ('gumbel_rao T=0.5 x10', 'gumbel_rao', lambda k: {'temperature': 0.5, 'num_samples': 10}),
    ('reinmax T=1', 'reinmax', lambda k: {'temperature': 1.}),
    ('gapped_straight_through gap=1', 'gapped_straight_through', lambda k: {'gap': 1.}),
    ('rebar (tuned)', 'rebar', lambda k: {'parameters': estimators.RebarParameters()}),
    ('relax (tuned)', 'relax',
     lambda k: {'control_variate': estimators.RelaxControlVariate.mlp(k)}),
]


def bernoulli_toy(target):
  p = special.expit(THETA)
  return {
      'description': f'b ~ Bernoulli(sigmoid({THETA:g})), f(b) = (b - {target})^2',
      'logits': [THETA, 0.],
      'f': lambda z: (z[..., 0] - target) ** 2,
      'components': 1,  # the gradient w.r.t. theta, the first logit
      'exact': [p * (1 - p) * (1 - 2 * target)],
  }


def categorical_toy():
  p = special.softmax(CATEGORICAL_LOGITS)
  f_k = np.logaddexp(0., 8. * (READOUT - 0.45))
  readout = tf.constant(READOUT, tf.float32)
  return {
      'description': 'K = 10, f(z) = softplus(8 (c . z - 0.45)), c_k = k / 9',
      'logits': CATEGORICAL_LOGITS,
      'f': lambda z: tf.math.softplus(8. * (tf.linalg.matvec(z, readout) - 0.45)),
      'components': 10,
      'exact': list(p * (f_k - p @ f_k)),
  }


TOYS = {
    'bernoulli_t0.45': lambda: bernoulli_toy(0.45),
    'bernoulli_t0.499': lambda: bernoulli_toy(0.499),
    'categorical_k10': categorical_toy,
}


def parse_args(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__.split('\n', 1)[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--seed', type=int, default=0, help='seed of every draw')
  parser.add_argument('--out', type=pathlib.Path, default=DEFAULT_OUT,
                      help='output directory (created if missing)')
  parser.add_argument('--rows', type=int, default=ROWS,
                      help='independent rows (estimates) per measurement')
  parser.add_argument('--tune-steps', type=int, default=None,
                      help=f'tuning steps (default {DEFAULT_TUNE_STEPS}, or '
                           f'{SMALL_TUNE_STEPS} with --small)')
  parser.add_argument('--small', action='store_true',
                      help=f'quick run with {SMALL_TUNE_STEPS} tuning steps (for tests)')
  args = parser.parse_args(argv)
  if args.tune_steps is None:
    args.tune_steps = SMALL_TUNE_STEPS if args.small else DEFAULT_TUNE_STEPS
  if args.rows < 2 or args.tune_steps < 0:
    parser.error('--rows must be at least 2 and --tune-steps non-negative')
  return args


def tile(logits, rows):
  return tf.constant(np.tile(np.asarray(logits, np.float32), [rows, 1]))


def trainable_variables(options):
  return [v for option in options.values()
          for v in getattr(option, 'trainable_variables', ())]


def tune(name, options, f, logits, steps, seed):
  """Adam on the estimator's variables through the surrogate (its variance);
  stateful options without variables, the running mean, update themselves."""
  variables = trainable_variables(options)
  optimizer = keras.optimizers.Adam(LEARNING_RATE)

  @tf.function(autograph=False)
  def step(step_seed):
    with tf.GradientTape() as tape:
      surrogate = estimators.get(name)(f, logits, seed=step_seed, **options).surrogate
      objective = tf.reduce_mean(surrogate)
    if variables:
      optimizer.apply_gradients(zip(tape.gradient(objective, variables), variables))

  for i in range(steps):
    step(tf.constant([seed, i]))


def measure(name, options, toy, rows, seed):
  """One call on `rows` rows: per-row gradient estimates and what f saw."""
  scale = tf.Variable(1.)
  calls = []

  def f(z):
    calls.append(z.shape)
    return scale * toy['f'](z)

  logits = tile(toy['logits'], rows)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    estimate = estimators.get(name)(f, logits, seed=tf.constant([seed, -1]), **options)
    surrogate = tf.reduce_sum(estimate.surrogate)
  d_logits, d_scale = tape.gradient(surrogate, [logits, scale])
  gradients = d_logits.numpy()[:, :toy['components']].astype(np.float64)
  # f's variables see f at the discrete sample iff d surrogate / d scale = sum of losses.
  discrete_forward = bool(np.isclose(float(d_scale), float(tf.reduce_sum(estimate.loss)),
                                     rtol=1e-5))
  return gradients, discrete_forward, len(calls)


def summarize(gradients, exact):
  exact = np.asarray(exact)
  mean = gradients.mean(0)
  standard_error = gradients.std(0, ddof=1) / np.sqrt(len(gradients))
  z = (mean - exact) / standard_error
  return {
      'mean': mean.tolist(),
      'bias': (mean - exact).tolist(),
      'standard_error': standard_error.tolist(),
      'bias_norm': float(np.linalg.norm(mean - exact)),
      'max_abs_z': float(np.max(np.abs(z))),
      'within_4_standard_errors': bool(np.all(np.abs(z) < Z_THRESHOLD)),
      'variance': float(gradients.var(0, ddof=1).sum()),
  }


def tuned_values(options):
  """The current values of the stateful options' variables, by name."""
  return {name: float(getattr(option, name))
          for option in options.values() if isinstance(option, tf.Module)
          for name in ('eta', 'baseline', 'temperature', 'value') if hasattr(option, name)}


def run_toy(toy, args):
  rows = []
  for label, name, make_options in METHODS:
    options = make_options(len(toy['logits']))
    row = {'method': label, 'estimator': name, 'unbiased_claimed': name in UNBIASED}
    if any(isinstance(option, tf.Module) for option in options.values()):
      before, _, _ = measure(name, options, toy, args.rows, args.seed)
      row['variance_before_tuning'] = summarize(before, toy['exact'])['variance']
      tune(name, options, toy['f'], tile(toy['logits'], TUNE_ROWS), args.tune_steps, args.seed)
      row['tuned'] = tuned_values(options)
    gradients, discrete_forward, calls = measure(name, options, toy, args.rows, args.seed)
    row.update(discrete_forward=discrete_forward, evaluations_of_f=calls,
               **summarize(gradients, toy['exact']))
    rows.append(row)
  return rows


def print_table(toy_name, toy, rows):
  exact = ', '.join(f'{e:+.5f}' for e in toy['exact'][:3])
  print(f'\n{toy_name}: {toy["description"]}; exact gradient [{exact}'
        f'{", ..." if len(toy["exact"]) > 3 else ""}]')
  bias_name = 'bias' if len(toy['exact']) == 1 else '|bias|'
  header = (f'{"method":33} | {"discrete fwd":12} | {"unbiased: paper / measured":26} | '
            f'{bias_name:>9} {"max |z|":>7} | {"variance":>9} {"untuned":>9} | {"f evals":>7}')
  print(header)
  print('-' * len(header))
  for row in rows:
    unbiased = (f'{"yes" if row["unbiased_claimed"] else "no":5} / '
                f'{"yes" if row["within_4_standard_errors"] else "no"}')
    bias = f'{row["bias"][0]:+9.5f}' if len(row['bias']) == 1 else f'{row["bias_norm"]:9.5f}'
    untuned = row.get('variance_before_tuning')
    untuned = f'{untuned:9.2e}' if untuned is not None else f'{"":9}'
    print(f'{row["method"]:33} | {"yes" if row["discrete_forward"] else "no":12} | '
          f'{unbiased:26} | {bias} {row["max_abs_z"]:7.1f} | '
          f'{row["variance"]:9.2e} {untuned} | {row["evaluations_of_f"]:7d}')
  for row in rows:
    if 'tuned' in row:
      values = ', '.join(f'{name} = {value:.4g}' for name, value in row['tuned'].items())
      print(f'  {row["method"]}: {values}')


def plot_variances(results, path):
  """Variance of one row's estimate per method, per toy (log scale)."""
  fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 5), sharey=True)
  for ax, (toy_name, result) in zip(axes, results.items()):
    rows = result['methods']
    positions = np.arange(len(rows))
    colors = ['tab:green' if row['unbiased_claimed'] else 'tab:orange' for row in rows]
    ax.barh(positions, [row['variance'] for row in rows], color=colors)
    before = [(i, row['variance_before_tuning']) for i, row in enumerate(rows)
              if 'variance_before_tuning' in row]
    ax.plot([v for _, v in before], [i for i, _ in before], 'k|', markersize=14,
            label='before tuning')
    ax.set_xscale('log')
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(positions, [row['method'] for row in rows])
    ax.invert_yaxis()
    ax.set_xlabel('variance of a single estimate')
    ax.set_title(toy_name)
  axes[0].legend(loc='lower right', fontsize='small')
  fig.suptitle('Gradient variance per estimator (green: unbiased, orange: biased)')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main(argv=None):
  args = parse_args(argv)
  args.out.mkdir(parents=True, exist_ok=True)
  results = {}
  for toy_name, make_toy in TOYS.items():
    toy = make_toy()
    rows = run_toy(toy, args)
    print_table(toy_name, toy, rows)
    score_variance = next(row['variance'] for row in rows if row['method'] == 'score_function')
    results[toy_name] = {
        'description': toy['description'],
        'logits': toy['logits'],
        'exact': toy['exact'],
        'methods': rows,
        'tuned_variance_below_score_function': {
            row['estimator']: row['variance'] < score_variance
            for row in rows if row['estimator'] in ('rebar', 'relax')},
    }
  plot_variances(results, args.out / 'variance.png')
  metrics = {
      'seed': args.seed,
      'rows': args.rows,
      'tune_steps': args.tune_steps,
      'z_threshold': Z_THRESHOLD,
      'toys': results,
  }
  with open(args.out / 'metrics.json', 'w') as f:
    json.dump(metrics, f, indent=2)
  print(f'\nWrote {args.out / "variance.png"} and {args.out / "metrics.json"}')
  return metrics


if __name__ == '__main__':
  main()
