"""benchmarks/run.py runs end to end (its numbers come from a full run, not here)."""

import json

from tests import scripts


def test_quick_run_writes_every_configuration(tmp_path):
  scripts.load('benchmarks/run.py').main(['--quick', '--out', str(tmp_path)])
  results = json.loads((tmp_path / 'results.json').read_text())
  rows = results['distributions']
  assert len(rows) == 2 * 4 * 3  # dtypes x operations x modes at 32 x 10
  for row in rows:
    assert isinstance(row['seconds']['relaxed_dist'], float)
    assert isinstance(row['seconds']['floor'], float)
    low, median, high = sorted(row['ours_over_floor'])
    assert row['ours_over_floor'] == [median, low, high]  # median, then its interval
    if row['dtype'] == 'float32':
      assert isinstance(row['seconds']['tfp'], float) and row['tfp_over_ours']
  assert [row['jit_compile'] for row in results['vae_train_step']] == [False, True]
