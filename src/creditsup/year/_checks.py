"""Row checks shared by the year's inputs: one failure table, all rows at once.

Failures follow :class:`~creditsup.exceptions.DataValidationError`: columns
``table``, ``row`` (0-based data row; Excel shows it as ``row + 2``),
``column``, ``value``, ``rule`` and ``message``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd

from creditsup.exceptions import ConfigError
from creditsup.io import dataset_files
from creditsup.labels import column_from_header

FAILURE_COLUMNS = ("table", "row", "column", "value", "rule", "message")
#: The stable rule codes of the year's input checks (texts in
#: :data:`creditsup.i18n.YEAR_RULES`, plus ``missing_value``, ``bad_date`` and
#: ``wrong_type`` of the dataset rules).
RULE_CODES: tuple[str, ...] = (
    "unknown_visit",
    "uscc_mismatch",
    "unknown_result",
    "date_outside_year",
    "date_before_visit_month",
    "visit_cancelled",
    "inspector_not_assigned",
    "team_too_small",
    "item_not_on_visit",
    "duplicate_visit",
    "already_recorded",
    "unknown_followup",
    "closed_before_opened",
    "unknown_outcome",
    "bad_restoration",
    "duplicate_followup",
    "already_closed",
    "unknown_change",
    "unknown_inspector",
    "unknown_entity",
    "entity_inactive",
    "unknown_trigger",
    "unknown_item",
    "duplicate_trigger",
)


def text_frame(
    frame: pd.DataFrame,
    *,
    table: str,
    required: Sequence[str],
    optional: Sequence[str],
) -> pd.DataFrame:
    """The input as stripped text columns with English keys (Chinese headers ok).

    Raises
    ------
    ConfigError
        ``frame`` is not a DataFrame, or a required column is missing.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"The '{table}' must be a pandas DataFrame. Got {type(frame).__name__} "
            "instead."
        )
    known = (*required, *optional)
    rename: dict[str, str] = {}
    for col in frame.columns:
        name = str(col).strip().lstrip("\ufeff")
        key = name if name in known else column_from_header(table, name)
        if key in known and key not in rename.values():
            rename[str(col)] = str(key)
    df = frame.rename(columns={c: rename.get(str(c), c) for c in frame.columns})
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ConfigError(
            f"The {table} table needs the columns {list(required)}. Missing "
            f"{missing}; found {[str(c) for c in frame.columns]}."
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for c in known:
        values = df[c] if c in df.columns else pd.Series("", index=df.index)
        out[c] = (
            values.reset_index(drop=True)
            .astype("string")
            .fillna("")
            .str.strip()
            .astype(object)
        )
    return out


def as_text_table(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """A typed table as the text a dataset folder holds (ISO dates, true/false)."""
    data = dataset_files({name: df})[f"{name}.csv"]
    return pd.read_csv(
        io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )


def failures(
    table: str, column: str, values: pd.Series, mask: pd.Series, rule: str, msg: str
) -> pd.DataFrame:
    """The failure rows of one check (``mask`` true where a row fails)."""
    bad = mask[mask.fillna(False).astype(bool)].index
    return pd.DataFrame(
        {
            "table": table,
            "row": pd.Series(bad, dtype="int64"),
            "column": column,
            "value": values.loc[bad].astype(str).to_numpy(),
            "rule": rule,
            "message": msg,
        },
        columns=list(FAILURE_COLUMNS),
    )


def combine(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """All failures, ordered by row then check order."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("row", kind="stable").reset_index(drop=True)


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO dates (``YYYY-MM-DD``); NaT where a value is not one."""
    return pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")


def split_ids(values: pd.Series) -> pd.Series:
    """``a; b;a`` → ``a;b`` (sorted, unique, no blanks)."""
    parts = explode_ids(values)
    joined = parts.groupby(level=0).agg(";".join)
    return joined.reindex(values.index).fillna("").astype(object)


def explode_ids(values: pd.Series) -> pd.Series:
    """One row per id of a ``;`` list, indexed by the input row, sorted, unique."""
    s = values.astype(str).str.split(";").explode().str.strip()
    s = s[s.ne("") & s.notna()]
    frame = pd.DataFrame({"row": s.index, "id": s.to_numpy()}).drop_duplicates()
    frame = frame.sort_values(["row", "id"], kind="stable")
    return pd.Series(
        frame["id"].to_numpy(), index=frame["row"].to_numpy(), dtype=object
    )
