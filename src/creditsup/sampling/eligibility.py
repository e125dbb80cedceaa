"""Stage 2: eligibility and candidate pools, per slice of entities (no seed).

:func:`eligible_pools` reads only the rows of its slice, plus the shared
:class:`~creditsup.sampling.context.DrawContext`; every output is per entity
(or a count that adds up over slices), so the stage runs on any partition of
the entities. It joins the slice to the tiers frame and the history, marks
the exclusion reasons in priority order (status, trigger-only, observation
period, annual cap, scope, recent checks, zero ratio) and lists, per check
item, the eligible entities with their nominal probability and stratum (tier
x special: key supervision or a targeted draw).

The tiers come from the tiers frame, or, when that frame has no row and
the slice has a ``tier`` column (:data:`TIER_COLUMN`), from the slice itself:
the tiers partitioned with the entities, so that no slice needs the whole
frame (the out-of-core draw of ``benchmarks/run.py --scenario nation``).
Every entity that exists has a tier: one absent from the tiers frame (or
with an empty tier) gets the policy's ``new_entity_tier`` and a reason code,
``new_entity`` when it was established after the scoring date, else
``untiered`` (C3: no entity is left out of the draw for want of a tier).
Anomaly-forced targeted draws (C2, R09) raise the probability of the
entities that pass their filter, for the listed items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditsup.exceptions import DataValidationError
from creditsup.sampling._arrays import (
    F64,
    I8,
    I64,
    U64,
    B,
    Ids,
    KeyedIds,
    PiCodes,
    Pos,
    as_object,
    canonical_rank,
    codes,
    compact_ids,
    pos_dtype,
    tier_codes,
)
from creditsup.sampling.context import DrawContext
from creditsup.sampling.industry import scope_masks
from creditsup.sampling.targets import target_masks
from creditsup.schemas import EXCLUSION_REASONS, TIERS

__all__ = ["ASSUMED_TIER_REASONS", "TIER_COLUMN", "EntityPools", "eligible_pools"]

#: The column of a slice that holds its entities' tiers when the tiers frame
#: of the draw has no row (the tiers partitioned with the entities).
TIER_COLUMN = "tier"

_STATUS = ("active", "deregistered", "revoked")
#: Why an entity got the policy's tier for new entities (code 1, 2; 0: none).
ASSUMED_TIER_REASONS = ("", "new_entity", "untiered")


@dataclass(frozen=True)
class EntityPools:
    """Entities of a slice (or of the whole draw) and their candidate pools.

    Per entity: ``tier`` code, ``assumed`` (index into
    ``ASSUMED_TIER_REASONS``: 0 from the tiers frame, else why the policy's
    tier for new entities), ``legacy`` (a 15-digit registration number, not a
    USCC), ``enterprise`` (entity type), key supervision ``ks``, exclusion ``reason`` (-1: eligible; index
    into ``EXCLUSION_REASONS``), visits ``used`` earlier this year and
    ``remaining`` under the cap, ``hist_any`` (visited earlier this year),
    ``required`` by minimum coverage, ``eligible`` for at least one task;
    ``rank`` is the position in USCC order. Per item ``i``: ``pools[i]``
    (positions, ascending), their nominal probability ``pool_pi[i]``,
    ``pool_stratum[i]`` (``2 * tier + special``), ``pool_unscaled[i]``
    (mandates the budget never scales) and ``pool_target[i]`` (the targeted
    draw that raised the probability, -1: none); per entity, ``target_bits``
    has bit ``k`` set when it passes targeted draw ``k``'s filter. ``scope_counts``
    and ``recent_counts`` are (item, tier) counts; ``n_tier_rows`` counts the
    rows of the tiers frame that name an entity of the slice. ``prn_hash`` is
    the entities' hash under ``hash_key`` when the joins computed it.
    """

    uscc: Ids
    rank: I64
    is_sorted: bool
    tier: I8
    assumed: I8
    legacy: B
    enterprise: B
    ks: B
    reason: I8
    used: I64
    remaining: I64
    hist_any: B
    required: B
    eligible: B
    pools: list[Pos]
    pool_pi: PiCodes
    pool_stratum: list[I8]
    pool_unscaled: list[B]
    pool_target: list[I8]
    target_bits: I64
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
    _mark(reason, _tiers_in(tier, policy.trigger_only_tiers), "trigger_only")
    if policy.observation_days > 0:
        year_start = pd.Timestamp(year=ctx.year, month=1, day=1)
        cutoff = year_start - pd.Timedelta(days=policy.observation_days)
        new = entities["established"].to_numpy() > cutoff.to_datetime64()
        obs = _tiers_in(tier, policy.observation_tiers)
        _mark(reason, new & obs, "observation_period")
    _mark(reason, remaining <= 0, "cap_reached")
    return reason


_ItemPools = tuple[list[Pos], list[F64], list[I8], list[B], list[I8], I64, B]


def _raise_targets(
    i: int, fresh: I64, pi: F64, targeted: list[B], ctx: DrawContext
) -> tuple[F64, I8]:
    """Item ``i``'s probabilities raised by the targeted draws that list it."""
    who = np.full(len(fresh), -1, dtype=np.int8)
    for k, (tg, mask) in enumerate(zip(ctx.targets, targeted, strict=True)):
        if i not in tg.items:
            continue
        up = mask[fresh] & (tg.spec.ratio > pi)
        pi = np.where(up, tg.spec.ratio, pi)
        who[up] = k
    return pi, who


def _item_pools(
    entities: pd.DataFrame,
    ctx: DrawContext,
    tier: I8,
    ks: B,
    base_ok: B,
    recent: dict[int, B],
    targeted: list[B],
) -> _ItemPools:
    """Per item: in-scope entities, minus recent checks, with probability > 0.

    Returns the pools (members, probability, stratum, unscaled, target), the
    (item, tier) counts in scope and recently checked, and per entity the
    flags in any scope, fresh for any item, eligible for any item.
    """
    n, n_items, nt = len(entities), len(ctx.items), len(TIERS)
    scopes = scope_masks(entities, ctx.items) if n_items else []
    tier_safe = tier.astype(np.int64)
    use_ks = ctx.policy.key_supervision_ratio is not None
    counts = np.zeros((2, n_items, nt), dtype=np.int64)  # in scope, recent
    flags = np.zeros((3, n), dtype=bool)  # any scope, any fresh, eligible
    out: tuple[list[Pos], list[F64], list[I8], list[B], list[I8]] = ([], [], [], [], [])
    cand_cache: dict[int, I64] = {}
    for i in range(n_items):
        if id(scopes[i]) not in cand_cache:  # items of one scope share a mask
            found = np.flatnonzero(scopes[i] & base_ok).astype(pos_dtype(n))
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
        pi_f, who = _raise_targets(i, fresh, pi_f, targeted, ctx)
        if str(ctx.item_ids[i]) in ctx.policy.fixed_counts:
            keep = np.ones(len(fresh), dtype=bool)
        else:
            keep = pi_f > 0
        idx, pis, who = fresh[keep], pi_f[keep], who[keep]
        special = (ks_f[keep] & use_ks) | (who >= 0)
        flags[2, idx] = True
        out[0].append(idx)
        out[1].append(pis)
        out[2].append((t_fresh[keep] * 2 + special).astype(np.int8))
        # Full coverage (ratio 1, e.g. every key item for tier D, R23), the
        # key-supervision list's own ratio and targeted draws (C2) are
        # mandates, never scaled by a budget.
        out[3].append((pis >= 1.0) | special)
        out[4].append(who)
    return (*out, counts, flags)


def _bits(masks: list[B], n: int) -> I64:
    """Bit ``k`` set where targeted draw ``k``'s filter passes."""
    out = np.zeros(n, dtype=np.int64)
    for k, m in enumerate(masks):
        out |= m.astype(np.int64) << k
    return out


def _slice_tiers(values: pd.Series) -> I8:
    """Tier codes of a slice's own ``tier`` column (-1: none); checks the labels."""
    found = tier_codes(values.reset_index(drop=True))
    bad = np.flatnonzero(found == -2)
    if len(bad):
        raise DataValidationError.from_records(
            [
                {
                    "table": "entities",
                    "row": int(r),
                    "column": TIER_COLUMN,
                    "value": str(values.iloc[r]),
                    "rule": "unknown_enum",
                    "message": f"A tier must be one of {', '.join(TIERS)}.",
                }
                for r in bad[:1000]
            ]
        )
    return np.maximum(found, -1).astype(np.int8)


def _tiers_of(
    entities: pd.DataFrame, ent: KeyedIds, ctx: DrawContext
) -> tuple[I8, I8, int]:
    """Tier code of every entity (the policy's for new ones) and why assumed.

    The third value counts the rows of the tiers frame that name an entity of
    the slice (none when the slice carries its own tiers).
    """
    if len(ctx.tiers.codes) == 0 and TIER_COLUMN in entities.columns:
        tier, n_tier_rows = _slice_tiers(entities[TIER_COLUMN]), 0
    else:
        tier, n_tier_rows = ctx.tiers.align(entities["uscc"], ent)
    assumed = np.zeros(len(tier), dtype=np.int8)
    missing = tier < 0
    if missing.any():
        assumed[missing] = 2
        if ctx.as_of is not None:
            est = entities["established"].to_numpy(dtype="datetime64[D]")
            assumed[missing & (est > ctx.as_of)] = 1
        tier = np.where(missing, TIERS.index(ctx.policy.new_entity_tier), tier)
    return tier.astype(np.int8), assumed, n_tier_rows


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
    tier, assumed, n_tier_rows = _tiers_of(entities, ent, ctx)
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
    targeted = target_masks(entities, ent, tier, ctx.targets)
    members, prob, strata, unscaled, target, counts, flags = _item_pools(
        entities, ctx, tier, ks, reason < 0, recent, targeted
    )
    for k, code in enumerate(("out_of_scope", "recently_checked", "zero_ratio")):
        _mark(reason, ~flags[k], code)
    required = _tiers_in(tier, ctx.policy.coverage_tiers)
    if ctx.policy.cover_key_supervision:
        required |= ks
    return EntityPools(
        uscc=compact_ids(uscc),
        rank=rank,
        is_sorted=is_sorted,
        tier=tier,
        assumed=assumed,
        legacy=entities["uscc"].astype("str").str.len().to_numpy() == 15,
        enterprise=(entities["entity_type"] == "enterprise").to_numpy(dtype=bool),
        ks=ks,
        reason=reason,
        used=used,
        remaining=remaining,
        hist_any=hist_any,
        required=required,
        eligible=flags[2],
        pools=members,
        pool_pi=PiCodes.encode(prob),
        pool_stratum=strata,
        pool_unscaled=unscaled,
        pool_target=target,
        target_bits=_bits(targeted, len(uscc)),
        scope_counts=counts[0],
        recent_counts=counts[1],
        n_tier_rows=n_tier_rows,
        hash_key=ctx.hash_key,
        prn_hash=ent.cached,
    )
