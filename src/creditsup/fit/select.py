"""Stage 5: the design on a training set, and time-based model selection.

:func:`build_design` bins every candidate on the training units, keeps those
with an information value of at least ``min_iv``, drops every feature
whose binned values correlate at ``max_correlation`` or more with those of
a stronger one (they carry the same information: windows the data do not
tell apart, nested industry codes; of two windows of one statistic that
the training data cannot tell apart, the longer one stays), and keeps the
``max_candidates`` strongest. :func:`select_model` chooses the penalty and
the number of features on time-based folds inside the training window:
fold ``j`` trains on the snapshots before ``V_j = K - j * step_days``
(outcomes before ``V_j`` only, re-binned there) and validates on the
snapshot ``V_j`` (outcomes before ``K``). The chosen pair is the simplest
whose mean validation AUC is within ``tolerance`` of the best.
:func:`fit_at` then fits the chosen model on everything before ``K``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditsup._calibration import auc_score
from creditsup._random import derive_key, keyed_uniform
from creditsup.exceptions import ConfigError
from creditsup.fit.binning import FeatureBins, bin_feature
from creditsup.fit.candidates import Candidate, window_key
from creditsup.fit.model import GridModel, grid_models, penalty_path
from creditsup.fit.options import FitOptions
from creditsup.fit.units import Units
from creditsup.scoring import to_day
from creditsup.scoring._arrays import BoolArray, FloatArray, IntArray

__all__ = [
    "Design",
    "FittedModel",
    "build_design",
    "fit_at",
    "select_model",
    "unit_weights",
]

logger = logging.getLogger(__name__)

#: Fewest training units (and events) for a fold or a fit.
_MIN_UNITS = 50
_MIN_EVENTS = 5
#: Correlation above which two windows of one statistic are the same feature.
_SAME = 0.99

Values = Mapping[str, FloatArray | IntArray]


@dataclass(frozen=True)
class Design:
    """The screened, binned features of one training set (columns of ``x``)."""

    bins: list[FeatureBins]
    x: FloatArray
    y: BoolArray
    w: FloatArray

    def transform(self, values: Values, mask: BoolArray) -> FloatArray:
        """The design columns of other units (e.g. a validation snapshot)."""
        cols = [fb.transform(np.asarray(values[fb.name])[mask]) for fb in self.bins]
        n = int(mask.sum())
        return np.column_stack(cols) if cols else np.zeros((n, 0))


def _subset(units: Units, mask: BoolArray, options: FitOptions) -> BoolArray:
    """At most ``max_units`` of the masked units (a keyed, order-free subset)."""
    n = int(mask.sum())
    if n <= options.max_units:
        return mask
    ids = np.char.add(
        units.uscc[mask].astype(str), units.snapshot[mask].astype(str)
    ).astype(object)
    u = keyed_uniform(ids, derive_key(options.seed, "fit-units"))
    keep = np.argsort(u, kind="stable")[: options.max_units]
    out = np.zeros(len(mask), dtype=bool)
    out[np.flatnonzero(mask)[keep]] = True
    return out


def _history_target(
    units: Units, mask: BoolArray, cutoff: pd.Timestamp, options: FitOptions
) -> float:
    """The share of units with history that ``history_weights`` aims at."""
    if options.history_weights == "latest":
        snap = units.snapshot[mask]
        latest = snap == snap.max()
        return float(units.has_history[mask][latest].mean())
    if units.population is None:
        return float("nan")
    est, seen = units.population
    k = to_day(cutoff)
    alive = est < k
    return float((seen[alive] < k).mean()) if alive.any() else float("nan")


def unit_weights(
    units: Units,
    mask: BoolArray,
    options: FitOptions,
    cutoff: pd.Timestamp | None = None,
) -> FloatArray:
    """Weights of the masked units (mean 1).

    Every unit weighs 1 (``snapshot_weights='units'``, the default), or
    every snapshot weighs the same (``'equal'``): a snapshot far from the
    cut-off has a longer outcome window, so more units, but the least history
    behind them, and outweighs those most like the day the scorecard is used.

    Examples
    --------
    >>> z = np.zeros(4, dtype=np.int64)
    >>> u = Units(z, np.array(list("abcd"), dtype=object), np.array([1, 1, 1, 2]),
    ...           z, z, np.zeros(4, dtype=bool), pd.Timestamp("2020-01-01"))
    >>> opts = FitOptions(snapshot_weights="equal")
    >>> unit_weights(u, np.ones(4, dtype=bool), opts).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    snap = units.snapshot[mask]
    w = np.ones(len(snap), dtype=np.float64)
    if len(snap) == 0:
        return w
    if options.snapshot_weights == "equal":
        _, inverse, counts = np.unique(snap, return_inverse=True, return_counts=True)
        w = len(snap) / (len(counts) * counts[inverse].astype(np.float64))
    if options.history_weights == "none":
        return np.asarray(w, dtype=np.float64)
    target = _history_target(
        units, mask, units.cutoff if cutoff is None else cutoff, options
    )
    h = units.has_history[mask]
    share = float(w[h].sum() / w.sum())
    if 0.0 < share < 1.0 and 0.0 < target < 1.0:
        w = w * np.where(h, target / share, (1.0 - target) / (1.0 - share))
    return np.asarray(w * (len(w) / w.sum()), dtype=np.float64)


def build_design(
    candidates: Sequence[Candidate],
    values: Values,
    units: Units,
    mask: BoolArray,
    options: FitOptions,
    cutoff: pd.Timestamp | None = None,
) -> Design:
    """Stage: bin every candidate on the masked units, then screen them
    (``cutoff``: the one the masked units are clipped at)."""
    y = units.y[mask]
    w = unit_weights(units, mask, options, cutoff)
    binned: list[FeatureBins] = []
    for c in candidates:
        v = np.asarray(values[c.name])[mask]
        k = len(c.indicator.categories) if c.kind == "categorical" else None
        fb = bin_feature(c.name, v, y, options, n_categories=k, weight=w)
        if fb is not None and fb.iv >= options.min_iv:
            binned.append(fb)
    binned.sort(key=lambda fb: (-round(fb.iv, 12), fb.name))
    sub = _subset(units, mask, options)[mask]
    window = {c.name: window_key(c) for c in candidates}
    kept: list[FeatureBins] = []
    cols: list[FloatArray] = []
    unit: list[FloatArray] = []  # kept columns, centred and scaled to norm 1
    for fb in binned:
        col = fb.transform(np.asarray(values[fb.name])[mask])[sub]
        z = col - col.mean()
        norm = float(np.sqrt(z @ z))
        if norm == 0.0:
            continue
        z /= norm
        if unit:
            corr = np.abs(np.column_stack(unit).T @ z)
            j = int(np.argmax(corr))
            if corr[j] >= min(options.max_correlation, 1.0 - 1e-9):
                # (nearly) the same information as a stronger feature; the same
                # statistic over a longer window that the training data cannot
                # tell apart from it replaces it (it uses more data when scoring)
                a, b = window[kept[j].name], window[fb.name]
                if corr[j] >= _SAME and a[0] == b[0] and b[1] > a[1]:
                    kept[j], cols[j], unit[j] = fb, col, z
                continue
        kept.append(fb)
        cols.append(col)
        unit.append(z)
        if len(kept) >= options.max_candidates:
            break
    x = np.column_stack(cols) if cols else np.zeros((int(sub.sum()), 0))
    return Design(kept, x, y[sub], w[sub])


def _enough(y: BoolArray) -> bool:
    return len(y) >= _MIN_UNITS and _MIN_EVENTS <= int(y.sum()) <= len(y) - _MIN_EVENTS


def _fold_rows(
    j: int,
    design: Design,
    models: Sequence[GridModel],
    x_val: FloatArray,
    y_val: BoolArray,
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for m in models:
        auc = auc_score(y_val, m.predict_logit(x_val)) if m.n_features else 0.5
        rows.append(
            {
                "fold": j,
                "ratio": m.ratio,
                "k": m.k,
                "n_features": m.n_features,
                "auc": auc,
                "n_train": len(design.y),
                "n_validate": len(y_val),
            }
        )
    return rows


def select_model(
    candidates: Sequence[Candidate],
    values: Values,
    units: Units,
    cutoff: pd.Timestamp,
    options: FitOptions,
) -> tuple[float, int, pd.DataFrame]:
    """Stage: choose the penalty ratio and the number of features.

    Returns
    -------
    ratio, k, table
        The chosen pair, and one row per fold and grid model (``fold, ratio,
        k, n_features, auc, n_train, n_validate``).
    """
    rows: list[dict[str, object]] = []
    step = pd.Timedelta(days=options.step_days)
    for j in range(1, options.n_folds + 1):
        v = cutoff - j * step
        train, val = units.before(v), units.at(v, cutoff)
        if not (_enough(units.y[train]) and _enough(units.y[val])):
            continue
        design = build_design(candidates, values, units, train, options, v)
        if design.x.shape[1] == 0:
            continue
        path = penalty_path(
            design.x,
            design.y,
            n_penalties=options.n_penalties,
            min_ratio=options.min_penalty_ratio,
            weight=design.w,
        )
        models = grid_models(
            design.x, design.y, path, options.feature_grid, weight=design.w
        )
        rows += _fold_rows(
            j, design, models, design.transform(values, val), units.y[val]
        )
    table = pd.DataFrame(
        rows,
        columns=["fold", "ratio", "k", "n_features", "auc", "n_train", "n_validate"],
    )
    if len(table) == 0:
        logger.warning(
            "No validation fold has enough units before %s; using the smallest "
            "penalty and at most %d features.",
            cutoff.date(),
            max(options.feature_grid),
        )
        return options.min_penalty_ratio, max(options.feature_grid), table
    mean = (
        table.groupby(["ratio", "k"], sort=True)
        .agg(auc=("auc", "mean"), n_features=("n_features", "mean"))
        .reset_index()
    )
    best = float(mean["auc"].max())
    near = mean[mean["auc"] >= best - options.tolerance]
    pick = near.sort_values(
        ["n_features", "k", "ratio"], ascending=[True, True, False], kind="stable"
    ).iloc[0]
    return float(pick["ratio"]), int(pick["k"]), table


@dataclass(frozen=True)
class FittedModel:
    """The model fitted on everything before a cut-off.

    ``bins`` and ``beta`` hold the features with a non-zero coefficient;
    ``intercept`` is ``a`` of ``logit p = a + sum(beta * x)``.
    """

    cutoff: pd.Timestamp
    bins: list[FeatureBins]
    beta: FloatArray
    intercept: float
    ratio: float
    k: int
    selection: pd.DataFrame
    n_units: int
    n_events: int
    screened: list[FeatureBins]


def fit_at(
    candidates: Sequence[Candidate],
    values: Values,
    units: Units,
    cutoff: pd.Timestamp,
    options: FitOptions,
) -> FittedModel:
    """Stage: select on folds before ``cutoff``, then fit on all before it.

    Raises
    ------
    ConfigError
        Too few training units or events before ``cutoff``, or no candidate
        feature separates them.
    """
    train = units.before(cutoff)
    if not _enough(units.y[train]):
        raise ConfigError(
            f"Fitting a scorecard needs at least {_MIN_UNITS} training units with "
            f"{_MIN_EVENTS} events and {_MIN_EVENTS} non-events before "
            f"{cutoff.date()}. Got {int(train.sum())} units with "
            f"{int(units.y[train].sum())} events instead."
        )
    ratio, k, table = select_model(candidates, values, units, cutoff, options)
    design = build_design(candidates, values, units, train, options, cutoff)
    if design.x.shape[1] == 0:
        raise ConfigError(
            f"No candidate feature has an information value of at least "
            f"{options.min_iv} before {cutoff.date()}; nothing to fit."
        )
    path = penalty_path(
        design.x,
        design.y,
        n_penalties=options.n_penalties,
        min_ratio=options.min_penalty_ratio,
        weight=design.w,
    )
    models = grid_models(design.x, design.y, path, [k], weight=design.w)
    model = min(models, key=lambda m: abs(np.log(m.ratio) - np.log(ratio)))
    beta = model.theta[1:]
    used = beta > 0
    feats = model.features[used]
    return FittedModel(
        cutoff=cutoff,
        bins=[design.bins[i] for i in feats],
        beta=beta[used],
        intercept=float(model.theta[0]),
        ratio=model.ratio,
        k=k,
        selection=table,
        n_units=int(train.sum()),
        n_events=int(units.y[train].sum()),
        screened=design.bins,
    )
