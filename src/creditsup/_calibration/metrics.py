"""Metrics of binary outcomes: Wilson intervals, AUC, calibration tables.

Shared by the scorecard calibration and the backtest
(:mod:`creditsup.evaluate`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from creditsup.scoring._arrays import FloatArray

__all__ = [
    "auc_score",
    "calibration_table",
    "event_rates",
    "tier_rates",
    "wilson_interval",
]


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


def event_rates(
    labels: Sequence[str], group: npt.ArrayLike, y: npt.ArrayLike
) -> pd.DataFrame:
    """Events and their rate per group, with Wilson 95 % intervals.

    Returns
    -------
    DataFrame
        One row per label: ``n, events, rate, rate_lo, rate_hi`` (``rate`` is
        NaN for an empty group).

    Examples
    --------
    >>> event_rates(["a", "b", "c"], ["a", "a", "b"], [1, 0, 0])[["n", "events", "rate"]]
       n  events  rate
    0  2       1   0.5
    1  1       0   0.0
    2  0       0   NaN
    """
    lab = np.asarray(group, dtype=object)
    yy = np.asarray(y, dtype=np.float64)
    n = np.asarray([(lab == g).sum() for g in labels], dtype=np.float64)
    ev = np.asarray([yy[lab == g].sum() for g in labels], dtype=np.float64)
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


def tier_rates(
    tiers: Sequence[str], label: npt.ArrayLike, y: npt.ArrayLike
) -> pd.DataFrame:
    """:func:`event_rates` with a first ``tier`` column."""
    out = event_rates(tiers, label, y)
    out.insert(0, "tier", list(tiers))
    return out
