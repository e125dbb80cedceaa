"""The draw (the first "random" of 双随机): what bureaus mean by it.

:func:`draw_visits` decides which entities are inspected in a year, by which
departments, for which check items, and in which month:

1. **Tier ratios are shares of entities.** Each entity gets one permanent
   random number ``u = keyed_uniform(uscc, derive_key(seed, year, "prn"))``
   and every item of every department reads it: item ``i`` checks the
   entity iff ``u < pi_i`` (its ratio for the entity's tier; key items for
   D at 100 %, R23). Per-item ratios keep their meaning (R07), and an
   entity's chance of a visit is its largest item ratio: the tier ratio
   under the default policy. ``coordination`` offers the spreading modes.
2. **Legal floors are constraints** (R08, R23): a policy whose ratios
   plan fewer than 5 % of eligible entities, 3 % of enterprises with a
   publicity check, or key items for D below 100 %, is refused unless it
   waives the floor with a reason (recorded in the ledger).
3. **One door per entity** (R14): an entity's checks in the year, across
   departments, form one visit, apart from declared ``separate`` groups.
4. **Capacity is checked**: inspector-slots needed per department and month
   against the roster (``capacity_needs``); a shortfall is reported with
   the factor that would fit, or fitted with ``budget = "capacity"``, never
   below the floors.
5. **Every entity has a tier** (new entities get ``new_entity_tier``),
   **anomaly-forced targeted draws** (C2, R09) ride on the same visits,
   caps (R15) hold, months stay within the allowed ones (R16), and legacy
   registration numbers are flagged (``id_kind``).

The package is a chain of stage modules, in the order the data flows
(per slice: can run on any partition of the entities; global: merges):

* :mod:`~creditsup.sampling.policy` -- :class:`SamplingPolicy`;
* :mod:`~creditsup.sampling.context` -- items, visit groups, ratios,
  targeted filters, tiers, history, capacity (global);
* :mod:`~creditsup.sampling.eligibility` -- tiers, exclusions, pools (per slice);
* :mod:`~creditsup.sampling.pools`, :mod:`~creditsup.sampling.floors` --
  merge, legal floors, budget share, SRSWOR sizes (global);
* :mod:`~creditsup.sampling.select` -- PRNs and selection (per slice);
* :mod:`~creditsup.sampling.visits` -- SRSWOR cut, coverage, visits, cap (global);
* :mod:`~creditsup.sampling.budget` -- capacity check and fit (global);
* :mod:`~creditsup.sampling.months` -- months and capacity needs (global);
* :mod:`~creditsup.sampling.tables`, :mod:`~creditsup.sampling.diagnosis`,
  :mod:`~creditsup.sampling.outputs` -- result tables, floors realised, ledger;
* :mod:`~creditsup.sampling.estimate` -- Monte Carlo inclusion probabilities;
* :mod:`~creditsup.sampling.pipeline`, :mod:`~creditsup.sampling.draw` -- the
  stages in order, :func:`draw_visits` and :func:`draw_partitioned`.

See ``docs/sampling.md`` for the meaning of the numbers, with a worked example.
"""

from __future__ import annotations

from creditsup.sampling.draw import draw_partitioned, draw_visits
from creditsup.sampling.estimate import estimate_inclusion
from creditsup.sampling.industry import industry_matches, normalize_industry
from creditsup.sampling.policy import (
    Floors,
    SamplingPolicy,
    SeparateVisit,
    TargetedDraw,
)
from creditsup.sampling.result import ALGORITHM, CAP_TRIMMED, DrawResult
from creditsup.schemas import EXCLUSION_REASONS, TIERS

__all__ = [
    "ALGORITHM",
    "CAP_TRIMMED",
    "EXCLUSION_REASONS",
    "TIERS",
    "DrawResult",
    "Floors",
    "SamplingPolicy",
    "SeparateVisit",
    "TargetedDraw",
    "draw_partitioned",
    "draw_visits",
    "estimate_inclusion",
    "industry_matches",
    "normalize_industry",
]
