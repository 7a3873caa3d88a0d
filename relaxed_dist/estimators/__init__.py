"""Gradient estimators for d/dtheta E_{z ~ p_theta}[f(z)] with z discrete (one-hot).

Every estimator is called as `name(f, logits, *, seed, **options)`, where f maps
samples [..., K] to per-example losses [...], and returns
`Estimate(loss, surrogate)`: f at the discrete sample, and a tensor of the same
value whose gradient (tf.GradientTape, any optimiser, a Keras train step) is the
estimator. `ESTIMATORS` maps names to estimators; `get(name)` looks one up.

| name                    | unbiased | evaluations of f |
|-------------------------|----------|------------------|
| score_function          | yes      | num_samples      |
| straight_through        | no       | 1                |
| gumbel_softmax          | no       | 2 (relaxed, and discrete for the loss) |
| st_gumbel_softmax       | no       | 1                |
| gumbel_rao              | no       | 1                |
| reinmax                 | no       | 1                |
| gapped_straight_through | no       | 1                |
| rebar                   | yes      | 3                |
| relax                   | yes      | 1 (+ 2 of its network) |
"""

from relaxed_dist.estimators.conditional_gumbel import conditional_gumbel
from relaxed_dist.estimators.estimate import Estimate
from relaxed_dist.estimators.gumbel_rao import gumbel_rao
from relaxed_dist.estimators.rebar import rebar
from relaxed_dist.estimators.rebar import RebarParameters
from relaxed_dist.estimators.rebar import relax
from relaxed_dist.estimators.rebar import RelaxControlVariate
from relaxed_dist.estimators.relaxed import gumbel_softmax
from relaxed_dist.estimators.score_function import RunningMeanBaseline
from relaxed_dist.estimators.score_function import score_function
from relaxed_dist.estimators.straight_through import gapped_straight_through
from relaxed_dist.estimators.straight_through import reinmax
from relaxed_dist.estimators.straight_through import st_gumbel_softmax
from relaxed_dist.estimators.straight_through import straight_through

ESTIMATORS = {
    'score_function': score_function,
    'straight_through': straight_through,
    'gumbel_softmax': gumbel_softmax,
    'st_gumbel_softmax': st_gumbel_softmax,
    'gumbel_rao': gumbel_rao,
    'reinmax': reinmax,
    'gapped_straight_through': gapped_straight_through,
    'rebar': rebar,
    'relax': relax,
}


def get(name):
  """The estimator called `name`; a ValueError lists the valid names."""
  try:
    return ESTIMATORS[name]
  except (KeyError, TypeError):
    raise ValueError(f'Argument `name` must be one of {", ".join(ESTIMATORS)}; '
                     f'got {name!r}.') from None


__all__ = [
    'ESTIMATORS',
    'Estimate',
    'RebarParameters',
    'RelaxControlVariate',
    'RunningMeanBaseline',
    'conditional_gumbel',
    'gapped_straight_through',
    'get',
    'gumbel_rao',
    'gumbel_softmax',
    'rebar',
    'reinmax',
    'relax',
    'score_function',
    'st_gumbel_softmax',
    'straight_through',
]
