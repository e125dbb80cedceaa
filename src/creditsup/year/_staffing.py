"""Teams for visits drawn after the plan, from the capacity left in their month.

Used by triggered checks (new visits) and by a joining inspector (visits that
were left unfilled): the visits are staffed month by month under the plan's
hard rules, each inspector's capacity reduced by the visits she already has
that month; nothing moves to another month (no repair).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from creditsup.assignment import assign_inspectors
from creditsup.config import parse_config
from creditsup.plan import InspectionPlan
from creditsup.policy import Policy
from creditsup.schemas import Dataset

__all__ = ["staff_visits"]


def staff_visits(
    plan: InspectionPlan, visits: pd.DataFrame, ds: Dataset, label: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """Staff ``visits`` from the capacity the plan's other visits leave.

    Returns the visits with their ``status``, their assignments and the
    diagnosis of those left unfilled. The random streams are
    ``<seed>|<label>|<month>``. Visits of ``visits`` already in the plan
    (re-staffed) do not count against the capacity.
    """
    policy = parse_config(Policy, plan.provenance["policy"]).assignment
    policy = policy.model_copy(update={"repair": False})
    month_of = plan.visits.set_index(plan.visits["visit_id"].astype(str))["month"]
    live = plan.visits["status"].astype(str).ne("cancelled") & ~plan.visits[
        "visit_id"
    ].isin(set(visits["visit_id"]))
    busy = plan.assignments[
        plan.assignments["visit_id"].isin(set(plan.visits.loc[live, "visit_id"]))
    ]
    busy = busy.assign(month=busy["visit_id"].map(month_of).astype(int))
    year, seed = int(plan.provenance["year"]), str(plan.provenance["seed"])
    out_v, out_a, unfilled = [], [], []
    for month, vs in visits.groupby("month", sort=True):  # at most 12 groups
        load = busy[busy["month"].eq(month)].groupby("inspector_id").size()
        insp = ds.inspectors.copy()
        used = insp["inspector_id"].astype(str).map(load).fillna(0).astype(int)
        insp["monthly_capacity"] = (insp["monthly_capacity"] - used).clip(lower=0)
        got = assign_inspectors(
            vs, dataclasses.replace(ds, inspectors=insp), policy, year=year,
            seed=f"{seed}|{label}|{month}",
        )  # fmt: skip
        out_v.append(got.visits)
        out_a.append(got.assignments)
        unfilled += list(got.diagnostics.get("unfilled", []))
    return pd.concat(out_v, ignore_index=True), pd.concat(out_a), unfilled
