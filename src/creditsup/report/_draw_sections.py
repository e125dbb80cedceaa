"""Report sections on what was drawn: summary figures, the tier
distribution, and the planned against the target ratio."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup.labels import value_label
from creditsup.report import _blocks as blocks
from creditsup.report import plots
from creditsup.report._blocks import Section, TableBlock
from creditsup.report._frames import (
    TIER_ORDER,
    ratio_by_department,
    ratio_by_strata,
    ratio_by_tier,
    tiers_present,
)
from creditsup.report._text import t

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan

__all__ = ["ratio_section", "summary_section", "tier_section"]


def summary_section(plan: InspectionPlan, visits: pd.DataFrame, lang: str) -> Section:
    """Year, seed, entities, exclusions, visits, staffing at a glance."""
    p = plan.provenance
    if "n_input" in plan.accounting.columns and len(plan.accounting):
        n_ent = int(blocks.to_num(plan.accounting["n_input"]).sum())
    else:
        n_ent = len(plan.scores)
    n_vis = len(visits)
    n_joint = int(visits["joint"].sum())
    n_exc = (
        int(plan.exclusions["uscc"].nunique())
        if "uscc" in plan.exclusions.columns
        else 0
    )
    used = (
        int(plan.assignments["inspector_id"].nunique())
        if "inspector_id" in plan.assignments.columns
        else 0
    )
    rows = [
        (t("year", lang), str(p.get("year", ""))),
        (t("seed", lang), str(p.get("seed", ""))),
        (t("entities", lang), blocks.fmt_int(n_ent)),
        (t("excluded_entities", lang), blocks.fmt_int(n_exc)),
        (t("visits", lang), blocks.fmt_int(n_vis)),
        (
            t("joint_visits", lang),
            f"{blocks.fmt_int(n_joint)} ({blocks.fmt_pct(n_joint / n_vis if n_vis else np.nan)})",
        ),
        (t("assignments", lang), blocks.fmt_int(len(plan.assignments))),
        (t("inspectors_used", lang), blocks.fmt_int(used)),
        (
            t("unfilled", lang),
            blocks.fmt_int(len(plan.diagnostics.get("unfilled", []))),
        ),
        (t("seed_commitment", lang), str(p.get("seed_commitment", ""))),
    ]
    block = TableBlock(
        blocks.heads(lang, "figure", "value"),
        [list(r) for r in rows],
        numeric=[False, False],
    )
    return Section("summary", t("sec_summary", lang), tables=[block])


def _tier_counts(plan: InspectionPlan, visits: pd.DataFrame) -> pd.DataFrame:
    """Entities, visits and draw accounting per tier (tiers with any)."""
    scores_tier = (
        plan.scores["tier"].astype("string").fillna("none")
        if "tier" in plan.scores.columns
        else pd.Series(dtype="string")
    )
    acc = plan.accounting.copy()
    acc_tier = (
        acc["tier"].astype("string")
        if "tier" in acc.columns
        else pd.Series(dtype="string")
    )
    tiers = tiers_present(scores_tier, visits["tier"], acc_tier)
    if "n_input" in acc.columns and len(acc):
        ent = blocks.to_num(acc.set_index(acc_tier)["n_input"])
    else:
        ent = scores_tier.value_counts()
    vis = visits["tier"].value_counts()
    df = pd.DataFrame({"tier": tiers})
    df["entities"] = df["tier"].map(ent).fillna(0).astype(float)
    df["visits"] = df["tier"].map(vis).fillna(0).astype(float)
    acc_by = acc.set_index("tier") if "tier" in acc.columns else pd.DataFrame()
    for col in ("n_eligible", "n_excluded", "n_drawn"):
        df[col] = (
            df["tier"].map(blocks.to_num(acc_by[col]))
            if col in acc_by.columns
            else np.nan
        )
    total = df["entities"].sum()
    df["share"] = df["entities"] / total if total else np.nan
    df["rate"] = df["visits"] / df["entities"].replace(0, np.nan)
    return df[(df["entities"] > 0) | (df["visits"] > 0)]


def tier_section(plan: InspectionPlan, visits: pd.DataFrame, lang: str) -> Section:
    """Entities and visits per credit tier."""
    df = _tier_counts(plan, visits)
    labels = [value_label("tier", x, lang) for x in df["tier"]]
    svg = plots.tier_chart(
        list(df["tier"]),
        labels,
        list(df["entities"]),
        list(df["visits"]),
        titles=(t("chart_tier_entities", lang), t("chart_tier_visits", lang)),
    )
    cols = ["entities", "share", "n_eligible", "n_excluded", "n_drawn", "visits"]
    out = pd.DataFrame({"tier": labels, **{c: df[c].to_numpy() for c in cols}})
    out["rate"] = df["rate"].to_numpy()
    block = blocks.table_block(
        out,
        blocks.heads(
            lang,
            "tier",
            "n_entities",
            "share",
            "n_eligible",
            "n_excluded",
            "n_drawn",
            "n_visits",
            "visit_rate",
        ),
        formats=[
            None,
            blocks.fmt_int,
            blocks.fmt_pct,
            blocks.fmt_int,
            blocks.fmt_int,
            blocks.fmt_int,
            blocks.fmt_int,
            lambda v: "—" if pd.isna(v) else f"{float(v):.3f}",
        ],
        lang=lang,
    )
    block.numeric[-1] = True
    return Section(
        "tiers",
        t("sec_tiers", lang),
        charts=[(t("sec_tiers", lang), svg)],
        tables=[block],
    )


def _points(v: Any) -> str:
    return "—" if pd.isna(v) else f"{100 * float(v):+.2f}"


_RATIO_FORMATS: list[blocks.Formatter | None] = [
    None,
    None,
    blocks.fmt_int,
    blocks.fmt_pct,
    blocks.fmt_pct,
    _points,
]
_RATIO_HEADS = ("pool_size", "target_ratio", "planned_ratio", "difference")


def _ratio_chart(
    groups: list[str],
    columns: list[str],
    planned: pd.DataFrame,
    target: pd.DataFrame,
    title: str,
    lang: str,
) -> str:
    svg = plots.ratio_chart(
        groups,
        columns,
        planned,
        target,
        title=title,
        planned_label=t("planned", lang),
        target_label=t("target", lang),
        ylabel=t("ratio_axis", lang),
    )
    return svg


def _strata_ratios(
    sec: Section, by_dt: pd.DataFrame, dname: Callable[[str], str], lang: str
) -> None:
    """Chart and table per (department, tier), with the totals per tier."""
    tiers = [x for x in TIER_ORDER if x in set(by_dt["tier"])]
    depts = [d for d in by_dt["department"].drop_duplicates() if d != "*"] + ["*"]
    planned = by_dt.pivot(index="department", columns="tier", values="planned")
    target = by_dt.pivot(index="department", columns="tier", values="target")
    chart = _ratio_chart(
        [dname(d) for d in depts],
        tiers,
        planned.reindex(depts),
        target.reindex(depts),
        t("sec_ratio", lang),
        lang,
    )
    sec.charts.append((t("sec_ratio", lang), chart))
    out = by_dt.assign(
        department=by_dt["department"].map(dname),
        tier=by_dt["tier"].map(lambda x: value_label("tier", x, lang)),
        diff=by_dt["planned"] - by_dt["target"],
    )[["department", "tier", "pool_size", "target", "planned", "diff"]]
    sec.tables.append(
        blocks.table_block(
            out,
            blocks.heads(lang, "department", "tier", *_RATIO_HEADS),
            formats=_RATIO_FORMATS,
            lang=lang,
        )
    )
    sec.notes.append(t("note_ratio_strata", lang))


def _group_ratios(
    sec: Section, frame: pd.DataFrame, key: str, dname: Callable[[str], str], lang: str
) -> None:
    """Chart and table per tier or per department (``key``)."""
    groups = (
        [value_label("tier", x, lang) for x in frame["tier"]]
        if key == "tier"
        else [dname(d) for d in frame["department"]]
    )
    all_label = t("all", lang)
    idx = pd.Index(groups)
    planned = pd.DataFrame({all_label: frame["planned"].to_numpy()}, index=idx)
    target = pd.DataFrame({all_label: frame["target"].to_numpy()}, index=idx)
    title = f"{t('sec_ratio', lang)} · {t(key, lang)}"
    chart = _ratio_chart(groups, [all_label], planned, target, title, lang)
    sec.charts.append((t(key, lang), chart))
    out = pd.DataFrame(
        {
            "group": groups,
            "pool": frame["pool_size"].to_numpy(),
            "target": frame["target"].to_numpy(),
            "planned": frame["planned"].to_numpy(),
            "diff": (frame["planned"] - frame["target"]).to_numpy(),
        }
    )
    sec.tables.append(
        blocks.table_block(
            out,
            blocks.heads(lang, key, *_RATIO_HEADS),
            formats=[None, *_RATIO_FORMATS[2:]],
            lang=lang,
        )
    )


def ratio_section(plan: InspectionPlan, lang: str) -> Section:
    """Planned against target ratio: per (department, tier) from the strata
    table, else per tier and per department separately."""
    by_dt = ratio_by_strata(plan)
    by_tier, by_dept = ratio_by_tier(plan), ratio_by_department(plan)
    names = blocks.department_labels(plan, lang)
    sec = Section("ratio", t("sec_ratio", lang))
    all_label = t("all", lang)

    def dname(d: str) -> str:
        return all_label if d == "*" else names.get(d, d)

    if by_dt is not None and len(by_dt):
        _strata_ratios(sec, by_dt, dname, lang)
        return sec
    sec.notes.append(t("note_ratio_fallback", lang))
    for frame, key in ((by_tier, "tier"), (by_dept, "department")):
        if frame is not None and len(frame):
            _group_ratios(sec, frame, key, dname, lang)
    return sec
