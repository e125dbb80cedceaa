"""Stage 7b: the backtest's charts (PNG; only when matplotlib is installed).

``tier_rates.png`` (event rate by tier with Wilson intervals, and the mean
prediction), ``roc.png`` (ROC of every ranking), ``hit_rates.png`` (hit rate
of every method at the same budget) and, when there are predictions,
``calibration.png`` (observed against predicted rate by tier).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup.scoring._arrays import BoolArray, FloatArray

if TYPE_CHECKING:
    from creditsup.evaluate.result import BacktestResult

__all__ = ["draw_charts", "roc_curve"]

logger = logging.getLogger(__name__)


def roc_curve(y: BoolArray, score: FloatArray) -> tuple[FloatArray, FloatArray]:
    """False and true positive rates at every distinct score threshold.

    Examples
    --------
    >>> fpr, tpr = roc_curve(np.array([True, False, True]), np.array([3.0, 2.0, 1.0]))
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 1.0, 1.0], [0.0, 0.5, 0.5, 1.0])
    """
    order = np.argsort(-score, kind="stable")
    s = score[order]
    yy = y[order]
    tps = np.cumsum(yy)
    fps = np.cumsum(~yy)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tpr = np.r_[0.0, tps[last] / max(int(yy.sum()), 1)]
    fpr = np.r_[0.0, fps[last] / max(int((~yy).sum()), 1)]
    return fpr.astype(np.float64), tpr.astype(np.float64)


def _rate_errors(t: pd.DataFrame) -> FloatArray:
    """Error bars (below, above) of the tiers' event rates."""
    err = np.vstack([t["rate"] - t["rate_lo"], t["rate_hi"] - t["rate"]])
    return np.asarray(err.clip(min=0), dtype=np.float64)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _tier_rates(figure: Any, res: BacktestResult, root: Path) -> Path:
    t = res.tiers
    fig = figure(figsize=(5, 3.4))
    ax = fig.subplots()
    ax.bar(
        t["tier"],
        t["rate"],
        yerr=_rate_errors(t),
        capsize=4,
        color="#4c72b0",
        label="observed",
    )
    if t["mean_predicted"].notna().any():
        ax.plot(
            t["tier"], t["mean_predicted"], "o--", color="#dd8452", label="predicted"
        )
    ax.axhline(res.metrics["event_rate"], color="grey", lw=0.8, ls=":", label="all")
    ax.set_xlabel("tier")
    ax.set_ylabel("event rate")
    ax.set_title(f"Event rate by tier (Wilson 95 %), as of {res.metrics['as_of']}")
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, root / "tier_rates.png")


def _roc(figure: Any, res: BacktestResult, root: Path) -> Path:
    fig = figure(figsize=(4.2, 4))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="uniform (0.500)")
    aucs = res.methods.set_index("method")["auc"]
    rk = res.rankings
    y = rk["y"].to_numpy(dtype=bool)
    for name in [c for c in rk.columns if c not in ("uscc", "y")]:
        fpr, tpr = roc_curve(y, rk[name].to_numpy(dtype=np.float64))
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
    return _save(fig, root / "roc.png")


def _hit_rates(figure: Any, res: BacktestResult, root: Path) -> Path:
    meth = res.methods
    fig = figure(figsize=(5.5, 3.4))
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
    return _save(fig, root / "hit_rates.png")


def _calibration(figure: Any, res: BacktestResult, root: Path) -> Path:
    t = res.tiers
    fig = figure(figsize=(4.2, 4))
    ax = fig.subplots()
    lim = float(max(t["rate_hi"].max(), t["mean_predicted"].max())) * 1.1
    ax.plot([0, lim], [0, lim], color="grey", lw=0.8, ls=":")
    ax.errorbar(
        t["mean_predicted"], t["rate"], yerr=_rate_errors(t), fmt="o", capsize=3
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
    return _save(fig, root / "calibration.png")


def draw_charts(res: BacktestResult, root: Path) -> list[Path]:
    """Stage: write the charts into ``root``; returns their paths ([] without
    matplotlib)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        logger.info(
            "matplotlib is not installed: no charts (pip install 'creditsup[report]')."
        )
        return []
    paths = [
        _tier_rates(Figure, res, root),
        _roc(Figure, res, root),
        _hit_rates(Figure, res, root),
    ]
    ev = res.scores[res.scores["evaluated"]]
    if ev["predicted"].notna().any():
        paths.append(_calibration(Figure, res, root))
    return paths
