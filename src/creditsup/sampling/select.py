"""Stage 4: permanent random numbers and selection, per slice of entities.

:func:`draw_streams` derives from the seed what every slice shares: the PRN
key and the start point of every item: none under the default
``coordination = "entity"`` (every item reads the entity's own PRN), the same
within a joint group and spread across groups under ``"mix"``.
:func:`select_candidates` then works on one slice:

* each entity's PRN ``h = keyed_uint64(uscc, derive_key(seed, year, "prn"))``
  shifted by the item's start, ``v = h + S`` (mod 2**64; ``S = 0`` by default);
* a **Poisson-PRN** item takes the entities with ``u(v) < pi`` (final);
* a **SRSWOR-PRN** item keeps the slice's ``n_h`` smallest ``v`` per stratum,
  a superset of the slice's share of the global ``n_h`` smallest, which
  :func:`~creditsup.sampling.visits.merge_candidates` cuts;
* for minimum coverage, every required entity's item with the smallest ``v``.

None of this depends on the other slices, or on row order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from creditsup._random import keyed_uint64, to_uniform
from creditsup.sampling._arrays import F64, I8, I64, U64, B, id_texts
from creditsup.sampling._prn import prn_key, smallest_per_stratum, start_points
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.floors import scaled_pi
from creditsup.sampling.pools import Allocation

__all__ = ["Candidates", "Streams", "draw_streams", "select_candidates"]


@dataclass(frozen=True)
class Streams:
    """The seed's streams: PRN key and each item's start point (64-bit)."""

    seed: str
    year: int
    prn_key: str
    independent: bool
    starts: list[int]
    start_map: dict[str, int]


def draw_streams(ctx: DrawContext, seed: str) -> Streams:
    """Start points per item under the policy's coordination mode.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> s = draw_streams(tiny_context()[2], "demo")
    >>> s.starts, s.start_map  # coordination = "entity": the PRN itself
    ([0, 0], {'entity': 0})
    >>> from creditsup.sampling.policy import SamplingPolicy
    >>> s = draw_streams(tiny_context(SamplingPolicy(coordination="mix"))[2], "demo")
    >>> s.starts[0] == s.starts[1], list(s.start_map)  # one joint group
    (True, ['G'])
    """
    mode, year = ctx.policy.coordination, ctx.year
    if mode == "entity":  # one PRN per entity: u_k itself for every item
        s = {"entity": 0}
        starts = [0] * len(ctx.item_ids)
    elif mode == "negative":
        labels = [str(x) for x in ctx.item_ids]
        s = start_points(labels, seed=seed, year=year, spread=True)
        starts = [s[x] for x in labels]
    else:
        s = start_points(ctx.groups, seed=seed, year=year, spread=mode != "positive")
        starts = [s[ctx.groups[g]] for g in ctx.item_group]
    return Streams(
        seed=seed,
        year=year,
        prn_key=prn_key(seed, year, "prn"),
        independent=mode == "independent",
        starts=starts,
        start_map=s,
    )


@dataclass(frozen=True)
class Candidates:
    """A slice's selected checks and coverage candidates (slice positions).

    ``ent``/``item``: drawn checks (for SRSWOR items, the slice's smallest
    ``n_h`` per stratum; ``key`` and ``stratum`` let the merge cut them);
    ``cover_ent``/``cover_item``: each required, eligible entity without an
    earlier visit this year, with its item of smallest shifted PRN.
    """

    ent: I64
    item: I64
    key: U64
    stratum: I8
    cover_ent: I64
    cover_item: I64


class _Prn:
    """Shifted PRNs of a slice's pool members, per item."""

    def __init__(self, part: EntityPools, ctx: DrawContext, streams: Streams) -> None:
        self.part, self.ctx, self.streams = part, ctx, streams
        self.h = np.zeros(len(part.uscc), dtype=np.uint64)
        if streams.independent:
            return
        if part.prn_hash is not None and part.hash_key == streams.prn_key:
            self.h = part.prn_hash  # the joins already hashed every USCC
        else:
            elig = np.flatnonzero(part.eligible)
            self.h[elig] = keyed_uint64(id_texts(part.uscc[elig]), streams.prn_key)

    def __call__(self, i: int, idx: I64) -> U64:
        if self.streams.independent:
            item = str(self.ctx.item_ids[i])
            key = prn_key(self.streams.seed, self.streams.year, "prn", item)
            hv = keyed_uint64(id_texts(self.part.uscc[idx]), key)
        else:
            hv = self.h[idx]
        out: U64 = hv + np.uint64(self.streams.starts[i])
        return out


def _cover(part: EntityPools, prn: _Prn) -> tuple[I64, I64]:
    """Per required entity, the applicable item with the smallest shifted PRN."""
    want = part.required & ~part.hist_any & part.eligible
    if not want.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    n = len(part.uscc)
    best_v = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
    best_i = np.full(n, -1, dtype=np.int64)
    for i, pool in enumerate(part.pools):
        idx = pool[want[pool]]
        if not len(idx):
            continue
        v = prn(i, idx)
        better = (best_i[idx] < 0) | (v < best_v[idx])
        best_v[idx[better]] = v[better]
        best_i[idx[better]] = i
    ent = np.flatnonzero(want & (best_i >= 0)).astype(np.int64)
    return ent, best_i[ent]


def select_candidates(
    part: EntityPools, ctx: DrawContext, alloc: Allocation, streams: Streams
) -> Candidates:
    """Draw a slice: Poisson-PRN checks, SRSWOR-PRN candidates, coverage picks.

    ``alloc`` comes from :func:`~creditsup.sampling.pools.allocate` over all
    slices; the slice's own probabilities get the same budget factor.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> from creditsup.sampling.eligibility import eligible_pools
    >>> from creditsup.sampling.policy import SamplingPolicy
    >>> from creditsup.sampling.pools import allocate
    >>> policy = SamplingPolicy(ratios={"D": 1.0})
    >>> ds, _, ctx = tiny_context(policy)
    >>> part = eligible_pools(ds.entities.iloc[1:3], ctx)
    >>> c = select_candidates(part, ctx, allocate(part, ctx), draw_streams(ctx, "x"))
    >>> c.ent.tolist(), c.item.tolist()  # ratio 1: both entities, both items
    ([0, 1, 0, 1], [0, 0, 1, 1])
    """
    prn = _Prn(part, ctx, streams)
    pool_pi: Sequence[F64] = scaled_pi(part, alloc.scale)
    ent, item, key, stratum = [], [], [], []
    for i, idx in enumerate(part.pools):
        v, n_h = prn(i, idx), alloc.stratum_n[i]
        if n_h is None:
            sel: I64 | B = to_uniform(v) < pool_pi[i]
        else:
            sel = smallest_per_stratum(v, part.pool_stratum[i], part.rank[idx], n_h)
        ent.append(idx[sel])
        item.append(np.full(len(ent[-1]), i, dtype=np.int64))
        key.append(v[sel])
        stratum.append(part.pool_stratum[i][sel])
    cover_ent, cover_item = _cover(part, prn)
    return Candidates(
        ent=np.concatenate([np.zeros(0, np.int64), *ent]),
        item=np.concatenate([np.zeros(0, np.int64), *item]),
        key=np.concatenate([np.zeros(0, np.uint64), *key]),
        stratum=np.concatenate([np.zeros(0, np.int8), *stratum]),
        cover_ent=cover_ent,
        cover_item=cover_item,
    )
