"""Publication (一公开): the public plan files and the publication deadlines.

:func:`publish_plan` writes the public view of an :class:`~creditsup.plan.InspectionPlan`:

* ``plan.csv``: the annual plan table with the R06 columns (task, type 定向/不定向,
  items, object scope, pool size, quantity, ratio, dates, initiating body,
  checking body, mode);
* ``entities.csv``: the list of entities to inspect, one row per task and
  entity (filter the ``task_id`` column for one task's list);
* ``public.xlsx`` (extra ``[excel]``): the same two tables as sheets, plus a
  column dictionary sheet; Chinese headers, frozen header row, auto-filter,
  column widths, and USCC / id columns stored as text.

CSV files are UTF-8 with BOM (Excel opens them). With ``lang="zh"`` their
header row reads ``中文名 english_key`` (e.g. ``统一社会信用代码 uscc``): an
Excel user reads the Chinese, a script takes the last space-separated word;
with ``lang="en"`` the header is the English key alone.

Only whitelisted columns are ever written (:data:`PUBLIC_COLUMNS`). Tiers,
scores, reasons, conflicts and inspector data never reach these files (C3),
and a value check refuses to publish any cell that equals an inspector id of
the plan.

The publication deadline (R18) is 20 working days after the end of a check,
counted on the official Chinese calendar with its make-up workdays (调休):
:func:`publication_deadline` and :func:`due_dates` read it from the maintained
``chinese_calendar`` package (PyPI ``chinesecalendar``, extra ``[calendar]``),
and a :class:`WorkCalendar` supplies years the package does not know yet.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, model_validator

from creditsup.config import FrozenModel
from creditsup.exceptions import ConfigError, CreditsupError, MissingDependencyError
from creditsup.io import csv_bytes, write_atomic
from creditsup.schemas import PUBLIC_PLAN_COLUMNS

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan

__all__ = [
    "COLUMN_LABELS",
    "PRIVATE_COLUMNS",
    "PUBLIC_COLUMNS",
    "WorkCalendar",
    "column_header",
    "due_dates",
    "is_workday",
    "public_tables",
    "publication_deadline",
    "publish_plan",
    "working_days_between",
]

logger = logging.getLogger(__name__)

Lang = Literal["zh", "en"]

#: Display labels of every public column: ``key -> (Chinese, English)``.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "task_id": ("任务编号", "Task ID"),
    "task": ("抽查任务（检查事项）", "Task (check item)"),
    "task_type": ("抽查类型", "Type"),
    "item_kind": ("事项类别", "Item kind"),
    "legal_basis": ("检查依据", "Legal basis"),
    "scope": ("抽查对象范围", "Object scope"),
    "pool_size": ("对象总数", "Pool size"),
    "quantity": ("抽查数量", "Quantity"),
    "ratio": ("抽查比例", "Ratio"),
    "start_date": ("开始日期", "Start date"),
    "end_date": ("结束日期", "End date"),
    "initiating_body": ("发起部门", "Initiating body"),
    "checking_body": ("检查实施部门", "Checking body"),
    "mode": ("抽查方式", "Mode"),
    "department": ("检查部门", "Department"),
    "uscc": ("统一社会信用代码", "USCC"),
    "name": ("市场主体名称", "Entity name"),
    "month": ("计划检查月份", "Planned month"),
    "joint": ("部门联合抽查", "Joint check"),
    "visit_id": ("检查编号", "Visit ID"),
}

#: The columns that may be published, per table, in output order.
PUBLIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "plan": PUBLIC_PLAN_COLUMNS,
    "entities": (
        "task_id",
        "task",
        "checking_body",
        "uscc",
        "name",
        "joint",
        "visit_id",
    ),
}

#: Columns that must never appear in a public file (C3); checked by the tests.
PRIVATE_COLUMNS: frozenset[str] = frozenset(
    {
        "score",
        "tier",
        "tier_reason",
        "reasons",
        "reason",
        "reason_code",
        "detail",
        "conflict",
        "inspector_id",
        "inspector_ids",
        "old_inspector_id",
        "new_inspector_id",
        "certificate_no",
        "inspector_name",
        "legal_rep",
    }
)

_SHEETS: dict[str, tuple[str, str]] = {
    "plan": ("年度抽查计划", "annual_plan"),
    "entities": ("抽查对象名单", "entities"),
    "columns": ("字段说明", "columns"),
}
_TEXT_COLUMNS = frozenset({"task_id", "uscc", "visit_id"})
_INT_COLUMNS = frozenset({"pool_size", "quantity", "month"})
_DATE_COLUMNS = frozenset({"start_date", "end_date"})
_EXCEL_MAX_ROWS = 1_048_576

_ENTITY_TYPES: dict[str, tuple[str, str]] = {
    "enterprise": ("企业", "enterprise"),
    "individual": ("个体工商户", "individual business"),
    "cooperative": ("农民专业合作社", "co-operative"),
    "other": ("其他", "other"),
}
_VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "task_type": {"定向": ("定向", "targeted"), "不定向": ("不定向", "non-targeted")},
    "item_kind": {
        "general": ("一般检查事项", "general"),
        "key": ("重点检查事项", "key"),
    },
    "joint": {
        "true": ("是", "yes"),
        "false": ("否", "no"),
        "True": ("是", "yes"),
        "False": ("否", "no"),
    },
}
_SCOPE_RE = re.compile(r"^types:\s*(?P<types>.*?);\s*industries:\s*(?P<ind>.*)$")


def _check_lang(lang: str) -> Lang:
    if lang not in ("zh", "en"):
        raise ConfigError(f"The 'lang' must be 'zh' or 'en'. Got {lang!r} instead.")
    return lang  # type: ignore[return-value]


def column_header(key: str, lang: str = "zh") -> str:
    """The CSV header of a public column.

    Examples
    --------
    >>> column_header("uscc")
    '统一社会信用代码 uscc'
    >>> column_header("uscc", "en")
    'uscc'
    """
    if _check_lang(lang) == "en":
        return key
    zh = COLUMN_LABELS.get(key, (key, key))[0]
    return f"{zh} {key}"


def _label(key: str, lang: Lang) -> str:
    zh, en = COLUMN_LABELS.get(key, (key, key))
    return zh if lang == "zh" else en


# ----------------------------------------------------------------- the view
def _translate_scope(scope: pd.Series, lang: Lang) -> pd.Series:
    """``types: a;b; industries: F52`` → ``对象类型：企业、个体工商户；行业：F52``."""
    parts = scope.astype("string").str.extract(_SCOPE_RE)
    if parts["types"].isna().all():
        return scope.astype("string").fillna("")
    everything = "全部" if lang == "zh" else "all"
    sep = "、" if lang == "zh" else ", "

    def _types(text: str) -> str:
        if text.strip() in ("*", ""):
            return everything
        idx = 0 if lang == "zh" else 1
        return sep.join(
            _ENTITY_TYPES.get(t.strip(), (t.strip(), t.strip()))[idx]
            for t in text.split(";")
            if t.strip()
        )

    def _inds(text: str) -> str:
        if text.strip() in ("*", ""):
            return everything
        return sep.join(t.strip() for t in text.split(";") if t.strip())

    # one call per distinct scope (a handful of items), never per entity
    uniq = parts.drop_duplicates().dropna()
    lookup: dict[tuple[str, str], str] = {}
    for types, ind in uniq.itertuples(index=False):
        if lang == "zh":
            lookup[(types, ind)] = f"对象类型：{_types(types)}；行业：{_inds(ind)}"
        else:
            lookup[(types, ind)] = (
                f"entity types: {_types(types)}; industries: {_inds(ind)}"
            )
    keys = pd.Series(
        list(zip(parts["types"], parts["ind"], strict=True)), index=scope.index
    )
    out = keys.map(lookup)
    return out.where(out.notna(), scope.astype("string")).fillna("")


def _translate_values(df: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    idx = 0 if lang == "zh" else 1
    out = df.copy()
    for col, table in _VALUE_LABELS.items():
        if col in out.columns:
            as_text = out[col].astype("string")
            mapped = as_text.map({k: v[idx] for k, v in table.items()})
            out[col] = mapped.where(mapped.notna(), as_text)
    if "scope" in out.columns:
        out["scope"] = _translate_scope(out["scope"], lang)
    return out


def _department_names(plan: InspectionPlan) -> dict[str, str]:
    pub = plan.provenance.get("policy", {}).get("publication", {}) or {}
    names = pub.get("department_names", {}) or {}
    return {str(k): str(v) for k, v in names.items()}


def public_tables(plan: InspectionPlan, *, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The public tables, whitelisted and translated, with English column keys.

    Parameters
    ----------
    plan : InspectionPlan
        The plan; its :meth:`~creditsup.plan.InspectionPlan.public_view` is the source.
    lang : {"zh", "en"}
        Language of the display values (``定向``/``targeted``, ``是``/``yes``, ...).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``plan`` and ``entities``, with only the columns of :data:`PUBLIC_COLUMNS`.

    Raises
    ------
    CreditsupError
        A public cell equals an inspector id of the plan (a bug upstream; nothing
        is written).
    """
    language = _check_lang(lang)
    view = plan.public_view()
    depts = _department_names(plan)
    out: dict[str, pd.DataFrame] = {}
    for name, allowed in PUBLIC_COLUMNS.items():
        df = view.get(name, pd.DataFrame())
        df = df.copy()
        if name == "entities" and "checking_body" not in df.columns:
            dep = (
                df["department"]
                if "department" in df.columns
                else pd.Series("", index=df.index)
            )
            dep = dep.astype("string").fillna("")
            df["checking_body"] = dep.map(lambda d: depts.get(d, d))
        dropped = [c for c in df.columns if c not in allowed]
        if dropped:
            logger.debug("public table %s: not publishing columns %s", name, dropped)
        keep = [c for c in allowed if c in df.columns]
        df = _translate_values(df[keep], language)
        out[name] = df.reset_index(drop=True)
    _check_no_private_values(out, plan)
    return out


def _check_no_private_values(
    tables: Mapping[str, pd.DataFrame], plan: InspectionPlan
) -> None:
    ids: set[str] = set()
    if "inspector_id" in plan.assignments.columns:
        ids |= set(plan.assignments["inspector_id"].dropna().astype(str))
    for col in ("old_inspector_id", "new_inspector_id"):
        if col in plan.redraws.columns:
            ids |= set(plan.redraws[col].dropna().astype(str))
    ids.discard("")
    for name, df in tables.items():
        leaked = [c for c in df.columns if c in PRIVATE_COLUMNS]
        if leaked:  # pragma: no cover - excluded by the whitelist
            raise CreditsupError(
                f"The public table '{name}' holds private columns {leaked}."
            )
        if not ids:
            continue
        for col in df.columns:
            hit = df[col].astype("string").isin(ids)
            if bool(hit.any()):
                raise CreditsupError(
                    f"Refusing to publish: column '{col}' of the public table '{name}' "
                    f"holds an inspector id ({df.loc[hit, col].iloc[0]!r}); inspector "
                    "data is never published (C3)."
                )


# ------------------------------------------------------------------ writing
def _csv_bytes(df: pd.DataFrame, lang: Lang) -> bytes:
    frame = df.rename(columns={c: column_header(c, lang) for c in df.columns})
    return csv_bytes(frame)


def publish_plan(
    plan: InspectionPlan,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    excel: bool = True,
) -> list[Path]:
    """Write the public view of a plan (一公开) into ``out_dir``.

    Parameters
    ----------
    plan : InspectionPlan
        The plan to publish (built, or loaded with :func:`creditsup.plan.load_plan`).
    out_dir : str or Path
        The folder to write (created if needed). Write it outside the plan
        bundle: the bundle's own files are hashed in ``provenance.json``.
    lang : {"zh", "en"}
        ``zh``: CSV headers ``中文名 key`` and Chinese values, Chinese sheet
        names and headers; ``en``: English keys, values and sheet names.
    excel : bool
        Also write ``public.xlsx`` (needs the ``excel`` extra, openpyxl).

    Returns
    -------
    list of Path
        ``plan.csv``, ``entities.csv`` and, with ``excel``, ``public.xlsx``.

    Raises
    ------
    MissingDependencyError
        ``excel=True`` and openpyxl is not installed (nothing is written).
    ConfigError
        A table has more rows than an Excel sheet holds (use ``excel=False``).
    """
    language = _check_lang(lang)
    tables = public_tables(plan, lang=language)
    if excel:
        _require_openpyxl()
        too_big = {k: len(v) for k, v in tables.items() if len(v) >= _EXCEL_MAX_ROWS}
        if too_big:
            name, n = next(iter(too_big.items()))
            raise ConfigError(
                f"The public table '{name}' has {n:,} rows; an Excel sheet holds at "
                f"most {_EXCEL_MAX_ROWS - 1:,} data rows. Publish with excel=False "
                "(CSV only)."
            )
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, df in tables.items():
        path = root / f"{name}.csv"
        write_atomic(path, _csv_bytes(df, language))
        written.append(path)
    if excel:
        path = root / "public.xlsx"
        _write_xlsx(
            tables, path, language, created_at=plan.provenance.get("created_at")
        )
        written.append(path)
    logger.info("published %d files to %s", len(written), root)
    return written


def _require_openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise MissingDependencyError("openpyxl", "excel") from None
    return openpyxl


_WIDE = r"[\u1100-\u115f\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"


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


def _write_xlsx(
    tables: Mapping[str, pd.DataFrame],
    path: Path,
    lang: Lang,
    *,
    created_at: Any = None,
) -> None:
    openpyxl = _require_openpyxl()
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    idx = 0 if lang == "zh" else 1
    wb = openpyxl.Workbook(write_only=True)
    wb.properties.creator = "creditsup"
    if created_at:
        try:
            stamp = _dt.datetime.fromisoformat(str(created_at)).replace(tzinfo=None)
            wb.properties.created = stamp
            wb.properties.modified = stamp
        except ValueError:
            pass
    head_font = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    head_align = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def sheet(title: str, df: pd.DataFrame) -> None:
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        headers = [_label(c, lang) for c in df.columns]
        for i, (col, head) in enumerate(zip(df.columns, headers, strict=True), start=1):
            ws.column_dimensions[get_column_letter(i)].width = _column_width(
                head, df[col]
            )
        if len(df.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}"
        row: list[Any] = []
        for head in headers:
            cell = WriteOnlyCell(ws, value=head)
            cell.font = head_font
            cell.fill = head_fill
            cell.alignment = head_align
            row.append(cell)
        ws.append(row)
        values = _excel_values(df)
        text_pos = [i for i, c in enumerate(df.columns) if c in _TEXT_COLUMNS]
        date_pos = [i for i, c in enumerate(df.columns) if c in _DATE_COLUMNS]
        for rec in values.itertuples(index=False, name=None):
            cells: list[Any] = list(rec)
            for i in text_pos:
                c = WriteOnlyCell(ws, value=None if cells[i] is None else str(cells[i]))
                c.number_format = "@"
                cells[i] = c
            for i in date_pos:
                if cells[i] is not None:
                    c = WriteOnlyCell(ws, value=cells[i])
                    c.number_format = "yyyy-mm-dd"
                    cells[i] = c
            ws.append(cells)

    for name, df in tables.items():
        sheet(_SHEETS.get(name, (name, name))[idx], df)
    used = sorted(
        {c for df in tables.values() for c in df.columns}, key=list(COLUMN_LABELS).index
    )
    dictionary = pd.DataFrame(
        {
            "key": used,
            "zh": [COLUMN_LABELS[c][0] for c in used],
            "en": [COLUMN_LABELS[c][1] for c in used],
        }
    )
    ws = wb.create_sheet(_SHEETS["columns"][idx])
    ws.freeze_panes = "A2"
    for letter, width in zip("ABC", (18.0, 24.0, 22.0), strict=True):
        ws.column_dimensions[letter].width = width
    heads = (
        ("字段", "中文名", "English") if lang == "zh" else ("key", "Chinese", "English")
    )
    row = []
    for head in heads:
        cell = WriteOnlyCell(ws, value=head)
        cell.font = head_font
        cell.fill = head_fill
        row.append(cell)
    ws.append(row)
    for rec in dictionary.itertuples(index=False, name=None):
        ws.append(list(rec))
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():  # pragma: no cover - only after a failed save
            tmp.unlink()


# ---------------------------------------------------------- working days (R18)
class WorkCalendar(FrozenModel):
    """Official holidays and make-up workdays (调休) for years you supply.

    For every year it covers, this calendar decides alone: a day is a working
    day when it is a make-up workday, or a Monday–Friday that is not a holiday.
    Other years come from the ``chinese_calendar`` package (``use_package``),
    and a year known to neither raises a :class:`ConfigError`.

    Parameters
    ----------
    holidays : set of date
        Days off (法定节假日 and the weekdays moved into the holiday).
    workdays : set of date
        Make-up workdays: Saturdays or Sundays that are working days (调休).
    years : set of int, optional
        The years this calendar covers; default: the years of the dates given.
        List a year with no holiday at all here explicitly.
    use_package : bool
        Fall back to ``chinese_calendar`` for the other years.

    Examples
    --------
    A calendar for 2027 written from the State Council's notice:

    >>> cal = WorkCalendar(
    ...     holidays=["2027-01-01", "2027-10-01", "2027-10-04"],
    ...     workdays=["2027-09-26"], use_package=False)
    >>> sorted(cal.covered_years)
    [2027]
    >>> is_workday("2027-09-26", calendar=cal), is_workday("2027-10-04", calendar=cal)
    (True, False)
    """

    holidays: frozenset[_dt.date] = Field(default_factory=frozenset)
    workdays: frozenset[_dt.date] = Field(default_factory=frozenset)
    years: frozenset[int] = Field(default_factory=frozenset)
    use_package: bool = True

    @model_validator(mode="after")
    def _check(self) -> WorkCalendar:
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(
                f"The date {both[0].isoformat()} in WorkCalendar is both a holiday and "
                "a make-up workday; list it once."
            )
        weekday = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekday:
            d = weekday[0]
            raise ValueError(
                f"The make-up workday {d.isoformat()} in WorkCalendar is a "
                f"{d.strftime('%A')}; make-up workdays (调休) fall on a Saturday or "
                "Sunday. Got a weekday instead."
            )
        if self.years:
            outside = sorted(
                d for d in self.holidays | self.workdays if d.year not in self.years
            )
            if outside:
                raise ValueError(
                    f"The date {outside[0].isoformat()} in WorkCalendar lies outside its "
                    f"'years' {sorted(self.years)}."
                )
        return self

    @property
    def covered_years(self) -> frozenset[int]:
        """The years this calendar decides (``years``, or the years of its dates)."""
        if self.years:
            return self.years
        return frozenset(d.year for d in self.holidays | self.workdays)

    @classmethod
    def from_table(
        cls, table: pd.DataFrame, *, use_package: bool = True
    ) -> WorkCalendar:
        """Build a calendar from a table with columns ``date`` and ``kind``.

        ``kind`` is ``holiday`` (or ``休``) or ``workday`` (or ``班``), the way
        the State Council's notice lists them.

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"date": ["2027-02-06", "2027-02-08"], "kind": ["班", "休"]})
        >>> WorkCalendar.from_table(t).workdays
        frozenset({datetime.date(2027, 2, 6)})
        """
        missing = {"date", "kind"} - set(table.columns)
        if missing:
            raise ConfigError(
                f"A calendar table needs the columns 'date' and 'kind'. Missing {sorted(missing)}."
            )
        dates = pd.to_datetime(table["date"], errors="coerce")
        if bool(dates.isna().any()):
            bad = table.loc[dates.isna(), "date"].iloc[0]
            raise ConfigError(
                f"The calendar 'date' must be YYYY-MM-DD. Got {bad!r} instead."
            )
        kind = table["kind"].astype("string").str.strip().str.lower()
        kind = kind.replace({"休": "holiday", "班": "workday"})
        unknown = ~kind.isin(["holiday", "workday"])
        if bool(unknown.any()):
            bad = table.loc[unknown, "kind"].iloc[0]
            raise ConfigError(
                f"The calendar 'kind' must be 'holiday' or 'workday'. Got {bad!r} instead."
            )
        days = dates.dt.date
        return cls(
            holidays=frozenset(days[kind.eq("holiday")]),
            workdays=frozenset(days[kind.eq("workday")]),
            use_package=use_package,
        )


def _as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise ConfigError(
            f"Expected a date (YYYY-MM-DD). Got {value!r} instead."
        ) from None


def _package() -> Any:
    try:
        import chinese_calendar
    except ImportError:
        raise MissingDependencyError("chinesecalendar", "calendar") from None
    return chinese_calendar


def _year_days(
    year: int, calendar: WorkCalendar | None
) -> tuple[set[_dt.date], set[_dt.date]]:
    """Holidays and make-up workdays of one year, or a clear error."""
    if calendar is not None and year in calendar.covered_years:
        return (
            {d for d in calendar.holidays if d.year == year},
            {d for d in calendar.workdays if d.year == year},
        )
    if calendar is not None and not calendar.use_package:
        raise ConfigError(
            f"No holiday calendar for {year}: the WorkCalendar covers "
            f"{sorted(calendar.covered_years)} and use_package is False. Add {year} "
            "to the WorkCalendar."
        )
    cc = _package()
    known = [d.year for d in cc.holidays]
    lo, hi = min(known), max(known)
    if not lo <= year <= hi:
        raise ConfigError(
            f"No official holiday calendar for {year}: the installed chinesecalendar "
            f"knows {lo}–{hi} and no WorkCalendar covers {year}. Pass "
            f"calendar=WorkCalendar(holidays=[...], workdays=[...]) with the State "
            f"Council's {year} holiday notice, or upgrade chinesecalendar."
        )
    return (
        {d for d in cc.holidays if d.year == year},
        {d for d in cc.workdays if d.year == year},
    )


_Days = npt.NDArray[np.datetime64]


def _working_days_of_year(
    year: int, calendar: WorkCalendar | None, start: _dt.date | None = None
) -> _Days:
    holidays, workdays = _year_days(year, calendar)
    first = max(_dt.date(year, 1, 1), start) if start else _dt.date(year, 1, 1)
    days = np.arange(
        np.datetime64(first, "D"),
        np.datetime64(_dt.date(year + 1, 1, 1), "D"),
        dtype="datetime64[D]",
    )
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
    hol = np.array(sorted(holidays), dtype="datetime64[D]")
    mk = np.array(sorted(workdays), dtype="datetime64[D]")
    work = ((weekday < 5) & ~np.isin(days, hol)) | np.isin(days, mk)
    return days[work]


def _working_days_from(
    start: _dt.date, last: _dt.date, n: int, calendar: WorkCalendar | None
) -> _Days:
    """Sorted working days from ``start`` on, holding ≥ ``n`` after ``last``.

    Years are loaded one at a time, so a year is needed (and must be known)
    only when a deadline reaches into it.
    """
    blocks: list[_Days] = []
    after = 0
    year = start.year
    limit = np.datetime64(last, "D")
    while True:
        block = _working_days_of_year(
            year, calendar, start if year == start.year else None
        )
        blocks.append(block)
        after += int((block > limit).sum())
        if after >= n and year >= last.year:
            break
        year += 1
    return np.concatenate(blocks)


def working_days_between(
    start: Any, end: Any, *, calendar: WorkCalendar | None = None
) -> list[_dt.date]:
    """The working days from ``start`` to ``end``, both included (调休 included).

    Examples
    --------
    >>> [d.isoformat() for d in working_days_between("2025-02-03", "2025-02-09")]
    ['2025-02-05', '2025-02-06', '2025-02-07', '2025-02-08']
    """
    a, b = _as_date(start), _as_date(end)
    if b < a:
        return []
    blocks = [
        _working_days_of_year(y, calendar, a if y == a.year else None)
        for y in range(a.year, b.year + 1)
    ]
    days = np.concatenate(blocks)
    days = days[days <= np.datetime64(b, "D")]
    return [d.astype(_dt.date) for d in days]


def is_workday(day: Any, *, calendar: WorkCalendar | None = None) -> bool:
    """True when ``day`` is a working day on the official calendar (调休 included).

    Examples
    --------
    >>> is_workday("2024-10-12")  # a Saturday made up for the National Day week
    True
    >>> is_workday("2024-10-07")  # a Monday inside the National Day holiday
    False
    """
    d = _as_date(day)
    days = _working_days_of_year(d.year, calendar, d)
    return bool(len(days) and days[0] == np.datetime64(d, "D"))


def publication_deadline(
    check_date: Any,
    *,
    working_days: int = 20,
    calendar: WorkCalendar | None = None,
) -> _dt.date:
    """The last day to publish a check's result: ``working_days`` after it (R18).

    The day of the check does not count: the deadline is the ``working_days``-th
    working day after ``check_date`` (自检查结束之日起 20 个工作日内), on the
    official calendar with its make-up workdays (调休).

    Parameters
    ----------
    check_date : date, datetime, str or Timestamp
        The day the check ended.
    working_days : int
        The allowed number of working days (R18: 20).
    calendar : WorkCalendar, optional
        Holidays for years ``chinese_calendar`` does not know yet (or to
        override it); see :class:`WorkCalendar`.

    Returns
    -------
    datetime.date

    Raises
    ------
    ConfigError
        A year the deadline reaches is known neither to ``calendar`` nor to
        the package.
    MissingDependencyError
        ``chinese_calendar`` is needed (a year not in ``calendar``) and missing.

    Examples
    --------
    A check ending on Monday 23 September 2024 crosses the National Day week;
    Sunday 29 September and Saturday 12 October were make-up workdays:

    >>> publication_deadline("2024-09-23")
    datetime.date(2024, 10, 24)
    """
    if (
        isinstance(working_days, bool)
        or not isinstance(working_days, int | np.integer)
        or working_days < 1
    ):
        raise ConfigError(
            f"The 'working_days' must be a positive integer. Got {working_days!r} instead."
        )
    d = _as_date(check_date)
    days = _working_days_from(d + _dt.timedelta(days=1), d, int(working_days), calendar)
    return days[int(working_days) - 1].astype(_dt.date)  # type: ignore[no-any-return]


def due_dates(
    frame: pd.DataFrame,
    *,
    date_column: str = "date",
    published_column: str | None = None,
    as_of: Any = None,
    working_days: int = 20,
    calendar: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Add the publication deadline (R18) and its status to a table of checks.

    Vectorised: one calendar per year, then a sorted search for all rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Checks, e.g. the ``history`` table or inspection results; not modified.
    date_column : str
        The day each check ended.
    published_column : str, optional
        The day each result was published (NaT when not yet).
    as_of : date, optional
        The reference day for unpublished results (``overdue`` once past due).
    working_days : int
        R18: 20.
    calendar : WorkCalendar, optional
        See :func:`publication_deadline`.

    Returns
    -------
    pandas.DataFrame
        A copy with ``due_date`` (datetime64) and, when ``published_column`` or
        ``as_of`` is given, ``publication_status``: ``on_time``, ``late``
        (published after the deadline), ``overdue`` (unpublished, deadline
        passed) or ``pending``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"date": ["2025-01-20", "2025-03-03"],
    ...                   "published_on": ["2025-02-28", None]})
    >>> out = due_dates(t, published_column="published_on", as_of="2025-04-30")
    >>> out["due_date"].dt.strftime("%Y-%m-%d").tolist()
    ['2025-02-21', '2025-03-31']
    >>> out["publication_status"].tolist()
    ['late', 'overdue']
    """
    if working_days < 1:
        raise ConfigError(
            f"The 'working_days' must be a positive integer. Got {working_days!r} instead."
        )
    if date_column not in frame.columns:
        raise ConfigError(f"The table has no column {date_column!r} (the check date).")
    out = frame.copy()
    checks = pd.to_datetime(out[date_column], errors="coerce").dt.normalize()
    due = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    valid = checks.notna()
    if bool(valid.any()):
        lo = checks[valid].min().date()
        hi = checks[valid].max().date()
        days = _working_days_from(
            lo + _dt.timedelta(days=1), hi, working_days, calendar
        )
        c = checks[valid].to_numpy().astype("datetime64[D]")
        pos = np.searchsorted(days, c, side="right") + working_days - 1
        due.loc[valid] = pd.to_datetime(days[pos]).to_numpy()
    out["due_date"] = due
    if published_column is None and as_of is None:
        return out
    status = pd.Series("pending", index=out.index, dtype="object")
    published = (
        pd.to_datetime(out[published_column], errors="coerce").dt.normalize()
        if published_column is not None
        else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    )
    done = published.notna()
    status[done & (published <= due)] = "on_time"
    status[done & (published > due)] = "late"
    if as_of is not None:
        ref = pd.Timestamp(_as_date(as_of))
        status[~done & due.notna() & (due < ref)] = "overdue"
    out["publication_status"] = status.astype("string")
    return out
