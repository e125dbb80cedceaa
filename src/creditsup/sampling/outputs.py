"""Stage 7b: months, tables and the draw ledger, assembled into a DrawResult.

The ledger is the JSON-able record of the draw, one dict per step, in this
order: ``policy``, ``ceiling`` and ``budget`` (when they apply), ``pool``
(eligible entities and their hash), ``starts``, one ``task`` per item,
``coverage`` (when required), ``merge``, ``cap``, ``months``, ``result`` and
``warnings``.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np

from creditsup.config import config_hash
from creditsup.sampling import tables as T
from creditsup.sampling._arrays import jsonable, sha_lines
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.months import MonthPlan, assign_months
from creditsup.sampling.pools import Allocation, Merged
from creditsup.sampling.result import ALGORITHM, DrawResult
from creditsup.sampling.visits import Draw, visit_labels
from creditsup.schemas import EXCLUSION_REASONS, TIERS, table_hash

__all__ = ["build_result"]

logger = logging.getLogger(__name__)
Record = dict[str, Any]


def _head_ledger(
    ctx: DrawContext, pools: EntityPools, alloc: Allocation, draw: Draw
) -> list[Record]:
    """``policy``, ``ceiling``/``budget``, ``pool`` and ``starts``."""
    policy = ctx.policy
    elig = np.flatnonzero(pools.reason < 0)
    pool_hash = hashlib.sha256()
    pool_hash.update("\n".join(pools.uscc[elig].tolist()).encode("utf-8"))
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
            "ratio_mode": policy.ratio_mode,
        },
        *ctx.ledger,
        *alloc.ledger,
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
                "drawn_sha256": sha_lines(pools.uscc[sel].tolist()),
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
    ctx: DrawContext, pools: EntityPools, draw: Draw, plan: MonthPlan
) -> list[Record]:
    """``merge``, ``cap`` and ``months``."""
    policy, vis = ctx.policy, draw.visits
    nv = len(draw.keep)
    removed = np.flatnonzero(~draw.keep)
    labels = visit_labels(pools.uscc, ctx.groups, vis.ent[removed], vis.group[removed])
    n_joint = int((np.bincount(vis.chk_visit, minlength=nv) > 1).sum()) if nv else 0
    return [
        {
            "step": "merge",
            "n_checks": len(draw.checks.ent),
            "n_visits": nv,
            "n_joint_visits": n_joint,
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
            "overloaded": [
                w["binding"] for w in plan.warnings if w["code"] == "capacity_exceeded"
            ],
        },
    ]


def build_result(
    ctx: DrawContext, merged: Merged, alloc: Allocation, draw: Draw
) -> DrawResult:
    """Months, every table and the ledger of a draw."""
    pools = merged.pools
    kv = T.kept_visits(ctx, draw)
    plan = assign_months(
        kv.ent, kv.group, kv.dept_sets, kv.dept_code, pools, ctx, draw.streams
    )
    counts = T.task_counts(ctx, pools, alloc, draw)
    cov_ledger, cov_warnings = _coverage(pools, draw)
    warnings = [
        *merged.warnings,
        *ctx.warnings,
        *alloc.warnings,
        *plan.warnings,
        *cov_warnings,
    ]
    visits = T.visits_frame(ctx, pools, draw, kv, plan.month)
    checks = T.checks_frame(ctx, pools, draw, kv)
    ledger = [
        *_head_ledger(ctx, pools, alloc, draw),
        *_task_ledger(ctx, pools, alloc, draw, counts),
        *cov_ledger,
        *_tail_ledger(ctx, pools, draw, plan),
        {
            "step": "result",
            "n_visits": len(kv.vis),
            "n_joint_visits": int(visits["joint"].sum()),
            "n_checks": len(checks),
            "visits_table_hash": table_hash(visits),
        },
    ]
    if warnings:
        ledger.append({"step": "warnings", "warnings": warnings})
    for w in warnings:
        level = logging.INFO if w["code"] == "ratios_scaled" else logging.WARNING
        logger.log(level, "draw %s: %s", w["code"], w["message"])
    return DrawResult(
        visits=visits,
        exclusions=T.exclusions_frame(pools),
        accounting=T.accounting_frame(pools, draw, kv, counts),
        tasks=T.tasks_frame(ctx, alloc, counts),
        strata=T.strata_frame(ctx, pools, alloc, counts),
        checks=checks,
        cap_removals=T.cap_removals_frame(ctx, pools, draw, np.flatnonzero(~draw.keep)),
        months=T.months_frame(ctx, plan),
        ledger=[jsonable(r) for r in ledger],
        warnings=[jsonable(w) for w in warnings],
        year=ctx.year,
        seed=draw.streams.seed,
        policy=ctx.policy,
    )
