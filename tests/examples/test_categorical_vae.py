"""examples/categorical_vae.py: learns, resumes exactly, and scales out."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests import scripts

SCRIPT = scripts.path('examples/categorical_vae.py')
SMALL = ['--small', '--seed', '3']


def run_script(args, **environment):
  env = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3', **environment}
  return subprocess.Popen([sys.executable, str(SCRIPT), *args], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  out = tmp_path_factory.mktemp('uninterrupted')
  return scripts.load('examples/categorical_vae.py').main(SMALL + ['--out', str(out)]), out


def test_small_run_learns_and_writes_its_figures(uninterrupted):
  metrics, out = uninterrupted
  assert json.loads((out / 'metrics.json').read_text()) == metrics
  test_nelbo = metrics['history']['test_nelbo']
  assert len(test_nelbo) == 3 and test_nelbo[-1] < test_nelbo[0]
  assert metrics['history']['train_nelbo'][-1] < metrics['history']['train_nelbo'][0]
  for name in ('reconstructions.png', 'prior_samples.png', 'elbo.png'):
    assert (out / name).stat().st_size > 1000


def test_resume_after_a_clean_stop_gives_the_same_result(uninterrupted, tmp_path):
  script = scripts.load('examples/categorical_vae.py')
  script.main(SMALL + ['--out', str(tmp_path), '--epochs', '2'])
  # What a kill in the middle of saving epoch 3 leaves behind: never loaded.
  (tmp_path / 'checkpoint_epoch3.keras').write_bytes(b'PK\x03\x04 half-written')
  resumed = script.main(SMALL + ['--out', str(tmp_path), '--resume'])
  assert resumed['history'] == uninterrupted[0]['history']


def test_resume_after_being_killed_mid_epoch_gives_the_same_result(
    uninterrupted, tmp_path):
  # Small batches make an epoch long enough to be killed inside it.
  args = SMALL + ['--out', str(tmp_path), '--batch-size', '4']
  reference = scripts.load('examples/categorical_vae.py').main(SMALL + ['--out', str(tmp_path / 'reference'),
                                          '--batch-size', '4'])
  process = run_script(args)
  state = tmp_path / 'checkpoint_state.json'
  deadline = time.time() + 120
  while not state.exists() and time.time() < deadline:
    time.sleep(0.05)
  time.sleep(0.5)  # well inside epoch 2
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert len(json.loads(state.read_text())['history']['train_nelbo']) < 3
  resumed = run_script(args + ['--resume'])
  output, _ = resumed.communicate(timeout=300)
  assert resumed.returncode == 0, output
  assert 'Resuming after epoch' in output
  metrics = json.loads((tmp_path / 'metrics.json').read_text())
  assert metrics['history'] == reference['history']


def test_mirrored_strategy_runs(tmp_path):
  # Its own process, as a user runs it: strategies created earlier in this
  # process would share collective instance keys with it.
  process = run_script(SMALL + ['--out', str(tmp_path), '--epochs', '1',
                                '--strategy', 'mirrored'])
  output, _ = process.communicate(timeout=300)
  assert process.returncode == 0, output
  assert json.loads((tmp_path / 'metrics.json').read_text())['final_test_nelbo'] < 60


def free_port():
  with socket.socket() as sock:
    sock.bind(('127.0.0.1', 0))
    return sock.getsockname()[1]


def test_two_workers_on_localhost(tmp_path):
  workers = [f'127.0.0.1:{free_port()}', f'127.0.0.1:{free_port()}']
  processes = []
  for index in range(2):
    config = json.dumps({'cluster': {'worker': workers},
                         'task': {'type': 'worker', 'index': index}})
    processes.append(run_script(
        SMALL + ['--out', str(tmp_path), '--epochs', '1', '--strategy', 'multiworker'],
        TF_CONFIG=config))
  outputs = [process.communicate(timeout=300)[0] for process in processes]
  for process, output in zip(processes, outputs):
    assert process.returncode == 0, output
  metrics = json.loads((tmp_path / 'metrics.json').read_text())
  assert metrics['final_test_nelbo'] < 60
  assert (tmp_path / 'worker_1').is_dir()


@pytest.mark.parametrize('estimator', ['straight-through', 'gumbel-rao', 'reinmax',
                                       'gapped-straight-through', 'st-gumbel-softmax'])
def test_every_estimator_trains(estimator, tmp_path):
  metrics = scripts.load('examples/categorical_vae.py').main(
      SMALL + ['--out', str(tmp_path), '--epochs', '2', '--estimator', estimator])
  history = metrics['history']
  assert history['train_nelbo'][1] < history['train_nelbo'][0]
  assert history['test_nelbo'][1] < history['test_nelbo'][0]
