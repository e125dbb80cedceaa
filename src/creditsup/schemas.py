"""The data contract: table schemas and lazy, vectorised validation.

:func:`validate_dataset` checks every table of a dataset at once and either
returns a typed :class:`Dataset` or raises
:class:`~creditsup.exceptions.DataValidationError` whose ``failure_cases``
frame lists *every* failure with its table, row (0-based data row; ``-1``
for a table-level failure), column, value, rule code and message, the way
pandera's lazy validation does.

Rule codes (stable): ``missing_table``, ``missing_column``, ``missing_value``,
``wrong_type``, ``bad_date``, ``duplicate_key``, ``invalid_uscc``,
``excel_mangled_uscc``, ``unknown_enum``, ``negative_value``,
``empty_legal_basis`` (R02), ``unknown_reference``, ``bad_list_value``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup import uscc as _uscc
from creditsup.exceptions import FAILURE_COLUMNS, DataValidationError
from creditsup.io import read_dataset

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "ENTITY_TYPES",
    "EXCLUSION_REASONS",
    "EXEMPT_TRIGGERS",
    "HISTORY_RESULTS",
    "ITEM_KINDS",
    "PROBLEM_RESULTS",
    "PUBLIC_PLAN_COLUMNS",
    "RECORD_KINDS",
    "SCHEMAS",
    "STATUSES",
    "TIERS",
    "TRIGGERS",
    "VISIT_COLUMNS",
    "Column",
    "Dataset",
    "ExclusionReason",
    "HistoryResult",
    "RecordKind",
    "TableSchema",
    "Tier",
    "Trigger",
    "available_in",
    "explode_list",
    "load_dataset",
    "table_hash",
    "unavailable_bits",
    "validate_dataset",
    "validate_table",
]

logger = logging.getLogger(__name__)


class Tier(StrEnum):
    """Credit-risk tiers, low to high risk (C1); ``E`` is the optional fifth tier."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


#: Tier labels, low to high risk (E is the optional fifth tier, C1).
TIERS: tuple[str, ...] = tuple(t.value for t in Tier)


class Trigger(StrEnum):
    """Why a check happens: the random draw, or a trigger (R15)."""

    RANDOM = "random"
    COMPLAINT = "complaint"
    BIG_DATA_ALERT = "big_data_alert"
    REFERRAL = "referral"
    LEGAL_MANDATE = "legal_mandate"


TRIGGERS: tuple[str, ...] = tuple(t.value for t in Trigger)
#: Triggers that may be exempted from the annual cap (R15); the policy's
#: ``exempt_triggers`` chooses among them.
EXEMPT_TRIGGERS: tuple[str, ...] = TRIGGERS[1:]


class ExclusionReason(StrEnum):
    """Why an entity is not in the draw; in priority order (the first applies)."""

    DEREGISTERED = "deregistered"
    REVOKED = "revoked"
    NO_TIER = "no_tier"
    TRIGGER_ONLY = "trigger_only"
    OBSERVATION_PERIOD = "observation_period"
    CAP_REACHED = "cap_reached"
    OUT_OF_SCOPE = "out_of_scope"
    RECENTLY_CHECKED = "recently_checked"
    ZERO_RATIO = "zero_ratio"


#: Exclusion reason codes, in priority order (an entity gets the first that applies).
EXCLUSION_REASONS: tuple[str, ...] = tuple(r.value for r in ExclusionReason)

ENTITY_TYPES = ("enterprise", "individual", "cooperative", "other")
STATUSES = ("active", "deregistered", "revoked")
#: Kinds of credit records (contract §1).
RecordKind = Literal[
    "penalty",
    "abnormal_list",
    "serious_illegal_list",
    "complaint",
    "annual_report_late",
    "annual_report_missing",
    "check_problem",
    "tax_credit",
    "honor",
    "commitment_broken",
    "product_sampling_failed",
]
RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)
ITEM_KINDS = ("general", "key")
#: Inspection results, the publication enum (R19).
HistoryResult = Literal[
    "normal",
    "not_published",
    "false_info",
    "unreachable",
    "problem_corrected",
    "no_activity",
    "refused",
    "deregistered",
]
HISTORY_RESULTS: tuple[str, ...] = get_args(HistoryResult)
#: Results that count as "a problem was found" (everything except these).
PROBLEM_RESULTS = tuple(
    r for r in HISTORY_RESULTS if r not in ("normal", "no_activity", "deregistered")
)
TAX_LEVELS = ("A", "B", "M", "C", "D")

#: Columns of a plan's visits table (contract §3), in order.
VISIT_COLUMNS = (
    "visit_id",
    "uscc",
    "tier",
    "month",
    "departments",
    "items",
    "trigger",
    "joint",
)
#: Columns of a plan's assignments table (contract §3): one row per inspector.
ASSIGNMENT_COLUMNS = ("visit_id", "inspector_id", "department")

#: Columns of the public annual plan table (R06), in order.
PUBLIC_PLAN_COLUMNS = (
    "task_id",
    "task",
    "task_type",
    "item_kind",
    "legal_basis",
    "scope",
    "pool_size",
    "quantity",
    "ratio",
    "start_date",
    "end_date",
    "initiating_body",
    "checking_body",
    "mode",
)


Kind = Literal["id", "text", "uscc", "date", "int", "float", "bool", "enum", "list"]


@dataclass(frozen=True)
class Column:
    """One column of a table schema."""

    kind: Kind
    required: bool = True
    nullable: bool = False
    enum: tuple[str, ...] = ()
    default: Any = None
    min_value: float | None = None
    list_enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    """A table of the data contract: its columns and key."""

    name: str
    columns: dict[str, Column]
    key: tuple[str, ...]
    required: bool = True


SCHEMAS: dict[str, TableSchema] = {
    "entities": TableSchema(
        "entities",
        {
            "uscc": Column("uscc"),
            "name": Column("text"),
            "entity_type": Column("enum", enum=ENTITY_TYPES),
            "industry": Column("id"),
            "region": Column("id"),
            "established": Column("date"),
            "status": Column("enum", enum=STATUSES),
            "key_supervision": Column("bool", required=False, default=False),
            "registered_capital": Column(
                "float", required=False, nullable=True, min_value=0
            ),
            "address": Column("text", required=False, nullable=True),
            "legal_rep": Column("text", required=False, nullable=True),
        },
        key=("uscc",),
    ),
    "records": TableSchema(
        "records",
        {
            "uscc": Column("uscc"),
            "kind": Column("enum", enum=RECORD_KINDS),
            "date": Column("date"),
            "end_date": Column("date", required=False, nullable=True),
            "restored_on": Column("date", required=False, nullable=True),
            "severity": Column("float", required=False, nullable=True, min_value=0),
            "value": Column("text", required=False, nullable=True),
            "source": Column("text", required=False, nullable=True),
        },
        key=(),
        required=False,
    ),
    "inspectors": TableSchema(
        "inspectors",
        {
            "inspector_id": Column("id"),
            "name": Column("text"),
            "department": Column("id"),
            "region": Column("id"),
            "expertise": Column("list"),
            "monthly_capacity": Column("int", min_value=0),
            "unavailable_months": Column(
                "list",
                required=False,
                default="",
                list_enum=tuple(str(m) for m in range(1, 13)),
            ),
            "certificate_no": Column("text", required=False, nullable=True),
            "active": Column("bool", required=False, default=True),
        },
        key=("inspector_id",),
    ),
    "conflicts": TableSchema(
        "conflicts",
        {
            "inspector_id": Column("id"),
            "uscc": Column("uscc"),
            "reason": Column("text", required=False, nullable=True),
        },
        key=("inspector_id", "uscc"),
        required=False,
    ),
    "items": TableSchema(
        "items",
        {
            "item_id": Column("id"),
            "department": Column("id"),
            "name": Column("text"),
            "legal_basis": Column("text"),
            "kind": Column("enum", enum=ITEM_KINDS),
            "entity_types": Column("list", required=False, default="*"),
            "industries": Column("list", required=False, default="*"),
            "expertise": Column("text", required=False, default=""),
            "joint_group": Column("text", required=False, nullable=True),
            **{
                f"ratio_{t}": Column(
                    "float", required=False, nullable=True, min_value=0
                )
                for t in TIERS
            },
        },
        key=("item_id",),
    ),
    "history": TableSchema(
        "history",
        {
            "uscc": Column("uscc"),
            "date": Column("date"),
            "department": Column("id"),
            "result": Column("enum", enum=HISTORY_RESULTS),
            "inspector_ids": Column("list", required=False, default=""),
            "trigger": Column("enum", required=False, enum=TRIGGERS, default="random"),
        },
        key=(),
        required=False,
    ),
}

_SORT_KEYS: dict[str, list[str]] = {
    "entities": ["uscc"],
    "records": ["uscc", "kind", "date", "end_date", "restored_on", "value", "severity"],
    "inspectors": ["inspector_id"],
    "conflicts": ["inspector_id", "uscc"],
    "items": ["item_id"],
    "history": ["uscc", "date", "department", "result", "inspector_ids", "trigger"],
}

_TRUE = {"true", "1", "yes", "y", "t", "是", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "否", "0.0"}


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: six typed tables (see ``contract.md`` §1).

    Build it with :func:`validate_dataset` or :func:`load_dataset`; the
    constructor does not validate.
    """

    entities: pd.DataFrame
    records: pd.DataFrame = field(default_factory=pd.DataFrame)
    inspectors: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflicts: pd.DataFrame = field(default_factory=pd.DataFrame)
    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def table_hashes(self) -> dict[str, str]:
        """SHA-256 of the canonical form of each table (order independent)."""
        return {name: table_hash(df) for name, df in self.tables().items()}

    def summary(self) -> pd.DataFrame:
        """Row counts per table."""
        return pd.DataFrame(
            {
                "table": list(self.tables()),
                "rows": [len(t) for t in self.tables().values()],
            }
        )

    def cut(self, as_of: object) -> Dataset:
        """The dataset as it was known at ``as_of`` (rows dated after it dropped).

        Records and history after ``as_of`` are removed, as are entities
        established after it; end and restoration dates after ``as_of`` are
        blanked because they were not yet known.
        """
        t = pd.Timestamp(as_of)  # type: ignore[arg-type]
        rec = self.records[self.records["date"] <= t].copy()
        for col in ("end_date", "restored_on"):
            rec.loc[rec[col] > t, col] = pd.NaT
        ent = self.entities[self.entities["established"] <= t].reset_index(drop=True)
        keep = set(ent["uscc"])
        return Dataset(
            entities=ent,
            records=rec[_isin(rec["uscc"], keep)].reset_index(drop=True),
            inspectors=self.inspectors,
            conflicts=self.conflicts[self.conflicts["uscc"].isin(keep)].reset_index(
                drop=True
            ),
            items=self.items,
            history=self.history[
                (self.history["date"] <= t) & self.history["uscc"].isin(keep)
            ].reset_index(drop=True),
        )


def table_hash(df: pd.DataFrame) -> str:
    """A SHA-256 of a table that does not depend on its row order.

    Rows are hashed with :func:`pandas.util.hash_pandas_object` (no index),
    sorted, and digested together with the column names.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode("utf-8"))
    if len(df):
        rows = pd.util.hash_pandas_object(df, index=False).to_numpy(dtype=np.uint64)
        h.update(np.sort(rows).tobytes())
    return h.hexdigest()


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


def _isin(s: pd.Series, values: object) -> npt.NDArray[np.bool_]:
    """Vectorised ``s.isin(values)`` for text (pyarrow's hash-based ``is_in``).

    pandas' ``isin`` on Arrow-backed strings loops in Python; this does not.
    Missing values are never in the set.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(
        s.astype(object).where(s.notna(), None).to_numpy(),
        type=pa.string(),
        from_pandas=True,
    )
    if isinstance(values, pd.Series):
        raw_vals: list[str] = [str(v) for v in values.dropna().unique()]
    else:
        raw_vals = sorted({str(v) for v in values})  # type: ignore[attr-defined]
    vals = pa.array(raw_vals, type=pa.string())
    out = pc.is_in(arr, value_set=vals).to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype=bool)


def _blank(s: pd.Series) -> pd.Series:
    """Null or whitespace-only."""
    return s.isna() | (s.astype(str).str.strip() == "")


def _text(s: pd.Series) -> pd.Series:
    out = s.astype("str").str.strip()
    return out.where(~_blank(s), None).astype("str")


def _check_column(
    table: str, name: str, col: Column, raw: pd.Series, out: _Collector
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
    present = ~blank
    if col.kind == "uscc":
        text = raw.astype("str").str.replace(r"[\s\-]", "", regex=True).str.upper()
        problems = _uscc.check_array(text.where(present, ""))
        bad = present & (problems != _uscc.UsccProblem.OK.value)
        if bad.any():
            codes = problems[bad]
            rule = np.where(
                codes == _uscc.UsccProblem.EXCEL_MANGLED.value,
                "excel_mangled_uscc",
                "invalid_uscc",
            )
            for r in ("invalid_uscc", "excel_mangled_uscc"):
                m = rule == r
                out.add(
                    table,
                    rows[bad][m],
                    name,
                    raw[bad][m],
                    r,
                    [
                        f"Not a valid USCC: {_uscc.problem_message(c)}."
                        for c in codes[m]
                    ],
                )
        return text.where(present, None).astype("str")
    if col.kind in ("id", "text"):
        return _text(raw)
    if col.kind == "enum":
        text = raw.astype("str").str.strip().str.lower()
        bad = present & ~_isin(text, col.enum)
        out.add(
            table,
            rows[bad],
            name,
            raw[bad],
            "unknown_enum",
            f"The '{name}' of {table} must be one of {', '.join(col.enum)}.",
        )
        return text.where(present, None).astype("str")
    if col.kind == "date":
        if pd.api.types.is_datetime64_any_dtype(raw):
            parsed = raw
        else:
            parsed = pd.to_datetime(
                raw.where(present, None), format="ISO8601", errors="coerce"
            )
        bad = present & parsed.isna().to_numpy(dtype=bool)
        out.add(
            table,
            rows[bad],
            name,
            raw[bad],
            "bad_date",
            f"The '{name}' of {table} must be a date YYYY-MM-DD.",
        )
        return parsed.astype("datetime64[us]")
    if col.kind in ("int", "float"):
        num = pd.to_numeric(raw.where(present, None), errors="coerce").astype("float64")
        bad = present & num.isna().to_numpy(dtype=bool)
        if col.kind == "int":
            bad |= present & ~np.isnan(num.to_numpy()) & (num.to_numpy() % 1 != 0)
        out.add(
            table,
            rows[bad],
            name,
            raw[bad],
            "wrong_type",
            f"The '{name}' of {table} must be {'an integer' if col.kind == 'int' else 'a number'}.",
        )
        if col.min_value is not None:
            neg = present & ~bad & (num.to_numpy() < col.min_value)
            out.add(
                table,
                rows[neg],
                name,
                raw[neg],
                "negative_value",
                f"The '{name}' of {table} must be >= {col.min_value:g}.",
            )
        if col.kind == "int":
            return num.fillna(0).round().astype("int64")
        return num
    if col.kind == "bool":
        if pd.api.types.is_bool_dtype(raw):
            return raw.astype(bool)
        text = raw.astype("str").str.strip().str.lower()
        is_t = _isin(text, _TRUE)
        is_f = _isin(text, _FALSE)
        bad = present & ~is_t & ~is_f
        out.add(
            table,
            rows[bad],
            name,
            raw[bad],
            "wrong_type",
            f"The '{name}' of {table} must be true or false.",
        )
        return pd.Series(is_t, index=raw.index, dtype=bool)
    # list
    text = raw.where(present, "").astype("str")
    text = (
        text.str.replace("；", ";")
        .str.replace(r"\s*;\s*", ";", regex=True)
        .str.strip(" ;")
    )
    if col.list_enum:
        long = explode_list(text)
        bad_items = pd.Series(~_isin(long, col.list_enum), index=long.index)
        if bad_items.any():
            bad_rows = np.unique(long.index[bad_items.to_numpy()].to_numpy())
            pos = raw.index.get_indexer(pd.Index(bad_rows))
            out.add(
                table,
                pos,
                name,
                raw.iloc[pos],
                "bad_list_value",
                f"Each entry of '{name}' in {table} must be one of "
                f"{', '.join(col.list_enum)}.",
            )
    return text.astype("str")


def validate_table(
    df: pd.DataFrame, table: str, *, failures: _Collector | None = None
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
    raw.columns = [str(c).strip() for c in raw.columns]
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
        typed[name] = _check_column(table, name, col, raw[name], out)
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


def validate_dataset(tables: Mapping[str, pd.DataFrame]) -> Dataset:
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
            typed[name] = validate_table(
                pd.DataFrame(
                    {
                        c: pd.Series(dtype=str)
                        for c, k in schema.columns.items()
                        if k.required
                    }
                ),
                name,
                failures=_Collector(),
            )
            continue
        typed[name] = validate_table(tables[name], name, failures=out)
    unknown = sorted(set(tables) - set(SCHEMAS))
    if unknown:
        logger.warning("Ignoring unknown tables: %s", ", ".join(unknown))
    _check_refs(typed, {k: v.index for k, v in typed.items()}, out)
    if out.parts:
        raise DataValidationError(out.frame())
    return Dataset(**{name: _sorted(df, name) for name, df in typed.items()})


def load_dataset(folder: str | Path) -> Dataset:
    """Read and validate a dataset folder (see ``contract.md`` §1).

    Raises
    ------
    DataReadError
        A file cannot be read.
    DataValidationError
        Some rows break the contract; ``failure_cases`` lists all of them.
    """
    return validate_dataset(read_dataset(folder))
