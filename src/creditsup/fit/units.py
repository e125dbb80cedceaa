"""Stage 1: the training units, one per (entity, snapshot) with an outcome.

A *snapshot* is a past split ``t`` on a grid anchored at the cut-off ``C``:
``t = C - m * step_days`` for ``m = 1, 2, ...`` (at most ``max_snapshots``,
and only while ``min_history_days`` of history lie before ``t``). Each
snapshot mimics the split the scorecard will be used on:

* the features are computed as of ``t - 1 day`` (only rows dated before
  ``t``; :mod:`~creditsup.fit.candidates`);
* the outcome is the entity's *first* outcome inspection in
  ``[t, min(t + horizon_days, C))`` (or ``[t, min(t + step_days, C))`` with
  ``outcome_window='step'``: then each inspection labels one unit)
  (:func:`creditsup.evaluate.outcomes.first_outcomes`), so every label is
  known before ``C``.

Clipping at an earlier cut-off ``K`` on the same grid keeps the units of
the snapshots before ``K`` whose first outcome falls before ``K``, with the
same label (:meth:`Units.before`): that is how the validation folds and the
held-out window train on the past only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup.evaluate.outcomes import first_outcomes
from creditsup.fit.options import FitOptions
from creditsup.scoring import lookup, to_day
from creditsup.scoring._arrays import ALWAYS, BoolArray, IntArray, day_numbers

__all__ = ["Units", "snapshot_grid", "training_units"]

ONE_DAY = pd.Timedelta(days=1)


def snapshot_grid(
    hist_dates: pd.Series, cutoff: pd.Timestamp, options: FitOptions
) -> list[pd.Timestamp]:
    """The snapshots before ``cutoff``, latest first.

    Examples
    --------
    >>> d = pd.Series(pd.to_datetime(["2020-01-01", "2021-06-30"]))
    >>> [str(t.date()) for t in snapshot_grid(d, pd.Timestamp("2021-07-01"),
    ...                                       FitOptions(min_history_days=180))]
    ['2021-04-01', '2020-12-31', '2020-10-01', '2020-07-02']
    """
    past = pd.to_datetime(hist_dates)
    past = past[past < cutoff]
    if len(past) == 0:
        return []
    start = past.min() + pd.Timedelta(days=options.min_history_days)
    out: list[pd.Timestamp] = []
    for m in range(1, options.max_snapshots + 1):
        t = cutoff - pd.Timedelta(days=m * options.step_days)
        if t - ONE_DAY < start:
            break
        out.append(t)
    return out


@dataclass(frozen=True)
class Units:
    """Training units: (entity, snapshot) pairs with an outcome.

    Sorted by snapshot, then USCC (so the fit does not depend on row order).

    Attributes
    ----------
    ent : ndarray of int
        Entity row in the dataset.
    uscc : ndarray of object
    snapshot : ndarray of int
        The snapshot ``t`` (day number).
    day : ndarray of int
        The day the features are computed as of: ``t - 1``.
    first : ndarray of int
        Day of the first outcome inspection.
    y : ndarray of bool
        Whether it found a problem.
    cutoff : Timestamp
        Every ``first`` is before it.
    seen : ndarray of int, optional
        Day of the entity's first history row before ``cutoff`` (a very
        large day when none): the unit has history when ``seen < snapshot``.
    population : tuple of ndarray of int, optional
        Per entity of the dataset: the day it was established and the day of
        its first history row before ``cutoff`` (the population a scorecard
        made at a cut-off ranks, for ``history_weights='population'``).
    """

    ent: IntArray
    uscc: npt.NDArray[np.object_]
    snapshot: IntArray
    day: IntArray
    first: IntArray
    y: BoolArray
    cutoff: pd.Timestamp
    seen: IntArray | None = None
    population: tuple[IntArray, IntArray] | None = None

    def __len__(self) -> int:
        return len(self.ent)

    def subset(self, mask: BoolArray) -> Units:
        """The units where ``mask`` holds."""
        return Units(
            self.ent[mask],
            self.uscc[mask],
            self.snapshot[mask],
            self.day[mask],
            self.first[mask],
            self.y[mask],
            self.cutoff,
            None if self.seen is None else self.seen[mask],
            self.population,
        )

    @property
    def has_history(self) -> BoolArray:
        """Whether each unit's entity has a history row before its snapshot."""
        if self.seen is None:
            return np.zeros(len(self.ent), dtype=bool)
        return np.asarray(self.seen < self.snapshot, dtype=bool)

    def before(self, cutoff: pd.Timestamp) -> BoolArray:
        """Units of a training set clipped at ``cutoff``: snapshot and first
        outcome both before it."""
        k = to_day(cutoff)
        return np.asarray((self.snapshot < k) & (self.first < k), dtype=bool)

    def at(self, snapshot: pd.Timestamp, cutoff: pd.Timestamp) -> BoolArray:
        """Units of one snapshot whose outcome falls before ``cutoff``."""
        at = (self.snapshot == to_day(snapshot)) & (self.first < to_day(cutoff))
        return np.asarray(at, dtype=bool)

    @property
    def snapshots(self) -> list[pd.Timestamp]:
        """The snapshots that have units, latest first."""
        days = sorted({int(d) for d in np.unique(self.snapshot)}, reverse=True)
        return [pd.Timestamp(d, unit="D") for d in days]


#: The day of an entity with no history row (after any real day).
NEVER = np.iinfo(np.int64).max // 2


def _first_seen(
    entities: pd.DataFrame, hist: pd.DataFrame, cutoff: pd.Timestamp
) -> IntArray:
    """Per entity: the day of its first history row before ``cutoff``."""
    d = pd.to_datetime(hist["date"])
    past = np.asarray(d < cutoff, dtype=bool)
    days = day_numbers(d[past], int(past.sum()), ALWAYS)
    row = lookup(entities["uscc"], hist["uscc"][past])
    ok = row >= 0
    first = pd.Series(days[ok]).groupby(row[ok], sort=False).min()
    out = np.full(len(entities), NEVER, dtype=np.int64)
    out[first.index.to_numpy(dtype=np.int64)] = first.to_numpy(dtype=np.int64)
    return out


def _window_days(options: FitOptions) -> int:
    """Days of a snapshot's outcome window (``outcome_window``)."""
    if options.outcome_window == "step":
        return min(options.step_days, options.horizon_days)
    return options.horizon_days


def training_units(
    entities: pd.DataFrame,
    hist: pd.DataFrame,
    event: BoolArray,
    *,
    cutoff: pd.Timestamp,
    options: FitOptions,
) -> Units:
    """Stage: the units of every snapshot before ``cutoff``.

    Parameters
    ----------
    entities, hist : DataFrame
        The dataset's entities and history (results re-coded when asked).
    event : ndarray of bool
        Per history row: whether it is an event (the outcome).
    cutoff : Timestamp
        No label may come from on or after it.
    options : FitOptions
    """
    est = day_numbers(entities["established"], len(entities), ALWAYS)
    first_seen = _first_seen(entities, hist, cutoff)
    parts = []
    for t in snapshot_grid(hist["date"], cutoff, options):
        end = min(t + pd.Timedelta(days=_window_days(options)), cutoff)
        outs = first_outcomes(
            hist,
            event,
            start=t,
            end=end,
            triggers=options.outcome_triggers,
            exclude_results=options.exclude_results,
        )
        if len(outs) == 0:
            continue
        row = lookup(entities["uscc"], outs["uscc"])
        day = to_day(t - ONE_DAY)
        keep = row >= 0
        keep[keep] = est[row[keep]] <= day
        part = pd.DataFrame(
            {
                "ent": row[keep],
                "uscc": outs["uscc"].to_numpy(dtype=object)[keep],
                "snapshot": np.int64(to_day(t)),
                "first": day_numbers(outs["first_date"], len(outs), ALWAYS)[keep],
                "y": outs["y"].to_numpy(dtype=bool)[keep],
            }
        )
        parts.append(part.sort_values("uscc", kind="stable"))
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return Units(
            z,
            np.zeros(0, dtype=object),
            z,
            z,
            z,
            np.zeros(0, bool),
            cutoff,
            z,
            (est, first_seen),
        )
    df = pd.concat(parts, ignore_index=True)
    snap = df["snapshot"].to_numpy(dtype=np.int64)
    ent = df["ent"].to_numpy(dtype=np.int64)
    return Units(
        ent=ent,
        uscc=df["uscc"].to_numpy(dtype=object),
        snapshot=snap,
        day=snap - 1,
        first=df["first"].to_numpy(dtype=np.int64),
        y=df["y"].to_numpy(dtype=bool),
        cutoff=cutoff,
        seen=first_seen[ent],
        population=(est, first_seen),
    )
