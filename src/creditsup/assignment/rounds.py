"""Solving rounds: tasks grouped by (department, month) on residual capacity.

:func:`solve_round` builds one :class:`.flow.GroupProblem` per (department,
month) group of the given tasks, with lexicographic costs (unfilled >>
cross-region >> keyed random) and the inspectors' capacity left in the
month, solves it with the min-cost flow (or CP-SAT, :mod:`.cover`) and
commits the teams of staffed tasks. :func:`release_failed` then keeps a
visit only when all its tasks are staffed.
"""

from __future__ import annotations

import numpy as np

from creditsup._random import seed_sequence
from creditsup.assignment._arrays import B1, I64, expand
from creditsup.assignment.candidates import arc_costs
from creditsup.assignment.cover import solve_cpsat
from creditsup.assignment.flow import (
    GroupProblem,
    GroupSolution,
    lexicographic_costs,
    solve_mcf,
)
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.problem import Problem, State

__all__ = ["commit", "merge_arcs", "release_failed", "solve_round"]


def _group_problem(
    P: Problem,
    S: State,
    g_tasks: I64,
    arcs: tuple[I64, I64, I64, B1],
) -> tuple[GroupProblem, I64, I64]:
    """The sub-problem of one group; also each local arc's task row and inspector."""
    a_t, a_i, cost_all, cross_all = arcs
    lo = np.searchsorted(a_t, g_tasks)
    hi = np.searchsorted(a_t, g_tasks, side="right")
    r, pos = expand(lo, hi - lo)
    g_ai = a_i[pos]
    rank_v = P.v_rank[P.t_visit[g_tasks]]
    prank = np.empty(len(g_tasks), dtype=np.int64)
    prank[np.argsort(rank_v, kind="stable")] = np.arange(len(g_tasks))
    arc_cost, penalty = lexicographic_costs(
        cost_all[pos], cross_all[pos], r, P.t_size[g_tasks], prank
    )
    m = int(S.month[g_tasks[0]])
    gp = GroupProblem(
        size=P.t_size[g_tasks],
        req=P.t_req[g_tasks],
        open_=P.t_open[g_tasks],
        penalty=penalty,
        arc_task=r,
        arc_insp=g_ai,
        arc_cost=arc_cost,
        insp_mask=P.insp_mask,
        capacity=P.insp_cap - S.load[:, m],
    )
    return gp, r, g_ai


def solve_round(
    P: Problem,
    S: State,
    tasks: I64,
    a_t: I64,
    a_i: I64,
    *,
    policy: AssignmentPolicy,
    cost_key: str,
    use_cpsat: bool = False,
    seed: str = "",
    year: int = 0,
) -> None:
    """Solve the given tasks per (department, month) on residual capacity.

    Commits the teams of fully staffed tasks into ``S`` (visit-level release
    is done by the caller).
    """
    if len(tasks) == 0:
        return
    grp = P.t_dept[tasks] * 13 + S.month[tasks]
    order = np.lexsort((tasks, grp))
    tasks, grp = tasks[order], grp[order]
    cost_all = arc_costs(P, a_t, a_i, cost_key)
    cross_all = P.insp_region[a_i] != P.v_region[P.t_visit[a_t]]
    if not policy.same_region_first:
        cross_all = np.zeros(len(a_t), dtype=bool)
    bounds = np.flatnonzero(np.diff(grp)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(tasks)]])
    for s, e in zip(starts, ends, strict=True):
        g_tasks = tasks[s:e]
        m = int(S.month[g_tasks[0]])
        gp, r, g_ai = _group_problem(P, S, g_tasks, (a_t, a_i, cost_all, cross_all))
        S.n_groups += 1
        sol: GroupSolution
        if use_cpsat:
            dept = int(P.t_dept[g_tasks[0]])
            rs = seed_sequence(seed, year, "assignment", "cpsat", m, dept)
            sol = solve_cpsat(
                gp,
                random_seed=int(rs.generate_state(1)[0]),
                max_deterministic_time=policy.max_deterministic_time,
            )
            S.n_cpsat += 1
            S.cpsat_status[sol.status] = S.cpsat_status.get(sol.status, 0) + 1
        else:
            sol = solve_mcf(gp)
        chosen = sol.chosen & sol.filled[r]
        commit(S, g_tasks[r[chosen]], g_ai[chosen], m)
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


def merge_arcs(
    keep_t: I64, keep_i: I64, keep_mask: B1, new_t: I64, new_i: I64
) -> tuple[I64, I64]:
    """The kept arcs plus the new ones, sorted by (task, inspector)."""
    a_t = np.concatenate([keep_t[keep_mask], new_t])
    a_i = np.concatenate([keep_i[keep_mask], new_i])
    order = np.lexsort((a_i, a_t))
    return a_t[order], a_i[order]
