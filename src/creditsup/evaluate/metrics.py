"""Stage 4: metrics with intervals, and draws simulated at equal budget.

* the AUC of each ranking with a percentile bootstrap interval, and paired
  bootstrap intervals of the scorecard's AUC minus each baseline's
  (:func:`bootstrap_aucs`: every score on the same resamples);
* the *expected* hit rate of a draw with inclusion probabilities ``pi``:
  ``sum(pi * y) / sum(pi)`` (:func:`expected_hit_rate`, exact);
* the *simulated* hit rate of Poisson-PRN draws over ``seeds`` keys
  (:func:`simulate_hit_rates`, common random numbers across methods);
* :func:`compare_methods` puts them together, one row per method.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._calibration import auc_score
from creditsup._random import derive_key, keyed_uniform, stage_rng
from creditsup.exceptions import ConfigError
from creditsup.scoring._arrays import BoolArray, FloatArray, IntArray

__all__ = [
    "auc_interval",
    "beats_baselines",
    "bootstrap_aucs",
    "brier_score",
    "compare_methods",
    "dense_ranks",
    "expected_hit_rate",
    "simulate_hit_rates",
]

#: Quantiles of a two-sided 95 % interval.
_LEVELS = (0.025, 0.975)


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


def dense_ranks(score: FloatArray) -> tuple[IntArray, int]:
    """Rank of each value among the distinct values (0-based), and their count."""
    uniq, inv = np.unique(score, return_inverse=True)
    return inv.ravel().astype(np.int64), len(uniq)


def weighted_auc(
    y: BoolArray, score: FloatArray, weights: npt.NDArray[np.int64]
) -> FloatArray:
    """AUC (ties = 1/2) of each row of integer ``weights`` (bootstrap counts)."""
    b = weights.shape[0]
    ranks, k = dense_ranks(score)
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
            out[name].append(weighted_auc(yy, s, counts))
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


def _quantiles(x: FloatArray | pd.Series) -> tuple[float, float]:
    lo, hi = np.nanquantile(x, _LEVELS)
    return float(lo), float(hi)


def _auc_columns(
    name: str, y: BoolArray, score: FloatArray | None, boot: pd.DataFrame
) -> dict[str, float]:
    """AUC with its interval, and the paired interval of the scorecard's AUC
    minus this method's (``score`` None: the uniform draw, a random order)."""
    sc_boot = boot["scorecard"].to_numpy()
    if score is None:
        auc, lo, hi = 0.5, 0.5, 0.5
        diff = sc_boot - 0.5
    else:
        auc = auc_score(y, score)
        lo, hi = _quantiles(boot[name])
        diff = sc_boot - boot[name].to_numpy()
    nan = float("nan")
    dlo, dhi = (nan, nan) if name == "scorecard" else _quantiles(diff)
    return {
        "auc": auc,
        "auc_lo": lo,
        "auc_hi": hi,
        "auc_diff_lo": dlo,
        "auc_diff_hi": dhi,
    }


def uniform_hit_rate(y: BoolArray, pis: Mapping[str, FloatArray]) -> float:
    """Hit rate of the uniform draw (the event rate when there is none)."""
    return expected_hit_rate(y, pis["uniform"]) if "uniform" in pis else float(y.mean())


def compare_methods(
    y: BoolArray,
    rankings: Mapping[str, FloatArray],
    pis: Mapping[str, FloatArray],
    boot: pd.DataFrame,
    hits: pd.DataFrame,
    drawn: pd.DataFrame,
) -> pd.DataFrame:
    """Stage: one row per method (``pis`` order; the scorecard first).

    Columns: ``method, auc, auc_lo, auc_hi, auc_diff_lo, auc_diff_hi,
    hit_rate, hit_rate_sim, hit_rate_sim_lo, hit_rate_sim_hi, lift,
    scorecard_wins, expected_visits, mean_drawn, floor`` (see
    :class:`~creditsup.evaluate.result.BacktestResult`).
    """
    uniform_rate = uniform_hit_rate(y, pis)
    sc_hits = hits["scorecard"].to_numpy()
    rows = []
    for name, pi in pis.items():
        hr = expected_hit_rate(y, pi)
        sim = hits[name].to_numpy()
        rows.append(
            {
                "method": name,
                **_auc_columns(name, y, rankings.get(name), boot),
                "hit_rate": hr,
                "hit_rate_sim": float(np.nanmean(sim)),
                "hit_rate_sim_lo": float(np.nanquantile(sim, _LEVELS[0])),
                "hit_rate_sim_hi": float(np.nanquantile(sim, _LEVELS[1])),
                "lift": hr / uniform_rate if uniform_rate > 0 else float("nan"),
                "scorecard_wins": (
                    float("nan")
                    if name == "scorecard"
                    else float(np.nanmean(sc_hits > sim))
                ),
                "expected_visits": float(pi.sum()),
                "mean_drawn": float(drawn[name].mean()),
                "floor": float(pi.min()),
            }
        )
    return pd.DataFrame(rows)


def beats_baselines(methods: pd.DataFrame) -> dict[str, dict[str, bool]]:
    """Per baseline: whether the scorecard has a higher AUC and hit rate."""
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
