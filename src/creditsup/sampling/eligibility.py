"""Stage 2: eligibility and candidate pools, per slice of entities (no seed).

:func:`eligible_pools` reads only the rows of its slice, plus the shared
:class:`~creditsup.sampling.context.DrawContext`; every output is per entity
(or a count that adds up over slices), so the stage runs on any partition of
the entities. It joins the slice to the tiers frame and the history, marks
the exclusion reasons in priority order (status, tier, trigger-only,
observation period, annual cap, scope, recent checks, zero ratio) and lists,
per check item, the eligible entities with their nominal probability and
stratum (tier x key-supervision).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditsup.sampling._arrays import (
    F64,
    I8,
    I64,
    U64,
    B,
    KeyedIds,
    Obj,
    as_object,
    canonical_rank,
    codes,
)
from creditsup.sampling.context import DrawContext
from creditsup.sampling.industry import scope_masks
from creditsup.schemas import EXCLUSION_REASONS, TIERS

__all__ = ["EntityPools", "eligible_pools"]

_STATUS = ("active", "deregistered", "revoked")


@dataclass(frozen=True)
class EntityPools:
    """Entities of a slice (or of the whole draw) and their candidate pools.

    Per entity: ``tier`` code (-1: none), key supervision ``ks``, exclusion
    ``reason`` (-1: eligible; index into ``EXCLUSION_REASONS``), visits
    ``used`` earlier this year and ``remaining`` under the cap, ``hist_any``
    (visited earlier this year), ``required`` by minimum coverage,
    ``eligible`` for at least one task; ``rank`` is the position in USCC
    order. Per item ``i``: ``pools[i]`` (positions, ascending), their nominal
    probability ``pool_pi[i]``, ``pool_stratum[i]`` (``2 * tier + ks``) and
    ``pool_unscaled[i]`` (mandates the budget never scales). ``scope_counts``
    and ``recent_counts`` are (item, tier) counts; ``n_tier_rows`` counts the
    rows of the tiers frame that name an entity of the slice. ``prn_hash`` is
    the entities' hash under ``hash_key`` when the joins computed it.
    """

    uscc: Obj
    rank: I64
    is_sorted: bool
    tier: I8
    ks: B
    reason: I8
    used: I64
    remaining: I64
    hist_any: B
    required: B
    eligible: B
    pools: list[I64]
    pool_pi: list[F64]
    pool_stratum: list[I8]
    pool_unscaled: list[B]
    scope_counts: I64
    recent_counts: I64
    n_tier_rows: int
    hash_key: str
    prn_hash: U64 | None


def _mark(reason: I8, mask: B, code: str) -> None:
    """Give ``code`` to the entities of ``mask`` that have no reason yet."""
    reason[(reason < 0) & mask] = EXCLUSION_REASONS.index(code)


def _tiers_in(tiers: I8, names: tuple[str, ...]) -> B:
    return np.isin(tiers, [TIERS.index(t) for t in names])


def _entity_reasons(
    entities: pd.DataFrame, tier: I8, remaining: I64, ctx: DrawContext
) -> I8:
    """Entity-level exclusions, in priority order, up to ``cap_reached``."""
    n = len(entities)
    policy = ctx.policy
    active = (entities["status"] == "active").to_numpy(dtype=bool)
    status = np.zeros(n, dtype=np.int64)
    if not active.all():
        off = np.flatnonzero(~active)
        status[off] = codes(entities["status"].iloc[off], _STATUS)
    reason = np.full(n, -1, dtype=np.int8)
    _mark(reason, status == 1, "deregistered")
    _mark(reason, status == 2, "revoked")
    _mark(reason, status < 0, "deregistered")
    _mark(reason, tier < 0, "no_tier")
    _mark(reason, _tiers_in(tier, policy.trigger_only_tiers), "trigger_only")
    if policy.observation_days > 0:
        year_start = pd.Timestamp(year=ctx.year, month=1, day=1)
        cutoff = year_start - pd.Timedelta(days=policy.observation_days)
        new = entities["established"].to_numpy() > cutoff.to_datetime64()
        obs = _tiers_in(tier, policy.observation_tiers)
        _mark(reason, new & obs, "observation_period")
    _mark(reason, remaining <= 0, "cap_reached")
    return reason


_ItemPools = tuple[list[I64], list[F64], list[I8], list[B], I64, B]


def _item_pools(
    entities: pd.DataFrame,
    ctx: DrawContext,
    tier: I8,
    ks: B,
    base_ok: B,
    recent: dict[int, B],
) -> _ItemPools:
    """Per item: in-scope entities, minus recent checks, with probability > 0.

    Returns the pools (members, probability, stratum, unscaled), the (item,
    tier) counts in scope and recently checked, and per entity the flags
    in any scope, fresh for any item, eligible for any item.
    """
    n, n_items, nt = len(entities), len(ctx.items), len(TIERS)
    scopes = scope_masks(entities, ctx.items) if n_items else []
    tier_safe = np.where(tier < 0, 0, tier).astype(np.int64)
    use_ks = ctx.policy.key_supervision_ratio is not None
    counts = np.zeros((2, n_items, nt), dtype=np.int64)  # in scope, recent
    flags = np.zeros((3, n), dtype=bool)  # any scope, any fresh, eligible
    members: list[I64] = []
    prob: list[F64] = []
    strata: list[I8] = []
    unscaled: list[B] = []
    cand_cache: dict[int, I64] = {}
    for i in range(n_items):
        if id(scopes[i]) not in cand_cache:  # items of one scope share a mask
            found = np.flatnonzero(scopes[i] & base_ok).astype(np.int64)
            cand_cache[id(scopes[i])] = found
            flags[0, found] = True
        cand = cand_cache[id(scopes[i])]
        rec_mask = recent.get(int(ctx.item_dept[i]))
        fresh = cand if rec_mask is None else cand[~rec_mask[cand]]
        t_fresh = tier_safe[fresh]
        counts[0, i] = np.bincount(tier_safe[cand], minlength=nt)[:nt]
        counts[1, i] = counts[0, i] - np.bincount(t_fresh, minlength=nt)[:nt]
        flags[1, fresh] = True
        ks_f = ks[fresh]
        pi_f = np.where(ks_f, ctx.ks_pi[i][t_fresh], ctx.base_pi[i][t_fresh])
        if str(ctx.item_ids[i]) in ctx.policy.fixed_counts:
            keep = np.ones(len(fresh), dtype=bool)
        else:
            keep = pi_f > 0
        idx, pis, ks_i = fresh[keep], pi_f[keep], ks_f[keep] & use_ks
        flags[2, idx] = True
        members.append(idx)
        prob.append(pis)
        strata.append((t_fresh[keep] * 2 + ks_i).astype(np.int8))
        # Full coverage (ratio 1, e.g. every key item for tier D, R23) and the
        # key-supervision list's own ratio are mandates, never scaled by the budget.
        unscaled.append((pis >= 1.0) | ks_i)
    return members, prob, strata, unscaled, counts, flags


def eligible_pools(entities: pd.DataFrame, ctx: DrawContext) -> EntityPools:
    """Eligibility and candidate pools of a slice of entities (rows of ``entities``).

    Parameters
    ----------
    entities : pandas.DataFrame
        Rows of the validated entities table, in any order: the whole table,
        or one partition of it.
    ctx : DrawContext
        From :func:`~creditsup.sampling.context.build_context`.

    Returns
    -------
    EntityPools
        Positions refer to the rows of ``entities``.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> ds, tiers, ctx = tiny_context()
    >>> ds.entities["status"].iloc[:3].tolist()
    ['deregistered', 'active', 'active']
    >>> part = eligible_pools(ds.entities.iloc[:3], ctx)
    >>> part.pools[0].tolist(), part.reason.tolist()
    ([1, 2], [0, -1, -1])
    """
    uscc = as_object(entities["uscc"])
    rank, is_sorted = canonical_rank(uscc)
    ent = KeyedIds(uscc, ctx.hash_key)
    tier, n_tier_rows = ctx.tiers.align(entities["uscc"], ent)
    ks = entities["key_supervision"].fillna(False).to_numpy(dtype=bool)
    if ctx.history is not None:
        used, hist_any, recent = ctx.history.facts(ent, ctx.recent_days)
    else:
        used, hist_any, recent = (
            np.zeros(len(uscc), np.int64),
            np.zeros(len(uscc), bool),
            {},
        )
    remaining = ctx.cap_by_code[tier] - used
    reason = _entity_reasons(entities, tier, remaining, ctx)
    members, prob, strata, unscaled, counts, flags = _item_pools(
        entities, ctx, tier, ks, reason < 0, recent
    )
    for k, code in enumerate(("out_of_scope", "recently_checked", "zero_ratio")):
        _mark(reason, ~flags[k], code)
    required = _tiers_in(tier, ctx.policy.coverage_tiers)
    if ctx.policy.cover_key_supervision:
        required |= ks
    return EntityPools(
        uscc=uscc,
        rank=rank,
        is_sorted=is_sorted,
        tier=tier,
        ks=ks,
        reason=reason,
        used=used,
        remaining=remaining,
        hist_any=hist_any,
        required=required,
        eligible=flags[2],
        pools=members,
        pool_pi=prob,
        pool_stratum=strata,
        pool_unscaled=unscaled,
        scope_counts=counts[0],
        recent_counts=counts[1],
        n_tier_rows=n_tier_rows,
        hash_key=ctx.hash_key,
        prn_hash=ent.cached,
    )
