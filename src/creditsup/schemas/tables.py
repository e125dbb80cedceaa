"""The table schemas of the data contract (``contract.md`` §1)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from creditsup.schemas.vocab import (
    ENTITY_TYPES,
    HISTORY_RESULTS,
    ITEM_KINDS,
    RECORD_KINDS,
    STATUSES,
    TIERS,
    TRIGGERS,
)

Kind = Literal["id", "text", "uscc", "date", "int", "float", "bool", "enum", "list"]

#: The founding of the People's Republic: no market entity or record is older.
EARLIEST_DATE = _dt.date(1949, 10, 1)
#: No date, even a future end of publicity, lies beyond this.
LATEST_FUTURE_DATE = _dt.date(2200, 12, 31)


@dataclass(frozen=True)
class DateWindow:
    """The plausible dates of a dataset (rule ``implausible_date``).

    Dates of events (an entity's ``established``, a record's or an
    inspection's ``date``) must lie in ``[earliest, latest]``; dates that may
    be in the future (``end_date``, ``restored_on``) in
    ``[earliest, 2200-12-31]``. ``latest`` defaults to the end of next year:
    the data cannot describe events after its own snapshot.

    Examples
    --------
    >>> DateWindow().earliest
    datetime.date(1949, 10, 1)
    """

    earliest: _dt.date = EARLIEST_DATE
    latest: _dt.date | None = None

    def bounds(self, future_ok: bool) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The window of one column, as timestamps."""
        latest = self.latest or _dt.date(_dt.date.today().year + 1, 12, 31)
        hi = LATEST_FUTURE_DATE if future_ok else latest
        return pd.Timestamp(self.earliest), pd.Timestamp(hi)


_CONTROL = r"[\x00-\x08\x0b-\x1f]"


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
    #: For dates: may lie after the data's snapshot (e.g. the end of a publicity).
    future_ok: bool = False
    #: For enums: the vocabulary of :mod:`creditsup.labels` whose Chinese and
    #: English display names are accepted as input (e.g. 个体工商户).
    vocab: str | None = None
    #: For optional columns: add the column (with ``default``) when the input
    #: lacks it. ``False`` for a column added to the contract later, so that the
    #: table (and its hash, bound by old plans) stays as it was without it.
    fill_absent: bool = True


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
            "entity_type": Column("enum", enum=ENTITY_TYPES, vocab="entity_type"),
            "industry": Column("id"),
            "region": Column("id"),
            "established": Column("date"),
            "status": Column("enum", enum=STATUSES, vocab="status"),
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
            "kind": Column("enum", enum=RECORD_KINDS, vocab="record_kind"),
            "date": Column("date"),
            "end_date": Column("date", required=False, nullable=True, future_ok=True),
            "restored_on": Column(
                "date", required=False, nullable=True, future_ok=True
            ),
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
            "kind": Column("enum", enum=ITEM_KINDS, vocab="item_kind"),
            "entity_types": Column("list", required=False, default="*"),
            "industries": Column("list", required=False, default="*"),
            "expertise": Column("text", required=False, default=""),
            "joint_group": Column("text", required=False, nullable=True),
            "publicity": Column(
                "bool", required=False, default=False, fill_absent=False
            ),
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
            "result": Column("enum", enum=HISTORY_RESULTS, vocab="result"),
            "inspector_ids": Column("list", required=False, default=""),
            "trigger": Column(
                "enum", required=False, enum=TRIGGERS, default="random", vocab="trigger"
            ),
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
