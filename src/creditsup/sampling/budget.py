"""Stage 5b: the capacity check and ``budget = "capacity"`` (global, seeded).

The inspector-slots a draw needs per department and month (after the month
stage) are compared with what the roster offers. A shortfall is never
silent:

* ``budget = "none"`` (default): the draw is kept; the shortfall is
  reported (``capacity_needs``, a ``capacity_shortfall`` warning and the
  ledger), and so is the factor on the discretionary ratios that would fit
  (the plan stage exits 3 with this diagnosis);
* ``budget = "capacity"``: the discretionary ratios are scaled down by the
  largest factor that fits, never below the legal floors; the factor is
  recorded. The floors hold in the draw itself, not only on average: the
  lowest factor is the smallest at which the realised shares meet them
  (:func:`realized_floors`), at least the planned one
  (:func:`~creditsup.sampling.floors.floor_scale`).

Scaling keeps the draw coordinated: on the same permanent random numbers a
smaller factor draws a subset of the checks, so the factor is found by
bisection on the draw itself (its realised demand), deterministically from
the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.floors import FloorCheck
from creditsup.sampling.months import MonthPlan, assign_months, shortfall
from creditsup.sampling.pipeline import Design, Mapper, draw_once, serial
from creditsup.sampling.policy import KEY_FLOOR_TIERS
from creditsup.sampling.pools import Allocation, with_scale
from creditsup.sampling.tables import KeptVisits, kept_visits
from creditsup.sampling.visits import Draw
from creditsup.schemas import TIERS

__all__ = ["CapacityFit", "final_draw", "month_plan", "realized_floors"]

#: Bisection steps on the budget factor (precision 2**-16 of the range).
_STEPS = 16


@dataclass(frozen=True)
class CapacityFit:
    """How the draw meets the roster.

    ``scale``: the factor applied to the discretionary ratios (1: none);
    ``fit_scale``: the largest factor at which no department-month lacks
    capacity (``None`` when the full draw fits, or when even the floors do
    not); ``floor_scale``: the factor at the legal floors;
    ``shortfall_slots``: inspector-slots missing in the final draw, and
    ``shortfall_at_floors`` those missing at the floors.
    """

    budget: str
    scale: float
    fit_scale: float | None
    floor_scale: float
    shortfall_slots: int
    shortfall_at_floors: int | None

    def record(self) -> dict[str, Any]:
        """The ``capacity`` ledger record."""
        return {
            "step": "capacity",
            "budget": self.budget,
            "scale": round(self.scale, 9),
            "fit_scale": None if self.fit_scale is None else round(self.fit_scale, 9),
            "floor_scale": round(self.floor_scale, 9),
            "shortfall_slots": self.shortfall_slots,
            "shortfall_at_floors": self.shortfall_at_floors,
        }


def realized_floors(
    ctx: DrawContext, pools: EntityPools, draw: Draw, kv: KeptVisits
) -> dict[str, float]:
    """Each floor's value in a draw (kept checks only): the share of eligible
    entities visited, of eligible enterprises with a publicity check, and of
    tier D/E key-item pool members checked."""
    n = len(pools.uscc)
    visited = np.zeros(n, dtype=bool)
    visited[kv.ent] = True
    elig, ent = pools.eligible, pools.eligible & pools.enterprise
    kept = draw.keep[draw.visits.chk_visit]
    c_ent, c_item = draw.checks.ent[kept], draw.checks.item[kept]
    pub = np.zeros(n, dtype=bool)
    pub[c_ent[ctx.item_publicity[c_item]]] = True
    hi = np.isin(pools.tier, [TIERS.index(t) for t in KEY_FLOOR_TIERS])
    key_pool, key_done = 0, 0
    for i in np.flatnonzero(ctx.item_key).tolist():
        members = pools.pools[i][hi[pools.pools[i]]]
        key_pool += len(members)
        done = np.zeros(n, dtype=bool)
        done[c_ent[c_item == i]] = True
        key_done += int(done[members].sum())
    return {
        "overall": float(visited[elig].mean()) if elig.any() else 0.0,
        "publicity": float(pub[ent].mean()) if ent.any() else 0.0,
        "key_d": key_done / key_pool if key_pool else 1.0,
    }


def _meets(design: Design, draw: Draw, floors: FloorCheck) -> bool:
    """Whether a draw meets, as realised, every floor that applies."""
    got = realized_floors(design.ctx, design.pools, draw, kept_visits(design.ctx, draw))
    return all(
        got[name] >= need - 1e-12
        for name in ("overall", "publicity")
        if (need := floors.required(name)) is not None
    )


def _floor_factor(
    design: Design, seed: str, mapper: Mapper
) -> tuple[float, Allocation, Draw]:
    """The smallest factor whose draw meets the floors as realised."""
    ctx, base, pools = design.ctx, design.alloc, design.pools
    lo = base.min_scale
    lo_alloc = with_scale(pools, ctx, base, lo)
    lo_draw = draw_once(design, seed, mapper=mapper, alloc=lo_alloc)
    if _meets(design, lo_draw, base.floors):
        return lo, lo_alloc, lo_draw
    hi, hi_alloc = 1.0, base
    hi_draw = draw_once(design, seed, mapper=mapper)
    if not _meets(design, hi_draw, base.floors):
        return hi, hi_alloc, hi_draw  # unlucky even at full ratios: keep them
    for _ in range(_STEPS):
        mid = (lo + hi) / 2
        mid_alloc = with_scale(pools, ctx, base, mid)
        mid_draw = draw_once(design, seed, mapper=mapper, alloc=mid_alloc)
        if _meets(design, mid_draw, base.floors):
            hi, hi_alloc, hi_draw = mid, mid_alloc, mid_draw
        else:
            lo = mid
    return hi, hi_alloc, hi_draw


def month_plan(design: Design, draw: Draw) -> MonthPlan:
    """The month stage on a draw (what the capacity check reads)."""
    kv = kept_visits(design.ctx, draw)
    return assign_months(
        kv.ent,
        kv.group,
        kv.dept_sets,
        kv.dept_code,
        (kv.vd_visit, kv.vd_dept, kv.vd_slots),
        design.pools,
        design.ctx,
        draw.streams,
    )


def _short(
    design: Design, seed: str, alloc: Allocation, mapper: Mapper
) -> tuple[int, Draw]:
    draw = draw_once(design, seed, mapper=mapper, alloc=alloc)
    return shortfall(design.ctx, month_plan(design, draw)), draw


def final_draw(
    design: Design, seed: str, *, mapper: Mapper = serial, diagnose: bool = True
) -> tuple[Draw, Allocation, CapacityFit]:
    """The draw under the policy's budget, and how it meets the roster.

    ``diagnose=False`` skips the search for the fitting factor when the
    budget is not ``"capacity"`` (what Monte Carlo re-draws need).
    """
    ctx, base = design.ctx, design.alloc
    budget = ctx.policy.budget
    draw = draw_once(design, seed, mapper=mapper)
    fitting = budget == "capacity" or diagnose
    missing = shortfall(ctx, month_plan(design, draw)) if fitting else 0
    if missing == 0 or not fitting or base.scale < 1.0:
        # fits, not asked, or already scaled by budget = "share"
        return (
            draw,
            base,
            CapacityFit(budget, base.scale, None, base.min_scale, missing, None),
        )
    pools = design.pools
    floor, low_alloc, low_draw = _floor_factor(design, seed, mapper)
    at_floor = shortfall(ctx, month_plan(design, low_draw))
    fit: float | None = None
    if at_floor == 0:
        lo, hi = floor, 1.0  # lo fits, hi does not
        lo_draw, lo_alloc = low_draw, low_alloc
        for _ in range(_STEPS):
            mid = (lo + hi) / 2
            mid_alloc = with_scale(pools, ctx, base, mid)
            short, mid_draw = _short(design, seed, mid_alloc, mapper)
            if short == 0:
                lo, lo_draw, lo_alloc = mid, mid_draw, mid_alloc
            else:
                hi = mid
        fit = lo
    if budget != "capacity":
        return draw, base, CapacityFit(budget, 1.0, fit, floor, missing, at_floor)
    if fit is None:  # even the floors do not fit: keep them, report the rest
        return (
            low_draw,
            low_alloc,
            CapacityFit(budget, floor, None, floor, at_floor, at_floor),
        )
    return lo_draw, lo_alloc, CapacityFit(budget, fit, fit, floor, 0, at_floor)
