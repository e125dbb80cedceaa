"""Stage 2, candidate arcs: which inspectors may staff which task.

An arc (task, inspector) is a candidate when it keeps every hard rule in
force (:func:`.rules.eligible`). With ``same_region_first`` the arcs are
pruned:

* **same region**: with ``same_region_candidates`` K > 0, a uniformly random
  K-subset of the task's eligible inspectors of its department and region
  (all of them when there are at most K). Each (task, inspector) pair gets a
  keyed random rank (:func:`same_region_ranks`, a hash of the visit id, the
  department and the inspector id under the seed), and the K eligible
  inspectors of smallest rank are kept: every K-subset is equally likely and
  the choice does not depend on row order. Only a prefix of the ranks is
  tested for eligibility (about 3K + 8 draws), and the whole region only for
  the tasks where that prefix holds fewer than K eligible inspectors; the
  result is the same as testing every inspector. K = 0 keeps them all, so
  the arcs grow as visits × inspectors;
* **cross region**: ``cross_region_candidates`` eligible cross-region
  inspectors from a keyed random window of the department.

A task that the pruned arcs cannot staff is retried with every eligible
inspector of its department (the fallback rounds of
:func:`~creditsup.assignment.assign_inspectors`), so the cap never leaves a
visit unfilled that the full arcs could staff in the same round. Each arc
gets a keyed random cost (:func:`arc_costs`), the tie-break that makes the
flow's optimum a random one.

At city scale the arcs number tens of millions without the cap: they are
tested and sorted chunk by chunk of tasks and kept as two int32 arrays.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from creditsup._random import derive_key, keyed_uint64
from creditsup.assignment._arrays import B1, I32, I64, U64, expand, mix64
from creditsup.assignment.flow import RANDOM_COST_RANGE
from creditsup.assignment.problem import Problem
from creditsup.assignment.rules import eligible

__all__ = [
    "arc_costs",
    "candidate_arcs",
    "cost_hashes",
    "costs_of",
    "same_region_ranks",
]


#: Bits of a same-region rank: the row of a task fits beside it in one
#: uint64 sort key (one stable argsort, not a lexsort of two keys).
_RANK_BITS = 40


def same_region_ranks(
    P: Problem, tasks: I64, inspectors: I64, hashes: tuple[U64, U64]
) -> U64:
    """Keyed random rank of each (task, inspector) pair, in ``[0, 2**40)``.

    ``hashes`` are :func:`cost_hashes` of the visits and the inspectors
    under the rank key: the rank depends on the visit id, the department
    and the inspector id only, not on row order. Ties (one in 2**40) go to
    the lower inspector number.
    """
    hv, hi = hashes
    d = P.t_dept[tasks].astype(np.uint64) * np.uint64(0xD1B54A32D192ED03)
    h = mix64(hv[P.t_visit[tasks]] ^ mix64(hi[inspectors] ^ d))
    return h >> np.uint64(64 - _RANK_BITS)


def _smallest_k(rows: I64, rank: U64, k: int) -> B1:
    """Mask of the ``k`` smallest ``rank`` of each row.

    ``rows`` is sorted; ties keep the input order (a stable sort).
    """
    keep = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return keep
    n_rows = int(rows[-1]) + 1
    if n_rows < 1 << (64 - _RANK_BITS):
        key = (rows.astype(np.uint64) << np.uint64(_RANK_BITS)) | rank
        order = np.argsort(key, kind="stable")
    else:  # pragma: no cover - more than 2**24 tasks in one chunk
        order = np.lexsort((rank, rows))
    counts = np.bincount(rows, minlength=n_rows)
    start = np.cumsum(counts) - counts
    keep[order] = np.arange(len(rows)) - start[rows[order]] < k
    return keep


def _same_region(
    P: Problem,
    tasks: I64,
    months: I64,
    k_same: int = 0,
    hashes: tuple[U64, U64] | None = None,
) -> tuple[I64, I64]:
    """The eligible inspectors of the task's department and region.

    With ``k_same`` > 0 (and the rank ``hashes``) the ``k_same`` of smallest
    :func:`same_region_ranks` among them: a uniformly random subset. Ranks
    below a per-task threshold (about ``3 k_same + 8`` inspectors) are tested
    first; a task with fewer than ``k_same`` eligible among them has the rest
    of its region tested too.
    """
    t_dept = P.t_dept[tasks]
    t_reg = P.v_region[P.t_visit[tasks]]
    key = t_dept * P.n_regions + np.where(t_reg >= 0, t_reg, P.n_regions - 1)
    lo = np.searchsorted(P.by_dr_key, key)
    hi = np.searchsorted(P.by_dr_key, key, side="right")
    r_s, pos_s = expand(lo, hi - lo)
    same_t = tasks[r_s]
    same_i = P.by_dr[pos_s]
    if k_same <= 0 or hashes is None:
        ok = eligible(P, same_t, same_i, months[r_s])
        return same_t[ok], same_i[ok]
    n_same = np.maximum(hi - lo, 1).astype(np.uint64)
    want = np.uint64(3 * k_same + 8)
    every = n_same <= want  # the whole region is tested
    thr = np.uint64(1 << _RANK_BITS) * want // n_same  # want of n_same, expected
    test = every[r_s]
    part = np.flatnonzero(~test)  # ranks needed now only where a prefix is tested
    test[part] = (
        same_region_ranks(P, same_t[part], same_i[part], hashes) < thr[r_s[part]]
    )
    ok = np.zeros(len(same_t), dtype=bool)
    ok[test] = eligible(P, same_t[test], same_i[test], months[r_s[test]])
    short = (np.bincount(r_s[ok], minlength=len(tasks)) < k_same) & ~every
    more = ~test & short[r_s]
    if more.any():
        ok[more] = eligible(P, same_t[more], same_i[more], months[r_s[more]])
    r_s, same_t, same_i = r_s[ok], same_t[ok], same_i[ok]
    over = np.flatnonzero(np.bincount(r_s, minlength=len(tasks))[r_s] > k_same)
    keep = np.ones(len(r_s), dtype=bool)  # tasks with at most k_same keep all
    rank = same_region_ranks(P, same_t[over], same_i[over], hashes)
    keep[over] = _smallest_k(r_s[over], rank, k_same)
    return same_t[keep], same_i[keep]


def _cross_region(
    P: Problem, tasks: I64, months: I64, k_cross: int, window_key: str
) -> tuple[I64, I64]:
    """Up to ``k_cross`` eligible cross-region inspectors per task.

    A window of the department in a keyed random order, from a keyed start:
    about 3K draws give K eligible cross-region candidates at typical
    eligibility rates; same-region inspectors in the window are skipped.
    """
    t_dept = P.t_dept[tasks]
    t_reg = P.v_region[P.t_visit[tasks]]
    n_d = P.d_hi[t_dept] - P.d_lo[t_dept]
    key = t_dept * P.n_regions + np.where(t_reg >= 0, t_reg, P.n_regions - 1)
    n_same = np.searchsorted(P.by_dr_key, key, side="right") - np.searchsorted(
        P.by_dr_key, key
    )
    want = (3 * k_cross + 8) * np.maximum(n_d, 1) // np.maximum(n_d - n_same, 1) + 1
    width = np.where(k_cross > 0, np.minimum(n_d, want), 0)
    hv = keyed_uint64(P.v_id[P.t_visit[tasks]], window_key)
    start = (
        mix64(hv ^ t_dept.astype(np.uint64)) % np.maximum(n_d, 1).astype(np.uint64)
    ).astype(np.int64)
    r_c, off = expand(np.zeros(len(tasks), dtype=np.int64), width)
    pos = P.d_lo[t_dept[r_c]] + (start[r_c] + off) % np.maximum(n_d[r_c], 1)
    cross_i = P.by_d[pos]
    ok = P.insp_region[cross_i] != t_reg[r_c]
    r_c, cross_i = r_c[ok], cross_i[ok]
    cross_t = tasks[r_c]
    ok = eligible(P, cross_t, cross_i, months[r_c])
    r_c, cross_t, cross_i = r_c[ok], cross_t[ok], cross_i[ok]
    if len(r_c):
        first = np.searchsorted(r_c, np.arange(len(tasks)))
        keep = np.arange(len(r_c)) - first[r_c] < k_cross
        cross_t, cross_i = cross_t[keep], cross_i[keep]
    return cross_t, cross_i


#: Arcs tested per chunk of tasks, at most (about): bounds the temporaries of
#: the eligibility masks and keeps them in cache.
_CHUNK_ARCS = 1 << 20


def _chunks(P: Problem, tasks: I64, *, prune: bool) -> list[tuple[int, int]]:
    """Ranges of ``tasks`` of about ``_CHUNK_ARCS`` arcs to test each.

    Chunking gives the arcs of a global sort only when ``tasks`` is strictly
    increasing (each chunk's sorted arcs then follow the previous chunk's);
    otherwise the tasks form one chunk.
    """
    n = len(tasks)
    if n < 2 or not bool(np.all(tasks[1:] > tasks[:-1])):
        return [(0, n)]
    n_d = (P.d_hi - P.d_lo)[P.t_dept[tasks]]
    width = np.cumsum(n_d * (2 if prune else 1) + 1)
    cuts = np.searchsorted(width, np.arange(_CHUNK_ARCS, int(width[-1]), _CHUNK_ARCS))
    bounds = np.unique(np.concatenate([[0], cuts, [n]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class _Pruning:
    """The knobs and keys of the pruned arcs."""

    k_same: int
    k_cross: int
    window_key: str
    rank_hashes: tuple[U64, U64] | None


def _chunk_arcs(
    P: Problem, tasks: I64, months: I64, pruning: _Pruning | None
) -> tuple[I64, I64]:
    """The eligible arcs of ``tasks`` (pruned when ``pruning`` is given)."""
    if pruning is not None:
        k_same, hashes = pruning.k_same, pruning.rank_hashes
        same_t, same_i = _same_region(P, tasks, months, k_same, hashes)
        k_cross, window_key = pruning.k_cross, pruning.window_key
        cross_t, cross_i = _cross_region(P, tasks, months, k_cross, window_key)
        return np.concatenate([same_t, cross_t]), np.concatenate([same_i, cross_i])
    t_dept = P.t_dept[tasks]
    r, pos = expand(P.d_lo[t_dept], P.d_hi[t_dept] - P.d_lo[t_dept])
    a_t = tasks[r]
    a_i = P.by_d[pos]
    ok = eligible(P, a_t, a_i, months[r])
    return a_t[ok], a_i[ok]


def candidate_arcs(
    P: Problem,
    tasks: I64,
    months: I64,
    *,
    prune: bool,
    k_cross: int,
    seed: str,
    year: int,
    k_same: int = 0,
) -> tuple[I32, I32]:
    """Candidate arcs (task, inspector) of ``tasks``, sorted by (task, inspector).

    ``months`` gives the month of each task (availability is checked in it).
    Without ``prune`` every eligible inspector of the department is a
    candidate; with it, ``k_same`` random same-region ones (0: all of them)
    and ``k_cross`` cross-region ones. The arcs are built and sorted chunk by
    chunk of tasks (the rules see int64 arrays) and returned as int32 arrays.
    """
    if len(P.t_visit) >= 2**31 or len(P.insp_id) >= 2**31:  # pragma: no cover
        raise ValueError("More than 2**31 tasks or inspectors.")
    tasks = np.asarray(tasks, dtype=np.int64)
    months = np.asarray(months, dtype=np.int64)
    pruning = None
    if prune:
        rank_key = derive_key(seed, year, "assignment", "same-region-rank")
        pruning = _Pruning(
            k_same=k_same,
            k_cross=k_cross,
            window_key=derive_key(seed, year, "assignment", "window-start"),
            rank_hashes=cost_hashes(P, rank_key) if k_same > 0 else None,
        )
    shift = max(len(P.insp_id) - 1, 1).bit_length()  # (task, inspector) in one key
    out = _Growing()
    for lo, hi in _chunks(P, tasks, prune=prune) if len(tasks) else []:
        a_t, a_i = _chunk_arcs(P, tasks[lo:hi], months[lo:hi], pruning)
        key = np.sort((a_t << shift) | a_i)
        out.append(key >> shift, key & ((1 << shift) - 1))
    return out.done()


class _Growing:
    """Two int32 arrays grown in place (``realloc``: no second copy of the arcs
    while they are built, as a concatenation of the chunks would make)."""

    def __init__(self) -> None:
        self.t = np.zeros(1 << 16, dtype=np.int32)
        self.i = np.zeros(1 << 16, dtype=np.int32)
        self.n = 0

    def append(self, t: I64, i: I64) -> None:
        end = self.n + len(t)
        if end > len(self.t):
            cap = max(end, len(self.t) * 3 // 2)
            self.t.resize(cap, refcheck=False)
            self.i.resize(cap, refcheck=False)
        self.t[self.n : end] = t
        self.i[self.n : end] = i
        self.n = end

    def done(self) -> tuple[I32, I32]:
        self.t.resize(self.n, refcheck=False)
        self.i.resize(self.n, refcheck=False)
        return self.t, self.i


def cost_hashes(P: Problem, key: str) -> tuple[U64, U64]:
    """The keyed hashes of the visits and of the inspectors behind the costs."""
    return keyed_uint64(P.v_id, key), keyed_uint64(P.insp_id, key)


def costs_of(
    hashes: tuple[U64, U64], t_visit: I64, a_t: I64 | I32, a_i: I64 | I32
) -> I64:
    """The arc costs of :func:`arc_costs` from its :func:`cost_hashes`."""
    hv, hi = hashes
    x = mix64(hv[t_visit[a_t]] ^ mix64(hi[a_i] + np.uint64(0x9E3779B97F4A7C15)))
    return (x % np.uint64(RANDOM_COST_RANGE)).astype(np.int64)


def arc_costs(P: Problem, a_t: I64 | I32, a_i: I64 | I32, key: str) -> I64:
    """Keyed random cost of each arc, in ``[0, RANDOM_COST_RANGE)``."""
    return costs_of(cost_hashes(P, key), P.t_visit, a_t, a_i)
