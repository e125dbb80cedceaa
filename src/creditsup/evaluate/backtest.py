"""The backtest: its stages run in order (see :mod:`creditsup.evaluate`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from creditsup.evaluate.baselines import baseline_inclusion, method_rankings
from creditsup.evaluate.inclusion import cap_check, scorecard_inclusion
from creditsup.evaluate.metrics import (
    bootstrap_aucs,
    compare_methods,
    simulate_hit_rates,
    uniform_hit_rate,
)
from creditsup.evaluate.options import (
    BASELINES,
    BacktestOptions,
    PolicyLike,
    as_timestamp,
    resolve_policy,
)
from creditsup.evaluate.outcomes import define_outcome, first_outcomes
from creditsup.evaluate.probability import previous_window_map
from creditsup.evaluate.result import BacktestResult
from creditsup.evaluate.score import join_outcomes, score_as_of
from creditsup.evaluate.summary import BacktestStages, assemble
from creditsup.exceptions import ConfigError

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["backtest", "backtest_from_options", "previous_scores"]

logger = logging.getLogger(__name__)


def backtest(
    dataset: Dataset,
    policy: PolicyLike | None = None,
    *,
    as_of: date | str | pd.Timestamp,
    horizon_days: int = 365,
    budget: float | None = None,
    seeds: int = 200,
    calibrate: bool = True,
    outcome: str | None = None,
    recode_history: bool = True,
    outcome_triggers: Sequence[str] = ("random",),
    exclude_results: Sequence[str] = ("deregistered", "no_activity"),
    baselines: Sequence[str] = BASELINES,
    n_boot: int = 1000,
    seed: str = "creditsup-backtest",
) -> BacktestResult:
    """Backtest a policy: tiers as of ``as_of`` against the next inspections.

    See :mod:`creditsup.evaluate` for the protocol and every metric. The
    options are gathered into a :class:`BacktestOptions` and the stages run
    by :func:`backtest_from_options`.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset whose history extends past ``as_of``.
    policy : object, optional
        Anything with ``scorecard``, ``tiers`` and ``sampling`` attributes,
        e.g. :class:`creditsup.plan.Policy`; ``None`` for the defaults.
    as_of : date, str or Timestamp
        The split: scores use rows dated before it, outcomes rows on or after.
    horizon_days, budget, seeds, calibrate, outcome, recode_history : optional
        Fields of :class:`BacktestOptions`, documented there (same defaults).
    outcome_triggers, exclude_results, baselines, n_boot, seed : optional
        Fields of :class:`BacktestOptions`, documented there (same defaults).

    Returns
    -------
    BacktestResult

    Raises
    ------
    ConfigError
        Bad options, no evaluated entity, or a budget that cannot be spent.

    Examples
    --------
    >>> from creditsup.datasets import synthetic_district
    >>> ds = synthetic_district(n_entities=1500, n_inspectors=60, seed="doc",
    ...                         year=2026)
    >>> res = backtest(ds, as_of="2025-01-01", seeds=10, n_boot=50,
    ...                calibrate=False, baselines=("uniform", "history_rule"))
    >>> res.methods["method"].tolist()
    ['scorecard', 'uniform', 'history_rule']
    >>> bool(res.metrics["floor"] > 0)
    True
    """
    options = BacktestOptions(
        as_of=as_timestamp(as_of, "as_of").date(),
        horizon_days=horizon_days,
        budget=budget,
        seeds=seeds,
        calibrate=calibrate,
        outcome=outcome,
        recode_history=recode_history,
        outcome_triggers=tuple(outcome_triggers),
        exclude_results=tuple(exclude_results),
        baselines=tuple(baselines),
        n_boot=n_boot,
        seed=seed,
    )
    return backtest_from_options(dataset, options, policy)


def previous_scores(
    view: Dataset, previous: PolicyLike, *, as_of: pd.Timestamp
) -> pd.Series:
    """Scores (by USCC) of a previous policy's scorecard as it would be used:
    calibrated on inspections before ``as_of`` (as given when there is
    nothing to calibrate on), rated as of the day before."""
    try:
        tiers, _ = score_as_of(view, previous, as_of=as_of, calibrate=True)
    except ConfigError as exc:
        logger.warning("Previous scorecard used as given (%s)", exc)
        tiers, _ = score_as_of(view, previous, as_of=as_of, calibrate=False)
    return tiers.table.set_index("uscc")["score"]


def backtest_from_options(
    dataset: Dataset,
    options: BacktestOptions,
    policy: PolicyLike | None = None,
    *,
    previous: PolicyLike | None = None,
) -> BacktestResult:
    """Run the backtest's stages with options already gathered.

    Same as :func:`backtest` (which builds the :class:`BacktestOptions`).
    With ``previous``, its scorecard (calibrated before ``as_of``, see
    :func:`previous_scores`) is one more baseline, ``previous``, at the same
    budget.
    """
    parts = resolve_policy(policy)
    hist = dataset.history
    outcome = define_outcome(dataset, options, parts.scorecard)
    tiers, cal = score_as_of(
        outcome.view, policy, as_of=options.start, calibrate=options.calibrate
    )
    prev = None
    if previous is not None:
        prev = previous_scores(outcome.view, previous, as_of=options.start)
    outs = first_outcomes(
        hist,
        outcome.event,
        start=options.start,
        end=options.end,
        triggers=options.outcome_triggers,
        exclude_results=options.exclude_results,
    )
    evaluated = join_outcomes(tiers, outs, hist, start=options.start, end=options.end)
    labels = list(parts.tiers.tiers)
    inclusion = scorecard_inclusion(
        evaluated,
        hist,
        parts.sampling,
        labels,
        start=options.start,
        budget=options.budget,
    )
    ranks = method_rankings(
        dataset,
        evaluated.ev,
        options,
        view=outcome.view,
        scorecard=tiers.scores.scorecard,
        uncalibrated=parts.scorecard,
        previous=prev,
    )
    pis = baseline_inclusion(ranks, inclusion, options.baselines)
    y = evaluated.y
    boot = bootstrap_aucs(y, ranks, n_boot=options.n_boot, seed=options.seed)
    hits, drawn = simulate_hit_rates(
        evaluated.ev["uscc"], y, pis, seeds=options.seeds, seed=options.seed
    )
    stages = BacktestStages(
        options=options,
        policy=parts,
        outcome=outcome,
        tiers=tiers,
        calibration=cal,
        evaluated=evaluated,
        inclusion=inclusion,
        caps=cap_check(inclusion, evaluated.tier, parts.sampling, labels),
        rankings=ranks,
        pis=pis,
        methods=compare_methods(y, ranks, pis, boot, hits, drawn),
        hits=hits,
        drawn=drawn,
        probability=previous_window_map(outcome.view, tiers.scores.scorecard, options),
    )
    result = assemble(stages)
    logger.info(
        "Backtest as of %s: %d evaluated, AUC %.3f, hit rate %.3f vs uniform %.3f",
        options.start.date(),
        len(evaluated.ev),
        result.metrics["auc"],
        float(result.methods["hit_rate"].iloc[0]),
        uniform_hit_rate(y, pis),
    )
    return result
