"""Metropolis chain over feasible inspector assignments (private).

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
converges to it.

Moves are vectorised in batches. A batch keeps only proposals that touch
disjoint sets of tasks and inspectors (a proposal is dropped if an earlier
proposal of the batch touches any of its tasks or inspectors), so the kept
moves commute and the batch equals their sequential composition. The touched
sets are the same in a state and in the state a move leads to (a team plus
the incoming inspector), so the dropping rule is symmetric and the batch
kernel keeps detailed balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ChainInput", "ChainStats", "run_chain"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B1 = npt.NDArray[np.bool_]


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
    cand_insp: I64
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
    n_tasks, width = team.shape
    filled = (team >= 0).sum(axis=1)
    staffed = filled > 0
    # slots ordered by (group, task, k): contiguous per group
    cnt = np.where(staffed, filled, 0).astype(np.int64)
    s_task = np.repeat(np.arange(n_tasks, dtype=np.int64), cnt)
    s_k = np.arange(len(s_task), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    order = np.lexsort((s_k, s_task, ci.group[s_task]))
    s_task = s_task[order]
    s_k = s_k[order].astype(np.int64)
    n_slots = len(s_task)
    total = int(sweeps) * n_slots
    if total == 0:
        return team, load, ChainStats(0, 0, 0, 0, 0, n_slots)
    s_group = ci.group[s_task]
    ug, g_start, g_count = np.unique(s_group, return_index=True, return_counts=True)
    g_pos = np.searchsorted(ug, s_group)
    slot_gstart = g_start[g_pos]
    slot_gn = g_count[g_pos]

    use_pairs = ci.pair_limit is not None and pair is not None
    n_insp = len(ci.capacity)
    deg_all = ci.cand_ptr[1:] - ci.cand_ptr[:-1]
    arc_task = np.repeat(np.arange(n_tasks, dtype=np.int64), deg_all)
    # candidates sorted by (task, region class, inspector); class 1 = cross-region
    # (all class 0 when the region is not a preference)
    if ci.same_region:
        arc_cls = (ci.insp_region[ci.cand_insp] != ci.task_region[arc_task]).astype(
            np.int64
        )
    else:
        arc_cls = np.zeros(len(arc_task), dtype=np.int64)
    corder = np.lexsort((ci.cand_insp, arc_cls, arc_task))
    cand = ci.cand_insp[corder]
    arc_cls = arc_cls[corder]
    arc_key = (arc_task * 2 + arc_cls) * n_insp + cand
    n_cls0 = np.bincount(arc_task[arc_cls == 0], minlength=n_tasks).astype(np.int64)

    def cls_of(i_: I64, t_: I64) -> I64:
        if not ci.same_region:
            return np.zeros(np.shape(i_), dtype=np.int64)
        return np.asarray(ci.insp_region[i_] != ci.task_region[t_], dtype=np.int64)

    def arc_pos(t_: I64, i_: I64) -> I64:
        """Global position of candidate ``i_`` of task ``t_``, or -1."""
        ok_ = i_ >= 0
        i_c = np.maximum(i_, 0)
        key = (t_ * 2 + cls_of(i_c, t_)) * n_insp + i_c
        pos = np.minimum(np.searchsorted(arc_key, key), max(len(arc_key) - 1, 0))
        hit = ok_ & (len(arc_key) > 0) & (arc_key[pos] == key)
        return np.where(hit, pos, -1)

    if use_pairs:
        n_tkeys = int(ci.visit_tasks.shape[0])
        n_ikeys = n_insp
    else:
        n_tkeys = n_tasks
        n_ikeys = n_insp * 13
    if batch is None:
        # keys the moves can touch: (inspector, month) pairs of the candidates
        sel = staffed[arc_task]
        if use_pairs:
            n_eff = len(np.unique(cand[sel]))
        else:
            n_eff = len(np.unique(cand[sel] * 13 + ci.month[arc_task[sel]]))
        batch = max(1, min(4096, n_eff // 24, n_slots // 4))
    minp = np.full(n_tkeys + n_ikeys, np.iinfo(np.int64).max, dtype=np.int64)
    same_region = ci.same_region
    big = np.iinfo(np.int64).max
    # position of each team member in the candidate array (kept up to date)
    tpos = arc_pos(
        np.repeat(np.arange(n_tasks, dtype=np.int64)[:, None], width, axis=1), team
    )
    if np.any((team >= 0) & (tpos < 0)):
        raise ValueError("A team member is not a candidate of its task.")
    proposals = kept_total = accepted_total = rounds = 0
    while proposals < total:
        bsz = int(min(batch, total - proposals))
        proposals += bsz
        rounds += 1
        r = rng.integers(0, n_slots, bsz)
        u_ex = rng.random(bsz)
        u_c = rng.random(bsz)
        u_p = rng.random(bsz)
        t1 = s_task[r]
        k1 = s_k[r]
        # replacement: the u-th candidate of t1 not on its team, of the same
        # region class as the slot's occupant (uniform over a number of choices
        # that is the same before and after the move: a symmetric proposal)
        row1 = team[t1]
        prow = tpos[t1]
        c1 = arc_cls[prow[np.arange(bsz), k1]]
        lo = ci.cand_ptr[t1] + c1 * n_cls0[t1]
        hi = np.where(c1 == 1, ci.cand_ptr[t1 + 1], ci.cand_ptr[t1] + n_cls0[t1])
        same_c = (prow >= 0) & (arc_cls[np.maximum(prow, 0)] == c1[:, None])
        tp = np.where(same_c, prow - lo[:, None], big)
        free = hi - lo - same_c.sum(axis=1)
        u = np.minimum(
            (u_c * np.maximum(free, 0)).astype(np.int64), np.maximum(free - 1, 0)
        )
        tp.sort(axis=1)
        for c in range(width):
            u = u + (u >= tp[:, c])
        jpos = np.minimum(lo + u, len(cand) - 1)
        j = np.where(free > 0, cand[jpos], -1)
        gn = slot_gn[r]
        ex = (u_ex < p_exchange) & (gn >= 2)
        off = np.minimum(
            (u_p * np.maximum(gn - 1, 1)).astype(np.int64), np.maximum(gn - 2, 0)
        )
        pos = r - slot_gstart[r]
        off = off + (off >= pos)
        r2 = np.where(ex, slot_gstart[r] + off, r)
        t2 = s_task[r2]
        k2 = s_k[r2]

        # ---- touched keys and collision filter
        if use_pairs:
            v1 = ci.visit[t1]
            v2 = ci.visit[t2]
            vt1 = ci.visit_tasks[v1]
            vt2 = ci.visit_tasks[v2]
            rows1 = np.where(
                vt1[:, :, None] >= 0, team[np.maximum(vt1, 0)], -1
            ).reshape(bsz, -1)
            rows2 = np.where(
                vt2[:, :, None] >= 0, team[np.maximum(vt2, 0)], -1
            ).reshape(bsz, -1)
            ik1 = rows1
            ik2 = np.where(ex[:, None], rows2, -1)
            tk = np.stack([v1, np.where(ex, v2, -1)], axis=1)
            jk = np.where(ex, -1, j)
        else:
            m1 = ci.month[t1]
            row2 = team[t2]
            ik1 = np.where(row1 >= 0, row1 * 13 + m1[:, None], -1)
            ik2 = np.where(ex[:, None] & (row2 >= 0), row2 * 13 + m1[:, None], -1)
            tk = np.stack([t1, np.where(ex, t2, -1)], axis=1)
            jk = np.where(ex, -1, j * 13 + m1)
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
        minp[fk] = np.iinfo(np.int64).max
        blocked = np.bincount(fp[clash], minlength=bsz) > 0
        keep = ~blocked
        kept_total += int(keep.sum())

        # ---- evaluate replace moves
        rep = keep & ~ex
        idx = np.flatnonzero(rep)
        acc_rep = np.zeros(0, dtype=np.int64)
        if len(idx):
            t = t1[idx]
            k = k1[idx]
            jj = j[idx]
            rows = team[t]
            ii = rows[np.arange(len(idx)), k]
            ok = (jj >= 0) & (jj != ii) & ~_in_row(rows, jj)
            mth = ci.month[t]
            ok &= load[jj, mth] < ci.capacity[jj]
            new_rows = rows.copy()
            new_rows[np.arange(len(idx)), k] = jj
            req = ci.req[t]
            ok &= (_or_masks(new_rows, ci.insp_mask) & req) == req
            # (j is of the occupant's region class: the cross-region level holds)
            if (
                use_pairs
                and ok.any()
                and pair is not None
                and ci.pair_limit is not None
            ):
                vrows = np.where(
                    ci.visit_tasks[ci.visit[t]][:, :, None] >= 0,
                    team[np.maximum(ci.visit_tasks[ci.visit[t]], 0)],
                    -1,
                ).reshape(len(idx), -1)
                others = np.where(vrows == ii[:, None], -1, vrows)
                w = others.shape[1]
                pp = np.repeat(np.arange(len(idx)), w)
                a_ = np.concatenate([np.repeat(jj, w), np.repeat(ii, w)])
                b_ = np.concatenate([others.ravel(), others.ravel()])
                d_ = np.concatenate(
                    [
                        np.ones(len(pp), dtype=np.int64),
                        -np.ones(len(pp), dtype=np.int64),
                    ]
                )
                dex = _pair_excess_delta(
                    pair, ci.pair_limit, np.concatenate([pp, pp]), a_, b_, d_, len(idx)
                )
                ok &= dex <= 0
                sel = np.flatnonzero(ok)
                if len(sel):
                    oth = others[sel]
                    jj_s = np.repeat(jj[sel], w)
                    ii_s = np.repeat(ii[sel], w)
                    ob = oth.ravel()
                    m_ = ob >= 0
                    np.add.at(pair, (jj_s[m_], ob[m_]), 1)
                    np.add.at(pair, (ob[m_], jj_s[m_]), 1)
                    np.add.at(pair, (ii_s[m_], ob[m_]), -1)
                    np.add.at(pair, (ob[m_], ii_s[m_]), -1)
            acc = np.flatnonzero(ok)
            team[t[acc], k[acc]] = jj[acc]
            tpos[t[acc], k[acc]] = jpos[idx[acc]]
            load[ii[acc], mth[acc]] -= 1
            load[jj[acc], mth[acc]] += 1
            acc_rep = acc

        # ---- evaluate exchange moves
        xidx = np.flatnonzero(keep & ex)
        acc_ex = np.zeros(0, dtype=np.int64)
        if len(xidx):
            ta = t1[xidx]
            ka = k1[xidx]
            tb = t2[xidx]
            kb = k2[xidx]
            ra = team[ta]
            rb = team[tb]
            ar = np.arange(len(xidx))
            ia = ra[ar, ka]
            ib = rb[ar, kb]
            ok = (ta != tb) & (ia != ib)
            ok &= ~_in_row(rb, ia) & ~_in_row(ra, ib)
            if same_region:

                def cr(i_: I64, t_: I64) -> I64:
                    return np.asarray(
                        ci.insp_region[i_] != ci.task_region[t_], dtype=np.int64
                    )

                ok &= cr(ib, ta) + cr(ia, tb) <= cr(ia, ta) + cr(ib, tb)
            na = ra.copy()
            na[ar, ka] = ib
            nb = rb.copy()
            nb[ar, kb] = ia
            ok &= (_or_masks(na, ci.insp_mask) & ci.req[ta]) == ci.req[ta]
            ok &= (_or_masks(nb, ci.insp_mask) & ci.req[tb]) == ci.req[tb]
            # both must be candidates of the other task (checked last: a search)
            pos_ib = np.full(len(xidx), -1, dtype=np.int64)
            pos_ia = np.full(len(xidx), -1, dtype=np.int64)
            cheap = np.flatnonzero(ok)
            pos_ib[cheap] = arc_pos(ta[cheap], ib[cheap])
            pos_ia[cheap] = arc_pos(tb[cheap], ia[cheap])
            ok &= (pos_ib >= 0) & (pos_ia >= 0)
            if (
                use_pairs
                and ok.any()
                and pair is not None
                and ci.pair_limit is not None
            ):

                def vrow(tt: I64) -> I64:
                    vt = ci.visit_tasks[ci.visit[tt]]
                    return np.where(
                        vt[:, :, None] >= 0, team[np.maximum(vt, 0)], -1
                    ).reshape(len(tt), -1)

                va = vrow(ta)
                vb = vrow(tb)
                oa = np.where(va == ia[:, None], -1, va)
                ob_ = np.where(vb == ib[:, None], -1, vb)
                w = oa.shape[1]
                pp = np.repeat(ar, w)
                a_ = np.concatenate(
                    [
                        np.repeat(ib, w),
                        np.repeat(ia, w),
                        np.repeat(ia, w),
                        np.repeat(ib, w),
                    ]
                )
                b_ = np.concatenate([oa.ravel(), oa.ravel(), ob_.ravel(), ob_.ravel()])
                one = np.ones(len(pp), dtype=np.int64)
                d_ = np.concatenate([one, -one, one, -one])
                p4 = np.concatenate([pp, pp, pp, pp])
                dex = _pair_excess_delta(pair, ci.pair_limit, p4, a_, b_, d_, len(xidx))
                ok &= dex <= 0
                sel = np.flatnonzero(ok)
                if len(sel):
                    ssel = np.isin(p4, sel)
                    aa, bb, dd = a_[ssel], b_[ssel], d_[ssel]
                    m_ = bb >= 0
                    np.add.at(pair, (aa[m_], bb[m_]), dd[m_].astype(np.int16))
                    np.add.at(pair, (bb[m_], aa[m_]), dd[m_].astype(np.int16))
            acc = np.flatnonzero(ok)
            team[ta[acc], ka[acc]] = ib[acc]
            team[tb[acc], kb[acc]] = ia[acc]
            tpos[ta[acc], ka[acc]] = pos_ib[acc]
            tpos[tb[acc], kb[acc]] = pos_ia[acc]
            acc_ex = acc
        accepted_total += len(acc_rep) + len(acc_ex)

    changed = 0
    if n_slots:
        same = (team[:, :, None] == start[:, None, :]) & (team[:, :, None] >= 0)
        changed = int(((team >= 0) & ~same.any(axis=2)).sum())
    stats = ChainStats(proposals, kept_total, accepted_total, rounds, changed, n_slots)
    return team, load, stats
