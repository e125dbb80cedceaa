"""The result of a backtest, and the folder it saves."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditsup._calibration import CalibrationResult
from creditsup.evaluate.charts import draw_charts
from creditsup.evaluate.report import markdown
from creditsup.io import write_csv
from creditsup.scoring import Scorecard

__all__ = ["BacktestResult"]

logger = logging.getLogger(__name__)


def _jsonable(x: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, dates as text, NaN as None."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    plain = x.item() if isinstance(x, np.generic) else x
    if isinstance(plain, pd.Timestamp):
        return str(plain.date())
    finite = not isinstance(plain, float) or math.isfinite(plain)
    return plain if finite else None


@dataclass(frozen=True)
class BacktestResult:
    """The outcome of :func:`backtest`.

    Attributes
    ----------
    scores : DataFrame
        Every rated entity: ``uscc, score, tier, tier_reason, evaluated,
        y, first_date, has_history, predicted, pi`` (``y``/``first_date`` empty
        and ``pi`` 0 when not evaluated), sorted by ``uscc``.
    tiers : DataFrame
        Per tier (evaluated entities): ``tier, n, events, rate, rate_lo,
        rate_hi, mean_predicted, pi, expected_visits, budget_share``.
    methods : DataFrame
        Per method (``scorecard`` and the baselines): ``auc, auc_lo, auc_hi,
        auc_diff_lo, auc_diff_hi`` (paired bootstrap interval of the
        scorecard's AUC minus this method's), ``hit_rate`` (exact expected),
        ``hit_rate_sim``, ``hit_rate_sim_lo``, ``hit_rate_sim_hi`` (mean and
        95 % range over the simulated draws), ``lift`` (hit rate over the
        uniform draw's), ``scorecard_wins`` (share of draws in which the
        scorecard's draw found a larger share of events), ``expected_visits``,
        ``floor``.
    groups : DataFrame
        Evaluated entities with and without history before ``as_of``:
        ``group, n, events, rate, rate_lo, rate_hi, auc, mean_score``.
    metrics : dict
        Everything above as JSON-able figures, plus the protocol.
    simulations : DataFrame
        Per draw and method: ``draw, method, hit_rate, drawn``.
    rankings : DataFrame
        Evaluated entities: ``uscc, y`` and the score of every ranking method
        (``scorecard``, ``city_risk``, ...; higher = riskier).
    scorecard : Scorecard
        The scorecard evaluated (calibrated when asked).
    calibration : CalibrationResult or None
    """

    scores: pd.DataFrame
    tiers: pd.DataFrame
    methods: pd.DataFrame
    groups: pd.DataFrame
    metrics: dict[str, Any]
    simulations: pd.DataFrame
    scorecard: Scorecard
    rankings: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    calibration: CalibrationResult | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """The method comparison: AUC with interval, hit rates and lift."""
        cols = [
            "method",
            "auc",
            "auc_lo",
            "auc_hi",
            "hit_rate",
            "hit_rate_sim",
            "lift",
            "floor",
        ]
        return self.methods.loc[:, cols].copy()

    def to_markdown(self, lang: str = "en") -> str:
        """The tables of the backtest as GitHub-flavoured markdown, in
        ``lang`` (``"en"`` or ``"zh"``)."""
        from creditsup.labels import check_lang

        return markdown(self, check_lang(lang))

    def save(self, out_dir: str | Path, *, lang: str = "en") -> Path:
        """Write ``scores.csv`` (``uscc, score, tier``), ``outcomes.csv``,
        ``metrics.json``, ``backtest.md`` (in ``lang``) and, when matplotlib is
        installed, four PNG charts. Returns the folder."""
        root = Path(out_dir)
        root.mkdir(parents=True, exist_ok=True)
        write_csv(self.scores.loc[:, ["uscc", "score", "tier"]], root / "scores.csv")
        ev = self.scores[self.scores["evaluated"]]
        write_csv(
            ev.loc[:, ["uscc", "first_date", "y", "has_history", "predicted", "pi"]],
            root / "outcomes.csv",
        )
        (root / "metrics.json").write_text(
            json.dumps(_jsonable(self.metrics), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        (root / "backtest.md").write_text(self.to_markdown(lang), encoding="utf-8")
        charts = draw_charts(self, root)
        if charts:
            logger.info("Wrote charts: %s", ", ".join(p.name for p in charts))
        return root
