"""Stage 6: a month for every kept visit, balanced against capacity (global).

Visits are grouped by their set of departments (a joint visit needs every
department's inspectors in the same month) and the months their visit group
allows (the policy's ``months``, R16 quiet periods, or a separate group's
own). Largest sets go first; within a set, month counts water-fill the
bottleneck utilisation of the departments (inspector-slots: each department
sends ``max(1, ceil(team_size / k), e)`` inspectors to a visit of ``k``
departments whose items need ``e`` distinct expertise fields of it), and the visits take the months in the order of a third PRN
(``derive_key(seed, year, "month")``) of their ``uscc|group`` label. A visit
never gets a month its group does not allow.

:func:`capacity_needs` then compares, per department and month, the
inspector-slots needed with what the roster offers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from creditsup._random import keyed_uint64
from creditsup.sampling._arrays import F64, I64, MONTHS, B
from creditsup.sampling._prn import largest_remainder, prn_key
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.select import Streams
from creditsup.sampling.visits import visit_labels

__all__ = [
    "MonthPlan",
    "assign_months",
    "capacity_needs",
    "slots_per_visit",
    "waterfill",
]


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


def slots_per_visit(team_size: int, n_departments: int) -> int:
    """Inspectors each department sends to a visit of ``n_departments``.

    Every department sends at least one, and the team has at least
    ``team_size`` (R11: two).

    Examples
    --------
    >>> slots_per_visit(2, 1), slots_per_visit(2, 3), slots_per_visit(4, 3)
    (2, 1, 2)
    """
    return max(1, math.ceil(team_size / max(n_departments, 1)))


def _month_counts(
    n: int, depts: list[int], per_visit: F64, load: F64, cap: F64, allowed: B
) -> tuple[I64, bool]:
    """Visits per month for one set of departments (``per_visit``: the mean
    inspectors each sends to one of these visits); capacity in some month?"""
    c = cap[depts]
    feasible = allowed & (c > 0).all(axis=0)
    counts = np.zeros(12, dtype=np.int64)
    if not feasible.any():
        counts[allowed] = largest_remainder(n, np.ones(int(allowed.sum())))
        return counts, False
    with np.errstate(divide="ignore", invalid="ignore"):
        util = (load[depts] / c).max(axis=0)
        inc = (per_visit[:, None] / c).max(axis=0)
    counts[feasible] = waterfill(n, util[feasible], inc[feasible])
    return counts, True


def _capacity_warnings(no_cap: set[str]) -> list[dict[str, Any]]:
    """``no_capacity``: departments with no inspector in any allowed month.

    Demand above capacity is reported by
    :func:`creditsup.sampling.diagnosis.capacity_report`."""
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
    return warnings


def assign_months(
    vis_ent: I64,
    vis_group: I64,
    vis_depts: list[tuple[int, ...]],
    vis_sig: I64,
    slots: tuple[I64, I64, I64],
    pools: EntityPools,
    ctx: DrawContext,
    streams: Streams,
) -> MonthPlan:
    """Month per kept visit (``vis_sig`` indexes its department set in ``vis_depts``;
    ``vis_group`` its visit group, whose months it keeps); ``slots`` is the long
    form ``(visit, department, inspectors)`` of
    :func:`~creditsup.sampling.tables.visit_slots`."""
    cap = ctx.capacity.astype(np.float64)
    month_sets = sorted(set(ctx.vgroup_months))
    allowed_of = np.zeros((len(month_sets), 12), dtype=bool)
    for k, ms in enumerate(month_sets):
        allowed_of[k, np.array(ms) - 1] = True
    group_ms = np.array(
        [month_sets.index(m) for m in ctx.vgroup_months] or [0], dtype=np.int64
    )
    nd = len(ctx.departments)
    load = np.zeros((nd, 12), dtype=np.float64)
    nvis = np.zeros((nd, 12), dtype=np.int64)
    month = np.zeros(len(vis_ent), dtype=np.int64)
    if not len(vis_ent):
        return MonthPlan(month, load.astype(np.int64), nvis, [])
    labels = visit_labels(pools.uscc, ctx.visit_groups, vis_ent, vis_group)
    mprn = keyed_uint64(labels, prn_key(streams.seed, streams.year, "month"))
    n_ms = len(month_sets)
    combo = vis_sig * n_ms + group_ms[vis_group]
    sizes = np.bincount(combo, minlength=len(vis_depts) * n_ms)
    vd_visit, vd_dept, vd_slots = slots
    by_combo = np.argsort(combo[vd_visit], kind="stable")
    bounds = np.searchsorted(combo[vd_visit][by_combo], np.arange(len(sizes) + 1))
    order = sorted(
        np.flatnonzero(sizes).tolist(),
        key=lambda c: (
            -len(vis_depts[c // n_ms]),
            -int(sizes[c]),
            vis_depts[c // n_ms],
            month_sets[c % n_ms],
        ),
    )
    no_cap: set[str] = set()
    for c in order:
        depts = list(vis_depts[c // n_ms])
        allowed = allowed_of[c % n_ms]
        members = np.flatnonzero(combo == c)
        rows = by_combo[bounds[c] : bounds[c + 1]]
        per_visit = np.bincount(vd_dept[rows], weights=vd_slots[rows], minlength=nd)
        counts, ok = _month_counts(
            len(members), depts, per_visit[depts] / len(members), load, cap, allowed
        )
        if not ok:
            no_cap.update(
                ctx.departments[d] for d in depts if not (cap[d][allowed] > 0).any()
            )
        members = members[np.lexsort((pools.rank[vis_ent[members]], mprn[members]))]
        month[members] = np.repeat(MONTHS, counts)
        np.add.at(load, (vd_dept[rows], month[vd_visit[rows]] - 1), vd_slots[rows])
        np.add.at(nvis, (vd_dept[rows], month[vd_visit[rows]] - 1), 1)
    warnings = _capacity_warnings(no_cap)
    return MonthPlan(month, load.astype(np.int64), nvis, warnings)


def shortfall(ctx: DrawContext, plan: MonthPlan) -> int:
    """Inspector-slots missing over all (department, month) pairs."""
    return int(np.maximum(plan.load - ctx.capacity, 0).sum())


def capacity_needs(ctx: DrawContext, plan: MonthPlan) -> pd.DataFrame:
    """Per department and allowed month: inspector-slots needed and available.

    ``shortfall = max(0, needed - available)``; ``extra_inspectors`` is how
    many more inspectors of the department's median monthly capacity would
    cover it (empty when the department has none to take the median of).

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> ctx = tiny_context()[2]
    >>> plan = MonthPlan(np.zeros(0, np.int64), np.full((2, 12), 5), np.ones((2, 12), np.int64), [])
    >>> capacity_needs(ctx, plan).iloc[0].to_dict()
    {'department': 'food', 'month': 1, 'needed': 5, 'available': 4, 'shortfall': 1, 'visits': 1, 'extra_inspectors': 1}
    """
    months = np.array(ctx.policy.months, dtype=np.int64)
    nd = len(ctx.departments)
    needed = plan.load[:, months - 1].ravel()
    avail = ctx.capacity[:, months - 1].ravel()
    short = np.maximum(needed - avail, 0)
    unit = np.repeat(ctx.unit_capacity, len(months))
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = np.where(unit > 0, np.ceil(short / np.maximum(unit, 1e-9)), np.nan)
    extra = np.where(short > 0, extra, 0.0)
    return pd.DataFrame(
        {
            "department": np.repeat(
                np.array(ctx.departments, dtype=object), len(months)
            ),
            "month": np.tile(months, nd),
            "needed": needed.astype(np.int64),
            "available": avail.astype(np.int64),
            "shortfall": short.astype(np.int64),
            "visits": plan.visits[:, months - 1].ravel().astype(np.int64),
            "extra_inspectors": pd.array(extra, dtype="Int64"),
        }
    ).astype({"department": "str"})
