"""Side constraint, anti-collusion: the pair limit, repaired with CP-SAT.

``pair_limit`` bounds the number of visits the same two inspectors share in
the year. The chain (:mod:`.chain`) never raises the excess over the limit;
what remains is fixed here group by group: :func:`fix_pairs_cpsat` re-solves
with CP-SAT each (department, month) group holding an over-limit pair, given
the co-assignment counts of the rest of the year, and keeps a new solution
only if it lowers the year's total excess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from creditsup._random import derive_key, seed_sequence
from creditsup.assignment._arrays import B1, I64, bits
from creditsup.assignment.candidates import arc_costs
from creditsup.assignment.cover import cpsat_solver
from creditsup.assignment.flow import CROSS_WEIGHT, RANDOM_COST_RANGE
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.problem import Problem, State
from creditsup.assignment.rounds import commit, in_tasks

if TYPE_CHECKING:  # imported when a model is solved (ortools is slow to import)
    from ortools.sat.python import cp_model

__all__ = ["fix_pairs_cpsat", "pair_excess", "pair_matrix"]

logger = logging.getLogger(__name__)

Pairs = npt.NDArray[np.int16]


def pair_matrix(P: Problem, S: State) -> Pairs:
    """Co-assignment counts: visits shared by each pair of inspectors."""
    n = len(P.insp_id)
    pair = np.zeros((n, n), dtype=np.int16)
    vt = P.visit_tasks
    rows = np.where(vt[:, :, None] >= 0, S.team[np.maximum(vt, 0)], -1).reshape(
        len(vt), -1
    )
    w = rows.shape[1]
    for a in range(w):
        for b in range(w):
            if a == b:
                continue
            ok = (rows[:, a] >= 0) & (rows[:, b] >= 0)
            np.add.at(pair, (rows[ok, a], rows[ok, b]), 1)
    return pair


def pair_excess(pair: Pairs | None, limit: int | None) -> int:
    """Total co-assignments over the limit, each pair counted once."""
    if pair is None or limit is None:
        return 0
    return int(np.maximum(pair.astype(np.int64) - limit, 0).sum() // 2)


@dataclass(frozen=True)
class _Group:
    """One (department, month) group to re-solve."""

    tasks: I64
    month: int
    a_t: I64
    a_i: I64
    by_t: dict[int, I64]  # each task's arcs
    old: I64  # the group's teams now
    base: npt.NDArray[np.int64]  # pair counts of the rest of the year
    cap: I64  # per inspector: slots the group may use
    cost: I64


def _group(
    P: Problem, S: State, tasks: I64, policy: AssignmentPolicy, key: str
) -> _Group:
    m = int(S.month[tasks[0]])
    sel = in_tasks(S.arc_t, tasks, len(P.t_visit))
    a_t, a_i = S.arc_t[sel].astype(np.int64), S.arc_i[sel].astype(np.int64)
    old = S.team[tasks].copy()
    S.team[tasks] = -1
    base = pair_matrix(P, S).astype(np.int64)
    S.team[tasks] = old
    cap_left = P.insp_cap - S.load[:, m]
    used = np.bincount(old[old >= 0], minlength=len(P.insp_id))
    cost = arc_costs(P, a_t, a_i, key)
    if policy.same_region_first:  # keep the region preference below the limit
        cross = P.insp_region[a_i] != P.v_region[P.t_visit[a_t]]
        cost = cost + CROSS_WEIGHT * RANDOM_COST_RANGE * cross.astype(np.int64)
    by_t = {int(t): np.flatnonzero(a_t == t) for t in tasks}
    return _Group(tasks, m, a_t, a_i, by_t, old, base, cap_left + used, cost)


def _model(
    P: Problem, G: _Group, limit: int, capped: set[tuple[int, int]]
) -> tuple[cp_model.CpModel, list[Any]]:
    """Teams of the right size covering their expertise, within capacity and
    without a pair at the limit meeting again; capped pairs get a budget."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{k}") for k in range(len(G.a_t))]
    for t in G.tasks:
        ks = G.by_t[int(t)]
        model.add(sum(x[int(k)] for k in ks) == int(P.t_size[t]))
        for b in bits(int(P.t_req[t])):
            hold = [int(k) for k in ks if (int(P.insp_mask[G.a_i[k]]) >> b) & 1]
            model.add(sum(x[k] for k in hold) >= 1)
    for i in np.unique(G.a_i):
        arcs_i = np.flatnonzero(G.a_i == i)
        model.add(sum(x[int(k)] for k in arcs_i) <= int(G.cap[i]))
    together: dict[tuple[int, int], list[Any]] = {}
    for t in G.tasks:
        ks = G.by_t[int(t)]
        for p_ in range(len(ks)):
            for q_ in range(p_ + 1, len(ks)):
                k1, k2 = int(ks[p_]), int(ks[q_])
                i1, i2 = sorted((int(G.a_i[k1]), int(G.a_i[k2])))
                if G.base[i1, i2] >= limit:
                    model.add(x[k1] + x[k2] <= 1)
                elif (i1, i2) in capped:
                    y = model.new_bool_var("")
                    model.add(y >= x[k1] + x[k2] - 1)
                    together.setdefault((i1, i2), []).append(y)
    for (i1, i2), ys in together.items():
        model.add(sum(ys) <= limit - int(G.base[i1, i2]))
    model.minimize(sum(int(G.cost[k]) * x[k] for k in range(len(G.a_t))))
    return model, x


def _pushed_over(G: _Group, chosen: B1, limit: int) -> set[tuple[int, int]]:
    """Pairs the group's new teams push over the limit."""
    cnt: dict[tuple[int, int], int] = {}
    for t in G.tasks:
        ks = G.by_t[int(t)]
        mem = sorted(int(i) for i in G.a_i[ks[chosen[ks]]])
        for p_ in range(len(mem)):
            for q_ in range(p_ + 1, len(mem)):
                key = (mem[p_], mem[q_])
                cnt[key] = cnt.get(key, 0) + 1
    return {k for k, c in cnt.items() if G.base[k] + c > limit}


def _solve_group(
    P: Problem, G: _Group, limit: int, random_seed: int, det_time: float
) -> B1 | None:
    """Solve, then cap the pairs pushed over the limit (lazily, three rounds)."""
    from ortools.sat.python import cp_model

    capped: set[tuple[int, int]] = set()
    best: B1 | None = None
    for _ in range(3):
        model, x = _model(P, G, limit, capped)
        solver = cpsat_solver(random_seed, det_time)
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        best = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        new = _pushed_over(G, best, limit) - capped
        if not new:
            break
        capped |= new
    return best


def _keep_if_better(
    P: Problem, S: State, G: _Group, best: B1, limit: int, excess: int
) -> int:
    """Swap in the group's new teams; undo unless the year's excess goes down."""
    m, old, tasks = G.month, G.old, G.tasks
    has = old >= 0
    np.add.at(S.load, (old[has], np.full(int(has.sum()), m)), -1)
    S.team[tasks] = -1
    commit(S, G.a_t[best], G.a_i[best], m)
    new_excess = pair_excess(pair_matrix(P, S), limit)
    if new_excess < excess:
        return new_excess
    now = S.team[tasks]
    np.add.at(S.load, (now[now >= 0], np.full(int((now >= 0).sum()), m)), -1)
    S.team[tasks] = old
    np.add.at(S.load, (old[has], np.full(int(has.sum()), m)), 1)
    return excess


def fix_pairs_cpsat(
    P: Problem, S: State, policy: AssignmentPolicy, *, seed: str, year: int
) -> None:
    """Re-solve with CP-SAT the (department, month) groups holding over-limit pairs.

    Given the co-assignment counts of the rest of the year, pairs already at
    the limit may not meet on a task of the group, and pairs that would exceed
    it within the group get a cap on their co-assignments (added lazily, at
    most three rounds). A new solution replaces the group's teams only if it
    lowers the year's total excess, so the fix never makes things worse.
    """
    limit = int(policy.pair_limit or 0)
    pair = pair_matrix(P, S)
    excess = pair_excess(pair, limit)
    if excess == 0:
        return
    t_group = P.t_dept * 13 + S.month
    groups: set[int] = set()
    for a, b in np.argwhere(np.triu(pair > limit)):
        ta = np.flatnonzero((S.team == a).any(axis=1) & (S.team == b).any(axis=1))
        groups.update(int(g) for g in t_group[ta])
    key = derive_key(seed, year, "assignment", "pair-cost")
    for g in sorted(groups):
        tasks = np.flatnonzero((t_group == g) & S.staffed_v[P.t_visit])
        if len(tasks) == 0:
            continue
        G = _group(P, S, tasks, policy, key)
        rs = seed_sequence(seed, year, "assignment", "pairs", g).generate_state(1)[0]
        best = _solve_group(P, G, limit, int(rs), policy.max_deterministic_time)
        if best is None:
            logger.warning("pair limit: group %d could not be re-solved", g)
            continue
        excess = _keep_if_better(P, S, G, best, limit, excess)
        if excess == 0:
            return
