"""Stage 3: merge the slices' pools and allocate the draw (global, no seed).

:func:`merge_pools` puts the slices' entities into one canonical (USCC)
order, so that everything downstream is the same whatever the partitioning.
:func:`allocate` then makes the decisions that need every pool at once: the
legal floors (R08, R23; :mod:`~creditsup.sampling.floors`), the budget
factor of ``budget = "share"`` (never below the floors), and the number of
units per (item, stratum) of the SRSWOR-PRN items (``ratio_mode = "fixed"``,
R07, and ``fixed_counts``). The seed-dependent ``budget = "capacity"`` is
fitted later (:mod:`~creditsup.sampling.budget`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from creditsup.sampling._arrays import (
    F64,
    I8,
    I64,
    B,
    Ids,
    PiCodes,
    Pos,
    concat_ids,
    pos_dtype,
)
from creditsup.sampling._prn import largest_remainder
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.floors import (
    FloorCheck,
    check_floors,
    floor_scale,
    scaled_pi,
    split_pi,
)
from creditsup.schemas import TIERS

__all__ = [
    "Allocation",
    "Merged",
    "allocate",
    "canonical_slices",
    "expected_visits",
    "merge_pools",
    "slice_pools",
    "with_scale",
]


@dataclass(frozen=True)
class Merged:
    """All entities in USCC order; ``index[j]``: where slice ``j``'s rows went."""

    pools: EntityPools
    index: list[I64]
    warnings: list[dict[str, Any]]


def _order_of(g: I64, seen: B, where: I64) -> I64:
    """``np.argsort(g)`` for distinct positions ``g`` (of at most ``len(seen)``).

    A large pool is ordered by marking its members on the entities (linear,
    no sort); ``seen`` is all False before and after, ``where`` scratch.
    """
    if len(g) * 16 < len(seen):
        return np.asarray(np.argsort(g, kind="stable"), dtype=np.int64)
    seen[g] = True
    where[g] = np.arange(len(g), dtype=np.int64)
    members = np.flatnonzero(seen)
    seen[g] = False
    return where[members]


_POOL_FIELDS = ("pools", "pool_pi", "pool_stratum", "pool_unscaled", "pool_target")
_ENTITY_FIELDS = ("tier", "assumed", "legacy", "enterprise", "ks", "reason", "used",
                  "remaining", "hist_any", "required", "eligible", "target_bits")  # fmt: skip


class _Columns:
    """The slices' arrays by field; ``release``: each is dropped once taken.

    Taking a field from every slice, then letting it go, keeps the driver's
    peak near one copy of the entities rather than two (slices and merge).
    """

    def __init__(self, parts: Sequence[EntityPools], release: bool) -> None:
        self.cols = [
            {
                **vars(p),
                **{f: list(getattr(p, f)) for f in _POOL_FIELDS if f != "pool_pi"},
                "pool_pi": p.pool_pi.pairs(),
            }
            for p in parts
        ]
        self.release = release

    def take(self, name: str) -> list[Any]:
        out = [c[name] for c in self.cols]
        if self.release:
            for c in self.cols:
                c[name] = None
        return out

    def take_item(self, name: str, i: int) -> list[Any]:
        out = [c[name][i] for c in self.cols]
        if self.release:
            for c in self.cols:
                c[name][i] = None
        return out


def _concat_pools(
    cols: _Columns, index: list[I64], i: int, scratch: tuple[B, I64]
) -> tuple[Pos, tuple[F64, Any], I8, B, I8]:
    """Item ``i``'s pool over all slices, in canonical order."""
    members = cols.take_item("pools", i)
    g = np.concatenate([ix[m] for m, ix in zip(members, index, strict=True)])
    del members
    o = _order_of(g, *scratch)

    def cat(name: str) -> Any:
        return np.concatenate(cols.take_item(name, i))[o]

    values, pi_codes = PiCodes.concat(cols.take_item("pool_pi", i))
    return (
        g[o].astype(pos_dtype(len(scratch[0]))),
        (values, pi_codes[o]),
        cat("pool_stratum"),
        cat("pool_unscaled"),
        cat("pool_target"),
    )


def _sort_key(uscc: Ids) -> Any:
    """Values that sort as the identifiers do, in as little memory as possible.

    ASCII identifiers (every USCC) become fixed-width bytes, whose byte order
    is their code-point order (18 bytes each, not 72 as ``str``); others stay
    text.
    """
    try:
        return uscc.astype("S")
    except UnicodeEncodeError:
        return uscc.astype(str)


def _canonical_order(ranks: Sequence[I64], uscc: Ids) -> I64:
    """Positions of the concatenated slices in USCC order.

    Each slice comes in its own USCC order (its ``rank``, computed where the
    slice was), so the stable sort merges sorted runs rather than sorting
    from scratch; the order is the same.
    """
    starts = np.cumsum([0, *(len(r) for r in ranks)])
    runs = []
    for r, s in zip(ranks, starts[:-1].tolist(), strict=True):
        by_rank = np.empty(len(r), dtype=np.int64)
        by_rank[r] = np.arange(len(r), dtype=np.int64)
        runs.append(by_rank + s)
    run = np.concatenate(runs)
    key = _sort_key(uscc[run])
    order: I64 = run[np.argsort(key, kind="stable")]
    return order


def _merge(
    parts: Sequence[EntityPools], release: bool = False
) -> tuple[EntityPools, list[I64]]:
    """All slices in one canonical (USCC) order; where each slice's rows went.

    ``release``: ``parts`` is a list the merge empties, dropping each slice's
    arrays as soon as they are merged.
    """
    sizes = [len(p.uscc) for p in parts]
    n_items = len(parts[0].pools)
    hashes = [p.prn_hash is not None for p in parts]
    one_key = len({p.hash_key for p in parts}) == 1
    hash_key = parts[0].hash_key
    scope_counts = np.add.reduce([p.scope_counts for p in parts])
    recent_counts = np.add.reduce([p.recent_counts for p in parts])
    n_tier_rows = sum(p.n_tier_rows for p in parts)
    cols = _Columns(parts, release)
    if release and isinstance(parts, list):
        parts.clear()
    uscc = concat_ids(cols.take("uscc"))
    n = len(uscc)
    order = _canonical_order(cols.take("rank"), uscc)
    ordered = uscc[order]
    del uscc
    if n > 1 and bool((ordered[1:] == ordered[:-1]).any()):
        raise ValueError("The slices of entities overlap: an entity is in two.")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    index = np.split(pos, np.cumsum(sizes)[:-1])
    scratch = (np.zeros(n, dtype=bool), np.empty(n, dtype=np.int64))
    items = [_concat_pools(cols, index, i, scratch) for i in range(n_items)]
    del scratch

    def cat(name: str) -> Any:
        return np.concatenate(cols.take(name))[order]

    whole = EntityPools(
        uscc=ordered,
        rank=np.arange(n, dtype=np.int64),
        is_sorted=True,
        **{name: cat(name) for name in _ENTITY_FIELDS},
        pools=[t[0] for t in items],
        pool_pi=PiCodes([t[1][0] for t in items], [t[1][1] for t in items]),
        pool_stratum=[t[2] for t in items],
        pool_unscaled=[t[3] for t in items],
        pool_target=[t[4] for t in items],
        scope_counts=scope_counts,
        recent_counts=recent_counts,
        n_tier_rows=n_tier_rows,
        hash_key=hash_key,
        prn_hash=cat("prn_hash") if one_key and all(hashes) else None,
    )
    return whole, list(index)


def merge_pools(
    parts: Sequence[EntityPools], ctx: DrawContext, *, release: bool = False
) -> Merged:
    """Merge the slices of :func:`~creditsup.sampling.eligibility.eligible_pools`.

    The slices must be disjoint; together they are the entities of the draw.
    One sorted slice is taken as it is. ``release``: ``parts`` is a list that
    the merge empties, freeing each slice's arrays once merged (the driver
    then holds about one copy of the entities, not two).

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> from creditsup.sampling.eligibility import eligible_pools
    >>> ds, tiers, ctx = tiny_context()
    >>> rows = ds.entities
    >>> m = merge_pools([eligible_pools(rows.iloc[[4, 0, 2]], ctx),
    ...                  eligible_pools(rows.iloc[[5, 1, 3]], ctx)], ctx)
    >>> m.pools.pools[0].tolist(), [ix.tolist() for ix in m.index]
    ([1, 2, 3, 4, 5], [[4, 0, 2], [5, 1, 3]])
    """
    if not parts:
        raise ValueError("A draw needs at least one slice of entities.")
    if len(parts) == 1 and parts[0].is_sorted:
        whole, index = parts[0], [np.arange(len(parts[0].uscc), dtype=np.int64)]
    else:
        whole, index = _merge(parts, release)
    warnings = []
    n_unknown = len(ctx.tiers.codes) - whole.n_tier_rows
    if n_unknown:
        warnings.append(
            {
                "code": "unknown_tier_rows",
                "message": f"{n_unknown} row(s) of the tiers frame name no entity of "
                "the dataset; they are ignored.",
                "count": n_unknown,
            }
        )
    return Merged(whole, index, warnings)


def slice_pools(
    whole: EntityPools, start: int, stop: int, *, first: bool
) -> EntityPools:
    """Entities ``start:stop`` of merged pools: views, not copies.

    The per-entity arrays are views of ``whole``'s; each item's pool is the
    part of its (ascending) members in the range, shifted to the slice's
    positions; ``rank`` keeps the merged positions (it only orders). The
    (item, tier) counts and ``n_tier_rows`` go with the ``first`` slice, so
    that they still add up over the slices.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> from creditsup.sampling.eligibility import eligible_pools
    >>> ds, tiers, ctx = tiny_context()
    >>> whole = eligible_pools(ds.entities, ctx)
    >>> part = slice_pools(whole, 2, 5, first=False)
    >>> whole.pools[0].tolist(), part.pools[0].tolist()
    ([1, 2, 3, 4, 5], [0, 1, 2])
    >>> bool(np.shares_memory(part.uscc, whole.uscc))
    True
    """
    cut = slice(start, stop)
    bounds = [np.searchsorted(m, [start, stop]).tolist() for m in whole.pools]

    def pool(name: str) -> list[Any]:
        return [getattr(whole, name)[i][lo:hi] for i, (lo, hi) in enumerate(bounds)]

    return replace(
        whole,
        uscc=whole.uscc[cut],
        rank=whole.rank[cut],
        tier=whole.tier[cut],
        assumed=whole.assumed[cut],
        legacy=whole.legacy[cut],
        enterprise=whole.enterprise[cut],
        ks=whole.ks[cut],
        reason=whole.reason[cut],
        used=whole.used[cut],
        remaining=whole.remaining[cut],
        hist_any=whole.hist_any[cut],
        required=whole.required[cut],
        eligible=whole.eligible[cut],
        pools=[m - start for m in pool("pools")],
        pool_pi=PiCodes(
            whole.pool_pi.values,
            [c[lo:hi] for c, (lo, hi) in zip(whole.pool_pi.codes, bounds, strict=True)],
        ),
        pool_stratum=pool("pool_stratum"),
        pool_unscaled=pool("pool_unscaled"),
        pool_target=pool("pool_target"),
        target_bits=whole.target_bits[cut],
        scope_counts=whole.scope_counts * first,
        recent_counts=whole.recent_counts * first,
        n_tier_rows=whole.n_tier_rows * first,
        prn_hash=None if whole.prn_hash is None else whole.prn_hash[cut],
    )


def canonical_slices(merged: Merged, k: int) -> tuple[list[EntityPools], Merged]:
    """``k`` contiguous slices of the merged pools (in USCC order), as views.

    The per-slice stages after the merge can run on these instead of the
    slices they came from: the draw is the same (it never depends on the
    partitioning), and the driver need not hold the original slices beside
    their merge. Returns the slices and ``merged`` with their ``index``.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> from creditsup.sampling.eligibility import eligible_pools
    >>> ds, tiers, ctx = tiny_context()
    >>> m = merge_pools([eligible_pools(ds.entities, ctx)], ctx)
    >>> views, m2 = canonical_slices(m, 4)
    >>> [len(v.uscc) for v in views], [ix.tolist() for ix in m2.index]
    ([2, 1, 1, 2], [[0, 1], [2], [3], [4, 5]])
    """
    whole = merged.pools
    n = len(whole.uscc)
    bounds = np.linspace(0, n, max(k, 1) + 1).round().astype(np.int64).tolist()
    spans = list(itertools.pairwise(bounds))
    views = [slice_pools(whole, a, b, first=j == 0) for j, (a, b) in enumerate(spans)]
    # a sorted whole's rank is its positions: share them (8 bytes an entity)
    positions = whole.rank if whole.is_sorted else np.arange(n, dtype=np.int64)
    index = [positions[a:b] for a, b in spans]
    return views, Merged(whole, index, merged.warnings)


def _prob_keys(ctx: DrawContext) -> I64:
    """Items whose checks of an entity share one PRN and one visit get one key."""
    mode, n_items = ctx.policy.coordination, len(ctx.item_ids)
    if mode in ("entity", "positive"):
        start = np.zeros(n_items, dtype=np.int64)
    elif mode == "mix":
        start = ctx.item_group
    else:
        start = np.arange(n_items, dtype=np.int64)
    return np.asarray(
        np.unique(ctx.item_vgroup * (n_items + 1) + start, return_inverse=True)[1],
        dtype=np.int64,
    ).ravel()


def expected_visits(pools: EntityPools, ctx: DrawContext, scale: float = 1.0) -> float:
    """Expected visits before the cap at budget factor ``scale``: per entity and
    visit group, the chance that any of its items draws it.

    Items sharing a PRN (one start point) are nested, so that chance is their
    largest probability; items on different start points add up (an upper
    bound of the visits, exact when each visit group has one start point, as
    under the default ``coordination = 'entity'``).
    """
    keys = _prob_keys(ctx)
    total = 0.0
    for k in np.unique(keys).tolist():
        mandate, free = split_pi(pools, keys == k)
        total += float(np.maximum(mandate, np.minimum(1.0, scale * free)).sum())
    return total


def budget_scale(pools: EntityPools, ctx: DrawContext, floor: float) -> float:
    """``budget = "share"``: the factor s <= 1 on the discretionary ratios so
    that expected visits <= ``max_visit_share`` x eligible, never below
    ``floor`` (the legal floors, :func:`~creditsup.sampling.floors.floor_scale`).

    Mandates (``pool_unscaled``: full coverage, key-supervision ratio,
    targeted draws) keep their ratio. ``s`` is found by bisection on the
    exact expectation.
    """
    share = ctx.policy.max_visit_share
    n_eligible = int(pools.eligible.sum())
    if share is None or n_eligible == 0 or not pools.pools:
        return 1.0
    target = share * n_eligible

    keys = _prob_keys(ctx)
    parts = [split_pi(pools, keys == k) for k in np.unique(keys).tolist()]

    def expected(s: float) -> float:
        return sum(float(np.maximum(m, np.minimum(1.0, s * f)).sum()) for m, f in parts)

    if expected(1.0) <= target:
        return 1.0
    if expected(floor) >= target:
        return floor
    lo, hi = floor, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if expected(mid) > target:
            hi = mid
        else:
            lo = mid
    return lo


def capped_split(total: int, weights: F64, sizes: I64) -> I64:
    """Split ``total`` proportionally to ``weights`` with at most ``sizes`` each.

    Examples
    --------
    >>> capped_split(10, np.array([1.0, 1.0, 1.0]), np.array([2, 9, 9])).tolist()
    [2, 4, 4]
    """
    alloc = np.zeros(len(sizes), dtype=np.int64)
    free = sizes > 0
    left = int(min(total, sizes.sum()))
    while left > 0 and free.any():
        w = np.where(free, weights, 0.0)
        if not (w > 0).any():
            w = free.astype(np.float64)
        part = largest_remainder(left, w)
        room = sizes - alloc
        take = np.minimum(part, room)
        alloc += take
        left -= int(take.sum())
        free = (sizes - alloc) > 0
        if not (part > room).any():
            break
    return alloc


@dataclass(frozen=True)
class Allocation:
    """The budget factor, the scaled probabilities and the SRSWOR sizes.

    ``stratum_n[i]`` is ``None`` for a Poisson-PRN item, else the number of
    units to draw per stratum ``2 * tier + special`` of item ``i``.
    ``floors`` holds the floor checks, ``min_scale`` the smallest factor
    that keeps them (budgets never go below it).
    """

    scale: float
    pool_pi: Sequence[F64]
    stratum_n: list[I64 | None]
    floors: FloorCheck
    min_scale: float
    warnings: list[dict[str, Any]]
    ledger: list[dict[str, Any]]


def _stratum_n(
    ctx: DrawContext, pools: EntityPools, pool_pi: Sequence[F64], i: int
) -> tuple[I64 | None, dict[str, Any] | None]:
    """SRSWOR units per stratum of item ``i`` (None: Poisson), and a warning."""
    policy, item_id = ctx.policy, str(ctx.item_ids[i])
    fixed = item_id in policy.fixed_counts
    if not fixed and policy.ratio_mode != "fixed":
        return None, None
    strat, pis, m = pools.pool_stratum[i], pool_pi[i], 2 * len(TIERS)
    sizes = np.bincount(strat, minlength=m)
    sum_pi = np.bincount(strat, weights=pis, minlength=m)
    if not fixed:
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(sizes > 0, sum_pi / np.maximum(sizes, 1), 0.0)
        alloc = np.ceil(ratio * sizes - 1e-9).astype(np.int64)
        return np.minimum(alloc, sizes).astype(np.int64), None
    total, size = policy.fixed_counts[item_id], len(pools.pools[i])
    warning = None
    if total > size:
        warning = {
            "code": "fixed_count_exceeds_pool",
            "message": f"Item {item_id}: fixed count {total} exceeds "
            f"its pool of {size}; the whole pool is drawn.",
            "item_id": item_id,
        }
    weights = np.asarray(sum_pi if sum_pi.sum() > 0 else sizes, dtype=np.float64)
    return capped_split(min(total, size), weights, sizes).astype(np.int64), warning


def with_scale(
    pools: EntityPools, ctx: DrawContext, alloc: Allocation, scale: float
) -> Allocation:
    """``alloc`` with another budget factor: scaled probabilities and sizes."""
    pool_pi = scaled_pi(pools, scale)
    stratum_n = [_stratum_n(ctx, pools, pool_pi, i)[0] for i in range(len(pools.pools))]
    return Allocation(
        scale,
        pool_pi,
        stratum_n,
        alloc.floors,
        alloc.min_scale,
        alloc.warnings,
        alloc.ledger,
    )


def _budget_records(
    ctx: DrawContext, scale: float, floor: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``budget`` ledger record and the ``ratios_scaled`` warning."""
    policy = ctx.policy
    if scale >= 1.0:
        return [], []
    at_floor = scale <= floor + 1e-12
    record = {
        "step": "budget",
        "budget": policy.budget,
        "max_visit_share": policy.max_visit_share,
        "scale": round(scale, 9),
        "floor_scale": round(floor, 9),
        "at_floors": at_floor,
    }
    warning = {
        "code": "ratios_scaled",
        "message": f"budget = 'share': the ratios ask for more than "
        f"{policy.max_visit_share:.1%} of eligible entities to be visited; the "
        f"discretionary ratios were scaled by {scale:.4f}"
        + (" (held at the legal floors)." if at_floor else "."),
        "scale": round(scale, 9),
    }
    return [record], [warning]


def allocate(pools: EntityPools, ctx: DrawContext) -> Allocation:
    """Floors, budget factor and SRSWOR allocation over all entities.

    Raises :class:`~creditsup.exceptions.ConfigError` when the policy's ratios
    miss a legal floor it does not waive.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> from creditsup.sampling.eligibility import eligible_pools
    >>> from creditsup.sampling.policy import SamplingPolicy
    >>> ds, _, ctx = tiny_context(SamplingPolicy(ratio_mode="fixed"))
    >>> a = allocate(eligible_pools(ds.entities, ctx), ctx)
    >>> a.scale, [r["status"] for r in a.floors.records]
    (1.0, ['ok', 'unchecked', 'unchecked'])
    >>> a.stratum_n[0].tolist()  # stratum 2 x tier D: ceil(0.7 x 5)
    [0, 0, 0, 0, 0, 0, 4, 0, 0, 0]
    >>> ds, _, ctx = tiny_context(SamplingPolicy(max_visit_share=0.3))
    >>> round(allocate(eligible_pools(ds.entities, ctx), ctx).scale, 4)  # 0.3 / 0.7
    0.4286
    """
    floors = check_floors(pools, ctx)
    floor = floor_scale(pools, ctx, floors)
    scale = budget_scale(pools, ctx, floor) if ctx.policy.budget == "share" else 1.0
    ledger, warnings = _budget_records(ctx, scale, floor)
    warnings = floors.warnings + warnings
    pool_pi = scaled_pi(pools, scale)
    stratum_n: list[I64 | None] = []
    for i in range(len(pools.pools)):
        alloc, warning = _stratum_n(ctx, pools, pool_pi, i)
        stratum_n.append(alloc)
        warnings += [warning] if warning else []
    return Allocation(scale, pool_pi, stratum_n, floors, floor, warnings, ledger)
