"""Calibrating a scorecard on past inspection outcomes (numpy/scipy only).

:func:`calibrate_scorecard` refits the points of a :class:`Scorecard` to the
outcomes of past inspections (``history.result`` with a problem found, R19)
by a binned logistic regression:

* the bins are the scorecard's own bins (its edges and categories are kept);
* every inspection dated strictly before ``as_of`` is one observation, scored
  as of the day *before* the inspection, so only records and inspections
  known before it count (no leakage, not even the inspection's own record);
* monotone indicators keep their direction: ordered bins are coded
  cumulatively (``bin >= j``) and the step coefficients are bounded at zero
  (L-BFGS-B), so fitted points never break ``monotone``;
* a small L2 penalty keeps bins without data at their neighbour's points.

Points are the log-odds coefficients scaled so that ``points_to_double_odds``
points double the odds of a problem (20 by default). Each indicator is then
shifted so that its mean points over the inspections equal those of the input
scorecard (the score keeps a familiar scale; the intercept absorbs the
shift). The L2 penalty pulls every coefficient towards the input scorecard's
own, so bins with little or no data keep their expert points.

The result reports the AUC (before and after), the problem rate per tier with
Wilson 95 % intervals, and a calibration table (predicted against observed, by
decile of predicted risk).

Stages: :mod:`~creditsup._calibration.calibrate` (units, then diagnostics),
:mod:`~creditsup._calibration.fit` (the regression) and
:mod:`~creditsup._calibration.metrics` (Wilson intervals, AUC, calibration
tables, event rates; the backtest uses them too).
"""

from __future__ import annotations

from creditsup._calibration.calibrate import (
    CalibrationResult,
    CalibrationUnits,
    calibrate_scorecard,
    calibration_units,
    outcome_rates,
)
from creditsup._calibration.fit import fit_points
from creditsup._calibration.metrics import (
    auc_score,
    calibration_table,
    event_rates,
    tier_rates,
    wilson_interval,
)

__all__ = [
    "CalibrationResult",
    "CalibrationUnits",
    "auc_score",
    "calibrate_scorecard",
    "calibration_table",
    "calibration_units",
    "event_rates",
    "fit_points",
    "outcome_rates",
    "tier_rates",
    "wilson_interval",
]
