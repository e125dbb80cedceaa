"""Calibrating a scorecard on past inspection outcomes (numpy/scipy only).

:func:`calibrate_scorecard` refits the points of a :class:`Scorecard` to the
outcomes of past inspections (``history.result`` with a problem found, R19)
by a binned logistic regression:

* the bins are the scorecard's own bins (its edges and categories are kept);
* every inspection dated strictly before ``as_of`` is one observation, scored
  as of the day *before* the inspection, so only records and inspections
  known before it count (no leakage, not even the inspection's own record);
* monotone indicators keep their direction: ordered bins are coded
  cumulatively (``bin >= j``) and the step coefficients are bounded at zero
  (L-BFGS-B), so fitted points never break ``monotone``;
* a small L2 penalty keeps bins without data at their neighbour's points.

Points are the log-odds coefficients scaled so that ``points_to_double_odds``
points double the odds of a problem (20 by default). Each indicator is then
shifted so that its mean points over the inspections equal those of the input
scorecard (the score keeps a familiar scale; the intercept absorbs the
shift). The L2 penalty pulls every coefficient towards the input scorecard's
own, so bins with little or no data keep their expert points.

The result reports the AUC (before and after), the problem rate per tier with
Wilson 95 % intervals, and a calibration table (predicted against observed, by
decile of predicted risk).
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
from scipy import optimize, special, stats

from creditsup.exceptions import ConfigError
from creditsup.scoring import (
    Indicator,
    Scorecard,
    as_of_timestamp,
    default_scorecard,
    lookup,
    score_entities,
    to_day,
)
from creditsup.scoring.indicators import Evaluation, evaluate_indicators, points_matrix
from creditsup.scoring.records import prepare_arrays
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
    "auc_score",
    "calibrate_scorecard",
    "calibration_table",
    "outcome_rates",
    "wilson_interval",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_Z95 = 1.959963984540054


def wilson_interval(
    events: npt.ArrayLike, n: npt.ArrayLike, *, z: float = _Z95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval of a binomial proportion (vectorised).

    Examples
    --------
    >>> lo, hi = wilson_interval([5], [100])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0215, 0.1118)
    >>> wilson_interval([0], [0])[1].tolist()  # no data: the whole [0, 1]
    [1.0]
    """
    k = np.asarray(events, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(m > 0, k / m, 0.0)
        denom = 1.0 + z * z / m
        centre = (p + z * z / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
    lo = np.where(m > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    hi = np.where(m > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return lo.astype(np.float64), hi.astype(np.float64)


def auc_score(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann–Whitney, ties count one half).

    Examples
    --------
    >>> auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    yy = np.asarray(y, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    n1 = int(yy.sum())
    n0 = len(yy) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[yy].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def calibration_table(
    y: npt.ArrayLike, predicted: npt.ArrayLike, *, groups: int = 10
) -> pd.DataFrame:
    """Observed against predicted event rates by group of predicted risk.

    Units are sorted by predicted probability and split into ``groups``
    near-equal groups (ties broken by position, so the split is deterministic).

    Returns
    -------
    DataFrame
        ``group, n, mean_predicted, observed, observed_lo, observed_hi``.
    """
    yy = np.asarray(y, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    parts = [c for c in np.array_split(order, min(groups, max(len(p), 1))) if len(c)]
    n = np.asarray([len(c) for c in parts], dtype=np.float64)
    ev = np.asarray([yy[c].sum() for c in parts], dtype=np.float64)
    lo, hi = wilson_interval(ev, n)
    return pd.DataFrame(
        {
            "group": np.arange(1, len(parts) + 1),
            "n": n.astype(np.int64),
            "mean_predicted": [float(p[c].mean()) for c in parts],
            "observed": ev / np.maximum(n, 1),
            "observed_lo": lo,
            "observed_hi": hi,
        }
    )


def _rates(
    groups: Sequence[str], label: npt.ArrayLike, y: npt.ArrayLike
) -> pd.DataFrame:
    lab = np.asarray(label, dtype=object)
    yy = np.asarray(y, dtype=np.float64)
    n = np.asarray([(lab == g).sum() for g in groups], dtype=np.float64)
    ev = np.asarray([yy[lab == g].sum() for g in groups], dtype=np.float64)
    lo, hi = wilson_interval(ev, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, ev / n, np.nan)
    return pd.DataFrame(
        {
            "tier": list(groups),
            "n": n.astype(np.int64),
            "events": ev.astype(np.int64),
            "rate": rate,
            "rate_lo": lo,
            "rate_hi": hi,
        }
    )


# --------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class _Design:
    """Columns of the binned logistic design: (indicator, kind, bin) each."""

    owner: list[int]  # indicator position
    first_bin: list[int]  # cumulative: bins >= first_bin (ordered); one-hot: the bin
    cumulative: list[bool]
    lower: list[float | None]
    upper: list[float | None]
    prior: list[float]  # the input scorecard's coefficient (log-odds)


def _design(
    indicators: Sequence[Indicator], active: Sequence[bool], scale: float
) -> _Design:
    owner: list[int] = []
    first: list[int] = []
    cum: list[bool] = []
    lo: list[float | None] = []
    hi: list[float | None] = []
    prior: list[float] = []
    for i, ind in enumerate(indicators):
        if not active[i]:
            continue
        k = ind.n_ordered
        pts = ind.bin_points() / scale
        monotone = ind.monotone != "none"
        for j in range(1, k):
            owner.append(i)
            first.append(j)
            cum.append(monotone)
            lo.append(0.0 if ind.monotone == "increasing" else None)
            hi.append(0.0 if ind.monotone == "decreasing" else None)
            prior.append(float(pts[j] - pts[j - 1] if monotone else pts[j] - pts[0]))
        for j in range(k, len(pts)):  # other / missing bins: free
            owner.append(i)
            first.append(j)
            cum.append(False)
            lo.append(None)
            hi.append(None)
            prior.append(float(pts[j] - pts[0]))
    return _Design(owner, first, cum, lo, hi, prior)


def _matrix(d: _Design, bins: IntArray, indicators: Sequence[Indicator]) -> FloatArray:
    """Design matrix for rows of bin indices (one column per indicator)."""
    x = np.zeros((len(bins), len(d.owner)), dtype=np.float64)
    for c, (i, j, cum) in enumerate(
        zip(d.owner, d.first_bin, d.cumulative, strict=True)
    ):
        b = bins[:, i]
        if cum:
            x[:, c] = (b >= j) & (b < indicators[i].n_ordered)
        else:
            x[:, c] = b == j
    return x


def _fit(
    x: FloatArray, trials: FloatArray, events: FloatArray, d: _Design, l2: float
) -> tuple[float, FloatArray]:
    prior = np.asarray(d.prior, dtype=np.float64)
    theta0 = np.concatenate([[0.0], prior])
    eta0 = x @ prior
    base = float(np.clip(events.sum() / max(trials.sum(), 1.0), 1e-6, 1 - 1e-6))
    theta0[0] = np.log(base / (1 - base)) - float(np.average(eta0, weights=trials))

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        eta = theta[0] + x @ theta[1:]
        dev = theta[1:] - prior
        nll = float(np.sum(trials * np.logaddexp(0.0, eta) - events * eta))
        nll += 0.5 * l2 * float(dev @ dev)
        resid = trials * special.expit(eta) - events
        grad = np.empty_like(theta)
        grad[0] = resid.sum()
        grad[1:] = x.T @ resid + l2 * dev
        return nll, grad

    bounds = [(None, None), *zip(d.lower, d.upper, strict=True)]
    res = optimize.minimize(
        loss,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "gtol": 1e-9},
    )
    if not res.success:  # pragma: no cover - defensive
        logger.warning("Calibration optimiser did not fully converge: %s", res.message)
    theta = np.asarray(res.x, dtype=np.float64)
    return float(theta[0]), theta[1:]


def _bin_coefficients(
    d: _Design, beta: FloatArray, indicators: Sequence[Indicator]
) -> dict[int, FloatArray]:
    """Log-odds of every bin of every active indicator, relative to bin 0."""
    out = {i: np.zeros(len(indicators[i].bin_points())) for i in set(d.owner)}
    for c, (i, j, cum) in enumerate(
        zip(d.owner, d.first_bin, d.cumulative, strict=True)
    ):
        if cum:
            out[i][j : indicators[i].n_ordered] += beta[c]
        else:
            out[i][j] += beta[c]
    return out


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
    if not l2 >= 0:
        raise ConfigError(f"The 'l2' penalty must be >= 0. Got {l2} instead.")
    if not points_to_double_odds > 0:
        raise ConfigError(
            "The 'points_to_double_odds' must be > 0. Got "
            f"{points_to_double_odds} instead."
        )
    ts = as_of_timestamp(as_of)
    day = to_day(ts)
    hist = dataset.history
    if len(hist) == 0:
        raise ConfigError("Calibration needs a non-empty history table. Got 0 rows.")
    hday = pd.to_datetime(hist["date"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    ent_row = lookup(dataset.entities["uscc"], hist["uscc"])
    prep = prepare_arrays(dataset, sc)
    keep = (
        (hday < day)
        & (ent_row >= 0)
        & ~np.asarray(hist["result"].isin(list(exclude_results)), dtype=bool)
    )
    keep &= np.where(
        ent_row >= 0, prep.est_day[np.maximum(ent_row, 0)] <= hday - 1, False
    )
    rows = np.flatnonzero(keep)
    unit_ent = ent_row[rows].astype(np.int64)
    unit_day = (hday[rows] - 1).astype(np.int64)
    y = np.asarray(
        hist["result"].iloc[rows].isin(list(sc.problem_results)), dtype=np.float64
    )
    if len(rows) < 2 or y.min() == y.max():
        raise ConfigError(
            "Calibration needs inspections before as_of with and without problems. "
            f"Got {len(rows)} inspection(s), {int(y.sum())} with a problem."
        )
    ev: Evaluation = evaluate_indicators(dataset, sc, prep, unit_ent, unit_day)
    inds = list(sc.indicators)
    active = [i.name not in ev.inactive for i in inds]
    bins = np.column_stack([ev.bins[i.name] for i in inds]).astype(np.int64)
    # aggregate identical bin patterns: a weighted logistic regression
    patterns, inverse = np.unique(bins, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    trials = np.bincount(inverse).astype(np.float64)
    events = np.bincount(inverse, weights=y).astype(np.float64)
    scale = points_to_double_odds / np.log(2.0)
    d = _design(inds, active, scale)
    x = _matrix(d, patterns, inds)
    intercept0, beta = _fit(x, trials, events, d, l2)
    coef = _bin_coefficients(d, beta, inds)
    # anchor each indicator at the input scorecard's mean points over the units,
    # so the score keeps a familiar scale; the intercept absorbs the shift
    new_points: dict[str, list[float]] = {}
    offset = sc.base_points
    for i, c in coef.items():
        rel = c * scale
        shift = float(
            np.mean(inds[i].bin_points()[bins[:, i]]) - np.mean(rel[bins[:, i]])
        )
        new_points[inds[i].name] = np.round(rel + shift, 2).tolist()
        offset += shift
    fitted = sc.with_points(new_points)
    intercept = intercept0 - offset / scale  # log-odds at score 0
    # diagnostics
    before = points_matrix(sc, ev, len(rows)).sum(axis=0) + sc.base_points
    after = points_matrix(fitted, ev, len(rows)).sum(axis=0) + fitted.base_points
    eta = intercept + after / scale
    prob = np.asarray(special.expit(eta), dtype=np.float64)
    pop = score_entities(dataset, fitted, as_of=ts)
    cuts = tier_cutoffs(pop.table["score"], pol)
    tiers = _unit_tiers(dataset, fitted, pol, cuts, after, unit_ent, unit_day)
    coef_rows = []
    for i, ind in enumerate(inds):
        labels = ind.bin_labels()
        fit_pts = fitted.indicators[i].bin_points()
        for j, lab in enumerate(labels):
            m = bins[:, i] == j
            coef_rows.append(
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
    units = pd.DataFrame(
        {
            "uscc": hist["uscc"].iloc[rows].to_numpy(),
            "date": pd.to_datetime(hist["date"].iloc[rows]).to_numpy(),
            "result": hist["result"].iloc[rows].to_numpy(),
            "y": y.astype(np.int64),
            "score": after,
            "predicted": prob,
            "tier": pd.Series(tiers, dtype="str").to_numpy(),
        }
    )
    result = CalibrationResult(
        scorecard=fitted,
        intercept=intercept,
        points_to_double_odds=points_to_double_odds,
        auc=auc_score(y, after),
        auc_before=auc_score(y, before),
        brier=float(np.mean((prob - y) ** 2)),
        n_units=len(rows),
        n_events=int(y.sum()),
        coefficients=pd.DataFrame(coef_rows),
        tier_rates=_rates(pol.tiers, tiers, y),
        calibration=calibration_table(y, prob),
        units=units,
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
    return _rates(tiers.policy.tiers, joined["tier"].to_numpy(), joined["y"].to_numpy())
