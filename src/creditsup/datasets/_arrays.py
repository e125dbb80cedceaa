"""Small vectorised helpers of the synthetic district: day numbers, weighted
choices, Poisson events (numpy) and Arrow string columns.

Days are ``int64`` day numbers since 1970-01-01 (``NAT`` for none); text
columns are built as Arrow ``large_string`` arrays and turned into pandas
``str`` Series once, with no Python object per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

IntArr = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.float64]
BoolArr = npt.NDArray[np.bool_]
ObjArr = npt.NDArray[np.object_]

__all__ = [
    "NAT",
    "BoolArr",
    "FloatArr",
    "IntArr",
    "ObjArr",
    "add_months",
    "as_dates",
    "choice",
    "const_text",
    "day_number",
    "if_else",
    "join",
    "largest_remainder",
    "mult",
    "pick",
    "poisson_events",
    "row_choice",
    "scatter",
    "sigmoid",
    "take",
    "to_text",
    "to_weekday",
]

#: The "no date" day number.
NAT = np.iinfo(np.int64).min
_EPOCH = np.datetime64("1970-01-01", "D")
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


# ------------------------------------------------------------------- numbers
def day_number(y: int, m: int, d: int) -> int:
    """The day number of a calendar date.

    Examples
    --------
    >>> day_number(1970, 1, 2)
    1
    """
    return int((np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D") - _EPOCH).astype(int))


def add_months(days: IntArr, months: int) -> IntArr:
    """Calendar month arithmetic on day numbers (day clamped to month end)."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    nm = m + np.timedelta64(months, "M")
    start = nm.astype("datetime64[D]")
    length = ((nm + np.timedelta64(1, "M")).astype("datetime64[D]") - start).astype(
        np.int64
    )
    out = (start + np.minimum(dom, length - 1)).astype(np.int64)
    return np.asarray(out, dtype=np.int64)


def to_weekday(days: IntArr) -> IntArr:
    """Move Saturdays back to Friday and Sundays on to Monday."""
    wd = (days + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    return np.asarray(days - (wd == 5) + (wd == 6), dtype=np.int64)


def as_dates(days: IntArr) -> npt.NDArray[np.datetime64]:
    """Day numbers as ``datetime64[us]`` (``NAT`` becomes NaT)."""
    out = days.astype("datetime64[D]").astype("datetime64[us]")
    return np.asarray(out)


def mult(s: FloatArr, gamma: float) -> FloatArr:
    """Mean-preserving risk multiplier ``exp(gamma*s - gamma**2/2)``."""
    return np.asarray(np.exp(gamma * s - gamma * gamma / 2.0), dtype=np.float64)


def sigmoid(x: FloatArr) -> FloatArr:
    """The logistic function."""
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def pick(table: list[str] | tuple[str, ...], idx: IntArr) -> ObjArr:
    """``table[idx]`` as an object array."""
    return np.asarray(np.array(table, dtype=object)[idx], dtype=object)


def choice(rng: np.random.Generator, p: FloatArr, size: int) -> IntArr:
    """``size`` draws of an index with (unnormalised) probabilities ``p``."""
    p = np.asarray(p, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    idx = np.searchsorted(cum, rng.random(size), side="right")
    return np.minimum(idx, len(p) - 1).astype(np.int64)


def row_choice(rng: np.random.Generator, weights: FloatArr) -> IntArr:
    """One weighted choice per row of ``weights`` (rows with zero weight: -1)."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    u = rng.random(len(weights)) * total
    idx = (cum <= u[:, None]).sum(axis=1).astype(np.int64)
    return np.where(total > 0, np.minimum(idx, weights.shape[1] - 1), -1)


def poisson_events(
    rng: np.random.Generator, rate: FloatArr, start: IntArr, end: IntArr
) -> tuple[IntArr, IntArr]:
    """Poisson events per entity over ``[start, end)`` days: (entity, day)."""
    span = np.clip(end - start, 0, None)
    k = rng.poisson(np.clip(rate, 0, None) * span / 365.25)
    ent = np.repeat(np.arange(len(rate), dtype=np.int64), k)
    day = start[ent] + np.floor(rng.random(len(ent)) * span[ent]).astype(np.int64)
    return ent, day


def largest_remainder(total: int, weights: FloatArr) -> IntArr:
    """Split ``total`` in proportion to ``weights`` (Hamilton's method).

    Examples
    --------
    >>> largest_remainder(5, np.array([1.0, 1.0, 2.0])).tolist()
    [1, 1, 3]
    """
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    w = (
        weights / weights.sum()
        if weights.sum() > 0
        else np.full(len(weights), 1 / len(weights))
    )
    raw = total * w
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(raw - base)))
    base[order[:rest]] += 1
    return np.asarray(base, dtype=np.int64)


# ---------------------------------------------------------------------- text
def take(table: list[str] | tuple[str, ...] | ObjArr, idx: IntArr) -> Any:
    """``table[idx]`` as an Arrow string array (fast, no Python objects)."""
    return pa.array(list(table), type=pa.large_string()).take(pa.array(idx))


def _lit(x: Any) -> Any:
    return (
        pa.scalar(x, type=pa.large_string()) if x is None or isinstance(x, str) else x
    )


def join(*parts: Any) -> Any:
    """Element-wise concatenation of Arrow string arrays (or str scalars)."""
    return pc.binary_join_element_wise(*[_lit(p) for p in parts], _lit(""))


def if_else(cond: BoolArr, a: Any, b: Any) -> Any:
    """Arrow ``where``: ``a`` where ``cond`` else ``b`` (arrays or str scalars)."""
    return pc.if_else(pa.array(np.asarray(cond, dtype=bool)), _lit(a), _lit(b))


def to_text(arr: Any) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (zero copy)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pd.Series(
        arr.cast(pa.large_string()).to_pandas(
            types_mapper={pa.large_string(): _STR}.get
        )
    )


def scatter(parts: list[tuple[IntArr, Any]], n: int) -> Any:
    """Scatter per-subset Arrow arrays back to positions ``0..n-1``."""
    idx = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    if not parts:
        return pa.array([], type=pa.large_string())
    joined = pa.concat_arrays([p[1].cast(pa.large_string()) for p in parts])
    inverse = np.empty(n, dtype=np.int64)
    inverse[idx] = np.arange(len(idx))
    return joined.take(pa.array(inverse))


def const_text(value: Any, m: int) -> Any:
    """A string column of length ``m`` as an Arrow array (``value``: a str,
    None, or an array of strings)."""
    if value is None:
        return pa.nulls(m, type=pa.large_string())
    if isinstance(value, str):
        return take([value], np.zeros(m, dtype=np.int64))
    if isinstance(value, pa.Array):
        return value.cast(pa.large_string())
    return pa.array(np.asarray(value, dtype=object), type=pa.large_string())
