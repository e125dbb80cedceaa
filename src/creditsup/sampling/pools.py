"""Stage 3: merge the slices' pools and allocate the draw (global, no seed).

:func:`merge_pools` puts the slices' entities into one canonical (USCC)
order, so that everything downstream is the same whatever the partitioning.
:func:`allocate` then makes the two decisions that need every pool at once:
the budget factor on general ratios (``max_visit_share``, R08) and the
number of units per (item, stratum) of the SRSWOR-PRN items (``ratio_mode
= "fixed"``, R07, and ``fixed_counts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from creditsup.sampling._arrays import F64, I8, I64, B
from creditsup.sampling._prn import largest_remainder
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.schemas import TIERS

__all__ = ["Allocation", "Merged", "allocate", "merge_pools", "scaled_pi"]


@dataclass(frozen=True)
class Merged:
    """All entities in USCC order; ``index[j]``: where slice ``j``'s rows went."""

    pools: EntityPools
    index: list[I64]
    warnings: list[dict[str, Any]]


def _concat_pools(
    parts: Sequence[EntityPools], index: list[I64], i: int
) -> tuple[I64, F64, I8, B]:
    """Item ``i``'s pool over all slices, in canonical order."""
    g = np.concatenate([ix[p.pools[i]] for p, ix in zip(parts, index, strict=True)])
    o = np.argsort(g, kind="stable")

    def cat(name: str) -> Any:
        return np.concatenate([getattr(p, name)[i] for p in parts])[o]

    return g[o], cat("pool_pi"), cat("pool_stratum"), cat("pool_unscaled")


def _merge(parts: Sequence[EntityPools]) -> tuple[EntityPools, list[I64]]:
    """All slices in one canonical (USCC) order; where each slice's rows went."""
    uscc = np.concatenate([p.uscc for p in parts])
    n = len(uscc)
    order = np.argsort(uscc.astype(str), kind="stable")
    ordered = uscc[order]
    if n > 1 and bool((ordered[1:] == ordered[:-1]).any()):
        raise ValueError("The slices of entities overlap: an entity is in two.")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    index = np.split(pos, np.cumsum([len(p.uscc) for p in parts])[:-1])
    items = [_concat_pools(parts, index, i) for i in range(len(parts[0].pools))]
    hashes = [p.prn_hash for p in parts]
    one_key = len({p.hash_key for p in parts}) == 1

    def cat(name: str) -> Any:
        return np.concatenate([getattr(p, name) for p in parts])[order]

    whole = EntityPools(
        uscc=ordered,
        rank=np.arange(n, dtype=np.int64),
        is_sorted=True,
        tier=cat("tier"),
        ks=cat("ks"),
        reason=cat("reason"),
        used=cat("used"),
        remaining=cat("remaining"),
        hist_any=cat("hist_any"),
        required=cat("required"),
        eligible=cat("eligible"),
        pools=[t[0] for t in items],
        pool_pi=[t[1] for t in items],
        pool_stratum=[t[2] for t in items],
        pool_unscaled=[t[3] for t in items],
        scope_counts=np.add.reduce([p.scope_counts for p in parts]),
        recent_counts=np.add.reduce([p.recent_counts for p in parts]),
        n_tier_rows=sum(p.n_tier_rows for p in parts),
        hash_key=parts[0].hash_key,
        prn_hash=cat("prn_hash")
        if one_key and all(h is not None for h in hashes)
        else None,
    )
    return whole, list(index)


def merge_pools(parts: Sequence[EntityPools], ctx: DrawContext) -> Merged:
    """Merge the slices of :func:`~creditsup.sampling.eligibility.eligible_pools`.

    The slices must be disjoint; together they are the entities of the draw.
    One sorted slice is taken as it is.

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
        whole, index = _merge(parts)
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


def scaled_pi(pools: EntityPools, scale: float) -> list[F64]:
    """Each pool's probability after the budget factor (mandates unscaled)."""
    if not scale < 1.0:
        return pools.pool_pi
    return [
        np.where(u, p, np.minimum(1.0, p * scale))
        for p, u in zip(pools.pool_pi, pools.pool_unscaled, strict=True)
    ]


def budget_scale(pools: EntityPools, ctx: DrawContext) -> float:
    """Common factor s <= 1 on general ratios so expected visits <= share x eligible.

    With the same start point within a joint group, an entity's chance of a
    visit from group g is the largest ratio among g's items that apply to it;
    visits of different groups add up. Mandates (``pool_unscaled``: full
    coverage, key-supervision ratio) keep their ratio. ``s`` is found by
    bisection on the exact expectation; NaN when the mandates alone exceed
    the budget.
    """
    share, n = ctx.policy.max_visit_share, len(pools.uscc)
    n_eligible = int(pools.eligible.sum())
    if share is None or n_eligible == 0 or not pools.pools:
        return 1.0
    gen_parts: list[F64] = []
    key_parts: list[F64] = []
    for g in range(max(len(ctx.groups), 1)):
        members = np.flatnonzero(ctx.item_group == g).tolist()
        if not members:
            continue
        gen_g, key_g = np.zeros(n), np.zeros(n)
        touched = np.zeros(n, dtype=bool)
        for i in members:  # a pool lists each entity once: plain fancy indexing
            idx, p, fixed = pools.pools[i], pools.pool_pi[i], pools.pool_unscaled[i]
            gi, ki = idx[~fixed], idx[fixed]
            gen_g[gi] = np.maximum(gen_g[gi], p[~fixed])
            key_g[ki] = np.maximum(key_g[ki], p[fixed])
            touched[idx] = True
        t = np.flatnonzero(touched)
        gen_parts.append(gen_g[t])
        key_parts.append(key_g[t])
    if not gen_parts:
        return 1.0
    gen, key = np.concatenate(gen_parts), np.concatenate(key_parts)
    target = share * n_eligible

    def expected(s: float) -> float:
        return float(np.maximum(np.minimum(1.0, s * gen), key).sum())

    if expected(1.0) <= target:
        return 1.0
    if expected(0.0) >= target:
        # Key items alone exceed the budget: scaling general items towards zero
        # would take every entity's chance of a draw away (C3); leave them.
        return float("nan")
    lo, hi = 0.0, 1.0
    for _ in range(50):
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
    units to draw per stratum ``2 * tier + ks`` of item ``i``.
    """

    scale: float
    pool_pi: list[F64]
    stratum_n: list[I64 | None]
    warnings: list[dict[str, Any]]
    ledger: list[dict[str, Any]]


def _stratum_n(
    ctx: DrawContext, pools: EntityPools, pool_pi: list[F64], i: int
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


def allocate(pools: EntityPools, ctx: DrawContext) -> Allocation:
    """Budget factor and SRSWOR allocation over all entities (``merge_pools``).

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> from creditsup.sampling.eligibility import eligible_pools
    >>> from creditsup.sampling.policy import SamplingPolicy
    >>> ds, _, ctx = tiny_context(SamplingPolicy(ratio_mode="fixed"))
    >>> a = allocate(eligible_pools(ds.entities, ctx), ctx)
    >>> round(a.scale, 4)  # 5 eligible x 5 % = 0.7 x 5 x scale
    0.0714
    >>> a.stratum_n[0].tolist()  # stratum 2 x tier D: ceil(0.7 x scale x 5)
    [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    """
    policy = ctx.policy
    warnings: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    scale = budget_scale(pools, ctx)
    if np.isnan(scale):
        warnings.append(
            {
                "code": "budget_unattainable",
                "message": f"Full-coverage mandates (ratio 1) alone exceed "
                f"max_visit_share={policy.max_visit_share:.1%}; ratios applied as given.",
            }
        )
        scale = 1.0
    if scale < 1.0:
        ledger.append(
            {
                "step": "budget",
                "max_visit_share": policy.max_visit_share,
                "scale": round(scale, 9),
            }
        )
        warnings.append(
            {
                "code": "ratios_scaled",
                "message": f"The ratios ask for more than {policy.max_visit_share:.1%} "
                f"of eligible entities to be visited; general-item ratios were scaled "
                f"by {scale:.4f} (max_visit_share).",
            }
        )
    pool_pi = scaled_pi(pools, scale)
    stratum_n: list[I64 | None] = []
    for i in range(len(pools.pools)):
        alloc, warning = _stratum_n(ctx, pools, pool_pi, i)
        stratum_n.append(alloc)
        warnings += [warning] if warning else []
    return Allocation(scale, pool_pi, stratum_n, warnings, ledger)
