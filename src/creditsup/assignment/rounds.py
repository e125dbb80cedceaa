"""Solving rounds: tasks grouped by (department, month) on residual capacity.

:func:`solve_round` builds one :class:`.flow.GroupProblem` per (department,
month) group of the given tasks, with lexicographic costs (unfilled >>
cross-region >> keyed random) and the inspectors' capacity left in the
month at the start of the round, solves each with the min-cost flow (or
CP-SAT, :mod:`.cover`) through a ``mapper`` (:func:`solve_group` on a
picklable :class:`GroupTask`) and commits the teams of staffed tasks in
group order. A group touches only its department's inspectors (the
department rule) in its month, so the groups are independent: solving them
in any order, or in parallel, gives the same state.
:func:`release_failed` then keeps a visit only when all its tasks are
staffed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from creditsup._random import seed_sequence
from creditsup.assignment._arrays import B1, I32, I64, U64, expand
from creditsup.assignment.candidates import cost_hashes, costs_of
from creditsup.assignment.cover import solve_cpsat
from creditsup.assignment.flow import (
    GroupProblem,
    GroupSolution,
    lexicographic_costs,
    solve_mcf,
)
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.problem import Problem, State
from creditsup.sampling.pipeline import Mapper, serial

__all__ = [
    "GroupTask",
    "commit",
    "in_tasks",
    "merge_arcs",
    "release_failed",
    "solve_group",
    "solve_round",
]


@dataclass(frozen=True)
class GroupTask:
    """One (department, month) sub-problem, a small picklable value.

    ``use_cpsat`` solves it with CP-SAT (``random_seed``,
    ``max_deterministic_time``), else with the min-cost flow.
    """

    problem: GroupProblem
    use_cpsat: bool = False
    random_seed: int = 0
    max_deterministic_time: float = 0.0


def solve_group(task: GroupTask) -> GroupSolution:
    """Solve one :class:`GroupTask` (what a ``mapper`` runs, anywhere)."""
    if task.use_cpsat:
        return solve_cpsat(
            task.problem,
            random_seed=task.random_seed,
            max_deterministic_time=task.max_deterministic_time,
        )
    return solve_mcf(task.problem)


def in_tasks(arc_t: I32 | I64, tasks: I64, n_tasks: int) -> B1:
    """``np.isin(arc_t, tasks)`` for task numbers below ``n_tasks``, in O(n)."""
    mark = np.zeros(n_tasks, dtype=bool)
    mark[tasks] = True
    return np.asarray(mark[arc_t])


def _arc_ptr(a_t: I32, n_tasks: int) -> I64:
    """CSR offsets of the arcs (sorted by task): task ``t``'s arcs are
    ``[ptr[t], ptr[t + 1])``."""
    return np.searchsorted(a_t, np.arange(n_tasks + 1, dtype=a_t.dtype)).astype(
        np.int64
    )


def _group_arcs(ptr: I64, g_tasks: I64) -> tuple[I64, I64]:
    """Each arc of the group's tasks: its task row and its position in the arcs."""
    return expand(ptr[g_tasks], ptr[g_tasks + 1] - ptr[g_tasks])


@dataclass(frozen=True)
class _Round:
    """What every group of a round reads: arcs, cost hashes and the knobs."""

    P: Problem
    month: I64  # per task (the repair may have moved it)
    capacity: I64  # [n_inspectors, 13] capacity left at the start of the round
    ptr: I64  # CSR offsets of the arcs by task
    a_i: I32
    hashes: tuple[U64, U64]
    cross: bool
    cpsat: tuple[str, int, float] | None  # seed, year, max_deterministic_time


class _Groups(Sequence[GroupTask]):
    """The round's group tasks, each built when it is read (one at a time
    when the mapper is serial)."""

    def __init__(self, rd: _Round, tasks: I64, bounds: I64) -> None:
        self.rd, self.tasks, self.bounds = rd, tasks, bounds

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def group(self, k: int) -> I64:
        """The tasks of group ``k``."""
        return self.tasks[self.bounds[k] : self.bounds[k + 1]]

    @overload
    def __getitem__(self, k: int) -> GroupTask: ...
    @overload
    def __getitem__(self, k: slice) -> Sequence[GroupTask]: ...
    def __getitem__(self, k: int | slice) -> GroupTask | Sequence[GroupTask]:
        if isinstance(k, slice):
            return [self[j] for j in range(len(self))[k]]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return _group_task(self.rd, self.group(k % len(self)))


def _group_task(rd: _Round, g_tasks: I64) -> GroupTask:
    """The sub-problem of one group."""
    P = rd.P
    r, pos = _group_arcs(rd.ptr, g_tasks)
    g_ai = rd.a_i[pos].astype(np.int64)
    a_t = g_tasks[r]
    rank_v = P.v_rank[P.t_visit[g_tasks]]
    prank = np.empty(len(g_tasks), dtype=np.int64)
    prank[np.argsort(rank_v, kind="stable")] = np.arange(len(g_tasks))
    if rd.cross:
        cross = P.insp_region[g_ai] != P.v_region[P.t_visit[a_t]]
    else:
        cross = np.zeros(len(a_t), dtype=bool)
    arc_cost, penalty = lexicographic_costs(
        costs_of(rd.hashes, P.t_visit, a_t, g_ai), cross, r, P.t_size[g_tasks], prank
    )
    m = int(rd.month[g_tasks[0]])
    gp = GroupProblem(
        size=P.t_size[g_tasks],
        req=P.t_req[g_tasks],
        open_=P.t_open[g_tasks],
        penalty=penalty,
        arc_task=r,
        arc_insp=g_ai,
        arc_cost=arc_cost,
        insp_mask=P.insp_mask,
        capacity=np.ascontiguousarray(rd.capacity[:, m]),
    )
    if rd.cpsat is None:
        return GroupTask(gp)
    seed, year, max_time = rd.cpsat
    dept = int(P.t_dept[g_tasks[0]])
    rs = seed_sequence(seed, year, "assignment", "cpsat", m, dept)
    return GroupTask(gp, True, int(rs.generate_state(1)[0]), max_time)


def solve_round(
    P: Problem,
    S: State,
    tasks: I64,
    a_t: I32,
    a_i: I32,
    *,
    policy: AssignmentPolicy,
    cost_key: str,
    use_cpsat: bool = False,
    seed: str = "",
    year: int = 0,
    mapper: Mapper = serial,
) -> None:
    """Solve the given tasks per (department, month) on residual capacity.

    The groups' :class:`GroupTask` go through ``mapper`` (serial by default;
    the tasks are built as the mapper reads them); the teams of fully staffed
    tasks are then committed into ``S`` in group order (visit-level release is
    done by the caller).
    """
    if len(tasks) == 0:
        return
    grp = P.t_dept[tasks] * 13 + S.month[tasks]
    order = np.lexsort((tasks, grp))
    tasks, grp = tasks[order], grp[order]
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(grp)) + 1, [len(tasks)]])
    rd = _Round(
        P,
        S.month,
        P.insp_cap[:, None] - S.load,
        _arc_ptr(a_t, len(P.t_visit)),
        a_i,
        cost_hashes(P, cost_key),
        policy.same_region_first,
        (seed, year, policy.max_deterministic_time) if use_cpsat else None,
    )
    groups = _Groups(rd, tasks, bounds)
    solutions = list(mapper(solve_group, groups))
    for k, sol in enumerate(solutions):
        g_tasks = groups.group(k)
        S.n_groups += 1
        if use_cpsat:
            S.n_cpsat += 1
            S.cpsat_status[sol.status] = S.cpsat_status.get(sol.status, 0) + 1
        r, pos = _group_arcs(rd.ptr, g_tasks)
        chosen = sol.chosen & sol.filled[r]
        commit(
            S,
            g_tasks[r[chosen]],
            a_i[pos[chosen]].astype(np.int64),
            int(S.month[g_tasks[0]]),
        )
        S.filled[g_tasks] = sol.filled


def commit(S: State, ct: I64, ci: I64, month: int) -> None:
    """Put inspectors ``ci`` on tasks ``ct`` (empty teams) in ``month``."""
    if len(ct) == 0:
        return
    order = np.lexsort((ci, ct))
    ct, ci = ct[order], ci[order]
    first = np.searchsorted(ct, ct)
    col = np.arange(len(ct)) - first
    S.team[ct, col] = ci
    np.add.at(S.load, (ci, np.full(len(ci), month)), 1)


def release_failed(P: Problem, S: State, visits: I64) -> I64:
    """Mark visits staffed iff all their tasks are filled; release the others.

    Returns the visits (among ``visits``) that failed.
    """
    vt = P.visit_tasks[visits]
    ok = np.where(vt >= 0, S.filled[np.maximum(vt, 0)], True).all(axis=1)
    ok &= (vt >= 0).any(axis=1)
    S.staffed_v[visits] = ok
    failed = visits[~ok]
    ft = P.visit_tasks[failed].ravel()
    ft = ft[ft >= 0]
    if len(ft):
        rows = S.team[ft]
        has = rows >= 0
        ti = np.repeat(ft, has.sum(axis=1))
        np.add.at(S.load, (rows[has], S.month[ti]), -1)
        S.team[ft] = -1
    return failed


def _sorted_pairs(t: I32, i: I32) -> bool:
    """Whether the arcs are strictly increasing by (task, inspector)."""
    dt = np.diff(t.astype(np.int64))
    return bool(np.all((dt > 0) | ((dt == 0) & (np.diff(i.astype(np.int64)) > 0))))


def _merge_pieces(keep_t: I32, drop: I64, lo: I64) -> list[tuple[int, int, int, int]]:
    """Slices ``(kept start, kept stop, new start, new stop)`` of the merge.

    Each piece copies ``keep[start:stop]`` then ``new[start:stop]``; runs of
    dropped arcs are skipped and the new arcs go where their task would be.
    """
    events: list[tuple[int, int, int]] = []  # (position, kind, end)
    if len(drop):
        run = np.flatnonzero(np.diff(drop) != 1) + 1
        starts = drop[np.concatenate([[0], run])]
        ends = drop[np.concatenate([run - 1, [len(drop) - 1]])] + 1
        events += [(int(a), 1, int(b)) for a, b in zip(starts, ends, strict=True)]
    if len(lo):
        at = np.flatnonzero(np.diff(lo) != 0) + 1
        firsts = np.concatenate([[0], at])
        lasts = np.concatenate([at, [len(lo)]])
        events += [(int(lo[a]), 0, int(b)) for a, b in zip(firsts, lasts, strict=True)]
    pieces, cur, new_at = [], 0, 0
    for pos, kind, end in sorted(events):
        if kind == 1:
            pieces.append((cur, max(cur, pos), 0, 0))
            cur = max(cur, end)
        else:
            pieces.append((cur, max(cur, pos), new_at, end))
            cur, new_at = max(cur, pos), end
    pieces.append((cur, len(keep_t), 0, 0))
    return pieces


def merge_arcs(
    keep_t: I32, keep_i: I32, keep_mask: B1, new_t: I32, new_i: I32
) -> tuple[I32, I32]:
    """The kept arcs plus the new ones, sorted by (task, inspector).

    ``keep_t, keep_i`` are sorted by (task, inspector). When the new arcs are
    sorted too and none of their tasks keeps an arc (as the callers make it),
    one pass copies the kept runs and the new arcs into place (a few dropped
    runs, no temporary of the kept arcs); otherwise the union is sorted.
    """
    nt, ni = new_t.astype(keep_t.dtype), new_i.astype(keep_i.dtype)
    drop = np.flatnonzero(~keep_mask)
    lo = np.searchsorted(keep_t, nt)
    hi = np.searchsorted(keep_t, nt, side="right")
    dropped = np.searchsorted(drop, hi) - np.searchsorted(drop, lo)
    if not (_sorted_pairs(nt, ni) and np.array_equal(dropped, hi - lo)):
        a_t = np.concatenate([keep_t[keep_mask], nt])
        a_i = np.concatenate([keep_i[keep_mask], ni])
        order = np.lexsort((a_i, a_t))
        return a_t[order], a_i[order]
    pieces = _merge_pieces(keep_t, drop, lo)
    return (
        np.concatenate([x for a, b, c, d in pieces for x in (keep_t[a:b], nt[c:d])]),
        np.concatenate([x for a, b, c, d in pieces for x in (keep_i[a:b], ni[c:d])]),
    )
