"""Stage 3 of the year: the results made public (一公开, R17, R18).

:func:`public_results` gives one row per recorded result, ready for
:func:`creditsup.publish.publish_plan` (``results=``): entity name, USCC, the
items checked, the result (an R19 code, shown in Chinese by ``publish``), the
check date, the checking body, the publication date and its due date (20
working days on the official calendar). It is built from the plan's own public
view, so it never holds a tier, a score or an inspector.
:func:`overdue_results` lists the results published (or still unpublished)
after their due date.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any

import pandas as pd

from creditsup.plan import InspectionPlan
from creditsup.schemas import PUBLIC_RESULT_COLUMNS
from creditsup.year._bundle import table

__all__ = ["PUBLIC_RESULT_COLUMNS", "overdue_results", "public_results"]


def _day(value: Any) -> str:
    if isinstance(value, _dt.date):
        return value.isoformat()
    return pd.Timestamp(value).date().isoformat()


def public_results(plan: InspectionPlan, *, as_of: Any) -> pd.DataFrame:
    """The public results table (one row per result), published on ``as_of``.

    Parameters
    ----------
    plan : InspectionPlan
        A plan with recorded results (an empty table when it has none).
    as_of : date or str
        The publication date.

    Examples
    --------
    >>> import creditsup as cs, pandas as pd
    >>> from creditsup.year import record_results
    >>> plan = cs.build_plan(cs.synthetic_district(600, 30, seed=3), year=2025,
    ...                      seed="s", created_at="2025-01-02T00:00:00+00:00")
    >>> v = plan.visits.query("status == 'staffed'").iloc[0]
    >>> team = plan.assignments.query("visit_id == @v.visit_id").inspector_id
    >>> rows = pd.DataFrame({"visit_id": [v.visit_id], "uscc": [v.uscc],
    ...     "date": ["2025-12-01"], "result": ["normal"],
    ...     "inspector_ids": [";".join(team)]})
    >>> plan = record_results(plan, rows).plan
    >>> pub = public_results(plan, as_of="2025-12-31")
    >>> pub[["result", "check_date", "published_on", "due_date"]].values.tolist()
    [['normal', '2025-12-01', '2025-12-31', '2025-12-29']]
    >>> "tier" in pub.columns or "inspector_ids" in pub.columns
    False
    """
    res = table(plan, "results.csv")
    if not len(res):
        return pd.DataFrame(columns=list(PUBLIC_RESULT_COLUMNS))
    # every visit, triggered ones included, through the plan's own public view
    every = dataclasses.replace(plan, visits=plan.visits.assign(trigger="random"))
    tasks = every.public_view()["entities"]
    tasks = tasks[tasks["visit_id"].isin(set(res["visit_id"]))]
    given = res[["visit_id", "items"]].assign(task_id=res["items"].str.split(";"))
    given = given.explode("task_id")
    given = given[given["task_id"].fillna("").ne("")][["visit_id", "task_id"]]
    named = tasks.merge(
        given.assign(named=True), on=["visit_id", "task_id"], how="left"
    )
    has_items = set(given["visit_id"])
    named = named[named["named"].eq(True) | ~named["visit_id"].isin(has_items)]
    named = named.sort_values(["visit_id", "task_id"], kind="stable")
    per_visit = named.groupby("visit_id", sort=True).agg(
        name=("name", "first"),
        task=("task", lambda s: "；".join(dict.fromkeys(s.astype(str)))),
        checking_body=(
            "checking_body",
            lambda s: "、".join(dict.fromkeys(s.astype(str))),
        ),
    )
    out = res.merge(per_visit, left_on="visit_id", right_index=True, how="left")
    out = out.rename(columns={"date": "check_date"}).assign(published_on=_day(as_of))
    out = out[list(PUBLIC_RESULT_COLUMNS)].fillna("")
    return out.sort_values("visit_id", kind="stable").reset_index(drop=True)


def overdue_results(plan: InspectionPlan, *, as_of: Any) -> pd.DataFrame:
    """Results whose due date (R18) is before ``as_of``, the day they are published.

    Columns ``visit_id``, ``uscc``, ``check_date``, ``due_date``, ``days_late``
    (calendar days).
    """
    res = table(plan, "results.csv")
    ref = pd.Timestamp(_day(as_of))
    due = pd.to_datetime(res["due_date"], errors="coerce")
    late = res[due < ref]
    return pd.DataFrame(
        {
            "visit_id": late["visit_id"],
            "uscc": late["uscc"],
            "check_date": late["date"],
            "due_date": late["due_date"],
            "days_late": (ref - due[due < ref]).dt.days.astype("int64"),
        }
    ).reset_index(drop=True)
