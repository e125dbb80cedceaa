"""The public view of a plan (一公开): the R06 plan table and the entity lists.

No scores, tiers, months, conflicts or inspector data leave through here (C3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.schemas import PUBLIC_PLAN_COLUMNS

if TYPE_CHECKING:
    from creditsup.plan.bundle import InspectionPlan

__all__ = ["public_view"]

_TASK_TYPE = {True: "定向", False: "不定向"}


def _task_rows(plan: InspectionPlan) -> pd.DataFrame:
    """One row per (visit, item), with the entity's name and the item's department."""
    items = plan.items
    drawn = plan.visits
    if "trigger" in drawn.columns:  # triggered checks (creditsup.year) are not drawn
        drawn = drawn[drawn["trigger"].isin(["random", "key"])]
    long = drawn[["visit_id", "uscc", "month", "items", "joint"]].copy()
    long["item_id"] = long["items"].str.split(";")
    long = long.explode("item_id")
    long = long[long["item_id"].fillna("") != ""]
    names = plan.entity_names
    if len(names):
        long = long.merge(names[["uscc", "name"]], on="uscc", how="left")
    else:
        long["name"] = ""
    if len(items):
        return long.merge(
            items[["item_id", "department", "name"]].rename(
                columns={"name": "item_name"}
            ),
            on="item_id",
            how="left",
        )
    long["department"] = ""  # pragma: no cover
    long["item_name"] = ""  # pragma: no cover
    return long  # pragma: no cover


def _entity_lists(long: pd.DataFrame, bodies: dict[str, str]) -> pd.DataFrame:
    """The per-task lists of entities to inspect, with the checking body's name."""
    cols = [
        "item_id",
        "item_name",
        "checking_body",
        "uscc",
        "name",
        "joint",
        "visit_id",
    ]
    long = long.assign(
        checking_body=long["department"].map(lambda d: bodies.get(d) or d)
    )
    entities = (
        long[cols]
        .rename(columns={"item_id": "task_id", "item_name": "task"})
        .sort_values(["task_id", "uscc"], kind="stable")
        .reset_index(drop=True)
    )
    entities["joint"] = entities["joint"].map({True: "true", False: "false"})
    return entities


def _task_window(plan: InspectionPlan) -> tuple[str, str]:
    """The scheduled window of every task: the months the policy allows.

    Never the months drawn: a task with one visit would tell its entity the
    month of an unannounced check.
    """
    year = int(plan.provenance.get("year", 0))
    sampling = plan.provenance.get("policy", {}).get("sampling", {})
    months = [int(m) for m in sampling.get("months") or range(1, 13)]
    first, last = min(months), max(months)
    end = pd.Timestamp(year=year, month=last, day=1) + pd.offsets.MonthEnd(0)
    return f"{year}-{first:02d}-01", end.strftime("%Y-%m-%d")


def _checking_bodies(plan: InspectionPlan) -> dict[str, str]:
    """Department id -> the name shown as checking body (policy, then items)."""
    items = plan.items
    pub = plan.provenance.get("policy", {}).get("publication", {})
    out: dict[str, str] = {}
    if "department_name" in items.columns:
        known = items.dropna(subset=["department_name"])
        out.update(zip(known["department"], known["department_name"], strict=True))
    out.update({k: v for k, v in (pub.get("department_names") or {}).items() if v})
    return out


def _plan_table(plan: InspectionPlan, long: pd.DataFrame) -> pd.DataFrame:
    """The R06 annual plan table: one row per task (item)."""
    items = plan.items
    pub = plan.provenance.get("policy", {}).get("publication", {})
    # The month of each visit is internal (checks are unannounced): the plan
    # table publishes the policy's window (_task_window), not the draw's months.
    per_item = (
        long.rename(columns={"item_id": "task_id"})
        .groupby("task_id")
        .agg(
            quantity=("uscc", "nunique"),
        )
    )
    cols = ["item_id", "department", "name", "legal_basis", "kind"]
    table = items[[*cols, "entity_types", "industries"]].copy()
    table = table.merge(per_item, left_on="item_id", right_index=True, how="left")
    tasks = plan.tasks
    pool = None
    if "item_id" in tasks.columns and "pool_size" in tasks.columns:
        pool = tasks.groupby("item_id")["pool_size"].max()
    table["pool_size"] = table["item_id"].map(pool) if pool is not None else np.nan
    table["quantity"] = table["quantity"].fillna(0).astype(int)
    ratio = table["quantity"] / table["pool_size"].replace(0, np.nan)
    table["ratio"] = ratio.map(lambda r: "" if pd.isna(r) else f"{100 * r:.2f}%")
    targeted = (table["entity_types"] != "*") | (table["industries"] != "*")
    table["task_type"] = targeted.map(_TASK_TYPE)
    table["scope"] = (
        "types: " + table["entity_types"] + "; industries: " + table["industries"]
    )
    table["start_date"], table["end_date"] = _task_window(plan)
    table["initiating_body"] = pub.get("initiating_body", "")
    bodies = _checking_bodies(plan)
    table["checking_body"] = table["department"].map(lambda d: bodies.get(d) or d)
    table["mode"] = pub.get("mode", "")
    plan_table = table.rename(
        columns={"item_id": "task_id", "name": "task", "kind": "item_kind"}
    )[list(PUBLIC_PLAN_COLUMNS)]
    plan_table["pool_size"] = plan_table["pool_size"].map(
        lambda x: "" if pd.isna(x) else str(int(x))
    )
    return plan_table.reset_index(drop=True)


def public_view(plan: InspectionPlan) -> dict[str, pd.DataFrame]:
    """The publication tables: ``plan`` (R06, one row per task) and ``entities``."""
    long = _task_rows(plan)
    entities = _entity_lists(long, _checking_bodies(plan))
    if not len(plan.items):  # pragma: no cover
        return {"plan": pd.DataFrame(), "entities": entities}
    return {"plan": _plan_table(plan, long), "entities": entities}
