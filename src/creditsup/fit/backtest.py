"""``backtest --fit``: fit on the data before the split, test after it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from creditsup.evaluate import BacktestOptions, BacktestResult
from creditsup.evaluate.backtest import backtest_from_options
from creditsup.evaluate.options import (
    BASELINES,
    PolicyLike,
    resolve_policy,
)
from creditsup.fit.fit import Candidates, fit_scorecard
from creditsup.fit.options import FitOptions
from creditsup.fit.result import FitResult
from creditsup.scoring import as_of_timestamp

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["backtest_fitted"]


def backtest_fitted(
    dataset: Dataset,
    policy: PolicyLike | None = None,
    *,
    as_of: date | str | pd.Timestamp,
    horizon_days: int = 365,
    budget: float | None = None,
    seeds: int = 200,
    outcome: str | None = None,
    candidates: Candidates = None,
    fit_options: FitOptions | None = None,
    baselines: Sequence[str] = BASELINES,
    n_boot: int = 1000,
    seed: str = "creditsup-backtest",
) -> tuple[BacktestResult, FitResult]:
    """Fit a scorecard before ``as_of`` and backtest it after.

    The scorecard is learned by :func:`fit_scorecard` from rows dated before
    ``as_of`` only; the backtest then tiers every entity as of the day
    before and compares the tiers with the outcomes in ``[as_of, as_of +
    horizon_days)``, against the baselines at the same budget. ``policy``
    (default: the national one) gives the sampling ratios, the overrides,
    and the ``previous`` baseline: its scorecard calibrated before
    ``as_of``, as it would have been used.

    Returns
    -------
    BacktestResult, FitResult

    Examples
    --------
    >>> from creditsup.datasets import synthetic_district
    >>> ds = synthetic_district(n_entities=4000, n_inspectors=30, seed="fit")
    >>> res, fit = backtest_fitted(ds, as_of="2025-07-01", horizon_days=180,
    ...     seeds=5, n_boot=50, baselines=("uniform", "history_rule"),
    ...     fit_options=FitOptions(n_folds=1, max_snapshots=3))
    >>> res.methods["method"].tolist()
    ['scorecard', 'uniform', 'history_rule', 'previous']
    """
    ts = as_of_timestamp(as_of)
    opts = fit_options if fit_options is not None else FitOptions()
    fit = fit_scorecard(
        dataset,
        as_of=ts,
        horizon_days=horizon_days,
        outcome=outcome,
        candidates=candidates,
        previous=policy,
        options=FitOptions.model_validate({**opts.model_dump(), "holdout_days": 0}),
    )
    options = BacktestOptions(
        as_of=ts.date(),
        horizon_days=horizon_days,
        budget=budget,
        seeds=seeds,
        calibrate=False,
        outcome=fit.outcome,
        recode_history=fit.options.recode_history,
        outcome_triggers=fit.options.outcome_triggers,
        exclude_results=fit.options.exclude_results,
        baselines=tuple(b for b in baselines if b != "uncalibrated"),
        n_boot=n_boot,
        seed=seed,
    )
    previous = policy if policy is not None else resolve_policy(None)
    result = backtest_from_options(dataset, options, fit.policy, previous=previous)
    return result, fit
