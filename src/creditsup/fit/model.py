"""Stage 4: a penalised logistic regression on the binned features.

Each feature enters as its bins' relative log-odds (:mod:`~creditsup.fit.binning`),
so a coefficient of 1 takes a feature's bins at face value. The model is

``logit p = a + sum_j beta_j * x_j``, with every ``beta_j >= 0``,

fitted by minimising the (weighted) mean log-loss plus ``lam * sum(beta)`` (an L1
penalty: with non-negative coefficients it is linear, so L-BFGS-B solves it
exactly) plus a tiny ridge term that keeps collinear features stable. The
sign constraint keeps every feature's points in the direction of its own
event rates (no feature explains against its bins).

The *penalty path* fits a decreasing sequence of penalties, from
``lam_max`` (the smallest penalty that keeps every coefficient at zero)
down to ``min_penalty_ratio * lam_max``, each warm-started from the last;
the order in which features become non-zero ranks them. A model of the
grid is a ``(penalty ratio, number of features k)`` pair: the path's model
at that penalty when it has at most ``k`` features, else the model refitted
at that penalty on the first ``k`` features to enter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from creditsup.scoring._arrays import BoolArray, FloatArray, IntArray

__all__ = ["GridModel", "Path", "fit_logistic", "grid_models", "penalty_path"]

_RIDGE = 1e-4
_ACTIVE = 1e-6


def fit_logistic(
    x: FloatArray,
    y: BoolArray,
    lam: float,
    *,
    start: FloatArray | None = None,
    weight: FloatArray | None = None,
) -> FloatArray:
    """``(a, beta...)`` minimising the mean log-loss + ``lam * sum(beta)``
    (+ a tiny ridge), with ``beta >= 0``; ``weight``: the units' weights in
    the mean (default 1 each).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(4000, 2))
    >>> y = rng.random(4000) < special.expit(-1 + x[:, 0])
    >>> theta = fit_logistic(x, y, 0.0)
    >>> round(float(theta[1]), 1), float(theta[2]) < 0.05  # x1 is noise
    (1.0, True)
    """
    _, p = x.shape
    yy = y.astype(np.float64)
    w = _weights(weight, len(yy))
    theta0 = np.zeros(p + 1) if start is None else np.asarray(start, dtype=np.float64)
    if start is None:
        m = float(np.clip(w @ yy, 1e-6, 1 - 1e-6))
        theta0[0] = np.log(m / (1 - m))

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        beta = theta[1:]
        eta = theta[0] + x @ beta
        val = float(w @ (np.logaddexp(0.0, eta) - yy * eta))
        val += lam * float(beta.sum()) + 0.5 * _RIDGE * float(beta @ beta)
        resid = w * (special.expit(eta) - yy)
        grad = np.empty_like(theta)
        grad[0] = resid.sum()
        grad[1:] = x.T @ resid + lam + _RIDGE * beta
        return val, grad

    res = optimize.minimize(
        loss,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(None, None)] + [(0.0, None)] * p,
        options={"maxiter": 500, "gtol": 1e-6, "ftol": 1e-10},
    )
    theta = np.asarray(res.x, dtype=np.float64)
    theta[1:][theta[1:] < _ACTIVE] = 0.0
    return theta


def _weights(weight: FloatArray | None, n: int) -> FloatArray:
    """Weights summing to 1 (equal when none are given)."""
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    return np.asarray(w / max(float(w.sum()), 1e-300), dtype=np.float64)


@dataclass(frozen=True)
class Path:
    """A penalty path: ``ratios`` (of ``lam_max``), one ``theta`` per ratio,
    and the features in the order they became non-zero (``entry``)."""

    lam_max: float
    ratios: FloatArray
    thetas: list[FloatArray]
    entry: IntArray


def penalty_path(
    x: FloatArray,
    y: BoolArray,
    *,
    n_penalties: int,
    min_ratio: float,
    weight: FloatArray | None = None,
) -> Path:
    """Stage: the model at each penalty, from ``lam_max`` down.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(3000, 3))
    >>> y = rng.random(3000) < special.expit(x[:, 2] + 0.3 * x[:, 0])
    >>> path = penalty_path(x, y, n_penalties=8, min_ratio=1e-3)
    >>> path.entry.tolist()[:2]
    [2, 0]
    """
    _, p = x.shape
    yy = y.astype(np.float64)
    w = _weights(weight, len(yy))
    grad0 = x.T @ (w * (yy - w @ yy))
    lam_max = float(max(grad0.max(initial=0.0), 1e-12))
    if n_penalties == 1:
        ratios = np.asarray([min_ratio])
    else:
        ratios = np.geomspace(1.0, min_ratio, n_penalties)
    thetas: list[FloatArray] = []
    first = np.full(p, len(ratios), dtype=np.int64)
    size = np.zeros(p)
    theta: FloatArray | None = None
    for i, r in enumerate(ratios):
        theta = fit_logistic(x, y, float(r) * lam_max, start=theta, weight=weight)
        thetas.append(theta)
        new = (theta[1:] > 0) & (first == len(ratios))
        first[new] = i
        size[new] = theta[1:][new]
    entered = np.flatnonzero(first < len(ratios))
    # earlier entry first; then the larger coefficient; then the column order
    order = np.lexsort((entered, -size[entered], first[entered]))
    return Path(lam_max, ratios, thetas, entered[order].astype(np.int64))


@dataclass(frozen=True)
class GridModel:
    """One model of the grid: its penalty ratio, its cap on features, the
    features used (columns of the design) and ``theta = (a, beta...)``."""

    ratio: float
    k: int
    features: IntArray
    theta: FloatArray

    @property
    def n_features(self) -> int:
        """Features with a non-zero coefficient."""
        return int((self.theta[1:] > 0).sum())

    def predict_logit(self, x: FloatArray) -> FloatArray:
        """``a + x[:, features] @ beta``."""
        return np.asarray(
            self.theta[0] + x[:, self.features] @ self.theta[1:], dtype=np.float64
        )


def grid_models(
    x: FloatArray,
    y: BoolArray,
    path: Path,
    ks: Sequence[int],
    weight: FloatArray | None = None,
) -> list[GridModel]:
    """Stage: the models of every (penalty ratio, k) pair of the grid."""
    out: list[GridModel] = []
    for k in sorted(set(ks)):
        top = path.entry[:k]
        warm: FloatArray | None = None
        for r, theta in zip(path.ratios, path.thetas, strict=True):
            active = np.flatnonzero(theta[1:] > 0)
            if len(active) <= k:
                feats = active
                th = np.concatenate([[theta[0]], theta[1:][active]])
            else:
                feats = np.sort(top)
                start = warm
                if start is None:
                    start = np.concatenate([[theta[0]], theta[1:][feats]])
                th = fit_logistic(
                    x[:, feats],
                    y,
                    float(r) * path.lam_max,
                    start=start,
                    weight=weight,
                )
                warm = th
            out.append(GridModel(float(r), k, feats.astype(np.int64), th))
    return out
