"""Categorical VAE with the Gumbel-Softmax (Jang, Gu & Poole 2017, section 4.3).

An encoder maps a binarized image to N categorical latents with K classes
each; a GumbelSoftmax layer draws relaxed one-hot codes (straight-through
one-hot codes with `--estimator st-gumbel-softmax`, or the pathwise estimators
straight-through, gumbel-rao, reinmax, gapped-straight-through of
relaxed_dist.estimators); a mirrored decoder gives
Bernoulli pixel logits. The loss is the negative ELBO

    -ELBO(x) = -E_q[log p(x | z)] + sum_n KL(q(z_n | x) || Uniform(K)),

with the analytic KL of the categorical posterior (relaxed_dist.layers.
CategoricalKL) and the temperature annealed by TemperatureAnnealing with
Jang's schedule tau = max(0.5, exp(-r step)), updated every N steps. The test
negative ELBO uses hard one-hot samples of q. On the 8x8 digits it is compared
with an independent Bernoulli per pixel fitted on the training split.

Each epoch is checkpointed into `--out`; `--resume` continues from the last
checkpoint to the same result as an uninterrupted run with the same seed.

    python examples/categorical_vae.py                       # 8x8 digits
    python examples/categorical_vae.py --data-dir ../shared/data/mnist
    python examples/categorical_vae.py --data mnist          # keras.datasets
"""

import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position
import matplotlib  # pylint: disable=g-import-not-at-top,wrong-import-position

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import binarized_images  # pylint: disable=g-import-not-at-top,wrong-import-position

import relaxed_dist as rd  # pylint: disable=g-import-not-at-top,wrong-import-position

DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / 'out' / 'categorical_vae'
STATE = 'checkpoint_state.json'

# Jang et al.'s MNIST settings, and smaller ones that fit the 1,438 8x8 digits.
PRESETS = {
    'mnist': dict(hidden=[512, 256], latents=30, classes=10, epochs=50,
                  batch_size=100, learning_rate=1e-3, anneal_rate=3e-5,
                  anneal_every=1000, min_temperature=0.5),
    'digits': dict(hidden=[256, 128], latents=8, classes=10, epochs=60,
                   batch_size=64, learning_rate=2e-3, anneal_rate=1e-3,
                   anneal_every=100, min_temperature=0.5),
}
SMALL = dict(epochs=3)
# The GumbelSoftmax layer (hard = straight-through), or a pathwise estimator of
# relaxed_dist.estimators: each evaluates the decoder once, at a one-hot code.
LAYER_ESTIMATORS = {'gumbel-softmax': False, 'st-gumbel-softmax': True}
PATHWISE_ESTIMATORS = ['straight-through', 'gumbel-rao', 'reinmax',
                       'gapped-straight-through']
ESTIMATORS = list(LAYER_ESTIMATORS) + PATHWISE_ESTIMATORS


@keras.saving.register_keras_serializable(package='relaxed_dist_examples')
def bernoulli_nll(x, pixel_logits):
  """-log p(x | z) per image: Bernoulli cross-entropy summed over pixels."""
  return tf.reduce_sum(
      tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=pixel_logits), -1)


@keras.saving.register_keras_serializable(package='relaxed_dist_examples')
class CategoricalVAE(keras.Model):
  """x -> logits [N, K] -> z (GumbelSoftmax) -> Bernoulli pixel logits."""

  def __init__(self, input_dim, hidden, latents, classes,
               estimator='gumbel-softmax', seed=0, **kwargs):
    super().__init__(**kwargs)
    self.config = dict(input_dim=input_dim, hidden=list(hidden), latents=latents,
                       classes=classes, estimator=estimator, seed=seed)
    hard = LAYER_ESTIMATORS.get(estimator, True)
    self.encoder = keras.Sequential(
        [keras.layers.Dense(units, activation='relu') for units in hidden]
        + [keras.layers.Dense(latents * classes),
           keras.layers.Reshape([latents, classes])], name='encoder')
    self.kl = rd.layers.CategoricalKL(name='kl_to_uniform')
    self.sampler = rd.layers.GumbelSoftmax(hard=hard, seed=seed, name='gumbel_softmax')
    if estimator not in LAYER_ESTIMATORS:  # Keras tracks the loss otherwise
      self.estimator_loss = keras.metrics.Mean(name='loss')
    self.decoder = keras.Sequential(
        [keras.layers.Flatten()]
        + [keras.layers.Dense(units, activation='relu') for units in reversed(hidden)]
        + [keras.layers.Dense(input_dim)], name='decoder')

  def call(self, x, training=None):
    """Pixel logits; adds the batch-mean -ELBO terms as losses."""
    logits = self.kl(self.encoder(x))
    pixel_logits = self.decoder(self.sampler(logits, training=training))
    self.add_loss(tf.reduce_mean(bernoulli_nll(x, pixel_logits)))
    return pixel_logits

  def train_step(self, data):
    if self.config['estimator'] in LAYER_ESTIMATORS:
      logs = super().train_step(data)
    else:
      logs = self.estimator_train_step(data)
    if isinstance(self.distribute_strategy,
                  tf.distribute.MultiWorkerMirroredStrategy):
      # Keras 3.15 reduces multi-worker step logs with axis=0, which fails on
      # scalars; give them the axis it expects.
      logs = {name: value[tf.newaxis] for name, value in logs.items()}
    return logs

  def estimator_train_step(self, x):
    """One Adam step on the surrogate of a relaxed_dist pathwise estimator.

    The estimators take a loss per row of logits [B, N, K]; the decoder's
    loss is per image, so each of the N latents carries 1/N of it, and the
    N surrogates sum to the image's.
    """
    estimator = rd.estimators.get(self.config['estimator'].replace('-', '_'))
    seed = tf.cast(self.sampler.seed_generator.next(), tf.int32)
    with tf.GradientTape() as tape:
      logits = self.encoder(x)
      latents = self.config['latents']

      def per_latent_loss(z):
        per_image = bernoulli_nll(x, self.decoder(z)) / latents
        return tf.tile(per_image[:, tf.newaxis], [1, latents])

      estimate = estimator(per_latent_loss, logits, seed=seed,
                           temperature=self.sampler.temperature)
      kl = tf.reduce_sum(rd.layers.categorical_kl(logits), -1)
      surrogate = tf.reduce_mean(tf.reduce_sum(estimate.surrogate, -1) + kl)
    variables = self.trainable_variables
    self.optimizer.apply(tape.gradient(surrogate, variables), variables)
    self.estimator_loss.update_state(tf.reduce_sum(estimate.loss, -1) + kl)
    return {'loss': self.estimator_loss.result()}

  @property
  def metrics(self):
    """Keras's loss tracker, or ours when an estimator runs the step."""
    if self.config['estimator'] in LAYER_ESTIMATORS:
      return super().metrics
    return [self.estimator_loss]

  def negative_elbo_hard(self, x, seed):
    """Per-image -ELBO with hard one-hot samples z ~ q (Gumbel-max)."""
    logits = self.encoder(x)
    z = rd.gumbel_softmax(logits, self.sampler.temperature, hard=True, seed=seed)
    kl = tf.reduce_sum(rd.layers.categorical_kl(logits), -1)
    return bernoulli_nll(x, self.decoder(z)) + kl

  def get_config(self):
    return {**super().get_config(), **self.config}


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
  parser.add_argument('--data', choices=['digits', 'mnist'], default='digits')
  parser.add_argument('--data-dir', type=pathlib.Path,
                      help='MNIST idx files (e.g. ../shared/data/mnist); implies MNIST')
  parser.add_argument('--estimator', choices=ESTIMATORS, default='gumbel-softmax')
  parser.add_argument('--epochs', type=int)
  parser.add_argument('--batch-size', type=int)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--out', type=pathlib.Path, default=DEFAULT_OUT)
  parser.add_argument('--resume', action='store_true',
                      help='continue from the checkpoint in --out')
  parser.add_argument('--strategy', choices=['none', 'mirrored', 'multiworker'],
                      default='none')
  parser.add_argument('--small', action='store_true', help='a few epochs, for tests')
  args = parser.parse_args(argv)
  preset = PRESETS['mnist' if args.data_dir or args.data == 'mnist' else 'digits']
  settings = {**preset, **(SMALL if args.small else {})}
  for name in ('epochs', 'batch_size'):
    if getattr(args, name) is not None:
      settings[name] = getattr(args, name)
  return args, settings


def load_data(args):
  if args.data_dir:
    return binarized_images.load_mnist_idx(args.data_dir)
  if args.data == 'mnist':
    return binarized_images.load_mnist_keras()
  return binarized_images.load_digits()


def make_strategy(name):
  if name == 'mirrored':
    return tf.distribute.MirroredStrategy()
  if name == 'multiworker':
    return tf.distribute.MultiWorkerMirroredStrategy()
  return tf.distribute.get_strategy()


def is_chief(strategy):
  resolver = getattr(strategy, 'cluster_resolver', None)
  return resolver is None or resolver.task_id in (None, 0)


def epoch_dataset(train, epoch, settings, seed):
  """The training images in a fixed order per (seed, epoch): resumable."""
  order = np.random.default_rng([seed, epoch]).permutation(len(train))
  data = train[order]
  dataset = tf.data.Dataset.from_tensor_slices(data).batch(
      settings['batch_size'], drop_remainder=True)
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = (
      tf.data.experimental.AutoShardPolicy.DATA)
  return dataset.with_options(options)


def build_model(train, settings, args):
  model = CategoricalVAE(train.shape[1], settings['hidden'], settings['latents'],
                         settings['classes'], estimator=args.estimator,
                         seed=args.seed)
  model.compile(optimizer=keras.optimizers.Adam(settings['learning_rate']))
  model(train[:1])  # builds the weights
  return model


def test_negative_elbo(model, test, seed):
  """Mean hard-sample -ELBO over the test split, with a fixed noise seed."""
  values = [model.negative_elbo_hard(tf.constant(test[i:i + 500]),
                                     seed=tf.constant([seed, i]))
            for i in range(0, len(test), 500)]
  return float(tf.reduce_mean(tf.concat(values, 0)))


def save_figures(model, test, side, history, out, seed):
  rows = 8
  images = test[:rows * 2]
  z = rd.gumbel_softmax(model.encoder(images), model.sampler.temperature,
                        hard=True, seed=[seed, 1])
  reconstructions = tf.sigmoid(model.decoder(z)).numpy()
  figure, axes = plt.subplots(4, rows, figsize=(rows, 4))
  for i in range(rows * 2):
    row, column = 2 * (i // rows), i % rows
    axes[row, column].imshow(images[i].reshape(side, side), cmap='gray')
    axes[row + 1, column].imshow(reconstructions[i].reshape(side, side), cmap='gray')
  for axis in axes.flat:
    axis.axis('off')
  figure.suptitle('test images (rows 1, 3) and reconstructions (rows 2, 4)')
  figure.savefig(out / 'reconstructions.png', dpi=100)
  plt.close(figure)

  num_codes = 64
  classes = np.random.default_rng(seed).integers(
      model.config['classes'], size=[num_codes, model.config['latents']])
  codes = tf.one_hot(classes, model.config['classes'])
  samples = tf.sigmoid(model.decoder(codes)).numpy()
  figure, axes = plt.subplots(8, 8, figsize=(6, 6))
  for axis, image in zip(axes.flat, samples):
    axis.imshow(image.reshape(side, side), cmap='gray')
    axis.axis('off')
  figure.suptitle('decoded from random codes of the uniform prior')
  figure.savefig(out / 'prior_samples.png', dpi=100)
  plt.close(figure)

  figure, axis = plt.subplots(figsize=(6, 4))
  epochs = np.arange(1, len(history['train_nelbo']) + 1)
  axis.plot(epochs, history['train_nelbo'], label='train (relaxed samples)')
  axis.plot(epochs, history['test_nelbo'], label='test (hard samples)')
  axis.set_xlabel('epoch')
  axis.set_ylabel('negative ELBO (nats per image)')
  axis.legend()
  figure.tight_layout()
  figure.savefig(out / 'elbo.png', dpi=100)
  plt.close(figure)


def save_checkpoint(model, history, out):
  """Saves the model, then names it in the state file by an atomic rename.

  A kill at any moment leaves the state file naming a complete model saved
  after the same epoch as its history: a half-written model is never named.
  """
  checkpoint = f'checkpoint_epoch{len(history["train_nelbo"])}.keras'
  model.save(out / checkpoint)
  pending = out / (STATE + '.tmp')
  pending.write_text(json.dumps({'history': history, 'checkpoint': checkpoint}))
  os.replace(pending, out / STATE)
  for old in out.glob('checkpoint_epoch*.keras'):
    if old.name != checkpoint:
      old.unlink()


def main(argv=None):
  args, settings = parse_args(argv)
  strategy = make_strategy(args.strategy)
  keras.utils.set_random_seed(args.seed)
  chief = is_chief(strategy)
  out = args.out if chief else args.out / f'worker_{strategy.cluster_resolver.task_id}'
  out.mkdir(parents=True, exist_ok=True)
  train, test, side = load_data(args)
  baseline = binarized_images.independent_pixel_nll(train, test)

  history = {'train_nelbo': [], 'test_nelbo': [], 'temperature': []}
  with strategy.scope():
    if args.resume and (out / STATE).exists():
      state = json.loads((out / STATE).read_text())
      model = keras.saving.load_model(out / state['checkpoint'])
      history = state['history']
      print(f'Resuming after epoch {len(history["train_nelbo"])} from '
            f'{out / state["checkpoint"]}')
    else:
      model = build_model(train, settings, args)
  annealing = rd.layers.TemperatureAnnealing(
      rd.layers.exponential_schedule(1.0, settings['anneal_rate'],
                                     settings['min_temperature']),
      update_every=settings['anneal_every'])

  print(f'{args.estimator} VAE on {len(train)} training / {len(test)} test images '
        f'({side}x{side}), N={settings["latents"]} K={settings["classes"]}, '
        f'{settings["epochs"]} epochs')
  for epoch in range(len(history['train_nelbo']), settings['epochs']):
    fit = model.fit(epoch_dataset(train, epoch, settings, args.seed),
                    initial_epoch=epoch, epochs=epoch + 1, callbacks=[annealing],
                    shuffle=False,
                    verbose=2 if args.small else 1)
    history['train_nelbo'].append(float(fit.history['loss'][-1]))
    history['temperature'].append(float(fit.history['temperature'][-1]))
    history['test_nelbo'].append(test_negative_elbo(model, test, args.seed))
    print(f'epoch {epoch + 1}: train -ELBO {history["train_nelbo"][-1]:.2f}, '
          f'test -ELBO (hard) {history["test_nelbo"][-1]:.2f}, '
          f'temperature {history["temperature"][-1]:.3f}')
    save_checkpoint(model, history, out)

  metrics = {
      'data': 'mnist' if args.data_dir or args.data == 'mnist' else 'digits',
      'estimator': args.estimator, 'seed': args.seed, 'settings': settings,
      'history': history,
      'final_test_nelbo': history['test_nelbo'][-1],
      'independent_pixel_baseline_nll': baseline,
  }
  (out / 'metrics.json').write_text(json.dumps(metrics, indent=2))
  save_figures(model, test, side, history, out, args.seed)
  print(f'\nTest negative ELBO {metrics["final_test_nelbo"]:.2f} nats per image; '
        f'independent-pixel baseline {baseline:.2f}.')
  print(f'Figures and metrics.json in {out}')
  return metrics


if __name__ == '__main__':
  main()
