"""relaxed_dist: Gumbel-Softmax / Concrete distributions for TensorFlow Probability."""

from relaxed_dist import estimators
from relaxed_dist import layers
from relaxed_dist.distributions import ExpRelaxedCategorical
from relaxed_dist.distributions import ExpRelaxedOneHotCategorical
from relaxed_dist.distributions import LogitRelaxedBernoulli
from relaxed_dist.distributions import RelaxedBernoulli
from relaxed_dist.distributions import RelaxedOneHotCategorical
from relaxed_dist.distributions import StraightThrough
from relaxed_dist.functional import gumbel_sigmoid
from relaxed_dist.functional import gumbel_softmax
from relaxed_dist.functional import straight_through

__version__ = '0.1.0'

__all__ = [
    'ExpRelaxedCategorical',
    'ExpRelaxedOneHotCategorical',
    'LogitRelaxedBernoulli',
    'RelaxedBernoulli',
    'RelaxedOneHotCategorical',
    'StraightThrough',
    'estimators',
    'gumbel_sigmoid',
    'gumbel_softmax',
    'layers',
    'straight_through',
]
