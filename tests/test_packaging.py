"""The installed environment: public names, and why numpy is pinned below 2.4."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import relaxed_dist as rd


def test_public_names():
  assert rd.__version__
  assert rd.ExpRelaxedOneHotCategorical is rd.ExpRelaxedCategorical
  for name in rd.__all__:
    assert getattr(rd, name) is not None


def test_numpy_is_below_2_4_while_tfp_0_25_needs_it():
  # TFP 0.25's SoftmaxCentered calls np.reshape(newshape=...), which numpy 2.4
  # removed; it is the default event-space bijector of both categorical
  # relaxations. The round trip below fails with a TypeError on numpy 2.4.
  major, minor = (int(part) for part in np.__version__.split('.')[:2])
  assert (major, minor) < (2, 4)
  bijector = rd.RelaxedOneHotCategorical(
      0.5, logits=[0., 1., 2.]).experimental_default_event_space_bijector()
  assert isinstance(bijector, tfp.bijectors.SoftmaxCentered)
  x = tf.constant([[0.3, -1.2]])
  np.testing.assert_allclose(bijector.inverse(bijector.forward(x)), x, atol=1e-5)
