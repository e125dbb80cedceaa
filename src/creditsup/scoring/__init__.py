"""Credit risk scoring: a declarative, explainable, restoration-aware scorecard.

A :class:`Scorecard` is a frozen list of :class:`Indicator` objects. Each
indicator measures one statistic of an entity *as of a date* (a count of
records of some kinds in a look-back window, the gravest severity, the latest
tax credit level, the entity's age, how many other entities share its
address, ...), puts it in a bin and gives the bin its points. The score is
``base_points`` plus the sum of the indicators' points: **higher means riskier**
(tier D is the top tier). Every point is explainable: :func:`score_entities`
returns one ``pts_<indicator>`` column per indicator (domain.md §c, C4).

As-of semantics (no leakage from the future)
--------------------------------------------
A record counts as of ``T`` when all of these hold:

* ``date <= T`` and, when the indicator has a look-back window of ``L`` days,
  ``date > T - L``;
* it has not ended: ``not (end <= T)``, where ``end`` is the earlier of
  ``end_date`` and the default publicity end of its kind (R21: 3 months for a
  minor penalty, 3 years otherwise; 3 years for the serious-illegal list). The
  default period is an upper bound because an ``end_date`` later than ``T``
  is not yet known at ``T``;
* it has not been restored (信用修复): ``not (restored_on <= T)``.

History (past inspections) counts when ``date <= T``; entities count when
``established <= T``. Entities established after ``T`` are not scored. So
scoring as of ``T`` a dataset that also holds later rows gives exactly the
result of scoring :meth:`creditsup.schemas.Dataset.cut` at ``T``.

The built-in profiles live in ``creditsup/profiles/*.toml`` (the default,
``national``, is documented indicator by indicator in ``docs/scorecard.md``);
:func:`scorecard_profiles` lists them and ``default_scorecard(profile=...)``
loads one.

Stages (each a module, each callable alone):

* :mod:`~creditsup.scoring.scorecard`: the configuration (:class:`Scorecard`,
  :class:`Indicator`, :class:`PublicityRule`) and the built-in profiles;
* :mod:`~creditsup.scoring.records`: records and history as arrays, with the
  as-of rules (effective ends, restoration) applied;
* :mod:`~creditsup.scoring.indicators`: the statistic and bin of every
  indicator for every (entity, as-of day) unit;
* :mod:`~creditsup.scoring.result`: :func:`score_entities`,
  :class:`ScoreResult` and :func:`reason_codes`.
"""

from __future__ import annotations

from creditsup.scoring._arrays import (
    as_of_timestamp,
    labels_from_codes,
    lookup,
    to_day,
)
from creditsup.scoring.indicators import GroupCounts
from creditsup.scoring.records import active_flags
from creditsup.scoring.result import (
    ScoreResult,
    reason_codes,
    score_entities,
    slice_group_counts,
)
from creditsup.scoring.scorecard import (
    Indicator,
    PublicityRule,
    Scorecard,
    default_scorecard,
    scorecard_profiles,
)

__all__ = [
    "GroupCounts",
    "Indicator",
    "PublicityRule",
    "ScoreResult",
    "Scorecard",
    "active_flags",
    "as_of_timestamp",
    "default_scorecard",
    "labels_from_codes",
    "lookup",
    "reason_codes",
    "score_entities",
    "scorecard_profiles",
    "slice_group_counts",
    "to_day",
]
