"""Backtesting a policy on past inspection outcomes.

Before a bureau lets tiers steer inspections it asks: on our own past data, do
higher tiers really fail more often, and would the tiered draw have found more
problems than the plain random draw it replaces, at the same budget and with a
floor chance for everyone? :func:`backtest` answers it for one split in time.

Protocol (no leakage)
---------------------
Let ``T = as_of`` and ``H = horizon_days``.

* **Scores and tiers** use only what was known before ``T``: the scorecard
  (calibrated, when ``calibrate=True``, by
  :func:`creditsup._calibration.calibrate_scorecard` on inspections dated
  strictly before ``T``, each scored the day before it) rates every entity
  established by ``T - 1 day`` as of ``T - 1 day``
  (:func:`creditsup.tiers.rate_entities`). Rows dated on or after ``T`` never
  enter: scoring a dataset that also holds later rows gives exactly the
  result of scoring ``dataset.cut(T - 1 day)`` (:func:`score_as_of`, tested).
* **Outcome**: an entity's *first* inspection dated in ``[T, T + H)``
  (``trigger`` in ``outcome_triggers``, by default only random ones, so that
  inspections chosen *because* of a complaint do not flatter the score;
  results that say nothing about compliance, ``deregistered`` and
  ``no_activity``, are skipped). The event is "a problem was found": the
  dataset's own boolean ``history.problem_found`` column when it has one (the
  Chicago import does: a critical violation), else a ``result`` among the
  scorecard's ``problem_results`` (R19); ``outcome=`` picks another history
  column. Several inspections on that first day: any problem counts. Only
  rated entities with an outcome are *evaluated*.
* **One definition of "a problem".** When the outcome is a history column,
  the history results are re-coded from it (:func:`recode_outcome`) before
  calibrating and scoring, so the scorecard learns, counts past problems
  with, and is tested on the same event (``recode_history=False`` keeps the
  dataset's results).

Metrics
-------
* per tier: n, event rate and its Wilson 95 % interval (should rise with the
  tier), mean predicted probability;
* the AUC of the score with a percentile bootstrap interval (``n_boot``
  resamples of the evaluated entities), and paired bootstrap intervals of the
  AUC difference to every baseline;
* calibration: the Brier score of predicted probabilities, against the Brier
  score of a constant forecast. Probabilities come from a one-variable
  logistic (Platt) map of the score fitted on the *previous* window (scores
  as of ``T - H - 1 day``, outcomes in ``[T - H, T)``), so it also uses only
  the past and the same outcome definition;
* entities with no history before ``T``, reported separately;
* **hit rates.** Every evaluated entity gets an inclusion probability ``pi``
  in a one-visit draw: the policy's ratio for its tier (``SamplingPolicy
  .ratios``, clamped by ``ratio_ceiling``; 0 for ``trigger_only_tiers`` and
  for an entity whose non-exempt visits earlier in ``T``'s calendar year
  already reach its tier's cap, R15), scaled to ``budget`` when one is given.
  The *expected* hit rate is computed exactly from these probabilities:
  ``sum(pi * y) / sum(pi)`` (expected events found over expected visits).
  The *simulated* hit rate repeats a Poisson-PRN draw (``u < pi`` with
  ``u = keyed_uniform(uscc, derive_key(seed, "backtest", k))``, the method
  :mod:`creditsup.sampling` uses for ratios) over ``seeds`` keys; every draw
  is checked against the caps (earlier visits + 1 <= cap).
  The uniform draw gives every eligible entity the same ``pi`` at the same
  expected budget. A baseline ranking is turned into a draw with the **same
  tier sizes and tier probabilities** as the scorecard: entities sorted by
  the baseline score fill the tiers from A upwards, and tied entities share
  the average probability of the positions they occupy (the expectation of a
  random tie-break), so all methods spend exactly the same budget;
* the floor (smallest ``pi`` of an evaluated entity), the share of the
  budget spent on tier A, and whether the caps held.

Baselines: ``uniform`` (random order: AUC 0.5 by construction),
``city_risk`` (the entity column ``city_risk``, 1 = high risk, when the
dataset has it), ``history_rule`` (``2·critical + serious + failed`` of the
entity's last inspection before ``T``; the counts come from the history
columns ``critical_count``, ``serious_count`` and ``failed`` when present,
else a problem result counts as a fail), and ``uncalibrated`` (the input
scorecard before calibration, shown for information).

Stages
------
Each stage is a function with typed inputs and outputs, in its own module,
callable and tested alone; :func:`backtest_from_options` runs them in order.

1. :mod:`~creditsup.evaluate.options`: :class:`BacktestOptions` (every
   option, declaratively checked) and the policy's parts
   (:func:`~creditsup.evaluate.options.resolve_policy`);
2. :mod:`~creditsup.evaluate.outcomes`: the outcome definition and the
   history re-coded from it (``define_outcome``), each entity's first outcome
   in the window (``first_outcomes``);
3. :mod:`~creditsup.evaluate.score`: tiers as of ``T - 1 day``, calibrated
   when asked (:func:`score_as_of`), joined to the outcomes
   (``join_outcomes``);
4. :mod:`~creditsup.evaluate.inclusion`: the scorecard's inclusion
   probabilities at the budget (``scorecard_inclusion``), the cap check
   (``cap_check``), :func:`rank_inclusion`;
5. :mod:`~creditsup.evaluate.baselines`: the rankings of the baselines
   (``method_rankings``) and their draws at the same budget
   (``baseline_inclusion``);
6. :mod:`~creditsup.evaluate.metrics`: paired bootstrap AUCs
   (:func:`bootstrap_aucs`), simulated draws (:func:`simulate_hit_rates`),
   one row per method with intervals (``compare_methods``);
7. :mod:`~creditsup.evaluate.probability`: the Platt map of the previous
   window (``previous_window_map``);
8. :mod:`~creditsup.evaluate.tables` and :mod:`~creditsup.evaluate.summary`:
   the result tables and the metrics dict (``assemble``);
9. :mod:`~creditsup.evaluate.result`, :mod:`~creditsup.evaluate.report` and
   :mod:`~creditsup.evaluate.charts`: :class:`BacktestResult`, its markdown
   and its charts.
"""

from __future__ import annotations

from creditsup._calibration import auc_score, wilson_interval
from creditsup.evaluate.backtest import backtest, backtest_from_options
from creditsup.evaluate.inclusion import rank_inclusion
from creditsup.evaluate.metrics import (
    auc_interval,
    bootstrap_aucs,
    brier_score,
    expected_hit_rate,
    simulate_hit_rates,
)
from creditsup.evaluate.options import BASELINES, BacktestOptions
from creditsup.evaluate.outcomes import recode_outcome
from creditsup.evaluate.result import BacktestResult
from creditsup.evaluate.score import score_as_of

__all__ = [
    "BASELINES",
    "BacktestOptions",
    "BacktestResult",
    "auc_interval",
    "auc_score",
    "backtest",
    "backtest_from_options",
    "bootstrap_aucs",
    "brier_score",
    "expected_hit_rate",
    "rank_inclusion",
    "recode_outcome",
    "score_as_of",
    "simulate_hit_rates",
    "wilson_interval",
]
