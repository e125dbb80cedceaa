"""Shared by the stages of the year: the year's tables in the bundle, the ledger.

The year's tables live in :attr:`InspectionPlan.extra_tables` as text columns
(``results.csv``, ``followups.csv``, ``replans.csv``), so that a bundle saved
and loaded again writes the same bytes. Every step appends one hash-chained
record to the ledger; :func:`creditsup.plan.verify_plan` replays it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pydantic import Field

from creditsup.config import FrozenModel
from creditsup.exceptions import ConfigError
from creditsup.io import csv_bytes
from creditsup.plan import InspectionPlan
from creditsup.plan._ledger import canonical, sha256
from creditsup.workdays import WorkCalendar

__all__ = ["YearPolicy"]

#: Columns of ``results.csv`` in the bundle, in order.
RESULT_COLUMNS = (
    "visit_id",
    "uscc",
    "date",
    "result",
    "inspector_ids",
    "items",
    "notes",
    "transfer_to",
    "departments",
    "due_date",
    "batch",
)
#: Columns of ``followups.csv`` in the bundle, in order.
FOLLOWUP_COLUMNS = (
    "followup_id",
    "visit_id",
    "uscc",
    "kind",
    "department",
    "opened_on",
    "due_date",
    "status",
    "closed_on",
    "outcome",
    "severity",
    "restored_on",
    "notes",
    "closed_batch",
)
#: Columns of ``replans.csv`` in the bundle, in order.
REPLAN_COLUMNS = (
    "batch",
    "kind",
    "id",
    "from_date",
    "value",
    "reason",
    "visit_id",
    "old_inspector_id",
    "new_inspector_id",
    "outcome",
)
#: Columns of ``triggers.csv`` (triggered checks) in the bundle, in order.
TRIGGER_LOG_COLUMNS = (
    "uscc",
    "date",
    "trigger",
    "items",
    "reference",
    "notes",
    "visit_id",
    "batch",
    "status",
)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "results.csv": RESULT_COLUMNS,
    "triggers.csv": TRIGGER_LOG_COLUMNS,
    "followups.csv": FOLLOWUP_COLUMNS,
    "replans.csv": REPLAN_COLUMNS,
}


class YearPolicy(FrozenModel):
    """Deadlines of the year, in working days on the official calendar.

    Recorded in the ledger with every step that uses them, so that
    :func:`~creditsup.plan.verify_plan` replays the same due dates.

    Examples
    --------
    >>> YearPolicy().publication_days
    20
    >>> YearPolicy(abnormal_list_days=0)
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'abnormal_list_days' of YearPolicy must be >= 1. Got 0 instead.
    """

    publication_days: int = Field(
        default=20, ge=1, le=250, description="R18: publish a result within N."
    )
    abnormal_list_days: int = Field(
        default=10, ge=1, le=250, description="R20: unreachable → abnormal list."
    )
    case_days: int = Field(
        default=15, ge=1, le=250, description="R20: problem found → open a case."
    )
    reinspection_days: int = Field(
        default=30, ge=1, le=250, description="R20: problem found → re-inspection."
    )
    transfer_days: int = Field(
        default=5, ge=1, le=250, description="R20: out of remit → transfer."
    )


def table(plan: InspectionPlan, name: str) -> pd.DataFrame:
    """The year's table ``name`` of the plan (empty, with its columns, if none)."""
    cols = TABLE_COLUMNS[name]
    df = plan.extra_tables.get(name)
    if df is None or not len(df.columns):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = df.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = ""
    return out[list(cols)].fillna("").astype(str)


def rows_sha256(df: pd.DataFrame) -> str:
    """SHA-256 of a frame's CSV bytes (the frame as written)."""
    return sha256(csv_bytes(df.reset_index(drop=True)))


def now_iso() -> str:
    """Now, UTC, to the second."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def calendar_json(calendar: WorkCalendar | None) -> dict[str, Any] | None:
    """A supplied calendar as recorded in the ledger (``None`` when none)."""
    if calendar is None:
        return None
    data = calendar.model_dump(mode="json")
    for key in ("holidays", "workdays", "years"):  # sets: sorted, for stable bytes
        data[key] = sorted(data[key])
    return data


def calendar_from(record: Mapping[str, Any]) -> WorkCalendar | None:
    """The calendar a ledger record used."""
    data = record.get("calendar")
    return None if data is None else WorkCalendar.model_validate(data)


def policy_from(record: Mapping[str, Any]) -> YearPolicy:
    """The deadlines a ledger record used."""
    return YearPolicy.model_validate(record.get("year_policy") or {})


def with_step(
    plan: InspectionPlan,
    body: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    **changes: Any,
) -> InspectionPlan:
    """The plan with ``tables`` replaced and one record appended to the ledger.

    The record carries the SHA-256 of every table it changes, its sequence
    number and the previous record's hash (the chain of :mod:`creditsup.plan`).
    """
    extra = dict(plan.extra_tables)
    hashes = {}
    for name, df in tables.items():
        cols = list(TABLE_COLUMNS.get(name, df.columns))
        frame = df[cols].fillna("").astype(str).reset_index(drop=True)
        extra[name] = frame
        hashes[name.removesuffix(".csv").replace("-", "_") + "_sha256"] = rows_sha256(
            frame
        )
    rec: dict[str, Any] = {**body, **hashes}
    if plan.ledger:
        rec["seq"] = int(plan.ledger[-1]["seq"]) + 1
        rec["prev_hash"] = plan.ledger[-1]["hash"]
    else:  # pragma: no cover - a plan always has a ledger
        raise ConfigError("The plan has no ledger; build it with build_plan.")
    rec["hash"] = sha256(canonical(rec))
    return dataclasses.replace(
        plan,
        extra_tables=extra,
        ledger=[*plan.ledger, rec],
        provenance={**plan.provenance, "ledger_head": rec["hash"]},
        **changes,
    )


def next_batch(plan: InspectionPlan, stage: str) -> int:
    """The number of the next ``stage`` step (0, 1, ...)."""
    return sum(1 for r in plan.ledger if r.get("stage") == stage)
