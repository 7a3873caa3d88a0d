"""Binarized image datasets for the examples: 8x8 digits and MNIST.

Each loader returns `(train, test, side)`: float32 arrays of 0/1 pixels with
one flattened image per row, and the image side length. Binarization is fixed
(a pixel is 1 when its intensity is above half the maximum), so every run and
every model sees the same data.
"""

import gzip
import pathlib

import numpy as np


def binarize(images, max_value):
  """1 where intensity > max_value / 2, as float32 rows."""
  flat = np.asarray(images, np.float32).reshape(len(images), -1)
  return (flat > max_value / 2).astype(np.float32)


def split(images, test_fraction, seed):
  """A fixed random train/test split."""
  order = np.random.default_rng(seed).permutation(len(images))
  num_test = int(round(len(images) * test_fraction))
  return images[order[num_test:]], images[order[:num_test]]


def load_digits(seed=0):
  """scikit-learn's 1,797 8x8 digits (shipped with it), 20% held out."""
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  train, test = split(binarize(digits.images, 16.), 0.2, seed)
  return train, test, 8


def load_mnist_keras():
  """MNIST through keras.datasets (downloads on first use); its own test split."""
  import keras  # pylint: disable=g-import-not-at-top
  (train, _), (test, _) = keras.datasets.mnist.load_data()
  return binarize(train, 255.), binarize(test, 255.), 28


def read_idx_images(path):
  """Images from an idx3-ubyte file (gzipped or not) as uint8 [n, rows, cols]."""
  opener = gzip.open if str(path).endswith('.gz') else open
  with opener(path, 'rb') as stream:
    data = stream.read()
  magic, count, rows, cols = np.frombuffer(data[:16], '>i4')
  if magic != 2051:
    raise ValueError(f'{path} is not an idx3 image file (magic number {magic}).')
  return np.frombuffer(data[16:], np.uint8).reshape(count, rows, cols)


def load_mnist_idx(data_dir, seed=0):
  """MNIST from idx files in `data_dir` (train-/t10k-images-idx3-ubyte[.gz]).

  With only the t10k file present (as in the project's shared data), 20% of
  it is held out as the test split.
  """
  data_dir = pathlib.Path(data_dir)

  def find(prefix):
    matches = sorted(data_dir.glob(f'{prefix}-images-idx3-ubyte*'))
    return matches[0] if matches else None

  train_file, test_file = find('train'), find('t10k')
  if test_file is None:
    raise FileNotFoundError(
        f'Argument `--data-dir` ({data_dir}) holds no t10k-images-idx3-ubyte[.gz].')
  test = binarize(read_idx_images(test_file), 255.)
  if train_file is None:
    train, test = split(test, 0.2, seed)
  else:
    train = binarize(read_idx_images(train_file), 255.)
  return train, test, 28


def independent_pixel_nll(train, test):
  """Test negative log-likelihood (nats per image) of one Bernoulli per pixel.

  p_j is pixel j's training frequency, smoothed as (ones + 1) / (n + 2).
  """
  p = (train.sum(0) + 1.) / (len(train) + 2.)
  log_likelihood = test * np.log(p) + (1. - test) * np.log1p(-p)
  return float(-log_likelihood.sum(1).mean())
