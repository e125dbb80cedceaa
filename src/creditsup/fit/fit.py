"""The fit: its stages run in order (see :mod:`creditsup.fit`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup._optional import require
from creditsup.evaluate import BacktestOptions, BacktestResult, recode_outcome
from creditsup.evaluate.backtest import backtest_from_options
from creditsup.evaluate.options import PolicyLike, resolve_policy
from creditsup.evaluate.outcomes import event_column
from creditsup.exceptions import ConfigError
from creditsup.fit.assemble import build_scorecard, fitted_tiers
from creditsup.fit.candidates import (
    Candidate,
    candidate_indicators,
    candidate_values,
    window_key,
)
from creditsup.fit.options import CandidateOptions, FitOptions
from creditsup.fit.result import FitResult, FittedPolicy
from creditsup.fit.select import FittedModel, fit_at
from creditsup.fit.units import Units, training_units
from creditsup.scoring import Indicator, Scorecard, as_of_timestamp

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["fit_scorecard"]

logger = logging.getLogger(__name__)

Candidates = CandidateOptions | Sequence[Indicator] | None


def _candidates(
    view: Dataset, cutoff: pd.Timestamp, candidates: Candidates, base: Scorecard
) -> list[Candidate]:
    if candidates is None or isinstance(candidates, CandidateOptions):
        return candidate_indicators(
            view,
            cutoff=cutoff,
            options=candidates,
            problem_results=base.problem_results,
        )
    return [
        Candidate(i, "categorical" if i.categorical else "numeric") for i in candidates
    ]


def _distinct(cands: Sequence[Candidate], values: dict[str, Any]) -> list[Candidate]:
    """The candidates whose values vary and differ from every earlier one's.

    Of two windows of one statistic with the same values on the training
    units (the data do not reach back far enough to tell them apart), the
    longer one stays: it uses more of the data when the scorecard is used.
    """
    seen: dict[bytes, int] = {}
    out: list[Candidate] = []
    for c in cands:
        v = np.asarray(values[c.name])
        if len(v) == 0 or np.all(v == v[0]) or np.all(np.isnan(v.astype(float))):
            continue
        key = v.tobytes()
        if key not in seen:
            seen[key] = len(out)
            out.append(c)
            continue
        i = seen[key]
        (d_old, w_old), (d_new, w_new) = window_key(out[i]), window_key(c)
        if d_old == d_new and w_new > w_old:
            out[i] = c
    return out


def _features_table(model: FittedModel) -> pd.DataFrame:
    beta = {fb.name: float(b) for fb, b in zip(model.bins, model.beta, strict=True)}
    rows = [
        {
            "feature": fb.name,
            "kind": fb.kind,
            "iv": fb.iv,
            "bins": fb.n_ordered,
            "trend": fb.trend,
            "coefficient": beta.get(fb.name, 0.0),
            "selected": fb.name in beta,
        }
        for fb in model.screened
    ]
    cols = ["feature", "kind", "iv", "bins", "trend", "coefficient", "selected"]
    return pd.DataFrame(rows, columns=cols)


def _coefficients(
    scorecard: Scorecard, model: FittedModel, candidates: Sequence[Candidate]
) -> pd.DataFrame:
    by_name = {fb.name: fb for fb in model.bins}
    names = {c.name: list(c.indicator.categories) for c in candidates}
    rows = []
    for ind in scorecard.indicators:
        fb = by_name[ind.name]
        if fb.kind == "numeric":
            labels = ind.bin_labels()
            pts = ind.bin_points()
        else:
            cats = names[ind.name]
            labels = []
            pts_l = []
            for g in range(fb.n_ordered):
                members = [
                    c for c, b in zip(cats, fb.category_bin, strict=True) if b == g
                ]
                labels.append(
                    ", ".join(members[:8]) + (" ..." if len(members) > 8 else "")
                )
                pts_l.append(ind.categories[members[0]] if members else float("nan"))
            labels += ["(other)", "(missing)"]
            pts = np.asarray([*pts_l, ind.other_points, ind.missing_points])
        for j, label in enumerate(labels):
            n, e = float(fb.n[j]), float(fb.events[j])
            rows.append(
                {
                    "indicator": ind.name,
                    "bin": label,
                    "n": int(n),
                    "events": int(e),
                    "rate": e / n if n > 0 else float("nan"),
                    "points": float(pts[j]),
                }
            )
    return pd.DataFrame(
        rows, columns=["indicator", "bin", "n", "events", "rate", "points"]
    )


def _holdout(
    dataset: Dataset,
    prepared: tuple[list[Candidate], dict[str, Any], Units, Dataset],
    *,
    as_of: pd.Timestamp,
    outcome: str,
    options: FitOptions,
    base: Scorecard,
    parts: Any,
    previous: PolicyLike | None,
) -> BacktestResult | None:
    """The held-out report: fit before the window, backtest on it."""
    cands, values, units, view = prepared
    steps = math.ceil(options.holdout_days / options.step_days)
    start = as_of - pd.Timedelta(days=steps * options.step_days)
    try:
        model = fit_at(cands, values, units, start, options)
    except ConfigError as exc:
        logger.warning("No held-out report: %s", exc)
        return None
    sc = build_scorecard(model, cands, base, options, name="fitted-holdout")
    tiers = fitted_tiers(view, sc, start, options, parts.tiers)
    bt = BacktestOptions(
        as_of=start.date(),
        horizon_days=int((as_of - start).days),
        calibrate=False,
        outcome=outcome,
        recode_history=options.recode_history,
        outcome_triggers=options.outcome_triggers,
        exclude_results=options.exclude_results,
        baselines=("uniform", "city_risk", "history_rule"),
        seed=options.seed,
    )
    return backtest_from_options(
        dataset,
        bt,
        FittedPolicy(sc, tiers, parts.sampling),
        previous=previous if previous is not None else parts,
    )


def fit_scorecard(
    dataset: Dataset,
    *,
    as_of: date | str | pd.Timestamp,
    horizon_days: int | None = None,
    outcome: str | None = None,
    candidates: Candidates = None,
    previous: PolicyLike | None = None,
    options: FitOptions | None = None,
) -> FitResult:
    """Learn a scorecard from the dataset's own history before ``as_of``.

    See :mod:`creditsup.fit` for the procedure. Nothing dated on or after
    ``as_of`` is used: neither a feature, nor a label, nor a category.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset with a history of inspections.
    as_of : date, str or Timestamp
        The cut-off.
    horizon_days : int, optional
        The outcome window after each snapshot (default: ``options``', 365).
    outcome : str, optional
        ``'result'`` or a history column (default: ``problem_found`` when
        history has it, else ``'result'``).
    candidates : CandidateOptions or sequence of Indicator, optional
        How candidates are generated, or the candidate indicators themselves
        (without bins; categorical ones list their categories).
    previous : policy, optional
        The scorecard in use (default: the national profile): it gives the
        problem results, publicity rules, overrides and sampling, and is a
        baseline of the held-out report.
    options : FitOptions, optional

    Returns
    -------
    FitResult

    Raises
    ------
    ConfigError
        Too few training units, or no feature separates them.

    Examples
    --------
    >>> from creditsup.datasets import synthetic_district
    >>> ds = synthetic_district(n_entities=4000, n_inspectors=30, seed="fit")
    >>> res = fit_scorecard(ds, as_of="2026-01-01", horizon_days=365,
    ...                     options=FitOptions(n_folds=1, max_snapshots=3))
    >>> len(res.scorecard.indicators) > 0, res.tiers.method
    (True, 'cutoff')
    """
    base_opts = options if options is not None else FitOptions()
    upd: dict[str, Any] = {}
    if horizon_days is not None:
        upd["horizon_days"] = horizon_days
    if outcome is not None:
        upd["outcome"] = outcome
    opts = FitOptions.model_validate({**base_opts.model_dump(), **upd})
    ts = as_of_timestamp(as_of)
    with require("threadpoolctl", "fit").threadpool_limits(1, user_api="blas"):
        return _fit(dataset, ts, opts, candidates, previous)


def _fit(
    dataset: Dataset,
    ts: pd.Timestamp,
    opts: FitOptions,
    candidates: Candidates,
    previous: PolicyLike | None,
) -> FitResult:
    """The stages of :func:`fit_scorecard` (BLAS on one thread: the many
    small products of the regression run fastest, and reproducibly, so)."""
    parts = resolve_policy(previous)
    base = parts.scorecard
    name, event = event_column(dataset.history, opts.outcome, base.problem_results)
    view = dataset
    if opts.recode_history and name != "result":
        view = recode_outcome(
            dataset,
            name,
            problem_results=base.problem_results,
            keep_results=opts.exclude_results,
        )
    units = training_units(view.entities, view.history, event, cutoff=ts, options=opts)
    cands = _candidates(view, ts, candidates, base)
    values = candidate_values(view, cands, units, base=base)
    cands = _distinct(cands, values)
    logger.info(
        "Fit as of %s: %d units (%d events) in %d snapshots, %d candidates",
        ts.date(),
        len(units),
        int(units.y.sum()),
        len(units.snapshots),
        len(cands),
    )
    holdout = None
    if opts.holdout_days > 0:
        holdout = _holdout(
            dataset,
            (cands, values, units, view),
            as_of=ts,
            outcome=name,
            options=opts,
            base=base,
            parts=parts,
            previous=previous,
        )
    model = fit_at(cands, values, units, ts, opts)
    sc = build_scorecard(model, cands, base, opts)
    tiers = fitted_tiers(view, sc, ts, opts, parts.tiers)
    return FitResult(
        scorecard=sc,
        tiers=tiers,
        options=opts,
        as_of=ts,
        outcome=name,
        intercept=model.intercept,
        selection=model.selection,
        chosen={"ratio": model.ratio, "k": float(model.k)},
        features=_features_table(model),
        coefficients=_coefficients(sc, model, cands),
        n_units=model.n_units,
        n_events=model.n_events,
        n_candidates=len(cands),
        holdout=holdout,
        sampling=parts.sampling,
    )
