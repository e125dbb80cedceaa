"""The plan's figures as tidy frames for the report sections: visits,
visits per department, planned against target ratios, inspector capacity.

Every function reads an :class:`~creditsup.plan.InspectionPlan` (and, for
capacity, optionally its dataset) and tolerates missing optional tables, so a
report renders for plans of older bundles too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.report._blocks import to_bool, to_num
from creditsup.schemas import TIERS, available_in, unavailable_bits

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan
    from creditsup.schemas import Dataset

__all__ = [
    "TIER_ORDER",
    "assignments_with_month",
    "capacity",
    "plan_table",
    "ratio_by_department",
    "ratio_by_strata",
    "ratio_by_tier",
    "tiers_present",
    "visit_departments",
    "visits_frame",
]

#: The tiers in display order; ``none`` = no tier.
TIER_ORDER = (*TIERS, "none")
_SUMS = ["pool_size", "_exp", "_kept"]


def visits_frame(plan: InspectionPlan) -> pd.DataFrame:
    """The plan's visits with the columns the report uses, cleaned."""
    v = plan.visits
    cols = ["visit_id", "uscc", "tier", "month", "departments", "joint"]
    out = pd.DataFrame(
        {c: v[c] if c in v.columns else pd.Series(dtype="object") for c in cols}
    )
    out["month"] = to_num(out["month"])
    out["joint"] = to_bool(out["joint"])
    out["tier"] = out["tier"].astype("string").fillna("none")
    out["departments"] = out["departments"].astype("string").fillna("")
    return out


def visit_departments(visits: pd.DataFrame) -> pd.DataFrame:
    """One row per (visit, department) of a ``departments`` ``;``-list."""
    long = visits.assign(department=visits["departments"].str.split(";")).explode(
        "department"
    )
    long["department"] = long["department"].astype("string").str.strip()
    return long[long["department"].fillna("") != ""]


def tiers_present(*series: pd.Series) -> list[str]:
    """The tiers found in ``series``, in display order (unknown ones last)."""
    seen = set()
    for s in series:
        seen |= set(s.dropna().astype(str))
    order = [x for x in TIER_ORDER if x in seen]
    return order + sorted(seen - set(order))


def plan_table(plan: InspectionPlan, *names: str) -> pd.DataFrame | None:
    """An optional extra table of the plan (e.g. ``strata``, ``capacity``)."""
    for name in names:
        df = getattr(plan, name, None)
        if isinstance(df, pd.DataFrame) and len(df):
            return df
    return None


def _section_months(plan: InspectionPlan) -> list[int]:
    months = plan.provenance.get("policy", {}).get("sampling", {}).get("months")
    if isinstance(months, list) and months:
        return sorted(int(m) for m in months)
    return list(range(1, 13))


def ratio_by_strata(plan: InspectionPlan) -> pd.DataFrame | None:
    """Planned and target ratio per (department, tier) from the strata table;
    department ``*`` holds the totals per tier."""
    strata = plan_table(plan, "strata")
    if strata is None or not {"department", "tier", "pool_size"} <= set(strata.columns):
        return None
    s = strata.copy()
    s["pool_size"] = to_num(s["pool_size"]).fillna(0)
    if "expected" in s.columns:
        s["_exp"] = to_num(s["expected"]).fillna(0)
    else:
        s["_exp"] = (
            to_num(s.get("ratio", pd.Series(np.nan, index=s.index))) * s["pool_size"]
        )
    kept = "kept" if "kept" in s.columns else "drawn"
    s["_kept"] = to_num(s[kept]).fillna(0)
    s["department"] = s["department"].astype(str)
    s["tier"] = s["tier"].astype(str)
    per = s.groupby(["department", "tier"], sort=True)[_SUMS].sum()
    tot = s.groupby(["tier"], sort=True)[_SUMS].sum()
    tot.index = pd.MultiIndex.from_product(
        [["*"], tot.index], names=["department", "tier"]
    )
    per = pd.concat([per, tot])
    pool = per["pool_size"].replace(0, np.nan)
    return pd.DataFrame(
        {
            "pool_size": per["pool_size"],
            "target": per["_exp"] / pool,
            "planned": per["_kept"] / pool,
        }
    ).reset_index()


def ratio_by_tier(plan: InspectionPlan) -> pd.DataFrame | None:
    """Planned (realised) and target ratio per tier from the accounting table."""
    acc = plan.accounting
    if not {"tier", "target_ratio", "realized_ratio"} <= set(acc.columns):
        return None
    by_tier = pd.DataFrame(
        {
            "tier": acc["tier"].astype(str),
            "pool_size": np.nan,
            "target": to_num(acc["target_ratio"]),
            "planned": to_num(acc["realized_ratio"]),
        }
    )
    return by_tier[by_tier["target"].notna() | by_tier["planned"].notna()]


def ratio_by_department(plan: InspectionPlan) -> pd.DataFrame | None:
    """Planned and target ratio per department from the tasks table."""
    tk = plan.tasks
    if not {"department", "pool_size"} <= set(tk.columns):
        return None
    tk = tk.copy()
    tk["pool_size"] = to_num(tk["pool_size"]).fillna(0)
    if "expected" in tk.columns:
        tk["_exp"] = to_num(tk["expected"]).fillna(0)
    elif "ratio" in tk.columns:
        tk["_exp"] = to_num(tk["ratio"]) * tk["pool_size"]
    else:
        tk["_exp"] = np.nan
    kept_col = next((c for c in ("kept", "drawn", "quantity") if c in tk.columns), None)
    tk["_kept"] = to_num(tk[kept_col]).fillna(0) if kept_col else np.nan
    g = tk.groupby(tk["department"].astype(str), sort=True)[_SUMS].sum(min_count=1)
    pool = g["pool_size"].replace(0, np.nan)
    return pd.DataFrame(
        {
            "department": g.index,
            "pool_size": g["pool_size"].to_numpy(),
            "target": (g["_exp"] / pool).to_numpy(),
            "planned": (g["_kept"] / pool).to_numpy(),
        }
    )


def _pool_capacity(plan: InspectionPlan, dataset: Dataset) -> pd.DataFrame:
    """Capacity per (department, month) from the inspector pool."""
    ins = dataset.inspectors
    if "active" in ins.columns:
        ins = ins[ins["active"].fillna(True).astype(bool)]
    un = unavailable_bits(ins["unavailable_months"])
    frames = []
    for m in _section_months(plan):  # 12 vectorised passes, not per inspector
        avail = available_in(un, m)
        frames.append(
            pd.DataFrame(
                {
                    "department": ins["department"].astype(str).to_numpy(),
                    "month": m,
                    "capacity_slots": np.where(
                        avail, to_num(ins["monthly_capacity"]).fillna(0), 0
                    ),
                }
            )
        )
    long = pd.concat(frames, ignore_index=True)
    return long.groupby(["department", "month"], as_index=False)[
        ["capacity_slots"]
    ].sum()


def capacity(
    plan: InspectionPlan, dataset: Dataset | None
) -> tuple[pd.DataFrame | None, str]:
    """Inspector-slot capacity per (department, month) and where it came from:
    ``plan`` (its capacity table), ``dataset`` (the inspector pool),
    ``ledger`` (annual per department only) or ``none``."""
    cap = plan_table(plan, "capacity", "months")
    if cap is not None and {"department", "month", "capacity_slots"} <= set(
        cap.columns
    ):
        out = pd.DataFrame(
            {
                "department": cap["department"].astype(str),
                "month": to_num(cap["month"]).astype("int64"),
                "capacity_slots": to_num(cap["capacity_slots"]).fillna(0),
            }
        )
        return out, "plan"
    if dataset is not None and len(dataset.inspectors):
        return _pool_capacity(plan, dataset), "dataset"
    for rec in plan.ledger:
        if rec.get("step") == "months" and isinstance(rec.get("capacity_slots"), dict):
            annual = pd.DataFrame(
                {
                    "department": list(rec["capacity_slots"]),
                    "capacity_slots": list(rec["capacity_slots"].values()),
                }
            )
            return annual, "ledger"
    return None, "none"


def assignments_with_month(plan: InspectionPlan, visits: pd.DataFrame) -> pd.DataFrame:
    """The assignments with each visit's month."""
    a = plan.assignments
    if not len(a) or "inspector_id" not in a.columns:
        return pd.DataFrame(columns=["visit_id", "inspector_id", "department", "month"])
    a = a[["visit_id", "inspector_id", "department"]].astype(
        {"visit_id": str, "inspector_id": str, "department": str}
    )
    m = visits[["visit_id", "month"]].astype({"visit_id": str})
    return a.merge(m, on="visit_id", how="left")
