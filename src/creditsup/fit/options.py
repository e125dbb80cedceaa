"""The options of a fit: the outcome, the training design, the binning, the
model selection, the points scale and the tiers.

:class:`FitOptions` carries every option of
:func:`creditsup.fit.fit_scorecard` as one frozen config, and
:class:`CandidateOptions` the options of the candidate features
(:mod:`~creditsup.fit.candidates`). Bad values raise
:class:`~creditsup.exceptions.ConfigError`.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, model_validator

from creditsup.config import FrozenModel
from creditsup.schemas import TIERS

__all__ = ["CandidateOptions", "FitOptions", "Source"]

Source = Literal["records", "history", "entities", "relationship"]
#: A look-back window in days (``None``: all the past).
Window = Annotated[int, Field(gt=0)] | None
_DEFAULT_SHARES = {4: (0.20, 0.60, 0.15, 0.05), 5: (0.20, 0.55, 0.15, 0.07, 0.03)}


class CandidateOptions(FrozenModel):
    """Which candidate features are generated from the tables.

    Parameters
    ----------
    windows : tuple of int or None
        Look-back windows in days of the counts, shares and aggregates
        (``None``: all the past). Default 90 days, 1 year, 3 years, all.
    sources : tuple of str
        Tables to draw candidates from.
    max_categories : int
        A text column with more distinct values than this is not a category
        (names, addresses, identifiers).
    prefix_lengths : tuple of int
        Industry-code prefixes tried (GB/T 4754: 1 = section, 3 = group ...).
    exclude_columns : tuple of str
        Extra columns never used (any table).
    prior_rows : float
        Shrunken shares and means are generated too: ``prior_rows``
        pseudo-rows at the value over all rows before the cut-off, so a share
        over one inspection is not taken at face value (0: none).
    half_lives : tuple of int
        Half-lives in days of the time-decayed counts generated (a row ``d``
        days old weighs ``0.5 ** (d / half_life)``; default none: on the
        Chicago validation splits they were never chosen).

    Examples
    --------
    >>> CandidateOptions().windows
    (90, 365, 1095, None)
    """

    windows: tuple[Window, ...] = Field(default=(90, 365, 1095, None), min_length=1)
    sources: tuple[Source, ...] = ("records", "history", "entities", "relationship")
    max_categories: int = Field(default=60, ge=2)
    prefix_lengths: tuple[Annotated[int, Field(ge=1)], ...] = (1, 2, 3, 4, 5)
    exclude_columns: tuple[str, ...] = ()
    prior_rows: float = Field(default=2.0, ge=0, allow_inf_nan=False)
    half_lives: tuple[Annotated[int, Field(gt=0)], ...] = ()


class FitOptions(FrozenModel):
    """Options of :func:`creditsup.fit.fit_scorecard`.

    Parameters
    ----------
    horizon_days : int
        The outcome window after each snapshot: an entity's first outcome
        inspection in ``[t, t + horizon_days)`` (clipped at the cut-off).
    outcome, recode_history, outcome_triggers, exclude_results
        The outcome, as in :class:`creditsup.evaluate.BacktestOptions`.
    step_days : int
        Days between training snapshots (and between validation folds).
    outcome_window : {'horizon', 'step'}
        Which inspections label a snapshot's units: the entity's first
        outcome inspection in ``[t, t + horizon_days)`` (``'horizon'``), or in
        ``[t, t + step_days)`` (``'step'``: every inspection of the training
        window labels one unit, from the latest snapshot before it, so no
        unit's features are more than ``step_days`` old and the early
        snapshots, with the least history behind them, do not outnumber the
        late ones). Both are clipped at the cut-off.
    max_snapshots : int
        Most snapshots used (the latest ones).
    min_history_days : int
        A snapshot needs this many days of history before it (counts over a
        window the data do not cover would mislead the fit).
    snapshot_weights : {'units', 'equal'}
        ``'units'``: every unit weighs 1; ``'equal'``: every snapshot weighs
        the same in the bins and the regression (a snapshot far from the
        cut-off has a longer outcome window, so more units, but less history
        behind them). On the Chicago validation splits ``'equal'`` ranked
        entities with history better but all entities no better.
    history_weights : {'none', 'latest', 'population'}
        Re-weight the units (after ``snapshot_weights``) so that the share of
        units whose entity has a history row before its snapshot equals a
        target: ``'latest'``, its share among the units of the latest
        snapshot; ``'population'``, its share among the entities established
        before the cut-off (the population the scorecard will rank).
        Early snapshots see little history (the data begin shortly before
        them), so without it the units without history dominate the fit.
    n_folds : int
        Time-based validation folds inside the training window (0: no
        selection, the first values of the grids are used).
    holdout_days : int
        Days before ``as_of`` held out of the fit and only reported on
        (0: none; rounded up to whole ``step_days``).
    max_n_bins, min_bin_size, max_n_prebins : optional
        Binning: most bins, smallest bin (share of the units), pre-bins.
    min_category_share : float
        Rarer categories are pooled into *other*.
    min_iv : float
        Features with a smaller information value are dropped.
    max_correlation : float
        A candidate whose binned values correlate this much (absolute
        Pearson) with a stronger candidate's is dropped (1: only exact
        duplicates).
    max_candidates : int
        The strongest candidates (by information value) entering the model.
    feature_grid : tuple of int
        Numbers of features tried.
    n_penalties, min_penalty_ratio : int, float
        The L1 penalties tried: ``n_penalties`` values from the smallest
        penalty that keeps every coefficient at zero down to
        ``min_penalty_ratio`` times it.
    tolerance : float
        The simplest model whose mean validation AUC is within this of the
        best is chosen.
    max_units : int
        The regression uses at most this many units (a keyed random subset).
    points_to_double_odds, reference_points : float
        Points scale: ``score = reference_points + points_to_double_odds *
        log2(odds)``, so ``reference_points`` means even odds.
    tier_method : {'quantile', 'rate'}
        Tier cut-offs at shares of the population (``tier_shares``) or where
        the fitted probability reaches ``tier_rates``.
    tiers : tuple of str
        ``('A', 'B', 'C', 'D')`` or with ``'E'``.
    tier_shares, tier_rates : tuple of float
        Per tier share (sums to 1; default 20/60/15/5 %), or the
        ``len(tiers) - 1`` increasing probabilities where tiers change.
    seed : str
        Seeds the subset of units (``max_units``).

    Examples
    --------
    >>> FitOptions(horizon_days=365).tier_shares
    (0.2, 0.6, 0.15, 0.05)
    >>> FitOptions(tier_method="rate")
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: FitOptions: The 'tier_rates' must hold 3 increasing probabilities in (0, 1) with tier_method='rate'. Got () instead.
    """

    horizon_days: int = Field(default=365, ge=1, le=3660)
    outcome: str | None = None
    recode_history: bool = True
    outcome_triggers: tuple[str, ...] = ("random",)
    exclude_results: tuple[str, ...] = ("deregistered", "no_activity")
    step_days: int = Field(default=91, ge=7, le=3660)
    outcome_window: Literal["horizon", "step"] = "horizon"
    max_snapshots: int = Field(default=8, ge=1, le=200)
    min_history_days: int = Field(default=0, ge=0)
    snapshot_weights: Literal["equal", "units"] = "units"
    history_weights: Literal["none", "latest", "population"] = "none"
    n_folds: int = Field(default=3, ge=0, le=20)
    holdout_days: int = Field(default=0, ge=0)
    max_n_bins: int = Field(default=8, ge=2, le=20)
    min_bin_size: float = Field(default=0.02, gt=0, lt=0.5)
    max_n_prebins: int = Field(default=20, ge=2, le=100)
    min_category_share: float = Field(default=0.01, ge=0, lt=0.5)
    min_iv: float = Field(default=0.01, ge=0)
    max_correlation: float = Field(default=0.9, gt=0, le=1)
    max_candidates: int = Field(default=60, ge=1)
    feature_grid: tuple[Annotated[int, Field(ge=1)], ...] = Field(
        default=(8, 12, 16, 20), min_length=1
    )
    n_penalties: int = Field(default=10, ge=1, le=100)
    min_penalty_ratio: float = Field(default=1e-3, gt=0, le=1)
    tolerance: float = Field(default=0.0, ge=0)
    max_units: int = Field(default=50_000, ge=100)
    points_to_double_odds: float = Field(default=20.0, gt=0)
    reference_points: float = 100.0
    tier_method: Literal["quantile", "rate"] = "quantile"
    tiers: tuple[str, ...] = TIERS[:4]
    tier_shares: tuple[Annotated[float, Field(ge=0, le=1)], ...] = ()
    tier_rates: tuple[Annotated[float, Field(gt=0, lt=1)], ...] = ()
    seed: str = "creditsup-fit"

    @model_validator(mode="before")
    @classmethod
    def _fill_shares(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("tier_shares"):
            n = len(data.get("tiers", TIERS[:4]))
            if n in _DEFAULT_SHARES:
                data = {**data, "tier_shares": _DEFAULT_SHARES[n]}
        return data

    @model_validator(mode="after")
    def _check(self) -> FitOptions:
        n = len(self.tiers)
        if self.tiers not in (TIERS[:4], TIERS):
            raise ValueError(
                "The 'tiers' must be ('A', 'B', 'C', 'D') or ('A', 'B', 'C', 'D', "
                f"'E'). Got {self.tiers} instead."
            )
        if len(self.tier_shares) != n or abs(sum(self.tier_shares) - 1) > 1e-6:
            raise ValueError(
                f"The 'tier_shares' must hold {n} shares summing to 1. Got "
                f"{self.tier_shares} instead."
            )
        rates = self.tier_rates
        increasing = all(b > a for a, b in itertools.pairwise(rates))
        if self.tier_method == "rate" and (len(rates) != n - 1 or not increasing):
            raise ValueError(
                f"The 'tier_rates' must hold {n - 1} increasing probabilities in "
                f"(0, 1) with tier_method='rate'. Got {rates} instead."
            )
        return self
