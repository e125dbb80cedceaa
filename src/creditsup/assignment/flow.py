"""Stage 3, flow: one (department, month) sub-problem as a min-cost flow.

A sub-problem is given as flat numpy arrays (:class:`GroupProblem`);
:func:`solve_mcf` turns it into an OR-Tools ``SimpleMinCostFlow`` graph:
exact and polynomial, with expertise coverage expressed as *cover slots* (one
slot per required expertise, filled by distinct holders) plus *general*
slots, and an "unfilled" arc with a huge cost on every slot so that a
shortage is reported instead of raising. Where distinct holders are too
strict (one inspector may cover several areas) :mod:`.cover` solves the
group with CP-SAT.

Costs order unfilled slots (weighted by task priority) before cross-region
slots before keyed random integers (the tie-break that makes the optimum a
random one); see :func:`lexicographic_costs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creditsup.assignment._arrays import B1, I64, U64
from creditsup.exceptions import SolverError

__all__ = [
    "CROSS_WEIGHT",
    "RANDOM_COST_RANGE",
    "GroupProblem",
    "GroupSolution",
    "lexicographic_costs",
    "solve_mcf",
]

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


@dataclass(frozen=True)
class _Roles:
    """Role nodes: one general role per task with general slots, one cover
    role per (complex task, required bit)."""

    complex_: B1  # tasks whose expertise needs cover slots
    has_general: B1
    gen_node: I64  # per task, -1 if none
    cover_node: I64  # [n_tasks, max_bit], -1 if none
    max_bit: int
    task: I64  # per role
    supply: I64  # per role

    @property
    def n(self) -> int:
        return len(self.task)


def _roles(gp: GroupProblem) -> _Roles:
    n_t = len(gp.size)
    pc = _popcount(gp.req)
    complex_ = (pc >= 2) | ((pc == 1) & gp.open_)
    if np.any(complex_ & (gp.size < pc)):
        raise SolverError("A team is smaller than its number of required expertise.")
    n_general = np.where(complex_, gp.size - pc, gp.size)
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
    return _Roles(
        complex_,
        has_general,
        gen_node,
        cover_node,
        max_bit,
        np.concatenate(role_task),
        np.concatenate(role_supply),
    )


@dataclass
class _Graph:
    """Arc lists of the flow graph, appended block by block."""

    starts: list[I64]
    ends: list[I64]
    caps: list[I64]
    costs: list[I64]

    def add(self, start: I64, end: I64, cap: I64, cost: I64) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.caps.append(cap)
        self.costs.append(cost)


def _assignment_arcs(
    gp: GroupProblem, ro: _Roles, g: _Graph
) -> tuple[I64, I64, I64, int]:
    """Role -> inspector arcs (via a pair node when an arc can play several roles).

    Returns the single-role arcs, the multi-role arcs, the local inspectors
    and the node number of the first inspector.
    """
    a_t = gp.arc_task
    a_mask = gp.insp_mask[gp.arc_insp]
    a_cover = np.where(ro.complex_[a_t], a_mask & gp.req[a_t], np.uint64(0))
    a_gen = ro.has_general[a_t]
    a_nroles = _popcount(a_cover) + a_gen
    # the inspectors on arcs, sorted, and each arc's rank among them (what
    # np.unique(..., return_inverse=True) gives, without a sort)
    seen = np.zeros(len(gp.insp_mask), dtype=bool)
    seen[gp.arc_insp] = True
    insp_local = np.flatnonzero(seen)
    rank = np.cumsum(seen) - 1
    insp_inv = rank[gp.arc_insp]
    multi = np.flatnonzero(a_nroles >= 2)
    pair_ids = ro.n + np.arange(len(multi))
    insp_base = ro.n + len(multi)
    single = np.flatnonzero((a_nroles > 0) & (a_nroles == 1))
    s_role = np.where(a_gen[single], ro.gen_node[a_t[single]], -1)
    for b in range(ro.max_bit):
        hit = ((a_cover[single] >> np.uint64(b)) & np.uint64(1)) == 1
        s_role = np.where(hit, ro.cover_node[a_t[single], b], s_role)
    ones = np.ones(len(single), dtype=np.int64)
    g.add(s_role, insp_base + insp_inv[single], ones, gp.arc_cost[single])
    if len(multi):
        m_t, m_gen = a_t[multi], a_gen[multi]
        feed_s, feed_e = [ro.gen_node[m_t[m_gen]]], [pair_ids[m_gen]]
        for b in range(ro.max_bit):
            hit = ((a_cover[multi] >> np.uint64(b)) & np.uint64(1)) == 1
            feed_s.append(ro.cover_node[m_t[hit], b])
            feed_e.append(pair_ids[hit])
        n_feed = sum(len(s) for s in feed_s)
        zero = np.zeros(n_feed, dtype=np.int64)
        g.add(np.concatenate(feed_s), np.concatenate(feed_e), zero + 1, zero)
        ones = np.ones(len(multi), dtype=np.int64)
        g.add(pair_ids, insp_base + insp_inv[multi], ones, gp.arc_cost[multi])
    return single, multi, insp_local, insp_base


def solve_mcf(gp: GroupProblem) -> GroupSolution:
    """Solve a sub-problem with ``SimpleMinCostFlow``.

    Team slots are split into one *cover* slot per required expertise (filled
    by a holder of it) and ``size - n_required`` *general* slots; each inspector
    takes at most one slot of a task (a per-(task, inspector) node when the
    inspector could play several roles) and at most ``capacity`` slots overall.
    A task is ``filled`` when none of its slots used the unfilled arc.
    """
    n_t = len(gp.size)
    chosen = np.zeros(len(gp.arc_task), dtype=bool)
    if n_t == 0:
        return GroupSolution(chosen, np.zeros(0, dtype=bool), "EMPTY")
    ro = _roles(gp)
    g = _Graph([], [], [], [])
    single, multi, insp_local, insp_base = _assignment_arcs(gp, ro, g)
    n_i = len(insp_local)
    sink = insp_base + n_i
    # inspector -> sink with the remaining capacity; unfilled arcs role -> sink
    g.add(
        insp_base + np.arange(n_i),
        np.full(n_i, sink, dtype=np.int64),
        np.maximum(gp.capacity[insp_local], 0).astype(np.int64),
        np.zeros(n_i, dtype=np.int64),
    )
    g.add(
        np.arange(ro.n, dtype=np.int64),
        np.full(ro.n, sink, dtype=np.int64),
        ro.supply,
        gp.penalty[ro.task],
    )
    from ortools.graph.python import min_cost_flow  # lazy: slow to import

    smcf = min_cost_flow.SimpleMinCostFlow()
    n_arcs = sum(len(s) for s in g.starts)
    arc_idx = smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(g.starts).astype(np.int64),
        np.concatenate(g.ends).astype(np.int64),
        np.concatenate(g.caps).astype(np.int64),
        np.concatenate(g.costs).astype(np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[: ro.n] = ro.supply
    supplies[sink] = -int(ro.supply.sum())
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"SimpleMinCostFlow returned status {status!r}.")
    flows = smcf.flows(arc_idx)
    # recover the chosen (task, inspector) arcs
    chosen[single[flows[: len(single)] > 0]] = True
    if len(multi):
        off = n_arcs - n_i - ro.n - len(multi)
        chosen[multi[flows[off : off + len(multi)] > 0]] = True
    short = np.bincount(ro.task, weights=flows[n_arcs - ro.n :], minlength=n_t)
    return GroupSolution(chosen, short == 0, "OPTIMAL")
