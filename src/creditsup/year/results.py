"""Stage 1 of the year: inspection results (R19) into the bundle.

:func:`record_results` checks every row of a results table against the plan
(all bad rows at once), keeps the good ones in ``results.csv`` with their
publication due date (R18), opens their follow-ups (R20, ``followups.csv``)
and appends one hash-chained record to the ledger, which
:func:`~creditsup.plan.verify_plan` replays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from creditsup.labels import codes_from_labels
from creditsup.plan import InspectionPlan
from creditsup.schemas.vocab import HISTORY_RESULTS, ZH_ALIASES
from creditsup.workdays import WorkCalendar, due_dates
from creditsup.year._bundle import (
    RESULT_COLUMNS,
    YearPolicy,
    calendar_json,
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
from creditsup.year.followups import open_followups

__all__ = ["INPUT_COLUMNS", "RecordedResults", "allowed_inspectors", "record_results"]

logger = logging.getLogger(__name__)

#: Required and optional columns of a results table.
INPUT_COLUMNS = ("visit_id", "uscc", "date", "result", "inspector_ids")
OPTIONAL_COLUMNS = ("items", "notes", "transfer_to")
#: The columns that say what a result is; a row equal on all of them to a
#: recorded one is already recorded (recording a file again changes nothing).
_CONTENT = ("visit_id", "uscc", "date", "result", "inspector_ids", "items", "notes",
            "transfer_to")  # fmt: skip


@dataclass(frozen=True)
class RecordedResults:
    """What :func:`record_results` did.

    Attributes
    ----------
    plan : InspectionPlan
        The plan with the accepted results (the input plan when none is new).
    accepted : pandas.DataFrame
        The rows recorded now, as in ``results.csv``.
    unchanged : int
        Rows already recorded with the same content.
    failures : pandas.DataFrame
        One row per failed check: ``table, row, column, value, rule, message``
        (``row`` is 0-based; Excel shows ``row + 2``).
    """

    plan: InspectionPlan
    accepted: pd.DataFrame
    unchanged: int
    failures: pd.DataFrame

    @property
    def changed(self) -> bool:
        """True when the bundle must be written again."""
        return len(self.accepted) > 0

    def summary(self) -> pd.DataFrame:
        """Counts: accepted, unchanged, bad rows, failures."""
        bad = int(self.failures["row"].nunique()) if len(self.failures) else 0
        return pd.DataFrame(
            [
                ("accepted", len(self.accepted)),
                ("unchanged", self.unchanged),
                ("bad rows", bad),
                ("failures", len(self.failures)),
            ],
            columns=["figure", "value"],
        )


def allowed_inspectors(plan: InspectionPlan) -> pd.DataFrame:
    """Every (visit, inspector) pair a result may name.

    The inspectors assigned now, and any inspector logged in a re-draw (R12)
    or a mid-year change of the visit, before or after it.
    """
    parts = [plan.assignments[["visit_id", "inspector_id"]].astype(str)]
    for df in (plan.redraws, table(plan, "replans.csv")):
        for col in ("old_inspector_id", "new_inspector_id"):
            if len(df) and col in df.columns:
                parts.append(
                    df[["visit_id", col]]
                    .rename(columns={col: "inspector_id"})
                    .fillna("")
                    .astype(str)
                )
    out = pd.concat(parts, ignore_index=True)
    return out[out["inspector_id"].ne("")].drop_duplicates().reset_index(drop=True)


def _result_codes(values: pd.Series) -> pd.Series:
    """R19 codes; Chinese or English labels accepted; ``NaN`` when unknown."""
    labels = {**codes_from_labels("result"), **ZH_ALIASES.get("result", {})}
    codes = values.where(values.isin(HISTORY_RESULTS))
    by_label = values.map(labels)
    by_lower = values.str.lower().map(labels)
    return codes.fillna(by_label).fillna(by_lower)


def _visit_checks(
    df: pd.DataFrame, plan: InspectionPlan, year: int
) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Visit, USCC, result and date checks; the visits joined to the rows."""
    t = "results"
    v = plan.visits.copy()
    v["visit_id"] = v["visit_id"].astype(str)
    info = df[["visit_id"]].merge(
        v[["visit_id", "uscc", "month", "items", "departments", "status"]],
        on="visit_id",
        how="left",
        suffixes=("", "_plan"),
    )
    info.index = df.index
    known = info["uscc"].notna()
    uscc = df["uscc"].str.replace(r"[\s-]", "", regex=True).str.upper()
    dates = parse_dates(df["date"])
    start = pd.to_datetime(
        {"year": year, "month": info["month"].fillna(1).astype(int), "day": 1}
    )
    out = [
        failures(t, "visit_id", df["visit_id"], df["visit_id"].eq(""), "missing_value",
                 "the visit id is empty"),
        failures(t, "visit_id", df["visit_id"], ~known & df["visit_id"].ne(""),
                 "unknown_visit", "no visit of the plan has this id"),
        failures(t, "uscc", df["uscc"], known & uscc.ne(info["uscc"].astype(str)),
                 "uscc_mismatch", "the visit is of another entity"),
        failures(t, "result", df["result"], _result_codes(df["result"]).isna(),
                 "unknown_result", "the result is not in the R19 list"),
        failures(t, "date", df["date"], dates.isna(), "bad_date",
                 "the date must be YYYY-MM-DD"),
        failures(t, "date", df["date"], dates.notna() & dates.dt.year.ne(year),
                 "date_outside_year", f"the date is not in the plan year {year}"),
        failures(t, "date", df["date"],
                 known & dates.notna() & dates.dt.year.eq(year) & (dates < start),
                 "date_before_visit_month", "the date is before the visit's month"),
        failures(t, "visit_id", df["visit_id"],
                 known & info["status"].astype(str).eq("cancelled"),
                 "visit_cancelled", "the visit was cancelled by a mid-year change"),
    ]  # fmt: skip
    info["uscc_norm"] = uscc
    return out, info


def _team_checks(
    df: pd.DataFrame, info: pd.DataFrame, plan: InspectionPlan
) -> list[pd.DataFrame]:
    """Inspectors (assigned or logged re-draw, at least two) and items."""
    t = "results"
    known = info["uscc"].notna()
    ids = explode_ids(df["inspector_ids"])
    pairs = pd.DataFrame({"visit_id": df["visit_id"].loc[ids.index].to_numpy(),
                          "inspector_id": ids.to_numpy(), "row": ids.index})  # fmt: skip
    ok = allowed_inspectors(plan).assign(ok=True)
    pairs = pairs.merge(ok, on=["visit_id", "inspector_id"], how="left")
    stranger = pairs.loc[pairs["ok"].isna(), "row"].unique()
    n_ids = ids.groupby(level=0).size().reindex(df.index, fill_value=0)
    items = explode_ids(df["items"])
    on_visit = explode_ids(info["items"].fillna(""))
    given = pd.DataFrame({"row": items.index, "item": items.to_numpy()})
    listed = pd.DataFrame({"row": on_visit.index, "item": on_visit.to_numpy(),
                           "ok": True})  # fmt: skip
    given = given.merge(listed, on=["row", "item"], how="left")
    off = given.loc[given["ok"].isna(), "row"].unique()
    return [
        failures(t, "inspector_ids", df["inspector_ids"],
                 known & df.index.isin(stranger), "inspector_not_assigned",
                 "an inspector was neither assigned nor drawn in a logged re-draw"),
        failures(t, "inspector_ids", df["inspector_ids"], known & n_ids.lt(2),
                 "team_too_small", "at least two inspectors check together (R11)"),
        failures(t, "items", df["items"], known & df.index.isin(off),
                 "item_not_on_visit", "an item is not on the visit"),
    ]  # fmt: skip


def _normalised(df: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["uscc"] = info["uscc_norm"]
    out["result"] = _result_codes(df["result"]).fillna(df["result"])
    out["inspector_ids"] = split_ids(df["inspector_ids"])
    out["items"] = split_ids(df["items"])
    out["departments"] = info["departments"].fillna("").astype(str)
    return out


def _against_recorded(
    rows: pd.DataFrame, recorded: pd.DataFrame, bad: pd.Series
) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Rows equal to a recorded result (unchanged) and conflicting ones."""
    t = "results"
    key = list(_CONTENT)
    first = ~rows["visit_id"].duplicated() | bad
    dup = failures(t, "visit_id", rows["visit_id"],
                   ~first & ~bad & rows["visit_id"].ne(""), "duplicate_visit",
                   "the visit appears on an earlier row of this file")  # fmt: skip
    rec = recorded[key].assign(same=True)
    merged = rows[key].merge(rec, on=key, how="left")["same"]
    same = pd.Series(merged.eq(True).to_numpy(), index=rows.index)
    exists = rows["visit_id"].isin(set(recorded["visit_id"]))
    clash = failures(t, "visit_id", rows["visit_id"],
                     exists & ~same & ~bad & first, "already_recorded",
                     "the visit has another result recorded")  # fmt: skip
    return same & ~bad & first, [dup, clash]


def _store(
    plan: InspectionPlan,
    accepted: pd.DataFrame,
    recorded: pd.DataFrame,
    policy: YearPolicy,
    calendar: WorkCalendar | None,
    who: tuple[str, str | None],
) -> tuple[InspectionPlan, pd.DataFrame]:
    """The plan with the accepted rows, their due dates and follow-ups, and the rows."""
    operator, recorded_at = who
    batch = next_batch(plan, "results")
    dated = due_dates(accepted, working_days=policy.publication_days,
                      calendar=calendar)  # fmt: skip
    accepted = accepted.assign(
        due_date=dated["due_date"].dt.strftime("%Y-%m-%d"), batch=str(batch)
    )[list(RESULT_COLUMNS)]
    all_results = (
        pd.concat([recorded, accepted], ignore_index=True)
        .sort_values("visit_id", kind="stable")
        .reset_index(drop=True)
    )
    opened = open_followups(accepted, policy=policy, calendar=calendar)
    follow = table(plan, "followups.csv")
    all_follow = (
        pd.concat([follow, opened], ignore_index=True)
        .sort_values("followup_id", kind="stable")
        .reset_index(drop=True)
    )
    body: dict[str, Any] = {
        "stage": "results",
        "batch": batch,
        "n_results": len(accepted),
        "n_followups": len(opened),
        "operator": operator,
        "recorded_at": recorded_at or now_iso(),
        "year_policy": policy.model_dump(mode="json"),
    }
    if calendar is not None:
        body["calendar"] = calendar_json(calendar)
    new = with_step(
        plan, body, {"results.csv": all_results, "followups.csv": all_follow}
    )
    return new, accepted


def record_results(
    plan: InspectionPlan,
    results: pd.DataFrame,
    *,
    operator: str = "",
    recorded_at: str | None = None,
    calendar: WorkCalendar | None = None,
    policy: YearPolicy | None = None,
) -> RecordedResults:
    """Check inspection results and record the good rows in the plan.

    Parameters
    ----------
    plan : InspectionPlan
        The plan (built, or loaded with :func:`~creditsup.plan.load_plan`).
    results : pandas.DataFrame
        Columns ``visit_id``, ``uscc``, ``date``, ``result`` (an R19 code or
        its Chinese/English label), ``inspector_ids`` (``;`` list); optional
        ``items`` (``;`` list), ``notes``, ``transfer_to`` (the department a
        lead out of remit goes to, R20). Chinese headers are accepted.
    operator : str
        Who records them (ledger).
    recorded_at : str, optional
        ISO timestamp for the ledger (default: now; a replay passes it).
    calendar : WorkCalendar, optional
        Holidays for years ``chinesecalendar`` does not know (recorded).
    policy : YearPolicy, optional
        Working-day deadlines (R18, R20).

    Returns
    -------
    RecordedResults
        The new plan, the accepted rows, the unchanged count and every failure.
        A row is kept only when it passes every check; the others are listed.

    Examples
    --------
    >>> import creditsup as cs, pandas as pd
    >>> plan = cs.build_plan(cs.synthetic_district(600, 30, seed=3), year=2025,
    ...                      seed="s", created_at="2025-01-02T00:00:00+00:00")
    >>> v = plan.visits.query("status == 'staffed'").iloc[0]
    >>> team = plan.assignments.query("visit_id == @v.visit_id").inspector_id
    >>> rows = pd.DataFrame({"visit_id": [v.visit_id, "V-X"], "uscc": [v.uscc, "1"],
    ...     "date": [f"2025-{v.month:02d}-20", "2025-13-01"],
    ...     "result": ["发现问题已责令改正", "normal"],
    ...     "inspector_ids": [";".join(team), "A;B"]})
    >>> out = record_results(plan, rows, recorded_at="2025-12-31T00:00:00+00:00")
    >>> len(out.accepted), out.failures["rule"].tolist()
    (1, ['unknown_visit', 'bad_date'])
    >>> out.accepted["result"].tolist()
    ['problem_corrected']
    """
    policy = policy or YearPolicy()
    year = int(plan.provenance["year"])
    df = text_frame(results, table="results", required=INPUT_COLUMNS,
                    optional=OPTIONAL_COLUMNS)  # fmt: skip
    checks, info = _visit_checks(df, plan, year)
    checks += _team_checks(df, info, plan)
    found = combine(checks)
    bad = pd.Series(df.index.isin(found["row"]), index=df.index)
    rows = _normalised(df, info)
    recorded = table(plan, "results.csv")
    same, more = _against_recorded(rows, recorded, bad)
    found = combine([found, *more])
    keep = ~pd.Series(df.index.isin(found["row"]), index=df.index) & ~same
    accepted = rows[keep].drop_duplicates("visit_id")
    if not len(accepted):
        empty = pd.DataFrame(columns=list(RESULT_COLUMNS))
        return RecordedResults(plan, empty, int(same.sum()), found)
    new, accepted = _store(
        plan, accepted, recorded, policy, calendar, (operator, recorded_at)
    )
    logger.info("recorded %d results", len(accepted))
    return RecordedResults(new, accepted.reset_index(drop=True), int(same.sum()), found)
