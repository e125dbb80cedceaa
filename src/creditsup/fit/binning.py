"""Stage 3: optimal monotone bins of each candidate, on the training units.

Numeric candidates are binned by optbinning's ``OptimalBinning`` (a CP-SAT
model on OR-Tools) with a monotone event rate (ascending or descending, the
better one), on the candidate's distinct values weighted by their counts,
so the cost does not grow with the number of units. Split points become
"nice" edges (the shortest decimal between two observed values, ``1.0``
rather than ``0.5`` for counts), which bins the training data identically.

A categorical candidate is binned the way optbinning bins categories, but
on counts: categories rarer than ``min_category_share`` are pooled into
*other*, the rest (and the pool) are ranked by their event rate, and the
ranks are binned as a number with an ascending event rate, so a bin groups
categories of similar risk. (optbinning's own categorical mode ignores
sample weights in its pre-binning, so it cannot be given counts.)

Each bin gets its smoothed event log-odds relative to the base rate
(``x = logit(rate) - logit(base)``, the negative of the weight of
evidence), made monotone along the ordered bins; the missing bin (and, for
categories, *other*) get their own. The information value ranks the
candidates.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._optional import require
from creditsup.fit.options import FitOptions
from creditsup.scoring._arrays import BoolArray, FloatArray, IntArray

__all__ = ["FeatureBins", "bin_feature", "nice_edge"]

Trend = Literal["increasing", "decreasing"]
#: Pseudo-count of the smoothing towards the base rate.
_ALPHA = 2.0


def nice_edge(lo: float, hi: float) -> float:
    """The shortest decimal ``e`` with ``lo < e <= hi``.

    Examples
    --------
    >>> nice_edge(0.0, 1.0), nice_edge(2.0, 3.0), nice_edge(0.123, 0.1875)
    (1.0, 3.0, 0.13)
    >>> nice_edge(99_950.0, 120_000.0)
    100000.0
    """
    for d in range(-12, 13):
        step = 10.0 ** (-d)
        e = (math.floor(lo / step) + 1) * step
        e = round(e, max(d, 0))
        if lo < e <= hi:
            return float(e)
    return float(hi)


@dataclass(frozen=True)
class FeatureBins:
    """The bins of one feature and their relative log-odds.

    Bin layout (as :meth:`creditsup.scoring.Indicator.bin_points`): the
    ordered bins, then, for a categorical feature, *other*, then *missing*.

    Attributes
    ----------
    name : str
    kind : {'numeric', 'categorical'}
    edges : ndarray of float
        Numeric: ``x`` is in ordered bin ``i`` when ``edges[i-1] <= x <
        edges[i]``.
    category_bin : ndarray of int
        Categorical: the bin of each listed category (rare ones: *other*).
    x : ndarray of float
        Relative log-odds of every bin (0 = the base rate).
    n, events : ndarray of float
        Training units and events per bin.
    trend : {'increasing', 'decreasing'}
        Direction of the event rate along the ordered bins.
    iv : float
        Information value.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    edges: FloatArray
    category_bin: IntArray
    x: FloatArray
    n: FloatArray
    events: FloatArray
    trend: Trend
    iv: float

    @property
    def n_ordered(self) -> int:
        """Number of ordered bins."""
        return len(self.x) - (2 if self.kind == "categorical" else 1)

    def bins(self, values: npt.NDArray[Any]) -> IntArray:
        """The bin of each value (codes for a categorical feature)."""
        if self.kind == "numeric":
            v = np.asarray(values, dtype=np.float64)
            b = np.searchsorted(self.edges, v, side="right").astype(np.int64)
            b[np.isnan(v)] = self.n_ordered
            return b
        c = np.asarray(values, dtype=np.int64)
        k = len(self.category_bin)
        lut = np.append(self.category_bin, [self.n_ordered, self.n_ordered + 1])
        return lut[np.where(c < 0, k + 1, np.minimum(c, k))]

    def transform(self, values: npt.NDArray[Any]) -> FloatArray:
        """The relative log-odds of each value's bin."""
        return self.x[self.bins(values)]


def _aggregate(
    v: FloatArray, y: BoolArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distinct values (sorted), and the weight of the units and of the events
    at each (a hash factorisation: features have few distinct values)."""
    codes, uniq = pd.factorize(v, sort=False)
    k = len(uniq)
    n = _counts(codes.astype(np.int64), w, k)
    e = _counts(codes.astype(np.int64), w * y, k)
    order = np.argsort(np.asarray(uniq, dtype=np.float64), kind="stable")
    return np.asarray(uniq, dtype=np.float64)[order], n[order], e[order]


def _counts(idx: npt.NDArray[np.int64], w: FloatArray, k: int) -> FloatArray:
    """``np.bincount`` with weights, typed as floats."""
    return np.asarray(np.bincount(idx, weights=w, minlength=k), dtype=np.float64)


def _optimal_splits(
    uniq: FloatArray,
    n: FloatArray,
    e: FloatArray,
    options: FitOptions,
    *,
    trend: str,
    user_splits: FloatArray | None = None,
) -> FloatArray:
    """optbinning's optimal split points for counted distinct values."""
    ob_mod = require("optbinning", "fit")
    xs = np.concatenate([uniq, uniq])
    ys = np.concatenate([np.ones(len(uniq)), np.zeros(len(uniq))]).astype(np.int64)
    ws = np.concatenate([e, n - e])
    keep = ws > 0
    kw: dict[str, Any] = {}
    if user_splits is not None:
        kw["user_splits"] = user_splits
    ob = ob_mod.OptimalBinning(
        dtype="numerical",
        solver="cp",
        monotonic_trend=trend,
        max_n_bins=options.max_n_bins,
        min_bin_size=options.min_bin_size,
        max_n_prebins=options.max_n_prebins,
        min_prebin_size=options.min_bin_size / 2,
        time_limit=60,
        **kw,
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ob.fit(xs[keep], ys[keep], sample_weight=ws[keep])
    if str(ob.status) not in ("OPTIMAL", "FEASIBLE"):
        return np.zeros(0, dtype=np.float64)
    return np.asarray(ob.splits, dtype=np.float64)


def _log_odds(
    n: FloatArray, e: FloatArray, base: float, n_ordered: int
) -> tuple[FloatArray, Trend]:
    """Smoothed relative log-odds per bin, monotone along the ordered bins."""
    r = (e + _ALPHA * base) / (n + _ALPHA)
    x = np.log(r / (1 - r)) - math.log(base / (1 - base))
    x = np.where(n > 0, x, 0.0)
    ordered = x[:n_ordered]
    trend: Trend = "increasing" if ordered[-1] >= ordered[0] else "decreasing"
    acc = np.maximum if trend == "increasing" else np.minimum
    x[:n_ordered] = acc.accumulate(ordered)
    return x, trend


def _information_value(n: FloatArray, e: FloatArray) -> float:
    ne = n - e
    k = float((n > 0).sum())
    d1 = (e + 0.5) / (e.sum() + 0.5 * k)
    d0 = (ne + 0.5) / (ne.sum() + 0.5 * k)
    m = n > 0
    return float(np.sum((d1[m] - d0[m]) * np.log(d1[m] / d0[m])))


def _numeric(
    name: str,
    v: FloatArray,
    y: BoolArray,
    options: FitOptions,
    base: float,
    w: FloatArray,
) -> FeatureBins | None:
    ok = ~np.isnan(v)
    if ok.sum() == 0:
        return None
    uniq, n, e = _aggregate(v[ok], y[ok], w[ok])
    if len(uniq) < 2:
        return None
    splits = _optimal_splits(uniq, n, e, options, trend="auto_asc_desc")
    if len(splits) == 0:
        return None
    idx = np.searchsorted(uniq, splits, side="left")  # first value >= split
    edges = np.unique(
        [
            nice_edge(float(uniq[i - 1]), float(uniq[i]))
            for i in idx
            if 0 < i < len(uniq)
        ]
    )
    if len(edges) == 0:
        return None
    b = np.searchsorted(edges, uniq, side="right")
    k = len(edges) + 1
    nb = _counts(b, n, k)
    eb = _counts(b, e, k)
    nb = np.append(nb, float(w[~ok].sum())).astype(np.float64)
    eb = np.append(eb, float((w * y)[~ok].sum())).astype(np.float64)
    x, trend = _log_odds(nb, eb, base, k)
    return FeatureBins(
        name,
        "numeric",
        edges.astype(np.float64),
        np.zeros(0, dtype=np.int64),
        x,
        nb,
        eb,
        trend,
        _information_value(nb, eb),
    )


def _categorical(
    name: str,
    codes: IntArray,
    n_categories: int,
    y: BoolArray,
    options: FitOptions,
    base: float,
    w: FloatArray,
) -> FeatureBins | None:
    k = n_categories
    c = np.where(codes < 0, k + 1, np.minimum(codes, k)).astype(np.int64)
    n = _counts(c, w, k + 2)
    e = _counts(c, w * y, k + 2)
    seen = float(n[: k + 1].sum())
    rare = n[: k + 1] < options.min_category_share * max(seen, 1.0)
    rare[k] = True  # unlisted values always pool into *other*
    items = [i for i in range(k) if not rare[i] and n[i] > 0]
    pool_n, pool_e = float(n[: k + 1][rare].sum()), float(e[: k + 1][rare].sum())
    item_n = np.append(n[items], pool_n if pool_n > 0 else [])
    item_e = np.append(e[items], pool_e if pool_n > 0 else [])
    if len(item_n) < 2:
        return None
    rate = (item_e + _ALPHA * base) / (item_n + _ALPHA)
    order = np.argsort(rate, kind="stable")
    rank = np.empty(len(order), dtype=np.float64)
    rank[order] = np.arange(len(order), dtype=np.float64)
    user = np.arange(len(order) - 1, dtype=np.float64) + 0.5
    splits = _optimal_splits(
        np.sort(rank),
        item_n[order],
        item_e[order],
        options,
        trend="ascending",
        user_splits=user,
    )
    if len(splits) == 0:
        return None
    item_bin = np.searchsorted(np.sort(splits), rank, side="right").astype(np.int64)
    n_ord = len(splits) + 1
    category_bin = np.full(k, n_ord, dtype=np.int64)  # rare: *other*
    category_bin[items] = item_bin[: len(items)]
    nb = _counts(item_bin, item_n, n_ord)
    eb = _counts(item_bin, item_e, n_ord)
    nb = np.append(nb, [0.0, n[k + 1]]).astype(np.float64)
    eb = np.append(eb, [0.0, e[k + 1]]).astype(np.float64)
    x, trend = _log_odds(nb, eb, base, n_ord)
    if pool_n > 0:  # *other* scores as the bin its pool fell in
        x[n_ord] = x[item_bin[-1]]
    return FeatureBins(
        name,
        "categorical",
        np.zeros(0),
        category_bin,
        x,
        nb,
        eb,
        trend,
        _information_value(nb, eb),
    )


def bin_feature(
    name: str,
    values: npt.NDArray[Any],
    y: BoolArray,
    options: FitOptions,
    *,
    n_categories: int | None = None,
    weight: FloatArray | None = None,
) -> FeatureBins | None:
    """Stage: the optimal monotone bins of one feature (``None``: one bin).

    Parameters
    ----------
    name : str
    values : ndarray
        Numbers (NaN = missing), or category codes (``-1`` missing,
        ``n_categories`` unlisted) when ``n_categories`` is given.
    y : ndarray of bool
        The outcome of each unit.
    options : FitOptions
    weight : ndarray of float, optional
        Each unit's weight (mean 1; default 1 each): bins, event rates and
        information values count weighted units.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.poisson(2.0, 5000).astype(float)
    >>> y = rng.random(5000) < 0.05 + 0.04 * x
    >>> fb = bin_feature("x", x, y, FitOptions())
    >>> fb.trend, bool(np.all(np.diff(fb.x[:fb.n_ordered]) >= 0)), fb.iv > 0.1
    ('increasing', True, True)
    """
    yy = np.asarray(y, dtype=bool)
    w = np.ones(len(yy)) if weight is None else np.asarray(weight, dtype=np.float64)
    mean = float(w @ yy / w.sum()) if len(yy) else 0.5
    base = float(np.clip(mean, 1e-4, 1 - 1e-4))
    if n_categories is None:
        v = np.asarray(values, dtype=np.float64)
        return _numeric(name, v, yy, options, base, w)
    codes = np.asarray(values, dtype=np.int64)
    return _categorical(name, codes, n_categories, yy, options, base, w)
