"""Runs examples/estimator_comparison.py with --small and checks what it claims."""

import json
import math

import pytest

from tests import scripts

TOYS = ['bernoulli_t0.45', 'bernoulli_t0.499', 'categorical_k10']
UNBIASED = {'score_function', 'rebar', 'relax'}


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """(metrics returned by main, output directory) of one --small run."""
  out = tmp_path_factory.mktemp('estimator_comparison')
  metrics = scripts.load('examples/estimator_comparison.py').main(
      ['--small', '--out', str(out), '--seed', '1'])
  return metrics, out


def _methods(metrics, toy):
  return {row['method']: row for row in metrics['toys'][toy]['methods']}


def test_metrics_json_matches_returned_metrics(run):
  metrics, out = run
  with open(out / 'metrics.json') as f:
    assert json.load(f) == metrics
  assert metrics['seed'] == 1 and metrics['rows'] == 20_000 and metrics['tune_steps'] == 100
  assert list(metrics['toys']) == TOYS
  for toy in TOYS:
    estimators_seen = {row['estimator'] for row in metrics['toys'][toy]['methods']}
    assert len(estimators_seen) == 9, estimators_seen


def test_bernoulli_exact_gradient_is_sigmoid_prime_times_one_minus_two_t(run):
  metrics, _ = run
  p = 1 / (1 + math.exp(-1.))
  for toy, target in [('bernoulli_t0.45', 0.45), ('bernoulli_t0.499', 0.499)]:
    assert metrics['toys'][toy]['exact'] == pytest.approx([p * (1 - p) * (1 - 2 * target)])


def test_unbiased_estimators_are_within_4_standard_errors(run):
  metrics, _ = run
  for toy in TOYS:
    for row in metrics['toys'][toy]['methods']:
      assert row['unbiased_claimed'] == (row['estimator'] in UNBIASED)
      if row['unbiased_claimed']:
        assert row['within_4_standard_errors'] and row['max_abs_z'] < 4, (toy, row['method'])


def test_biased_estimators_bias_is_measured_and_recorded(run):
  metrics, _ = run
  for toy in TOYS:
    for row in metrics['toys'][toy]['methods']:
      assert len(row['bias']) == len(metrics['toys'][toy]['exact'])
      assert all(math.isfinite(b) for b in row['bias'] + row['standard_error'])
      # ReinMax is exact for the quadratic f of the Bernoulli toys.
      if not row['unbiased_claimed'] and not (row['estimator'] == 'reinmax'
                                              and toy.startswith('bernoulli')):
        assert row['max_abs_z'] > 10, (toy, row['method'])
  assert _methods(metrics, 'bernoulli_t0.45')['reinmax T=1']['within_4_standard_errors']


def test_tuned_rebar_and_relax_have_lower_variance_than_the_score_function(run):
  metrics, _ = run
  for toy in TOYS:
    methods = _methods(metrics, toy)
    score = methods['score_function']['variance']
    for label in ('rebar (tuned)', 'relax (tuned)'):
      row = methods[label]
      assert row['variance'] < score and row['variance'] < row['variance_before_tuning']
    assert metrics['toys'][toy]['tuned_variance_below_score_function'] == {
        'rebar': True, 'relax': True}
  tuned = _methods(metrics, 'bernoulli_t0.45')['rebar (tuned)']['tuned']
  assert set(tuned) == {'eta', 'baseline', 'temperature'}


def test_costs_and_discrete_forward_pass_are_measured(run):
  metrics, _ = run
  methods = _methods(metrics, 'categorical_k10')
  evaluations = {label: row['evaluations_of_f'] for label, row in methods.items()}
  assert evaluations['score_function, leave-one-out x2'] == 2
  assert evaluations['gumbel_softmax T=0.5'] == 2
  assert evaluations['rebar (tuned)'] == 3
  assert evaluations['relax (tuned)'] == evaluations['gumbel_rao T=0.5 x10'] == 1
  assert [label for label, row in methods.items() if not row['discrete_forward']] == [
      'gumbel_softmax T=0.5']


def test_variance_png_written(run):
  _, out = run
  path = out / 'variance.png'
  assert path.is_file() and path.stat().st_size > 0
  with open(path, 'rb') as f:
    assert f.read(8) == b'\x89PNG\r\n\x1a\n'
