"""Stage 6: the result tables and every figure as one JSON-able dict.

:func:`assemble` turns the outputs of the earlier stages
(:class:`BacktestStages`) into a :class:`BacktestResult`: per tier, per
history group, per entity and per draw tables, and ``metrics``, whose keys
keep one order (``metrics.json`` is written as it is): the protocol, the
sample, the ranking and calibration figures, the budget and caps, the run,
the tables, then the scorecard calibration when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from creditsup._calibration import CalibrationResult
from creditsup.evaluate.inclusion import CapCheck, Inclusion
from creditsup.evaluate.metrics import beats_baselines, brier_score
from creditsup.evaluate.options import ONE_DAY, BacktestOptions, PolicyParts
from creditsup.evaluate.outcomes import OutcomeDefinition
from creditsup.evaluate.probability import ProbabilityMap
from creditsup.evaluate.result import BacktestResult
from creditsup.evaluate.score import Evaluated
from creditsup.evaluate.tables import (
    group_table,
    scores_table,
    simulations_table,
    tier_table,
)
from creditsup.scoring._arrays import FloatArray
from creditsup.tiers import TierResult

__all__ = ["BacktestStages", "assemble", "backtest_metrics"]


@dataclass(frozen=True)
class BacktestStages:
    """What the stages of a backtest produced, in the order they run."""

    options: BacktestOptions
    policy: PolicyParts
    outcome: OutcomeDefinition
    tiers: TierResult
    calibration: CalibrationResult | None
    evaluated: Evaluated
    inclusion: Inclusion
    caps: CapCheck
    rankings: dict[str, FloatArray]
    pis: dict[str, FloatArray]
    methods: pd.DataFrame
    hits: pd.DataFrame
    drawn: pd.DataFrame
    probability: ProbabilityMap

    @property
    def labels(self) -> list[str]:
        """The policy's tiers, low to high risk."""
        return list(self.policy.tiers.tiers)

    @property
    def predicted(self) -> FloatArray | None:
        """Predicted probabilities of the evaluated entities (None: no map)."""
        return self.probability.predict(
            self.evaluated.ev["score"].to_numpy(dtype=np.float64)
        )


def _protocol(s: BacktestStages) -> dict[str, Any]:
    opts, ts = s.options, s.options.start
    sc = s.tiers.scores.scorecard
    return {
        "as_of": str(ts.date()),
        "scored_as_of": str(opts.scored_as_of.date()),
        "horizon_days": int(opts.horizon_days),
        "window": [str(ts.date()), str((opts.end - ONE_DAY).date())],
        "outcome": s.outcome.name,
        "history_recoded": s.outcome.recoded,
        "outcome_triggers": list(opts.outcome_triggers),
        "calibrated": bool(opts.calibrate),
        "scorecard": {"name": sc.name, "version": sc.version},
    }


def _fit(s: BacktestStages) -> dict[str, Any]:
    y, predicted = s.evaluated.y, s.predicted
    base, platt = s.probability.base_rate, s.probability.fit
    brier = brier_score(y, predicted) if predicted is not None else float("nan")
    ref = brier_score(y, np.full(len(y), base)) if base is not None else float("nan")
    sc_row = s.methods.iloc[0].to_dict()  # the scorecard is the first method
    return {
        "auc": float(sc_row["auc"]),
        "auc_ci": [float(sc_row["auc_lo"]), float(sc_row["auc_hi"])],
        "brier": brier,
        "brier_reference": ref,
        "brier_skill": 1 - brier / ref if ref and ref > 0 else None,
        "probability_map": (
            {"intercept": platt[0], "slope": platt[1]} if platt is not None else None
        ),
    }


def _budget(s: BacktestStages, per_tier: pd.DataFrame) -> dict[str, Any]:
    pi, sampling = s.inclusion.pi, s.policy.sampling
    return {
        "budget": s.inclusion.total,
        "budget_share_A": float(per_tier["budget_share"].iloc[0]),
        "floor": float(pi.min()),
        "n_zero_probability": int((pi <= 0).sum()),
        "n_at_cap": int(s.inclusion.at_cap.sum()),
        "caps": {
            t: {"cap": sampling.cap_of(t), "max_visits": s.caps.max_visits[t]}
            for t in s.labels
        },
        "caps_hold": bool(s.caps.hold),
        "tier_ratios": s.inclusion.tier_ratios,
    }


def _calibration(cal: CalibrationResult | None) -> dict[str, Any]:
    if cal is None:
        return {}
    figures = {
        "n_units": cal.n_units,
        "n_events": cal.n_events,
        "auc_in_sample": cal.auc,
        "auc_in_sample_before": cal.auc_before,
    }
    return {"calibration": figures}


def backtest_metrics(
    s: BacktestStages, per_tier: pd.DataFrame, groups: pd.DataFrame
) -> dict[str, Any]:
    """Stage: the ``metrics`` dict of :class:`BacktestResult`."""
    y = s.evaluated.y
    tables = {"tiers": per_tier, "methods": s.methods, "groups": groups}
    return {
        **_protocol(s),
        "n_rated": len(s.evaluated.table),
        "n_evaluated": len(s.evaluated.ev),
        "n_events": int(y.sum()),
        "event_rate": float(y.mean()),
        **_fit(s),
        **_budget(s, per_tier),
        "seeds": int(s.options.seeds),
        "n_boot": int(s.options.n_boot),
        **{k: v.to_dict(orient="records") for k, v in tables.items()},
        "beats_all_baselines": beats_baselines(s.methods),
        **_calibration(s.calibration),
    }


def assemble(s: BacktestStages) -> BacktestResult:
    """Stage: the tables, the metrics and the result."""
    per_tier = tier_table(s.evaluated, s.inclusion, s.predicted, s.labels)
    groups = group_table(s.evaluated)
    ev = s.evaluated.ev
    return BacktestResult(
        scores=scores_table(s.evaluated, s.inclusion, s.predicted),
        tiers=per_tier,
        methods=s.methods,
        groups=groups,
        metrics=backtest_metrics(s, per_tier, groups),
        simulations=simulations_table(s.pis, s.hits, s.drawn),
        scorecard=s.tiers.scores.scorecard,
        rankings=pd.DataFrame({"uscc": ev["uscc"], "y": s.evaluated.y, **s.rankings}),
        calibration=s.calibration,
    )
