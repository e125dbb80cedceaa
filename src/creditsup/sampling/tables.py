"""Stage 7a: the result tables of a draw (global).

Each function turns the arrays of the earlier stages into one frame of
:class:`~creditsup.sampling.result.DrawResult`: visits and checks (kept after
the cap), tasks and strata (per item, per item and tier), exclusions, tiers
assumed for new entities, targeted draws, cap removals, months, floors and
the per-tier accounting. Entities known by a legacy registration number
(注册号) carry ``id_kind == "regno"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditsup.sampling._arrays import (
    F64,
    I8,
    I64,
    MONTHS,
    B,
    Ids,
    Obj,
    id_texts,
    set_codes,
    sorted_unique,
)
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import ASSUMED_TIER_REASONS, EntityPools
from creditsup.sampling.floors import entity_pi
from creditsup.sampling.months import MonthPlan
from creditsup.sampling.pools import Allocation
from creditsup.sampling.result import CAP_TRIMMED
from creditsup.sampling.visits import Draw
from creditsup.schemas import EXCLUSION_REASONS, TIERS

__all__ = [
    "KeptVisits",
    "TaskCounts",
    "accounting_frame",
    "assumed_tiers_frame",
    "cap_removals_frame",
    "check_targets",
    "checks_chunks",
    "checks_frame",
    "exclusions_frame",
    "id_kind",
    "kept_visits",
    "months_frame",
    "strata_frame",
    "targeted_frame",
    "task_counts",
    "tasks_frame",
    "visits_frame",
]

_DETAILS = {
    "deregistered": "The entity is deregistered (or not active).",
    "revoked": "The entity's business licence is revoked.",
    "no_tier": "The entity has no credit tier in the tiers frame (not produced "
    "since creditsup-prn-v2: such an entity gets the policy's new_entity_tier).",
    "trigger_only": "The entity's tier is in trigger-based supervision (no random draw).",
    "observation_period": "New entity in its observation period (C5).",
    "cap_reached": "The tier's annual visit cap (R15) is already reached by visits "
    "earlier in the year.",
    "out_of_scope": "No check item applies to the entity's type and industry.",
    "recently_checked": "Every department with an applicable item checked the entity "
    "within its recent-check window.",
    "zero_ratio": "Every applicable item has ratio 0 for the entity's tier.",
}
_TIER_TEXT = np.array([*TIERS, ""], dtype=object)
_ASSUMED_DETAILS = {
    "new_entity": "Registered after the scoring date: the policy's tier for new "
    "entities (new_entity_tier; C5 observation period if configured).",
    "untiered": "Absent from the tiers frame (or no tier): the policy's tier for "
    "new entities (new_entity_tier).",
}


def id_kind(pools: EntityPools, ent: I64) -> pd.api.extensions.ExtensionArray:
    """``"uscc"`` or ``"regno"`` (a legacy 15-digit registration number)."""
    return _text(np.where(pools.legacy[ent], "regno", "uscc").astype(object))


def check_targets(pools: EntityPools, ent: I64, item: I64) -> I8:
    """The targeted draw that set each check's probability (-1: none)."""
    out = np.full(len(ent), -1, dtype=np.int8)
    for i in np.unique(item).tolist():
        m = np.flatnonzero(item == i)
        pos = np.searchsorted(pools.pools[i], ent[m])
        out[m] = pools.pool_target[i][pos]
    return out


def _text(values: Obj | list[str]) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def _taken(
    values: Ids | list[str], codes: I64 | I8
) -> pd.api.extensions.ExtensionArray:
    """``values[codes]`` as text, converting each distinct used value once."""
    c = np.asarray(codes, dtype=np.int64)
    if len(values) <= 64:
        return _text(id_texts(np.asarray(values))).take(c)
    used, inv = np.unique(c, return_inverse=True)
    return _text(id_texts(np.asarray(values)[used])).take(inv.ravel())


def _joined(names: list[str] | Obj, sets: list[tuple[int, ...]]) -> Obj:
    return np.array([";".join(names[x] for x in s) for s in sets], dtype=object)


@dataclass(frozen=True)
class KeptVisits:
    """The visits the cap keeps, renumbered, and their checks.

    ``vis``: kept visit positions; ``chk``: kept check positions and
    ``chk_visit``: their new visit number; ``dept_code``/``item_code`` index
    each kept visit's department and item sets. ``vd_visit``, ``vd_dept``,
    ``vd_slots``: per (visit, department) pair, the inspectors the department
    sends (:func:`visit_slots`).
    """

    vis: I64
    ent: I64
    group: I64
    chk: I64
    chk_visit: I64
    chk_item: I64
    dept_code: I64
    dept_sets: list[tuple[int, ...]]
    item_code: I64
    item_sets: list[tuple[int, ...]]
    vd_visit: I64
    vd_dept: I64
    vd_slots: I64


def visit_slots(ctx: DrawContext, c_vis: I64, c_item: I64) -> tuple[I64, I64, I64]:
    """Inspectors each department sends to each visit (long form).

    ``max(1, ceil(team_size / k), e)`` for a visit of ``k`` departments, where
    ``e`` counts the distinct expertise fields the department's items on the
    visit require (one holder each, as the assignment counts them): at least
    one per department (R14), a team of at least ``team_size`` (R11).

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> ctx = tiny_context()[2]  # F1 (food), M1 (market); no expertise required
    >>> [a.tolist() for a in visit_slots(ctx, np.array([0, 0, 1]), np.array([0, 1, 1]))]
    [[0, 0, 1], [0, 1, 1], [1, 1, 2]]
    """
    n_dept = max(len(ctx.departments), 1)
    dept = ctx.item_dept[c_item]
    vd = sorted_unique(c_vis * n_dept + dept)
    vd_visit, vd_dept = vd // n_dept, vd % n_dept
    k = np.bincount(vd_visit)[vd_visit] if len(vd) else np.zeros(0, np.int64)
    team = ctx.policy.team_size
    q = np.maximum(1, -(-team // np.maximum(k, 1)))
    exp = ctx.item_expertise[c_item]
    has = exp >= 0
    n_exp = int(exp.max()) + 1 if has.any() else 1
    ve = sorted_unique(c_vis[has] * n_exp + exp[has])
    # an expertise code belongs to one department: count it there
    owner = np.zeros(n_exp, dtype=np.int64)
    owner[exp[has]] = dept[has]
    per = np.unique((ve // n_exp) * n_dept + owner[ve % n_exp], return_counts=True)
    e = np.zeros(len(vd), dtype=np.int64)
    e[np.searchsorted(vd, per[0])] = per[1]
    return vd_visit, vd_dept, np.maximum(q, e).astype(np.int64)


def kept_visits(ctx: DrawContext, draw: Draw) -> KeptVisits:
    """Renumber the kept visits and encode their department and item sets."""
    kept = np.flatnonzero(draw.keep)
    new_id = np.full(len(draw.keep), -1, dtype=np.int64)
    new_id[kept] = np.arange(len(kept))
    ck = np.flatnonzero(draw.keep[draw.visits.chk_visit])
    c_vis = new_id[draw.visits.chk_visit[ck]]
    c_item = draw.checks.item[ck]
    nk = len(kept)
    dept_code, item_code = np.zeros(0, np.int64), np.zeros(0, np.int64)
    dept_sets: list[tuple[int, ...]] = []
    item_sets: list[tuple[int, ...]] = []
    if nk:
        n_dept, n_items = len(ctx.departments), len(ctx.items)
        dept_code, dept_sets = set_codes(c_vis, ctx.item_dept[c_item], nk, n_dept)
        item_code, item_sets = set_codes(c_vis, c_item, nk, n_items)
    vd_visit, vd_dept, vd_slots = visit_slots(ctx, c_vis, c_item)
    return KeptVisits(
        vis=kept,
        ent=draw.visits.ent[kept],
        group=draw.visits.group[kept],
        chk=ck,
        chk_visit=c_vis,
        chk_item=c_item,
        dept_code=dept_code,
        dept_sets=dept_sets,
        item_code=item_code,
        item_sets=item_sets,
        vd_visit=vd_visit,
        vd_dept=vd_dept,
        vd_slots=vd_slots,
    )


def visit_ids(year: int, n: int, start: int = 0, stop: int | None = None) -> Obj:
    """``V<year>-000001`` ... (at least six digits) of ``n`` visits.

    ``start``/``stop``: only the ids of visits ``start:stop`` (same width).

    Examples
    --------
    >>> visit_ids(2027, 2).tolist()
    ['V2027-000001', 'V2027-000002']
    >>> visit_ids(2027, 2_000_000, 5, 6).tolist()
    ['V2027-0000006']
    """
    width = max(6, len(str(n)))
    stop = n if stop is None else stop
    nums = pd.Series(np.arange(start + 1, stop + 1)).astype(str).str.zfill(width)
    return np.asarray((f"V{year}-" + nums).to_numpy(dtype=object), dtype=object)


def visits_frame(
    ctx: DrawContext, pools: EntityPools, draw: Draw, kv: KeptVisits, month: I64
) -> pd.DataFrame:
    """The visits table (``contract.md`` §3), in (USCC, group) order."""
    dept_txt = _joined(ctx.departments, kv.dept_sets)
    item_txt = _joined(ctx.item_ids, kv.item_sets)
    joint = np.array([len(s) > 1 for s in kv.dept_sets], dtype=bool)
    return pd.DataFrame(
        {
            "visit_id": _text(visit_ids(ctx.year, len(kv.vis))),
            "uscc": _text(id_texts(pools.uscc[kv.ent])),
            "tier": _text(_TIER_TEXT[pools.tier[kv.ent]]),
            "month": month.astype(np.int64),
            "departments": _text(dept_txt[kv.dept_code]),
            "items": _text(item_txt[kv.item_code]),
            "trigger": _text(np.where(draw.visits.key[kv.vis], "key", "random")),
            "joint": joint[kv.dept_code],
            "id_kind": id_kind(pools, kv.ent),
        }
    )


def checks_frame(
    ctx: DrawContext, pools: EntityPools, draw: Draw, kv: KeptVisits
) -> pd.DataFrame:
    """One row per kept (visit, item), sorted by visit and item.

    ``source``: ``random``, ``targeted`` (the probability came from a
    targeted draw, named in ``task``) or ``coverage``.
    """
    co = np.lexsort((kv.chk_item, kv.chk_visit))
    return _checks_rows(ctx, pools, draw, kv, co)


def checks_chunks(
    ctx: DrawContext, pools: EntityPools, draw: Draw, kv: KeptVisits, rows: int
) -> Iterator[pd.DataFrame]:
    """:func:`checks_frame` in consecutive pieces of at most ``rows`` rows.

    Their concatenation is the frame; only one piece is in memory at a time
    (a 50M-entity draw has some 64M checks).
    """
    co = np.lexsort((kv.chk_item, kv.chk_visit))
    for a in range(0, max(len(co), 1), max(rows, 1)):
        yield _checks_rows(ctx, pools, draw, kv, co[a : a + rows])


def _checks_rows(
    ctx: DrawContext, pools: EntityPools, draw: Draw, kv: KeptVisits, co: I64
) -> pd.DataFrame:
    """Rows ``co`` (kept-check positions, in visit and item order) of the checks."""
    item = kv.chk_item[co]
    ent = draw.checks.ent[kv.chk[co]]
    target = check_targets(pools, ent, item)
    names = [t.spec.name for t in ctx.targets] + [""]
    source = np.where(draw.checks.cov[kv.chk[co]], 2, (target >= 0).astype(np.int64))
    vis = kv.chk_visit[co]
    lo, hi = (int(vis[0]), int(vis[-1]) + 1) if len(vis) else (0, 0)
    return pd.DataFrame(
        {
            "visit_id": _taken(visit_ids(ctx.year, len(kv.vis), lo, hi), vis - lo),
            "uscc": _taken(pools.uscc, ent),
            "item_id": _taken(ctx.item_ids, item),
            "department": _taken(ctx.departments, ctx.item_dept[item]),
            "group": _taken(ctx.groups, ctx.item_group[item]),
            "kind": _taken(["general", "key"], ctx.item_key[item].astype(np.int64)),
            "source": _taken(["random", "targeted", "coverage"], source),
            "task": _taken(names, np.where(target < 0, len(names) - 1, target)),
        }
    )


@dataclass(frozen=True)
class TaskCounts:
    """Per (item, tier): pool size, nominal ratio, expected and R07 counts,
    random checks drawn, coverage checks, checks kept after the cap."""

    pool: I64
    nominal: F64
    expected: F64
    r07: I64
    drawn: I64
    cov: I64
    kept: I64


def _per_item_tier(item: I64, tier: I64, mask: B, n_items: int) -> I64:
    out = np.zeros((n_items, len(TIERS)), dtype=np.int64)
    np.add.at(out, (item[mask], tier[mask]), 1)
    return out


def task_counts(
    ctx: DrawContext, pools: EntityPools, alloc: Allocation, draw: Draw
) -> TaskCounts:
    """Counts per (item, tier) from the pools (scaled ratios) and the draw."""
    n_items, nt = len(ctx.items), len(TIERS)
    chk = draw.checks
    tier_of_chk = pools.tier[chk.ent].astype(np.int64)
    keep_chk = draw.keep[draw.visits.chk_visit]
    pool = np.zeros((n_items, nt), dtype=np.int64)
    expected = np.zeros((n_items, nt), dtype=np.float64)
    nominal = np.zeros((n_items, nt), dtype=np.float64)
    r07 = np.zeros((n_items, nt), dtype=np.int64)
    for i in range(n_items):
        t_idx = pools.tier[pools.pools[i]].astype(np.int64)
        pool[i] = np.bincount(t_idx, minlength=nt)[:nt]
        sum_pi = np.bincount(t_idx, weights=alloc.pool_pi[i], minlength=nt)[:nt]
        with np.errstate(invalid="ignore", divide="ignore"):
            nominal[i] = np.where(pool[i] > 0, sum_pi / np.maximum(pool[i], 1), 0.0)
        r07[i] = np.ceil(sum_pi - 1e-9).astype(np.int64)
        n_h = alloc.stratum_n[i]
        if n_h is None:
            expected[i] = sum_pi
        else:
            # SRSWOR draws exactly the allocation: ceil(ratio x pool) per
            # stratum (R07), or the split of a fixed count.
            expected[i] = n_h.reshape(nt, 2).sum(axis=1)
            r07[i] = expected[i].astype(np.int64)
    return TaskCounts(
        pool=pool,
        nominal=nominal,
        expected=expected,
        r07=r07,
        drawn=_per_item_tier(chk.item, tier_of_chk, ~chk.cov, n_items),
        cov=_per_item_tier(chk.item, tier_of_chk, chk.cov, n_items),
        kept=_per_item_tier(chk.item, tier_of_chk, keep_chk, n_items),
    )


def _item_columns(ctx: DrawContext, alloc: Allocation) -> dict[str, Obj]:
    method = ["srswor" if a is not None else "poisson" for a in alloc.stratum_n]
    return {
        "item_id": ctx.item_ids,
        "department": np.array(ctx.departments, dtype=object)[ctx.item_dept],
        "group": np.array(ctx.groups, dtype=object)[ctx.item_group],
        "kind": np.where(ctx.item_key, "key", "general").astype(object),
        "method": np.array(method, dtype=object),
    }


def tasks_frame(ctx: DrawContext, alloc: Allocation, c: TaskCounts) -> pd.DataFrame:
    """One row per item: pool at plan time, ratio, expected, drawn, kept."""
    tot_pool = c.pool.sum(axis=1)
    return pd.DataFrame(
        {
            **_item_columns(ctx, alloc),
            "pool_size": tot_pool,
            "ratio": np.where(
                tot_pool > 0,
                (c.nominal * c.pool).sum(axis=1) / np.maximum(tot_pool, 1),
                0.0,
            ),
            "expected": c.expected.sum(axis=1),
            "r07_count": c.r07.sum(axis=1),
            "drawn": c.drawn.sum(axis=1),
            "coverage": c.cov.sum(axis=1),
            "kept": c.kept.sum(axis=1),
            "removed_by_cap": (c.drawn + c.cov - c.kept).sum(axis=1),
        }
    )


def strata_frame(
    ctx: DrawContext, pools: EntityPools, alloc: Allocation, c: TaskCounts
) -> pd.DataFrame:
    """One row per (item, tier) with entities in scope."""
    nt, n_items = len(TIERS), len(ctx.items)
    strata = pd.DataFrame(
        {
            **{k: np.repeat(v, nt) for k, v in _item_columns(ctx, alloc).items()},
            "tier": np.tile(np.array(TIERS, dtype=object), n_items),
            "n_scope": pools.scope_counts.ravel(),
            "n_recently_checked": pools.recent_counts.ravel(),
            "pool_size": c.pool.ravel(),
            "ratio": c.nominal.ravel(),
            "expected": c.expected.ravel(),
            "r07_count": c.r07.ravel(),
            "drawn": c.drawn.ravel(),
            "coverage": c.cov.ravel(),
            "kept": c.kept.ravel(),
        }
    )
    return strata[strata["n_scope"] > 0].reset_index(drop=True)


def exclusions_frame(pools: EntityPools) -> pd.DataFrame:
    """Every entity eligible for no task, with its first reason, in USCC order."""
    exc = np.flatnonzero(pools.reason >= 0)
    reason = pools.reason[exc]
    return pd.DataFrame(
        {
            "uscc": _text(id_texts(pools.uscc[exc])),
            "reason_code": _text(np.array(EXCLUSION_REASONS, dtype=object)[reason]),
            "detail": _text(
                np.array([_DETAILS[c] for c in EXCLUSION_REASONS], object)[reason]
            ),
            "id_kind": id_kind(pools, exc),
        }
    )


def assumed_tiers_frame(ctx: DrawContext, pools: EntityPools) -> pd.DataFrame:
    """Entities that got the policy's tier for new entities, and why (C5)."""
    ent = np.flatnonzero(pools.assumed > 0)
    code = np.array(ASSUMED_TIER_REASONS, dtype=object)[pools.assumed[ent]]
    return pd.DataFrame(
        {
            "uscc": _text(id_texts(pools.uscc[ent])),
            "tier": _text(_TIER_TEXT[pools.tier[ent]]),
            "reason_code": _text(code),
            "detail": _text(
                np.array([_ASSUMED_DETAILS.get(c, "") for c in code], dtype=object)
            ),
            "eligible": pools.eligible[ent],
            "id_kind": id_kind(pools, ent),
        }
    )


def targeted_frame(
    ctx: DrawContext, pools: EntityPools, draw: Draw, kv: KeptVisits
) -> pd.DataFrame:
    """Per targeted draw (C2, R09): filter matches, expected and drawn."""
    rows = []
    visited = np.zeros(len(pools.uscc), dtype=bool)
    visited[kv.ent] = True
    kept = draw.keep[draw.visits.chk_visit]
    c_target = check_targets(pools, draw.checks.ent, draw.checks.item)
    for k, tg in enumerate(ctx.targets):
        hit = pools.eligible & ((pools.target_bits >> k) & 1).astype(bool)
        raised = np.zeros(len(pools.uscc), dtype=bool)
        for i in tg.items.tolist():
            raised[pools.pools[i][pools.pool_target[i] == k]] = True
        sel = kept & (c_target == k)
        rows.append(
            {
                "task": tg.spec.name,
                "ratio": tg.spec.ratio,
                "items": ";".join(str(ctx.item_ids[i]) for i in tg.items.tolist()),
                "n_matched": int(hit.sum()),
                "n_raised": int(raised.sum()),
                "n_checks": int(sel.sum()),
                "n_entities_drawn": len(sorted_unique(draw.checks.ent[sel])),
                "n_matched_visited": int((hit & visited).sum()),
            }
        )
    cols = ["task", "ratio", "items", "n_matched", "n_raised", "n_checks",
            "n_entities_drawn", "n_matched_visited"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def cap_removals_frame(
    ctx: DrawContext, pools: EntityPools, draw: Draw, removed: I64
) -> pd.DataFrame:
    """One row per visit the cap removed (the entity keeps its other visits)."""
    cols = ["uscc", "tier", "group", "departments", "items", "reason_code", "detail"]
    if not len(removed):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
    d, n = draw, len(pools.uscc)
    rank_of = np.full(len(d.keep), -1, dtype=np.int64)
    rank_of[removed] = np.arange(len(removed))
    in_removed = rank_of[d.visits.chk_visit] >= 0
    owner = rank_of[d.visits.chk_visit[in_removed]]
    member = d.checks.item[in_removed]
    n_dept, n_items = len(ctx.departments), max(len(ctx.item_ids), 1)
    dcode, dsets = set_codes(owner, ctx.item_dept[member], len(removed), n_dept)
    icode, isets = set_codes(owner, member, len(removed), n_items)
    ent = d.visits.ent[removed]
    n_rem = np.bincount(ent, minlength=n)[ent]
    n_tot = np.bincount(d.visits.ent, minlength=n)[ent]
    used = pools.used[ent]
    cap = pools.remaining[ent] + used
    tier_txt = _TIER_TEXT[pools.tier[ent]]
    detail = [
        f"{r} of {t} drawn visit(s) removed by the tier-{tr} cap of {c} visit(s) "
        f"a year ({u} earlier in {ctx.year}), in the order of a second PRN."
        for r, t, tr, c, u in zip(n_rem, n_tot, tier_txt, cap, used, strict=True)
    ]
    out = pd.DataFrame(
        {
            "uscc": id_texts(pools.uscc[ent]),
            "tier": tier_txt,
            "group": np.array(ctx.visit_groups, dtype=object)[d.visits.group[removed]],
            "departments": _joined(ctx.departments, dsets)[dcode],
            "items": _joined(ctx.item_ids, isets)[icode],
            "reason_code": CAP_TRIMMED,
            "detail": np.array(detail, dtype=object),
        }
    ).astype(dict.fromkeys(cols, "str"))
    return out  # removed is in canonical (uscc, group) order already


def months_frame(ctx: DrawContext, plan: MonthPlan) -> pd.DataFrame:
    """Per (department, month): inspector-slot capacity, demand and visits."""
    return pd.DataFrame(
        {
            "department": np.repeat(np.array(ctx.departments, dtype=object), 12),
            "month": np.tile(MONTHS, len(ctx.departments)),
            "capacity_slots": ctx.capacity.ravel(),
            "demand_slots": plan.load.ravel(),
            "visits": plan.visits.ravel(),
        }
    )


def accounting_frame(
    ctx: DrawContext,
    pools: EntityPools,
    alloc: Allocation,
    draw: Draw,
    kv: KeptVisits,
    c: TaskCounts,
) -> pd.DataFrame:
    """Per tier: input = eligible + excluded (by reason), drawn, visits, ratios.

    ``tier_ratio`` is the policy's ratio (general items); ``entity_target``
    the planned share of the tier's eligible entities visited (mean of each
    entity's largest item probability, mandates included: what ``drawn_share``
    estimates); ``n_assumed_tier`` the entities that got the tier as new
    entities; ``n_multi_visit`` those with more than one visit.
    """
    nt = len(TIERS)
    tcode = pools.tier.astype(np.int64)
    nr = len(EXCLUSION_REASONS) + 1
    joint_counts = np.bincount(
        tcode * nr + (pools.reason.astype(np.int64) + 1), minlength=nt * nr
    ).reshape(nt, nr)
    n_input = joint_counts.sum(axis=1)
    n_elig = joint_counts[:, 0]
    removed = draw.visits.ent[~draw.keep]

    def per_tier(ent: I64) -> I64:
        return np.bincount(tcode[ent], minlength=nt)

    n_drawn = per_tier(sorted_unique(kv.ent))
    n_chk = per_tier(draw.checks.ent[draw.keep[draw.visits.chk_visit]])
    visits_per = np.bincount(kv.ent, minlength=len(pools.uscc))
    r = entity_pi(pools, alloc.pool_pi)
    elig = pools.eligible
    target_sum = np.bincount(tcode[elig], weights=r[elig], minlength=nt)
    pool_t = c.pool.sum(axis=0)
    exp_t = (c.nominal * c.pool).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        target = np.where(pool_t > 0, exp_t / np.maximum(pool_t, 1), np.nan)
        realized = np.where(pool_t > 0, n_chk / np.maximum(pool_t, 1), np.nan)
        share = np.where(n_elig > 0, n_drawn / np.maximum(n_elig, 1), np.nan)
        ent_target = np.where(n_elig > 0, target_sum / np.maximum(n_elig, 1), np.nan)
    acc = pd.DataFrame(
        {
            "tier": list(TIERS),
            "n_input": n_input,
            "n_eligible": n_elig,
            "n_excluded": n_input - n_elig,
            **{
                f"excluded_{code}": joint_counts[:, k + 1]
                for k, code in enumerate(EXCLUSION_REASONS)
            },
            "n_assumed_tier": per_tier(np.flatnonzero(pools.assumed > 0)),
            "n_legacy_id": per_tier(np.flatnonzero(pools.legacy)),
            "n_drawn": n_drawn,
            "n_visits": per_tier(kv.ent),
            "n_multi_visit": per_tier(np.flatnonzero(visits_per > 1)),
            "n_checks": n_chk,
            "n_cap_trimmed": per_tier(sorted_unique(removed)),
            "n_visits_removed": per_tier(removed),
            "tier_ratio": [ctx.policy.ratios[t] for t in TIERS],
            "entity_target": ent_target,
            "drawn_share": share,
            "target_ratio": target,
            "realized_ratio": realized,
        }
    )
    acc = acc[(acc["n_input"] > 0) | acc["tier"].isin(["A", "B", "C", "D"])]
    return acc.reset_index(drop=True)
