"""Stage 9, audit: check every hard rule on an assignments frame.

:func:`audit_assignment` runs the check of each hard rule in force
(:mod:`.rules`) and the structural checks that need the whole assignment:
known visits and inspectors, nothing assigned to an unfilled visit, no
inspector twice on a visit, the row's department label, team size, one
inspector of each department of the visit, coverage of every item, and the
monthly capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.assignment.policy import VIOLATION_COLUMNS, AssignmentPolicy
from creditsup.assignment.rules import AuditRows, active_rules, check_columns
from creditsup.schemas import explode_list

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["audit_assignment"]

#: Inspector columns the structural checks read.
_INSPECTOR_COLUMNS = ("department", "expertise", "monthly_capacity")


class _Violations:
    """Violations as they are found: one frame per check."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, df: pd.DataFrame, rule: str, detail: pd.Series | str) -> None:
        if len(df) == 0:
            return
        det = (
            detail
            if isinstance(detail, pd.Series)
            else pd.Series(detail, index=df.index)
        )
        inspector = (
            df["inspector_id"].astype(str).to_numpy()
            if "inspector_id" in df.columns
            else ""
        )
        self.parts.append(
            pd.DataFrame(
                {
                    "visit_id": df["visit_id"].astype(str).to_numpy(),
                    "inspector_id": inspector,
                    "rule": rule,
                    "detail": det.astype(str).to_numpy(),
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=str) for c in VIOLATION_COLUMNS})
        res = pd.concat(self.parts, ignore_index=True)
        return res.sort_values(
            ["rule", "visit_id", "inspector_id"], kind="stable"
        ).reset_index(drop=True)


def _long(v: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    """``visit_id, <name>`` from a ``;``-list column of the visits."""
    long = explode_list(v[column])
    return pd.DataFrame(
        {"visit_id": v.loc[long.index, "visit_id"].to_numpy(), name: long.to_numpy()}
    )


def _known_rows(
    a: pd.DataFrame,
    v: pd.DataFrame,
    dataset: Dataset,
    columns: dict[str, tuple[str, ...]],
    out: _Violations,
) -> pd.DataFrame:
    """Assignments of known visits and inspectors, with the columns of both.

    Reports unknown visits and inspectors, assignments of unfilled visits and
    repeated inspectors.
    """
    status = v["status"].astype(str) if "status" in v.columns else None
    unfilled_ids = (
        set(v.loc[status == "unfilled", "visit_id"]) if status is not None else set()
    )
    av = a.merge(
        v[["visit_id", "uscc", "month", "departments"]], on="visit_id", how="left"
    )
    out.add(
        av[av["uscc"].isna()], "unknown_visit", "the visit is not in the visits table"
    )
    out.add(
        av[av["visit_id"].isin(unfilled_ids)],
        "assigned_unfilled",
        "the visit is reported unfilled",
    )
    av = av[av["uscc"].notna()].copy()
    dup = av.duplicated(["visit_id", "inspector_id"], keep="first")
    out.add(av[dup], "duplicate", "the inspector appears twice on the visit")
    ins = dataset.inspectors.copy()
    ins["inspector_id"] = ins["inspector_id"].astype(str)
    cols = list(dict.fromkeys([*_INSPECTOR_COLUMNS, *columns.get("inspectors", ())]))
    ai = av.merge(
        ins[["inspector_id", *cols]].rename(columns={c: f"insp_{c}" for c in cols}),
        on="inspector_id",
        how="left",
    )
    out.add(
        ai[ai["insp_department"].isna()],
        "unknown_inspector",
        "not in the inspectors table",
    )
    ai = ai[ai["insp_department"].notna()].reset_index(drop=True)
    ent_cols = list(dict.fromkeys(columns.get("entities", ())))
    if ent_cols:
        ent = dataset.entities.assign(uscc=dataset.entities["uscc"].astype(str))
        ent = ent.drop_duplicates("uscc")[["uscc", *ent_cols]]
        ai = ai.merge(
            ent.rename(columns={c: f"ent_{c}" for c in ent_cols}), on="uscc", how="left"
        )
    return ai


def _visit_items(v: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """``visit_id, item_id, department, expertise`` of the visits' known items."""
    items = dataset.items[["item_id", "department", "expertise"]].copy()
    for c in ("item_id", "department", "expertise"):
        items[c] = items[c].fillna("").astype(str).str.strip()
    vi = _long(v, "items", "item_id").merge(items, on="item_id", how="left")
    return vi[vi["department"].notna()]


def _held(ai: pd.DataFrame) -> pd.DataFrame:
    """``visit_id, inspector_id, department, expertise`` held by assigned inspectors."""
    exp_long = explode_list(ai["insp_expertise"])
    return pd.DataFrame(
        {
            "visit_id": ai.loc[exp_long.index, "visit_id"].to_numpy(),
            "inspector_id": ai.loc[exp_long.index, "inspector_id"].to_numpy(),
            "department": ai.loc[exp_long.index, "insp_department"].to_numpy(),
            "expertise": exp_long.to_numpy(),
        }
    ).drop_duplicates()


def _team_checks(
    r: AuditRows, a: pd.DataFrame, staffed: pd.DataFrame, out: _Violations
) -> None:
    """Team size, one inspector of each department, coverage of every item."""
    ai, min_team = r.rows, r.policy.min_team
    lab = ai["department"].astype(str) != ai["insp_department"].astype(str)
    out.add(
        ai[lab], "department_label", "the row's department differs from the inspector's"
    )
    vs = staffed[["visit_id"]].copy()
    vs["n"] = vs["visit_id"].map(a.groupby("visit_id").size()).fillna(0).astype(int)
    small = vs[vs["n"] < min_team]
    out.add(
        small, "team_size", small["n"].astype(str) + f" inspector(s), needs {min_team}"
    )
    sent = (
        ai[["visit_id", "insp_department"]]
        .drop_duplicates()
        .rename(columns={"insp_department": "department"})
    )
    ids = set(staffed["visit_id"])
    dp = r.dept_pairs[r.dept_pairs["visit_id"].isin(ids)]
    miss = dp.merge(sent, on=["visit_id", "department"], how="left", indicator=True)
    miss = miss[miss["_merge"] == "left_only"]
    out.add(
        miss,
        "department_missing",
        "no inspector of department " + miss["department"].astype(str),
    )
    vi_s = r.visit_items[r.visit_items["visit_id"].isin(ids)]
    cov = vi_s[vi_s["expertise"] != ""].merge(
        r.held, on=["visit_id", "department", "expertise"], how="left", indicator=True
    )
    cov = cov[cov["_merge"] == "left_only"].drop_duplicates(["visit_id", "item_id"])
    out.add(
        cov.drop(columns=["inspector_id"]),
        "coverage",
        "item "
        + cov["item_id"].astype(str)
        + " ("
        + cov["expertise"].astype(str)
        + ") is not covered",
    )
    oc = vi_s[vi_s["expertise"] == ""].merge(
        sent, on=["visit_id", "department"], how="left", indicator=True
    )
    oc = oc[oc["_merge"] == "left_only"].drop_duplicates(["visit_id", "item_id"])
    out.add(
        oc,
        "coverage",
        "item "
        + oc["item_id"].astype(str)
        + " has no inspector of department "
        + oc["department"].astype(str),
    )


def _capacity_check(ai: pd.DataFrame, out: _Violations) -> None:
    load = ai.groupby(["inspector_id", "month"]).agg(
        n=("visit_id", "size"), cap=("insp_monthly_capacity", "first")
    )
    over = load[load["n"] > load["cap"].astype(np.int64)].reset_index()
    over["visit_id"] = ""
    out.add(
        over,
        "capacity",
        over["n"].astype(str)
        + " visits in month "
        + over["month"].astype(str)
        + ", capacity "
        + over["cap"].astype(str),
    )


def audit_assignment(
    assignments: pd.DataFrame,
    visits: pd.DataFrame,
    dataset: Dataset,
    *,
    policy: AssignmentPolicy | None = None,
) -> pd.DataFrame:
    """Check every hard rule of ``contract.md`` §3 on an assignment.

    Parameters
    ----------
    assignments : pandas.DataFrame
        ``visit_id, inspector_id, department``.
    visits : pandas.DataFrame
        The visits (contract columns). Visits with ``status == 'unfilled'``
        are exempt from the team rules but must have no assignment.
    dataset : Dataset
        Inspectors, conflicts, items and history.
    policy : AssignmentPolicy, optional
        ``min_team`` and ``rotation`` (defaults: 2 and on).

    Returns
    -------
    pandas.DataFrame
        ``visit_id, inspector_id, rule, detail``: one row per violation,
        empty when every rule holds. Rules: ``unknown_visit``,
        ``assigned_unfilled``, ``duplicate``, ``unknown_inspector``,
        ``inactive``, ``wrong_department``, ``department_label``,
        ``unavailable``, ``conflict``, ``rotation``, ``expertise``,
        ``team_size``, ``department_missing``, ``coverage``, ``capacity``
        (and the code of any hard rule registered besides, :mod:`.rules`).
    """
    policy = policy or AssignmentPolicy()
    rules = active_rules(policy)
    columns: dict[str, tuple[str, ...]] = {}
    for rule in rules:
        for table, cols in rule.columns.items():
            columns[table] = (*columns.get(table, ()), *cols)
    check_columns(
        [r for r in rules if set(r.columns) & {"inspectors", "entities"}],
        {"inspectors": dataset.inspectors, "entities": dataset.entities},
    )
    out = _Violations()
    a = (
        assignments[["visit_id", "inspector_id", "department"]]
        .astype(str)
        .reset_index(drop=True)
    )
    v = visits.copy()
    v["visit_id"] = v["visit_id"].astype(str)
    v["uscc"] = v["uscc"].astype(str)
    v["month"] = pd.to_numeric(v["month"]).astype(np.int64)
    ai = _known_rows(a, v, dataset, columns, out)
    rows = AuditRows(
        rows=ai,
        dept_pairs=_long(v, "departments", "department").drop_duplicates(),
        visit_items=_visit_items(v, dataset),
        held=_held(ai),
        dataset=dataset,
        policy=policy,
    )
    for rule in rules:
        found, detail = rule.audit(rows)
        out.add(found, rule.violation, detail)
    staffed = v[v["status"].astype(str) != "unfilled"] if "status" in v.columns else v
    _team_checks(rows, a, staffed, out)
    _capacity_check(ai, out)
    return out.frame()
