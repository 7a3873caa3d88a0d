"""relaxed_dist: Gumbel-Softmax / Concrete distributions for TensorFlow Probability."""

from relaxed_dist.distributions import ExpRelaxedCategorical
from relaxed_dist.distributions import ExpRelaxedOneHotCategorical
from relaxed_dist.distributions import RelaxedOneHotCategorical
from relaxed_dist.functional import gumbel_softmax
from relaxed_dist.functional import straight_through

__version__ = '0.1.0'

__all__ = [
    'ExpRelaxedCategorical',
    'ExpRelaxedOneHotCategorical',
    'RelaxedOneHotCategorical',
    'gumbel_softmax',
    'straight_through',
]
