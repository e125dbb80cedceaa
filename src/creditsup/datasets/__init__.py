"""A realistic synthetic district to try the library on.

:func:`synthetic_tables` builds the six raw tables of the data contract
(``contract.md`` §1) for a synthetic market-supervision district modelled on
Xinzhou (忻州市, Shanxi): its 15 county-level divisions, individual businesses
as the majority, GB/T 4754-2017 industries, ten checking departments with a
44-item check list, an inspector pool and a few years of credit records and
past inspections. :func:`synthetic_district` validates them into a
:class:`~creditsup.schemas.Dataset`.

How the data hang together
--------------------------
Every entity has a hidden, standard-normal *latent risk* ``s``, built from
its type, industry, age, capital, relationships (a shared legal
representative, a cluster-registration address) and noise. Every credit record
and every inspection outcome is drawn with a rate that rises (or, for honours,
falls) with ``s``, so that a sensible scorecard recovers roughly 20 / 60 / 15
/ 5 % of entities in tiers A-D, and the problem rate of past inspections rises
with the tier. The records are consistent with each other: missing annual
reports put entities on the abnormal list, three unrestored years there move
enterprises to the serious-illegal list (R21, domain §c), inspections that
found the entity unreachable list it as abnormal (R20), and problems found
produce ``check_problem`` records and sometimes penalties.

Dates: all facts are dated on or before 31 March of ``year`` (the
*snapshot*), as if the annual plan of ``year`` were drawn in April. Credit
records cover ``max(5, history_years)`` years before ``year``; history covers
``history_years`` full years plus January to March of ``year``.

Units and codes: ``registered_capital`` is in yuan (CNY); ``severity`` of a
penalty is an ordinal 1 (minor: 3-month publicity, R21), 2 (ordinary) or 3
(serious, may lead to the serious-illegal list); ``value`` holds the tax level
for ``tax_credit``, the report year for annual-report records, the honour for
``honor`` and the inspection result for ``check_problem``; ``source`` is a
department id (or ``12315`` for complaints).

Relationships: about 4 % of entities belong to groups sharing one legal
representative (always in one region, often at one address), and some
enterprises sit at cluster-registration addresses with ~20 firms each (C2).
Names of people are drawn from common surnames, so unrelated entities may
share a ``legal_rep`` name too: key relationships on ``(legal_rep, region)``.
The latent risk itself is hidden unless ``include_latent=True``
(``entities._latent_risk``).

All randomness flows from the seed string through
:func:`creditsup._random.stage_rng`, one stream per part, so the output is
identical for identical arguments. Everything is vectorised: one million
entities take about ten seconds.

The stages are private modules, run by :func:`synthetic_tables` in order:
``_entities`` (types, places, ages, capital, relationships, USCCs, latent
risk; names and addresses from ``_naming``) -> ``_scope`` (which items and
departments apply) -> ``_records`` (credit records, then the final status)
-> ``_inspectors`` (the pool) -> ``_history`` (past visits, adding their
follow-up records) -> ``_conflicts`` (conflicts of interest) -> ``_tables``
(assembly). Static data live in ``_catalog`` and ``_items``; vectorised
helpers in ``_arrays``.
"""

from __future__ import annotations

from creditsup.datasets._catalog import ENTITY_TYPE_SHARES
from creditsup.datasets._scope import min_inspectors
from creditsup.datasets._tables import (
    synthetic_district,
    synthetic_tables,
    write_synthetic_district,
)

__all__ = [
    "ENTITY_TYPE_SHARES",
    "min_inspectors",
    "synthetic_district",
    "synthetic_tables",
    "write_synthetic_district",
]
