"""Relaxed (Concrete / Gumbel-Softmax) distributions, TFP-compatible."""

from relaxed_dist.distributions.clamped_exp import ClampedExp
from relaxed_dist.distributions.exp_relaxed_categorical import ExpRelaxedCategorical
from relaxed_dist.distributions.exp_relaxed_categorical import ExpRelaxedOneHotCategorical
from relaxed_dist.distributions.relaxed_onehot_categorical import RelaxedOneHotCategorical

__all__ = [
    'ClampedExp',
    'ExpRelaxedCategorical',
    'ExpRelaxedOneHotCategorical',
    'RelaxedOneHotCategorical',
]
