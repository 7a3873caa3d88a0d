"""Relaxed (Concrete / Gumbel-Softmax) distributions, TFP-compatible."""

from relaxed_dist.distributions.clamped_exp import ClampedExp
from relaxed_dist.distributions.clamped_sigmoid import ClampedSigmoid
from relaxed_dist.distributions.exp_relaxed_categorical import ExpRelaxedCategorical
from relaxed_dist.distributions.exp_relaxed_categorical import ExpRelaxedOneHotCategorical
from relaxed_dist.distributions.logit_relaxed_bernoulli import LogitRelaxedBernoulli
from relaxed_dist.distributions.relaxed_bernoulli import RelaxedBernoulli
from relaxed_dist.distributions.relaxed_onehot_categorical import RelaxedOneHotCategorical
from relaxed_dist.distributions.straight_through import StraightThrough

__all__ = [
    'ClampedExp',
    'ClampedSigmoid',
    'ExpRelaxedCategorical',
    'ExpRelaxedOneHotCategorical',
    'LogitRelaxedBernoulli',
    'RelaxedBernoulli',
    'RelaxedOneHotCategorical',
    'StraightThrough',
]
