"""The replays of the year's ledger steps, registered with :mod:`creditsup.plan.verify`.

Each replay takes the step's inputs from the saved bundle (the rows of its
batch) or from the ledger record, and runs the stage again on the plan being
rebuilt; the bytes of every file are then compared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

from creditsup.exceptions import VerificationError
from creditsup.plan import InspectionPlan, SeedSource
from creditsup.plan.verify import register_replay
from creditsup.schemas import Dataset, validate_table
from creditsup.year._bundle import calendar_from, policy_from, table
from creditsup.year.batches import ROSTER_TABLES, draw_batch
from creditsup.year.followups import CLOSE_COLUMNS, CLOSE_OPTIONAL, close_followups
from creditsup.year.replan import replan
from creditsup.year.results import INPUT_COLUMNS, OPTIONAL_COLUMNS, record_results
from creditsup.year.triggers import TRIGGER_COLUMNS, TRIGGER_OPTIONAL, record_triggers


def _results(
    plan: InspectionPlan, _: Dataset, record: Mapping[str, Any], saved: InspectionPlan
) -> InspectionPlan:
    batch = str(record.get("batch"))
    rows = table(saved, "results.csv")
    rows = rows[rows["batch"].eq(batch)][[*INPUT_COLUMNS, *OPTIONAL_COLUMNS]]
    out = record_results(
        plan,
        rows,
        operator=str(record.get("operator", "")),
        recorded_at=str(record.get("recorded_at")),
        calendar=calendar_from(record),
        policy=policy_from(record),
    )
    if len(out.failures) or len(out.accepted) != len(rows):
        first = out.failures.head(1).to_dict(orient="records")
        raise VerificationError(
            f"results batch {batch} does not replay: {first or 'rows missing'}"
        )
    return out.plan


def _followups(
    plan: InspectionPlan, _: Dataset, record: Mapping[str, Any], saved: InspectionPlan
) -> InspectionPlan:
    batch = str(record.get("batch"))
    rows = table(saved, "followups.csv")
    rows = rows[rows["closed_batch"].eq(batch)][[*CLOSE_COLUMNS, *CLOSE_OPTIONAL]]
    out = close_followups(
        plan,
        rows,
        operator=str(record.get("operator", "")),
        recorded_at=str(record.get("recorded_at")),
    )
    if len(out.failures) or len(out.closed) != len(rows):
        raise VerificationError(f"follow-up closing batch {batch} does not replay")
    return out.plan


def _replan(
    plan: InspectionPlan, ds: Dataset, record: Mapping[str, Any], _: InspectionPlan
) -> InspectionPlan:
    changes = pd.DataFrame(list(record.get("changes") or []))
    out = replan(
        plan,
        ds,
        changes,
        operator=str(record.get("operator", "")),
        recorded_at=str(record.get("recorded_at")),
    )
    if len(out.failures):
        raise VerificationError(f"replan batch {record.get('batch')} does not replay")
    return out.plan


def _triggers(
    plan: InspectionPlan, ds: Dataset, record: Mapping[str, Any], saved: InspectionPlan
) -> InspectionPlan:
    batch = str(record.get("batch"))
    rows = table(saved, "triggers.csv")
    rows = rows[rows["batch"].eq(batch)][[*TRIGGER_COLUMNS, *TRIGGER_OPTIONAL]]
    out = record_triggers(
        plan,
        ds,
        rows,
        operator=str(record.get("operator", "")),
        recorded_at=str(record.get("recorded_at")),
    )
    if len(out.failures) or len(out.visits) != len(rows):
        raise VerificationError(f"triggers batch {batch} does not replay")
    return out.plan


def _batch(
    plan: InspectionPlan, ds: Dataset, record: Mapping[str, Any], saved: InspectionPlan
) -> InspectionPlan:
    name = str(record.get("batch"))
    snap = {}
    for t in ROSTER_TABLES:
        df = saved.extra_tables.get(f"batch-{name}-{t}.csv")
        if df is None:
            raise VerificationError(f"batch {name}: its roster file {t} is missing")
        snap[t] = validate_table(df, t)
    out = draw_batch(
        plan,
        dataclasses.replace(ds, **snap),
        batch=name,
        seed=str(record.get("seed")),
        seed_source=SeedSource.from_json(record.get("seed_source")),
        operator=str(record.get("operator", "")),
        recorded_at=str(record.get("recorded_at")),
    )
    return out.plan


register_replay("results", _results)
register_replay("batch", _batch)
register_replay("triggers", _triggers)
register_replay("replan", _replan)
register_replay("followups", _followups)
