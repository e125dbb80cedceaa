"""Solvers for one (department, month) assignment sub-problem.

Private helpers of :mod:`creditsup.assignment`. A sub-problem is given as flat
numpy arrays (see :class:`GroupProblem`); this module turns it into

* an OR-Tools ``SimpleMinCostFlow`` graph (:func:`solve_mcf`): exact and
  polynomial, with expertise coverage expressed as *cover slots* (one slot per
  required expertise, filled by distinct holders) plus *general* slots, and an
  "unfilled" arc with a huge cost on every slot so that a shortage is reported
  instead of raising;
* a CP-SAT model (:func:`solve_cpsat`) with the exact rules (a team of the
  required size covering every expertise, where one inspector may cover
  several), used only where a flow cannot express the rule, and as the
  monolithic baseline of the benchmark. It runs single-threaded with a fixed
  seed and a deterministic time limit, never a wall-clock limit.

Costs order unfilled slots (weighted by task priority) before cross-region
slots before keyed random integers (the tie-break that makes the optimum a
random one); see :func:`lexicographic_costs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

from creditsup.exceptions import SolverError

__all__ = [
    "RANDOM_COST_RANGE",
    "GroupProblem",
    "GroupSolution",
    "lexicographic_costs",
    "solve_cpsat",
    "solve_mcf",
]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B1 = npt.NDArray[np.bool_]

#: Keyed random arc costs are integers in ``[0, RANDOM_COST_RANGE)``.
RANDOM_COST_RANGE = 1024
#: A cross-region slot costs this many random ranges.
CROSS_WEIGHT = 16
#: An unfilled slot costs this many cross-region slots (times 1 + priority level).
UNFILLED_WEIGHT = 64
#: Number of priority buckets for unfilled penalties.
PRIORITY_LEVELS = 8


@dataclass(frozen=True)
class GroupProblem:
    """One sub-problem: local tasks, candidate arcs and inspector capacities.

    Attributes
    ----------
    size, req, open_, penalty : arrays, one entry per local task
        Team size, bitmask of required expertise, whether an item without an
        expertise requirement is on the task (any inspector of the department
        qualifies), and the cost of one unfilled slot.
    arc_task, arc_insp, arc_cost : arrays, one entry per candidate arc
        Local task index, global inspector index and cost of the arc.
    insp_mask : uint64 array over all inspectors
        Expertise bitmask of each inspector.
    capacity : int64 array over all inspectors
        Remaining capacity of each inspector in the sub-problem's month.
    """

    size: I64
    req: U64
    open_: B1
    penalty: I64
    arc_task: I64
    arc_insp: I64
    arc_cost: I64
    insp_mask: U64
    capacity: I64


@dataclass(frozen=True)
class GroupSolution:
    """Which arcs are used and which tasks are fully staffed."""

    chosen: B1
    filled: B1
    status: str


def lexicographic_costs(
    random_cost: I64,
    cross: B1,
    arc_task: I64,
    size: I64,
    priority_rank: I64,
) -> tuple[I64, I64]:
    """Arc costs and per-slot unfilled penalties: unfilled >> cross-region >> random.

    The weights are *bounded* rather than strictly lexicographic: a
    cross-region slot costs ``CROSS_WEIGHT`` times the random range and an
    unfilled slot ``UNFILLED_WEIGHT`` times a cross-region slot (times
    ``1 + level``, where the level groups tasks into ``PRIORITY_LEVELS``
    buckets by ``priority_rank``, 0 = lowest, so that a shortage falls on
    low-priority tasks first). An exchange that trades one cross-region slot
    for more than ``CROSS_WEIGHT`` random-cost steps is therefore not made;
    such long chains are practically absent, and a small cost range makes the
    cost-scaling solver about twice as fast as 40-bit strict weights. Hard
    rules never depend on costs; unfilled tasks are retried by the caller.
    """
    del arc_task
    p_cross = CROSS_WEIGHT * RANDOM_COST_RANGE
    arc_cost = random_cost + p_cross * cross.astype(np.int64)
    n = max(len(size), 1)
    level = (priority_rank.astype(np.int64) * PRIORITY_LEVELS) // n
    penalty = UNFILLED_WEIGHT * p_cross * (1 + level)
    return arc_cost.astype(np.int64), penalty.astype(np.int64)


def _popcount(x: U64) -> I64:
    return np.bitwise_count(x).astype(np.int64)


def solve_mcf(gp: GroupProblem) -> GroupSolution:
    """Solve a sub-problem with ``SimpleMinCostFlow``.

    Team slots are split into one *cover* slot per required expertise (filled
    by a holder of it) and ``size - n_required`` *general* slots; each inspector
    takes at most one slot of a task (a per-(task, inspector) node when the
    inspector could play several roles) and at most ``capacity`` slots overall.
    A task is ``filled`` when none of its slots used the unfilled arc.
    """
    n_t = len(gp.size)
    n_a = len(gp.arc_task)
    chosen = np.zeros(n_a, dtype=bool)
    if n_t == 0:
        return GroupSolution(chosen, np.zeros(0, dtype=bool), "EMPTY")
    pc = _popcount(gp.req)
    complex_ = (pc >= 2) | ((pc == 1) & gp.open_)
    if np.any(complex_ & (gp.size < pc)):
        raise SolverError("A team is smaller than its number of required expertise.")
    n_general = np.where(complex_, gp.size - pc, gp.size)

    # ---- role nodes: one general role per task (if it has general slots) and
    # one cover role per (complex task, required bit).
    has_general = n_general > 0
    gen_node = np.full(n_t, -1, dtype=np.int64)
    gen_node[has_general] = np.arange(int(has_general.sum()))
    n_roles = int(has_general.sum())
    role_task = [np.flatnonzero(has_general)]
    role_supply = [n_general[has_general]]
    max_bit = int(np.max(np.where(complex_, gp.req, np.uint64(0)))).bit_length()
    cover_node = np.full((n_t, max(max_bit, 1)), -1, dtype=np.int64)
    for b in range(max_bit):
        sel = complex_ & (((gp.req >> np.uint64(b)) & np.uint64(1)) == 1)
        k = int(sel.sum())
        if k:
            cover_node[sel, b] = n_roles + np.arange(k)
            n_roles += k
            role_task.append(np.flatnonzero(sel))
            role_supply.append(np.ones(k, dtype=np.int64))
    r_task = np.concatenate(role_task)
    r_supply = np.concatenate(role_supply)

    # ---- arcs: which roles each (task, inspector) arc can play.
    a_t = gp.arc_task
    a_mask = gp.insp_mask[gp.arc_insp]
    a_cover = np.where(complex_[a_t], a_mask & gp.req[a_t], np.uint64(0))
    a_gen = has_general[a_t]
    a_nroles = _popcount(a_cover) + a_gen
    usable = a_nroles > 0
    insp_local, insp_inv = np.unique(gp.arc_insp, return_inverse=True)
    n_i = len(insp_local)
    multi = np.flatnonzero(a_nroles >= 2)
    n_pair = len(multi)
    pair_base = n_roles
    insp_base = pair_base + n_pair
    sink = insp_base + n_i

    starts: list[I64] = []
    ends: list[I64] = []
    caps: list[I64] = []
    costs: list[I64] = []
    # single-role arcs: role -> inspector
    single = np.flatnonzero(usable & (a_nroles == 1))
    s_role = np.where(a_gen[single], gen_node[a_t[single]], -1)
    if max_bit:
        s_cover = a_cover[single]
        for b in range(max_bit):
            hit = ((s_cover >> np.uint64(b)) & np.uint64(1)) == 1
            s_role = np.where(hit, cover_node[a_t[single], b], s_role)
    assign_arc_ids = [single]
    starts.append(s_role)
    ends.append(insp_base + insp_inv[single])
    caps.append(np.ones(len(single), dtype=np.int64))
    costs.append(gp.arc_cost[single])
    # multi-role arcs: role -> pair node (cost 0) and pair node -> inspector
    if n_pair:
        pair_ids = pair_base + np.arange(n_pair)
        m_t = a_t[multi]
        g = a_gen[multi]
        starts.append(gen_node[m_t[g]])
        ends.append(pair_ids[g])
        for b in range(max_bit):
            hit = ((a_cover[multi] >> np.uint64(b)) & np.uint64(1)) == 1
            starts.append(cover_node[m_t[hit], b])
            ends.append(pair_ids[hit])
        n_feed = sum(len(s) for s in starts[1:])
        caps.append(np.ones(n_feed, dtype=np.int64))
        costs.append(np.zeros(n_feed, dtype=np.int64))
        # placeholders aligned with the feed arcs (several arrays appended above)
        starts[1:] = [np.concatenate(starts[1:])]
        ends[1:] = [np.concatenate(ends[1:])]
        assign_arc_ids.append(multi)
        starts.append(pair_ids)
        ends.append(insp_base + insp_inv[multi])
        caps.append(np.ones(n_pair, dtype=np.int64))
        costs.append(gp.arc_cost[multi])
    # inspector -> sink with the remaining capacity
    starts.append(insp_base + np.arange(n_i))
    ends.append(np.full(n_i, sink, dtype=np.int64))
    caps.append(np.maximum(gp.capacity[insp_local], 0).astype(np.int64))
    costs.append(np.zeros(n_i, dtype=np.int64))
    # unfilled arcs: role -> sink
    starts.append(np.arange(n_roles, dtype=np.int64))
    ends.append(np.full(n_roles, sink, dtype=np.int64))
    caps.append(r_supply)
    costs.append(gp.penalty[r_task])

    smcf = min_cost_flow.SimpleMinCostFlow()
    all_start = np.concatenate(starts).astype(np.int64)
    all_end = np.concatenate(ends).astype(np.int64)
    arc_idx = smcf.add_arcs_with_capacity_and_unit_cost(
        all_start,
        all_end,
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_roles] = r_supply
    supplies[sink] = -int(r_supply.sum())
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"SimpleMinCostFlow returned status {status!r}.")
    flows = smcf.flows(arc_idx)
    # recover the chosen (task, inspector) arcs
    n_single = len(single)
    used = flows[:n_single] > 0
    chosen[single[used]] = True
    if n_pair:
        off = len(all_start) - n_i - n_roles - n_pair
        used_m = flows[off : off + n_pair] > 0
        chosen[multi[used_m]] = True
    unfilled_flow = flows[len(all_start) - n_roles :]
    short = np.bincount(r_task, weights=unfilled_flow, minlength=n_t)
    return GroupSolution(chosen, short == 0, "OPTIMAL")


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
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in range(n_a)]
    f = [model.new_bool_var(f"f{t}") for t in range(n_t)]
    order = np.argsort(gp.arc_task, kind="stable")
    bounds = np.searchsorted(gp.arc_task[order], np.arange(n_t + 1))
    a_mask = gp.insp_mask[gp.arc_insp]
    for t in range(n_t):
        arcs = order[bounds[t] : bounds[t + 1]]
        xs = [x[a] for a in arcs]
        model.add(sum(xs) == int(gp.size[t]) * f[t])
        req = int(gp.req[t])
        b = 0
        while req >> b:
            if (req >> b) & 1:
                holders = [x[a] for a in arcs if (int(a_mask[a]) >> b) & 1]
                model.add(sum(holders) >= f[t])
            b += 1
    i_order = np.argsort(gp.arc_insp, kind="stable")
    insp_sorted = gp.arc_insp[i_order]
    cut = np.flatnonzero(np.diff(insp_sorted)) + 1
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
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(random_seed) & 0x7FFFFFFF
    solver.parameters.max_deterministic_time = float(max_deterministic_time)
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # No solution within the limit: report every task unfilled.
        return GroupSolution(np.zeros(n_a, dtype=bool), np.zeros(n_t, dtype=bool), name)
    chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    filled = np.array([solver.boolean_value(v) for v in f], dtype=bool)
    return GroupSolution(chosen, filled, name)
