"""Backtesting a policy on past inspection outcomes.

Before a bureau lets tiers steer inspections it asks: on our own past data, do
higher tiers really fail more often, and would the tiered draw have found more
problems than the plain random draw it replaces, at the same budget and with a
floor chance for everyone? :func:`backtest` answers it for one split in time.

Protocol (no leakage)
---------------------
Let ``T = as_of`` and ``H = horizon_days``.

* **Scores and tiers** use only what was known before ``T``: the scorecard
  (calibrated, when ``calibrate=True``, by
  :func:`creditsup._calibration.calibrate_scorecard` on inspections dated
  strictly before ``T``, each scored the day before it) rates every entity
  established by ``T - 1 day`` as of ``T - 1 day``
  (:func:`creditsup.tiers.rate_entities`). Rows dated on or after ``T`` never
  enter: scoring a dataset that also holds later rows gives exactly the
  result of scoring ``dataset.cut(T - 1 day)`` (:func:`score_as_of`, tested).
* **Outcome**: an entity's *first* inspection dated in ``[T, T + H)``
  (``trigger`` in ``outcome_triggers``, by default only random ones, so that
  inspections chosen *because* of a complaint do not flatter the score;
  results that say nothing about compliance, ``deregistered`` and
  ``no_activity``, are skipped). The event is "a problem was found": the
  dataset's own boolean ``history.problem_found`` column when it has one (the
  Chicago import does: a critical violation), else a ``result`` among the
  scorecard's ``problem_results`` (R19); ``outcome=`` picks another history
  column. Several inspections on that first day: any problem counts. Only
  rated entities with an outcome are *evaluated*.
* **One definition of "a problem".** When the outcome is a history column,
  the history results are re-coded from it (:func:`recode_outcome`) before
  calibrating and scoring, so the scorecard learns, counts past problems
  with, and is tested on the same event (``recode_history=False`` keeps the
  dataset's results).

Metrics
-------
* per tier: n, event rate and its Wilson 95 % interval (should rise with the
  tier), mean predicted probability;
* the AUC of the score with a percentile bootstrap interval (``n_boot``
  resamples of the evaluated entities), and paired bootstrap intervals of the
  AUC difference to every baseline;
* calibration: the Brier score of predicted probabilities, against the Brier
  score of a constant forecast. Probabilities come from a one-variable
  logistic (Platt) map of the score fitted on the *previous* window (scores
  as of ``T - H - 1 day``, outcomes in ``[T - H, T)``), so it also uses only
  the past and the same outcome definition;
* entities with no history before ``T``, reported separately;
* **hit rates.** Every evaluated entity gets an inclusion probability ``pi``
  in a one-visit draw: the policy's ratio for its tier (``SamplingPolicy
  .ratios``, clamped by ``ratio_ceiling``; 0 for ``trigger_only_tiers`` and
  for an entity whose non-exempt visits earlier in ``T``'s calendar year
  already reach its tier's cap, R15), scaled to ``budget`` when one is given.
  The *expected* hit rate is computed exactly from these probabilities:
  ``sum(pi * y) / sum(pi)`` (expected events found over expected visits).
  The *simulated* hit rate repeats a Poisson-PRN draw (``u < pi`` with
  ``u = keyed_uniform(uscc, derive_key(seed, "backtest", k))``, the method
  :mod:`creditsup.sampling` uses for ratios) over ``seeds`` keys; every draw
  is checked against the caps (earlier visits + 1 <= cap).
  The uniform draw gives every eligible entity the same ``pi`` at the same
  expected budget. A baseline ranking is turned into a draw with the **same
  tier sizes and tier probabilities** as the scorecard: entities sorted by
  the baseline score fill the tiers from A upwards, and tied entities share
  the average probability of the positions they occupy (the expectation of a
  random tie-break), so all methods spend exactly the same budget;
* the floor (smallest ``pi`` of an evaluated entity), the share of the
  budget spent on tier A, and whether the caps held.

Baselines: ``uniform`` (random order: AUC 0.5 by construction),
``city_risk`` (the entity column ``city_risk``, 1 = high risk, when the
dataset has it), ``history_rule`` (``2·critical + serious + failed`` of the
entity's last inspection before ``T``; the counts come from the history
columns ``critical_count``, ``serious_count`` and ``failed`` when present,
else a problem result counts as a fail), and ``uncalibrated`` (the input
scorecard before calibration, shown for information).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._calibration import (
    CalibrationResult,
    auc_score,
    calibrate_scorecard,
    wilson_interval,
)
from creditsup._random import derive_key, keyed_uniform, stage_rng
from creditsup.exceptions import ConfigError
from creditsup.io import write_csv
from creditsup.sampling import SamplingPolicy
from creditsup.scoring import Scorecard, default_scorecard, score_entities
from creditsup.tiers import TierPolicy, TierResult, rate_entities

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "BASELINES",
    "BacktestResult",
    "auc_interval",
    "auc_score",
    "backtest",
    "bootstrap_aucs",
    "brier_score",
    "expected_hit_rate",
    "rank_inclusion",
    "recode_outcome",
    "score_as_of",
    "simulate_hit_rates",
    "wilson_interval",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Baselines :func:`backtest` knows (``city_risk`` needs the entity column).
BASELINES = ("uniform", "city_risk", "history_rule", "uncalibrated")
#: History column that, when present, defines the outcome (a boolean).
OUTCOME_COLUMN = "problem_found"
_ONE_DAY = pd.Timedelta(days=1)
_TRUE = ("true", "1", "1.0", "yes", "y", "t")


class _PolicyLike(Protocol):
    """What :func:`backtest` reads from a policy (e.g. ``creditsup.plan.Policy``)."""

    @property
    def scorecard(self) -> Scorecard: ...

    @property
    def tiers(self) -> TierPolicy: ...

    @property
    def sampling(self) -> SamplingPolicy: ...


# --------------------------------------------------------------------------- metrics


def brier_score(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean squared difference between outcomes (0/1) and probabilities.

    Examples
    --------
    >>> brier_score([0, 1, 1, 0], [0.1, 0.9, 0.6, 0.4])
    0.085
    """
    yy = np.asarray(y, dtype=np.float64)
    pp = np.asarray(p, dtype=np.float64)
    if len(yy) == 0:
        return float("nan")
    return float(np.round(np.mean((pp - yy) ** 2), 12))


def expected_hit_rate(y: npt.ArrayLike, pi: npt.ArrayLike) -> float:
    """Expected events found over expected visits: ``sum(pi*y) / sum(pi)``.

    Exact for a draw with inclusion probabilities ``pi`` (it is the ratio of
    the expected number of drawn entities with an event to the expected
    number drawn).

    Examples
    --------
    >>> expected_hit_rate([1, 0, 0, 1], [0.4, 0.1, 0.1, 0.4])
    0.8
    >>> expected_hit_rate([1, 0, 0, 1], [0.25] * 4)  # uniform: the base rate
    0.5
    """
    yy = np.asarray(y, dtype=np.float64)
    pp = np.asarray(pi, dtype=np.float64)
    total = float(pp.sum())
    if total <= 0:
        return float("nan")
    return float(np.round((pp * yy).sum() / total, 12))


def _dense_ranks(score: FloatArray) -> tuple[npt.NDArray[np.int64], int]:
    uniq, inv = np.unique(score, return_inverse=True)
    return inv.ravel().astype(np.int64), len(uniq)


def _weighted_auc(
    y: BoolArray, score: FloatArray, weights: npt.NDArray[np.int64]
) -> FloatArray:
    """AUC (ties = 1/2) of each row of integer ``weights`` (bootstrap counts)."""
    b = weights.shape[0]
    ranks, k = _dense_ranks(score)
    flat = (np.arange(b, dtype=np.int64)[:, None] * k + ranks[None, :]).ravel()
    w = weights.astype(np.float64)
    pos = np.bincount(flat, weights=(w * y[None, :]).ravel(), minlength=b * k)
    neg = np.bincount(flat, weights=(w * ~y[None, :]).ravel(), minlength=b * k)
    pos = pos.reshape(b, k)
    neg = neg.reshape(b, k)
    below = np.cumsum(neg, axis=1) - neg
    n1 = pos.sum(axis=1)
    n0 = neg.sum(axis=1)
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where((n1 > 0) & (n0 > 0), num / (n1 * n0), np.nan)
    return np.asarray(auc, dtype=np.float64)


def bootstrap_aucs(
    y: npt.ArrayLike,
    scores: Mapping[str, npt.ArrayLike],
    *,
    n_boot: int = 1000,
    seed: str = "creditsup-backtest",
    chunk: int = 100,
) -> pd.DataFrame:
    """AUCs of several scores on the same bootstrap resamples (paired).

    Each resample draws the units with replacement; every score is evaluated
    on the same resamples, so differences between columns have paired
    intervals. Vectorised: the resamples are integer weights, and the AUC of
    a weighted sample comes from per-rank event counts.

    Returns
    -------
    DataFrame
        One row per resample, one column per score.

    Examples
    --------
    >>> boot = bootstrap_aucs([0, 0, 1, 1, 0, 1], {"s": [1, 2, 3, 4, 2, 1]},
    ...                       n_boot=200)
    >>> boot.shape
    (200, 1)
    """
    yy = np.asarray(y, dtype=bool)
    n = len(yy)
    if n_boot < 1:
        raise ConfigError(f"The 'n_boot' must be >= 1. Got {n_boot} instead.")
    rng = stage_rng(seed, "auc-bootstrap")
    out: dict[str, list[FloatArray]] = {name: [] for name in scores}
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in scores.items()}
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        rows = np.repeat(np.arange(b, dtype=np.int64), n)
        counts = np.bincount(rows * n + idx.ravel(), minlength=b * n).reshape(b, n)
        for name, s in arrays.items():
            out[name].append(_weighted_auc(yy, s, counts))
        done += b
    return pd.DataFrame({k: np.concatenate(v) for k, v in out.items()})


def auc_interval(
    y: npt.ArrayLike,
    score: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: str = "creditsup-backtest",
) -> tuple[float, float, float]:
    """The AUC of ``score`` and its percentile bootstrap interval.

    Examples
    --------
    >>> auc, lo, hi = auc_interval([0, 0, 1, 1, 0, 1, 1, 0],
    ...                            [1, 2, 3, 4, 1, 5, 2, 3], n_boot=300)
    >>> round(auc, 4), lo < auc < hi
    (0.875, True)
    """
    boot = bootstrap_aucs(y, {"s": score}, n_boot=n_boot, seed=seed)["s"]
    a = (1 - level) / 2
    lo, hi = np.nanquantile(boot.to_numpy(), [a, 1 - a])
    return auc_score(y, score), float(lo), float(hi)


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
    ranks, k = _dense_ranks(s[order])
    mean = np.bincount(ranks, weights=positional, minlength=k) / np.bincount(
        ranks, minlength=k
    )
    out = np.empty(len(s), dtype=np.float64)
    out[order] = mean[ranks]
    return out


def simulate_hit_rates(
    ids: npt.ArrayLike,
    y: npt.ArrayLike,
    pis: Mapping[str, npt.ArrayLike],
    *,
    seeds: int = 200,
    seed: str = "creditsup-backtest",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hit rates of Poisson-PRN draws over ``seeds`` keys (common random numbers).

    In draw ``k`` unit ``i`` is drawn iff ``u_ik < pi_i`` with ``u_ik =
    keyed_uniform(ids, derive_key(seed, "backtest", k))``: a keyed hash of the
    identifier, so the draw does not depend on row order. Every method uses
    the same ``u`` in a given draw, which makes their comparison paired.

    Returns
    -------
    hit_rates, drawn : DataFrame, DataFrame
        One row per draw and one column per method: the share of drawn units
        with an event, and the number drawn.

    Examples
    --------
    >>> ids = [f"u{i}" for i in range(1000)]
    >>> y = [i % 4 == 0 for i in range(1000)]
    >>> hits, n = simulate_hit_rates(ids, y, {"all": [0.5] * 1000}, seeds=50)
    >>> bool(abs(hits["all"].mean() - 0.25) < 0.02), hits.shape
    (True, (50, 1))
    """
    if seeds < 1:
        raise ConfigError(f"The 'seeds' must be >= 1. Got {seeds} instead.")
    idv = np.asarray(pd.Series(np.asarray(ids, dtype=object)).astype(str), dtype=object)
    yy = np.asarray(y, dtype=bool)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in pis.items()}
    hits = {k: np.empty(seeds, dtype=np.float64) for k in arrays}
    drawn = {k: np.empty(seeds, dtype=np.int64) for k in arrays}
    for k in range(seeds):  # one vectorised draw per key
        u = keyed_uniform(idv, derive_key(seed, "backtest", k))
        for name, pi in arrays.items():
            d = u < pi
            nd = int(d.sum())
            drawn[name][k] = nd
            hits[name][k] = float(yy[d].sum()) / nd if nd else np.nan
    return pd.DataFrame(hits), pd.DataFrame(drawn)


def _platt(score: FloatArray, y: FloatArray) -> tuple[float, float] | None:
    """Logistic fit ``logit p = a + b * z(score)`` by Newton steps; None if
    degenerate."""
    if len(score) < 20 or y.min() == y.max():
        return None
    mu, sd = float(score.mean()), float(score.std())
    z = (score - mu) / (sd if sd > 0 else 1.0)
    x = np.column_stack([np.ones_like(z), z])
    beta = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        w = p * (1 - p)
        hess = x.T @ (x * w[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, x.T @ (y - p))
        beta += step
        if float(np.abs(step).max()) < 1e-10:
            break
    scale = sd if sd > 0 else 1.0
    b = float(beta[1] / scale)
    return float(beta[0] - b * mu), b


# --------------------------------------------------------------------------- policy


def _resolve(
    policy: _PolicyLike | None,
) -> tuple[Scorecard, TierPolicy, SamplingPolicy]:
    if policy is None:
        return default_scorecard(), TierPolicy(), SamplingPolicy()
    missing = [a for a in ("scorecard", "tiers", "sampling") if not hasattr(policy, a)]
    if missing:
        raise ConfigError(
            "The 'policy' of backtest must carry scorecard, tiers and sampling "
            f"(e.g. creditsup.plan.Policy). Got {type(policy).__name__} without "
            f"{missing} instead."
        )
    return policy.scorecard, policy.tiers, policy.sampling


def _timestamp(value: date | str | pd.Timestamp, what: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        raise ConfigError(f"The '{what}' must be a valid date. Got {value!r} instead.")
    return ts.normalize()


def recode_outcome(
    dataset: Dataset,
    outcome: str,
    *,
    problem_results: Sequence[str] = ("problem_corrected",),
    keep_results: Sequence[str] = ("deregistered", "no_activity"),
) -> Dataset:
    """A copy of ``dataset`` whose history results follow an outcome column.

    Rows whose ``outcome`` column is true (or > 0) get ``problem_corrected``
    (or the first of ``problem_results`` if that is not among them), the
    others ``normal``; rows with a result in ``keep_results`` keep it. The
    re-coding is row by row, so it leaks nothing across time. The backtest
    uses it so that the scorecard is calibrated on, scored with and tested on
    one definition of "a problem" (e.g. Chicago's critical violations rather
    than any violation).

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> h = pd.DataFrame({"uscc": ["x"] * 3, "result": ["problem_corrected",
    ...     "normal", "no_activity"], "critical": ["0", "2", "1"]})
    >>> recode_outcome(Dataset(entities=pd.DataFrame(), history=h),
    ...                "critical").history["result"].tolist()
    ['normal', 'problem_corrected', 'no_activity']
    """
    hist = dataset.history
    if outcome not in hist.columns:
        raise ConfigError(
            f"The 'outcome' must be a column of history. Got {outcome!r} instead."
        )
    problem = (
        "problem_corrected"
        if "problem_corrected" in problem_results
        else str(problem_results[0])
    )
    event = _truthy(hist[outcome])
    keep = np.asarray(hist["result"].isin(list(keep_results)), dtype=bool)
    result = np.where(
        keep, hist["result"].to_numpy(dtype=object), np.where(event, problem, "normal")
    )
    new = hist.assign(result=pd.Series(result, index=hist.index, dtype="str"))
    return dataclasses.replace(dataset, history=new)


def score_as_of(
    dataset: Dataset,
    policy: _PolicyLike | None = None,
    *,
    as_of: date | str | pd.Timestamp,
    calibrate: bool = True,
) -> tuple[TierResult, CalibrationResult | None]:
    """Tiers as known before ``as_of``: calibrate (optional), then rate.

    The scorecard is calibrated on inspections dated strictly before
    ``as_of`` and every entity is rated as of the day before ``as_of``, so
    only rows dated before ``as_of`` matter: the result on ``dataset`` equals
    the result on ``dataset.cut(as_of - 1 day)``.

    Returns
    -------
    TierResult, CalibrationResult or None
        The tiers (``.table``: ``uscc, score, tier, tier_reason, reasons``)
        and the calibration (``None`` when ``calibrate=False``).
    """
    sc, tp, _ = _resolve(policy)
    ts = _timestamp(as_of, "as_of")
    cal = None
    if calibrate:
        cal = calibrate_scorecard(dataset, sc, as_of=ts, tier_policy=tp)
        sc = cal.scorecard
    tiers = rate_entities(dataset, as_of=ts - _ONE_DAY, scorecard=sc, tier_policy=tp)
    return tiers, cal


# --------------------------------------------------------------------------- pieces


def _truthy(s: pd.Series) -> npt.NDArray[np.bool_]:
    if pd.api.types.is_bool_dtype(s):
        return np.asarray(s.fillna(False), dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        return np.asarray(s.fillna(0) > 0, dtype=bool)
    text = s.astype("str").str.strip().str.lower()
    num = pd.to_numeric(text, errors="coerce")
    return np.asarray(text.isin(_TRUE).fillna(False) | (num.fillna(0) > 0), dtype=bool)


def _numeric(s: pd.Series) -> FloatArray:
    return pd.to_numeric(s, errors="coerce").fillna(0).to_numpy(dtype=np.float64)


def _event_column(
    hist: pd.DataFrame, outcome: str | None, problem_results: Sequence[str]
) -> tuple[str, npt.NDArray[np.bool_]]:
    name = outcome
    if name is None:
        name = OUTCOME_COLUMN if OUTCOME_COLUMN in hist.columns else "result"
    if name == "result":
        return name, np.asarray(hist["result"].isin(list(problem_results)), dtype=bool)
    if name not in hist.columns:
        raise ConfigError(
            f"The 'outcome' must be 'result' or a column of history. Got {name!r} "
            "instead."
        )
    return name, _truthy(hist[name])


def _first_outcomes(
    hist: pd.DataFrame,
    event: npt.NDArray[np.bool_],
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    triggers: Sequence[str],
    exclude_results: Sequence[str],
) -> pd.DataFrame:
    """``uscc, first_date, y`` of each entity's first inspection in [start, end)."""
    d = pd.to_datetime(hist["date"])
    m = (
        (d >= start)
        & (d < end)
        & hist["trigger"].isin(list(triggers))
        & ~hist["result"].isin(list(exclude_results))
    )
    h = pd.DataFrame(
        {"uscc": hist.loc[m, "uscc"], "date": d[m], "y": event[np.asarray(m)]}
    )
    if len(h) == 0:
        return pd.DataFrame(
            {
                "uscc": pd.Series(dtype="str"),
                "first_date": pd.Series(dtype="datetime64[us]"),
                "y": pd.Series(dtype=bool),
            }
        )
    first = h.groupby("uscc", sort=True)["date"].transform("min")
    h = h[h["date"] == first]
    out = h.groupby("uscc", sort=True).agg(first_date=("date", "min"), y=("y", "max"))
    return out.reset_index()


def _history_rule(
    hist: pd.DataFrame, before: pd.Timestamp, problem_results: Sequence[str]
) -> pd.Series:
    """2·critical + serious + failed of each entity's last inspection before."""
    d = pd.to_datetime(hist["date"])
    h = hist[d < before]
    if len(h) == 0:
        return pd.Series(dtype="float64")
    crit = _numeric(h["critical_count"]) if "critical_count" in h else 0.0
    ser = _numeric(h["serious_count"]) if "serious_count" in h else 0.0
    fail = (
        _truthy(h["failed"])
        if "failed" in h
        else np.asarray(h["result"].isin(list(problem_results)), dtype=bool)
    )
    rule = 2 * crit + ser + fail.astype(np.float64)
    frame = pd.DataFrame({"uscc": h["uscc"], "date": d[d < before], "rule": rule})
    last = frame.groupby("uscc", sort=True)["date"].transform("max")
    frame = frame[frame["date"] == last]
    return frame.groupby("uscc", sort=True)["rule"].max()


def _earlier_visits(
    hist: pd.DataFrame, ts: pd.Timestamp, exempt: Sequence[str]
) -> pd.Series:
    """Non-exempt visits per entity from 1 January of ``ts``'s year to ``ts``."""
    d = pd.to_datetime(hist["date"])
    jan1 = pd.Timestamp(year=ts.year, month=1, day=1)
    m = (d >= jan1) & (d < ts) & ~hist["trigger"].isin(list(exempt))
    return hist.loc[m].groupby("uscc", sort=True).size()


def _tier_pi(sampling: SamplingPolicy, labels: Sequence[str]) -> dict[str, float]:
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


def _scale_to_budget(
    base: FloatArray, budget: float, eligible: BoolArray
) -> FloatArray:
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


def _rates_by(
    labels: Sequence[str], group: npt.NDArray[np.object_], y: BoolArray
) -> pd.DataFrame:
    n = np.asarray([(group == g).sum() for g in labels], dtype=np.float64)
    ev = np.asarray([y[group == g].sum() for g in labels], dtype=np.float64)
    lo, hi = wilson_interval(ev, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, ev / n, np.nan)
    return pd.DataFrame(
        {
            "n": n.astype(np.int64),
            "events": ev.astype(np.int64),
            "rate": rate,
            "rate_lo": lo,
            "rate_hi": hi,
        }
    )


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, pd.Timestamp):
        return str(x.date())
    return x


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class BacktestResult:
    """The outcome of :func:`backtest`.

    Attributes
    ----------
    scores : DataFrame
        Every rated entity: ``uscc, score, tier, tier_reason, evaluated,
        y, first_date, has_history, predicted, pi`` (``y``/``first_date`` empty
        and ``pi`` 0 when not evaluated), sorted by ``uscc``.
    tiers : DataFrame
        Per tier (evaluated entities): ``tier, n, events, rate, rate_lo,
        rate_hi, mean_predicted, pi, expected_visits, budget_share``.
    methods : DataFrame
        Per method (``scorecard`` and the baselines): ``auc, auc_lo, auc_hi,
        auc_diff_lo, auc_diff_hi`` (paired bootstrap interval of the
        scorecard's AUC minus this method's), ``hit_rate`` (exact expected),
        ``hit_rate_sim``, ``hit_rate_sim_lo``, ``hit_rate_sim_hi`` (mean and
        95 % range over the simulated draws), ``lift`` (hit rate over the
        uniform draw's), ``scorecard_wins`` (share of draws in which the
        scorecard's draw found a larger share of events), ``expected_visits``,
        ``floor``.
    groups : DataFrame
        Evaluated entities with and without history before ``as_of``:
        ``group, n, events, rate, rate_lo, rate_hi, auc, mean_score``.
    metrics : dict
        Everything above as JSON-able figures, plus the protocol.
    simulations : DataFrame
        Per draw and method: ``draw, method, hit_rate, drawn``.
    rankings : DataFrame
        Evaluated entities: ``uscc, y`` and the score of every ranking method
        (``scorecard``, ``city_risk``, ...; higher = riskier).
    scorecard : Scorecard
        The scorecard evaluated (calibrated when asked).
    calibration : CalibrationResult or None
    """

    scores: pd.DataFrame
    tiers: pd.DataFrame
    methods: pd.DataFrame
    groups: pd.DataFrame
    metrics: dict[str, Any]
    simulations: pd.DataFrame
    scorecard: Scorecard
    rankings: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    calibration: CalibrationResult | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """The method comparison: AUC with interval, hit rates and lift."""
        cols = [
            "method",
            "auc",
            "auc_lo",
            "auc_hi",
            "hit_rate",
            "hit_rate_sim",
            "lift",
            "floor",
        ]
        return self.methods.loc[:, cols].copy()

    def to_markdown(self) -> str:
        """The tables of the backtest as GitHub-flavoured markdown."""
        return _markdown(self)

    def save(self, out_dir: str | Path) -> Path:
        """Write ``scores.csv`` (``uscc, score, tier``), ``outcomes.csv``,
        ``metrics.json``, ``backtest.md`` and, when matplotlib is installed,
        four PNG charts. Returns the folder."""
        root = Path(out_dir)
        root.mkdir(parents=True, exist_ok=True)
        write_csv(self.scores.loc[:, ["uscc", "score", "tier"]], root / "scores.csv")
        ev = self.scores[self.scores["evaluated"]]
        write_csv(
            ev.loc[:, ["uscc", "first_date", "y", "has_history", "predicted", "pi"]],
            root / "outcomes.csv",
        )
        (root / "metrics.json").write_text(
            json.dumps(_jsonable(self.metrics), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        (root / "backtest.md").write_text(self.to_markdown(), encoding="utf-8")
        charts = _charts(self, root)
        if charts:
            logger.info("Wrote charts: %s", ", ".join(p.name for p in charts))
        return root


# --------------------------------------------------------------------------- main


def backtest(
    dataset: Dataset,
    policy: _PolicyLike | None = None,
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

    See the module docstring for the protocol and every metric.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset whose history extends past ``as_of``.
    policy : object, optional
        Anything with ``scorecard``, ``tiers`` and ``sampling`` attributes,
        e.g. :class:`creditsup.plan.Policy`; ``None`` for the defaults.
    as_of : date, str or Timestamp
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
        :func:`recode_outcome`).
    outcome_triggers : sequence of str, default ('random',)
        Inspections that count as outcomes.
    exclude_results : sequence of str
        Results that are not outcomes.
    baselines : sequence of str
        Among :data:`BASELINES`; ``city_risk`` is skipped when the entities
        have no ``city_risk`` column.
    n_boot : int, default 1000
        Bootstrap resamples for the AUC intervals.
    seed : str
        Seeds the bootstrap and the simulated draws.

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
    if horizon_days < 1:
        raise ConfigError(
            f"The 'horizon_days' must be >= 1. Got {horizon_days} instead."
        )
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ConfigError(
            f"The 'baselines' must be among {list(BASELINES)}. Got {unknown} instead."
        )
    sc_in, tier_policy, sampling = _resolve(policy)
    ts = _timestamp(as_of, "as_of")
    end = ts + pd.Timedelta(days=int(horizon_days))
    hist = dataset.history
    outcome_name, event = _event_column(hist, outcome, sc_in.problem_results)
    view = dataset
    if recode_history and outcome_name != "result":
        view = recode_outcome(
            dataset,
            outcome_name,
            problem_results=sc_in.problem_results,
            keep_results=exclude_results,
        )
    tiers, cal = score_as_of(view, policy, as_of=ts, calibrate=calibrate)
    sc = tiers.scores.scorecard
    outs = _first_outcomes(
        hist,
        event,
        start=ts,
        end=end,
        triggers=outcome_triggers,
        exclude_results=exclude_results,
    )
    table = tiers.table.loc[:, ["uscc", "score", "tier", "tier_reason"]].copy()
    table = table.merge(outs, on="uscc", how="left", sort=False)
    table["evaluated"] = table["y"].notna()
    d = pd.to_datetime(hist["date"])
    past = set(hist.loc[d < ts, "uscc"])
    table["has_history"] = table["uscc"].isin(past)
    evm = table["evaluated"].to_numpy(dtype=bool)
    if not evm.any():
        raise ConfigError(
            f"No rated entity has an outcome inspection in [{ts.date()}, "
            f"{end.date()}); nothing to evaluate."
        )
    ev = table[evm].reset_index(drop=True)
    y = ev["y"].astype(bool).to_numpy()
    labels = list(tier_policy.tiers)
    tier_arr = ev["tier"].to_numpy(dtype=object)
    # ------------------------------------------------------------ inclusion
    base_pi = _tier_pi(sampling, labels)
    earlier = (
        _earlier_visits(hist, ts, sampling.exempt_triggers)
        .reindex(ev["uscc"])
        .fillna(0)
        .to_numpy(dtype=np.int64)
    )
    caps = np.asarray(
        [
            sampling.cap_of(t) if sampling.cap_of(t) is not None else 1 << 40
            for t in tier_arr
        ],
        dtype=np.int64,
    )
    at_cap = earlier >= caps
    eligible = ~at_cap
    pi_sc = np.where(eligible, [base_pi[t] for t in tier_arr], 0.0).astype(np.float64)
    if budget is not None:
        if not budget > 0:
            raise ConfigError(f"The 'budget' must be > 0. Got {budget} instead.")
        target = float(budget) * len(ev) if budget < 1 else float(budget)
        pi_sc = _scale_to_budget(pi_sc, target, eligible)
    total = float(pi_sc.sum())
    # tier sizes and probabilities among eligible entities (for baselines)
    el_tiers = tier_arr[eligible]
    sizes = [int((el_tiers == t).sum()) for t in labels]
    tier_pi_eff = [
        float(pi_sc[eligible][el_tiers == t].mean()) if sizes[i] else 0.0
        for i, t in enumerate(labels)
    ]
    # ------------------------------------------------------------ methods
    ranking: dict[str, FloatArray] = {
        "scorecard": ev["score"].to_numpy(dtype=np.float64)
    }
    if "city_risk" in baselines:
        if "city_risk" in dataset.entities.columns:
            risk = pd.to_numeric(
                dataset.entities.set_index("uscc")["city_risk"], errors="coerce"
            )
            r = risk.reindex(ev["uscc"]).to_numpy(dtype=np.float64)
            ranking["city_risk"] = np.where(np.isnan(r), 0.0, 4.0 - r)
        else:
            logger.info("No 'city_risk' column: the city_risk baseline is skipped.")
    if "history_rule" in baselines:
        rule = _history_rule(hist, ts, sc.problem_results)
        ranking["history_rule"] = (
            rule.reindex(ev["uscc"]).fillna(0.0).to_numpy(dtype=np.float64)
        )
    if "uncalibrated" in baselines and calibrate:
        raw = score_entities(view, sc_in, as_of=ts - _ONE_DAY).table
        ranking["uncalibrated"] = (
            raw.set_index("uscc")["score"]
            .reindex(ev["uscc"])
            .to_numpy(dtype=np.float64)
        )
    pis: dict[str, FloatArray] = {"scorecard": pi_sc}
    n_el = int(eligible.sum())
    if "uniform" in baselines:
        pis["uniform"] = np.where(eligible, total / max(n_el, 1), 0.0)
    for name, s in ranking.items():
        if name == "scorecard":
            continue
        p = np.zeros(len(ev), dtype=np.float64)
        p[eligible] = rank_inclusion(s[eligible], sizes, tier_pi_eff)
        pis[name] = p
    boot = bootstrap_aucs(y, ranking, n_boot=n_boot, seed=seed)
    hits, drawn = simulate_hit_rates(ev["uscc"], y, pis, seeds=seeds, seed=seed)
    # caps: every simulated visit keeps earlier + 1 <= cap
    max_visits: dict[str, int] = {}
    for t in labels:
        m = tier_arr == t
        reach = (earlier[m] + 1)[pi_sc[m] > 0]
        max_visits[t] = (
            int(reach.max()) if len(reach) else int(earlier[m].max(initial=0))
        )
    caps_ok = all(
        sampling.cap_of(t) is None or max_visits[t] <= int(sampling.cap_of(t) or 0)
        for t in labels
    )
    uniform_rate = (
        expected_hit_rate(y, pis["uniform"]) if "uniform" in pis else float(y.mean())
    )
    rows = []
    a_lo, a_hi = 0.025, 0.975
    sc_boot = boot["scorecard"].to_numpy()
    for name in pis:
        hr = expected_hit_rate(y, pis[name])
        sim = hits[name].to_numpy()
        if name == "uniform":
            auc, lo, hi = 0.5, 0.5, 0.5
            diff = sc_boot - 0.5
        else:
            auc = auc_score(y, ranking[name])
            lo, hi = (float(v) for v in np.nanquantile(boot[name], [a_lo, a_hi]))
            diff = sc_boot - boot[name].to_numpy()
        dlo, dhi = (
            (float("nan"), float("nan"))
            if name == "scorecard"
            else tuple(float(v) for v in np.nanquantile(diff, [a_lo, a_hi]))
        )
        wins = (
            float("nan")
            if name == "scorecard"
            else float(np.nanmean(hits["scorecard"].to_numpy() > sim))
        )
        rows.append(
            {
                "method": name,
                "auc": auc,
                "auc_lo": lo,
                "auc_hi": hi,
                "auc_diff_lo": dlo,
                "auc_diff_hi": dhi,
                "hit_rate": hr,
                "hit_rate_sim": float(np.nanmean(sim)),
                "hit_rate_sim_lo": float(np.nanquantile(sim, a_lo)),
                "hit_rate_sim_hi": float(np.nanquantile(sim, a_hi)),
                "lift": hr / uniform_rate if uniform_rate > 0 else float("nan"),
                "scorecard_wins": wins,
                "expected_visits": float(pis[name].sum()),
                "mean_drawn": float(drawn[name].mean()),
                "floor": float(pis[name].min()),
            }
        )
    methods = pd.DataFrame(rows)
    # ------------------------------------------------------------ calibration
    predicted, brier_ref_p, platt = _predict(
        view,
        sc,
        tier_policy,
        ts=ts,
        horizon_days=horizon_days,
        outcome=outcome,
        triggers=outcome_triggers,
        exclude_results=exclude_results,
        scores=ev["score"].to_numpy(dtype=np.float64),
    )
    brier = brier_score(y, predicted) if predicted is not None else float("nan")
    brier_ref = (
        brier_score(y, np.full(len(y), brier_ref_p))
        if brier_ref_p is not None
        else float("nan")
    )
    # ------------------------------------------------------------ per tier
    per_tier = _rates_by(labels, tier_arr, y)
    per_tier.insert(0, "tier", labels)
    per_tier["mean_predicted"] = [
        float(predicted[tier_arr == t].mean())
        if predicted is not None and (tier_arr == t).any()
        else float("nan")
        for t in labels
    ]
    per_tier["pi"] = [
        float(pi_sc[tier_arr == t].mean()) if (tier_arr == t).any() else float("nan")
        for t in labels
    ]
    per_tier["expected_visits"] = [float(pi_sc[tier_arr == t].sum()) for t in labels]
    per_tier["budget_share"] = per_tier["expected_visits"] / total if total > 0 else 0.0
    # ------------------------------------------------------------ history groups
    hh = ev["has_history"].to_numpy(dtype=bool)
    grp_labels = np.where(hh, "with_history", "no_history").astype(object)
    groups = _rates_by(["with_history", "no_history"], grp_labels, y)
    groups.insert(0, "group", ["with_history", "no_history"])
    groups["auc"] = [
        auc_score(y[m], ev["score"].to_numpy()[m]) if m.any() else float("nan")
        for m in (hh, ~hh)
    ]
    groups["mean_score"] = [
        float(ev["score"].to_numpy()[m].mean()) if m.any() else float("nan")
        for m in (hh, ~hh)
    ]
    # ------------------------------------------------------------ scores table
    table["predicted"] = np.nan
    table["pi"] = 0.0
    if predicted is not None:
        table.loc[evm, "predicted"] = predicted
    table.loc[evm, "pi"] = pi_sc
    table["y"] = table["y"].astype("boolean")
    table = table.loc[
        :,
        [
            "uscc",
            "score",
            "tier",
            "tier_reason",
            "evaluated",
            "y",
            "first_date",
            "has_history",
            "predicted",
            "pi",
        ],
    ]
    sims = pd.concat(
        [
            pd.DataFrame(
                {
                    "draw": np.arange(seeds),
                    "method": name,
                    "hit_rate": hits[name].to_numpy(),
                    "drawn": drawn[name].to_numpy(),
                }
            )
            for name in pis
        ],
        ignore_index=True,
    )
    sc_row = methods.iloc[0].to_dict()  # the scorecard is the first method
    metrics: dict[str, Any] = {
        "as_of": str(ts.date()),
        "scored_as_of": str((ts - _ONE_DAY).date()),
        "horizon_days": int(horizon_days),
        "window": [str(ts.date()), str((end - _ONE_DAY).date())],
        "outcome": outcome_name,
        "history_recoded": view is not dataset,
        "outcome_triggers": list(outcome_triggers),
        "calibrated": bool(calibrate),
        "scorecard": {"name": sc.name, "version": sc.version},
        "n_rated": len(table),
        "n_evaluated": len(ev),
        "n_events": int(y.sum()),
        "event_rate": float(y.mean()),
        "auc": float(sc_row["auc"]),
        "auc_ci": [float(sc_row["auc_lo"]), float(sc_row["auc_hi"])],
        "brier": brier,
        "brier_reference": brier_ref,
        "brier_skill": 1 - brier / brier_ref if brier_ref and brier_ref > 0 else None,
        "probability_map": (
            {"intercept": platt[0], "slope": platt[1]} if platt is not None else None
        ),
        "budget": total,
        "budget_share_A": float(per_tier["budget_share"].iloc[0]),
        "floor": float(pi_sc.min()),
        "n_zero_probability": int((pi_sc <= 0).sum()),
        "n_at_cap": int(at_cap.sum()),
        "caps": {
            t: {"cap": sampling.cap_of(t), "max_visits": max_visits[t]} for t in labels
        },
        "caps_hold": bool(caps_ok),
        "tier_ratios": base_pi,
        "seeds": int(seeds),
        "n_boot": int(n_boot),
        "tiers": per_tier.to_dict(orient="records"),
        "methods": methods.to_dict(orient="records"),
        "groups": groups.to_dict(orient="records"),
        "beats_all_baselines": _beats(methods),
    }
    if cal is not None:
        metrics["calibration"] = {
            "n_units": cal.n_units,
            "n_events": cal.n_events,
            "auc_in_sample": cal.auc,
            "auc_in_sample_before": cal.auc_before,
        }
    logger.info(
        "Backtest as of %s: %d evaluated, AUC %.3f, hit rate %.3f vs uniform %.3f",
        ts.date(),
        len(ev),
        metrics["auc"],
        float(sc_row["hit_rate"]),
        uniform_rate,
    )
    return BacktestResult(
        scores=table,
        tiers=per_tier,
        methods=methods,
        groups=groups,
        metrics=metrics,
        simulations=sims,
        scorecard=sc,
        rankings=pd.DataFrame({"uscc": ev["uscc"], "y": y, **ranking}),
        calibration=cal,
    )


def _beats(methods: pd.DataFrame) -> dict[str, dict[str, bool]]:
    m = methods.set_index("method")
    sc = m.loc["scorecard"]
    out: dict[str, dict[str, bool]] = {}
    for name in m.index:
        if name in ("scorecard", "uncalibrated"):
            continue
        row = m.loc[name]
        out[name] = {
            "auc": bool(sc["auc"] > row["auc"]),
            "hit_rate": bool(sc["hit_rate"] > row["hit_rate"]),
        }
    return out


def _predict(
    dataset: Dataset,
    scorecard: Scorecard,
    tier_policy: TierPolicy,
    *,
    ts: pd.Timestamp,
    horizon_days: int,
    outcome: str | None,
    triggers: Sequence[str],
    exclude_results: Sequence[str],
    scores: FloatArray,
) -> tuple[FloatArray | None, float | None, tuple[float, float] | None]:
    """Platt map fitted on the previous window; returns predictions, the
    previous window's base rate (the reference forecast) and the map."""
    prev = ts - pd.Timedelta(days=int(horizon_days))
    hist = dataset.history
    _, event = _event_column(hist, outcome, scorecard.problem_results)
    outs = _first_outcomes(
        hist,
        event,
        start=prev,
        end=ts,
        triggers=triggers,
        exclude_results=exclude_results,
    )
    if len(outs) == 0:
        return None, None, None
    past = score_entities(dataset, scorecard, as_of=prev - _ONE_DAY).table
    joined = outs.merge(past[["uscc", "score"]], on="uscc", how="inner")
    yy = np.asarray(joined["y"].astype(bool), dtype=np.float64)
    base = float(yy.mean()) if len(yy) else None
    fit = _platt(joined["score"].to_numpy(dtype=np.float64), yy)
    if fit is None:
        return None, base, None
    a, b = fit
    p = 1.0 / (1.0 + np.exp(-(a + b * scores)))
    return np.asarray(p, dtype=np.float64), base, fit


# --------------------------------------------------------------------------- report


def _fmt(x: Any, digits: int = 3) -> str:
    if isinstance(x, float | np.floating):
        if not math.isfinite(float(x)):
            return "–"
        return f"{float(x):.{digits}f}"
    return str(x)


def _table(df: pd.DataFrame, digits: int = 3) -> str:
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v, digits) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def _markdown(res: BacktestResult) -> str:
    m = res.metrics
    meth = res.methods.copy()
    meth["auc (95% CI)"] = [
        f"{r.auc:.3f} [{r.auc_lo:.3f}, {r.auc_hi:.3f}]" for r in meth.itertuples()
    ]
    meth["scorecard − method AUC (95% CI)"] = [
        "–"
        if r.method == "scorecard"
        else f"[{r.auc_diff_lo:+.3f}, {r.auc_diff_hi:+.3f}]"
        for r in meth.itertuples()
    ]
    meth["simulated (95% range)"] = [
        f"{r.hit_rate_sim:.3f} [{r.hit_rate_sim_lo:.3f}, {r.hit_rate_sim_hi:.3f}]"
        for r in meth.itertuples()
    ]
    meth_tab = meth.loc[
        :,
        [
            "method",
            "auc (95% CI)",
            "scorecard − method AUC (95% CI)",
            "hit_rate",
            "simulated (95% range)",
            "lift",
            "scorecard_wins",
            "floor",
        ],
    ].rename(
        columns={
            "hit_rate": "hit rate (exact)",
            "lift": "lift vs uniform",
            "scorecard_wins": "draws won by scorecard",
        }
    )
    tiers = res.tiers.copy()
    tiers["rate (95% CI)"] = [
        f"{r.rate:.3f} [{r.rate_lo:.3f}, {r.rate_hi:.3f}]" if r.n else "–"
        for r in tiers.itertuples()
    ]
    tier_tab = tiers.loc[
        :,
        [
            "tier",
            "n",
            "events",
            "rate (95% CI)",
            "mean_predicted",
            "pi",
            "budget_share",
        ],
    ]
    groups = res.groups.copy()
    groups["rate (95% CI)"] = [
        f"{r.rate:.3f} [{r.rate_lo:.3f}, {r.rate_hi:.3f}]" if r.n else "–"
        for r in groups.itertuples()
    ]
    grp_tab = groups.loc[
        :, ["group", "n", "events", "rate (95% CI)", "auc", "mean_score"]
    ]
    lines = [
        f"# Backtest as of {m['as_of']} ({m['horizon_days']}-day horizon)",
        "",
        f"Scores as of {m['scored_as_of']} (scorecard `{m['scorecard']['name']}`, "
        f"{'calibrated on inspections before ' + m['as_of'] if m['calibrated'] else 'not calibrated'}); "
        f"outcome `{m['outcome']}` at the first {'/'.join(m['outcome_triggers'])} "
        f"inspection in {m['window'][0]} … {m['window'][1]}. "
        f"{m['n_evaluated']:,} of {m['n_rated']:,} rated entities evaluated, "
        f"{m['n_events']:,} events (rate {m['event_rate']:.3f}).",
        "",
        "## Methods at the same budget",
        "",
        f"Expected visits {m['budget']:.1f}; floor (smallest inclusion "
        f"probability) {m['floor']:.3f}; share of the budget on tier A "
        f"{m['budget_share_A']:.3f}; caps hold: {m['caps_hold']}; "
        f"{m['seeds']} simulated draws, {m['n_boot']} bootstrap resamples.",
        "",
        _table(meth_tab),
        "",
        "## Event rate by tier (scorecard)",
        "",
        _table(tier_tab),
        "",
        "## Entities with and without history before the split",
        "",
        _table(grp_tab),
        "",
        "## Calibration",
        "",
        f"Brier score {_fmt(m['brier'], 4)} against {_fmt(m['brier_reference'], 4)} "
        "for a constant forecast at the previous window's rate (skill "
        f"{_fmt(m['brier_skill'] if m['brier_skill'] is not None else float('nan'), 3)}).",
        "",
    ]
    return "\n".join(lines)


def _roc(y: BoolArray, score: FloatArray) -> tuple[FloatArray, FloatArray]:
    order = np.argsort(-score, kind="stable")
    s = score[order]
    yy = y[order]
    tps = np.cumsum(yy)
    fps = np.cumsum(~yy)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tpr = np.r_[0.0, tps[last] / max(int(yy.sum()), 1)]
    fpr = np.r_[0.0, fps[last] / max(int((~yy).sum()), 1)]
    return fpr.astype(np.float64), tpr.astype(np.float64)


def _charts(res: BacktestResult, root: Path) -> list[Path]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        logger.info(
            "matplotlib is not installed: no charts (pip install 'creditsup[report]')."
        )
        return []
    paths: list[Path] = []
    t = res.tiers
    fig = Figure(figsize=(5, 3.4))
    ax = fig.subplots()
    err = np.vstack([t["rate"] - t["rate_lo"], t["rate_hi"] - t["rate"]]).clip(min=0)
    ax.bar(t["tier"], t["rate"], yerr=err, capsize=4, color="#4c72b0", label="observed")
    if t["mean_predicted"].notna().any():
        ax.plot(
            t["tier"], t["mean_predicted"], "o--", color="#dd8452", label="predicted"
        )
    ax.axhline(res.metrics["event_rate"], color="grey", lw=0.8, ls=":", label="all")
    ax.set_xlabel("tier")
    ax.set_ylabel("event rate")
    ax.set_title(f"Event rate by tier (Wilson 95 %), as of {res.metrics['as_of']}")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    paths.append(root / "tier_rates.png")
    fig.savefig(paths[-1], dpi=110)

    ev = res.scores[res.scores["evaluated"]]
    fig = Figure(figsize=(4.2, 4))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="uniform (0.500)")
    aucs = res.methods.set_index("method")["auc"]
    rk = res.rankings
    for name in [c for c in rk.columns if c not in ("uscc", "y")]:
        fpr, tpr = _roc(
            rk["y"].to_numpy(dtype=bool), rk[name].to_numpy(dtype=np.float64)
        )
        ax.plot(
            fpr,
            tpr,
            lw=1.8 if name == "scorecard" else 1.0,
            label=f"{name} ({float(aucs[name]):.3f})",
        )
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC of the as-of rankings")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    paths.append(root / "roc.png")
    fig.savefig(paths[-1], dpi=110)

    meth = res.methods
    fig = Figure(figsize=(5.5, 3.4))
    ax = fig.subplots()
    err = np.vstack(
        [
            meth["hit_rate_sim"] - meth["hit_rate_sim_lo"],
            meth["hit_rate_sim_hi"] - meth["hit_rate_sim"],
        ]
    ).clip(min=0)
    ax.bar(meth["method"], meth["hit_rate"], yerr=err, capsize=4, color="#55a868")
    ax.set_ylabel("share of drawn entities with an event")
    ax.set_title("Hit rate at the same budget (exact; bars: simulated 95 %)")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    paths.append(root / "hit_rates.png")
    fig.savefig(paths[-1], dpi=110)

    if ev["predicted"].notna().any():
        fig = Figure(figsize=(4.2, 4))
        ax = fig.subplots()
        lim = float(max(t["rate_hi"].max(), t["mean_predicted"].max())) * 1.1
        ax.plot([0, lim], [0, lim], color="grey", lw=0.8, ls=":")
        ax.errorbar(
            t["mean_predicted"],
            t["rate"],
            yerr=np.vstack([t["rate"] - t["rate_lo"], t["rate_hi"] - t["rate"]]).clip(
                min=0
            ),
            fmt="o",
            capsize=3,
        )
        for r in t.itertuples():
            ax.annotate(
                str(r.tier),
                (r.mean_predicted, r.rate),
                xytext=(4, 4),
                textcoords="offset points",
            )
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed event rate")
        ax.set_title(f"Calibration by tier (Brier {res.metrics['brier']:.4f})")
        fig.tight_layout()
        paths.append(root / "calibration.png")
        fig.savefig(paths[-1], dpi=110)
    return paths
