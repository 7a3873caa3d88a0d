"""Temperature sweep: what the Gumbel-Softmax temperature does to samples.

Idea taken from Eric Jang's Gumbel-Softmax in TensorFlow blog post
(blog.evjang.com, 2016). We take a categorical distribution over two classes
with probabilities [0.75, 0.25] and draw relaxed one-hot samples

    y = softmax((log p + G) / T),    G ~ Gumbel(0, 1) i.i.d.,

at temperatures T = 10, 5, 1, 0.1, 0.001. The script shows that:

* At high temperature the samples are close to the uniform vector [0.5, 0.5]:
  dividing by a large T shrinks the logits and the noise towards zero. (The
  mean sits slightly above 0.5 on the likelier class, about 0.5 + log(3)/(4T).)
* At low temperature the samples are (nearly) one-hot, and class 0 wins
  about 75% of the time: the mean tends to the probabilities [0.75, 0.25].
* The argmax of a sample does not depend on T at all. It is the Gumbel-max
  trick, argmax(log p + G) ~ Categorical(p), so the fraction of samples whose
  argmax is class 0 is about 0.75 at every temperature.

For each temperature it prints one sample and, over `--num-samples` samples,
the mean vector, the fraction of near-one-hot samples (largest component
> 0.99) and the fraction with argmax class 0. It saves a histogram of the
first coordinate per temperature (`histograms.png`) and the numbers
(`metrics.json`) into `--out`.

Run it from the repository root:

    python examples/temperature_sweep.py [--seed 0] [--num-samples 10000]
"""

import argparse
import json
import os
import pathlib

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import matplotlib  # pylint: disable=g-import-not-at-top,wrong-import-position

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

import relaxed_dist  # pylint: disable=g-import-not-at-top,wrong-import-position

PROBS = [0.75, 0.25]
TEMPERATURES = [10., 5., 1., 0.1, 0.001]
NEAR_ONE_HOT_THRESHOLD = 0.99
DEFAULT_NUM_SAMPLES = 10000
SMALL_NUM_SAMPLES = 2000
DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / 'out' / 'temperature_sweep'


def parse_args(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__.split('\n', 1)[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--seed', type=int, default=0, help='sampling seed')
  parser.add_argument('--out', type=pathlib.Path, default=DEFAULT_OUT,
                      help='output directory (created if missing)')
  parser.add_argument('--num-samples', type=int, default=None,
                      help=f'samples per temperature (default '
                           f'{DEFAULT_NUM_SAMPLES}, or {SMALL_NUM_SAMPLES} '
                           f'with --small)')
  parser.add_argument('--small', action='store_true',
                      help=f'quick run with {SMALL_NUM_SAMPLES} samples (for tests)')
  args = parser.parse_args(argv)
  if args.num_samples is None:
    args.num_samples = SMALL_NUM_SAMPLES if args.small else DEFAULT_NUM_SAMPLES
  if args.num_samples < 1:
    parser.error('--num-samples must be positive')
  return args


def draw_samples(num_samples, seed):
  """Samples of shape [num_samples, len(TEMPERATURES), 2].

  One distribution with a batch of temperatures: temperature [5] broadcast
  against probs [1, 2] gives batch shape [5], event shape [2].
  """
  dist = relaxed_dist.RelaxedOneHotCategorical(
      temperature=np.array(TEMPERATURES, np.float32),
      probs=np.array([PROBS], np.float32))
  return dist.sample(num_samples, seed=seed).numpy()


def summarize(samples):
  """Metrics of samples [n, 2] drawn at a single temperature."""
  return {
      'mean': samples.mean(axis=0).tolist(),
      'near_one_hot_fraction': float(
          np.mean(samples.max(axis=-1) > NEAR_ONE_HOT_THRESHOLD)),
      'argmax_class0_fraction': float(np.mean(samples.argmax(axis=-1) == 0)),
  }


def plot_histograms(samples, path):
  """One histogram of the first coordinate y[0] per temperature.

  With two classes, argmax is class 0 exactly when y[0] > 0.5: each panel
  notes that fraction, about p[0] = 0.75 at every temperature.
  """
  fig, axes = plt.subplots(1, len(TEMPERATURES),
                           figsize=(3 * len(TEMPERATURES), 3.4), sharex=True)
  bins = np.linspace(0., 1., 51)
  for i, (ax, temperature) in enumerate(zip(axes, TEMPERATURES)):
    first = samples[:, i, 0]
    ax.hist(first, bins=bins, color='tab:blue')
    ax.axvline(first.mean(), color='tab:red', linestyle='--', linewidth=1,
               label='mean')
    ax.set_title(f'T = {temperature:g}\nfraction y[0] > 0.5: {np.mean(first > 0.5):.3f}',
                 fontsize='medium')
    ax.set_xlabel('y[0]')
    ax.set_xlim(0., 1.)
  axes[0].set_ylabel('count')
  axes[0].legend(loc='upper left', fontsize='small')
  fig.suptitle(f'First coordinate of {samples.shape[0]} relaxed one-hot samples, '
               f'probs = {PROBS}')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def print_table(per_temperature):
  header = f'{"T":>8}  {"mean":>16}  {"near one-hot":>12}  {"argmax = 0":>10}'
  print(header)
  print('-' * len(header))
  for row in per_temperature:
    mean = '[' + ', '.join(f'{m:.3f}' for m in row['mean']) + ']'
    print(f'{row["temperature"]:>8g}  {mean:>16}  '
          f'{row["near_one_hot_fraction"]:>12.3f}  '
          f'{row["argmax_class0_fraction"]:>10.3f}')


def main(argv=None):
  args = parse_args(argv)
  args.out.mkdir(parents=True, exist_ok=True)

  samples = draw_samples(args.num_samples, args.seed)

  print(f'probs = {PROBS}, {args.num_samples} samples per temperature, '
        f'seed {args.seed}\n')
  per_temperature = []
  for i, temperature in enumerate(TEMPERATURES):
    sample = ', '.join(f'{v:.4f}' for v in samples[0, i])
    print(f'T = {temperature:g}: one sample = [{sample}]')
    per_temperature.append({'temperature': temperature, **summarize(samples[:, i])})
  print()
  print_table(per_temperature)

  plot_histograms(samples, args.out / 'histograms.png')
  metrics = {
      'probs': PROBS,
      'num_samples': args.num_samples,
      'seed': args.seed,
      'near_one_hot_threshold': NEAR_ONE_HOT_THRESHOLD,
      'per_temperature': per_temperature,
  }
  with open(args.out / 'metrics.json', 'w') as f:
    json.dump(metrics, f, indent=2)
  print(f'\nWrote {args.out / "histograms.png"} and {args.out / "metrics.json"}')
  return metrics


if __name__ == '__main__':
  main()
