"""Loads a script of examples/ or benchmarks/ as a module: they are folders, not packages."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def path(relative):
  """The script's path, from the repository root."""
  return ROOT / relative


def load(relative):
  """Imports the script at `relative` (e.g. 'examples/temperature_sweep.py')."""
  spec = importlib.util.spec_from_file_location(pathlib.Path(relative).stem, path(relative))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module
