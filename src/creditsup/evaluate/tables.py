"""Stage 6: the result tables (per tier, per history group, per entity, per draw).

Per tier: n, event rate and its Wilson 95 % interval (it should rise with
the tier), mean predicted probability, mean ``pi`` and share of the budget.
Per history group: the same for entities with and without inspections
before ``T``, with the AUC within each group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._calibration import auc_score, event_rates, tier_rates
from creditsup.evaluate.inclusion import Inclusion
from creditsup.evaluate.score import Evaluated
from creditsup.scoring._arrays import FloatArray

__all__ = [
    "SCORES_COLUMNS",
    "group_table",
    "scores_table",
    "simulations_table",
    "tier_table",
]

#: Columns of :attr:`BacktestResult.scores`.
SCORES_COLUMNS = (
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
)
_GROUPS = ("with_history", "no_history")


def _per_tier(
    tier: npt.NDArray[np.object_],
    labels: Sequence[str],
    values: FloatArray | None,
    how: str,
) -> list[float]:
    """``how`` ('mean' or 'sum') of ``values`` per tier; NaN for an empty tier
    (mean) or without values."""
    out = []
    for t in labels:
        m = tier == t
        if values is None or (how == "mean" and not m.any()):
            out.append(float("nan"))
        else:
            out.append(float(getattr(values[m], how)()))
    return out


def tier_table(
    evaluated: Evaluated,
    inclusion: Inclusion,
    predicted: FloatArray | None,
    labels: Sequence[str],
) -> pd.DataFrame:
    """Stage: ``tier, n, events, rate, rate_lo, rate_hi, mean_predicted, pi,
    expected_visits, budget_share`` of the evaluated entities."""
    tier, total = evaluated.tier, inclusion.total
    out = tier_rates(labels, tier, evaluated.y)
    out["mean_predicted"] = _per_tier(tier, labels, predicted, "mean")
    out["pi"] = _per_tier(tier, labels, inclusion.pi, "mean")
    out["expected_visits"] = _per_tier(tier, labels, inclusion.pi, "sum")
    out["budget_share"] = out["expected_visits"] / total if total > 0 else 0.0
    return out


def group_table(evaluated: Evaluated) -> pd.DataFrame:
    """Stage: ``group, n, events, rate, rate_lo, rate_hi, auc, mean_score`` for
    evaluated entities with and without history before ``T``."""
    ev, y = evaluated.ev, evaluated.y
    hh = ev["has_history"].to_numpy(dtype=bool)
    score = ev["score"].to_numpy()
    out = event_rates(_GROUPS, np.where(hh, *_GROUPS).astype(object), y)
    out.insert(0, "group", list(_GROUPS))
    masks = (hh, ~hh)
    nan = float("nan")
    out["auc"] = [auc_score(y[m], score[m]) if m.any() else nan for m in masks]
    out["mean_score"] = [float(score[m].mean()) if m.any() else nan for m in masks]
    return out


def scores_table(
    evaluated: Evaluated, inclusion: Inclusion, predicted: FloatArray | None
) -> pd.DataFrame:
    """Stage: every rated entity (:data:`SCORES_COLUMNS`); ``pi`` 0 and no
    prediction when not evaluated."""
    table = evaluated.table.copy()
    evm = evaluated.mask
    table["predicted"] = np.nan
    table["pi"] = 0.0
    if predicted is not None:
        table.loc[evm, "predicted"] = predicted
    table.loc[evm, "pi"] = inclusion.pi
    table["y"] = table["y"].astype("boolean")
    return table.loc[:, list(SCORES_COLUMNS)]


def simulations_table(
    pis: Mapping[str, FloatArray], hits: pd.DataFrame, drawn: pd.DataFrame
) -> pd.DataFrame:
    """Stage: ``draw, method, hit_rate, drawn`` per simulated draw and method."""
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "draw": np.arange(len(hits)),
                    "method": name,
                    "hit_rate": hits[name].to_numpy(),
                    "drawn": drawn[name].to_numpy(),
                }
            )
            for name in pis
        ],
        ignore_index=True,
    )
