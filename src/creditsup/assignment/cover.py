"""Side constraint, multi-expertise teams: what the flow cannot model, by CP-SAT.

The flow fills one *cover* slot per required expertise with distinct holders
(a system of distinct representatives). A task with several required
expertise areas whose candidates cover them all, but only thanks to an
inspector holding several (Hall's condition fails), can still be staffed
with a set-cover team. :func:`cpsat_candidates` finds those visits and
:func:`solve_cpsat` solves a (department, month) group exactly: a team of the
required size covering every expertise. It is also the monolithic baseline of
the benchmark. CP-SAT runs single-threaded with a fixed seed and a
deterministic time limit, never a wall-clock limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from creditsup.assignment._arrays import B1, I32, I64, bits
from creditsup.assignment.flow import GroupProblem, GroupSolution
from creditsup.assignment.problem import Problem, State, tasks_of

if TYPE_CHECKING:  # imported when a model is solved (ortools is slow to import)
    from ortools.sat.python import cp_model

__all__ = ["cpsat_candidates", "cpsat_solver", "solve_cpsat"]


def cpsat_solver(random_seed: int, max_deterministic_time: float) -> cp_model.CpSolver:
    """A single-threaded, seeded CP-SAT solver with a deterministic time limit."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(random_seed) & 0x7FFFFFFF
    solver.parameters.max_deterministic_time = float(max_deterministic_time)
    return solver


def solve_cpsat(
    gp: GroupProblem,
    *,
    random_seed: int,
    max_deterministic_time: float,
    hint: B1 | None = None,
) -> GroupSolution:
    """Solve a sub-problem exactly with CP-SAT (set-cover coverage).

    A task is either fully staffed (``size`` inspectors, every required
    expertise held by at least one of them) or left empty; the objective is the
    unfilled penalty plus the arc costs (random objective). Runs with one
    worker, ``random_seed`` and ``max_deterministic_time``; an incomplete search
    returns the best solution found (status ``FEASIBLE``).
    """
    n_t = len(gp.size)
    n_a = len(gp.arc_task)
    if n_t == 0:
        return GroupSolution(
            np.zeros(n_a, dtype=bool), np.zeros(0, dtype=bool), "EMPTY"
        )
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in range(n_a)]
    f = [model.new_bool_var(f"f{t}") for t in range(n_t)]
    order = np.argsort(gp.arc_task, kind="stable")
    bounds = np.searchsorted(gp.arc_task[order], np.arange(n_t + 1))
    a_mask = gp.insp_mask[gp.arc_insp]
    for t in range(n_t):
        arcs = order[bounds[t] : bounds[t + 1]]
        model.add(sum(x[a] for a in arcs) == int(gp.size[t]) * f[t])
        for b in bits(int(gp.req[t])):
            holders = [x[a] for a in arcs if (int(a_mask[a]) >> b) & 1]
            model.add(sum(holders) >= f[t])
    i_order = np.argsort(gp.arc_insp, kind="stable")
    cut = np.flatnonzero(np.diff(gp.arc_insp[i_order])) + 1
    for grp in np.split(i_order, cut):
        if len(grp) == 0:
            continue
        cap = int(gp.capacity[gp.arc_insp[grp[0]]])
        if cap < len(grp):
            model.add(sum(x[a] for a in grp) <= max(cap, 0))
    objective = sum(int(gp.arc_cost[a]) * x[a] for a in range(n_a)) + sum(
        int(gp.penalty[t] * gp.size[t]) * (1 - f[t]) for t in range(n_t)
    )
    model.minimize(objective)
    if hint is not None:
        for a in range(n_a):
            model.add_hint(x[a], bool(hint[a]))
    solver = cpsat_solver(random_seed, max_deterministic_time)
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # No solution within the limit: report every task unfilled.
        return GroupSolution(np.zeros(n_a, dtype=bool), np.zeros(n_t, dtype=bool), name)
    chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    filled = np.array([solver.boolean_value(v) for v in f], dtype=bool)
    return GroupSolution(chosen, filled, name)


def cpsat_candidates(P: Problem, S: State, failed: I64, arc_t: I32, arc_i: I32) -> I64:
    """Failed visits with a task the flow cannot model but CP-SAT might staff.

    Tasks with two or more required expertise areas whose candidates with
    capacity left are enough and cover every area, but violate Hall's
    condition for distinct holders. Tasks that failed for capacity or
    eligibility are not sent.
    """
    ft = tasks_of(P, failed)
    if len(ft) == 0:
        return np.zeros(0, dtype=np.int64)
    req = P.t_req[ft]
    pc = np.bitwise_count(req).astype(np.int64)
    mark = np.zeros(len(P.t_visit), dtype=bool)
    mark[ft] = True
    sel = mark[arc_t]
    t, i = arc_t[sel].astype(np.int64), arc_i[sel].astype(np.int64)
    has_cap = P.insp_cap[i] - S.load[i, S.month[t]] > 0
    pos = np.searchsorted(ft, t[has_cap])
    c = P.insp_mask[i[has_cap]] & req[pos]
    n_ok = np.bincount(pos, minlength=len(ft))
    un = np.zeros(len(ft), dtype=np.uint64)
    np.bitwise_or.at(un, pos, c)
    coverable = (pc >= 2) & (n_ok >= P.t_size[ft]) & (un == req)
    # Hall's condition per distinct requirement, over its sub-masks
    hall = np.ones(len(ft), dtype=bool)
    for r in np.unique(req[coverable]):
        tasks_r = coverable & (req == r)
        arcs_r = tasks_r[pos]
        r_bits = bits(int(r))
        for sub in range(1, 1 << len(r_bits)):
            m = np.uint64(
                sum(1 << r_bits[k] for k in range(len(r_bits)) if (sub >> k) & 1)
            )
            hit = arcs_r & ((c & m) != 0)
            n_hit = np.bincount(pos[hit], minlength=len(ft))
            hall &= ~tasks_r | (n_hit >= int(sub).bit_count())
    good_t = ft[coverable & ~hall]
    return np.unique(P.t_visit[good_t])
