"""Array helpers shared by the scoring stages: days, joins, text codes.

Dates become day numbers (days since 1970-01-01, ``int64``), identifiers
become row numbers (:func:`lookup`), text columns become integer codes
(Arrow dictionary encoding). Everything here is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from creditsup.exceptions import ConfigError

__all__ = [
    "ALWAYS",
    "NEVER",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "add_months",
    "as_of_timestamp",
    "column_or_none",
    "day_numbers",
    "factorize",
    "labels_from_codes",
    "lookup",
    "numeric_values",
    "pairs",
    "to_day",
]

#: Day number used for "never" (no end, no restoration).
NEVER = np.int64(2**62)
#: Day number used for "always" (a missing date sorts first).
ALWAYS = np.int64(-(2**62))

#: Array types of the scoring, tiering, calibration and backtest stages.
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Arrow string types -> pandas' default "str" dtype (zero-copy).
_STR_TYPES = {
    t: pd.StringDtype("pyarrow", na_value=np.nan)
    for t in (pa.string(), pa.large_string())
}


def as_of_timestamp(value: date | str | pd.Timestamp) -> pd.Timestamp:
    """Parse an ``as_of`` date (midnight), raising :class:`ConfigError` if invalid.

    Examples
    --------
    >>> as_of_timestamp("2026-12-31")
    Timestamp('2026-12-31 00:00:00')
    """
    try:
        ts = pd.Timestamp(value)
        bad = bool(pd.isna(ts))
    except (TypeError, ValueError):
        bad = True
    if bad:
        raise ConfigError(
            f"The 'as_of' date must be a valid date. Got {value!r} instead."
        )
    return ts.normalize()


def to_day(value: date | str | pd.Timestamp) -> np.int64:
    """Day number (days since 1970-01-01) of a date-like value.

    Examples
    --------
    >>> int(to_day("1970-01-02"))
    1
    """
    ts = as_of_timestamp(value)
    return np.int64(np.datetime64(ts.date(), "D").astype(np.int64))


def day_numbers(s: pd.Series | None, n: int, fill: np.int64) -> IntArray:
    """Day numbers of a datetime column; NaT (or a missing column) → ``fill``."""
    if s is None:
        return np.full(n, fill, dtype=np.int64)
    a = np.asarray(pd.to_datetime(s).to_numpy(dtype="datetime64[ns]"))
    out = a.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(a)] = fill
    return out


def add_months(day: IntArray, months: IntArray) -> IntArray:
    """Calendar-month arithmetic on day numbers (clipped to the month's end)."""
    d = day.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = d - m.astype("datetime64[D]")
    target = m + months.astype("timedelta64[M]")
    last = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(
        1, "D"
    )
    res = np.minimum(target.astype("datetime64[D]") + dom, last)
    return np.asarray(res.astype(np.int64), dtype=np.int64)


_KEY_DTYPE = np.dtype([("a", "<u8"), ("b", "<u8"), ("c", "<u2")])


def _fixed_keys(s: pd.Series) -> npt.NDArray[np.void] | None:
    """18-byte USCCs as a packed structured array, or None if not all 18 bytes."""
    try:
        arr = pa.array(s.array) if hasattr(s.array, "__arrow_array__") else pa.array(s)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        fb = pc.cast(arr, pa.binary(18))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if fb.null_count:
        return None
    buf = fb.buffers()[1]
    if buf is None:
        return np.zeros(0, dtype=_KEY_DTYPE)
    return np.frombuffer(buf, dtype=_KEY_DTYPE, count=len(fb), offset=fb.offset * 18)


def _mix(k: npt.NDArray[np.void]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        h = k["a"] * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
        h += k["b"] * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
        h += k["c"].astype(np.uint64) * np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(32)
    return np.asarray(h, dtype=np.uint64)


def lookup(keys: pd.Series, values: pd.Series) -> IntArray:
    """Row of ``keys`` holding each of ``values`` (-1 when absent); vectorised.

    ``keys`` must be unique. USCCs (18 bytes) go through a fast 64-bit hash join
    verified byte for byte; anything else through :meth:`pandas.Index.get_indexer`.

    Examples
    --------
    >>> lookup(pd.Series(["a", "b"]), pd.Series(["b", "c", "a"])).tolist()
    [1, -1, 0]
    """
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    kk, vk = _fixed_keys(keys), _fixed_keys(values)
    if kk is not None and vk is not None:
        # sorted tables repeat each USCC in runs: look up each run once
        head = np.ones(len(vk), dtype=bool)
        head[1:] = (
            (vk["a"][1:] != vk["a"][:-1])
            | (vk["b"][1:] != vk["b"][:-1])
            | (vk["c"][1:] != vk["c"][:-1])
        )
        run = np.cumsum(head) - 1
        vk = vk[head]
        hk, hv = _mix(kk), _mix(vk)
        index = pd.Index(hk)
        if index.is_unique:
            pos = np.asarray(index.get_indexer(pd.Index(hv)), dtype=np.int64)
            hit = pos >= 0
            p = np.where(hit, pos, 0)
            same = (
                (kk["a"][p] == vk["a"])
                & (kk["b"][p] == vk["b"])
                & (kk["c"][p] == vk["c"])
            )
            found = np.where(hit & same, pos, -1).astype(np.int64)
            return np.asarray(found[run], dtype=np.int64)
    return np.asarray(
        pd.Index(keys.astype(object)).get_indexer(values.astype(object)), dtype=np.int64
    )


def pairs(
    unit_ent: IntArray, n_ent: int, row_ent: IntArray
) -> tuple[IntArray, IntArray]:
    """All (row, unit) pairs where the row's entity is the unit's entity."""
    if len(unit_ent) < 2 or bool((unit_ent[1:] > unit_ent[:-1]).all()):
        order = np.arange(len(unit_ent), dtype=np.int64)  # already sorted, unique
    else:
        order = np.argsort(unit_ent, kind="stable")
    counts = np.bincount(unit_ent, minlength=n_ent).astype(np.int64)
    starts = np.cumsum(counts) - counts
    ok = row_ent >= 0
    rows_all = np.flatnonzero(ok)
    c = counts[row_ent[ok]]
    rows = np.repeat(rows_all, c)
    first = np.repeat(np.cumsum(c) - c, c)
    offs = np.arange(len(rows), dtype=np.int64) - first
    units = order[np.repeat(starts[row_ent[ok]], c) + offs]
    return rows.astype(np.int64), units.astype(np.int64)


def column_or_none(df: pd.DataFrame, name: str) -> pd.Series | None:
    return df[name] if name in df.columns else None


def factorize(values: pd.Series) -> tuple[IntArray, pd.Series]:
    """Codes (-1 = missing) and the distinct values, as text (Arrow hashing)."""
    text = values if values.dtype == "str" else values.astype("str")
    arr = pa.array(text.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = arr.dictionary_encode()
    codes = np.asarray(
        enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    uniq = pd.Series(enc.dictionary.to_pandas(types_mapper=_STR_TYPES.get))
    return codes, uniq


def labels_from_codes(codes: npt.ArrayLike, names: Sequence[str]) -> pd.Series:
    """A text column ``names[codes]`` built in Arrow (fast for millions of rows).

    Examples
    --------
    >>> labels_from_codes([1, 0, 1], ["A", "B"]).tolist()
    ['B', 'A', 'B']
    """
    idx = pa.array(np.asarray(codes, dtype=np.int32))
    dictionary = pa.array(list(names), type=pa.large_string())
    arr = pa.DictionaryArray.from_arrays(idx, dictionary).cast(pa.large_string())
    return pd.Series(arr.to_pandas(types_mapper=_STR_TYPES.get))


_TRUE_TEXT = ("true", "yes", "y", "t")
_FALSE_TEXT = ("false", "no", "n", "f")


def numeric_values(s: pd.Series) -> FloatArray:
    """A column as numbers: numbers as they are, booleans and ``true``/``false``
    text as 1/0, anything else (and gaps) NaN.

    Examples
    --------
    >>> numeric_values(pd.Series(["2", "true", "no", "x", None])).tolist()
    [2.0, 1.0, 0.0, nan, nan]
    """
    if pd.api.types.is_bool_dtype(s):
        return np.asarray(s.astype("float64"), dtype=np.float64)
    if pd.api.types.is_numeric_dtype(s):
        return np.asarray(s, dtype=np.float64)
    num = np.array(
        pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    )
    gaps = np.isnan(num)
    if gaps.any():
        text = s[gaps].astype("str").str.strip().str.lower()
        yes = np.asarray(text.isin(_TRUE_TEXT), dtype=bool)
        no = np.asarray(text.isin(_FALSE_TEXT), dtype=bool)
        num[gaps] = np.where(yes, 1.0, np.where(no, 0.0, np.nan))
    return num
