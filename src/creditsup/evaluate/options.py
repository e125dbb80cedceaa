"""The backtest's options and the policy it evaluates.

:class:`BacktestOptions` carries every option of :func:`creditsup.evaluate.backtest`
as one frozen config (declarative constraints: a bad value raises
:class:`~creditsup.exceptions.ConfigError`). :func:`resolve_policy` reads the
scorecard, tier policy and sampling policy out of a policy object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

import pandas as pd
from pydantic import Field

from creditsup.config import FrozenModel
from creditsup.exceptions import ConfigError
from creditsup.sampling import SamplingPolicy
from creditsup.scoring import Scorecard, default_scorecard
from creditsup.tiers import TierPolicy

__all__ = [
    "BASELINES",
    "BacktestOptions",
    "Baseline",
    "PolicyLike",
    "PolicyParts",
    "as_timestamp",
    "resolve_policy",
]

Baseline = Literal["uniform", "city_risk", "history_rule", "uncalibrated", "previous"]
#: Baselines :func:`backtest` knows (``city_risk`` needs the entity column).
BASELINES: tuple[Baseline, ...] = (
    "uniform",
    "city_risk",
    "history_rule",
    "uncalibrated",
)
ONE_DAY = pd.Timedelta(days=1)


class BacktestOptions(FrozenModel):
    """Options of one backtest (see :func:`creditsup.evaluate.backtest`).

    Parameters
    ----------
    as_of : date or str
        The split: scores use rows dated before it, outcomes rows on or after.
    horizon_days : int, default 365
        Length of the outcome window ``[as_of, as_of + horizon_days)``.
    budget : float, optional
        Expected visits among the evaluated entities: a count (>= 1), or a
        share of them (< 1). ``None``: the policy's tier ratios as they are.
    seeds : int, default 200
        Simulated draws.
    calibrate : bool, default True
        Refit the scorecard's points on inspections before ``as_of`` first.
    outcome : str, optional
        ``'result'`` (a problem result, R19) or a history column (true / > 0
        = event). ``None``: ``problem_found`` when history has it, else
        ``'result'``.
    recode_history : bool, default True
        When the outcome is a history column, re-code ``history.result`` from
        it (event → ``problem_corrected``, else ``normal``) before calibrating
        and scoring, so that "a problem" means the outcome throughout (see
        :func:`creditsup.evaluate.recode_outcome`).
    outcome_triggers : tuple of str, default ('random',)
        Inspections that count as outcomes.
    exclude_results : tuple of str, default ('deregistered', 'no_activity')
        Results that are not outcomes.
    baselines : tuple of str, default BASELINES
        Among :data:`BASELINES`; ``city_risk`` is skipped when the entities
        have no ``city_risk`` column. ``previous`` (a previous scorecard,
        calibrated before ``as_of``) is added whenever one is passed to
        :func:`~creditsup.evaluate.backtest_from_options`.
    n_boot : int, default 1000
        Bootstrap resamples for the AUC intervals.
    seed : str, default 'creditsup-backtest'
        Seeds the bootstrap and the simulated draws.

    Examples
    --------
    >>> opts = BacktestOptions(as_of="2025-01-01", horizon_days=90)
    >>> str(opts.start.date()), str(opts.end.date()), opts.baselines[0]
    ('2025-01-01', '2025-04-01', 'uniform')
    >>> BacktestOptions(as_of="2025-01-01", seeds=0)
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'seeds' of BacktestOptions must be >= 1. Got 0 instead.
    """

    as_of: date
    horizon_days: int = Field(default=365, ge=1)
    budget: float | None = Field(default=None, gt=0)
    seeds: int = Field(default=200, ge=1)
    calibrate: bool = True
    outcome: str | None = None
    recode_history: bool = True
    outcome_triggers: tuple[str, ...] = ("random",)
    exclude_results: tuple[str, ...] = ("deregistered", "no_activity")
    baselines: tuple[Baseline, ...] = BASELINES
    n_boot: int = Field(default=1000, ge=1)
    seed: str = "creditsup-backtest"

    @property
    def start(self) -> pd.Timestamp:
        """The split ``T``: outcomes are dated on or after it."""
        return pd.Timestamp(self.as_of)

    @property
    def end(self) -> pd.Timestamp:
        """The end of the outcome window (excluded): ``T + horizon_days``."""
        return self.start + pd.Timedelta(days=int(self.horizon_days))

    @property
    def scored_as_of(self) -> pd.Timestamp:
        """The day scores are computed as of: ``T - 1 day``."""
        return self.start - ONE_DAY


class PolicyLike(Protocol):
    """What the backtest reads from a policy (e.g. ``creditsup.plan.Policy``)."""

    @property
    def scorecard(self) -> Scorecard: ...

    @property
    def tiers(self) -> TierPolicy: ...

    @property
    def sampling(self) -> SamplingPolicy: ...


@dataclass(frozen=True)
class PolicyParts:
    """The three parts of a policy the backtest uses."""

    scorecard: Scorecard
    tiers: TierPolicy
    sampling: SamplingPolicy


def resolve_policy(policy: PolicyLike | None) -> PolicyParts:
    """The parts of ``policy``; the defaults when it is ``None``.

    Raises
    ------
    ConfigError
        ``policy`` lacks one of ``scorecard``, ``tiers``, ``sampling``.
    """
    if policy is None:
        return PolicyParts(default_scorecard(), TierPolicy(), SamplingPolicy())
    missing = [a for a in ("scorecard", "tiers", "sampling") if not hasattr(policy, a)]
    if missing:
        raise ConfigError(
            "The 'policy' of backtest must carry scorecard, tiers and sampling "
            f"(e.g. creditsup.plan.Policy). Got {type(policy).__name__} without "
            f"{missing} instead."
        )
    return PolicyParts(policy.scorecard, policy.tiers, policy.sampling)


def as_timestamp(value: date | str | pd.Timestamp, what: str) -> pd.Timestamp:
    """``value`` as a midnight timestamp; :class:`ConfigError` when not a date."""
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        raise ConfigError(f"The '{what}' must be a valid date. Got {value!r} instead.")
    return ts.normalize()
