"""The coordinated, tier-stratified random draw (the first "random" of 双随机).

:func:`draw_visits` decides which entities are inspected in a year, by which
departments, for which check items, and in which month:

1. **Tasks.** Every check item is a task. Its pool is the set of eligible
   entities in its scope (``entity_types``, ``industries``) at plan time (R07);
   its ratio per tier comes from :class:`SamplingPolicy` (``ratios`` for general
   items, ``key_ratios`` for key items), unless the item overrides it
   (``ratio_A`` ... ``ratio_E``). General items are clamped by
   ``ratio_ceiling``; key items and key-supervision entities are not (R03, R23).
2. **Permanent random numbers.** Each entity gets
   ``u = keyed_uniform(uscc, derive_key(seed, year, "prn"))``: a keyed SipHash of
   the USCC, so the draw depends only on the seed string, the year and the
   entity, never on row order or partitioning.
3. **Coordination by start points.** Items of one joint group (or, without a
   group, of one department) share a start point ``s_g``; different groups get
   evenly spaced start points. Unit ``k`` is drawn for an item of group ``g``
   iff ``frac(u_k + s_g) < pi`` (Poisson-PRN, for ratios), or when
   ``frac(u_k + s_g)`` is among the ``n`` smallest of its stratum (sequential
   SRSWOR-PRN, for fixed counts). The same start within a group merges the
   departments' checks into one visit (R14); spread starts across groups
   spread the burden.
4. **Merge and cap.** A visit is one (entity, group) pair. Visits beyond the
   tier's annual cap (R15; earlier non-exempt visits of the same year count)
   are removed in the order of a second PRN, general visits before key ones.
5. **Coverage and months.** Optional minimum coverage (every D entity, every
   key-supervision entity); months are balanced against each department's
   inspector capacity.

The package is a chain of stage modules, in the order the data flows
(per slice: can run on any partition of the entities; global: merges):

* :mod:`~creditsup.sampling.policy` -- :class:`SamplingPolicy`;
* :mod:`~creditsup.sampling.context` -- items, ratios, tiers, history (global);
* :mod:`~creditsup.sampling.eligibility` -- exclusions and pools (per slice);
* :mod:`~creditsup.sampling.pools` -- merge, budget, SRSWOR sizes (global);
* :mod:`~creditsup.sampling.select` -- PRNs and selection (per slice);
* :mod:`~creditsup.sampling.visits` -- SRSWOR cut, coverage, visits, cap (global);
* :mod:`~creditsup.sampling.months` -- months against capacity (global);
* :mod:`~creditsup.sampling.tables`, :mod:`~creditsup.sampling.outputs` --
  result tables and ledger;
* :mod:`~creditsup.sampling.estimate` -- Monte Carlo inclusion probabilities;
* :mod:`~creditsup.sampling.pipeline`, :mod:`~creditsup.sampling.draw` -- the
  stages in order, :func:`draw_visits` and :func:`draw_partitioned`.

See ``docs/sampling.md`` for which method is used where, and why.
"""

from __future__ import annotations

from creditsup.sampling.draw import draw_partitioned, draw_visits
from creditsup.sampling.estimate import estimate_inclusion
from creditsup.sampling.industry import industry_matches, normalize_industry
from creditsup.sampling.policy import SamplingPolicy
from creditsup.sampling.result import CAP_TRIMMED, DrawResult
from creditsup.schemas import EXCLUSION_REASONS, TIERS

__all__ = [
    "CAP_TRIMMED",
    "EXCLUSION_REASONS",
    "TIERS",
    "DrawResult",
    "SamplingPolicy",
    "draw_partitioned",
    "draw_visits",
    "estimate_inclusion",
    "industry_matches",
    "normalize_industry",
]
