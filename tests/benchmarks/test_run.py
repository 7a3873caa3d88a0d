"""benchmarks/run.py runs end to end (its numbers come from a full run, not here)."""

import json

from tests import scripts


def test_quick_run_writes_every_configuration(tmp_path):
  scripts.load('benchmarks/run.py').main(['--quick', '--out', str(tmp_path)])
  results = json.loads((tmp_path / 'results.json').read_text())
  rows = results['distributions']
  assert len(rows) == 2 * 5 * 3  # dtypes x operations x modes at 32 x 10
  for row in rows:
    assert isinstance(row['seconds']['relaxed_dist'], float)
    assert isinstance(row['seconds']['floor'], float)
    low, median, high = sorted(row['ours_over_floor'])
    assert row['ours_over_floor'] == [median, low, high]  # median, then its interval
    if row['dtype'] == 'float32':
      assert isinstance(row['seconds']['tfp'], float) and row['tfp_over_ours']
  assert [row['jit_compile'] for row in results['vae_train_step']] == [False, True]


def test_peak_memory_counts_at_least_the_gradient_for_both():
  # Not a comparison (that is the benchmark's job): the measurement runs, and
  # the peak holds at least the 40 MiB gradient of the 1M x 10 logits.
  memory = scripts.load('benchmarks/run.py').peak_memory_mib()
  assert set(memory) == {'relaxed_dist', 'tfp'}
  assert all(value >= 40 for value in memory.values())
