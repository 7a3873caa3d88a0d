"""Runs examples/temperature_sweep.py with --small and checks what it claims."""

import json
import math

import pytest

from tests import scripts


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """(metrics returned by main, output directory) of one --small run."""
  out = tmp_path_factory.mktemp('temperature_sweep')
  metrics = scripts.load('examples/temperature_sweep.py').main(
      ['--small', '--out', str(out), '--seed', '1'])
  return metrics, out


def _by_temperature(metrics):
  return {row['temperature']: row for row in metrics['per_temperature']}


def test_metrics_json_matches_returned_metrics(run):
  metrics, out = run
  path = out / 'metrics.json'
  assert path.is_file()
  with open(path) as f:
    assert json.load(f) == metrics
  assert metrics['probs'] == [0.75, 0.25]
  assert metrics['num_samples'] == 2000
  assert metrics['seed'] == 1
  assert [row['temperature'] for row in metrics['per_temperature']] == [
      10., 5., 1., 0.1, 0.001]
  for row in metrics['per_temperature']:
    assert set(row) == {'temperature', 'mean', 'near_one_hot_fraction',
                        'argmax_class0_fraction'}
    assert len(row['mean']) == 2
    assert sum(row['mean']) == pytest.approx(1., abs=1e-5)


def test_near_one_hot_fraction_grows_as_temperature_falls(run):
  metrics, _ = run
  rows = sorted(metrics['per_temperature'], key=lambda row: -row['temperature'])
  fractions = [row['near_one_hot_fraction'] for row in rows]
  assert fractions == sorted(fractions), fractions
  by_t = _by_temperature(metrics)
  # Exact values: ~4e-20 at T=10, ~0.998 at T=0.001.
  assert by_t[10.]['near_one_hot_fraction'] < 0.05
  assert by_t[0.001]['near_one_hot_fraction'] > 0.95


def test_high_temperature_mean_is_near_uniform(run):
  metrics, _ = run
  mean = _by_temperature(metrics)[10.]['mean']
  # E[y0] at T=10 is 0.5272 (numerical integration; about 0.5 + log(3)/40),
  # with a standard error of 0.001 over 2000 samples: close to 0.5 but above.
  assert 0.5 < mean[0] < 0.55
  assert mean[1] == pytest.approx(1. - mean[0], abs=1e-5)


def test_low_temperature_mean_matches_probs(run):
  metrics, _ = run
  n = metrics['num_samples']
  mean = _by_temperature(metrics)[0.001]['mean']
  # Nearly one-hot samples: the mean is the class frequency, std err <= 0.0097.
  assert mean[0] == pytest.approx(0.75, abs=4 * math.sqrt(0.75 * 0.25 / n))


def test_argmax_frequency_is_probs_at_every_temperature(run):
  metrics, _ = run
  n = metrics['num_samples']
  standard_error = math.sqrt(0.75 * 0.25 / n)
  for row in metrics['per_temperature']:
    assert row['argmax_class0_fraction'] == pytest.approx(
        0.75, abs=4 * standard_error), row


def test_histograms_png_written(run):
  _, out = run
  path = out / 'histograms.png'
  assert path.is_file()
  assert path.stat().st_size > 0
  with open(path, 'rb') as f:
    assert f.read(8) == b'\x89PNG\r\n\x1a\n'
