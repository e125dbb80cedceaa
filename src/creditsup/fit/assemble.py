"""Stage 6: points, the scorecard, the tiers and the TOML file.

Points are scaled the usual way: ``factor = points_to_double_odds / ln 2``
points per unit of log-odds, and

``score = reference_points + factor * ln(odds)``,

so ``points_to_double_odds`` more points double the odds of a problem and
``reference_points`` is even odds. A feature's bin gets ``factor * beta *
(x_bin - min x)`` points (the safest bin 0, so every point is a risk point
and a reason code, C4); ``base_points`` takes the rest. The probability of
a score is ``1 / (1 + exp(-(score - reference_points) / factor))``.

Tier cut-offs come from the fitted risk: the score quantiles of the
population rated as of ``cutoff - 1 day`` at ``tier_shares``, or the
scores where the probability reaches ``tier_rates``. The policy's
overrides stay (serious-illegal → top tier, abnormal → at least C).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup import _toml
from creditsup.fit.binning import FeatureBins
from creditsup.fit.candidates import Candidate
from creditsup.fit.options import FitOptions
from creditsup.fit.select import FittedModel
from creditsup.scoring import Indicator, Scorecard, score_entities
from creditsup.scoring._arrays import FloatArray
from creditsup.tiers import TierPolicy, tier_cutoffs

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["Scale", "build_scorecard", "fitted_tiers", "policy_toml"]

#: The first bytes of every fitted scorecard file (how --out recognises one).
TOML_HEAD = "# creditsup fitted scorecard"


class Scale:
    """The points scale: ``score = reference + factor * ln(odds)``."""

    def __init__(self, options: FitOptions) -> None:
        self.factor = options.points_to_double_odds / math.log(2.0)
        self.reference = options.reference_points

    def score(self, logit: FloatArray | float) -> FloatArray:
        """The score of a log-odds."""
        return np.asarray(self.reference + self.factor * np.asarray(logit))

    def probability(self, score: FloatArray | float) -> FloatArray:
        """The probability of a problem at a score."""
        z = (np.asarray(score, dtype=np.float64) - self.reference) / self.factor
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def _points(fb: FeatureBins, beta: float, factor: float) -> FloatArray:
    pts = np.round(factor * beta * (fb.x - fb.x.min()), 2) + 0.0
    return np.asarray(pts, dtype=np.float64)


def _indicator(
    cand: Candidate, fb: FeatureBins, beta: float, factor: float, as_of: str
) -> Indicator:
    pts = _points(fb, beta, factor)
    tmpl = cand.indicator.model_dump()
    note = (
        f" Fitted as of {as_of}: information value {fb.iv:.3f}, "
        f"coefficient {beta:.3f}, {fb.n_ordered} bins."
    )
    upd: dict[str, Any] = {
        "description": cand.indicator.description + note,
        "reference": "creditsup fit (docs/fitting.md)",
    }
    if fb.kind == "numeric":
        upd.update(
            edges=tuple(float(e) for e in fb.edges),
            points=tuple(float(p) for p in pts[: fb.n_ordered]),
            missing_points=float(pts[-1]),
            monotone=fb.trend,
        )
    else:
        names = list(cand.indicator.categories)
        listed = [
            (float(pts[b]), i, n)
            for i, (n, b) in enumerate(zip(names, fb.category_bin, strict=True))
            if b < fb.n_ordered
        ]
        listed.sort()
        upd.update(
            categories={n: p for p, _, n in listed},
            other_points=float(pts[fb.n_ordered]),
            missing_points=float(pts[-1]),
            monotone="increasing",
        )
    return Indicator.model_validate({**tmpl, **upd})


def build_scorecard(
    model: FittedModel,
    candidates: Sequence[Candidate],
    base: Scorecard,
    options: FitOptions,
    *,
    name: str = "fitted",
) -> Scorecard:
    """Stage: the scorecard of a fitted model (base's results and publicity).

    Indicators come in order of their information value.
    """
    scale = Scale(options)
    by_name = {c.name: c for c in candidates}
    as_of = str((model.cutoff - pd.Timedelta(days=1)).date())
    order = np.argsort([-fb.iv for fb in model.bins], kind="stable")
    inds = []
    offset = model.intercept
    for i in order:
        fb, beta = model.bins[i], float(model.beta[i])
        inds.append(_indicator(by_name[fb.name], fb, beta, scale.factor, as_of))
        offset += beta * float(fb.x.min())
    base_points = round(float(scale.score(offset)), 2)
    return Scorecard(
        name=name,
        version=str(model.cutoff.date()),
        base_points=base_points,
        problem_results=base.problem_results,
        publicity=base.publicity,
        indicators=tuple(inds),
    )


def fitted_tiers(
    dataset: Dataset,
    scorecard: Scorecard,
    cutoff: pd.Timestamp,
    options: FitOptions,
    overrides_from: TierPolicy | None = None,
) -> TierPolicy:
    """Stage: cut-offs from the fitted risk (see the module docstring)."""
    scale = Scale(options)
    if options.tier_method == "rate":
        r = np.asarray(options.tier_rates, dtype=np.float64)
        cuts = [round(float(c), 2) for c in scale.score(np.log(r / (1 - r)))]
    else:
        scores = score_entities(
            dataset, scorecard, as_of=cutoff - pd.Timedelta(days=1)
        ).table["score"]
        shares = TierPolicy(tiers=options.tiers, shares=options.tier_shares)
        top = float(scores.max()) + 1.0 if len(scores) else 0.0
        cuts = [
            round(c, 6) if math.isfinite(c) else round(top, 2)
            for c in tier_cutoffs(scores, shares)
        ]
    src = overrides_from if overrides_from is not None else TierPolicy()
    return TierPolicy(
        tiers=options.tiers,
        method="cutoff",
        shares=options.tier_shares,
        cutoffs=tuple(cuts),
        overrides=src.overrides,
    )


def policy_toml(
    scorecard: Scorecard,
    tiers: TierPolicy,
    options: FitOptions,
    *,
    summary: Mapping[str, Any],
) -> str:
    """The fitted scorecard as a policy TOML file (``[scorecard]`` and
    ``[tiers]``) that ``creditsup score`` and ``plan`` read with ``--policy``."""
    scale = Scale(options)
    lines = [
        f"{TOML_HEAD}, as of {summary.get('as_of')}"
        f" (outcome: {summary.get('outcome')}, horizon {options.horizon_days} days).",
        "# Use it as it is:  creditsup score DIR --as-of DATE --policy THIS_FILE",
        "# Learned from the bureau's own history by 'creditsup fit' (docs/fitting.md):",
        "# monotone optimal bins, then an L1-penalised logistic regression with",
        "# non-negative coefficients; penalty and number of features chosen on",
        "# time-based folds before the cut-off.",
        f"# Points: {options.points_to_double_odds:g} points double the odds of a "
        f"problem; {options.reference_points:g} points = even odds, so",
        f"#   probability = 1 / (1 + exp(-(score - {scale.reference:g}) / "
        f"{scale.factor:.4f})).",
    ]
    for k, v in summary.items():
        if k not in ("as_of", "outcome"):
            lines.append(f"# {k}: {v}")
    header = "\n".join(line[2:] if line.startswith("# ") else line for line in lines)
    body = {
        "scorecard": scorecard.model_dump(mode="json"),
        "tiers": tiers.model_dump(mode="json"),
    }
    return _toml.dumps(body, header=header)
