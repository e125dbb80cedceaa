"""The supervision year after the draw: results, follow-ups, publication, changes.

Stages (modules), each callable alone, each appending one hash-chained record
to the plan's ledger that :func:`~creditsup.plan.verify_plan` replays:

- :mod:`~creditsup.year.results`: :func:`record_results` (R19, due dates R18).
- :mod:`~creditsup.year.followups`: follow-ups opened by the results (R20),
  :func:`close_followups`, :func:`followup_status`.
- :mod:`~creditsup.year.publication`: :func:`public_results` (R17, R18).
- :mod:`~creditsup.year.replan`: :func:`replan` (mid-year changes).
- :mod:`~creditsup.year.triggers`: :func:`record_triggers` (触发式监管).
- :mod:`~creditsup.year.batches`: :func:`draw_batch` (a batch's teams when it
  opens, R06), :func:`batch_commitment`.
- :mod:`~creditsup.year.close`: :func:`close_year` (next year's dataset).

The year's tables live in the bundle next to the plan's: ``results.csv``,
``followups.csv``, ``replans.csv`` and ``triggers.csv``.
"""

from creditsup.year import _replay  # noqa: F401  (registers the replays)
from creditsup.year._bundle import YearPolicy
from creditsup.year._checks import RULE_CODES
from creditsup.year.batches import BatchDraw, batch_commitment, draw_batch
from creditsup.year.close import ClosedYear, close_year
from creditsup.year.followups import (
    ClosedFollowups,
    close_followups,
    followup_status,
    open_followups,
)
from creditsup.year.publication import (
    PUBLIC_RESULT_COLUMNS,
    overdue_results,
    public_results,
)
from creditsup.year.replan import CHANGE_KINDS, Replanned, replan
from creditsup.year.results import RecordedResults, allowed_inspectors, record_results
from creditsup.year.triggers import TRIGGERED, Triggered, record_triggers

__all__ = [
    "CHANGE_KINDS",
    "PUBLIC_RESULT_COLUMNS",
    "RULE_CODES",
    "TRIGGERED",
    "BatchDraw",
    "ClosedFollowups",
    "ClosedYear",
    "RecordedResults",
    "Replanned",
    "Triggered",
    "YearPolicy",
    "allowed_inspectors",
    "batch_commitment",
    "close_followups",
    "close_year",
    "draw_batch",
    "followup_status",
    "open_followups",
    "overdue_results",
    "public_results",
    "record_results",
    "record_triggers",
    "replan",
]
