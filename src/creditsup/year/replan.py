"""Stage 4 of the year: mid-year changes, with only the affected visits re-drawn.

:func:`replan` takes rows ``kind, id, from_date`` (optional ``value``,
``reason``):

* ``inspector_left`` (id = inspector): from that month on she is unavailable;
  each of her visits from that month on that has no result yet gets a
  replacement drawn at random under the same hard rules (R12,
  :func:`creditsup.assignment.redraw`);
* ``capacity_changed`` (id = inspector, ``value`` = new monthly capacity): in
  every month from then on where her visits exceed it, the surplus visits
  (chosen by keyed hash) get a replacement for her;
* ``inspector_joined`` (id = an inspector of the roster): active from that
  month on and available to later re-draws; the visits of her department
  from that month on that were left unfilled (no result yet) are staffed
  again from the capacity left in their month, their partial teams
  released, at random under the same rules; no staffed visit moves;
* ``entity_closed`` (id = USCC): its visits from that month on with no result
  are cancelled (status ``cancelled``, team released).

Everything else stays byte-identical. Every change, its reason and each
re-draw go into ``replans.csv`` and one ledger record, which
:func:`~creditsup.plan.verify_plan` replays from the same seed. The roster the
re-draws see is the plan's inputs with every change so far applied (a capacity
change applies to re-draws in any month from then on).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from creditsup._random import derive_key, keyed_uniform
from creditsup.assignment import AssignmentResult, redraw
from creditsup.config import parse_config
from creditsup.exceptions import ConfigError
from creditsup.plan import InspectionPlan
from creditsup.policy import Policy
from creditsup.schemas import Dataset
from creditsup.year._bundle import REPLAN_COLUMNS, next_batch, now_iso, table, with_step
from creditsup.year._checks import combine, failures, parse_dates, text_frame
from creditsup.year._staffing import staff_visits

__all__ = ["CHANGE_KINDS", "Replanned", "replan", "roster_so_far"]

logger = logging.getLogger(__name__)

#: The kinds of mid-year change.
CHANGE_KINDS = (
    "inspector_left",
    "inspector_joined",
    "entity_closed",
    "capacity_changed",
)
CHANGE_COLUMNS = ("kind", "id", "from_date")
CHANGE_OPTIONAL = ("value", "reason")


@dataclass(frozen=True)
class Replanned:
    """What :func:`replan` did: the new plan, its log rows and every bad row."""

    plan: InspectionPlan
    log: pd.DataFrame
    failures: pd.DataFrame

    @property
    def changed(self) -> bool:
        """True when the bundle must be written again."""
        return len(self.log) > 0

    def counts(self) -> dict[str, int]:
        """Changes applied, inspectors re-drawn, visits cancelled, left unfilled."""
        o = self.log["outcome"]
        return {
            "changes": int(
                self.log[["kind", "id", "from_date"]].drop_duplicates().shape[0]
            ),
            "redrawn": int(o.isin(["replaced", "removed", "unfilled"]).sum()),
            "cancelled": int(o.eq("cancelled").sum()),
            "unfilled": int(o.isin(["unfilled", "still_unfilled"]).sum()),
            "staffed": int(o.eq("staffed").sum()),
        }


def _check(df: pd.DataFrame, plan: InspectionPlan, ds: Dataset) -> pd.DataFrame:
    t = "changes"
    year = int(plan.provenance["year"])
    day = parse_dates(df["from_date"])
    insp = df["kind"].isin(["inspector_left", "inspector_joined", "capacity_changed"])
    known_insp = df["id"].isin(set(ds.inspectors["inspector_id"].astype(str)))
    known_ent = df["id"].isin(set(ds.entities["uscc"].astype(str)))
    value = pd.to_numeric(df["value"], errors="coerce")
    cap = df["kind"].eq("capacity_changed")
    return combine([
        failures(t, "kind", df["kind"], ~df["kind"].isin(CHANGE_KINDS),
                 "unknown_change", "the kind is not a known change"),
        failures(t, "from_date", df["from_date"], day.isna(), "bad_date",
                 "the date must be YYYY-MM-DD"),
        failures(t, "from_date", df["from_date"], day.notna() & day.dt.year.ne(year),
                 "date_outside_year", f"the date is not in the plan year {year}"),
        failures(t, "id", df["id"], insp & ~known_insp, "unknown_inspector",
                 "no inspector of the roster has this id"),
        failures(t, "id", df["id"], df["kind"].eq("entity_closed") & ~known_ent,
                 "unknown_entity", "no entity of the data has this USCC"),
        failures(t, "value", df["value"],
                 cap & (value.isna() | (value < 0) | (value != value.round())),
                 "wrong_type", "the new capacity must be a whole number >= 0"),
    ])  # fmt: skip


def _months_from(month: int) -> set[int]:
    return set(range(month, 13))


def _roster(ds: Dataset, changes: pd.DataFrame) -> Dataset:
    """The inspectors table with every change applied (few rows change)."""
    insp = ds.inspectors.copy()
    ids = insp["inspector_id"].astype(str)
    for ch in changes.itertuples(index=False):  # one per change, never per entity
        month = int(pd.Timestamp(str(ch.from_date)).month)
        row = ids.eq(str(ch.id))
        if ch.kind == "capacity_changed":
            insp.loc[row, "monthly_capacity"] = int(float(str(ch.value)))
            continue
        if ch.kind not in ("inspector_left", "inspector_joined"):
            continue
        off = (
            _months_from(month) if ch.kind == "inspector_left" else set(range(1, month))
        )
        for i in insp.index[row]:
            cur = {p for p in str(insp.at[i, "unavailable_months"]).split(";") if p}
            months = sorted({int(m) for m in cur} | off)
            insp.at[i, "unavailable_months"] = ";".join(str(m) for m in months)
        if ch.kind == "inspector_joined":
            insp.loc[row, "active"] = True
    return dataclasses.replace(ds, inspectors=insp)


def _open_visits(plan: InspectionPlan, month: int) -> pd.Series:
    """Visits from ``month`` on, still to be done (no result, not cancelled)."""
    v = plan.visits
    done = set(table(plan, "results.csv")["visit_id"])
    return (
        v["month"].astype(int).ge(month)
        & ~v["visit_id"].astype(str).isin(done)
        & v["status"].astype(str).ne("cancelled")
    )


def _targets(plan: InspectionPlan, ch: Any, key: str) -> list[str]:
    """The visits of an inspector a change moves her off, in visit order."""
    month = int(pd.Timestamp(str(ch.from_date)).month)
    v = plan.visits[_open_visits(plan, month)]
    a = plan.assignments
    mine = a[a["inspector_id"].astype(str).eq(str(ch.id))
             & a["visit_id"].isin(set(v["visit_id"]))]  # fmt: skip
    if ch.kind == "inspector_left":
        return sorted(mine["visit_id"].astype(str))
    cap = int(float(str(ch.value)))
    m = mine.merge(v[["visit_id", "month"]], on="visit_id")
    m = m.assign(u=keyed_uniform(m["visit_id"].astype(str).to_numpy(), key))
    m = m.sort_values(["month", "u"], kind="stable")
    surplus = m[m.groupby("month").cumcount() >= cap]
    return sorted(surplus["visit_id"].astype(str))


def _cancel(plan: InspectionPlan, ch: Any) -> tuple[InspectionPlan, list[str]]:
    month = int(pd.Timestamp(str(ch.from_date)).month)
    v = plan.visits
    hit = _open_visits(plan, month) & v["uscc"].astype(str).eq(str(ch.id))
    ids = sorted(v.loc[hit, "visit_id"].astype(str))
    if not ids:
        return plan, []
    visits = v.copy()
    visits.loc[hit, "status"] = "cancelled"
    asg = plan.assignments[~plan.assignments["visit_id"].isin(ids)]
    unfilled = plan.diagnostics.get("unfilled", [])
    diag = {
        "unfilled": [u for u in unfilled if str(u.get("visit_id")) not in ids],
        "binding": list(plan.diagnostics.get("binding", [])),
    }
    new = dataclasses.replace(
        plan, visits=visits, assignments=asg.reset_index(drop=True), diagnostics=diag
    )
    return new, ids


def _redraw(
    plan: InspectionPlan, ds: Dataset, visit_id: str, ch: Any, seed: str
) -> tuple[InspectionPlan, dict[str, Any]]:
    policy = parse_config(Policy, plan.provenance["policy"]).assignment
    current = AssignmentResult.from_tables(
        visits=plan.visits,
        assignments=plan.assignments,
        diagnostics=plan.diagnostics,
        policy=policy,
    )
    reason = str(ch.reason) or str(ch.kind)
    new = redraw(current, ds, visit_id=visit_id, inspector_id=str(ch.id),
                 reason=reason, seed=seed, policy=policy)  # fmt: skip
    last = new.redraws.iloc[-1]
    out = dataclasses.replace(
        plan,
        visits=new.visits.reset_index(drop=True),
        assignments=new.assignments.reset_index(drop=True),
        diagnostics={
            "unfilled": list(new.diagnostics.get("unfilled", [])),
            "binding": list(new.diagnostics.get("binding", [])),
        },
    )
    nid = last.get("new_inspector_id")
    return out, {
        "visit_id": visit_id,
        "old_inspector_id": str(ch.id),
        "new_inspector_id": "" if nid is None or pd.isna(nid) else str(nid),
        "outcome": str(last.get("outcome", "")),
    }


def _restaff(
    plan: InspectionPlan, ds: Dataset, ch: Any, label: str
) -> tuple[InspectionPlan, list[dict[str, Any]]]:
    """A joiner's department: its unfilled visits from her month, staffed again."""
    month = int(pd.Timestamp(str(ch.from_date)).month)
    insp = ds.inspectors
    dept = str(
        insp.loc[insp["inspector_id"].astype(str).eq(str(ch.id)), "department"].iloc[0]
    )
    v = plan.visits
    hit = (
        _open_visits(plan, month)
        & v["status"].astype(str).eq("unfilled")
        & v["departments"].astype(str).str.split(";").map(lambda d: dept in d)
    )
    if not hit.any():
        return plan, []
    ids = set(v.loc[hit, "visit_id"].astype(str))
    todo = v.loc[hit, [c for c in v.columns if c != "status"]]
    staffed, teams, unfilled = staff_visits(plan, todo, ds, label)
    status = staffed.set_index(staffed["visit_id"].astype(str))["status"]
    visits = v.copy()
    visits.loc[hit, "status"] = visits.loc[hit, "visit_id"].astype(str).map(status)
    kept = plan.assignments[~plan.assignments["visit_id"].astype(str).isin(ids)]
    asg = pd.concat([kept, teams], ignore_index=True)
    asg = asg.sort_values(["visit_id", "inspector_id"], kind="stable")
    old = plan.diagnostics.get("unfilled", [])
    diag = {
        "unfilled": [u for u in old if str(u.get("visit_id")) not in ids] + unfilled,
        "binding": list(plan.diagnostics.get("binding", [])),
    }
    new = dataclasses.replace(
        plan, visits=visits, assignments=asg.reset_index(drop=True), diagnostics=diag
    )
    team = teams.groupby(teams["visit_id"].astype(str))["inspector_id"].agg(
        lambda s: ";".join(sorted(map(str, s)))
    )
    rows = [
        {
            "visit_id": vid,
            "new_inspector_id": str(team.get(vid, "")),
            "outcome": "staffed" if status.get(vid) == "staffed" else "still_unfilled",
        }
        for vid in sorted(ids)
    ]
    return new, rows


def _apply(
    plan: InspectionPlan, ds: Dataset, changes: pd.DataFrame, batch: int
) -> tuple[InspectionPlan, list[dict[str, Any]]]:
    seed = str(plan.provenance["seed"])
    log: list[dict[str, Any]] = []
    for i, ch in enumerate(changes.itertuples(index=False)):  # one per change
        base = {"batch": str(batch), "kind": ch.kind, "id": ch.id,
                "from_date": ch.from_date, "value": ch.value, "reason": ch.reason}  # fmt: skip
        rows: list[dict[str, Any]] = []
        if ch.kind == "entity_closed":
            plan, ids = _cancel(plan, ch)
            rows = [{"visit_id": v, "outcome": "cancelled"} for v in ids]
        elif ch.kind in ("inspector_left", "capacity_changed"):
            key = derive_key(seed, "replan", batch, i)
            for j, vid in enumerate(_targets(plan, ch, key)):
                plan, row = _redraw(plan, ds, vid, ch, f"{seed}|replan|{batch}|{i}|{j}")
                rows.append(row)
        elif ch.kind == "inspector_joined":
            plan, rows = _restaff(plan, ds, ch, f"replan|{batch}|{i}")
        log += [{**base, **r} for r in rows] or [{**base, "outcome": "none"}]
    return plan, log


def _earlier(plan: InspectionPlan) -> pd.DataFrame:
    """The changes of earlier replans, once each."""
    log = table(plan, "replans.csv")
    log = log.drop_duplicates(["batch", "kind", "id", "from_date"])
    return log[[*CHANGE_COLUMNS, *CHANGE_OPTIONAL]].reset_index(drop=True)


def roster_so_far(plan: InspectionPlan, dataset: Dataset) -> Dataset:
    """The dataset with the roster as changed by every replan of the plan."""
    return _roster(dataset, _earlier(plan))


def replan(
    plan: InspectionPlan,
    dataset: Dataset,
    changes: pd.DataFrame,
    *,
    operator: str = "",
    recorded_at: str | None = None,
) -> Replanned:
    """Apply mid-year changes; only the affected visits are re-drawn.

    Parameters
    ----------
    plan : InspectionPlan
        The plan (with its results so far: visits with a result never move).
    dataset : Dataset
        The dataset the plan was drawn from (checked against its hashes); a
        joining inspector must be in its roster.
    changes : pandas.DataFrame
        Columns ``kind`` (:data:`CHANGE_KINDS`), ``id``, ``from_date``;
        optional ``value`` (the new capacity) and ``reason``.
    operator, recorded_at : str
        For the ledger (a replay passes ``recorded_at``).

    Returns
    -------
    Replanned
        Bad rows are listed in ``failures`` and not applied; good rows are.

    Raises
    ------
    ConfigError
        ``dataset`` is not the one the plan was drawn from.
    """
    recorded = plan.provenance.get("inputs", {})
    differ = [t for t, h in dataset.table_hashes().items() if recorded.get(t) != h]
    if differ:
        raise ConfigError(
            f"The dataset is not the one the plan was drawn from: the tables "
            f"{differ} differ from the hashes in provenance.json."
        )
    df = text_frame(changes, table="changes", required=CHANGE_COLUMNS,
                    optional=CHANGE_OPTIONAL)  # fmt: skip
    found = _check(df, plan, dataset)
    good = df[~df.index.isin(found["row"])]
    if not len(good):
        return Replanned(plan, pd.DataFrame(columns=list(REPLAN_COLUMNS)), found)
    batch = next_batch(plan, "replan")
    earlier = table(plan, "replans.csv").drop_duplicates(
        ["batch", "kind", "id", "from_date"]
    )
    roster = _roster(
        dataset, pd.concat([earlier[list(df.columns)], good], ignore_index=True)
    )
    new, log = _apply(plan, roster, good.reset_index(drop=True), batch)
    log_df = pd.DataFrame(log)
    for c in REPLAN_COLUMNS:
        if c not in log_df.columns:
            log_df[c] = ""
    log_df = log_df[list(REPLAN_COLUMNS)].fillna("").astype(str)
    all_log = pd.concat([table(plan, "replans.csv"), log_df], ignore_index=True)
    body: dict[str, Any] = {
        "stage": "replan",
        "batch": batch,
        "changes": good[list(df.columns)].to_dict(orient="records"),
        "operator": operator,
        "recorded_at": recorded_at or now_iso(),
        "n_redrawn": int(log_df["old_inspector_id"].ne("").sum()),
        "n_cancelled": int(log_df["outcome"].eq("cancelled").sum()),
    }
    out = with_step(new, body, {"replans.csv": all_log})
    logger.info("replan batch %d: %d log rows", batch, len(log_df))
    return Replanned(out, log_df, found)
