"""Stage 2: scores and tiers as known before the split, joined to outcomes.

Scores and tiers use only what was known before ``T = as_of``: the
scorecard, calibrated when asked on inspections dated strictly before ``T``,
rates every entity established by ``T - 1 day`` as of ``T - 1 day``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._calibration import CalibrationResult, calibrate_scorecard
from creditsup.evaluate.options import (
    ONE_DAY,
    PolicyLike,
    as_timestamp,
    resolve_policy,
)
from creditsup.exceptions import ConfigError
from creditsup.scoring._arrays import BoolArray
from creditsup.tiers import TierResult, rate_entities

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["Evaluated", "join_outcomes", "score_as_of"]


def score_as_of(
    dataset: Dataset,
    policy: PolicyLike | None = None,
    *,
    as_of: date | str | pd.Timestamp,
    calibrate: bool = True,
) -> tuple[TierResult, CalibrationResult | None]:
    """Tiers as known before ``as_of``: calibrate (optional), then rate.

    The scorecard is calibrated on inspections dated strictly before
    ``as_of`` and every entity is rated as of the day before ``as_of``, so
    only rows dated before ``as_of`` matter: the result on ``dataset`` equals
    the result on ``dataset.cut(as_of - 1 day)``.

    Returns
    -------
    TierResult, CalibrationResult or None
        The tiers (``.table``: ``uscc, score, tier, tier_reason, reasons``)
        and the calibration (``None`` when ``calibrate=False``).
    """
    parts = resolve_policy(policy)
    sc, tp = parts.scorecard, parts.tiers
    ts = as_timestamp(as_of, "as_of")
    cal = None
    if calibrate:
        cal = calibrate_scorecard(dataset, sc, as_of=ts, tier_policy=tp)
        sc = cal.scorecard
    tiers = rate_entities(dataset, as_of=ts - ONE_DAY, scorecard=sc, tier_policy=tp)
    return tiers, cal


@dataclass(frozen=True)
class Evaluated:
    """Rated entities joined to their outcomes.

    Attributes
    ----------
    table : DataFrame
        Every rated entity: ``uscc, score, tier, tier_reason, first_date, y,
        evaluated, has_history``, sorted by ``uscc``.
    ev : DataFrame
        The evaluated rows of ``table`` (those with an outcome), 0-indexed.
    """

    table: pd.DataFrame
    ev: pd.DataFrame

    @property
    def mask(self) -> BoolArray:
        """Which rows of ``table`` are evaluated."""
        return self.table["evaluated"].to_numpy(dtype=bool)

    @property
    def y(self) -> BoolArray:
        """The outcome of each evaluated entity."""
        return self.ev["y"].astype(bool).to_numpy()

    @property
    def tier(self) -> npt.NDArray[np.object_]:
        """The tier of each evaluated entity."""
        return self.ev["tier"].to_numpy(dtype=object)


def join_outcomes(
    tiers: TierResult,
    outcomes: pd.DataFrame,
    hist: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> Evaluated:
    """Stage: join the tiers to the first outcomes; flag entities with history.

    Raises
    ------
    ConfigError
        No rated entity has an outcome in ``[start, end)``.
    """
    table = tiers.table.loc[:, ["uscc", "score", "tier", "tier_reason"]].copy()
    table = table.merge(outcomes, on="uscc", how="left", sort=False)
    table["evaluated"] = table["y"].notna()
    d = pd.to_datetime(hist["date"])
    past = set(hist.loc[d < start, "uscc"])
    table["has_history"] = table["uscc"].isin(past)
    evm = table["evaluated"].to_numpy(dtype=bool)
    if not evm.any():
        raise ConfigError(
            f"No rated entity has an outcome inspection in [{start.date()}, "
            f"{end.date()}); nothing to evaluate."
        )
    return Evaluated(table=table, ev=table[evm].reset_index(drop=True))
