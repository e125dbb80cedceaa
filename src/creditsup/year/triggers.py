"""Triggered checks (触发式监管): complaints, big-data alerts, referrals, mandates.

:func:`record_triggers` turns the rows of a ``triggers.csv`` input (``uscc``,
``date``, ``trigger``, ``items``; optional ``reference``, ``notes``) into
triggered visits (``T<year>-000001``, ...) added to the plan, each with a team
drawn at random under the same hard rules as the plan (R11-R14), from that
month's capacity left over by the plan's visits, with the roster as changed by
the year's mid-year changes. A triggered check tagged ``complaint``,
``big_data_alert``, ``referral`` or ``legal_mandate`` never uses up an
entity's yearly cap (R15); a deregistered, revoked or closed entity is never
visited. The rows are logged in ``triggers.csv`` and the ledger; the triggered
visits stay out of the public lists of the random draw (they are not drawn),
and their results are published like any other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from creditsup.exceptions import ConfigError
from creditsup.labels import codes_from_labels
from creditsup.plan import InspectionPlan
from creditsup.schemas import Dataset
from creditsup.year._bundle import (
    next_batch,
    now_iso,
    table,
    with_step,
)
from creditsup.year._checks import (
    combine,
    explode_ids,
    failures,
    parse_dates,
    split_ids,
    text_frame,
)
from creditsup.year._staffing import staff_visits
from creditsup.year.replan import roster_so_far

__all__ = ["TRIGGERED", "Triggered", "record_triggers"]

logger = logging.getLogger(__name__)

#: The triggers that may start a check outside the draw, exempt from the cap (R15).
TRIGGERED = ("complaint", "big_data_alert", "referral", "legal_mandate")
TRIGGER_COLUMNS = ("uscc", "date", "trigger", "items")
TRIGGER_OPTIONAL = ("reference", "notes")
_KEY = ("uscc", "date", "trigger", "items", "reference")


@dataclass(frozen=True)
class Triggered:
    """What :func:`record_triggers` did: the plan, the new visits, bad rows."""

    plan: InspectionPlan
    visits: pd.DataFrame
    unchanged: int
    failures: pd.DataFrame

    @property
    def changed(self) -> bool:
        """True when the bundle must be written again."""
        return len(self.visits) > 0

    @property
    def unfilled(self) -> list[str]:
        """The new triggered visits that no team could staff."""
        return sorted(self.visits.loc[self.visits["status"].eq("unfilled"), "visit_id"])


def _check(df: pd.DataFrame, plan: InspectionPlan, ds: Dataset) -> pd.DataFrame:
    t = "triggers"
    year = int(plan.provenance["year"])
    day = parse_dates(df["date"])
    ent = ds.entities.set_index(ds.entities["uscc"].astype(str))["status"]
    status = df["uscc"].map(ent)
    closed = table(plan, "replans.csv")
    closed = closed[closed["kind"].eq("entity_closed")]
    gone = df["uscc"].isin(set(closed["id"]))
    items = explode_ids(df["items"])
    unknown = items[~items.isin(set(ds.items["item_id"].astype(str)))].index.unique()
    return combine([
        failures(t, "uscc", df["uscc"], status.isna(), "unknown_entity",
                 "no entity of the data has this USCC"),
        failures(t, "uscc", df["uscc"], status.notna() & (status.ne("active") | gone),
                 "entity_inactive", "the entity is deregistered, revoked or closed"),
        failures(t, "trigger", df["trigger"], ~df["trigger"].isin(TRIGGERED),
                 "unknown_trigger", f"the trigger must be one of {list(TRIGGERED)}"),
        failures(t, "date", df["date"], day.isna(), "bad_date",
                 "the date must be YYYY-MM-DD"),
        failures(t, "date", df["date"], day.notna() & day.dt.year.ne(year),
                 "date_outside_year", f"the date is not in the plan year {year}"),
        failures(t, "items", df["items"], df["items"].eq(""), "missing_value",
                 "name the items to check"),
        failures(t, "items", df["items"], pd.Series(df.index.isin(unknown), df.index),
                 "unknown_item",
                 "an item is not in the item list"),
    ])  # fmt: skip


def _new_visits(
    rows: pd.DataFrame, plan: InspectionPlan, ds: Dataset, start: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One visit per row, numbered in a fixed order (whatever the row order)."""
    year = int(plan.provenance["year"])
    rows = rows.sort_values(list(_KEY), kind="stable").reset_index(drop=True)
    dept = ds.items.set_index(ds.items["item_id"].astype(str))["department"]
    items = explode_ids(rows["items"])
    depts = pd.Series(items.map(dept).astype(str).to_numpy(), index=items.index)
    tier = plan.scores.set_index(plan.scores["uscc"].astype(str))["tier"]
    n_dept = depts.groupby(level=0).nunique().reindex(rows.index, fill_value=0)
    return pd.DataFrame(
        {
            "visit_id": [f"T{year}-{start + i + 1:06d}" for i in range(len(rows))],
            "uscc": rows["uscc"],
            "tier": rows["uscc"].map(tier).fillna("").astype(str),
            "month": parse_dates(rows["date"]).dt.month.astype("int64"),
            "departments": split_ids(
                depts.groupby(level=0).agg(";".join).reindex(rows.index).fillna("")
            ),
            "items": rows["items"],
            "trigger": rows["trigger"],
            "joint": n_dept.gt(1).to_numpy(),
        }
    ), rows


def record_triggers(
    plan: InspectionPlan,
    dataset: Dataset,
    triggers: pd.DataFrame,
    *,
    operator: str = "",
    recorded_at: str | None = None,
) -> Triggered:
    """Add triggered visits (触发式监管) for the good rows; list every bad one.

    Parameters
    ----------
    plan : InspectionPlan
        The year's plan.
    dataset : Dataset
        The dataset the plan was drawn from (checked against its hashes).
    triggers : pandas.DataFrame
        ``uscc``, ``date``, ``trigger`` (:data:`TRIGGERED`), ``items`` (``;``
        list of item ids); optional ``reference`` (the complaint number...)
        and ``notes``. A row equal to one already recorded changes nothing.
    operator, recorded_at : str
        For the ledger (a replay passes ``recorded_at``).
    """
    recorded = plan.provenance.get("inputs", {})
    if any(recorded.get(t) != h for t, h in dataset.table_hashes().items()):
        raise ConfigError(
            "The dataset is not the one the plan was drawn from (its table hashes "
            "differ from provenance.json)."
        )
    df = text_frame(triggers, table="triggers", required=TRIGGER_COLUMNS,
                    optional=TRIGGER_OPTIONAL)  # fmt: skip
    df["items"] = split_ids(df["items"])
    labels = codes_from_labels("trigger")
    named = df["trigger"].map(labels).fillna(df["trigger"].str.lower().map(labels))
    df["trigger"] = named.where(named.notna(), df["trigger"]).astype(object)
    found = _check(df, plan, dataset)
    log = table(plan, "triggers.csv")
    seen = df[list(_KEY)].merge(
        log[list(_KEY)].assign(s=True), on=list(_KEY), how="left"
    )
    same = pd.Series(seen["s"].eq(True).to_numpy(), index=df.index)
    dup = df.duplicated(list(_KEY)) & ~same
    found = combine([found, failures("triggers", "uscc", df["uscc"], dup,
                                     "duplicate_trigger", "the row repeats an earlier row")])  # fmt: skip
    good = df[~df.index.isin(found["row"]) & ~same]
    if not len(good):
        return Triggered(plan, pd.DataFrame(columns=["visit_id", "status"]),
                         int(same.sum()), found)  # fmt: skip
    batch = next_batch(plan, "triggers")
    roster = roster_so_far(plan, dataset)
    new, rows = _new_visits(good, plan, roster, len(log))
    staffed, teams, unfilled = staff_visits(plan, new, roster, f"triggers|{batch}")
    visits = pd.concat([plan.visits, staffed], ignore_index=True)
    assignments = pd.concat([plan.assignments, teams], ignore_index=True)
    assignments = assignments.sort_values(["visit_id", "inspector_id"], kind="stable")
    diag = {
        "unfilled": [*plan.diagnostics.get("unfilled", []), *unfilled],
        "binding": list(plan.diagnostics.get("binding", [])),
    }
    status = staffed.set_index("visit_id")["status"]
    entries = rows.assign(visit_id=new["visit_id"].to_numpy(), batch=str(batch))
    entries["status"] = entries["visit_id"].map(status).astype(str)
    all_log = pd.concat([log, entries], ignore_index=True)
    body: dict[str, Any] = {
        "stage": "triggers",
        "batch": batch,
        "n_visits": len(new),
        "n_unfilled": len(unfilled),
        "operator": operator,
        "recorded_at": recorded_at or now_iso(),
    }
    out = with_step(
        plan, body, {"triggers.csv": all_log},
        visits=visits, assignments=assignments.reset_index(drop=True), diagnostics=diag,
    )  # fmt: skip
    logger.info("triggers batch %d: %d visits", batch, len(new))
    return Triggered(out, staffed[["visit_id", "uscc", "month", "trigger", "status"]],
                     int(same.sum()), found)  # fmt: skip
