"""The assignment problem as arrays, and the state of its solution.

:class:`Problem` is what :mod:`.prepare` builds: inspectors numbered by
sorted ``inspector_id``, visits by sorted ``visit_id``, and a visit split
into one *task* per department, numbered by (visit, department). Every later
stage reads this view and never the input tables again. :class:`State` holds
the teams and loads that the solving stages change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup.assignment._arrays import B1, I32, I64, U64

if TYPE_CHECKING:
    from creditsup.assignment.rules import HardRule

__all__ = ["Prefail", "Problem", "State", "new_state", "prefailed", "tasks_of"]

#: Why a visit cannot be staffed whatever the inspectors (reason, binding group).
#: Why a visit fails before any inspector is considered: the reason in
#: English, its binding group (or ``None``; its key ``_zh``, not saved, holds
#: the group's Chinese name) and the reason in Chinese.
Prefail = tuple[str, dict[str, Any] | None, str]


@dataclass
class Problem:
    """Canonical numpy view of the inputs (inspectors by id, visits by id).

    Attributes
    ----------
    insp_id, insp_dept, insp_region, insp_mask, insp_cap, insp_unavail, insp_active
        Per inspector: id, department code, region code, expertise bitmask
        (bits of his department's vocabulary), monthly capacity, bitmask of
        unavailable months (bit m = month m) and whether he is active.
    dept_names, vocab
        Department names by code; per department, expertise names by bit.
    visits, v_id, v_month, v_entity, v_region, v_rank, v_prefail
        The sorted visits table and, per visit: id, month, entity code,
        region code (``-1``: unknown), priority rank (0 = lowest) and the
        visits that fail before any inspector is considered.
    t_visit, t_dept, t_req, t_open, t_size, t_month, visit_tasks
        Per task: visit, department, bitmask of required expertise, whether
        anyone of the department qualifies (an item without requirement, or
        no item), team size and month; ``visit_tasks`` is ``[n_visits,
        max_tasks]`` padded with ``-1``.
    n_ent
        Number of entity codes (keys of (inspector, entity) pairs are
        ``inspector * n_ent + entity``).
    rules, rule_data
        The hard rules in force (:mod:`.rules`) and what each prepared.
    by_dr, by_dr_key, by_d, d_lo, d_hi, n_regions
        Inspector orders for candidate pruning: by (department, region) with
        the sort keys, and by department in a keyed random order with the
        range ``[d_lo[d], d_hi[d])`` of each department.
    """

    insp_id: npt.NDArray[np.object_]
    insp_dept: I64
    insp_region: I64
    insp_mask: U64
    insp_cap: I64
    insp_unavail: I64
    insp_active: B1
    dept_names: list[str]
    vocab: list[list[str]]
    visits: pd.DataFrame
    v_id: npt.NDArray[np.object_]
    v_month: I64
    v_entity: I64
    v_region: I64
    v_rank: I64
    v_prefail: dict[int, Prefail]
    t_visit: I64
    t_dept: I64
    t_req: U64
    t_open: B1
    t_size: I64
    t_month: I64
    visit_tasks: I64
    n_ent: int
    rules: tuple[HardRule, ...]
    rule_data: dict[str, object]
    by_dr: I64
    by_dr_key: I64
    by_d: I64
    d_lo: I64
    d_hi: I64
    n_regions: int


def tasks_of(P: Problem, visits: I64) -> I64:
    """The tasks of ``visits``, sorted."""
    t = P.visit_tasks[visits].ravel()
    return np.sort(t[t >= 0])


def prefailed(P: Problem) -> B1:
    """Per visit: whether it fails before any inspector is considered."""
    pre = np.zeros(len(P.v_id), dtype=bool)
    pre[list(P.v_prefail)] = True
    return pre


@dataclass
class State:
    """Teams, loads and months as the solving stages leave them.

    Attributes
    ----------
    team : int64 array ``[n_tasks, width]``
        Inspectors of each task, ``-1`` padded.
    load : int64 array ``[n_inspectors, 13]``
        Slots of each inspector per month (column m = month m).
    month : int64 array
        Current month of each task (the repair may move it).
    filled : bool array
        Per task: staffed at its last attempt.
    staffed_v : bool array
        Per visit: every task staffed.
    arc_t, arc_i : int32 arrays
        Candidate arcs of the staffed tasks (what the chain may use), sorted
        by (task, inspector).
    n_groups, n_cpsat, cpsat_status
        Sub-problems solved, CP-SAT models among them, and their statuses.
    """

    team: I64
    load: I64
    month: I64
    filled: B1
    staffed_v: B1
    arc_t: I32
    arc_i: I32
    n_groups: int = 0
    n_cpsat: int = 0
    cpsat_status: dict[str, int] = field(default_factory=dict)


def new_state(P: Problem) -> State:
    """Nobody assigned yet; every task in its visit's month."""
    n_t = len(P.t_visit)
    width = max(int(P.t_size.max(initial=1)), 1)
    return State(
        team=np.full((n_t, width), -1, dtype=np.int64),
        load=np.zeros((len(P.insp_id), 13), dtype=np.int64),
        month=P.t_month.copy(),
        filled=np.zeros(n_t, dtype=bool),
        staffed_v=np.zeros(len(P.v_id), dtype=bool),
        arc_t=np.zeros(0, dtype=np.int32),
        arc_i=np.zeros(0, dtype=np.int32),
    )
