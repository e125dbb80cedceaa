"""Records as arrays, with the as-of rules applied (the first scoring stage).

:func:`prepare_arrays` turns a dataset into the arrays every scoring call
shares: the entity row of each record and inspection, day numbers, kind and
result codes, and each record's effective end (the earlier of ``end_date``
and its default publicity end, R21). :func:`active_flags` reads them for the
tier overrides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup.scoring._arrays import (
    ALWAYS,
    NEVER,
    FloatArray,
    IntArray,
    add_months,
    column_or_none,
    day_numbers,
    factorize,
    lookup,
    pairs,
)
from creditsup.scoring.scorecard import Scorecard, default_scorecard

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "PreparedArrays",
    "RecordArrays",
    "active_flags",
    "prepare_arrays",
    "record_arrays",
]

logger = logging.getLogger(__name__)


def _effective_end(
    scorecard: Scorecard,
    kind: IntArray,
    kind_names: Sequence[str],
    day: IntArray,
    end: IntArray,
    severity: FloatArray,
) -> IntArray:
    """End day of each record: the earlier of ``end_date`` and its default
    publicity end (R21); ``NEVER`` when neither applies."""
    end = end.copy()
    for rule in scorecard.publicity:
        if rule.kind not in kind_names:
            continue
        m = kind == list(kind_names).index(rule.kind)
        months = np.full(int(m.sum()), -1, dtype=np.int64)
        if rule.months is not None:
            months[:] = rule.months
        if rule.minor_months is not None and rule.minor_max_severity is not None:
            minor = severity[m] <= rule.minor_max_severity
            months[minor] = rule.minor_months
        has = months >= 0
        default_end = np.full(len(months), NEVER, dtype=np.int64)
        default_end[has] = add_months(day[m][has], months[has])
        end[m] = np.minimum(end[m], default_end)
    return end


@dataclass(frozen=True)
class RecordArrays:
    """Records as arrays: entity row, kind code, days (as-of rules applied)."""

    ent: IntArray  # entity row, -1 = unknown entity
    kind: IntArray  # code into kind_names
    kind_names: tuple[str, ...]
    day: IntArray
    end: IntArray  # effective end (end_date or R21 default, the earlier)
    restored: IntArray
    severity: FloatArray
    value_codes: IntArray  # code into value_uniques, -1 = missing
    value_uniques: pd.Series


def record_arrays(
    entities: pd.DataFrame, rec: pd.DataFrame, scorecard: Scorecard
) -> RecordArrays:
    """The records as arrays (entity rows, kind codes, days, effective ends).

    Records of an entity not in ``entities``, or without a kind, get entity
    row -1 and are ignored by every statistic.
    """
    n = len(rec)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return RecordArrays(
            z, z, (), z, z, z, np.zeros(0), z, pd.Series([], dtype="str")
        )
    ent = lookup(entities["uscc"], rec["uscc"])
    unknown = int((ent < 0).sum())
    if unknown:
        logger.warning("Ignoring %d record(s) of unknown entities.", unknown)
    kind, names = factorize(rec["kind"])
    kind_names = tuple(str(k) for k in names)
    ent[kind < 0] = -1  # a record without a kind is ignored
    day = day_numbers(rec["date"], n, NEVER)
    severity = _severity(rec)
    end = _effective_end(
        scorecard,
        kind,
        kind_names,
        day,
        day_numbers(column_or_none(rec, "end_date"), n, NEVER),
        severity,
    )
    val = column_or_none(rec, "value")
    if val is None:
        vcodes, vuniq = np.full(n, -1, dtype=np.int64), pd.Series([], dtype="str")
    else:
        vcodes, vuniq = factorize(val)
    return RecordArrays(
        ent=ent,
        kind=kind,
        kind_names=kind_names,
        day=day,
        end=end,
        restored=day_numbers(column_or_none(rec, "restored_on"), n, NEVER),
        severity=severity,
        value_codes=vcodes,
        value_uniques=vuniq,
    )


def _severity(rec: pd.DataFrame) -> FloatArray:
    col = column_or_none(rec, "severity")
    if col is None:
        return np.full(len(rec), np.nan)
    return np.array(pd.to_numeric(col, errors="coerce"), dtype=np.float64)


def active_flags(
    dataset: Dataset,
    *,
    kinds: Sequence[str],
    unit_ent: IntArray,
    unit_day: IntArray,
    scorecard: Scorecard | None = None,
    min_days: int = 0,
) -> npt.NDArray[np.bool_]:
    """Whether each unit (entity row, as-of day) has a live record of ``kinds``.

    A record is live under the same rules as in scoring (not ended, not
    restored, R21 default periods) but without a look-back window; with
    ``min_days`` it must also have been listed for at least that many days.
    Used for the tier overrides (C2).
    """
    sc = scorecard if scorecard is not None else default_scorecard()
    rec = dataset.records
    out = np.zeros(len(unit_ent), dtype=bool)
    if len(rec) == 0 or len(unit_ent) == 0:
        return out
    ra = record_arrays(
        dataset.entities, rec[np.array(rec["kind"].isin(list(kinds)), dtype=bool)], sc
    )
    r, u = pairs(unit_ent, len(dataset.entities), ra.ent)
    ad = unit_day[u]
    live = (ra.day[r] <= ad - min_days) & (ra.end[r] > ad) & (ra.restored[r] > ad)
    out[u[live]] = True
    return out


@dataclass(frozen=True)
class PreparedArrays:
    """Per-dataset arrays shared by every scoring call (days, joins, codes)."""

    n_ent: int
    est_day: IntArray
    rec: RecordArrays
    hist_ent: IntArray
    hist_day: IntArray
    hist_result: IntArray  # code into hist_results
    hist_results: tuple[str, ...]


def prepare_arrays(dataset: Dataset, scorecard: Scorecard) -> PreparedArrays:
    """Entities, records and history of ``dataset`` as arrays (see the class).

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ds = Dataset(entities=pd.DataFrame({"uscc": ["914403001922038216"],
    ...     "established": pd.to_datetime(["1970-01-11"])}))
    >>> prep = prepare_arrays(ds, default_scorecard())
    >>> prep.n_ent, prep.est_day.tolist(), len(prep.rec.day)
    (1, [10], 0)
    """
    ent = dataset.entities
    hist = dataset.history
    if len(hist):
        hist_ent = lookup(ent["uscc"], hist["uscc"])
        hist_day = day_numbers(hist["date"], len(hist), NEVER)
        res, names = factorize(hist["result"])
    else:
        hist_ent = hist_day = res = np.zeros(0, dtype=np.int64)
        names = pd.Series([], dtype="str")
    return PreparedArrays(
        n_ent=len(ent),
        est_day=day_numbers(ent["established"], len(ent), ALWAYS),
        rec=record_arrays(ent, dataset.records, scorecard),
        hist_ent=hist_ent,
        hist_day=hist_day,
        hist_result=res,
        hist_results=tuple(str(x) for x in names),
    )
