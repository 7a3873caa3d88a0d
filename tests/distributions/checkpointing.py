"""A check shared by the distributions' tests: variable parameters round-trip
through a `tf.train.Checkpoint`."""

import numpy as np
import tensorflow as tf


def assert_variable_parameters_survive_a_checkpoint(cls, logits, path):
  """Saves `cls(T, logits)` with variable parameters, overwrites them, restores,
  and expects the same seeded samples and temperature as before."""
  temperature, logits = tf.Variable(0.7), tf.Variable(logits)
  dist = cls(temperature, logits=logits)
  checkpoint = tf.train.Checkpoint(distribution=dist)
  saved = checkpoint.save(path / 'ckpt')
  expected = dist.sample(3, seed=[1, 2])
  temperature.assign(3.)
  logits.assign(tf.zeros_like(logits))
  checkpoint.restore(saved).assert_consumed()
  np.testing.assert_array_equal(dist.sample(3, seed=[1, 2]), expected)
  np.testing.assert_allclose(dist.temperature, 0.7)
