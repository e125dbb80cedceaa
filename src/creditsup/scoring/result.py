"""Scores as of a date: :func:`score_entities`, :class:`ScoreResult`, reasons.

The last scoring stage: choose the units (every entity established by the
date), evaluate the indicators, add up the points and explain them
(:func:`reason_codes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup.scoring._arrays import (
    ALWAYS,
    IntArray,
    as_of_timestamp,
    day_numbers,
    labels_from_codes,
    to_day,
)
from creditsup.scoring.indicators import (
    Evaluation,
    GroupCounts,
    evaluate_indicators,
    group_counts,
    points_matrix,
)
from creditsup.scoring.records import PreparedArrays, prepare_arrays
from creditsup.scoring.scorecard import Scorecard, default_scorecard

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["ScoreResult", "reason_codes", "score_entities", "units_as_of"]

logger = logging.getLogger(__name__)


def _summary_row(
    name: str, dimension: str, active: bool, points: pd.Series
) -> dict[str, Any]:
    stats = {"share_nonzero": (points != 0).mean()}
    stats.update(mean=points.mean(), min=points.min(), max=points.max())
    values = {k: float(v) if len(points) else 0.0 for k, v in stats.items()}
    return {"indicator": name, "dimension": dimension, "active": active, **values}


@dataclass(frozen=True)
class ScoreResult:
    """Scores as of a date, with per-indicator contributions.

    Attributes
    ----------
    table : DataFrame
        ``uscc``, ``score`` and one ``pts_<indicator>`` column per indicator,
        sorted by ``uscc``: one row per entity established on or before
        ``as_of``.
    details : DataFrame
        ``uscc`` and the raw statistic of each indicator (count, severity,
        age in years, category code ...), same rows as ``table``.
    as_of : Timestamp
    scorecard : Scorecard
    inactive : tuple of str
        Indicators skipped because their column has no data (scored 0).
    n_not_established : int
        Entities established after ``as_of`` (not scored).
    """

    table: pd.DataFrame
    details: pd.DataFrame
    as_of: pd.Timestamp
    scorecard: Scorecard
    inactive: tuple[str, ...] = ()
    n_not_established: int = 0

    def summary(self) -> pd.DataFrame:
        """Per indicator: dimension, active, share of entities with non-zero points,
        mean, min and max points; plus a ``score`` row."""
        rows = [
            _summary_row(
                ind.name,
                ind.dimension,
                ind.name not in self.inactive,
                self.table[f"pts_{ind.name}"],
            )
            for ind in self.scorecard.indicators
        ]
        rows.append(_summary_row("score", "", True, self.table["score"]))
        return pd.DataFrame(rows)


def units_as_of(
    dataset: Dataset, prep: PreparedArrays, day: np.int64
) -> tuple[IntArray, IntArray]:
    """The entity rows to score on ``day``, sorted by ``uscc``, and their days.

    An entity counts when it was established on or before ``day``.
    """
    exists = prep.est_day <= day
    ids = dataset.entities["uscc"]
    if ids.is_monotonic_increasing:
        unit_ent = np.flatnonzero(exists).astype(np.int64)
    else:
        order = np.argsort(ids.to_numpy(dtype=object), kind="stable").astype(np.int64)
        unit_ent = order[exists[order]]
    return unit_ent, np.full(len(unit_ent), day, dtype=np.int64)


def _score_tables(
    scorecard: Scorecard, ev: Evaluation, uscc: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The score table (``uscc, score, pts_*``) and the details (statistics)."""
    pts = points_matrix(scorecard, ev, len(uscc))
    names = [i.name for i in scorecard.indicators]
    table = pd.DataFrame(pts.T, columns=[f"pts_{n}" for n in names], copy=False)
    table.insert(0, "uscc", uscc)
    table.insert(1, "score", np.round(scorecard.base_points + pts.sum(axis=0), 6))
    vals = np.zeros((len(names), len(uscc)), dtype=np.float64)
    for j, name in enumerate(names):
        vals[j] = ev.values[name]
    details = pd.DataFrame(vals.T, columns=names, copy=False)
    details.insert(0, "uscc", uscc)
    return table, details


def score_entities(
    dataset: Dataset,
    scorecard: Scorecard | None = None,
    *,
    as_of: date | str | pd.Timestamp,
    shared: GroupCounts | None = None,
) -> ScoreResult:
    """Score every entity established on or before ``as_of``.

    Vectorised over entities and records (no per-entity Python loop).

    Parameters
    ----------
    dataset : Dataset
        A validated dataset (:func:`creditsup.schemas.validate_dataset`).
    scorecard : Scorecard, optional
        Defaults to :func:`default_scorecard`.
    as_of : date, str or Timestamp
        Only what was known on this day counts (see the module docstring).
    shared : GroupCounts, optional
        When ``dataset`` is one slice of the entities (partitioned by USCC,
        with their records and history), the whole population's counts for
        the relationship indicators (:func:`slice_group_counts` of every
        slice, added): each slice then scores exactly as the whole would.

    Returns
    -------
    ScoreResult
        ``table`` with ``uscc``, ``score`` and ``pts_<indicator>``.

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ent = pd.DataFrame({"uscc": ["914403001922038216", "91330100716105852F"],
    ...     "entity_type": ["enterprise", "individual"], "industry": ["F5211", "H6210"],
    ...     "established": pd.to_datetime(["2010-05-01", "2018-01-31"])})
    >>> rec = pd.DataFrame({"uscc": ["914403001922038216"], "kind": ["penalty"],
    ...     "date": pd.to_datetime(["2024-03-01"]), "severity": [3.0]})
    >>> res = score_entities(Dataset(entities=ent, records=rec), as_of="2025-01-01")
    >>> res.table[["uscc", "score", "pts_penalties"]].values.tolist()
    [['91330100716105852F', 8.0, 0.0], ['914403001922038216', 29.0, 12.0]]
    """
    sc = scorecard if scorecard is not None else default_scorecard()
    ts = as_of_timestamp(as_of)
    prep = prepare_arrays(dataset, sc)
    unit_ent, unit_day = units_as_of(dataset, prep, to_day(ts))
    ev = evaluate_indicators(dataset, sc, prep, unit_ent, unit_day, shared=shared)
    uscc = dataset.entities["uscc"].iloc[unit_ent].reset_index(drop=True)
    table, details = _score_tables(sc, ev, uscc)
    n_new = prep.n_ent - len(unit_ent)
    if n_new:
        logger.info(
            "%d entities established after %s are not scored.", n_new, ts.date()
        )
    return ScoreResult(
        table, details, ts, sc, inactive=ev.inactive, n_not_established=n_new
    )


def slice_group_counts(
    dataset: Dataset,
    scorecard: Scorecard | None = None,
    *,
    as_of: date | str | pd.Timestamp,
) -> GroupCounts:
    """What the entities of ``dataset`` add to the relationship indicators.

    Add the counts of every slice (:meth:`GroupCounts.plus`) and pass the
    sum to :func:`score_entities` (``shared=``) to score each slice alone.

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ent = pd.DataFrame({"uscc": ["914403001922038216", "91330100716105852F"],
    ...     "entity_type": ["other", "other"], "industry": ["A0111", "A0111"],
    ...     "established": pd.to_datetime(["2000-01-01", "2001-01-01"]),
    ...     "address": ["1 Road", " 1 road"]})
    >>> one, two = (Dataset(entities=ent.iloc[[i]]) for i in (0, 1))
    >>> total = slice_group_counts(one, as_of="2025-01-01").plus(
    ...     slice_group_counts(two, as_of="2025-01-01"))
    >>> total.counts["shared_address"].to_dict()
    {'1 road': 2}
    >>> whole = score_entities(Dataset(entities=ent), as_of="2025-01-01")
    >>> part = score_entities(one, as_of="2025-01-01", shared=total)
    >>> float(part.table["score"][0]) == float(whole.table["score"][1])
    True
    """
    sc = scorecard if scorecard is not None else default_scorecard()
    ent = dataset.entities
    est = day_numbers(ent["established"], len(ent), ALWAYS)
    return group_counts(ent, sc, est, int(to_day(as_of_timestamp(as_of))))


def reason_codes(scores: ScoreResult, *, top: int = 3) -> pd.Series:
    """The ``top`` indicators that cost each entity the most points, ';'-joined.

    Only indicators with positive points are named; ties go to the earlier
    indicator of the scorecard. Vectorised (the distinct combinations are
    joined once).

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ent = pd.DataFrame({"uscc": ["914403001922038216"], "entity_type": ["other"],
    ...     "industry": ["A0111"], "established": pd.to_datetime(["2000-01-01"])})
    >>> res = score_entities(Dataset(entities=ent), as_of="2025-01-01")
    >>> reason_codes(res).tolist()
    ['entity_type;industry;registered_capital']
    """
    names = np.asarray(
        [i.name for i in scores.scorecard.indicators] + [""], dtype=object
    )
    k = len(names) - 1
    tab = scores.table
    if k == 0 or len(tab) == 0:
        return pd.Series([""] * len(tab), index=tab.index, dtype="str", name="reasons")
    pts = tab[[f"pts_{n}" for n in names[:-1]]].to_numpy(dtype=np.float64, copy=True)
    rows = np.arange(len(tab))
    picks = []
    for _ in range(min(top, k)):  # argmax takes the first maximum: earlier wins
        j = np.argmax(pts, axis=1)
        best = pts[rows, j]
        picks.append(np.where(best > 0, j, k))
        pts[rows, j] = -np.inf
    order = np.column_stack(picks)
    base = k + 1
    code = np.zeros(len(tab), dtype=np.int64)
    for j in range(order.shape[1]):
        code = code * base + order[:, j]
    inv, uniq = pd.factorize(code, sort=True)
    labels = []
    for c in np.asarray(uniq).tolist():  # one label per distinct combination
        parts = []
        for _ in range(order.shape[1]):
            parts.append(names[c % base])
            c //= base
        labels.append(";".join(p for p in reversed(parts) if p))
    out = labels_from_codes(inv, labels).rename("reasons")
    out.index = tab.index
    return out
