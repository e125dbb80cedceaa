"""The building blocks of report sections: :class:`Section`, :class:`TableBlock`
and the cell formatters (display strings only; the template adds no logic)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup.labels import (
    department_names,
    item_department_names,
    month_label,
    value_label,
)
from creditsup.report._text import t

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan

__all__ = [
    "Formatter",
    "Section",
    "TableBlock",
    "department_labels",
    "department_list",
    "fmt_int",
    "fmt_pct",
    "heads",
    "month_heads",
    "shade",
    "table_block",
    "to_bool",
    "to_num",
]

_MAX_ROWS = 200

Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class TableBlock:
    """A table ready for the template: display strings, optional cell colours."""

    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    numeric: list[bool] = field(default_factory=list)
    shades: list[list[str | None]] | None = None
    note: str = ""


@dataclass(frozen=True)
class Section:
    """One report section: a title, charts (``(title, <svg> markup)``), tables
    and notes."""

    id: str
    title: str
    charts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[TableBlock] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def department_labels(plan: InspectionPlan, lang: str) -> dict[str, str]:
    """A display name for every department id the plan mentions: the policy's
    ``department_names`` first, else the items' ``department_name`` column,
    else the label ``department.<id>`` of :data:`creditsup.labels.LABELS`,
    else the id itself."""
    codes: set[str] = set()
    for df in (plan.items, plan.assignments, plan.tasks):
        if "department" in df.columns:
            codes |= set(df["department"].dropna().astype(str))
    if "departments" in plan.visits.columns:
        lists = plan.visits["departments"].dropna().astype(str).str.split(";")
        codes |= {c.strip() for c in lists.explode().dropna() if c.strip()}
    names = {c: value_label("department", c, lang) for c in sorted(codes)}
    items = plan.items
    if lang == "zh":
        names.update(item_department_names(items))
    names.update(department_names(plan.provenance))
    return names


def department_list(value: Any, names: dict[str, str]) -> str:
    """A ``;``-list of department ids as names (``food;market`` → ``食品安全科、市场监管科``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    parts = [p.strip() for p in str(value).split(";") if p.strip()]
    return "、".join(names.get(p, p) for p in parts)


def fmt_int(v: Any) -> str:
    """``1234.4`` → ``1,234``; missing → ``—``."""
    try:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "—"
        return f"{round(float(v)):,}"
    except (TypeError, ValueError):
        return str(v)


def fmt_pct(v: Any, digits: int = 1) -> str:
    """``0.1234`` → ``12.3%``; missing → ``—``."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    if np.isnan(f):
        return "—"
    return f"{100 * f:.{digits}f}%"


def to_num(s: pd.Series) -> pd.Series:
    """A column as numbers (unparseable → NaN)."""
    return pd.to_numeric(s, errors="coerce")


def to_bool(s: pd.Series) -> pd.Series:
    """A column of booleans or ``true``/``1``/``yes`` text as booleans."""
    if s.dtype == bool:
        return s
    return s.astype("string").str.lower().isin(["true", "1", "yes"]).astype(bool)


def heads(lang: str, *keys: str) -> list[str]:
    """The display texts of ``keys`` (column headers)."""
    return [t(k, lang) for k in keys]


def month_heads(lang: str, months: Sequence[int], last: str = "") -> list[str]:
    """Headers ``department``, one per month, then ``last`` (if any)."""
    out = [t("department", lang), *(month_label(m, lang) for m in months)]
    return [*out, t(last, lang)] if last else out


def table_block(
    df: pd.DataFrame,
    headers: Sequence[str],
    *,
    formats: Sequence[Formatter | None] | None = None,
    caption: str = "",
    note: str = "",
    max_rows: int = _MAX_ROWS,
    lang: str = "zh",
) -> TableBlock:
    """The first ``max_rows`` rows of ``df`` as display strings; columns
    formatted by :func:`fmt_int` or :func:`fmt_pct` are right-aligned."""
    fmts = list(formats) if formats is not None else [None] * len(df.columns)
    head = df.head(max_rows)
    rows: list[list[str]] = []
    for rec in head.itertuples(index=False, name=None):
        rows.append(
            [
                f(v) if f is not None else ("" if pd.isna(v) else str(v))
                for f, v in zip(fmts, rec, strict=True)
            ]
        )
    extra = len(df) - len(head)
    if extra > 0:
        note = (note + " " if note else "") + t("more_rows", lang, n=f"{extra:,}")
    numeric = [f in (fmt_int, fmt_pct) for f in fmts]
    return TableBlock(list(headers), rows, caption, numeric, None, note)


def shade(ratio: float) -> str:
    """A background colour for a utilisation ratio (green → amber → red)."""
    if not np.isfinite(ratio) or ratio > 1.0:
        return "#f4a6a6"
    if ratio > 0.9:
        return "#fbd38d"
    if ratio > 0.6:
        return "#fdf0c2"
    return "#d9f2d9"
