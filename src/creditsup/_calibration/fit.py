"""The fit: a binned logistic regression on the scorecard's own bins.

Ordered bins of a monotone indicator are coded cumulatively (``bin >= j``)
with step coefficients bounded at zero (L-BFGS-B), so fitted points keep the
indicator's direction; an L2 penalty pulls every coefficient towards the
input scorecard's own (so bins with little data keep their expert points).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from creditsup.scoring import Indicator, Scorecard
from creditsup.scoring._arrays import FloatArray, IntArray

__all__ = ["fit_points"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Design:
    """Columns of the binned logistic design: (indicator, kind, bin) each."""

    owner: list[int]  # indicator position
    first_bin: list[int]  # cumulative: bins >= first_bin (ordered); one-hot: the bin
    cumulative: list[bool]
    lower: list[float | None]
    upper: list[float | None]
    prior: list[float]  # the input scorecard's coefficient (log-odds)


def _design(
    indicators: Sequence[Indicator], active: Sequence[bool], scale: float
) -> _Design:
    owner: list[int] = []
    first: list[int] = []
    cum: list[bool] = []
    lo: list[float | None] = []
    hi: list[float | None] = []
    prior: list[float] = []
    for i, ind in enumerate(indicators):
        if not active[i]:
            continue
        k = ind.n_ordered
        pts = ind.bin_points() / scale
        monotone = ind.monotone != "none"
        for j in range(1, k):
            owner.append(i)
            first.append(j)
            cum.append(monotone)
            lo.append(0.0 if ind.monotone == "increasing" else None)
            hi.append(0.0 if ind.monotone == "decreasing" else None)
            prior.append(float(pts[j] - pts[j - 1] if monotone else pts[j] - pts[0]))
        for j in range(k, len(pts)):  # other / missing bins: free
            owner.append(i)
            first.append(j)
            cum.append(False)
            lo.append(None)
            hi.append(None)
            prior.append(float(pts[j] - pts[0]))
    return _Design(owner, first, cum, lo, hi, prior)


def _matrix(d: _Design, bins: IntArray, indicators: Sequence[Indicator]) -> FloatArray:
    """Design matrix for rows of bin indices (one column per indicator)."""
    x = np.zeros((len(bins), len(d.owner)), dtype=np.float64)
    for c, (i, j, cum) in enumerate(
        zip(d.owner, d.first_bin, d.cumulative, strict=True)
    ):
        b = bins[:, i]
        if cum:
            x[:, c] = (b >= j) & (b < indicators[i].n_ordered)
        else:
            x[:, c] = b == j
    return x


def _fit(
    x: FloatArray, trials: FloatArray, events: FloatArray, d: _Design, l2: float
) -> tuple[float, FloatArray]:
    prior = np.asarray(d.prior, dtype=np.float64)
    theta0 = np.concatenate([[0.0], prior])
    eta0 = x @ prior
    base = float(np.clip(events.sum() / max(trials.sum(), 1.0), 1e-6, 1 - 1e-6))
    theta0[0] = np.log(base / (1 - base)) - float(np.average(eta0, weights=trials))

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        eta = theta[0] + x @ theta[1:]
        dev = theta[1:] - prior
        nll = float(np.sum(trials * np.logaddexp(0.0, eta) - events * eta))
        nll += 0.5 * l2 * float(dev @ dev)
        resid = trials * special.expit(eta) - events
        grad = np.empty_like(theta)
        grad[0] = resid.sum()
        grad[1:] = x.T @ resid + l2 * dev
        return nll, grad

    bounds = [(None, None), *zip(d.lower, d.upper, strict=True)]
    res = optimize.minimize(
        loss,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "gtol": 1e-9},
    )
    if not res.success:  # pragma: no cover - defensive
        logger.warning("Calibration optimiser did not fully converge: %s", res.message)
    theta = np.asarray(res.x, dtype=np.float64)
    return float(theta[0]), theta[1:]


def _bin_coefficients(
    d: _Design, beta: FloatArray, indicators: Sequence[Indicator]
) -> dict[int, FloatArray]:
    """Log-odds of every bin of every active indicator, relative to bin 0."""
    out = {i: np.zeros(len(indicators[i].bin_points())) for i in set(d.owner)}
    for c, (i, j, cum) in enumerate(
        zip(d.owner, d.first_bin, d.cumulative, strict=True)
    ):
        if cum:
            out[i][j : indicators[i].n_ordered] += beta[c]
        else:
            out[i][j] += beta[c]
    return out


def fit_points(
    scorecard: Scorecard,
    inactive: Sequence[str],
    bins: IntArray,
    y: FloatArray,
    *,
    l2: float,
    scale: float,
) -> tuple[Scorecard, float]:
    """New points for every bin, by a penalised binned logistic regression.

    Identical bin patterns are pooled (a weighted regression). Each indicator
    is then shifted so that its mean points over the units equal those of the
    input scorecard; the intercept absorbs the shift. ``scale`` is the number
    of points per unit of log-odds.

    Returns
    -------
    Scorecard, float
        The refitted scorecard and the log-odds of a problem at score 0.
    """
    inds = list(scorecard.indicators)
    active = [i.name not in inactive for i in inds]
    patterns, inverse = np.unique(bins, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    trials = np.bincount(inverse).astype(np.float64)
    events = np.bincount(inverse, weights=y).astype(np.float64)
    d = _design(inds, active, scale)
    intercept0, beta = _fit(_matrix(d, patterns, inds), trials, events, d, l2)
    new_points: dict[str, list[float]] = {}
    offset = scorecard.base_points
    for i, c in _bin_coefficients(d, beta, inds).items():
        rel = c * scale
        shift = float(
            np.mean(inds[i].bin_points()[bins[:, i]]) - np.mean(rel[bins[:, i]])
        )
        new_points[inds[i].name] = np.round(rel + shift, 2).tolist()
        offset += shift
    return scorecard.with_points(new_points), intercept0 - offset / scale
