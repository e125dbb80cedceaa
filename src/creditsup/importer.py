"""Import a bureau's inspection history in its own layout, with no code.

A *mapping* (TOML, :class:`InspectionMapping`) names the export's columns,
its result and trigger values and its date formats;
:func:`import_inspections` turns one file of inspections (one row each)
into the contract's tables and :func:`import_inspections_to` writes the
dataset folder (``creditsup import-inspections FILE --map MAP --out DIR``)
through :func:`creditsup.io.write_dataset`. Every problem (a missing
column, an unmapped value, an unreadable date) is reported at once.

Example mapping (Chicago's public export)::

    date_formats = ["%m/%d/%Y", "%Y-%m-%d"]

    [columns]          # contract column = the export's column
    entity_id = "License #"
    name = "DBA Name"
    date = "Inspection Date"
    result = "Results"
    trigger = "Inspection Type"
    region = "Zip"

    [entity_columns]   # extra entity attributes
    city_risk = "Risk"

    [history_columns]  # extra history columns (numbers, flags)
    critical_count = "criticalCount"

    [results]          # the export's value = an R19 result
    "Pass" = "normal"
    "Fail" = "problem_corrected"

    [triggers]         # the export's value = a trigger
    "Canvass" = "random"
    "Complaint" = "complaint"

    [constants]        # contract columns the export lacks
    department = "food"
    entity_type = "enterprise"
    industry = "H6210"

Entities are the distinct ``entity_id`` values; their attributes come from
their earliest inspection row. Without a ``uscc`` column each entity gets a
**stand-in USCC** (not a real one, flagged ``uscc_is_stand_in``): for
integer ids below 10**8 the Chicago encoding
(:func:`creditsup.chicago.stand_in_uscc`), else ``91`` + ``99`` + four
digits and eight characters of a keyed hash of the id, with valid check
characters. ``established`` is the mapped date or, when missing or later,
the first inspection. The item list and the inspector pool get
placeholders (one general item and two stub inspectors with capacity 0 per
department), so that the folder validates.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field

from creditsup.config import FrozenModel, load_config
from creditsup.exceptions import ConfigError, DataReadError
from creditsup.io import read_table, write_dataset
from creditsup.schemas import HISTORY_RESULTS, TRIGGERS, HistoryResult
from creditsup.uscc import ALPHABET

__all__ = [
    "InspectionMapping",
    "import_inspections",
    "import_inspections_to",
    "load_mapping",
    "stand_in_codes",
]

logger = logging.getLogger(__name__)

Trigger = Literal["random", "complaint", "big_data_alert", "referral", "legal_mandate"]
EntityType = Literal["enterprise", "individual", "cooperative", "other"]
#: Contract columns a mapping may name in ``[columns]``.
COLUMNS = (
    "entity_id",
    "uscc",
    "name",
    "date",
    "result",
    "trigger",
    "department",
    "entity_type",
    "industry",
    "region",
    "established",
    "address",
    "legal_rep",
)
_REQUIRED = ("entity_id", "date", "result")
_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_SHOWN = 5


class InspectionMapping(FrozenModel):
    """How an export's columns and values map onto the data contract.

    Parameters
    ----------
    columns : dict of str to str
        Contract column -> the export's column. ``entity_id``, ``date`` and
        ``result`` are required; also ``uscc``, ``name``, ``trigger``,
        ``department``, ``entity_type``, ``industry``, ``region``,
        ``established``, ``address``, ``legal_rep``.
    date_formats : tuple of str
        ``strptime`` formats tried in order (``date`` and ``established``).
    results : dict of str to str
        The export's result value (trimmed, case-insensitive) -> an R19
        result.
    triggers : dict of str to str
        The export's trigger value -> a trigger; unlisted values get
        ``default_trigger``.
    default_trigger : str
        Also the trigger of every row when no ``trigger`` column is mapped.
    constants : dict of str to str
        Values of contract columns the export lacks (``department``,
        ``entity_type``, ``industry``, ``region`` ...).
    entity_columns, history_columns : dict of str to str
        Extra columns to keep: new name -> the export's column.

    Examples
    --------
    >>> m = InspectionMapping(columns={"entity_id": "id", "date": "d",
    ...     "result": "r"}, results={"ok": "normal"})
    >>> m.default_trigger
    'random'
    >>> InspectionMapping(columns={"entity_id": "id"}, results={})
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: InspectionMapping: The 'columns' must name ['date', 'result']. ...
    """

    columns: dict[str, str]
    date_formats: tuple[str, ...] = Field(default=("%Y-%m-%d",), min_length=1)
    results: dict[str, HistoryResult]
    triggers: dict[str, Trigger] = Field(default_factory=dict)
    default_trigger: Trigger = "random"
    constants: dict[str, str] = Field(default_factory=dict)
    entity_columns: dict[str, str] = Field(default_factory=dict)
    history_columns: dict[str, str] = Field(default_factory=dict)

    def model_post_init(self, context: object) -> None:
        """Check the column names (run by pydantic after validation)."""
        missing = [c for c in _REQUIRED if c not in self.columns]
        if missing:
            raise ValueError(
                f"The 'columns' must name {missing}. Got {sorted(self.columns)} "
                "instead."
            )
        unknown = sorted(set(self.columns) - set(COLUMNS))
        if unknown:
            raise ValueError(
                f"The 'columns' keys must be among {list(COLUMNS)}. Got {unknown} "
                "instead."
            )
        if "entity_type" in self.constants and self.constants["entity_type"] not in (
            "enterprise",
            "individual",
            "cooperative",
            "other",
        ):
            raise ValueError(
                "The constant 'entity_type' must be enterprise, individual, "
                f"cooperative or other. Got {self.constants['entity_type']!r} "
                "instead."
            )


def load_mapping(path: str | Path) -> InspectionMapping:
    """Read a mapping TOML file (:class:`InspectionMapping`).

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or a value is invalid.
    """
    try:
        return load_config(path, InspectionMapping)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("policy file", "mapping file")) from None


def _digits_of(
    values: npt.NDArray[np.uint64], base: int, n: int
) -> npt.NDArray[np.int64]:
    out = np.zeros((len(values), n), dtype=np.int64)
    v = values.copy()
    for j in range(n - 1, -1, -1):
        out[:, j] = (v % np.uint64(base)).astype(np.int64)
        v //= np.uint64(base)
    return out


def stand_in_codes(ids: pd.Series) -> npt.NDArray[np.object_]:
    """Stand-in USCCs (valid check characters; **not real codes**) of ids.

    Integer ids below 10**8 use the Chicago encoding; any other id a keyed
    hash (``91`` + ``99`` + 4 digits + 8 characters + checks).

    Raises
    ------
    DataReadError
        Two ids hash to the same code (astronomically rare).

    Examples
    --------
    >>> from creditsup.uscc import is_valid
    >>> codes = stand_in_codes(pd.Series(["A-17", "B-2", "30790"]))
    >>> [is_valid(c) for c in codes], codes[2]
    ([True, True, True], '9199000000030790XC')
    """
    from creditsup._random import derive_key, keyed_uint64
    from creditsup.chicago import stand_in_uscc

    text = ids.astype("str").str.strip()
    num = pd.to_numeric(text, errors="coerce")
    arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
    small = np.isfinite(arr) & (arr >= 0) & (arr < 1e8) & (arr % 1 == 0)
    small &= text.str.fullmatch(r"\d+(\.0*)?").to_numpy(dtype=bool, na_value=False)
    out = np.empty(len(text), dtype=object)
    if small.any():
        out[small] = stand_in_uscc(arr[small].astype(np.int64))
    rest = ~small
    if rest.any():
        h = keyed_uint64(
            text[rest].to_numpy(dtype=object), derive_key("creditsup", "stand-in")
        )
        region = _digits_of(h % np.uint64(10_000), 10, 4)
        body = _digits_of(h // np.uint64(10_000), 31, 8)
        letters = np.array([int(c) if c.isdigit() else ord(c) - 55 for c in ALPHABET])
        c9 = 11 - (letters[body] * _ORG_WEIGHTS).sum(axis=1) % 11
        org = np.where(c9 == 10, ALPHABET.index("X"), np.where(c9 == 11, 0, c9))
        vals = np.column_stack(
            [
                np.full((len(h), 1), 9),
                np.full((len(h), 1), 1),
                np.full((len(h), 2), 9),
                region,
                body,
                org,
            ]
        )
        check = (31 - (vals * _WEIGHTS).sum(axis=1) % 31) % 31
        alphabet = np.array(list(ALPHABET), dtype=object)
        chars = alphabet[np.column_stack([vals, check])]
        out[rest] = ["".join(r) for r in chars.tolist()]
    uniq_ids = text.nunique()
    if len(set(out.tolist())) != uniq_ids:
        raise DataReadError(
            "Two entity ids map to the same stand-in USCC; map a 'uscc' column instead."
        )
    return out


def _parse_dates(
    s: pd.Series, formats: tuple[str, ...]
) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """Dates parsed with the first format that reads each value; and which
    non-empty values no format reads."""
    text = s.astype("str").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = out.isna() & text.notna() & (text != "")
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        out[todo] = parsed.astype("datetime64[us]")
    bad = (out.isna() & text.notna() & (text != "")).to_numpy(dtype=bool)
    return out, bad


def _lookup(
    s: pd.Series, table: Mapping[str, str], default: str | None
) -> tuple[pd.Series, pd.Series]:
    """Mapped values (case-insensitive, trimmed) and the unmapped ones."""
    key = s.astype("str").str.strip().str.lower()
    low = {str(k).strip().lower(): v for k, v in table.items()}
    mapped = key.map(low)
    if default is not None:
        mapped = mapped.fillna(default)
    missing = s[mapped.isna()]
    return mapped.astype("str"), missing


def _column(raw: pd.DataFrame, m: InspectionMapping, name: str) -> pd.Series | None:
    if name in m.columns:
        return raw[m.columns[name]]
    if name in m.constants:
        return pd.Series(m.constants[name], index=raw.index, dtype="str")
    return None


def _problems(raw: pd.DataFrame, m: InspectionMapping) -> list[str]:
    wanted = {**m.columns, **m.entity_columns, **m.history_columns}
    absent = sorted({src for src in wanted.values() if src not in raw.columns})
    if absent:
        return [
            f"The mapped column(s) {absent} are not in the file (its columns: "
            f"{list(raw.columns)[:20]})."
        ]
    return []


def _history(
    raw: pd.DataFrame, m: InspectionMapping, codes: pd.Series
) -> tuple[pd.DataFrame, list[str]]:
    errors: list[str] = []
    dates, bad = _parse_dates(raw[m.columns["date"]], m.date_formats)
    empty = dates.isna().to_numpy() & ~bad
    if bad.any() or empty.any():
        rows = np.flatnonzero(bad | empty)
        vals = raw[m.columns["date"]].iloc[rows[:_SHOWN]].tolist()
        errors.append(
            f"{len(rows)} row(s) have a date that none of {list(m.date_formats)} "
            f"reads, e.g. rows {[int(r) + 2 for r in rows[:_SHOWN]]}: {vals}."
        )
    result, unmapped = _lookup(raw[m.columns["result"]], m.results, None)
    if len(unmapped):
        vals = sorted({str(v) for v in unmapped.tolist()})[:_SHOWN]
        errors.append(
            f"{len(unmapped)} row(s) have a result the [results] table does not "
            f"map, e.g. {vals}; map each to one of {list(HISTORY_RESULTS)}."
        )
    trig_src = _column(raw, m, "trigger")
    if trig_src is None:
        trigger = pd.Series(m.default_trigger, index=raw.index, dtype="str")
    else:
        trigger, _ = _lookup(trig_src, m.triggers, m.default_trigger)
    dept = _column(raw, m, "department")
    hist = pd.DataFrame(
        {
            "uscc": codes.to_numpy(),
            "date": dates.dt.strftime("%Y-%m-%d"),
            "department": (dept if dept is not None else "general"),
            "result": result,
            "trigger": trigger,
            "source_result": raw[m.columns["result"]].astype("str").str.strip(),
        }
    )
    for name, src in m.history_columns.items():
        hist[name] = raw[src].astype("str").str.strip()
    return hist, errors


def _entities(
    raw: pd.DataFrame, m: InspectionMapping, codes: pd.Series, stand_in: bool
) -> pd.DataFrame:
    dates, _ = _parse_dates(raw[m.columns["date"]], m.date_formats)
    order = np.lexsort((np.arange(len(raw)), dates.to_numpy(dtype="datetime64[us]")))
    first = raw.iloc[order].assign(
        _uscc=codes.to_numpy()[order], _date=dates.iloc[order]
    )
    first = first.drop_duplicates("_uscc", keep="first").sort_values("_uscc")
    n = len(first)

    def col(name: str, default: str) -> npt.NDArray[np.object_]:
        s = _column(first, m, name)
        if s is None:
            return np.full(n, default, dtype=object)
        t = s.astype("str").str.strip()
        return np.asarray(t.where(t.notna() & (t != ""), default), dtype=object)

    region = pd.Series(col("region", "000000")).str.replace(r"\.0*$", "", regex=True)
    region = region.str.replace(r"\D", "", regex=True)
    region = region.str.zfill(6).str.slice(0, 6)
    est_first = first["_date"]
    if "established" in m.columns:
        est, _ = _parse_dates(first[m.columns["established"]], m.date_formats)
        est = est.where(est.notna() & (est <= est_first), est_first)
    else:
        est = est_first
    ent = pd.DataFrame(
        {
            "uscc": first["_uscc"].to_numpy(),
            "name": col("name", "")
            if "name" in m.columns
            else first[m.columns["entity_id"]].astype("str").to_numpy(),
            "entity_type": col("entity_type", "enterprise"),
            "industry": col("industry", "F5299"),
            "region": region.to_numpy(),
            "established": pd.to_datetime(est).dt.strftime("%Y-%m-%d").to_numpy(),
            "status": col("status", "active"),
            "address": col("address", ""),
            "legal_rep": col("legal_rep", ""),
            "source_id": first[m.columns["entity_id"]]
            .astype("str")
            .str.strip()
            .to_numpy(),
            "uscc_is_stand_in": "true" if stand_in else "false",
        }
    )
    for name, src in m.entity_columns.items():
        ent[name] = first[src].astype("str").str.strip().to_numpy()
    return ent


def _placeholders(departments: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    inspectors = pd.DataFrame(
        {
            "inspector_id": [f"STUB-{d}-{i}" for d in departments for i in (1, 2)],
            "name": [f"placeholder inspector {i}" for _ in departments for i in (1, 2)],
            "department": [d for d in departments for _ in (1, 2)],
            "region": "000000",
            "expertise": "general",
            "monthly_capacity": 0,
        }
    )
    items = pd.DataFrame(
        {
            "item_id": [f"ITEM-{d}" for d in departments],
            "department": departments,
            "name": [f"Routine inspection ({d}, placeholder)" for d in departments],
            "legal_basis": ["placeholder: replace with the item's legal basis"]
            * len(departments),
            "kind": "general",
            "entity_types": "*",
            "industries": "*",
            "expertise": "general",
        }
    )
    return inspectors, items


def import_inspections(
    source: str | Path | pd.DataFrame, mapping: InspectionMapping
) -> dict[str, pd.DataFrame]:
    """Map an inspection export onto the contract's tables.

    Parameters
    ----------
    source : path or DataFrame
        The export (CSV, XLSX or Parquet; one row per inspection).
    mapping : InspectionMapping

    Returns
    -------
    dict of str to DataFrame
        ``entities``, ``history``, ``inspectors``, ``items`` (placeholders).

    Raises
    ------
    DataReadError
        Every problem at once: missing columns, unmapped values, bad dates.

    Examples
    --------
    >>> raw = pd.DataFrame({"id": ["7", "7", "9"], "day": ["03/01/2024",
    ...     "05/02/2024", "04/01/2024"], "outcome": ["Pass", "FAIL", "pass"]})
    >>> m = InspectionMapping(columns={"entity_id": "id", "date": "day",
    ...     "result": "outcome"}, date_formats=("%m/%d/%Y",),
    ...     results={"pass": "normal", "fail": "problem_corrected"})
    >>> t = import_inspections(raw, m)
    >>> t["history"][["date", "result"]].values.tolist()
    [['2024-03-01', 'normal'], ['2024-05-02', 'problem_corrected'], ['2024-04-01', 'normal']]
    >>> t["entities"]["established"].tolist()
    ['2024-03-01', '2024-04-01']
    """
    raw = source if isinstance(source, pd.DataFrame) else read_table(source)
    raw = raw.reset_index(drop=True)
    errors = _problems(raw, m := mapping)
    if errors:
        raise DataReadError(errors[0])
    ids = raw[m.columns["entity_id"]].astype("str").str.strip()
    if "uscc" in m.columns:
        codes = raw[m.columns["uscc"]].astype("str").str.strip()
        stand_in = False
    else:
        uniq = ids.drop_duplicates()
        table = pd.Series(stand_in_codes(uniq), index=uniq.to_numpy())
        codes = pd.Series(table.reindex(ids.to_numpy()).to_numpy(), index=raw.index)
        stand_in = True
    blank = (ids.isna() | (ids == "")).to_numpy(dtype=bool)
    hist, errors = _history(raw, m, codes)
    if blank.any():
        errors.insert(
            0, f"{int(blank.sum())} row(s) have no '{m.columns['entity_id']}'."
        )
    if errors:
        raise DataReadError(" ".join(errors))
    ent = _entities(raw, m, codes, stand_in)
    departments = sorted({str(d) for d in hist["department"].unique()})
    inspectors, items = _placeholders(departments)
    bad_trig = sorted(set(hist["trigger"]) - set(TRIGGERS))
    if bad_trig:  # pragma: no cover - the mapping model forbids them
        raise DataReadError(f"Unknown triggers {bad_trig}.")
    logger.info("Imported %d inspections of %d entities.", len(hist), len(ent))
    return {"entities": ent, "history": hist, "inspectors": inspectors, "items": items}


def import_inspections_to(
    source: str | Path,
    mapping: InspectionMapping,
    out_dir: str | Path,
    *,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
) -> tuple[Path, dict[str, int]]:
    """Import, validate, and write the dataset folder (safe, atomic).

    Returns
    -------
    Path, dict
        The folder, and the rows of each table.

    Raises
    ------
    DataReadError
        The export does not fit the mapping.
    DataValidationError
        The mapped tables break the contract (e.g. a mapped ``uscc`` column
        holds invalid codes); every failure is listed.
    """
    from creditsup.schemas import validate_dataset

    tables = import_inspections(source, mapping)
    validate_dataset(tables)
    path = write_dataset(tables, out_dir, fmt=fmt)
    return path, {k: len(v) for k, v in tables.items()}
