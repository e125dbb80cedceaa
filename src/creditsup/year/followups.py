"""Stage 2 of the year: follow-ups (R20) of the recorded results.

Every accepted result may open follow-ups, each with a kind, a due date on
the official working-day calendar and a status:

* ``unreachable`` → ``abnormal_list``: put on the abnormal list (经营异常名录)
  within 10 working days;
* a problem found (``not_published``, ``false_info``, ``problem_corrected``,
  ``refused``) → a ``case`` (立案) and a ``reinspection`` (复查) visit, each
  with its own due date;
* a result naming ``transfer_to`` → a ``transfer`` (移送) to that department
  (谁审批谁监管, 谁主管谁监管).

:func:`close_followups` records their outcome (an input like the results);
:func:`followup_status` tells which are open, overdue or closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from creditsup.plan import InspectionPlan
from creditsup.workdays import WorkCalendar, due_dates
from creditsup.year._bundle import (
    FOLLOWUP_COLUMNS,
    YearPolicy,
    next_batch,
    now_iso,
    table,
    with_step,
)
from creditsup.year._checks import combine, failures, parse_dates, text_frame

__all__ = [
    "CLOSE_COLUMNS",
    "OUTCOMES",
    "ClosedFollowups",
    "close_followups",
    "followup_status",
    "open_followups",
]

logger = logging.getLogger(__name__)

#: Results that found a problem to act on (R19 → R20: a case and a re-inspection).
CASE_RESULTS = ("not_published", "false_info", "problem_corrected", "refused")
#: The outcomes that close each kind of follow-up.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "abnormal_list": ("listed", "not_listed"),
    "case": ("penalty", "warning", "no_penalty", "dropped"),
    "reinspection": ("corrected", "not_corrected"),
    "transfer": ("transferred",),
}
#: Required and optional columns of a table of closings.
CLOSE_COLUMNS = ("followup_id", "closed_on", "outcome")
CLOSE_OPTIONAL = ("severity", "restored_on", "notes")


def open_followups(
    results: pd.DataFrame,
    *,
    policy: YearPolicy | None = None,
    calendar: WorkCalendar | None = None,
) -> pd.DataFrame:
    """The follow-ups the results open (R20), as rows of ``followups.csv``.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"visit_id": ["V1", "V2"], "uscc": ["U1", "U2"],
    ...     "date": ["2025-09-26", "2025-03-03"], "result": ["unreachable", "refused"],
    ...     "departments": ["market", "food"], "transfer_to": ["", "环保局"]})
    >>> f = open_followups(r)
    >>> f["followup_id"].tolist()
    ['V1-abnormal_list', 'V2-case', 'V2-reinspection', 'V2-transfer']
    >>> f["due_date"].tolist()  # 调休: 28 Sep and 11 Oct 2025 were working days
    ['2025-10-16', '2025-03-24', '2025-04-15', '2025-03-10']
    >>> f["department"].tolist()
    ['market', 'food', 'food', '环保局']
    """
    policy = policy or YearPolicy()
    r = results.reset_index(drop=True)
    transfer = r.get("transfer_to", pd.Series("", index=r.index)).fillna("")
    kinds = (
        ("abnormal_list", r["result"].eq("unreachable"), policy.abnormal_list_days),
        ("case", r["result"].isin(CASE_RESULTS), policy.case_days),
        ("reinspection", r["result"].isin(CASE_RESULTS), policy.reinspection_days),
        ("transfer", transfer.astype(str).ne(""), policy.transfer_days),
    )
    parts = []
    for kind, mask, days in kinds:
        rows = r[mask]
        if not len(rows):
            continue
        dated = due_dates(rows, working_days=days, calendar=calendar)
        dept = transfer[mask] if kind == "transfer" else rows["departments"]
        parts.append(
            pd.DataFrame(
                {
                    "followup_id": rows["visit_id"].astype(str) + f"-{kind}",
                    "visit_id": rows["visit_id"],
                    "uscc": rows["uscc"],
                    "kind": kind,
                    "department": dept.astype(str),
                    "opened_on": rows["date"],
                    "due_date": dated["due_date"].dt.strftime("%Y-%m-%d"),
                    "status": "open",
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(FOLLOWUP_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    for c in FOLLOWUP_COLUMNS:
        if c not in out.columns:
            out[c] = ""
    out = out[list(FOLLOWUP_COLUMNS)].fillna("").astype(str)
    return out.sort_values("followup_id", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class ClosedFollowups:
    """What :func:`close_followups` did (see :class:`~creditsup.year.RecordedResults`)."""

    plan: InspectionPlan
    closed: pd.DataFrame
    unchanged: int
    failures: pd.DataFrame

    @property
    def changed(self) -> bool:
        """True when the bundle must be written again."""
        return len(self.closed) > 0


def _close_checks(df: pd.DataFrame, current: pd.DataFrame) -> list[pd.DataFrame]:
    t = "followups"
    info = df[["followup_id"]].merge(current, on="followup_id", how="left")
    info.index = df.index
    known = info["kind"].notna()
    closed_on = parse_dates(df["closed_on"])
    opened = parse_dates(info["opened_on"])
    restored = parse_dates(df["restored_on"])
    pairs = pd.DataFrame(
        [(k, o, True) for k, outs in OUTCOMES.items() for o in outs],
        columns=["kind", "outcome", "ok"],
    )
    given = pd.DataFrame({"kind": info["kind"], "outcome": df["outcome"]})
    out_ok = pd.Series(
        given.merge(pairs, on=["kind", "outcome"], how="left")["ok"]
        .eq(True)
        .to_numpy(),
        index=df.index,
    )
    sev = pd.to_numeric(df["severity"], errors="coerce")
    return [
        failures(t, "followup_id", df["followup_id"], ~known, "unknown_followup",
                 "no follow-up of the bundle has this id"),
        failures(t, "closed_on", df["closed_on"], closed_on.isna(), "bad_date",
                 "the date must be YYYY-MM-DD"),
        failures(t, "closed_on", df["closed_on"], known & (closed_on < opened),
                 "closed_before_opened", "the follow-up was opened later"),
        failures(t, "outcome", df["outcome"], known & ~out_ok, "unknown_outcome",
                 "the outcome does not close this kind of follow-up ("
                 + "; ".join(f"{k}: {'/'.join(v)}" for k, v in OUTCOMES.items())
                 + ")"),
        failures(t, "severity", df["severity"], df["severity"].ne("") & sev.isna(),
                 "wrong_type", "the severity must be a number"),
        failures(t, "restored_on", df["restored_on"],
                 df["restored_on"].ne("") & (restored.isna() | (restored < closed_on)),
                 "bad_restoration", "restored_on must be a date on or after closed_on"),
    ]  # fmt: skip


def close_followups(
    plan: InspectionPlan,
    closings: pd.DataFrame,
    *,
    operator: str = "",
    recorded_at: str | None = None,
) -> ClosedFollowups:
    """Record the outcome of follow-ups (all bad rows listed; good rows kept).

    Parameters
    ----------
    plan : InspectionPlan
        A plan with results (:func:`~creditsup.year.record_results`).
    closings : pandas.DataFrame
        Columns ``followup_id``, ``closed_on``, ``outcome`` (per kind, see
        :data:`OUTCOMES`); optional ``severity`` (of a penalty, R21),
        ``restored_on`` (信用修复: the record ends early) and ``notes``.
    operator, recorded_at : str
        For the ledger (a replay passes ``recorded_at``).
    """
    df = text_frame(closings, table="followups", required=CLOSE_COLUMNS,
                    optional=CLOSE_OPTIONAL)  # fmt: skip
    current = table(plan, "followups.csv")
    found = combine(_close_checks(df, current))
    bad = pd.Series(df.index.isin(found["row"]), index=df.index)
    first = ~df["followup_id"].duplicated()
    cols = ["followup_id", "closed_on", "outcome", "severity", "restored_on", "notes"]
    closed_now = current[current["status"].eq("closed")]
    same = (
        df[cols].merge(closed_now[cols].assign(same=True), on=cols, how="left")["same"]
        .eq(True).to_numpy()
    )  # fmt: skip
    same_s = pd.Series(same, index=df.index) & ~bad
    was_closed = df["followup_id"].isin(set(closed_now["followup_id"]))
    found = combine([
        found,
        failures("followups", "followup_id", df["followup_id"], ~first & ~bad,
                 "duplicate_followup", "the follow-up appears on an earlier row"),
        failures("followups", "followup_id", df["followup_id"],
                 was_closed & ~same_s & ~bad & first, "already_closed",
                 "the follow-up was closed with another outcome"),
    ])  # fmt: skip
    keep = ~pd.Series(df.index.isin(found["row"]), index=df.index) & ~same_s
    rows = df[keep].drop_duplicates("followup_id")
    if not len(rows):
        return ClosedFollowups(plan, rows, int(same_s.sum()), found)
    batch = next_batch(plan, "followups")
    upd = current.set_index("followup_id")
    new = rows.set_index("followup_id")[cols[1:]].assign(
        status="closed", closed_batch=str(batch)
    )
    upd.update(new)
    all_follow = upd.reset_index()
    body: dict[str, Any] = {
        "stage": "followups",
        "batch": batch,
        "n_closed": len(rows),
        "operator": operator,
        "recorded_at": recorded_at or now_iso(),
    }
    out = with_step(plan, body, {"followups.csv": all_follow})
    logger.info("closed %d follow-ups (batch %d)", len(rows), batch)
    return ClosedFollowups(out, rows.reset_index(drop=True), int(same_s.sum()), found)


def followup_status(plan: InspectionPlan, *, as_of: Any) -> pd.DataFrame:
    """The follow-ups with ``state``: ``open``, ``overdue``, ``closed`` or ``closed_late``."""
    f = table(plan, "followups.csv")
    due = parse_dates(f["due_date"])
    closed = parse_dates(f["closed_on"])
    ref = pd.Timestamp(as_of)
    state = pd.Series("open", index=f.index, dtype=object)
    state[due < ref] = "overdue"
    state[f["status"].eq("closed")] = "closed"
    state[f["status"].eq("closed") & (closed > due)] = "closed_late"
    return f.assign(state=state)
