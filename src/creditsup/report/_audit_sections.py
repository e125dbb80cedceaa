"""Report sections for review: exclusions by reason, infeasibility
diagnostics, publication deadlines (R18) and the provenance block."""

from __future__ import annotations

import datetime as _dt
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup.exceptions import ConfigError, CreditsupError, MissingDependencyError
from creditsup.labels import month_label, value_label
from creditsup.report import _blocks as blocks
from creditsup.report import plots
from creditsup.report._blocks import Section, TableBlock
from creditsup.report._frames import tiers_present, visit_departments
from creditsup.report._text import beijing_time, t

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan

__all__ = [
    "deadline_section",
    "diagnostics_section",
    "exclusion_section",
    "provenance_section",
]

logger = logging.getLogger(__name__)


def exclusion_section(plan: InspectionPlan, lang: str) -> Section:
    """Excluded entities by reason code, and per tier."""
    sec = Section("exclusions", t("sec_exclusions", lang))
    exc = plan.exclusions
    if not len(exc) or "reason_code" not in exc.columns:
        sec.notes.append(t("none_excluded", lang))
        return sec
    codes = exc["reason_code"].astype(str)
    counts = codes.value_counts()
    names = [value_label("reason_code", c, lang) for c in counts.index]
    svg = plots.bar_chart(
        names,
        list(counts.to_numpy(dtype=float)),
        title=t("sec_exclusions", lang),
        xlabel=t("count", lang),
    )
    sec.charts.append((t("sec_exclusions", lang), svg))
    out = pd.DataFrame({"reason": names, "n": counts.to_numpy()})
    out["share"] = out["n"] / max(len(exc), 1)
    header = blocks.heads(lang, "reason", "count", "share")
    fmts: list[blocks.Formatter | None] = [None, blocks.fmt_int, blocks.fmt_pct]
    if "tier" in plan.scores.columns and "uscc" in exc.columns:
        tier = (
            exc["uscc"]
            .astype(str)
            .map(
                plan.scores.assign(uscc=plan.scores["uscc"].astype(str))
                .drop_duplicates("uscc")
                .set_index("uscc")["tier"]
            )
        )
        ct = pd.crosstab(codes, tier.fillna("none").astype(str))
        for x in tiers_present(pd.Series(list(ct.columns))):
            out[f"tier_{x}"] = ct[x].reindex(counts.index).fillna(0).to_numpy()
            header.append(value_label("tier", x, lang))
            fmts.append(blocks.fmt_int)
    sec.tables.append(blocks.table_block(out, header, formats=fmts, lang=lang))
    return sec


def _unfilled_tables(
    sec: Section,
    plan: InspectionPlan,
    visits: pd.DataFrame,
    unfilled: pd.DataFrame,
    lang: str,
) -> None:
    """Unfilled visits per department and month, then the list itself."""
    names = blocks.department_labels(plan, lang)
    u = unfilled.copy()
    if "visit_id" in u.columns:
        u["visit_id"] = u["visit_id"].astype(str)
        u = u.merge(
            visits[["visit_id", "uscc", "month", "departments"]].astype(
                {"visit_id": str}
            ),
            on="visit_id",
            how="left",
        )
    if {"month", "departments"} <= set(u.columns):
        long = visit_departments(u.assign(departments=u["departments"].fillna("")))
        if len(long):
            ct = pd.crosstab(long["department"], long["month"].astype("Int64"))
            months = [int(m) for m in ct.columns]
            out = ct.reset_index()
            out["department"] = out["department"].map(lambda d: names.get(d, d))
            out["total"] = ct.sum(axis=1).to_numpy()
            sec.tables.append(
                blocks.table_block(
                    out,
                    blocks.month_heads(lang, months, "all"),
                    formats=[None] + [blocks.fmt_int] * (len(months) + 1),
                    caption=f"{t('unfilled_by_month', lang)}: {len(u):,}",
                    lang=lang,
                )
            )
    keys = ("visit_id", "uscc", "month", "departments", "reason")
    cols = [c for c in keys if c in u.columns]
    fm: dict[str, blocks.Formatter | None] = {
        "month": lambda v: "" if pd.isna(v) else month_label(int(v), lang),
        "departments": lambda v: blocks.department_list(v, names),
    }
    sec.tables.append(
        blocks.table_block(
            u[cols],
            blocks.heads(lang, *cols),
            formats=[fm.get(c) for c in cols],
            caption=f"{t('unfilled_visits', lang)}: {len(u):,}",
            max_rows=50,
            lang=lang,
        )
    )


def _binding_table(binding: pd.DataFrame, lang: str) -> TableBlock:
    """Constraint groups short of inspectors, largest shortfall first."""
    b = binding.copy()
    for c in ("needed", "available"):
        b[c] = blocks.to_num(b[c]) if c in b.columns else np.nan
    b["shortfall"] = b["needed"] - b["available"]
    b = b.sort_values("shortfall", ascending=False, kind="stable")
    cols = [c for c in ("group", "needed", "available", "shortfall") if c in b.columns]
    return blocks.table_block(
        b[cols],
        blocks.heads(lang, *cols),
        formats=[None if c == "group" else blocks.fmt_int for c in cols],
        caption=t("binding_groups", lang),
        lang=lang,
    )


def diagnostics_section(
    plan: InspectionPlan, visits: pd.DataFrame, lang: str
) -> Section:
    """Unfilled visits, binding constraint groups and the draw's warnings."""
    sec = Section("diagnostics", t("sec_diagnostics", lang))
    diagnosis = plan.diagnosis(lang)
    unfilled = pd.DataFrame(diagnosis.get("unfilled", []) or [])
    binding = pd.DataFrame(diagnosis.get("binding", []) or [])
    if not len(unfilled) and not len(binding):
        sec.notes.append(t("all_staffed", lang))
    if len(unfilled):
        _unfilled_tables(sec, plan, visits, unfilled, lang)
    if len(binding):
        sec.tables.append(_binding_table(binding, lang))
    warns = [
        w
        for rec in plan.ledger
        if rec.get("step") == "warnings"
        for w in rec.get("warnings", [])
    ]
    if warns:  # the codes are for machines; people read the text
        from creditsup.i18n import draw_warning_text

        names = blocks.department_labels(plan, lang)
        w = pd.DataFrame(
            {"message": [draw_warning_text(x, lang, names) for x in warns]}
        )
        sec.tables.append(
            blocks.table_block(
                w,
                [t("draw_message", lang)],
                caption=t("draw_warnings", lang),
                lang=lang,
            )
        )
    return sec


def deadline_section(
    plan: InspectionPlan, visits: pd.DataFrame, lang: str, calendar: Any
) -> Section:
    """The last day to publish the results of each month's checks (R18)."""
    from creditsup.workdays import publication_deadline, working_days_between

    sec = Section("deadlines", t("sec_deadlines", lang))
    sec.notes.append(t("note_deadlines", lang))
    try:
        year = int(plan.provenance.get("year", 0))
    except (TypeError, ValueError):
        year = 0
    months = (
        sorted(int(m) for m in visits["month"].dropna().unique()) if len(visits) else []
    )
    if not year or not months:
        sec.notes.append(t("no_data", lang))
        return sec
    try:
        days = working_days_between(
            _dt.date(year, 1, 1), _dt.date(year, 12, 31), calendar=calendar
        )
    except MissingDependencyError as exc:
        logger.warning("Publication deadlines not computed: %s", exc)
        sec.notes.append(t("calendar_missing", lang))
        return sec
    except CreditsupError as exc:
        logger.warning("Publication deadlines not computed: %s", exc)
        sec.notes.append(t("calendar_year_unknown", lang, year=year))
        return sec
    n_by_month = visits["month"].value_counts()
    rows: list[list[str]] = []
    for m in months:
        in_month = [d for d in days if d.month == m]
        if not in_month:
            continue
        last = in_month[-1]
        try:
            due = publication_deadline(last, calendar=calendar).isoformat()
        except ConfigError as exc:  # the deadline falls in a year not yet known
            due = t("calendar_unknown", lang)
            logger.info("Publication deadline of %s not computed: %s", last, exc)
            later = t("calendar_year_unknown", lang, year=year + 1)
            if later not in sec.notes:
                sec.notes.append(later)
        rows.append(
            [
                month_label(m, lang),
                blocks.fmt_int(n_by_month.get(m, 0)),
                last.isoformat(),
                due,
            ]
        )
    sec.tables.append(
        TableBlock(
            blocks.heads(lang, "month", "n_visits", "check_ends", "publish_by"),
            rows,
            numeric=[False, True, False, False],
        )
    )
    return sec


_PROVENANCE_KEYS = (
    "year",
    "seed",
    "seed_commitment",
    "algorithm",
    "created_at",
    "operator",
    "as_of",
    "policy_hash",
    "ledger_head",
)


def provenance_section(plan: InspectionPlan, lang: str) -> Section:
    """Seed, hashes and versions: what anyone needs to verify the plan."""
    p = plan.provenance
    sec = Section("provenance", t("sec_provenance", lang))
    rows = [
        [t(k, lang), beijing_time(p[k], lang) if k == "created_at" else str(p[k])]
        for k in _PROVENANCE_KEYS
        if p.get(k) not in (None, "")
    ]
    rows.append([t("ledger_records", lang), blocks.fmt_int(len(plan.ledger))])
    sec.tables.append(
        TableBlock(blocks.heads(lang, "key", "value"), rows, numeric=[False, False])
    )
    for key, name, head in (
        ("inputs", "input_hashes", "table"),
        ("outputs", "output_hashes", "file"),
        ("versions", "versions", "package"),
    ):
        d = p.get(key)
        if isinstance(d, dict) and d:
            sec.tables.append(
                TableBlock(
                    blocks.heads(
                        lang, head, "version" if key == "versions" else "sha256"
                    ),
                    [[str(k), str(v)] for k, v in sorted(d.items())],
                    caption=t(name, lang),
                    numeric=[False, False],
                )
            )
    sec.notes.append(t("verify_hint", lang))
    return sec
