"""Stage 7c: months, tables and the draw ledger, assembled into a DrawResult.

The ledger is the JSON-able record of the draw, one dict per step, in this
order: ``policy``, ``ceiling`` and ``budget`` (when they apply), ``floors``
(each legal floor, and every waiver with its reason), ``tiers_assumed`` (when
new entities got the policy's tier), ``pool`` (eligible entities and their
hash), ``starts``, one ``targeted`` per targeted draw, one ``task`` per item,
``coverage`` (when required), ``merge`` (with the one-door figures), ``cap``,
``months``, ``capacity``, ``result`` and ``warnings``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from creditsup.config import config_hash
from creditsup.sampling import tables as T
from creditsup.sampling._arrays import hash_ids, jsonable, sha_ids, sha_lines
from creditsup.sampling.budget import CapacityFit
from creditsup.sampling.context import DrawContext
from creditsup.sampling.diagnosis import capacity_report, floors_frame, one_door
from creditsup.sampling.eligibility import ASSUMED_TIER_REASONS, EntityPools
from creditsup.sampling.months import MonthPlan, assign_months, capacity_needs
from creditsup.sampling.pools import Allocation, Merged
from creditsup.sampling.result import ALGORITHM, DrawResult
from creditsup.sampling.visits import Draw, visit_labels
from creditsup.schemas import EXCLUSION_REASONS, TIERS, table_hash

__all__ = ["CHUNK_ROWS", "build_result"]

#: Rows per piece of the checks table sent to a ``checks_sink``.
CHUNK_ROWS = 1 << 21

logger = logging.getLogger(__name__)
Record = dict[str, Any]


def _head_ledger(
    ctx: DrawContext, pools: EntityPools, alloc: Allocation, draw: Draw
) -> list[Record]:
    """``policy``, ``ceiling``/``budget``, ``pool`` and ``starts``."""
    policy = ctx.policy
    elig = np.flatnonzero(pools.reason < 0)
    pool_hash = hashlib.sha256()
    hash_ids(pool_hash, pools.uscc[elig])
    pool_hash.update(b"\x00" + pools.tier[elig].tobytes())
    pool_hash.update(b"\x00" + pools.ks[elig].tobytes())
    counts = np.bincount(
        pools.reason[pools.reason >= 0], minlength=len(EXCLUSION_REASONS)
    )
    starts = draw.streams.start_map
    return [
        {
            "step": "policy",
            "algorithm": ALGORITHM,
            "year": ctx.year,
            "policy_hash": config_hash(policy),
            "coordination": policy.coordination,
            "merge": policy.merge,
            "ratio_mode": policy.ratio_mode,
            "budget": policy.budget,
        },
        *ctx.ledger,
        *alloc.ledger,
        {
            "step": "floors",
            "floors": alloc.floors.records,
            "waivers": alloc.floors.waivers,
        },
        *_assumed_ledger(pools),
        {
            "step": "pool",
            "n_entities": len(pools.uscc),
            "n_eligible": len(elig),
            "pool_sha256": pool_hash.hexdigest(),
            "excluded": {
                code: int(counts[k])
                for k, code in enumerate(EXCLUSION_REASONS)
                if counts[k]
            },
        },
        {
            "step": "starts",
            "coordination": policy.coordination,
            "prn_stream": "derive_key(seed, year, 'prn')",
            "starts": {k: f"{v:016x}" for k, v in sorted(starts.items())},
        },
    ]


def _assumed_ledger(pools: EntityPools) -> list[Record]:
    """``tiers_assumed``: entities that got the policy's tier for new entities."""
    counts = np.bincount(pools.assumed, minlength=len(ASSUMED_TIER_REASONS))
    if not counts[1:].any():
        return []
    ent = np.flatnonzero(pools.assumed > 0)
    return [
        {
            "step": "tiers_assumed",
            "counts": {
                code: int(counts[k])
                for k, code in enumerate(ASSUMED_TIER_REASONS)
                if k and counts[k]
            },
            "assumed_sha256": sha_ids(pools.uscc[ent]),
        }
    ]


def _targeted_ledger(ctx: DrawContext, pools: EntityPools) -> list[Record]:
    """One ``targeted`` record per targeted draw: filter, matches and their hash."""
    out = []
    for k, tg in enumerate(ctx.targets):
        hit = np.flatnonzero(pools.eligible & ((pools.target_bits >> k) & 1 > 0))
        out.append(
            {
                "step": "targeted",
                "task": tg.spec.name,
                "filter": tg.spec.model_dump(mode="json"),
                "items": [str(ctx.item_ids[i]) for i in tg.items.tolist()],
                "n_matched": len(hit),
                "matched_sha256": sha_ids(pools.uscc[hit]),
            }
        )
    return out


def _task_ledger(
    ctx: DrawContext, pools: EntityPools, alloc: Allocation, draw: Draw, c: T.TaskCounts
) -> list[Record]:
    """One ``task`` record per item: pool, expected, drawn and their hash."""
    out = []
    chk = draw.checks
    for i, item_id in enumerate(ctx.item_ids.tolist()):
        sel = chk.ent[(chk.item == i) & ~chk.cov]
        sel = sel[np.argsort(pools.rank[sel], kind="stable")]
        out.append(
            {
                "step": "task",
                "item_id": str(item_id),
                "department": ctx.departments[ctx.item_dept[i]],
                "group": ctx.groups[ctx.item_group[i]],
                "method": "srswor" if alloc.stratum_n[i] is not None else "poisson",
                "pool": {
                    t: int(c.pool[i, j]) for j, t in enumerate(TIERS) if c.pool[i, j]
                },
                "expected": round(float(c.expected[i].sum()), 6),
                "drawn": {
                    t: int(c.drawn[i, j]) for j, t in enumerate(TIERS) if c.drawn[i, j]
                },
                "drawn_sha256": sha_ids(pools.uscc[sel]),
            }
        )
    return out


def _coverage(pools: EntityPools, draw: Draw) -> tuple[list[Record], list[Record]]:
    """The ``coverage`` record and the ``coverage_unmet`` warning, if any."""
    if not pools.required.any():
        return [], []
    unmet = draw.checks.unmet
    reason = pools.reason[unmet]
    by_reason = {
        EXCLUSION_REASONS[k]: int((reason == k).sum())
        for k in sorted(set(reason.tolist()))
        if k >= 0
    }
    record = {
        "step": "coverage",
        "required": int(pools.required.sum()),
        "added": int(draw.checks.cov.sum()),
        "unmet": len(unmet),
        "unmet_by_reason": by_reason,
    }
    if not len(unmet):
        return [record], []
    warning = {
        "code": "coverage_unmet",
        "message": f"{len(unmet)} entity(ies) required by the "
        "minimum-coverage rule cannot be visited: "
        + ", ".join(f"{k} {v}" for k, v in by_reason.items()),
        "count": len(unmet),
    }
    return [record], [warning]


def _tail_ledger(
    ctx: DrawContext, pools: EntityPools, draw: Draw, plan: MonthPlan, door: Record
) -> list[Record]:
    """``merge``, ``cap`` and ``months``."""
    policy, vis = ctx.policy, draw.visits
    nv = len(draw.keep)
    removed = np.flatnonzero(~draw.keep)
    labels = visit_labels(
        pools.uscc, ctx.visit_groups, vis.ent[removed], vis.group[removed]
    )
    n_joint = int((np.bincount(vis.chk_visit, minlength=nv) > 1).sum()) if nv else 0
    return [
        {
            "step": "merge",
            "n_checks": len(draw.checks.ent),
            "n_visits": nv,
            "n_joint_visits": n_joint,
            "visit_groups": ctx.visit_groups,
            **door,
        },
        {
            "step": "cap",
            "caps": {t: policy.cap_of(t) for t in TIERS},
            "exempt_triggers": list(policy.exempt_triggers),
            "n_visits_removed": len(removed),
            "n_entities_trimmed": len(np.unique(vis.ent[removed])),
            "removed_sha256": sha_lines(sorted(labels.tolist())),
        },
        {
            "step": "months",
            "months": list(policy.months),
            "team_size": policy.team_size,
            "demand_slots": {
                dep: int(plan.load[k].sum()) for k, dep in enumerate(ctx.departments)
            },
            "capacity_slots": {
                dep: int(ctx.capacity[k].sum()) for k, dep in enumerate(ctx.departments)
            },
        },
    ]


def build_result(
    ctx: DrawContext,
    merged: Merged,
    alloc: Allocation,
    draw: Draw,
    fit: CapacityFit,
    *,
    checks_sink: Callable[[pd.DataFrame], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> DrawResult:
    """Months, every table and the ledger of a draw.

    ``checks_sink``: the checks table goes to it in consecutive pieces of at
    most ``chunk_rows`` rows (their concatenation is the table), and the
    result's ``checks`` keeps the columns but no row.
    """
    pools = merged.pools
    kv = T.kept_visits(ctx, draw)
    plan = assign_months(
        kv.ent,
        kv.group,
        kv.dept_sets,
        kv.dept_code,
        (kv.vd_visit, kv.vd_dept, kv.vd_slots),
        pools,
        ctx,
        draw.streams,
    )
    counts = T.task_counts(ctx, pools, alloc, draw)
    cov_ledger, cov_warnings = _coverage(pools, draw)
    floors, floor_warnings = floors_frame(ctx, pools, alloc, draw, kv)
    door, door_warnings = one_door(ctx, pools, kv)
    needs = capacity_needs(ctx, plan)
    warnings = [
        *merged.warnings,
        *ctx.warnings,
        *alloc.warnings,
        *plan.warnings,
        *capacity_report(needs, fit),
        *cov_warnings,
        *floor_warnings,
        *door_warnings,
    ]
    visits = T.visits_frame(ctx, pools, draw, kv, plan.month)
    if checks_sink is None:
        checks = T.checks_frame(ctx, pools, draw, kv)
    else:
        for piece in T.checks_chunks(ctx, pools, draw, kv, chunk_rows):
            checks_sink(piece)
            # no row, and no view of the piece's buffers (an empty slice keeps them)
            checks = pd.DataFrame(
                {c: pd.Series([], dtype=t) for c, t in piece.dtypes.items()}
            )
    ledger = [
        *_head_ledger(ctx, pools, alloc, draw),
        *_targeted_ledger(ctx, pools),
        *_task_ledger(ctx, pools, alloc, draw, counts),
        *cov_ledger,
        *_tail_ledger(ctx, pools, draw, plan, door),
        {
            **fit.record(),
            "needed_slots": int(needs["needed"].sum()),
            "available_slots": int(needs["available"].sum()),
            "shortfall": [
                [str(d), int(m), int(n), int(a)]
                for d, m, n, a in needs.loc[
                    needs["shortfall"] > 0,
                    ["department", "month", "needed", "available"],
                ].itertuples(index=False)
            ],
        },
        {
            "step": "result",
            "n_visits": len(kv.vis),
            "n_joint_visits": int(visits["joint"].sum()),
            "n_checks": len(kv.chk),
            "visits_table_hash": table_hash(visits),
        },
    ]
    if warnings:
        ledger.append({"step": "warnings", "warnings": warnings})
    for w in warnings:
        logger.warning("draw %s: %s", w["code"], w["message"])
    return DrawResult(
        visits=visits,
        exclusions=T.exclusions_frame(pools),
        accounting=T.accounting_frame(ctx, pools, alloc, draw, kv, counts),
        tasks=T.tasks_frame(ctx, alloc, counts),
        strata=T.strata_frame(ctx, pools, alloc, counts),
        checks=checks,
        cap_removals=T.cap_removals_frame(ctx, pools, draw, np.flatnonzero(~draw.keep)),
        months=T.months_frame(ctx, plan),
        capacity_needs=needs,
        floors=floors,
        waivers=[jsonable(w) for w in alloc.floors.waivers],
        budget=jsonable({k: v for k, v in fit.record().items() if k != "step"}),
        assumed_tiers=T.assumed_tiers_frame(ctx, pools),
        targeted=T.targeted_frame(ctx, pools, draw, kv),
        ledger=[jsonable(r) for r in ledger],
        warnings=[jsonable(w) for w in warnings],
        year=ctx.year,
        seed=draw.streams.seed,
        policy=ctx.policy,
    )
