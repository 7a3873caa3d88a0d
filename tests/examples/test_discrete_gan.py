"""Runs examples/discrete_gan.py with --small and checks what it claims."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tests import scripts

TRUE_PROBS = [0.0, 0.0, 0.1, 0.3, 0.6]


@pytest.fixture(scope='module')
def module():
  return scripts.load('examples/discrete_gan.py')


@pytest.fixture(scope='module')
def run(module, tmp_path_factory):
  """(metrics returned by main, output directory) of one --small run."""
  out = tmp_path_factory.mktemp('discrete_gan')
  metrics = module.main(['--small', '--out', str(out), '--seed', '1'])
  return metrics, out


def test_metrics_json_matches_returned_metrics(run, module):
  metrics, out = run
  path = out / 'metrics.json'
  assert path.is_file()
  with open(path) as f:
    assert json.load(f) == metrics
  assert metrics['true_probs'] == TRUE_PROBS
  hyper_parameters = metrics['hyper_parameters']
  assert hyper_parameters['seed'] == 1
  assert hyper_parameters['small'] is True
  assert hyper_parameters['anneal'] is False
  for name, value in module.SMALL.items():
    assert hyper_parameters[name] == value, name
  epochs = hyper_parameters['epochs']
  assert len(metrics['per_epoch_learned_probs']) == epochs
  assert metrics['per_epoch_temperature'] == [hyper_parameters['temperature']] * epochs
  assert metrics['per_epoch_learned_probs'][-1] == metrics['learned_probs']


def test_learned_probs_are_a_distribution(run):
  metrics, _ = run
  learned = metrics['learned_probs']
  assert len(learned) == 5
  assert all(p >= 0 for p in learned)
  assert sum(learned) == pytest.approx(1., abs=1e-5)
  for probs in metrics['per_epoch_learned_probs']:
    assert sum(probs) == pytest.approx(1., abs=1e-5)


def test_learned_probs_match_the_stream(run):
  metrics, _ = run
  learned = metrics['learned_probs']
  errors = [abs(p - q) for p, q in zip(learned, TRUE_PROBS)]
  assert metrics['max_abs_error'] == pytest.approx(max(errors))
  assert metrics['max_abs_error'] <= 0.05, learned
  # Numbers that never come up in the stream lose their mass.
  assert learned[0] < 0.05
  assert learned[1] < 0.05


def test_training_moved_away_from_uniform(run):
  """The generator starts uniform (max error 0.4 on value 4) and improves."""
  metrics, _ = run
  first = metrics['per_epoch_learned_probs'][0]
  first_error = max(abs(p - q) for p, q in zip(first, TRUE_PROBS))
  assert metrics['max_abs_error'] < first_error


def test_error_heat_map_png_written(run):
  _, out = run
  path = out / 'probability_errors.png'
  assert path.is_file()
  assert path.stat().st_size > 0
  with open(path, 'rb') as f:
    assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_annealed_schedule_goes_down_to_the_final_temperature(module):
  args = module.parse_args(['--anneal', '--epochs', '10', '--temperature', '0.01',
                            '--initial-temperature', '1'])
  temperatures = module.temperature_schedule(args)
  assert len(temperatures) == 10
  assert temperatures[0] == pytest.approx(1.)
  assert temperatures == sorted(temperatures, reverse=True)
  assert temperatures[5:] == pytest.approx([0.01] * 5)
  assert module.temperature_schedule(module.parse_args([])) == (
      [module.DEFAULTS['temperature']] * module.DEFAULTS['epochs'])


def test_same_seed_same_run(module):
  """The noise is a function of --seed and the step: two runs agree exactly."""
  args = module.parse_args(['--seed', '3', '--epochs', '2', '--batches-per-epoch', '3',
                            '--generator-steps', '2'])
  runs = []
  for _ in range(2):
    gan = module.DiscreteGAN(args)
    runs.append([])
    for temperature in module.temperature_schedule(args):
      gan.run_epoch(tf.constant(temperature))
      runs[-1].append(gan.probs())
  np.testing.assert_array_equal(runs[0], runs[1])
  assert not np.allclose(runs[0][0], 0.2)  # the generator has moved
