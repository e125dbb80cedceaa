"""Lazy, vectorised validation: every failure of every table at once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from creditsup import uscc as _uscc
from creditsup._random import derive_key, keyed_uint64
from creditsup.exceptions import FAILURE_COLUMNS, DataValidationError
from creditsup.io import dataset_paths, read_table
from creditsup.labels import codes_from_labels, column_from_header
from creditsup.schemas.dataset import Dataset
from creditsup.schemas.lists import _arrow_text, _blank, _isin, _text, explode_list
from creditsup.schemas.tables import (
    _CONTROL,
    _FALSE,
    _SORT_KEYS,
    _TRUE,
    SCHEMAS,
    Column,
    DateWindow,
)
from creditsup.schemas.vocab import ZH_ALIASES

logger = logging.getLogger(__name__)

_USCC_OK = _uscc.PROBLEMS.index(_uscc.UsccProblem.OK)


class _Collector:
    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        table: str,
        rows: np.ndarray[Any, Any] | pd.Index | list[int],
        column: str,
        values: pd.Series | list[Any] | np.ndarray[Any, Any],
        rule: str,
        message: pd.Series | list[str] | str,
    ) -> None:
        rows_arr = np.asarray(rows, dtype=np.int64)
        if len(rows_arr) == 0:
            return
        vals = pd.Series(np.asarray(values, dtype=object)).astype(str)
        msg = message if isinstance(message, str) else list(message)
        self.parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "row": rows_arr,
                    "column": column,
                    "value": vals.to_numpy(),
                    "rule": rule,
                    "message": msg,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=list(FAILURE_COLUMNS))
        out = pd.concat(self.parts, ignore_index=True)
        order = out["table"].map({t: i for i, t in enumerate(SCHEMAS)}).fillna(99)
        return (
            out.assign(_o=order)
            .sort_values(["_o", "row", "column", "rule"], kind="stable")
            .drop(columns="_o")
            .reset_index(drop=True)
        )


_Rows = np.ndarray[Any, Any]


@dataclass(frozen=True)
class _Cell:
    """One column being parsed: where it is, its raw values and which are present."""

    table: str
    name: str
    col: Column
    raw: pd.Series
    present: npt.NDArray[np.bool_]
    rows: _Rows
    dates: DateWindow


def _per_distinct(raw: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn(raw)`` for an element-wise ``fn``, computed once per distinct value.

    Enumerations, flags and dates repeat: a million rows hold a few thousand
    distinct values (dictionary encoding). Missing values stay missing.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if len(uniques) * 2 > len(raw):
        return fn(raw)
    done = fn(pd.Series(uniques, dtype=raw.dtype))
    missing = fn(pd.Series([None], dtype=raw.dtype))
    full = pd.concat([done, missing], ignore_index=True)
    return full.take(np.where(codes < 0, len(done), codes)).set_axis(raw.index)


def _uscc_text(raw: pd.Series) -> pd.Series:
    """Rule U1 for the typed column: spaces and hyphens removed, upper case.

    On clean codes (ASCII, none of ``[ \\t\\n\\r\\f\\v-a-z]``) this is the
    identity, found from one pass over the bytes; otherwise pandas' own
    ``str.replace``/``str.upper`` run, so the result is always theirs.
    """
    text = raw if isinstance(raw.dtype, pd.StringDtype) else raw.astype("str")
    if _uscc.needs_compacting(pa.array(text, from_pandas=True)):
        text = text.str.replace(r"[\s\-]", "", regex=True).str.upper()
    return text


def _parse_uscc(c: _Cell, out: _Collector) -> pd.Series:
    text = _uscc_text(c.raw)
    problems = _uscc.check_codes(pa.array(text, from_pandas=True), allow_legacy=True)
    bad = c.present & (problems != _USCC_OK)
    if bad.any():
        codes = np.array([p.value for p in _uscc.PROBLEMS], dtype=object)[problems[bad]]
        mangled = codes == _uscc.UsccProblem.EXCEL_MANGLED.value
        rule = np.where(mangled, "excel_mangled_uscc", "invalid_uscc")
        for r in ("invalid_uscc", "excel_mangled_uscc"):
            m = rule == r
            out.add(
                c.table,
                c.rows[bad][m],
                c.name,
                c.raw[bad][m],
                r,
                [f"Not a valid USCC: {_uscc.problem_message(k)}." for k in codes[m]],
            )
    return text.where(c.present, None).astype("str")


def _parse_text(c: _Cell, out: _Collector) -> pd.Series:
    return _text(c.raw)


def _enum_aliases(vocab: str | None) -> dict[str, str]:
    if vocab is None:
        return {}
    return {**codes_from_labels(vocab), **ZH_ALIASES.get(vocab, {})}


def _enum_codes(raw: pd.Series, aliases: dict[str, str]) -> pd.Series:
    text = raw.astype("str").str.strip()
    if aliases:  # Chinese (and English display) names of the codes
        lower = text.str.lower()
        text = text.map(aliases).fillna(lower.map(aliases)).fillna(text)
    return text.astype("str").str.lower()


def _parse_enum(c: _Cell, out: _Collector) -> pd.Series:
    aliases = _enum_aliases(c.col.vocab)
    text = _per_distinct(c.raw, lambda r: _enum_codes(r, aliases))
    bad = c.present & ~_isin(text, c.col.enum)
    out.add(
        c.table,
        c.rows[bad],
        c.name,
        c.raw[bad],
        "unknown_enum",
        f"The '{c.name}' of {c.table} must be one of {', '.join(c.col.enum)}.",
    )
    return text.where(c.present, None).astype("str")


def _parse_date(c: _Cell, out: _Collector) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(c.raw):
        parsed = c.raw
    else:
        parsed = _per_distinct(
            c.raw.where(c.present, None),
            lambda r: pd.to_datetime(r, format="ISO8601", errors="coerce"),
        )
    bad = c.present & parsed.isna().to_numpy(dtype=bool)
    out.add(
        c.table,
        c.rows[bad],
        c.name,
        c.raw[bad],
        "bad_date",
        f"The '{c.name}' of {c.table} must be a date YYYY-MM-DD.",
    )
    lo, hi = c.dates.bounds(c.col.future_ok)
    odd = c.present & ~bad & ((parsed < lo) | (parsed > hi)).to_numpy(dtype=bool)
    out.add(
        c.table,
        c.rows[odd],
        c.name,
        c.raw[odd],
        "implausible_date",
        f"The '{c.name}' of {c.table} must lie between {lo.date()} and {hi.date()}.",
    )
    return parsed.astype("datetime64[us]")


def _parse_number(c: _Cell, out: _Collector) -> pd.Series:
    raw, present, is_int = c.raw, c.present, c.col.kind == "int"
    num = pd.to_numeric(raw.where(present, None), errors="coerce").astype("float64")
    values = num.to_numpy()
    bad = present & num.isna().to_numpy(dtype=bool)
    if is_int:
        bad |= present & ~np.isnan(values) & (values % 1 != 0)
    what = "an integer" if is_int else "a number"
    out.add(
        c.table,
        c.rows[bad],
        c.name,
        raw[bad],
        "wrong_type",
        f"The '{c.name}' of {c.table} must be {what}.",
    )
    if c.col.min_value is not None:
        neg = present & ~bad & (values < c.col.min_value)
        out.add(
            c.table,
            c.rows[neg],
            c.name,
            raw[neg],
            "negative_value",
            f"The '{c.name}' of {c.table} must be >= {c.col.min_value:g}.",
        )
    return num.fillna(0).round().astype("int64") if is_int else num


def _parse_bool(c: _Cell, out: _Collector) -> pd.Series:
    if pd.api.types.is_bool_dtype(c.raw):
        return c.raw.astype(bool)
    text = _per_distinct(c.raw, lambda r: r.astype("str").str.strip().str.lower())
    is_t = _isin(text, _TRUE)
    bad = c.present & ~is_t & ~_isin(text, _FALSE)
    out.add(
        c.table,
        c.rows[bad],
        c.name,
        c.raw[bad],
        "wrong_type",
        f"The '{c.name}' of {c.table} must be true or false.",
    )
    return pd.Series(is_t, index=c.raw.index, dtype=bool)


def _parse_list(c: _Cell, out: _Collector) -> pd.Series:
    text = c.raw.where(c.present, "").astype("str")
    text = (
        text.str.replace("；", ";")
        .str.replace(r"\s*;\s*", ";", regex=True)
        .str.strip(" ;")
    )
    if c.col.list_enum:
        long = explode_list(text)
        bad_items = pd.Series(~_isin(long, c.col.list_enum), index=long.index)
        if bad_items.any():
            bad_rows = np.unique(long.index[bad_items.to_numpy()].to_numpy())
            pos = c.raw.index.get_indexer(pd.Index(bad_rows))
            out.add(
                c.table,
                pos,
                c.name,
                c.raw.iloc[pos],
                "bad_list_value",
                f"Each entry of '{c.name}' in {c.table} must be one of "
                f"{', '.join(c.col.list_enum)}.",
            )
    return text.astype("str")


_PARSERS: dict[str, Callable[[_Cell, _Collector], pd.Series]] = {
    "uscc": _parse_uscc,
    "id": _parse_text,
    "text": _parse_text,
    "enum": _parse_enum,
    "date": _parse_date,
    "int": _parse_number,
    "float": _parse_number,
    "bool": _parse_bool,
    "list": _parse_list,
}


def _check_column(
    table: str,
    name: str,
    col: Column,
    raw: pd.Series,
    out: _Collector,
    dates: DateWindow | None = None,
) -> pd.Series:
    """Parse one column, recording failures; returns the typed column."""
    rows = np.arange(len(raw))
    blank = _blank(raw).to_numpy(dtype=bool)
    if col.default is not None:
        raw = raw.where(~blank, str(col.default) if col.kind != "bool" else col.default)
        blank = np.zeros(len(raw), dtype=bool)
    if not col.nullable and col.default is None and blank.any():
        out.add(
            table,
            rows[blank],
            name,
            raw[blank],
            "missing_value",
            f"The '{name}' of {table} must not be empty.",
        )
    cell = _Cell(table, name, col, raw, ~blank, rows, dates or DateWindow())
    return _PARSERS[col.kind](cell, out)


def _column_keys(table: str, headers: pd.Index) -> list[str]:
    """Headers as column keys: the key itself, or its Chinese/English label."""
    known = SCHEMAS[table].columns
    keys = []
    for h in headers:
        text = str(h).strip()
        if text not in known:
            mapped = column_from_header(table, text)
            text = mapped if mapped in known else text
        keys.append(text)
    return keys


_CONTROL_BYTE = np.zeros(256, dtype=bool)
_CONTROL_BYTE[[*range(0x00, 0x09), *range(0x0B, 0x20)]] = True


def _has_control_byte(text: pd.Series) -> bool:
    """Whether any value may hold a C0 control character but tab and newline.

    One pass over the UTF-8 bytes (a byte below 0x20 is never part of a
    multi-byte character); ``True`` sends the column to the regular expression.
    """
    arr = _arrow_text(text)
    if arr is None:
        return True
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        data = _uscc._value_bytes(chunk)
        low = data < 0x20  # rare: only then look for which
        if low.any() and _CONTROL_BYTE[data[low]].any():
            return True
    return False


def _check_control(table: str, raw: pd.DataFrame, out: _Collector) -> None:
    """Control characters (C0 but tab and newline) in any text cell (vectorised)."""
    for name in raw.columns:
        s = raw[name]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        text = s if isinstance(s.dtype, pd.StringDtype) else s.astype("str")
        if not _has_control_byte(text):
            continue
        hit = text.str.contains(_CONTROL, regex=True).fillna(False)
        hit_a = hit.to_numpy(dtype=bool) & s.notna().to_numpy(dtype=bool)
        out.add(
            table,
            np.flatnonzero(hit_a),
            str(name),
            s[hit_a].map(repr),
            "control_character",
            f"The '{name}' of {table} holds a control character (shown escaped); "
            "remove it.",
        )


def validate_table(
    df: pd.DataFrame,
    table: str,
    *,
    failures: _Collector | None = None,
    dates: DateWindow | None = None,
) -> pd.DataFrame:
    """Validate one table and return the typed frame.

    Raises :class:`DataValidationError` with every failure, unless a shared
    collector is passed (used by :func:`validate_dataset`).

    Examples
    --------
    >>> df = pd.DataFrame({"inspector_id": ["I1", "I1"], "name": ["张三", "李四"],
    ...     "department": ["food", "food"], "region": ["140902", "140902"],
    ...     "expertise": ["food", "food"], "monthly_capacity": ["5", "-1"]})
    >>> try:
    ...     validate_table(df, "inspectors")
    ... except DataValidationError as err:
    ...     print(err.failure_cases[["row", "column", "rule"]].to_string(index=False))
     row           column           rule
       1     inspector_id  duplicate_key
       1 monthly_capacity negative_value
    """
    if table not in SCHEMAS:
        raise ValueError(
            f"Unknown table {table!r}; expected one of {', '.join(SCHEMAS)}."
        )
    schema = SCHEMAS[table]
    own = failures is None
    out = failures if failures is not None else _Collector()
    raw = df.reset_index(drop=True)
    raw.columns = _column_keys(table, raw.columns)
    typed: dict[str, pd.Series] = {}
    for name, col in schema.columns.items():
        if name not in raw.columns:
            if col.required:
                out.add(
                    table,
                    [-1],
                    name,
                    [""],
                    "missing_column",
                    f"The table {table} has no column '{name}' (required by the contract).",
                )
                typed[name] = pd.Series([None] * len(raw), dtype=object)
                continue
            if not col.fill_absent:
                continue
            fill: Any = col.default
            if col.kind == "date":
                typed[name] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
                continue
            if col.kind in ("float", "int"):
                typed[name] = pd.Series(np.nan, index=raw.index, dtype="float64")
                continue
            if col.kind == "bool":
                typed[name] = pd.Series(bool(fill), index=raw.index, dtype=bool)
                continue
            typed[name] = pd.Series(fill, index=raw.index, dtype="str")
            continue
        typed[name] = _check_column(
            table, name, col, raw[name], out, dates or DateWindow()
        )
    _check_control(table, raw, out)
    extra = [c for c in raw.columns if c not in schema.columns]
    result = pd.DataFrame(typed, index=raw.index)
    for c in extra:
        result[c] = raw[c]
    if schema.key and all(k in raw.columns for k in schema.key):
        dup = result.duplicated(list(schema.key), keep="first").to_numpy(dtype=bool)
        rows = np.flatnonzero(dup)
        key_vals = result.loc[dup, list(schema.key)].astype(str).agg("/".join, axis=1)
        out.add(
            table,
            rows,
            "/".join(schema.key),
            key_vals,
            "duplicate_key",
            f"Duplicate key ({', '.join(schema.key)}) in {table}: an earlier row has the same value.",
        )
    if table == "items" and "legal_basis" in raw.columns:
        empty = _blank(raw["legal_basis"]).to_numpy(dtype=bool)
        out.add(
            table,
            np.flatnonzero(empty),
            "legal_basis",
            raw.loc[empty, "legal_basis"],
            "empty_legal_basis",
            "R02: only items authorised by law may be listed; 'legal_basis' is empty.",
        )
    if own and out.parts:
        raise DataValidationError(out.frame())
    return result


def _check_refs(
    tables: Mapping[str, pd.DataFrame],
    raw_index: Mapping[str, pd.Index],
    out: _Collector,
) -> None:
    ents = tables.get("entities")
    insp = tables.get("inspectors")
    for table in ("records", "history", "conflicts"):
        df = tables.get(table)
        if df is None or not len(df) or ents is None:
            continue
        s = df["uscc"]
        bad = s.notna().to_numpy(dtype=bool) & ~_isin(s, ents["uscc"])
        out.add(
            table,
            np.flatnonzero(bad),
            "uscc",
            s[bad],
            "unknown_reference",
            f"This USCC is not in the entities table (referenced from {table}).",
        )
    conf = tables.get("conflicts")
    if conf is not None and len(conf) and insp is not None:
        s = conf["inspector_id"]
        bad = s.notna().to_numpy(dtype=bool) & ~_isin(s, insp["inspector_id"])
        out.add(
            "conflicts",
            np.flatnonzero(bad),
            "inspector_id",
            s[bad],
            "unknown_reference",
            "This inspector_id is not in the inspectors table.",
        )
    hist = tables.get("history")
    if hist is not None and len(hist) and insp is not None:
        long = explode_list(hist["inspector_ids"])
        bad_ref = ~_isin(long, insp["inspector_id"])
        if bad_ref.any():
            out.add(
                "history",
                long.index[bad_ref].to_numpy(),
                "inspector_ids",
                long[bad_ref],
                "unknown_reference",
                "This inspector id is not in the inspectors table.",
            )


def _sorted(df: pd.DataFrame, table: str) -> pd.DataFrame:
    keys = [k for k in _SORT_KEYS[table] if k in df.columns]
    return df.sort_values(keys, kind="stable", na_position="first").reset_index(
        drop=True
    )


def validate_dataset(
    tables: Mapping[str, pd.DataFrame], *, dates: DateWindow | None = None
) -> Dataset:
    """Validate raw tables against the contract and return a typed :class:`Dataset`.

    Every table is checked, then cross-table references; all failures are
    reported together in one :class:`DataValidationError`. The returned tables
    are sorted by their keys, so the result does not depend on input row order.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Raw tables by name (``entities``, ``records``, ``inspectors``,
        ``conflicts``, ``items``, ``history``). Optional tables may be absent.

    Raises
    ------
    DataValidationError
        With ``failure_cases`` listing every failure.
    """
    owned: dict[str, pd.DataFrame | Path] = dict(tables)
    return _validate_owned(owned, dates=dates)


def _validate_owned(
    tables: dict[str, pd.DataFrame | Path], *, dates: DateWindow | None
) -> Dataset:
    """:func:`validate_dataset` on a mapping it may empty as it goes.

    Each raw table is dropped from ``tables`` once typed and each typed table
    replaced by its sorted form, so that no table is held three times. A
    table given as a file path is read only when its turn comes
    (``load_dataset``): one raw table at a time is in memory.
    """
    unknown = sorted(set(tables) - set(SCHEMAS))
    out = _Collector()
    typed: dict[str, pd.DataFrame] = {}
    for name, schema in SCHEMAS.items():
        if name not in tables:
            if schema.required:
                out.add(
                    name,
                    [-1],
                    "",
                    [""],
                    "missing_table",
                    f"The required table '{name}' is missing from the dataset.",
                )
            typed[name] = _empty_table(name)
            continue
        raw = tables.pop(name)
        if isinstance(raw, Path):
            raw = read_table(raw)
        typed[name] = validate_table(raw, name, failures=out, dates=dates)
        del raw
    if unknown:
        logger.warning("Ignoring unknown tables: %s", ", ".join(unknown))
    _check_refs(typed, {k: v.index for k, v in typed.items()}, out)
    if out.parts:
        raise DataValidationError(out.frame())
    for name in list(typed):
        typed[name] = _sorted(typed[name], name)
    return Dataset(**typed)


def load_dataset(folder: str | Path, *, dates: DateWindow | None = None) -> Dataset:
    """Read and validate a dataset folder (see ``contract.md`` §1).

    ``dates`` sets the window of plausible dates (default :class:`DateWindow`).

    Raises
    ------
    DataReadError
        A file cannot be read.
    DataValidationError
        Some rows break the contract; ``failure_cases`` lists all of them.
    """
    return _validate_owned(dict(dataset_paths(folder)), dates=dates)


#: The key of the hash that spreads rows over partitions by USCC.
BUCKET_KEY = derive_key("creditsup", "partition")


def uscc_buckets(raw: pd.DataFrame, table: str, n: int) -> np.ndarray[Any, Any] | None:
    """The partition (``0 <= b < n``) of each raw row, from its USCC.

    The USCC is read as validation reads it (rule U1: spaces and hyphens
    removed, upper case), so every row of an entity -- in ``entities``,
    ``records``, ``history`` and ``conflicts`` -- falls in the same
    partition, whatever file it comes from. ``None`` when the table has no
    USCC column (validation reports it).

    Examples
    --------
    >>> raw = pd.DataFrame({"uscc": ["914403001922038216", " 9144-03001922038216"]})
    >>> b = uscc_buckets(raw, "records", 7)
    >>> bool(b[0] == b[1]), bool(0 <= b[0] < 7)
    (True, True)
    """
    keys = _column_keys(table, raw.columns)
    if "uscc" not in keys:
        return None
    col = raw.iloc[:, keys.index("uscc")]
    text = _uscc_text(col.where(col.notna(), "").astype("str"))
    return (
        keyed_uint64(text.to_numpy(dtype=object), BUCKET_KEY) % np.uint64(n)
    ).astype(np.int64)


def validate_partition(
    raw: Mapping[str, pd.DataFrame],
    *,
    inspectors: pd.DataFrame,
    dates: DateWindow | None = None,
) -> dict[str, pd.DataFrame] | None:
    """Validate one partition of the per-entity tables; ``None`` if any row fails.

    ``raw`` holds the rows of ``entities``, ``records``, ``history`` and
    ``conflicts`` of one partition by USCC (:func:`uscc_buckets`), in their
    order in the dataset; ``inspectors`` is the validated inspectors table
    (for the references). Each table is checked and typed as
    :func:`validate_dataset` does, references to entities checked inside
    the partition (exact, since an entity's rows share it), and the typed
    tables are returned sorted by their keys. On a failure the caller
    validates the whole dataset for the report (every failure, row numbers
    of the whole table).
    """
    out = _Collector()
    typed = {
        name: validate_table(df, name, failures=out, dates=dates)
        for name, df in raw.items()
    }
    _check_refs({**typed, "inspectors": inspectors}, {}, out)
    if out.parts:
        return None
    return {name: _sorted(df, name) for name, df in typed.items()}


def validate_tables(
    raw: Mapping[str, pd.DataFrame],
    names: Sequence[str],
    *,
    dates: DateWindow | None = None,
) -> dict[str, pd.DataFrame] | None:
    """Validate the named tables each alone, sorted; ``None`` if any fails.

    A table of ``names`` absent from ``raw`` is typed empty when optional
    and is a failure when required (as in :func:`validate_dataset`).
    References between tables are not checked here (see
    :func:`validate_partition`).
    """
    out = _Collector()
    typed: dict[str, pd.DataFrame] = {}
    for name in names:
        if name in raw:
            typed[name] = validate_table(raw[name], name, failures=out, dates=dates)
            continue
        if SCHEMAS[name].required:
            return None
        typed[name] = _empty_table(name)
    if out.parts:
        return None
    return {name: _sorted(df, name) for name, df in typed.items()}


def _empty_table(name: str) -> pd.DataFrame:
    """The typed form of an absent table (its required columns, no rows)."""
    cols = SCHEMAS[name].columns
    empty = pd.DataFrame(
        {c: pd.Series(dtype=str) for c, k in cols.items() if k.required}
    )
    return validate_table(empty, name, failures=_Collector())


def assemble_dataset(
    parts: Sequence[Mapping[str, pd.DataFrame]], shared: Mapping[str, pd.DataFrame]
) -> Dataset:
    """The dataset of validated partitions and shared tables, as
    :func:`validate_dataset` returns it: each table's rows concatenated and
    stably sorted by its keys (rows with equal keys belong to one entity, so
    they keep their order in the dataset)."""
    typed = dict(shared)
    for name in parts[0] if parts else ():
        frames = [p[name] for p in parts]
        typed[name] = _sorted(pd.concat(frames, ignore_index=True), name)
    return Dataset(**typed)
