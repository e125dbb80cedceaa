"""Stage 3: inclusion probabilities of a one-visit draw, at one budget.

Every evaluated entity gets an inclusion probability ``pi``: the policy's
ratio for its tier (``SamplingPolicy.ratios``, clamped by ``ratio_ceiling``;
0 for ``trigger_only_tiers`` and for an entity whose non-exempt visits
earlier in ``T``'s calendar year already reach its tier's cap, R15), scaled
to ``budget`` when one is given. A ranking is turned into a draw with the
same tier sizes and tier probabilities (:func:`rank_inclusion`), so every
method spends the same budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup.evaluate.metrics import dense_ranks
from creditsup.evaluate.score import Evaluated
from creditsup.exceptions import ConfigError
from creditsup.sampling import SamplingPolicy
from creditsup.scoring._arrays import BoolArray, FloatArray, IntArray

__all__ = [
    "CapCheck",
    "Inclusion",
    "cap_check",
    "earlier_visits",
    "rank_inclusion",
    "scale_to_budget",
    "scorecard_inclusion",
    "tier_pi",
]

#: A cap no entity reaches (tiers without an annual cap).
_NO_CAP = 1 << 40


def rank_inclusion(
    score: npt.ArrayLike,
    tier_sizes: Sequence[int],
    tier_pi: Sequence[float],
) -> FloatArray:
    """Inclusion probabilities of a ranking given tier sizes and probabilities.

    Units sorted by ``score`` (ascending: low risk first) fill the tiers in
    order; tier ``t`` covers ``tier_sizes[t]`` positions with probability
    ``tier_pi[t]``. Tied units share the mean probability of the positions
    they occupy, which is the expectation over a random tie-break. The total
    ``sum(pi)`` equals ``sum(tier_sizes * tier_pi)`` whatever the ties.

    Examples
    --------
    >>> rank_inclusion([3, 1, 2, 4], [2, 2], [0.1, 0.5]).tolist()
    [0.5, 0.1, 0.1, 0.5]
    >>> rank_inclusion([1, 1, 1, 2], [2, 2], [0.1, 0.5]).round(4).tolist()
    [0.2333, 0.2333, 0.2333, 0.5]
    """
    s = np.asarray(score, dtype=np.float64)
    sizes = np.asarray(tier_sizes, dtype=np.int64)
    if sizes.sum() != len(s):
        raise ConfigError(
            f"The tier sizes must add up to the number of units ({len(s)}). "
            f"Got {int(sizes.sum())} instead."
        )
    positional = np.repeat(np.asarray(tier_pi, dtype=np.float64), sizes)
    order = np.argsort(s, kind="stable")
    ranks, k = dense_ranks(s[order])
    mean = np.bincount(ranks, weights=positional, minlength=k) / np.bincount(
        ranks, minlength=k
    )
    out = np.empty(len(s), dtype=np.float64)
    out[order] = mean[ranks]
    return out


def earlier_visits(
    hist: pd.DataFrame, ts: pd.Timestamp, exempt: Sequence[str]
) -> pd.Series:
    """Non-exempt visits per entity from 1 January of ``ts``'s year to ``ts``."""
    d = pd.to_datetime(hist["date"])
    jan1 = pd.Timestamp(year=ts.year, month=1, day=1)
    m = (d >= jan1) & (d < ts) & ~hist["trigger"].isin(list(exempt))
    return hist.loc[m].groupby("uscc", sort=True).size()


def tier_pi(sampling: SamplingPolicy, labels: Sequence[str]) -> dict[str, float]:
    """The one-visit inclusion probability of each tier under the policy."""
    out: dict[str, float] = {}
    for t in labels:
        r = float(sampling.ratios.get(t, 0.0))
        if t in sampling.ratio_ceiling:
            r = min(r, float(sampling.ratio_ceiling[t]))
        if t in sampling.trigger_only_tiers:
            r = 0.0
        out[t] = r
    return out


def scale_to_budget(base: FloatArray, budget: float, eligible: BoolArray) -> FloatArray:
    """``min(1, c * base)`` with ``c`` such that the sum over eligible is ``budget``."""
    cap = float((eligible & (base > 0)).sum())
    if budget > cap + 1e-9:
        raise ConfigError(
            f"The 'budget' cannot exceed the number of entities that can be drawn "
            f"({int(cap)}). Got {budget:g} instead."
        )
    b = np.where(eligible, base, 0.0)
    lo, hi = 0.0, 1.0
    while float(np.minimum(1.0, hi * b).sum()) < budget:
        hi *= 2.0
        if hi > 1e12:  # pragma: no cover - defensive
            break
    for _ in range(200):
        mid = (lo + hi) / 2
        if float(np.minimum(1.0, mid * b).sum()) < budget:
            lo = mid
        else:
            hi = mid
    return np.minimum(1.0, hi * b)


@dataclass(frozen=True)
class Inclusion:
    """The scorecard's one-visit draw over the evaluated entities.

    Attributes
    ----------
    tier_ratios : dict of str to float
        The policy's probability per tier (before caps and budget).
    earlier : ndarray of int
        Non-exempt visits of each entity earlier in the year.
    at_cap : ndarray of bool
        Entities whose earlier visits reach their tier's cap (``pi = 0``).
    pi : ndarray of float
        The inclusion probability of each entity.
    sizes, tier_pi : list
        Per tier, among entities not at their cap: how many, and their mean
        ``pi`` (what a baseline ranking is given).
    """

    tier_ratios: dict[str, float]
    earlier: IntArray
    at_cap: BoolArray
    pi: FloatArray
    sizes: list[int]
    tier_pi: list[float]

    @property
    def eligible(self) -> BoolArray:
        """Entities that can be drawn (not at their cap)."""
        return ~self.at_cap

    @property
    def total(self) -> float:
        """Expected visits: ``sum(pi)``."""
        return float(self.pi.sum())


def scorecard_inclusion(
    evaluated: Evaluated,
    hist: pd.DataFrame,
    sampling: SamplingPolicy,
    labels: Sequence[str],
    *,
    start: pd.Timestamp,
    budget: float | None,
) -> Inclusion:
    """Stage: ``pi`` of every evaluated entity under the policy, at the budget.

    ``budget`` is a number of expected visits (>= 1) or a share of the
    evaluated entities (< 1); ``None`` keeps the policy's ratios.
    """
    ev, tier_arr = evaluated.ev, evaluated.tier
    base_pi = tier_pi(sampling, labels)
    earlier = (
        earlier_visits(hist, start, sampling.exempt_triggers)
        .reindex(ev["uscc"])
        .fillna(0)
        .to_numpy(dtype=np.int64)
    )
    caps = [sampling.cap_of(t) for t in tier_arr]
    at_cap = earlier >= np.asarray(
        [_NO_CAP if c is None else c for c in caps], dtype=np.int64
    )
    eligible = ~at_cap
    pi = np.where(eligible, [base_pi[t] for t in tier_arr], 0.0).astype(np.float64)
    if budget is not None:
        if not budget > 0:
            raise ConfigError(f"The 'budget' must be > 0. Got {budget} instead.")
        target = float(budget) * len(ev) if budget < 1 else float(budget)
        pi = scale_to_budget(pi, target, eligible)
    el_tiers = tier_arr[eligible]
    sizes = [int((el_tiers == t).sum()) for t in labels]
    means = [
        float(pi[eligible][el_tiers == t].mean()) if sizes[i] else 0.0
        for i, t in enumerate(labels)
    ]
    return Inclusion(base_pi, earlier, at_cap, pi, sizes, means)


@dataclass(frozen=True)
class CapCheck:
    """The most visits a drawn entity of each tier reaches (earlier + 1), and
    whether every tier's annual cap (R15) holds."""

    max_visits: dict[str, int]
    hold: bool


def cap_check(
    inclusion: Inclusion,
    tier: npt.NDArray[np.object_],
    sampling: SamplingPolicy,
    labels: Sequence[str],
) -> CapCheck:
    """Stage: check the draw against the caps (earlier visits + 1 <= cap)."""
    max_visits: dict[str, int] = {}
    for t in labels:
        m = tier == t
        reach = (inclusion.earlier[m] + 1)[inclusion.pi[m] > 0]
        max_visits[t] = (
            int(reach.max()) if len(reach) else int(inclusion.earlier[m].max(initial=0))
        )
    hold = all(
        sampling.cap_of(t) is None or max_visits[t] <= int(sampling.cap_of(t) or 0)
        for t in labels
    )
    return CapCheck(max_visits, hold)
