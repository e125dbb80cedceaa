"""Batch draws (R06): a batch's inspectors drawn when it opens, from that day's roster.

A bureau may draw the inspectors of a batch (the visits of some months) just
before it opens rather than in January. :func:`draw_batch` takes that day's
dataset (its ``inspectors`` and ``conflicts`` may differ from the plan's; the
other tables must be the plan's), and re-draws the teams of the batch's visits
that have no result yet, at random under the same hard rules, from the
capacity the other visits leave, with a seed of its own: for example a
lottery result drawn later, declared in advance with
:func:`batch_commitment` (which binds the plan, the batch, the roster and the
seed source). Visits outside the batch keep their teams byte for byte. The
roster is kept in the bundle (``batch-<name>-inspectors.csv`` and
``-conflicts.csv``) and the draw in the ledger, so
:func:`~creditsup.plan.verify_plan` replays it like the plan.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from creditsup.assignment import assign_inspectors
from creditsup.config import parse_config
from creditsup.exceptions import ConfigError
from creditsup.plan import InspectionPlan, SeedSource
from creditsup.plan._ledger import canonical, sha256
from creditsup.policy import Policy
from creditsup.schemas import VISIT_COLUMNS, Dataset
from creditsup.schemas.dataset import table_hash
from creditsup.year._bundle import now_iso, table, with_step
from creditsup.year._checks import as_text_table

__all__ = ["BatchDraw", "batch_commitment", "batch_months", "draw_batch"]

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^(?P<a>[0-9]{1,2})(?:-(?P<b>[0-9]{1,2}))?$")
#: The roster tables a batch draw may take from its own day.
ROSTER_TABLES = ("inspectors", "conflicts")


def batch_months(name: str) -> tuple[int, ...]:
    """The months of a batch named ``"7"`` or ``"7-9"``.

    Examples
    --------
    >>> batch_months("7-9")
    (7, 8, 9)
    >>> batch_months("13")
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'batch' must be a month or a range of months such as 7 or 7-9. Got '13' instead.
    """
    m = _NAME.match(str(name).strip())
    a = int(m["a"]) if m else 0
    b = int(m["b"] or a) if m else 0
    if not m or not 1 <= a <= b <= 12:
        raise ConfigError(
            "The 'batch' must be a month or a range of months such as 7 or 7-9. "
            f"Got {name!r} instead."
        )
    return tuple(range(a, b + 1))


def _same_data(plan: InspectionPlan, roster: Dataset) -> None:
    recorded = plan.provenance.get("inputs", {})
    differ = [
        t
        for t, h in roster.table_hashes().items()
        if t not in ROSTER_TABLES and recorded.get(t) != h
    ]
    if differ:
        raise ConfigError(
            f"The batch's dataset may differ from the plan's only in {list(ROSTER_TABLES)}; "
            f"the tables {differ} differ from the hashes in provenance.json."
        )


def batch_commitment(
    plan: InspectionPlan,
    roster: Dataset,
    *,
    batch: str,
    seed_source: SeedSource | None = None,
) -> str:
    """The hash to publish before the batch's seed is known.

    It binds the plan (its ledger head), the batch, that day's roster and the
    declared seed source, so none of them can be chosen after the seed.
    """
    months = batch_months(batch)
    payload: dict[str, Any] = {
        "commitment": "creditsup-batch/1",
        "ledger_head": plan.provenance.get("ledger_head"),
        "months": list(months),
        "roster": {t: table_hash(getattr(roster, t)) for t in ROSTER_TABLES},
    }
    if seed_source is not None:
        payload["seed_source"] = seed_source.as_json()
    return sha256(canonical(payload))


@dataclass(frozen=True)
class BatchDraw:
    """What :func:`draw_batch` did: the new plan and the batch's visits."""

    plan: InspectionPlan
    visits: pd.DataFrame
    commitment: str

    @property
    def unfilled(self) -> list[str]:
        """The batch's visits no team could staff."""
        return sorted(self.visits.loc[self.visits["status"].eq("unfilled"), "visit_id"])


def _restaff(
    plan: InspectionPlan, roster: Dataset, months: tuple[int, ...], seed: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]], set[str]]:
    """New teams for the batch's open visits from the capacity others leave."""
    v = plan.visits
    done = set(table(plan, "results.csv")["visit_id"])
    in_batch = (
        v["month"].astype(int).isin(months)
        & v["status"].astype(str).ne("cancelled")
        & ~v["visit_id"].astype(str).isin(done)
    )
    ids = set(v.loc[in_batch, "visit_id"].astype(str))
    others = plan.assignments[~plan.assignments["visit_id"].isin(ids)]
    month_of = v.set_index(v["visit_id"].astype(str))["month"].astype(int)
    live = set(v.loc[v["status"].astype(str).ne("cancelled"), "visit_id"])
    busy = others[others["visit_id"].isin(live)]
    busy = busy.assign(month=busy["visit_id"].map(month_of))
    policy = parse_config(Policy, plan.provenance["policy"]).assignment
    policy = policy.model_copy(update={"repair": False})
    year = int(plan.provenance["year"])
    parts_v, parts_a, unfilled = [], [], []
    for month in months:  # at most 12
        vs = v[in_batch & v["month"].astype(int).eq(month)]
        if not len(vs):
            continue
        load = busy[busy["month"].eq(month)].groupby("inspector_id").size()
        insp = roster.inspectors.copy()
        used = insp["inspector_id"].astype(str).map(load).fillna(0).astype(int)
        insp["monthly_capacity"] = (insp["monthly_capacity"] - used).clip(lower=0)
        got = assign_inspectors(
            vs[list(VISIT_COLUMNS)],
            dataclasses.replace(roster, inspectors=insp),
            policy,
            year=year,
            seed=f"{seed}|batch|{month}",
        )
        parts_v.append(got.visits[["visit_id", "status"]])
        parts_a.append(got.assignments)
        unfilled += list(got.diagnostics.get("unfilled", []))
    staffed = (
        pd.concat(parts_v, ignore_index=True)
        if parts_v
        else pd.DataFrame(columns=["visit_id", "status"])
    )
    teams = pd.concat([others, *parts_a], ignore_index=True)
    return staffed, teams, unfilled, ids


def draw_batch(
    plan: InspectionPlan,
    roster: Dataset,
    *,
    batch: str,
    seed: str,
    seed_source: SeedSource | None = None,
    operator: str = "",
    recorded_at: str | None = None,
) -> BatchDraw:
    """Draw the teams of a batch's visits when it opens, from that day's roster.

    Parameters
    ----------
    plan : InspectionPlan
        The year's plan.
    roster : Dataset
        That day's dataset: the plan's tables, with that day's ``inspectors``
        and ``conflicts``.
    batch : str
        The batch's months: ``"7"`` or ``"7-9"``.
    seed : str
        The batch's seed (e.g. a lottery result drawn after the commitment).
    seed_source : SeedSource, optional
        Where the seed comes from, as declared in :func:`batch_commitment`; a
        seed without the declared form is refused.
    operator, recorded_at : str
        For the ledger (a replay passes ``recorded_at``).
    """
    months = batch_months(batch)
    if not isinstance(seed, str) or not seed:
        raise ConfigError(
            f"The 'seed' must be a non-empty string. Got {seed!r} instead."
        )
    if seed_source is not None and (problem := seed_source.check(seed)):
        raise ConfigError(f"The 'seed' cannot be used: {problem}.")
    _same_data(plan, roster)
    commitment = batch_commitment(plan, roster, batch=batch, seed_source=seed_source)
    staffed, teams, unfilled, ids = _restaff(plan, roster, months, seed)
    visits = plan.visits.copy()
    status = staffed.set_index("visit_id")["status"]
    hit = visits["visit_id"].isin(ids)
    visits.loc[hit, "status"] = visits.loc[hit, "visit_id"].map(status)
    teams = teams.sort_values(["visit_id", "inspector_id"], kind="stable")
    kept = [u for u in plan.diagnostics.get("unfilled", []) if u["visit_id"] not in ids]
    diag = {
        "unfilled": sorted([*kept, *unfilled], key=lambda u: str(u["visit_id"])),
        "binding": list(plan.diagnostics.get("binding", [])),
    }
    name = (
        "-".join(str(m) for m in (months[0], months[-1]))
        if len(months) > 1
        else str(months[0])
    )
    snap = {
        f"batch-{name}-{t}.csv": as_text_table(getattr(roster, t), t)
        for t in ROSTER_TABLES
    }
    body: dict[str, Any] = {
        "stage": "batch",
        "batch": name,
        "months": list(months),
        "seed": seed,
        "seed_commitment": commitment,
        "roster": {t: table_hash(getattr(roster, t)) for t in ROSTER_TABLES},
        "n_visits": len(ids),
        "n_unfilled": len(unfilled),
        "operator": operator,
        "recorded_at": recorded_at or now_iso(),
    }
    if seed_source is not None:
        body["seed_source"] = seed_source.as_json()
    out = with_step(
        plan, body, snap,
        visits=visits, assignments=teams.reset_index(drop=True), diagnostics=diag,
    )  # fmt: skip
    logger.info("batch %s: %d visits re-drawn", name, len(ids))
    return BatchDraw(
        out, staffed.sort_values("visit_id").reset_index(drop=True), commitment
    )
