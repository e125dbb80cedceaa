"""Array helpers shared by every stage: ``;`` lists, availability, text sets."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def unavailable_bits(values: pd.Series) -> npt.NDArray[np.int64]:
    """Months an inspector is unavailable, as a bit mask (bit ``m`` for month ``m``).

    The one parser of the ``unavailable_months`` column (a ``;`` list of 1-12),
    used by the draw's capacity, the assignment's eligibility, the audit and the
    report alike.

    Examples
    --------
    >>> b = unavailable_bits(pd.Series(["1;7", "", None, " 12 "]))
    >>> b.tolist()
    [130, 0, 0, 4096]
    >>> available_in(b, 7).tolist()
    [False, True, True, True]
    """
    out = np.zeros(len(values), dtype=np.int64)
    long = explode_list(values.reset_index(drop=True))
    if len(long):
        months = pd.to_numeric(long, errors="coerce")
        ok = months.between(1, 12).to_numpy()
        np.bitwise_or.at(
            out,
            long.index.to_numpy()[ok],
            np.int64(1) << months.to_numpy()[ok].astype(np.int64),
        )
    return out


def available_in(bits: npt.NDArray[np.int64], month: int) -> npt.NDArray[np.bool_]:
    """``True`` where the mask from :func:`unavailable_bits` leaves ``month`` free."""
    return np.asarray((bits >> np.int64(month)) & 1 == 0, dtype=bool)


def explode_list(series: pd.Series) -> pd.Series:
    """Split a ``;``-list column into long form, keeping the original index.

    Empty lists produce no rows. Items are trimmed of whitespace; the split
    runs in pyarrow (vectorised), the result equals pandas'
    ``str.split(";").explode()`` with stripped, non-empty items.

    Examples
    --------
    >>> explode_list(pd.Series(["a;b", "", "c"])).tolist()
    ['a', 'b', 'c']
    >>> explode_list(pd.Series(["a;b", "", "c"])).index.tolist()
    [0, 0, 2]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(
        series.fillna("").astype(str).to_numpy(dtype=object), type=pa.string()
    )
    lists = pc.split_pattern(arr, ";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    vals = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=object)
    keep = vals != ""
    index = series.index[parent[keep]]
    if len(series) and isinstance(index, pd.RangeIndex):  # as explode: a plain Index
        index = pd.Index(index.to_numpy(), name=index.name)
    return pd.Series(vals[keep], index=index, dtype=str, name=series.name)


def _arrow_text(s: pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """The Arrow array behind a text column (no copy), or ``None`` if not text."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return pa.array(s, from_pandas=True)
    return None


def _isin(s: pd.Series, values: object) -> npt.NDArray[np.bool_]:
    """Vectorised ``s.isin(values)`` for text (pyarrow's hash-based ``is_in``).

    pandas' ``isin`` on Arrow-backed strings loops in Python; this does not.
    Missing values are never in the set.

    Examples
    --------
    >>> _isin(pd.Series(["a", None, "c"], dtype="str"), {"a", "b"}).tolist()
    [True, False, False]
    """
    arr = _arrow_text(s)
    if arr is None:
        arr = pa.array(
            s.astype(object).where(s.notna(), None).to_numpy(),
            type=pa.string(),
            from_pandas=True,
        )
    if isinstance(values, pd.Series):
        vals = _arrow_text(values)
        if vals is None:
            vals = pa.array([str(v) for v in values.dropna().unique()], pa.string())
        else:
            vals = pc.unique(vals.drop_null())
    else:
        vals = pa.array(sorted({str(v) for v in values}), type=pa.string())  # type: ignore[attr-defined]
    if vals.type != arr.type:
        vals = vals.cast(arr.type)
    out = pc.is_in(arr, value_set=vals, skip_nulls=True)
    return np.asarray(
        pc.fill_null(out, False).to_numpy(zero_copy_only=False), dtype=bool
    )


def _blank(s: pd.Series) -> pd.Series:
    """Null or whitespace-only.

    On Arrow-backed text, one ``utf8_is_space`` pass (it stops at the first
    other character) instead of stripping every value.

    >>> _blank(pd.Series(["", " ", "\u3000", "a", " a ", None], dtype="str")).tolist()
    [True, True, True, False, False, True]
    """
    arr = _arrow_text(s)
    if arr is None:
        return s.isna() | (s.astype(str).str.strip() == "")
    blank = pc.fill_null(
        pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr)), True
    )
    return pd.Series(
        np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool), index=s.index
    )


def _text(s: pd.Series) -> pd.Series:
    out = s.astype("str").str.strip()
    return out.where(~_blank(s), None).astype("str")
