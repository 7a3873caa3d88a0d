"""Keras 3 layers and the temperature annealing callback."""

from relaxed_dist.layers.categorical_kl import CategoricalKL
from relaxed_dist.layers.categorical_kl import categorical_kl
from relaxed_dist.layers.gumbel_softmax import GumbelSoftmax
from relaxed_dist.layers.relaxed_bernoulli import RelaxedBernoulli
from relaxed_dist.layers.relaxed_layer import RelaxedLayer
from relaxed_dist.layers.temperature_annealing import TemperatureAnnealing
from relaxed_dist.layers.temperature_annealing import exponential_schedule

__all__ = [
    'CategoricalKL',
    'GumbelSoftmax',
    'RelaxedBernoulli',
    'RelaxedLayer',
    'TemperatureAnnealing',
    'categorical_kl',
    'exponential_schedule',
]
