"""The result of a fit: the scorecard, the tiers, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup.fit.assemble import Scale, policy_toml
from creditsup.fit.options import FitOptions
from creditsup.sampling import SamplingPolicy
from creditsup.scoring import Scorecard
from creditsup.scoring._arrays import FloatArray
from creditsup.tiers import TierPolicy

if TYPE_CHECKING:
    from creditsup.evaluate import BacktestResult

__all__ = ["FitResult", "FittedPolicy"]


@dataclass(frozen=True)
class FittedPolicy:
    """What a backtest or a plan reads from a policy: the fitted scorecard and
    tiers, and the sampling policy it came with."""

    scorecard: Scorecard
    tiers: TierPolicy
    sampling: SamplingPolicy


def _md_table(df: pd.DataFrame, digits: int = 3) -> str:
    if len(df) == 0:
        return "(none)\n"
    cols = list(df.columns)

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{float(v):.{digits}f}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class FitResult:
    """A scorecard learned from a bureau's own history.

    Attributes
    ----------
    scorecard : Scorecard
        The fitted scorecard: ordinary indicators, points per bin.
    tiers : TierPolicy
        Cut-offs from the fitted risk, with the overrides.
    options : FitOptions
    as_of : Timestamp
        The cut-off: nothing dated on or after it was used.
    outcome : str
        The outcome (``'result'`` or a history column).
    intercept : float
        ``logit p = intercept + sum(beta * x)`` of the model.
    selection : DataFrame
        The validation folds: ``fold, ratio, k, n_features, auc, n_train,
        n_validate`` per grid model.
    chosen : dict
        The chosen penalty ratio ``ratio`` and number of features ``k``.
    features : DataFrame
        Every screened candidate: ``feature, source, statistic, iv, bins,
        coefficient, selected``.
    coefficients : DataFrame
        Per bin of every selected feature: ``indicator, bin, label, n,
        events, rate, points``.
    n_units, n_events, n_candidates : int
        Training units, their events, candidates generated.
    holdout : BacktestResult or None
        The held-out window's report (``holdout_days > 0``): a scorecard
        fitted by the same procedure on the data before the window, against
        the baselines, at the same budget.
    sampling : SamplingPolicy
    """

    scorecard: Scorecard
    tiers: TierPolicy
    options: FitOptions
    as_of: pd.Timestamp
    outcome: str
    intercept: float
    selection: pd.DataFrame
    chosen: dict[str, float]
    features: pd.DataFrame
    coefficients: pd.DataFrame
    n_units: int
    n_events: int
    n_candidates: int
    holdout: BacktestResult | None = field(default=None, repr=False)
    sampling: SamplingPolicy = field(default_factory=SamplingPolicy)

    @property
    def policy(self) -> FittedPolicy:
        """Scorecard, tiers and sampling, for :func:`creditsup.evaluate.backtest`."""
        return FittedPolicy(self.scorecard, self.tiers, self.sampling)

    def predict(self, scores: FloatArray) -> FloatArray:
        """The fitted probability of a problem at each score."""
        return Scale(self.options).probability(scores)

    def summary(self) -> pd.DataFrame:
        """Key figures as a two-column frame."""
        items: dict[str, Any] = {
            "as_of": str(self.as_of.date()),
            "outcome": self.outcome,
            "n_units": self.n_units,
            "n_events": self.n_events,
            "n_candidates": self.n_candidates,
            "n_indicators": len(self.scorecard.indicators),
            "penalty_ratio": self.chosen["ratio"],
            "max_features": int(self.chosen["k"]),
            "cutoffs": ", ".join(f"{c:g}" for c in self.tiers.cutoffs),
        }
        if self.holdout is not None:
            m = self.holdout.metrics
            items["holdout_auc"] = m["auc"]
            items["holdout_auc_ci"] = "[{:.3f}, {:.3f}]".format(*m["auc_ci"])
        return pd.DataFrame({"metric": list(items), "value": list(items.values())})

    def to_toml(self) -> str:
        """The policy TOML (``[scorecard]`` and ``[tiers]``) to pass as
        ``--policy`` to ``creditsup score`` or ``plan``."""
        summary: dict[str, Any] = {
            "as_of": str(self.as_of.date()),
            "outcome": self.outcome,
            "training units": f"{self.n_units} ({self.n_events} events)",
            "candidates": self.n_candidates,
            "chosen": f"penalty ratio {self.chosen['ratio']:.4g}, "
            f"at most {int(self.chosen['k'])} features",
        }
        if self.holdout is not None:
            m = self.holdout.metrics
            summary["held-out AUC"] = "{:.3f} [{:.3f}, {:.3f}] ({} to {})".format(
                m["auc"], *m["auc_ci"], *m["window"]
            )
        return policy_toml(self.scorecard, self.tiers, self.options, summary=summary)

    def to_markdown(self) -> str:
        """The fit report (docs/fitting.md explains each table)."""
        parts = [
            f"# Fitted scorecard as of {self.as_of.date()}\n",
            _md_table(self.summary(), 4),
            "\n## Selected features\n",
            _md_table(self.features[self.features["selected"]]),
            "\n## Points per bin\n",
            _md_table(self.coefficients, 2),
        ]
        if len(self.selection):
            mean = (
                self.selection.groupby(["ratio", "k"], sort=True)
                .agg(auc=("auc", "mean"), n_features=("n_features", "mean"))
                .reset_index()
                .sort_values("auc", ascending=False)
                .head(10)
            )
            parts += [
                "\n## Validation folds (best 10 of the grid)\n",
                _md_table(mean, 4),
            ]
        if self.holdout is not None:
            parts += ["\n## Held-out window\n", self.holdout.to_markdown()]
        return "".join(parts)
