"""Stage 5b: the capacity check and ``budget = "capacity"`` (global, seeded).

The inspector-slots a draw needs per department and month (after the month
stage) are compared with what the roster offers. A shortfall is never
silent:

* ``budget = "none"`` (default): the draw is kept; the shortfall is
  reported (``capacity_needs``, a ``capacity_shortfall`` warning and the
  ledger), and so is the factor on the discretionary ratios that would fit
  (the plan stage exits 3 with this diagnosis);
* ``budget = "capacity"``: the discretionary ratios are scaled down by the
  largest factor that fits, never below the legal floors
  (:func:`~creditsup.sampling.floors.floor_scale`); the factor is recorded.

Scaling keeps the draw coordinated: on the same permanent random numbers a
smaller factor draws a subset of the checks, so the factor is found by
bisection on the draw itself (its realised demand), deterministically from
the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from creditsup.sampling.months import MonthPlan, assign_months, shortfall
from creditsup.sampling.pipeline import Design, Mapper, draw_once, serial
from creditsup.sampling.pools import Allocation, with_scale
from creditsup.sampling.tables import kept_visits
from creditsup.sampling.visits import Draw

__all__ = ["CapacityFit", "final_draw", "month_plan"]

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


def month_plan(design: Design, draw: Draw) -> MonthPlan:
    """The month stage on a draw (what the capacity check reads)."""
    kv = kept_visits(design.ctx, draw)
    return assign_months(
        kv.ent,
        kv.group,
        kv.dept_sets,
        kv.dept_code,
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
    budget, floor = ctx.policy.budget, base.min_scale
    draw = draw_once(design, seed, mapper=mapper)
    fitting = budget == "capacity" or diagnose
    missing = shortfall(ctx, month_plan(design, draw)) if fitting else 0
    if missing == 0 or not fitting or base.scale < 1.0:
        # fits, not asked, or already scaled by budget = "share"
        return draw, base, CapacityFit(budget, base.scale, None, floor, missing, None)
    pools = design.pools
    low_alloc = with_scale(pools, ctx, base, floor)
    at_floor, low_draw = _short(design, seed, low_alloc, mapper)
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
