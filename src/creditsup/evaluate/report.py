"""Stage 7a: the backtest as GitHub-flavoured markdown."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from creditsup.evaluate.result import BacktestResult

__all__ = ["markdown", "markdown_table"]

_METHOD_COLUMNS = {
    "method": "method",
    "auc (95% CI)": "auc (95% CI)",
    "scorecard − method AUC (95% CI)": "scorecard − method AUC (95% CI)",
    "hit_rate": "hit rate (exact)",
    "simulated (95% range)": "simulated (95% range)",
    "lift": "lift vs uniform",
    "scorecard_wins": "draws won by scorecard",
    "floor": "floor",
}
_TIER_COLUMNS = (
    "tier",
    "n",
    "events",
    "rate (95% CI)",
    "mean_predicted",
    "pi",
    "budget_share",
)
_GROUP_COLUMNS = ("group", "n", "events", "rate (95% CI)", "auc", "mean_score")


def _fmt(x: Any, digits: int = 3) -> str:
    if isinstance(x, float | np.floating):
        if not math.isfinite(float(x)):
            return "–"
        return f"{float(x):.{digits}f}"
    return str(x)


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A frame as a markdown table (floats with ``digits``, NaN as '–').

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"a": [1], "b": [float("nan")]})))
    | a | b |
    |---|---|
    | 1 | – |
    """
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v, digits) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def _with_rate_interval(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = df.copy()
    out["rate (95% CI)"] = [
        f"{r.rate:.3f} [{r.rate_lo:.3f}, {r.rate_hi:.3f}]" if r.n else "–"
        for r in out.itertuples()
    ]
    return out.loc[:, list(columns)]


def _methods_table(methods: pd.DataFrame) -> pd.DataFrame:
    meth = methods.copy()
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
    return meth.loc[:, list(_METHOD_COLUMNS)].rename(columns=_METHOD_COLUMNS)


def _intro(m: dict[str, Any]) -> list[str]:
    calibrated = (
        "calibrated on inspections before " + m["as_of"]
        if m["calibrated"]
        else "not calibrated"
    )
    return [
        f"# Backtest as of {m['as_of']} ({m['horizon_days']}-day horizon)",
        "",
        f"Scores as of {m['scored_as_of']} (scorecard `{m['scorecard']['name']}`, "
        f"{calibrated}); "
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
    ]


def _brier(m: dict[str, Any]) -> str:
    skill = m["brier_skill"] if m["brier_skill"] is not None else float("nan")
    return (
        f"Brier score {_fmt(m['brier'], 4)} against {_fmt(m['brier_reference'], 4)} "
        "for a constant forecast at the previous window's rate (skill "
        f"{_fmt(skill, 3)})."
    )


def markdown(res: BacktestResult) -> str:
    """Stage: the report of :meth:`BacktestResult.to_markdown`."""
    lines = [
        *_intro(res.metrics),
        markdown_table(_methods_table(res.methods)),
        "",
        "## Event rate by tier (scorecard)",
        "",
        markdown_table(_with_rate_interval(res.tiers, _TIER_COLUMNS)),
        "",
        "## Entities with and without history before the split",
        "",
        markdown_table(_with_rate_interval(res.groups, _GROUP_COLUMNS)),
        "",
        "## Calibration",
        "",
        _brier(res.metrics),
        "",
    ]
    return "\n".join(lines)
