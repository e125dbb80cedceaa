"""Stage 6, randomisation: a Metropolis chain over feasible assignments.

The state is a team per task (``team[t, :size[t]]``, ``-1`` padded). Two
symmetric move types are proposed, both independent of the current state:

* **replace**: a uniformly random filled slot ``(t, k)`` and a uniformly random
  candidate ``j`` of task ``t`` who is not on its team and is of the same
  region class (same region / cross-region) as the occupant; the occupant is
  replaced by ``j`` (the number of such candidates is the same before and
  after the move, so the proposal is symmetric);
* **exchange**: two uniformly random slots of the same group (department,
  month and, with the region preference, the entity's region); their
  occupants change places.

A proposal is accepted iff the new state keeps every hard rule (candidate arc,
no duplicate on a team, monthly capacity, expertise coverage) and does not
raise the number of cross-region slots nor the pair-limit excess. Because the
proposal kernel is symmetric and the target is uniform, the acceptance rule
is the Metropolis rule: the chain is reversible with respect to the uniform
law on the connected feasible set at the starting cross-region level, and
converges to it. The flow's optimum is a random assignment but not a
uniform one; the chain makes it uniform in the limit.

The chain proposes from the candidate arcs, so it randomises within them.
With the cap on same-region candidates (``same_region_candidates`` K,
:mod:`.candidates`) the law of the assignment is: per task, a uniformly
random K-subset of its eligible same-region inspectors (all of them when
there are at most K; every eligible one for a task staffed by the fallback
rounds), then the uniform law on the feasible set over those arcs. Both steps
are symmetric across inspectors: each eligible same-region inspector of a
task is equally likely to be on its team.

Moves are vectorised in batches. A batch keeps only proposals that touch
disjoint sets of tasks and inspectors (a proposal is dropped if an earlier
proposal of the batch touches any of its tasks or inspectors), so the kept
moves commute and the batch equals their sequential composition. The touched
sets are the same in a state and in the state a move leads to (a team plus
the incoming inspector), so the dropping rule is symmetric and the batch
kernel keeps detailed balance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from creditsup._random import stage_rng
from creditsup.assignment._arrays import B1, I32, I64, U64
from creditsup.assignment.pairs import fix_pairs_cpsat, pair_excess, pair_matrix
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.problem import Problem, State

__all__ = ["ChainInput", "ChainStats", "randomise", "run_chain"]

_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class ChainInput:
    """Static data of the chain (one entry per task / inspector / arc)."""

    size: I64
    req: U64
    month: I64
    group: I64
    visit: I64
    task_region: I64
    cand_ptr: I64
    cand_insp: I32  # sorted by inspector within each task's range
    insp_mask: U64
    insp_region: I64
    capacity: I64
    same_region: bool
    pair_limit: int | None
    visit_tasks: I64  # [n_visits, max_tasks] padded with -1


@dataclass(frozen=True)
class ChainStats:
    """What the chain did (for the ledger and the metrics)."""

    proposals: int
    kept: int
    accepted: int
    rounds: int
    changed_slots: int
    slots: int


def _or_masks(rows: I64, mask: U64) -> U64:
    m = np.where(rows >= 0, mask[np.maximum(rows, 0)], np.uint64(0))
    return np.asarray(np.bitwise_or.reduce(m, axis=1), dtype=np.uint64)


def _in_row(rows: I64, x: I64) -> B1:
    return np.asarray(np.any(rows == x[:, None], axis=1), dtype=bool)


def _covers(rows: I64, req: U64, mask: U64) -> B1:
    return np.asarray((_or_masks(rows, mask) & req) == req)


def _pair_excess_delta(
    pair: npt.NDArray[np.int16],
    limit: int,
    prop: I64,
    a: I64,
    b: I64,
    d: I64,
    n_props: int,
) -> I64:
    """Change of total excess ``sum max(0, count - limit)`` per proposal."""
    valid = (a >= 0) & (b >= 0) & (a != b)
    prop, a, b, d = prop[valid], a[valid], b[valid], d[valid]
    lo = np.minimum(a, b)
    hi = np.maximum(a, b)
    n = pair.shape[0]
    key = (prop * n + lo) * n + hi
    uk, inv = np.unique(key, return_inverse=True)
    net = np.bincount(inv, weights=d, minlength=len(uk)).astype(np.int64)
    up = uk // n // n
    ulo = (uk // n) % n
    uhi = uk % n
    c = pair[ulo, uhi].astype(np.int64)
    ex = np.maximum(c + net - limit, 0) - np.maximum(c - limit, 0)
    return np.bincount(up, weights=ex, minlength=n_props).astype(np.int64)


def _keep_pair_limit(
    pair: npt.NDArray[np.int16],
    limit: int,
    ok: B1,
    terms: list[tuple[I64, I64, int]],
) -> B1:
    """Drop the moves that raise the pair excess; count the others into ``pair``.

    Each term ``(who, others, sign)`` adds ``sign`` to the pairs of ``who[p]``
    with every inspector of ``others[p]`` for move ``p``.
    """
    n = len(ok)
    w = terms[0][1].shape[1]
    pp = np.repeat(np.arange(n), w)
    p = np.concatenate([pp] * len(terms))
    a = np.concatenate([np.repeat(who, w) for who, _, _ in terms])
    b = np.concatenate([others.ravel() for _, others, _ in terms])
    d = np.concatenate([np.full(len(pp), s, dtype=np.int64) for _, _, s in terms])
    ok = ok & (_pair_excess_delta(pair, limit, p, a, b, d, n) <= 0)
    s = np.isin(p, np.flatnonzero(ok)) & (b >= 0)
    np.add.at(pair, (a[s], b[s]), d[s].astype(np.int16))
    np.add.at(pair, (b[s], a[s]), d[s].astype(np.int16))
    return ok


@dataclass(frozen=True)
class _Slots:
    """Filled slots ordered by (group, task, k): contiguous per group."""

    task: I64
    k: I64
    gstart: I64  # first slot of the slot's group
    gn: I64  # slots in the slot's group


def _slots(ci: ChainInput, team: I64) -> _Slots:
    filled = (team >= 0).sum(axis=1)
    cnt = np.where(filled > 0, filled, 0).astype(np.int64)
    s_task = np.repeat(np.arange(len(team), dtype=np.int64), cnt)
    s_k = np.arange(len(s_task), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    order = np.lexsort((s_k, s_task, ci.group[s_task]))
    s_task = s_task[order]
    s_group = ci.group[s_task]
    ug, g_start, g_count = np.unique(s_group, return_index=True, return_counts=True)
    g_pos = np.searchsorted(ug, s_group)
    return _Slots(s_task, s_k[order].astype(np.int64), g_start[g_pos], g_count[g_pos])


#: Arcs handled per chunk of tasks when the candidates are reordered.
_CHUNK_ARCS = 1 << 18


def _task_chunks(ptr: I64) -> list[tuple[int, int]]:
    """Ranges of tasks of about ``_CHUNK_ARCS`` arcs each (``ptr``: CSR offsets)."""
    n = len(ptr) - 1
    cuts = np.searchsorted(ptr, np.arange(_CHUNK_ARCS, int(ptr[-1]), _CHUNK_ARCS))
    bounds = np.unique(np.concatenate([[0], np.minimum(cuts, n), [n]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class _Candidates:
    """Candidates sorted by (task, region class, inspector); class 1 = cross-region.

    All class 0 when the region is not a preference. Task ``t``'s candidates
    are ``insp[ptr[t]:ptr[t + 1]]``, the first ``n_cls0[t]`` of class 0.
    """

    ci: ChainInput
    insp: I32
    cls: npt.NDArray[np.int8]
    n_cls0: I64  # per task, candidates of class 0

    def cls_of(self, i_: I64, t_: I64) -> I64:
        if not self.ci.same_region:
            return np.zeros(np.shape(i_), dtype=np.int64)
        return np.asarray(
            self.ci.insp_region[i_] != self.ci.task_region[t_], dtype=np.int64
        )

    def pos(self, t_: I64, i_: I64) -> I64:
        """Global position of candidate ``i_`` of task ``t_``, or -1.

        A branchless binary search inside the task's range of the inspector's
        class (a few entries, in cache) rather than over every arc.
        """
        shape = np.shape(t_)
        if len(self.insp) == 0:
            return np.full(shape, -1, dtype=np.int64)
        t_, i_ = np.ravel(t_), np.ravel(i_)
        i_c = np.maximum(i_, 0)
        ptr, n_cls0 = self.ci.cand_ptr, self.n_cls0
        c = self.cls_of(i_c, t_)
        lo = ptr[t_] + c * n_cls0[t_]
        end = np.where(c == 1, ptr[t_ + 1], ptr[t_] + n_cls0[t_])
        n = end - lo
        base = np.where(n > 0, lo, 0)
        for _ in range(max(int(n.max(initial=0)) - 1, 0).bit_length()):
            half = n >> 1
            mid = base + half
            base = np.where(self.insp[mid] < i_c, mid, base)
            n -= half
        base += self.insp[base] < i_c
        hit = (i_ >= 0) & (lo < end) & (base < end)
        hit &= self.insp[np.minimum(base, len(self.insp) - 1)] == i_c
        return np.where(hit, base, -1).reshape(shape)


def _candidates(ci: ChainInput, n_tasks: int) -> _Candidates:
    """Each task's candidates reordered by (region class, inspector).

    The arcs come sorted by (task, inspector): a stable partition of each
    task's range by class, in O(n) chunk by chunk (no sort).
    """
    ptr = ci.cand_ptr
    deg = np.diff(ptr)
    if not ci.same_region:
        return _Candidates(ci, ci.cand_insp, np.zeros(len(ci.cand_insp), np.int8), deg)
    insp = np.empty_like(ci.cand_insp)
    cls = np.empty(len(ci.cand_insp), dtype=np.int8)
    n_cls0 = np.zeros(n_tasks, dtype=np.int64)
    for t0, t1 in _task_chunks(ptr):
        a0, a1 = int(ptr[t0]), int(ptr[t1])
        tk = np.repeat(np.arange(t0, t1, dtype=np.int64), deg[t0:t1])
        cand = ci.cand_insp[a0:a1]
        c1 = ci.insp_region[cand] != ci.task_region[tk]
        is0 = ~c1
        n0 = np.bincount(tk[is0] - t0, minlength=t1 - t0)
        before0 = np.cumsum(is0) - is0  # class-0 arcs before each arc (chunk)
        start = ptr[tk]
        within0 = before0 - before0[start - a0]  # ... and in its task
        k = np.arange(a0, a1, dtype=np.int64)
        new = np.where(
            is0, start + within0, start + n0[tk - t0] + (k - start - within0)
        )
        insp[new] = cand
        cls[new] = c1
        n_cls0[t0:t1] = n0
    return _Candidates(ci, insp, cls, n_cls0)


def _n_eff(ci: ChainInput, team: I64, *, pairs: bool) -> int:
    """Distinct keys the moves can touch: inspectors (with the pair limit) or
    (inspector, month) pairs, among the candidates of the staffed tasks."""
    staffed = (team >= 0).sum(axis=1) > 0
    ptr = ci.cand_ptr
    mark = np.zeros(len(ci.capacity) * (1 if pairs else 13), dtype=bool)
    for t0, t1 in _task_chunks(ptr):
        tk = np.repeat(np.arange(t0, t1, dtype=np.int64), np.diff(ptr[t0 : t1 + 1]))
        cand = ci.cand_insp[ptr[t0] : ptr[t1]].astype(np.int64)
        sel = staffed[tk]
        mark[cand[sel] if pairs else cand[sel] * 13 + ci.month[tk[sel]]] = True
    return int(mark.sum())


@dataclass
class _Walk:
    """The chain's mutable state and what it needs to move."""

    ci: ChainInput
    cands: _Candidates
    slots: _Slots
    team: I64
    load: I64
    tpos: I64  # position of each team member in the candidate array
    tcls: npt.NDArray[np.int8]  # and its region class (kept beside: no gather)
    pair: npt.NDArray[np.int16] | None
    n_tkeys: int  # touched-key space: tasks (visits with pairs) then inspectors

    def visit_rows(self, t: I64) -> I64:
        """All inspectors on the visits of tasks ``t`` (``-1`` padded)."""
        vt = self.ci.visit_tasks[self.ci.visit[t]]
        return np.where(vt[:, :, None] >= 0, self.team[np.maximum(vt, 0)], -1).reshape(
            len(t), -1
        )


@dataclass(frozen=True)
class _Batch:
    """One batch of proposals: slot (t1, k1), replacement j, exchange slot (t2, k2)."""

    t1: I64
    k1: I64
    j: I64
    jpos: I64
    ex: B1
    t2: I64
    k2: I64


def _propose(W: _Walk, rng: np.random.Generator, bsz: int, p_exchange: float) -> _Batch:
    """Draw a batch of proposals (four random numbers each, state-independent)."""
    C, S, ci = W.cands, W.slots, W.ci
    r = rng.integers(0, len(S.task), bsz)
    u_ex = rng.random(bsz)
    u_c = rng.random(bsz)
    u_p = rng.random(bsz)
    t1, k1 = S.task[r], S.k[r]
    # replacement: the u-th candidate of t1 not on its team, of the same
    # region class as the slot's occupant (uniform over a number of choices
    # that is the same before and after the move: a symmetric proposal)
    prow = W.tpos[t1]
    pcls = W.tcls[t1]
    c1 = pcls[np.arange(bsz), k1]
    lo = ci.cand_ptr[t1] + c1 * C.n_cls0[t1]
    hi = np.where(c1 == 1, ci.cand_ptr[t1 + 1], ci.cand_ptr[t1] + C.n_cls0[t1])
    same_c = (prow >= 0) & (pcls == c1[:, None])
    tp = np.where(same_c, prow - lo[:, None], _BIG)
    free = hi - lo - same_c.sum(axis=1)
    u = np.minimum(
        (u_c * np.maximum(free, 0)).astype(np.int64), np.maximum(free - 1, 0)
    )
    tp.sort(axis=1)
    for c in range(W.team.shape[1]):
        u = u + (u >= tp[:, c])
    jpos = np.minimum(lo + u, len(C.insp) - 1)
    j = np.where(free > 0, C.insp[jpos].astype(np.int64), -1)
    # exchange: another uniformly random slot of the same group
    gn = S.gn[r]
    ex = (u_ex < p_exchange) & (gn >= 2)
    off = np.minimum(
        (u_p * np.maximum(gn - 1, 1)).astype(np.int64), np.maximum(gn - 2, 0)
    )
    off = off + (off >= r - S.gstart[r])
    r2 = np.where(ex, S.gstart[r] + off, r)
    return _Batch(t1, k1, j, jpos, ex, S.task[r2], S.k[r2])


def _disjoint(W: _Walk, B: _Batch, minp: I64) -> B1:
    """Keep the proposals touching no task or inspector of an earlier one."""
    ci, team, n_tkeys, bsz = W.ci, W.team, W.n_tkeys, len(B.t1)
    if W.pair is not None:
        ik1 = W.visit_rows(B.t1)
        ik2 = np.where(B.ex[:, None], W.visit_rows(B.t2), -1)
        v1, v2 = ci.visit[B.t1], ci.visit[B.t2]
        tk = np.stack([v1, np.where(B.ex, v2, -1)], axis=1)
        jk = np.where(B.ex, -1, B.j)
    else:
        m1 = ci.month[B.t1]
        row1, row2 = team[B.t1], team[B.t2]
        ik1 = np.where(row1 >= 0, row1 * 13 + m1[:, None], -1)
        ik2 = np.where(B.ex[:, None] & (row2 >= 0), row2 * 13 + m1[:, None], -1)
        tk = np.stack([B.t1, np.where(B.ex, B.t2, -1)], axis=1)
        jk = np.where(B.ex, -1, B.j * 13 + m1)
    keys = np.concatenate(
        [
            np.where(tk >= 0, tk, -1),
            np.where(ik1 >= 0, ik1 + n_tkeys, -1),
            np.where(ik2 >= 0, ik2 + n_tkeys, -1),
            np.where(jk >= 0, jk + n_tkeys, -1)[:, None],
        ],
        axis=1,
    )
    props = np.broadcast_to(np.arange(bsz)[:, None], keys.shape)
    valid = keys >= 0
    fk = keys[valid]
    fp = props[valid]
    np.minimum.at(minp, fk, fp)
    clash = minp[fk] < fp
    minp[fk] = _BIG
    return ~(np.bincount(fp[clash], minlength=bsz) > 0)


def _replace(W: _Walk, B: _Batch, idx: I64) -> int:
    """Apply the acceptable replace moves among proposals ``idx``."""
    ci, team, ar = W.ci, W.team, np.arange(len(idx))
    t, k, jj = B.t1[idx], B.k1[idx], B.j[idx]
    rows = team[t]
    ii = rows[ar, k]
    ok = (jj >= 0) & (jj != ii) & ~_in_row(rows, jj)
    mth = ci.month[t]
    ok &= W.load[jj, mth] < ci.capacity[jj]
    new_rows = rows.copy()
    new_rows[ar, k] = jj
    ok &= _covers(new_rows, ci.req[t], ci.insp_mask)
    # (j is of the occupant's region class: the cross-region level holds)
    if W.pair is not None and ci.pair_limit is not None and ok.any():
        vrows = W.visit_rows(t)
        others = np.where(vrows == ii[:, None], -1, vrows)
        ok = _keep_pair_limit(
            W.pair, ci.pair_limit, ok, [(jj, others, 1), (ii, others, -1)]
        )
    acc = np.flatnonzero(ok)
    team[t[acc], k[acc]] = jj[acc]
    W.tpos[t[acc], k[acc]] = B.jpos[idx[acc]]
    W.load[ii[acc], mth[acc]] -= 1
    W.load[jj[acc], mth[acc]] += 1
    return len(acc)


def _exchange(W: _Walk, B: _Batch, xidx: I64) -> int:
    """Apply the acceptable exchange moves among proposals ``xidx``."""
    ci, team, ar = W.ci, W.team, np.arange(len(xidx))
    ta, ka, tb, kb = B.t1[xidx], B.k1[xidx], B.t2[xidx], B.k2[xidx]
    ra, rb = team[ta], team[tb]
    ia, ib = ra[ar, ka], rb[ar, kb]
    ok = (ta != tb) & (ia != ib)
    ok &= ~_in_row(rb, ia) & ~_in_row(ra, ib)
    if ci.same_region:
        cr = W.cands.cls_of
        ok &= cr(ib, ta) + cr(ia, tb) <= cr(ia, ta) + cr(ib, tb)
    na = ra.copy()
    na[ar, ka] = ib
    nb = rb.copy()
    nb[ar, kb] = ia
    ok &= _covers(na, ci.req[ta], ci.insp_mask)
    ok &= _covers(nb, ci.req[tb], ci.insp_mask)
    # both must be candidates of the other task (checked last: a search)
    pos_ib = np.full(len(xidx), -1, dtype=np.int64)
    pos_ia = np.full(len(xidx), -1, dtype=np.int64)
    cheap = np.flatnonzero(ok)
    pos_ib[cheap] = W.cands.pos(ta[cheap], ib[cheap])
    pos_ia[cheap] = W.cands.pos(tb[cheap], ia[cheap])
    ok &= (pos_ib >= 0) & (pos_ia >= 0)
    if W.pair is not None and ci.pair_limit is not None and ok.any():
        va, vb = W.visit_rows(ta), W.visit_rows(tb)
        oa = np.where(va == ia[:, None], -1, va)
        ob = np.where(vb == ib[:, None], -1, vb)
        ok = _keep_pair_limit(
            W.pair,
            ci.pair_limit,
            ok,
            [(ib, oa, 1), (ia, oa, -1), (ia, ob, 1), (ib, ob, -1)],
        )
    acc = np.flatnonzero(ok)
    team[ta[acc], ka[acc]] = ib[acc]
    team[tb[acc], kb[acc]] = ia[acc]
    W.tpos[ta[acc], ka[acc]] = pos_ib[acc]
    W.tpos[tb[acc], kb[acc]] = pos_ia[acc]
    W.tcls[ta[acc], ka[acc]] = W.cands.cls[pos_ib[acc]]
    W.tcls[tb[acc], kb[acc]] = W.cands.cls[pos_ia[acc]]
    return len(acc)


def _walk(
    ci: ChainInput,
    team: I64,
    load: I64,
    pair: npt.NDArray[np.int16] | None,
    batch: int | None,
) -> tuple[_Walk, int]:
    """The chain's starting state and its batch size."""
    n_tasks, width = team.shape
    slots = _slots(ci, team)
    cands = _candidates(ci, n_tasks)
    use_pairs = ci.pair_limit is not None and pair is not None
    n_tkeys = int(ci.visit_tasks.shape[0]) if use_pairs else n_tasks
    if batch is None:
        n_eff = _n_eff(ci, team, pairs=use_pairs)
        batch = max(1, min(4096, n_eff // 24, len(slots.task) // 4))
    tpos = np.full((n_tasks, width), -1, dtype=np.int64)
    tcls = np.zeros((n_tasks, width), dtype=np.int8)
    step = max(_CHUNK_ARCS // max(width, 1), 1)
    for t0 in range(0, n_tasks, step):  # chunks of tasks: small temporaries
        rows = np.arange(t0, min(t0 + step, n_tasks), dtype=np.int64)
        p = cands.pos(np.repeat(rows[:, None], width, axis=1), team[rows])
        tpos[rows] = p
        tcls[rows] = np.where(p >= 0, cands.cls[np.maximum(p, 0)], 0)
    if np.any((team >= 0) & (tpos < 0)):
        raise ValueError("A team member is not a candidate of its task.")
    use = pair if use_pairs else None
    return _Walk(ci, cands, slots, team, load, tpos, tcls, use, n_tkeys), batch


def run_chain(
    ci: ChainInput,
    team: I64,
    load: I64,
    rng: np.random.Generator,
    *,
    sweeps: int,
    p_exchange: float = 0.3,
    batch: int | None = None,
    pair: npt.NDArray[np.int16] | None = None,
) -> tuple[I64, I64, ChainStats]:
    """Run ``sweeps * n_slots`` proposals; return the new teams and loads.

    ``team`` is ``[n_tasks, width]`` (``-1`` padded, tasks not staffed have no
    members), ``load`` is ``[n_inspectors, 13]`` (month 1..12). Inputs are
    not modified. ``pair`` (inspector x inspector co-assignment counts) is
    required when ``ci.pair_limit`` is set and is updated in place.
    """
    team = team.copy()
    load = load.copy()
    start = team.copy()
    n_slots = int((team >= 0).sum())
    total = int(sweeps) * n_slots
    if total == 0:
        return team, load, ChainStats(0, 0, 0, 0, 0, n_slots)
    W, batch = _walk(ci, team, load, pair, batch)
    n_ikeys = len(ci.capacity) * (1 if W.pair is not None else 13)
    minp = np.full(W.n_tkeys + n_ikeys, _BIG, dtype=np.int64)
    proposals = kept = accepted = rounds = 0
    while proposals < total:
        bsz = int(min(batch, total - proposals))
        proposals += bsz
        rounds += 1
        B = _propose(W, rng, bsz, p_exchange)
        keep = _disjoint(W, B, minp)
        kept += int(keep.sum())
        rep = np.flatnonzero(keep & ~B.ex)
        if len(rep):
            accepted += _replace(W, B, rep)
        xch = np.flatnonzero(keep & B.ex)
        if len(xch):
            accepted += _exchange(W, B, xch)
    same = (team[:, :, None] == start[:, None, :]) & (team[:, :, None] >= 0)
    changed = int(((team >= 0) & ~same.any(axis=2)).sum())
    stats = ChainStats(proposals, kept, accepted, rounds, changed, n_slots)
    return team, load, stats


def randomise(
    P: Problem, S: State, policy: AssignmentPolicy, *, seed: str, year: int
) -> dict[str, Any]:
    """Run the chain on the staffed tasks of ``S`` (then fix the pair limit).

    Returns the chain's statistics for the ledger and the metrics.
    """
    n_t = len(P.t_visit)
    pair: npt.NDArray[np.int16] | None = None
    if policy.pair_limit is not None:
        pair = pair_matrix(P, S)
    ci = ChainInput(
        size=P.t_size,
        req=P.t_req,
        month=S.month,
        group=(P.t_dept * 13 + S.month) * (P.n_regions + 1)
        + (P.v_region[P.t_visit] + 1) * int(policy.same_region_first),
        visit=P.t_visit,
        task_region=P.v_region[P.t_visit],
        cand_ptr=np.searchsorted(S.arc_t, np.arange(n_t + 1, dtype=S.arc_t.dtype)),
        cand_insp=S.arc_i,
        insp_mask=P.insp_mask,
        insp_region=P.insp_region,
        capacity=P.insp_cap,
        same_region=policy.same_region_first,
        pair_limit=policy.pair_limit,
        visit_tasks=P.visit_tasks,
    )
    rng = stage_rng(seed, year, "assignment", "metropolis")
    before_excess = pair_excess(pair, policy.pair_limit)
    S.team, S.load, st = run_chain(
        ci, S.team, S.load, rng, sweeps=policy.metropolis_sweeps, pair=pair
    )
    out: dict[str, Any] = {
        "sweeps": policy.metropolis_sweeps,
        "slots": st.slots,
        "proposals": st.proposals,
        "kept": st.kept,
        "accepted": st.accepted,
        "rounds": st.rounds,
        "acceptance_rate": round(st.accepted / st.proposals, 4)
        if st.proposals
        else 0.0,
        "changed_share": round(st.changed_slots / st.slots, 4) if st.slots else 0.0,
    }
    if policy.pair_limit is not None:
        out["pair_excess_before"] = before_excess
        out["pair_excess_after"] = pair_excess(pair, policy.pair_limit)
        if out["pair_excess_after"]:
            fix_pairs_cpsat(P, S, policy, seed=seed, year=year)
            out["pair_excess_final"] = pair_excess(pair_matrix(P, S), policy.pair_limit)
    return out
