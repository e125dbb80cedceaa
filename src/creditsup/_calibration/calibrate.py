"""Calibrating a scorecard: choose the units, fit, then diagnose.

:func:`calibrate_scorecard` runs the stages :func:`calibration_units` (the
inspections to learn from, each scored the day before it),
:func:`creditsup._calibration.fit.fit_points` (the regression) and the
diagnostics (AUC before and after, tier rates, calibration table).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from creditsup._calibration.fit import fit_points
from creditsup._calibration.metrics import auc_score, calibration_table, tier_rates
from creditsup.exceptions import ConfigError
from creditsup.scoring import (
    Scorecard,
    as_of_timestamp,
    default_scorecard,
    lookup,
    score_entities,
    to_day,
)
from creditsup.scoring._arrays import FloatArray, IntArray
from creditsup.scoring.indicators import Evaluation, evaluate_indicators, points_matrix
from creditsup.scoring.records import PreparedArrays, prepare_arrays
from creditsup.tiers import (
    TierPolicy,
    TierResult,
    apply_overrides,
    override_flags,
    tier_cutoffs,
)

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "CalibrationResult",
    "CalibrationUnits",
    "calibrate_scorecard",
    "calibration_units",
    "outcome_rates",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalibrationResult:
    """A scorecard fitted to past inspection outcomes.

    Attributes
    ----------
    scorecard : Scorecard
        The input scorecard with refitted points (same bins).
    intercept : float
        Log-odds of a problem at score 0: ``logit p = intercept + score *
        ln 2 / points_to_double_odds``.
    points_to_double_odds : float
    auc, auc_before : float
        In-sample AUC of the fitted and of the input scorecard.
    brier : float
        Brier score of the fitted probabilities.
    n_units, n_events : int
        Inspections used and those that found a problem.
    coefficients : DataFrame
        ``indicator, bin, label, points_before, points, n, events`` per bin.
    tier_rates : DataFrame
        ``tier, n, events, rate, rate_lo, rate_hi``: problem rate of the
        inspections by the tier of the entity at the time (fitted scorecard,
        cut-offs of the population as of ``as_of``, overrides applied).
    calibration : DataFrame
        See :func:`calibration_table`.
    units : DataFrame
        ``uscc, date, result, y, score, predicted, tier`` per inspection.
    """

    scorecard: Scorecard
    intercept: float
    points_to_double_odds: float
    auc: float
    auc_before: float
    brier: float
    n_units: int
    n_events: int
    coefficients: pd.DataFrame
    tier_rates: pd.DataFrame
    calibration: pd.DataFrame
    units: pd.DataFrame
    as_of: pd.Timestamp

    def summary(self) -> pd.DataFrame:
        """Key figures as a two-column frame."""
        return pd.DataFrame(
            {
                "metric": [
                    "as_of",
                    "n_units",
                    "n_events",
                    "event_rate",
                    "auc_before",
                    "auc",
                    "brier",
                    "intercept",
                ],
                "value": [
                    str(self.as_of.date()),
                    self.n_units,
                    self.n_events,
                    self.n_events / max(self.n_units, 1),
                    self.auc_before,
                    self.auc,
                    self.brier,
                    self.intercept,
                ],
            }
        )

    def predict_proba(self, score: npt.ArrayLike) -> FloatArray:
        """Probability of a problem at an inspection, given a fitted score."""
        s = np.asarray(score, dtype=np.float64)
        eta = self.intercept + s * np.log(2.0) / self.points_to_double_odds
        return np.asarray(special.expit(eta), dtype=np.float64)


def _unit_tiers(
    dataset: Dataset,
    scorecard: Scorecard,
    policy: TierPolicy,
    cutoffs: Sequence[float],
    score: FloatArray,
    unit_ent: IntArray,
    unit_day: IntArray,
) -> npt.NDArray[np.object_]:
    idx = np.searchsorted(np.asarray(cutoffs, dtype=np.float64), score, side="right")
    flags = override_flags(
        dataset, policy, scorecard=scorecard, unit_ent=unit_ent, unit_day=unit_day
    )
    idx, _ = apply_overrides(idx, flags, policy)
    return np.asarray(policy.tiers, dtype=object)[idx]


@dataclass(frozen=True)
class CalibrationUnits:
    """The inspections a calibration learns from (one unit each).

    ``rows`` are positions in ``history``, ``ent`` the entity rows, ``day``
    the as-of day of each unit (the day before the inspection) and ``y`` 1.0
    when the inspection found a problem.
    """

    rows: IntArray
    ent: IntArray
    day: IntArray
    y: FloatArray


def calibration_units(
    dataset: Dataset,
    prep: PreparedArrays,
    scorecard: Scorecard,
    *,
    day: np.int64,
    exclude_results: Sequence[str],
) -> CalibrationUnits:
    """Inspections dated before ``day`` of entities established the day before.

    Raises
    ------
    ConfigError
        No history, or not both outcomes among at least 2 inspections.
    """
    hist = dataset.history
    if len(hist) == 0:
        raise ConfigError("Calibration needs a non-empty history table. Got 0 rows.")
    hday = pd.to_datetime(hist["date"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    ent_row = lookup(dataset.entities["uscc"], hist["uscc"])
    keep = (
        (hday < day)
        & (ent_row >= 0)
        & ~np.asarray(hist["result"].isin(list(exclude_results)), dtype=bool)
    )
    keep &= np.where(
        ent_row >= 0, prep.est_day[np.maximum(ent_row, 0)] <= hday - 1, False
    )
    rows = np.flatnonzero(keep)
    y = np.asarray(
        hist["result"].iloc[rows].isin(list(scorecard.problem_results)),
        dtype=np.float64,
    )
    if len(rows) < 2 or y.min() == y.max():
        raise ConfigError(
            "Calibration needs inspections before as_of with and without problems. "
            f"Got {len(rows)} inspection(s), {int(y.sum())} with a problem."
        )
    return CalibrationUnits(
        rows=rows,
        ent=ent_row[rows].astype(np.int64),
        day=(hday[rows] - 1).astype(np.int64),
        y=y,
    )


def _bin_matrix(scorecard: Scorecard, ev: Evaluation) -> IntArray:
    """Bin of every unit (rows) for every indicator (columns)."""
    return np.column_stack([ev.bins[i.name] for i in scorecard.indicators]).astype(
        np.int64
    )


def _coefficients(
    before: Scorecard, after: Scorecard, bins: IntArray, y: FloatArray
) -> pd.DataFrame:
    """Per indicator and bin: label, points before and after, units, events."""
    rows = []
    for i, ind in enumerate(before.indicators):
        fit_pts = after.indicators[i].bin_points()
        for j, lab in enumerate(ind.bin_labels()):
            m = bins[:, i] == j
            rows.append(
                {
                    "indicator": ind.name,
                    "bin": j,
                    "label": lab,
                    "points_before": float(ind.bin_points()[j]),
                    "points": float(fit_pts[j]),
                    "n": int(m.sum()),
                    "events": int(y[m].sum()),
                }
            )
    return pd.DataFrame(rows)


def _units_frame(
    hist: pd.DataFrame,
    units: CalibrationUnits,
    score: FloatArray,
    predicted: FloatArray,
    tiers: npt.NDArray[np.object_],
) -> pd.DataFrame:
    rows = units.rows
    return pd.DataFrame(
        {
            "uscc": hist["uscc"].iloc[rows].to_numpy(),
            "date": pd.to_datetime(hist["date"].iloc[rows]).to_numpy(),
            "result": hist["result"].iloc[rows].to_numpy(),
            "y": units.y.astype(np.int64),
            "score": score,
            "predicted": predicted,
            "tier": pd.Series(tiers, dtype="str").to_numpy(),
        }
    )


def _check_options(l2: float, points_to_double_odds: float) -> None:
    if not l2 >= 0:
        raise ConfigError(f"The 'l2' penalty must be >= 0. Got {l2} instead.")
    if not points_to_double_odds > 0:
        raise ConfigError(
            "The 'points_to_double_odds' must be > 0. Got "
            f"{points_to_double_odds} instead."
        )


def calibrate_scorecard(
    dataset: Dataset,
    scorecard: Scorecard | None = None,
    *,
    as_of: date | str | pd.Timestamp,
    tier_policy: TierPolicy | None = None,
    l2: float = 5.0,
    points_to_double_odds: float = 20.0,
    exclude_results: Sequence[str] = ("deregistered",),
) -> CalibrationResult:
    """Refit a scorecard's points on past inspection outcomes (no leakage).

    Parameters
    ----------
    dataset : Dataset
        Its ``history`` holds the outcomes.
    scorecard : Scorecard, optional
        Bins and monotone directions to keep; defaults to the national profile.
    as_of : date, str or Timestamp
        Only inspections dated strictly before it are used; each is scored as of
        the day before the inspection.
    tier_policy : TierPolicy, optional
        For the tier event rates.
    l2 : float
        L2 penalty pulling the log-odds coefficients towards those of the input
        scorecard (not the intercept).
    points_to_double_odds : float
        Points that double the odds of a problem.
    exclude_results : sequence of str
        Results that say nothing about compliance (default ``deregistered``).

    Raises
    ------
    ConfigError
        Bad options, or fewer than 2 usable inspections with both outcomes.
    """
    sc = scorecard if scorecard is not None else default_scorecard()
    pol = tier_policy if tier_policy is not None else TierPolicy()
    _check_options(l2, points_to_double_odds)
    ts = as_of_timestamp(as_of)
    prep = prepare_arrays(dataset, sc)
    units = calibration_units(
        dataset, prep, sc, day=to_day(ts), exclude_results=exclude_results
    )
    ev = evaluate_indicators(dataset, sc, prep, units.ent, units.day)
    bins = _bin_matrix(sc, ev)
    scale = points_to_double_odds / np.log(2.0)
    fitted, intercept = fit_points(sc, ev.inactive, bins, units.y, l2=l2, scale=scale)
    n = len(units.rows)
    before = points_matrix(sc, ev, n).sum(axis=0) + sc.base_points
    after = points_matrix(fitted, ev, n).sum(axis=0) + fitted.base_points
    prob = np.asarray(special.expit(intercept + after / scale), dtype=np.float64)
    pop = score_entities(dataset, fitted, as_of=ts)
    cuts = tier_cutoffs(pop.table["score"], pol)
    tiers = _unit_tiers(dataset, fitted, pol, cuts, after, units.ent, units.day)
    y = units.y
    result = CalibrationResult(
        scorecard=fitted,
        intercept=intercept,
        points_to_double_odds=points_to_double_odds,
        auc=auc_score(y, after),
        auc_before=auc_score(y, before),
        brier=float(np.mean((prob - y) ** 2)),
        n_units=n,
        n_events=int(y.sum()),
        coefficients=_coefficients(sc, fitted, bins, y),
        tier_rates=tier_rates(pol.tiers, tiers, y),
        calibration=calibration_table(y, prob),
        units=_units_frame(dataset.history, units, after, prob, tiers),
        as_of=ts,
    )
    logger.info(
        "Calibrated on %d inspections (%d problems): AUC %.3f -> %.3f",
        result.n_units,
        result.n_events,
        result.auc_before,
        result.auc,
    )
    return result


def outcome_rates(
    tiers: TierResult,
    dataset: Dataset,
    *,
    end: date | str | pd.Timestamp | None = None,
    problem_results: Sequence[str] | None = None,
    exclude_results: Sequence[str] = ("deregistered",),
) -> pd.DataFrame:
    """Problem rate per tier at later inspections: the out-of-time check.

    For every tiered entity, its first inspection dated after the tiers'
    ``as_of`` (and on or before ``end``) is the outcome: 1 when its result is
    a problem.

    Returns
    -------
    DataFrame
        ``tier, n, events, rate, rate_lo, rate_hi`` (Wilson 95 %).
    """
    sc = tiers.scores.scorecard
    probs = (
        list(problem_results)
        if problem_results is not None
        else list(sc.problem_results)
    )
    hist = dataset.history
    start = tiers.as_of
    d = pd.to_datetime(hist["date"])
    m = (d > start) & ~hist["result"].isin(list(exclude_results))
    if end is not None:
        m &= d <= pd.Timestamp(end)
    h = hist.loc[m, ["uscc", "date", "result"]]
    h = h.assign(_y=h["result"].isin(probs).astype(np.int64))
    # first inspection per entity; several on the same day: any problem counts
    h = h.sort_values(["uscc", "date"], kind="stable")
    first = h.groupby("uscc", sort=False)["date"].transform("min")
    h = h[h["date"] == first]
    y = h.groupby("uscc", sort=True)["_y"].max()
    tab = tiers.table.set_index("uscc")
    joined = y.to_frame("y").join(tab[["tier"]], how="inner")
    return tier_rates(
        tiers.policy.tiers, joined["tier"].to_numpy(), joined["y"].to_numpy()
    )
