"""Test session setup: quiet TensorFlow and two logical CPUs for tf.distribute."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

# Must happen before TensorFlow initialises its devices: MirroredStrategy tests
# replicate over these two logical CPUs.
_cpu = tf.config.list_physical_devices('CPU')[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
