"""Stage 3b: the baselines the scorecard is compared with, at the same budget.

``uniform`` (random order: AUC 0.5 by construction), ``city_risk`` (the
entity column ``city_risk``, 1 = high risk, when the dataset has it),
``history_rule`` (``2·critical + serious + failed`` of the entity's last
inspection before ``T``; the counts come from the history columns
``critical_count``, ``serious_count`` and ``failed`` when present, else a
problem result counts as a fail), ``uncalibrated`` (the input scorecard
before calibration, shown for information) and ``previous`` (a previous
scorecard, e.g. the hand-designed one a fitted scorecard would replace, as
it would be used: calibrated before ``T``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.evaluate.inclusion import Inclusion, rank_inclusion
from creditsup.evaluate.options import BacktestOptions
from creditsup.evaluate.outcomes import numeric, truthy
from creditsup.scoring import Scorecard, score_entities
from creditsup.scoring._arrays import FloatArray

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["baseline_inclusion", "history_rule", "method_rankings"]

logger = logging.getLogger(__name__)


def history_rule(
    hist: pd.DataFrame, before: pd.Timestamp, problem_results: Sequence[str]
) -> pd.Series:
    """2·critical + serious + failed of each entity's last inspection before."""
    d = pd.to_datetime(hist["date"])
    h = hist[d < before]
    if len(h) == 0:
        return pd.Series(dtype="float64")
    crit = numeric(h["critical_count"]) if "critical_count" in h else 0.0
    ser = numeric(h["serious_count"]) if "serious_count" in h else 0.0
    fail = (
        truthy(h["failed"])
        if "failed" in h
        else np.asarray(h["result"].isin(list(problem_results)), dtype=bool)
    )
    rule = 2 * crit + ser + fail.astype(np.float64)
    frame = pd.DataFrame({"uscc": h["uscc"], "date": d[d < before], "rule": rule})
    last = frame.groupby("uscc", sort=True)["date"].transform("max")
    frame = frame[frame["date"] == last]
    return frame.groupby("uscc", sort=True)["rule"].max()


def _city_risk(dataset: Dataset, uscc: pd.Series) -> FloatArray | None:
    """``4 - city_risk`` (higher = riskier; unknown = 0), None without the column."""
    if "city_risk" not in dataset.entities.columns:
        logger.info("No 'city_risk' column: the city_risk baseline is skipped.")
        return None
    risk = pd.to_numeric(
        dataset.entities.set_index("uscc")["city_risk"], errors="coerce"
    )
    r = risk.reindex(uscc).to_numpy(dtype=np.float64)
    return np.where(np.isnan(r), 0.0, 4.0 - r)


def method_rankings(
    dataset: Dataset,
    evaluated: pd.DataFrame,
    options: BacktestOptions,
    *,
    view: Dataset,
    scorecard: Scorecard,
    uncalibrated: Scorecard,
    previous: pd.Series | None = None,
) -> dict[str, FloatArray]:
    """Stage: the score of every ranking method (higher = riskier).

    The scorecard's own score first, then the baselines among
    ``options.baselines`` that apply (``uncalibrated`` only when the
    scorecard was calibrated), then ``previous`` when its scores (by USCC)
    are given; ``uniform`` has no ranking. An entity the previous scorecard
    did not rate gets its lowest score.
    """
    uscc = evaluated["uscc"]
    out: dict[str, FloatArray] = {
        "scorecard": evaluated["score"].to_numpy(dtype=np.float64)
    }
    if "city_risk" in options.baselines:
        risk = _city_risk(dataset, uscc)
        if risk is not None:
            out["city_risk"] = risk
    if "history_rule" in options.baselines:
        rule = history_rule(dataset.history, options.start, scorecard.problem_results)
        out["history_rule"] = rule.reindex(uscc).fillna(0.0).to_numpy(dtype=np.float64)
    if "uncalibrated" in options.baselines and options.calibrate:
        raw = score_entities(view, uncalibrated, as_of=options.scored_as_of).table
        out["uncalibrated"] = (
            raw.set_index("uscc")["score"].reindex(uscc).to_numpy(dtype=np.float64)
        )
    if previous is not None:
        prev = previous.reindex(uscc).to_numpy(dtype=np.float64)
        low = float(np.nanmin(prev)) if np.isfinite(prev).any() else 0.0
        out["previous"] = np.where(np.isnan(prev), low, prev)
    return out


def baseline_inclusion(
    ranks: dict[str, FloatArray],
    inclusion: Inclusion,
    baselines: Sequence[str],
) -> dict[str, FloatArray]:
    """Stage: inclusion probabilities of every method at the scorecard's budget.

    The scorecard keeps its own; ``uniform`` gives every eligible entity the
    same; a ranking fills the scorecard's tier sizes with its tier
    probabilities (:func:`~creditsup.evaluate.inclusion.rank_inclusion`).
    """
    eligible = inclusion.eligible
    pis: dict[str, FloatArray] = {"scorecard": inclusion.pi}
    n_el = int(eligible.sum())
    if "uniform" in baselines:
        pis["uniform"] = np.where(eligible, inclusion.total / max(n_el, 1), 0.0)
    for name, s in ranks.items():
        if name == "scorecard":
            continue
        p = np.zeros(len(s), dtype=np.float64)
        p[eligible] = rank_inclusion(s[eligible], inclusion.sizes, inclusion.tier_pi)
        pis[name] = p
    return pis
