"""``public.xlsx``: the public tables as Excel sheets (extra ``[excel]``).

One sheet per public table, plus a column dictionary sheet; bold shaded
header row, frozen and auto-filtered; column widths from the content (East
Asian wide characters count twice); ids stored as text, counts as integers,
dates as dates. Used by :func:`creditsup.publish.publish_plan`.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd

from creditsup._optional import require
from creditsup.labels import Lang

__all__ = ["EXCEL_MAX_ROWS", "require_openpyxl", "xlsx_bytes"]

#: Rows of an Excel sheet, the header row included.
EXCEL_MAX_ROWS = 1_048_576

_SHEETS: dict[str, tuple[str, str]] = {
    "plan": ("年度抽查计划", "annual_plan"),
    "entities": ("抽查对象名单", "entities"),
    "draw": ("抽取记录", "draw_record"),
    "results": ("检查结果", "results"),
    "columns": ("字段说明", "columns"),
}
_TEXT_COLUMNS = frozenset({"task_id", "uscc", "visit_id", "seed", "year"})
_INT_COLUMNS = frozenset({"pool_size", "quantity", "month"})
_DATE_COLUMNS = frozenset({"start_date", "end_date"})
_WIDE = r"[\u1100-\u115f\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"


def require_openpyxl() -> Any:
    """The ``openpyxl`` module, or a :class:`MissingDependencyError`."""
    return require("openpyxl", "excel")


def _display_width(values: pd.Series) -> pd.Series:
    """Approximate display width: East Asian wide characters count twice."""
    text = values.astype("string").fillna("")
    return (text.str.len() + text.str.count(_WIDE)).astype("int64")


def _column_width(header: str, values: pd.Series) -> float:
    head = int(_display_width(pd.Series([header])).iloc[0])
    body = int(_display_width(values).max()) if len(values) else 0
    return float(min(max(head, body, 6) + 2, 60))


def _excel_values(df: pd.DataFrame) -> pd.DataFrame:
    """Typed columns for Excel: ids as text, counts as integers, dates as dates."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if col in _INT_COLUMNS:
            num = pd.to_numeric(s, errors="coerce")
            out[col] = num.astype("object").where(num.notna(), None)
            out[col] = out[col].map(lambda v: None if v is None else int(v))
        elif col in _DATE_COLUMNS:
            d = pd.to_datetime(s, errors="coerce")
            out[col] = pd.Series(d.dt.date.astype("object"), index=df.index).where(
                d.notna(), None
            )
        else:
            text = s.astype("string")
            out[col] = text.astype("object").where(text.notna(), None)
    return out


class _Style(NamedTuple):
    font: Any
    fill: Any
    align: Any


def _header(ws: Any, heads: Sequence[str], style: _Style, *, align: bool) -> None:
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    for head in heads:
        cell = WriteOnlyCell(ws, value=head)
        cell.font = style.font
        cell.fill = style.fill
        if align:
            cell.alignment = style.align
        row.append(cell)
    ws.append(row)


def _data_sheet(
    wb: Any, title: str, df: pd.DataFrame, headers: list[str], style: _Style
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for i, (col, head) in enumerate(zip(df.columns, headers, strict=True), start=1):
        ws.column_dimensions[get_column_letter(i)].width = _column_width(head, df[col])
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}"
    _header(ws, headers, style, align=True)
    text_pos = [i for i, c in enumerate(df.columns) if c in _TEXT_COLUMNS]
    date_pos = [i for i, c in enumerate(df.columns) if c in _DATE_COLUMNS]
    for rec in _excel_values(df).itertuples(index=False, name=None):
        cells: list[Any] = list(rec)
        for i in text_pos:
            c = WriteOnlyCell(ws, value=None if cells[i] is None else str(cells[i]))
            c.number_format = "@"
            cells[i] = c
        for i, v in enumerate(cells):
            if isinstance(v, str):  # a string cell, never a formula (OWASP)
                c = WriteOnlyCell(ws, value=v)
                c.data_type = "s"
                cells[i] = c
        for i in date_pos:
            if cells[i] is not None:
                c = WriteOnlyCell(ws, value=cells[i])
                c.number_format = "yyyy-mm-dd"
                cells[i] = c
        ws.append(cells)


def _dictionary_sheet(
    wb: Any, title: str, rows: list[tuple[str, str, str]], lang: Lang, style: _Style
) -> None:
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for letter, width in zip("ABC", (18.0, 24.0, 22.0), strict=True):
        ws.column_dimensions[letter].width = width
    heads = (
        ("字段", "中文名", "English") if lang == "zh" else ("key", "Chinese", "English")
    )
    _header(ws, heads, style, align=False)
    for rec in rows:
        ws.append(list(rec))


def _workbook(created_at: Any) -> Any:
    wb = require_openpyxl().Workbook(write_only=True)
    wb.properties.creator = "creditsup"
    if created_at:
        try:
            stamp = _dt.datetime.fromisoformat(str(created_at)).replace(tzinfo=None)
            wb.properties.created = stamp
            wb.properties.modified = stamp
        except ValueError:
            pass
    return wb


def _repack(data: bytes, stamp: _dt.datetime | None) -> bytes:
    """Fix the zip entries' times and the 'modified' property: same plan, same bytes."""
    when = (stamp or _dt.datetime(1980, 1, 1)).timetuple()[:6]
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml" and stamp is not None:
                iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + iso + rb"\g<2>",
                    body,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, body)
    return buf.getvalue()


def xlsx_bytes(
    tables: Mapping[str, pd.DataFrame],
    lang: Lang,
    *,
    columns: Mapping[str, tuple[str, str]],
    created_at: Any = None,
) -> bytes:
    """The ``public.xlsx`` workbook as bytes (byte-identical for the same plan).

    ``columns`` are the labels ``key -> (Chinese, English)`` of every column
    the tables may hold, in the order of the column dictionary sheet. Every
    text value is written as a string cell, never as a formula.
    """
    wb = _workbook(created_at)
    from openpyxl.styles import Alignment, Font, PatternFill

    style = _Style(
        Font(bold=True),
        PatternFill("solid", fgColor="DDEBF7"),
        Alignment(horizontal="center", vertical="center", wrap_text=True),
    )
    idx = 0 if lang == "zh" else 1
    for name, df in tables.items():
        headers = [columns.get(c, (c, c))[idx] for c in df.columns]
        _data_sheet(wb, _SHEETS.get(name, (name, name))[idx], df, headers, style)
    used = sorted(
        {c for df in tables.values() for c in df.columns}, key=list(columns).index
    )
    rows = [(c, columns[c][0], columns[c][1]) for c in used]
    _dictionary_sheet(wb, _SHEETS["columns"][idx], rows, lang, style)
    buf = io.BytesIO()
    wb.save(buf)
    return _repack(buf.getvalue(), wb.properties.created if created_at else None)
