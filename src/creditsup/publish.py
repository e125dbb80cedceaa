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
These live in :mod:`creditsup.workdays` and are re-exported here; the column
headers and display values come from the one label table
:data:`creditsup.labels.LABELS`; the Excel writer is ``creditsup._public_xlsx``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from creditsup._public_xlsx import EXCEL_MAX_ROWS, require_openpyxl, xlsx_bytes
from creditsup.exceptions import ConfigError, CreditsupError
from creditsup.io import csv_bytes, inert_cells
from creditsup.labels import (
    LABELS,
    Lang,
    check_lang,
    value_label,
    value_labels,
)
from creditsup.outputs import replace_folder
from creditsup.schemas import PUBLIC_PLAN_COLUMNS, PUBLIC_RESULT_COLUMNS
from creditsup.workdays import (
    WorkCalendar,
    due_dates,
    is_workday,
    publication_deadline,
    working_days_between,
)

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

#: The draw record (抽取记录, R10): what a third party needs to check the draw.
DRAW_COLUMNS = (
    "year",
    "algorithm",
    "seed_commitment",
    "seed_source",
    "seed",
    "created_at",
)

#: Display labels of every public column: ``key -> (Chinese, English)``, taken
#: from the one label table :data:`creditsup.labels.LABELS`.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    key: LABELS[key]
    for key in (
        *PUBLIC_PLAN_COLUMNS,
        *DRAW_COLUMNS,
        "department",
        "uscc",
        "name",
        "month",
        "joint",
        "visit_id",
        "result",
        "check_date",
        "published_on",
        "due_date",
    )
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
    "draw": DRAW_COLUMNS,
    # inspection results (R17), when the bundle has them (creditsup.year)
    "results": PUBLIC_RESULT_COLUMNS,
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

#: Columns whose values are codes of a vocabulary of :data:`creditsup.labels.LABELS`.
_CODED_COLUMNS = ("task_type", "item_kind", "joint", "result")
_SCOPE_RE = re.compile(r"^types:\s*(?P<types>.*?);\s*industries:\s*(?P<ind>.*)$")


def column_header(key: str, lang: str = "zh") -> str:
    """The CSV header of a public column.

    Examples
    --------
    >>> column_header("uscc")
    '统一社会信用代码 uscc'
    >>> column_header("uscc", "en")
    'uscc'
    """
    if check_lang(lang) == "en":
        return key
    zh = COLUMN_LABELS.get(key, (key, key))[0]
    return f"{zh} {key}"


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
        return sep.join(
            value_label("entity_type", t.strip(), lang)
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
    out = df.copy()
    for col in _CODED_COLUMNS:
        if col in out.columns:
            as_text = out[col].astype("string")
            mapped = as_text.map(value_labels(col, lang))
            out[col] = mapped.where(mapped.notna(), as_text)
    if "scope" in out.columns:
        out["scope"] = _translate_scope(out["scope"], lang)
    return out


def public_tables(
    plan: InspectionPlan, *, lang: str = "zh", results: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """The public tables, whitelisted and translated, with English column keys.

    Parameters
    ----------
    plan : InspectionPlan
        The plan; its :meth:`~creditsup.plan.InspectionPlan.public_view` is the source.
    lang : {"zh", "en"}
        Language of the display values (``定向``/``targeted``, ``是``/``yes``, ...).
    results : pandas.DataFrame, optional
        The inspection results to publish (R17), as given by
        :func:`creditsup.year.public_results`; result codes are shown in ``lang``.
        Without it, the public files are the plan's alone.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``plan``, ``entities``, ``draw`` (and ``results``), with only the
        columns of :data:`PUBLIC_COLUMNS`.

    Raises
    ------
    CreditsupError
        A public cell equals an inspector id of the plan (a bug upstream; nothing
        is written).
    """
    language = check_lang(lang)
    view = {**plan.public_view(), "draw": _draw_record(plan)}
    if results is not None:
        view["results"] = results
    out: dict[str, pd.DataFrame] = {}
    for name, allowed in PUBLIC_COLUMNS.items():
        if name not in view:
            continue
        df = view[name].copy()
        dropped = [c for c in df.columns if c not in allowed]
        if dropped:
            logger.debug("public table %s: not publishing columns %s", name, dropped)
        keep = [c for c in allowed if c in df.columns]
        df = _translate_values(df[keep], language)
        out[name] = df.reset_index(drop=True)
    _check_no_private_values(out, plan)
    return out


def _draw_record(plan: InspectionPlan) -> pd.DataFrame:
    """One row: the year, algorithm, commitment, declared seed source and seed."""
    prov = plan.provenance
    source = prov.get("seed_source") or {}
    text = str(source.get("text", "")) if isinstance(source, dict) else ""
    row = {
        "year": str(prov.get("year", "")),
        "algorithm": str(prov.get("algorithm", "")),
        "seed_commitment": str(prov.get("seed_commitment", "")),
        "seed_source": text,
        "seed": str(prov.get("seed", "")),
        "created_at": str(prov.get("created_at", "")),
    }
    return pd.DataFrame([row], columns=list(DRAW_COLUMNS))


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
    frame = inert_cells(df).rename(
        columns={c: column_header(c, lang) for c in df.columns}
    )
    return csv_bytes(frame)


def publish_plan(
    plan: InspectionPlan,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    excel: bool = True,
    protect: Sequence[str | Path] = (),
    results: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the public view of a plan (一公开) into ``out_dir``.

    Parameters
    ----------
    plan : InspectionPlan
        The plan to publish (built, or loaded with :func:`creditsup.plan.load_plan`).
    out_dir : str or Path
        The folder to write. Write it outside the plan bundle: the bundle's
        own files are hashed in ``provenance.json``.
    lang : {"zh", "en"}
        ``zh``: CSV headers ``中文名 key`` and Chinese values, Chinese sheet
        names and headers; ``en``: English keys, values and sheet names.
    excel : bool
        Also write ``public.xlsx`` (needs the ``excel`` extra, openpyxl).
    protect : sequence of path-like
        Inputs that must not be replaced (e.g. the plan bundle's folder).
    results : pandas.DataFrame, optional
        Inspection results to publish as ``results.csv`` and a sheet (R17);
        see :func:`public_tables`.

    The folder is written atomically and only over a new or empty folder or a
    public folder creditsup wrote (see :mod:`creditsup.outputs`). Cells that a
    spreadsheet would run as formulas are made inert (OWASP CSV injection).

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
    language = check_lang(lang)
    tables = public_tables(plan, lang=language, results=results)
    if excel:
        require_openpyxl()
        too_big = {k: len(v) for k, v in tables.items() if len(v) >= EXCEL_MAX_ROWS}
        if too_big:
            name, n = next(iter(too_big.items()))
            raise ConfigError(
                f"The public table '{name}' has {n:,} rows; an Excel sheet holds at "
                f"most {EXCEL_MAX_ROWS - 1:,} data rows. Publish with excel=False "
                "(CSV only)."
            )
    files = {f"{name}.csv": _csv_bytes(df, language) for name, df in tables.items()}
    if excel:
        files["public.xlsx"] = xlsx_bytes(
            tables,
            language,
            columns=COLUMN_LABELS,
            created_at=plan.provenance.get("created_at"),
        )
    root = replace_folder(out_dir, files, kind="public", protect=protect)
    written = [root / name for name in files]
    logger.info("published %d files to %s", len(written), root)
    return written
