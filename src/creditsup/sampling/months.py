"""Stage 6: a month for every kept visit, balanced against capacity (global).

Visits are grouped by their set of departments (a joint visit needs every
department's inspectors in the same month). Largest sets go first; within a
set, month counts water-fill the bottleneck utilisation of the departments
(inspector-slots: ``team_size`` shared over the departments), and the visits
take the months in the order of a third PRN
(``derive_key(seed, year, "month")``) of their ``uscc|group`` label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from creditsup._random import keyed_uint64
from creditsup.sampling._arrays import F64, I64, MONTHS, B
from creditsup.sampling._prn import largest_remainder, prn_key
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.select import Streams
from creditsup.sampling.visits import visit_labels

__all__ = ["MonthPlan", "assign_months", "waterfill"]


def waterfill(n: int, util: F64, inc: F64) -> I64:
    """Integer counts per month that equalise the bottleneck utilisation.

    Examples
    --------
    >>> waterfill(4, np.array([0.0, 0.5, 0.0]), np.array([0.25, 0.25, 0.25])).tolist()
    [2, 0, 2]
    """
    m = len(util)
    if n <= 0 or m == 0:
        return np.zeros(m, dtype=np.int64)
    lo = float(util.min())
    hi = float((util + n * inc).max())
    for _ in range(100):
        mid = (lo + hi) / 2
        if float(np.maximum(0.0, (mid - util) / inc).sum()) < n:
            lo = mid
        else:
            hi = mid
    x = np.maximum(0.0, (hi - util) / inc)
    return largest_remainder(n, x) if x.sum() > 0 else largest_remainder(n, np.ones(m))


@dataclass(frozen=True)
class MonthPlan:
    """Month per visit; inspector-slot demand and visits per (department, month)."""

    month: I64
    load: I64
    visits: I64
    warnings: list[dict[str, Any]]


def _month_counts(
    n: int, depts: list[int], load: F64, cap: F64, allowed: B, team_size: int
) -> tuple[I64, int, bool]:
    """Visits per month for one set of departments; slots per visit; capacity?"""
    q = max(1, math.ceil(team_size / len(depts)))
    c = cap[depts]
    feasible = allowed & (c > 0).all(axis=0)
    counts = np.zeros(12, dtype=np.int64)
    if not feasible.any():
        counts[allowed] = largest_remainder(n, np.ones(int(allowed.sum())))
        return counts, q, False
    with np.errstate(divide="ignore", invalid="ignore"):
        util = (load[depts] / c).max(axis=0)
        inc = (q / c).max(axis=0)
    counts[feasible] = waterfill(n, util[feasible], inc[feasible])
    return counts, q, True


def _capacity_warnings(
    ctx: DrawContext, load: F64, cap: F64, no_cap: set[str]
) -> list[dict[str, Any]]:
    warnings: list[dict[str, Any]] = []
    if no_cap:
        warnings.append(
            {
                "code": "no_capacity",
                "message": "No active inspector capacity in the allowed months for "
                "department(s) " + ", ".join(sorted(no_cap)) + "; their visits are "
                "spread evenly over the allowed months.",
                "departments": sorted(no_cap),
            }
        )
    over = np.argwhere(load > cap)
    if len(over):
        binding = [
            {
                "group": f"department {ctx.departments[d]}, month {m + 1}",
                "needed": int(load[d, m]),
                "available": int(cap[d, m]),
            }
            for d, m in over
        ]
        warnings.append(
            {
                "code": "capacity_exceeded",
                "message": f"Demand exceeds inspector capacity in {len(binding)} "
                "department-month(s) (inspector-slots: team of "
                f"{ctx.policy.team_size}); assignment will report unfilled visits.",
                "binding": binding,
            }
        )
    return warnings


def assign_months(
    vis_ent: I64,
    vis_group: I64,
    vis_depts: list[tuple[int, ...]],
    vis_sig: I64,
    pools: EntityPools,
    ctx: DrawContext,
    streams: Streams,
) -> MonthPlan:
    """Month per kept visit (``vis_sig`` indexes its department set in ``vis_depts``)."""
    cap = ctx.capacity.astype(np.float64)
    allowed = np.zeros(12, dtype=bool)
    allowed[np.array(ctx.policy.months) - 1] = True
    load = np.zeros((len(ctx.departments), 12), dtype=np.float64)
    nvis = np.zeros((len(ctx.departments), 12), dtype=np.int64)
    month = np.zeros(len(vis_ent), dtype=np.int64)
    if not len(vis_ent):
        return MonthPlan(month, load.astype(np.int64), nvis, [])
    labels = visit_labels(pools.uscc, ctx.groups, vis_ent, vis_group)
    mprn = keyed_uint64(labels, prn_key(streams.seed, streams.year, "month"))
    sig_sizes = np.bincount(vis_sig, minlength=len(vis_depts))
    order = sorted(
        range(len(vis_depts)),
        key=lambda s: (-len(vis_depts[s]), -int(sig_sizes[s]), vis_depts[s]),
    )
    no_cap: set[str] = set()
    for s in order:
        depts = list(vis_depts[s])
        members = np.flatnonzero(vis_sig == s)
        if not len(members):
            continue
        counts, q, ok = _month_counts(
            len(members), depts, load, cap, allowed, ctx.policy.team_size
        )
        if not ok:
            no_cap.update(
                ctx.departments[d] for d in depts if not (cap[d][allowed] > 0).any()
            )
        members = members[np.lexsort((pools.rank[vis_ent[members]], mprn[members]))]
        month[members] = np.repeat(MONTHS, counts)
        rows = np.array(depts, dtype=np.int64)
        load[rows] += q * counts[None, :]
        nvis[rows] += counts[None, :]
    warnings = _capacity_warnings(ctx, load, cap, no_cap)
    return MonthPlan(month, load.astype(np.int64), nvis, warnings)
