"""Stage 7b: what a draw achieved against what the policy asks (global).

* :func:`floors_frame` -- each legal floor (R08, R23): required, planned
  (on the ratios), realised (in this draw), status (``ok``, ``waived``,
  ``unchecked``) and, for a realised share below a floor that the planned
  share meets, a ``floor_missed`` warning (Poisson sampling: the realised
  count is random around the planned one);
* :func:`one_door` -- visits per entity (R14): how many visited entities get
  more than one visit, against ``max_multi_visit_share``;
* :func:`capacity_report` -- the capacity check: the ``capacity_exceeded``
  (department, month, needed, available, extra inspectors, and the factor
  that would fit) and ``ratios_scaled`` warnings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from creditsup.sampling.budget import CapacityFit, realized_floors
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.pools import Allocation
from creditsup.sampling.tables import KeptVisits
from creditsup.sampling.visits import Draw

__all__ = ["capacity_report", "floors_frame", "one_door"]

Record = dict[str, Any]
_FLOOR_COLUMNS = [
    "floor",
    "required",
    "planned",
    "realized",
    "base",
    "status",
    "detail",
]


def floors_frame(
    ctx: DrawContext, pools: EntityPools, alloc: Allocation, draw: Draw, kv: KeptVisits
) -> tuple[pd.DataFrame, list[Record]]:
    """The floors table and a ``floor_missed`` warning when one is missed by chance."""
    got = realized_floors(ctx, pools, draw, kv)
    rows, missed = [], []
    for rec in alloc.floors.records:
        name = rec["floor"]
        row = {**rec, "realized": round(got[name], 6)}
        if rec["status"] == "ok" and got[name] < rec["required"] - 1e-12:
            missed.append(f"{name} {got[name]:.2%} < {rec['required']:.0%}")
        rows.append(row)
    warnings = []
    if missed:
        warnings.append(
            {
                "code": "floor_missed",
                "message": "The draw falls short of a legal floor that the ratios "
                "meet on average (Poisson sampling, or visits removed by the cap): "
                + "; ".join(missed)
                + ". ratio_mode = 'fixed' draws exact counts.",
            }
        )
    return pd.DataFrame(rows, columns=_FLOOR_COLUMNS), warnings


def one_door(
    ctx: DrawContext, pools: EntityPools, kv: KeptVisits
) -> tuple[Record, list[Record]]:
    """Visits per visited entity (R14) and the ``multi_visit_share`` warning."""
    per = np.bincount(kv.ent, minlength=len(pools.uscc))
    n_visited = int((per > 0).sum())
    n_multi = int((per > 1).sum())
    share = n_multi / n_visited if n_visited else 0.0
    stats = {
        "n_entities_visited": n_visited,
        "n_entities_multi_visit": n_multi,
        "multi_visit_share": round(share, 6),
        "max_visits_per_entity": int(per.max()) if len(per) else 0,
    }
    warnings = []
    limit = ctx.policy.max_multi_visit_share
    if share > limit:
        warnings.append(
            {
                "code": "multi_visit_share",
                "message": f"{n_multi} of {n_visited} visited entities "
                f"({share:.1%}) get more than one visit in the year, above "
                f"max_multi_visit_share = {limit:.0%} (R14: one door per entity).",
                "count": n_multi,
            }
        )
    return stats, warnings


def capacity_report(needs: pd.DataFrame, fit: CapacityFit) -> list[Record]:
    """The capacity warnings: a shortfall said out loud, a budget that scaled."""
    warnings: list[Record] = []
    if fit.budget == "capacity" and fit.scale < 1.0:
        warnings.append(
            {
                "code": "ratios_scaled",
                "message": f"budget = 'capacity': the discretionary ratios were "
                f"scaled by {fit.scale:.4f} so that the roster can staff the visits"
                + (" (held at the legal floors)." if fit.fit_scale is None else "."),
                "scale": round(fit.scale, 9),
            }
        )
    short = needs[needs["shortfall"] > 0]
    if len(short):
        extra = (
            short["extra_inspectors"]
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
        )
        capacity = [
            {
                "department": str(d),
                "month": int(m),
                "needed": int(n),
                "available": int(a),
                "extra_inspectors": None if np.isnan(x) else int(x),
            }
            for d, m, n, a, x in zip(
                short["department"].tolist(),
                short["month"].tolist(),
                short["needed"].tolist(),
                short["available"].tolist(),
                extra.tolist(),
                strict=True,
            )
        ]
        binding = [
            {
                "group": f"department {c['department']}, month {c['month']}",
                "needed": c["needed"],
                "available": c["available"],
            }
            for c in capacity
        ]
        per_dept = short.assign(x=extra).groupby("department", sort=True)["x"].max()
        more = ", ".join(
            f"{d} {int(x)}" if x == x else f"{d} (no inspector to size on)"
            for d, x in per_dept.items()
        )
        if fit.fit_scale is not None:
            remedy = (
                f"scaling the discretionary ratios by {fit.fit_scale:.4f} "
                "(budget = 'capacity') would fit"
            )
        else:
            remedy = "even the legal floors do not fit: add inspectors"
        warnings.append(
            {
                "code": "capacity_exceeded",
                "message": f"Demand exceeds inspector capacity in {len(short)} "
                f"department-month(s): {int(short['shortfall'].sum())} "
                f"inspector-slots missing; more inspectors needed: {more}; "
                f"{remedy}.",
                "binding": binding,
                "capacity": capacity,
                "fit_scale": fit.fit_scale,
            }
        )
    return warnings
