"""Stage 10, replacement: re-draw one inspector of a visit after the draw (R12).

The replacement is drawn uniformly among the candidates of the visit's task
in its department (every hard rule in force, :mod:`.rules`) who have
capacity left that month, are not on the visit, and keep the team's
expertise coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from creditsup._random import stage_rng
from creditsup.assignment._arrays import I64, month_name
from creditsup.assignment.candidates import candidate_arcs
from creditsup.assignment.policy import (
    REDRAW_COLUMNS,
    AssignmentPolicy,
    AssignmentResult,
)
from creditsup.assignment.prepare import prepare
from creditsup.exceptions import ConfigError, InfeasiblePlanError
from creditsup.schemas import ASSIGNMENT_COLUMNS, VISIT_COLUMNS

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["redraw"]


@dataclass(frozen=True)
class _Pool:
    """Who may replace the inspector, and what the rest of the team covers."""

    dept: str
    month: int
    cand: I64  # inspector numbers, sorted
    insp_id: np.ndarray[Any, np.dtype[np.object_]]
    still_ok_without: bool  # the team keeps every rule without him


def _pool(
    result: AssignmentResult,
    vis: pd.DataFrame,
    dataset: Dataset,
    policy: AssignmentPolicy,
    ids: tuple[str, str, str],
) -> _Pool:
    """The one-visit problem at the visit's current month, and its candidates."""
    visit_id, inspector_id, seed = ids
    row = vis[vis["visit_id"] == visit_id]
    asg = result.assignments
    on_visit = asg[asg["visit_id"].astype(str) == visit_id]
    P = prepare(row[list(VISIT_COLUMNS)], dataset, policy, year=0, seed=seed)
    ti = int(np.searchsorted(P.insp_id, inspector_id))
    if ti >= len(P.insp_id) or P.insp_id[ti] != inspector_id:
        raise ConfigError(
            f"The inspector {inspector_id!r} is not in the inspectors table."
        )
    d = int(P.insp_dept[ti])
    tasks = np.flatnonzero(P.t_dept == d)
    month = int(P.v_month[0])
    if len(tasks) == 0:
        raise ConfigError(
            f"The department {P.dept_names[d]!r} is not on visit {visit_id!r}."
        )
    _a_t, a_i = candidate_arcs(
        P, tasks[:1], np.array([month]), prune=False, k_cross=0, seed=seed, year=0
    )
    # loads in this month from all assignments
    months = vis.set_index("visit_id")["month"].astype(np.int64)
    am = asg.assign(month=asg["visit_id"].astype(str).map(months))
    load = am[am["month"] == month].groupby("inspector_id").size()
    cur_load = pd.Series(P.insp_id).map(load).fillna(0).astype(np.int64).to_numpy()
    team_ids = sorted(set(on_visit["inspector_id"].astype(str)))
    team_idx = np.searchsorted(P.insp_id, np.array(team_ids, dtype=object))
    dept_team = [
        int(i) for i in team_idx if int(P.insp_dept[int(i)]) == d and int(i) != ti
    ]
    cur_mask = np.uint64(0)
    for i in dept_team:
        cur_mask |= P.insp_mask[i]
    req = P.t_req[tasks[0]]
    cand = a_i[
        (P.insp_cap[a_i] - cur_load[a_i] > 0)
        & ~np.isin(a_i, team_idx)
        & (((P.insp_mask[a_i] | cur_mask) & req) == req)
    ]
    remaining = int((on_visit["inspector_id"].astype(str) != inspector_id).sum())
    still_ok = (
        remaining >= policy.min_team and len(dept_team) >= 1 and (cur_mask & req) == req
    )
    return _Pool(P.dept_names[d], month, np.sort(cand), P.insp_id, bool(still_ok))


def _locate(
    result: AssignmentResult, visit_id: str, inspector_id: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Copies of the visits and assignments, and the rows of the visit."""
    vis = result.visits.copy()
    vis["visit_id"] = vis["visit_id"].astype(str)
    if not (vis["visit_id"] == visit_id).any():
        raise ConfigError(f"The visit {visit_id!r} is not in the plan.")
    asg = result.assignments.copy()
    on_visit = asg["visit_id"].astype(str) == visit_id
    if inspector_id not in set(asg.loc[on_visit, "inspector_id"].astype(str)):
        raise ConfigError(
            f"The inspector {inspector_id!r} is not on visit {visit_id!r}."
        )
    return vis, asg, on_visit


def _no_replacement(pool: _Pool, ids: tuple[str, str, str], on_infeasible: str) -> str:
    """Why the visit becomes unfilled; raises with ``on_infeasible="raise"``."""
    visit_id, inspector_id, reason = ids
    msg = (
        f"visit {visit_id}: re-draw after '{reason}': no eligible replacement for "
        f"{inspector_id} in department {pool.dept}, {month_name(pool.month)}"
    )
    if on_infeasible == "raise":
        group = f"visit {visit_id}, department {pool.dept}: replacements"
        raise InfeasiblePlanError(msg, [{"group": group, "needed": 1, "available": 0}])
    return msg


def _record(result: AssignmentResult, rec: dict[str, Any]) -> pd.DataFrame:
    """The result's re-draws with ``rec`` appended."""
    new = pd.DataFrame([rec], columns=list(REDRAW_COLUMNS))
    if not len(result.redraws):
        return new
    return pd.concat([result.redraws, new], ignore_index=True)


def redraw(
    result: AssignmentResult,
    dataset: Dataset,
    *,
    visit_id: str,
    inspector_id: str,
    reason: str,
    seed: str,
    policy: AssignmentPolicy | None = None,
    on_infeasible: Literal["unfill", "raise"] = "unfill",
) -> AssignmentResult:
    """Replace one inspector of a visit at random, under the same rules (R12).

    The replacement is drawn uniformly among the inspectors who keep every
    hard rule: same department, active, available that month, no conflict,
    not rotated out, capacity left that month, not already on the visit,
    not the replaced inspector, and the team still covers every item. The
    replacement and its reason are appended to ``redraws`` and the ledger.

    If nobody qualifies, the inspector is removed when the team still meets
    every rule without him; otherwise the visit becomes ``unfilled`` (listed
    in diagnostics with the reason) or, with ``on_infeasible="raise"``,
    :class:`~creditsup.exceptions.InfeasiblePlanError` is raised.

    Raises
    ------
    ConfigError
        ``visit_id`` is not in the result, or ``inspector_id`` is not on it.
    """
    policy = policy or result.policy
    visit_id, inspector_id = str(visit_id), str(inspector_id)
    vis, asg, on_visit = _locate(result, visit_id, inspector_id)
    pool = _pool(result, vis, dataset, policy, (visit_id, inspector_id, seed))
    rng = stage_rng(seed, "redraw", visit_id, inspector_id)
    diag = {k: list(result.diagnostics[k]) for k in ("unfilled", "binding")}
    keep_rows = ~(on_visit & (asg["inspector_id"].astype(str) == inspector_id))
    new_id: str | None = None
    if len(pool.cand):
        new_id = str(pool.insp_id[int(pool.cand[int(rng.integers(0, len(pool.cand)))])])
        new_row = {
            "visit_id": [visit_id],
            "inspector_id": [new_id],
            "department": [pool.dept],
        }
        asg = pd.concat([asg[keep_rows], pd.DataFrame(new_row)], ignore_index=True)
        outcome = "replaced"
    elif pool.still_ok_without:
        outcome = "removed"
        asg = asg[keep_rows]
    else:
        msg = _no_replacement(pool, (visit_id, inspector_id, reason), on_infeasible)
        outcome = "unfilled"
        asg = asg[~on_visit]
        vis.loc[vis["visit_id"] == visit_id, "status"] = "unfilled"
        diag["unfilled"] = sorted(
            [*diag["unfilled"], {"visit_id": visit_id, "reason": msg}],
            key=lambda u: u["visit_id"],
        )
    asg = asg[list(ASSIGNMENT_COLUMNS)].astype(str)
    asg = asg.sort_values(["visit_id", "inspector_id"], kind="stable").reset_index(
        drop=True
    )
    rec = {
        "visit_id": visit_id,
        "old_inspector_id": inspector_id,
        "new_inspector_id": new_id,
        "reason": str(reason),
        "department": pool.dept,
        "n_candidates": len(pool.cand),
        "outcome": outcome,
    }
    return replace(
        result,
        assignments=asg,
        visits=vis,
        diagnostics=diag,
        ledger=[*result.ledger, {"step": "redraw", **rec}],
        redraws=_record(result, rec),
        policy=policy,
    )
