"""Stage 5: predicted probabilities from the previous window (calibration).

Probabilities come from a one-variable logistic (Platt) map of the score
fitted on the *previous* window (scores as of ``T - H - 1 day``, outcomes in
``[T - H, T)``), so it uses only the past and the same outcome definition.
Their Brier score is compared with that of a constant forecast at the
previous window's event rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.evaluate.options import ONE_DAY, BacktestOptions
from creditsup.evaluate.outcomes import event_column, first_outcomes
from creditsup.scoring import Scorecard, score_entities
from creditsup.scoring._arrays import FloatArray

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["ProbabilityMap", "platt_fit", "previous_window_map"]


def platt_fit(score: FloatArray, y: FloatArray) -> tuple[float, float] | None:
    """Logistic fit ``logit p = a + b * score`` by Newton steps on the
    standardised score; ``None`` when degenerate (< 20 units or one outcome).

    Examples
    --------
    >>> s = np.linspace(0, 10, 200)
    >>> a, b = platt_fit(s, (s > 5).astype(float) * (np.arange(200) % 3 > 0))
    >>> b > 0
    True
    """
    if len(score) < 20 or y.min() == y.max():
        return None
    mu, sd = float(score.mean()), float(score.std())
    z = (score - mu) / (sd if sd > 0 else 1.0)
    x = np.column_stack([np.ones_like(z), z])
    beta = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        w = p * (1 - p)
        hess = x.T @ (x * w[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, x.T @ (y - p))
        beta += step
        if float(np.abs(step).max()) < 1e-10:
            break
    scale = sd if sd > 0 else 1.0
    b = float(beta[1] / scale)
    return float(beta[0] - b * mu), b


@dataclass(frozen=True)
class ProbabilityMap:
    """A Platt map fitted on the previous window.

    ``fit`` is ``(intercept, slope)`` or ``None`` (nothing to fit);
    ``base_rate`` is the previous window's event rate (``None`` without
    outcomes there).
    """

    fit: tuple[float, float] | None
    base_rate: float | None

    def predict(self, scores: FloatArray) -> FloatArray | None:
        """Probabilities of an event at these scores (None without a fit)."""
        if self.fit is None:
            return None
        a, b = self.fit
        p = 1.0 / (1.0 + np.exp(-(a + b * scores)))
        return np.asarray(p, dtype=np.float64)


def previous_window_map(
    dataset: Dataset, scorecard: Scorecard, options: BacktestOptions
) -> ProbabilityMap:
    """Stage: fit the map on ``[T - H, T)`` outcomes of scores as of
    ``T - H - 1 day`` (``dataset`` as the scorecard sees it)."""
    prev = options.start - pd.Timedelta(days=int(options.horizon_days))
    hist = dataset.history
    _, event = event_column(hist, options.outcome, scorecard.problem_results)
    outs = first_outcomes(
        hist,
        event,
        start=prev,
        end=options.start,
        triggers=options.outcome_triggers,
        exclude_results=options.exclude_results,
    )
    if len(outs) == 0:
        return ProbabilityMap(fit=None, base_rate=None)
    past = score_entities(dataset, scorecard, as_of=prev - ONE_DAY).table
    joined = outs.merge(past[["uscc", "score"]], on="uscc", how="inner")
    yy = np.asarray(joined["y"].astype(bool), dtype=np.float64)
    base = float(yy.mean()) if len(yy) else None
    fit = platt_fit(joined["score"].to_numpy(dtype=np.float64), yy)
    return ProbabilityMap(fit=fit, base_rate=base)
