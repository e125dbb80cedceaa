"""The plan report as one self-contained HTML page (jinja2, extra ``[report]``).

:func:`report_sections` turns an :class:`~creditsup.plan.InspectionPlan` into
plain section objects (tables as text cells, charts as base64 PNG data URIs);
:func:`render_html` fills ``templates/report.html.j2`` with them. The page
has inline CSS and no external reference at all, so it opens offline on a
government intranet and can be mailed as one file.
"""

from __future__ import annotations

import base64
import datetime as _dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup.exceptions import ConfigError, CreditsupError, MissingDependencyError
from creditsup.report import plots
from creditsup.report._text import EXCLUSION_LABELS, TIER_LABELS, label, month_label, t
from creditsup.schemas import TIERS, available_in, unavailable_bits

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan
    from creditsup.schemas import Dataset

__all__ = ["Section", "TableBlock", "render_html", "report_sections"]

logger = logging.getLogger(__name__)

_TIER_ORDER = (*TIERS, "none")
_MAX_ROWS = 200


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
    """One report section: a title, charts (data URIs), tables and notes."""

    id: str
    title: str
    images: list[tuple[str, str]] = field(default_factory=list)
    tables: list[TableBlock] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ helpers
def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _int(v: Any) -> str:
    try:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "—"
        return f"{round(float(v)):,}"
    except (TypeError, ValueError):
        return str(v)


def _pct(v: Any, digits: int = 1) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    if np.isnan(f):
        return "—"
    return f"{100 * f:.{digits}f}%"


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def _bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    return s.astype("string").str.lower().isin(["true", "1", "yes"]).astype(bool)


def _table(
    df: pd.DataFrame,
    headers: Sequence[str],
    *,
    formats: Sequence[Callable[[Any], str] | None] | None = None,
    caption: str = "",
    note: str = "",
    max_rows: int = _MAX_ROWS,
    lang: str = "zh",
) -> TableBlock:
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
    numeric = [f in (_int, _pct) for f in fmts]
    return TableBlock(list(headers), rows, caption, numeric, None, note)


def _visits(plan: InspectionPlan) -> pd.DataFrame:
    v = plan.visits
    cols = ["visit_id", "uscc", "tier", "month", "departments", "joint"]
    out = pd.DataFrame(
        {c: v[c] if c in v.columns else pd.Series(dtype="object") for c in cols}
    )
    out["month"] = _num(out["month"])
    out["joint"] = _bool(out["joint"])
    out["tier"] = out["tier"].astype("string").fillna("none")
    out["departments"] = out["departments"].astype("string").fillna("")
    return out


def _visit_departments(visits: pd.DataFrame) -> pd.DataFrame:
    long = visits.assign(department=visits["departments"].str.split(";")).explode(
        "department"
    )
    long["department"] = long["department"].astype("string").str.strip()
    return long[long["department"].fillna("") != ""]


def _dept_names(plan: InspectionPlan) -> dict[str, str]:
    pub = plan.provenance.get("policy", {}).get("publication", {}) or {}
    names = pub.get("department_names", {}) or {}
    return {str(k): str(v) for k, v in names.items()}


def _tiers_present(*series: pd.Series) -> list[str]:
    seen = set()
    for s in series:
        seen |= set(s.dropna().astype(str))
    order = [x for x in _TIER_ORDER if x in seen]
    return order + sorted(seen - set(order))


def _plan_table(plan: InspectionPlan, *names: str) -> pd.DataFrame | None:
    """An optional extra table of the plan (e.g. ``strata``, ``capacity``)."""
    for name in names:
        df = getattr(plan, name, None)
        if isinstance(df, pd.DataFrame) and len(df):
            return df
    return None


def _section_months(plan: InspectionPlan) -> list[int]:
    months = plan.provenance.get("policy", {}).get("sampling", {}).get("months")
    if isinstance(months, list) and months:
        return sorted(int(m) for m in months)
    return list(range(1, 13))


# ----------------------------------------------------------------- sections
def _summary(plan: InspectionPlan, visits: pd.DataFrame, lang: str) -> Section:
    p = plan.provenance
    if "n_input" in plan.accounting.columns and len(plan.accounting):
        n_ent = int(_num(plan.accounting["n_input"]).sum())
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
        (t("entities", lang), _int(n_ent)),
        (t("excluded_entities", lang), _int(n_exc)),
        (t("visits", lang), _int(n_vis)),
        (
            t("joint_visits", lang),
            f"{_int(n_joint)} ({_pct(n_joint / n_vis if n_vis else np.nan)})",
        ),
        (t("assignments", lang), _int(len(plan.assignments))),
        (t("inspectors_used", lang), _int(used)),
        (t("unfilled", lang), _int(len(plan.diagnostics.get("unfilled", [])))),
        (t("seed_commitment", lang), str(p.get("seed_commitment", ""))),
    ]
    block = TableBlock(
        [t("figure", lang), t("value", lang)],
        [list(r) for r in rows],
        numeric=[False, False],
    )
    return Section("summary", t("sec_summary", lang), tables=[block])


def _tier_section(plan: InspectionPlan, visits: pd.DataFrame, lang: str) -> Section:
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
    tiers = _tiers_present(scores_tier, visits["tier"], acc_tier)
    if "n_input" in acc.columns and len(acc):
        ent = _num(acc.set_index(acc_tier)["n_input"])
    else:
        ent = scores_tier.value_counts()
    vis = visits["tier"].value_counts()
    df = pd.DataFrame({"tier": tiers})
    df["entities"] = df["tier"].map(ent).fillna(0).astype(float)
    df["visits"] = df["tier"].map(vis).fillna(0).astype(float)
    acc_by = acc.set_index("tier") if "tier" in acc.columns else pd.DataFrame()
    for col in ("n_eligible", "n_excluded", "n_drawn"):
        df[col] = df["tier"].map(_num(acc_by[col])) if col in acc_by.columns else np.nan
    total = df["entities"].sum()
    df["share"] = df["entities"] / total if total else np.nan
    df["rate"] = df["visits"] / df["entities"].replace(0, np.nan)
    df = df[(df["entities"] > 0) | (df["visits"] > 0)]
    labels = [label(TIER_LABELS, x, lang) for x in df["tier"]]
    png = plots.tier_chart(
        list(df["tier"]),
        labels,
        list(df["entities"]),
        list(df["visits"]),
        titles=(t("chart_tier_entities", lang), t("chart_tier_visits", lang)),
    )
    out = pd.DataFrame(
        {
            "tier": labels,
            "entities": df["entities"].to_numpy(),
            "share": df["share"].to_numpy(),
            "n_eligible": df["n_eligible"].to_numpy(),
            "n_excluded": df["n_excluded"].to_numpy(),
            "n_drawn": df["n_drawn"].to_numpy(),
            "visits": df["visits"].to_numpy(),
            "rate": df["rate"].to_numpy(),
        }
    )
    block = _table(
        out,
        [
            t(k, lang)
            for k in (
                "tier",
                "n_entities",
                "share",
                "n_eligible",
                "n_excluded",
                "n_drawn",
                "n_visits",
                "visit_rate",
            )
        ],
        formats=[
            None,
            _int,
            _pct,
            _int,
            _int,
            _int,
            _int,
            lambda v: "—" if pd.isna(v) else f"{float(v):.3f}",
        ],
        lang=lang,
    )
    block.numeric[-1] = True
    return Section(
        "tiers",
        t("sec_tiers", lang),
        images=[(t("sec_tiers", lang), _data_uri(png))],
        tables=[block],
    )


def _ratio_frames(
    plan: InspectionPlan,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """(per department×tier from strata, per tier from accounting, per department from tasks)."""
    strata = _plan_table(plan, "strata")
    by_dt = None
    if strata is not None and {"department", "tier", "pool_size"} <= set(
        strata.columns
    ):
        s = strata.copy()
        s["pool_size"] = _num(s["pool_size"]).fillna(0)
        if "expected" in s.columns:
            s["_exp"] = _num(s["expected"]).fillna(0)
        else:
            s["_exp"] = (
                _num(s.get("ratio", pd.Series(np.nan, index=s.index))) * s["pool_size"]
            )
        kept = "kept" if "kept" in s.columns else "drawn"
        s["_kept"] = _num(s[kept]).fillna(0)
        s["department"] = s["department"].astype(str)
        s["tier"] = s["tier"].astype(str)
        per = s.groupby(["department", "tier"], sort=True)[
            ["pool_size", "_exp", "_kept"]
        ].sum()
        tot = s.groupby(["tier"], sort=True)[["pool_size", "_exp", "_kept"]].sum()
        tot.index = pd.MultiIndex.from_product(
            [["*"], tot.index], names=["department", "tier"]
        )
        per = pd.concat([per, tot])
        pool = per["pool_size"].replace(0, np.nan)
        by_dt = pd.DataFrame(
            {
                "pool_size": per["pool_size"],
                "target": per["_exp"] / pool,
                "planned": per["_kept"] / pool,
            }
        ).reset_index()
    by_tier = None
    acc = plan.accounting
    if {"tier", "target_ratio", "realized_ratio"} <= set(acc.columns):
        by_tier = pd.DataFrame(
            {
                "tier": acc["tier"].astype(str),
                "pool_size": np.nan,
                "target": _num(acc["target_ratio"]),
                "planned": _num(acc["realized_ratio"]),
            }
        )
        by_tier = by_tier[by_tier["target"].notna() | by_tier["planned"].notna()]
    by_dept = None
    tasks = plan.tasks
    if {"department", "pool_size"} <= set(tasks.columns):
        tk = tasks.copy()
        tk["pool_size"] = _num(tk["pool_size"]).fillna(0)
        if "expected" in tk.columns:
            tk["_exp"] = _num(tk["expected"]).fillna(0)
        elif "ratio" in tk.columns:
            tk["_exp"] = _num(tk["ratio"]) * tk["pool_size"]
        else:
            tk["_exp"] = np.nan
        kept_col = next(
            (c for c in ("kept", "drawn", "quantity") if c in tk.columns), None
        )
        tk["_kept"] = _num(tk[kept_col]).fillna(0) if kept_col else np.nan
        g = tk.groupby(tk["department"].astype(str), sort=True)[
            ["pool_size", "_exp", "_kept"]
        ].sum(min_count=1)
        pool = g["pool_size"].replace(0, np.nan)
        by_dept = pd.DataFrame(
            {
                "department": g.index,
                "pool_size": g["pool_size"].to_numpy(),
                "target": (g["_exp"] / pool).to_numpy(),
                "planned": (g["_kept"] / pool).to_numpy(),
            }
        )
    return by_dt, by_tier, by_dept


def _ratio_section(plan: InspectionPlan, lang: str) -> Section:
    by_dt, by_tier, by_dept = _ratio_frames(plan)
    names = _dept_names(plan)
    sec = Section("ratio", t("sec_ratio", lang))
    all_label = t("all", lang)

    def dname(d: str) -> str:
        return all_label if d == "*" else names.get(d, d)

    fmt = [
        None,
        None,
        _int,
        _pct,
        _pct,
        lambda v: "—" if pd.isna(v) else f"{100 * float(v):+.2f}",
    ]
    if by_dt is not None and len(by_dt):
        tiers = [x for x in _TIER_ORDER if x in set(by_dt["tier"])]
        depts = [d for d in by_dt["department"].drop_duplicates() if d != "*"] + ["*"]
        planned = by_dt.pivot(
            index="department", columns="tier", values="planned"
        ).reindex(depts)
        target = by_dt.pivot(
            index="department", columns="tier", values="target"
        ).reindex(depts)
        png = plots.ratio_chart(
            [dname(d) for d in depts],
            tiers,
            planned,
            target,
            title=t("sec_ratio", lang),
            planned_label=t("planned", lang),
            target_label=t("target", lang),
            ylabel=t("ratio_axis", lang),
        )
        sec.images.append((t("sec_ratio", lang), _data_uri(png)))
        out = by_dt.assign(
            department=by_dt["department"].map(dname),
            tier=by_dt["tier"].map(lambda x: label(TIER_LABELS, x, lang)),
            diff=by_dt["planned"] - by_dt["target"],
        )[["department", "tier", "pool_size", "target", "planned", "diff"]]
        sec.tables.append(
            _table(
                out,
                [
                    t(k, lang)
                    for k in (
                        "department",
                        "tier",
                        "pool_size",
                        "target_ratio",
                        "planned_ratio",
                        "difference",
                    )
                ],
                formats=fmt,
                lang=lang,
            )
        )
        sec.notes.append(t("note_ratio_strata", lang))
        return sec
    sec.notes.append(t("note_ratio_fallback", lang))
    for frame, key in ((by_tier, "tier"), (by_dept, "department")):
        if frame is None or not len(frame):
            continue
        groups = (
            [label(TIER_LABELS, x, lang) for x in frame["tier"]]
            if key == "tier"
            else [dname(d) for d in frame["department"]]
        )
        idx = pd.Index(groups)
        planned = pd.DataFrame({all_label: frame["planned"].to_numpy()}, index=idx)
        target = pd.DataFrame({all_label: frame["target"].to_numpy()}, index=idx)
        png = plots.ratio_chart(
            groups,
            [all_label],
            planned,
            target,
            title=f"{t('sec_ratio', lang)} · {t(key, lang)}",
            planned_label=t("planned", lang),
            target_label=t("target", lang),
            ylabel=t("ratio_axis", lang),
        )
        sec.images.append((t(key, lang), _data_uri(png)))
        out = pd.DataFrame(
            {
                "group": groups,
                "blank": "",
                "pool": frame["pool_size"].to_numpy(),
                "target": frame["target"].to_numpy(),
                "planned": frame["planned"].to_numpy(),
                "diff": (frame["planned"] - frame["target"]).to_numpy(),
            }
        ).drop(columns="blank")
        sec.tables.append(
            _table(
                out,
                [
                    t(k, lang)
                    for k in (
                        key,
                        "pool_size",
                        "target_ratio",
                        "planned_ratio",
                        "difference",
                    )
                ],
                formats=[None, *fmt[2:]],
                lang=lang,
            )
        )
    return sec


def _capacity(
    plan: InspectionPlan, dataset: Dataset | None
) -> tuple[pd.DataFrame | None, str]:
    """Inspector-slot capacity per (department, month) and where it came from."""
    cap = _plan_table(plan, "capacity", "months")
    if cap is not None and {"department", "month", "capacity_slots"} <= set(
        cap.columns
    ):
        out = pd.DataFrame(
            {
                "department": cap["department"].astype(str),
                "month": _num(cap["month"]).astype("int64"),
                "capacity_slots": _num(cap["capacity_slots"]).fillna(0),
            }
        )
        return out, "plan"
    if dataset is not None and len(dataset.inspectors):
        ins = dataset.inspectors
        if "active" in ins.columns:
            ins = ins[ins["active"].fillna(True).astype(bool)]
        months = _section_months(plan)
        un = unavailable_bits(ins["unavailable_months"])
        frames = []
        for m in months:  # 12 vectorised passes, not a loop over inspectors
            avail = available_in(un, m)
            frames.append(
                pd.DataFrame(
                    {
                        "department": ins["department"].astype(str).to_numpy(),
                        "month": m,
                        "capacity_slots": np.where(
                            avail, _num(ins["monthly_capacity"]).fillna(0), 0
                        ),
                    }
                )
            )
        long = pd.concat(frames, ignore_index=True)
        out = long.groupby(["department", "month"], as_index=False)[
            ["capacity_slots"]
        ].sum()
        return out, "dataset"
    for rec in plan.ledger:
        if rec.get("step") == "months" and isinstance(rec.get("capacity_slots"), dict):
            annual = pd.DataFrame(
                {
                    "department": list(rec["capacity_slots"]),
                    "capacity_slots": list(rec["capacity_slots"].values()),
                }
            )
            return annual, "ledger"
    return None, "none"


def _assignments_with_month(plan: InspectionPlan, visits: pd.DataFrame) -> pd.DataFrame:
    a = plan.assignments
    if not len(a) or "inspector_id" not in a.columns:
        return pd.DataFrame(columns=["visit_id", "inspector_id", "department", "month"])
    a = a[["visit_id", "inspector_id", "department"]].astype(
        {"visit_id": str, "inspector_id": str, "department": str}
    )
    m = visits[["visit_id", "month"]].astype({"visit_id": str})
    return a.merge(m, on="visit_id", how="left")


def _month_section(
    plan: InspectionPlan,
    visits: pd.DataFrame,
    assigned: pd.DataFrame,
    dataset: Dataset | None,
    lang: str,
) -> Section:
    sec = Section("months", t("sec_months", lang))
    months = sorted(set(range(1, 13)))
    vis = visits["month"].value_counts().reindex(months, fill_value=0)
    used_dm = (
        assigned.groupby(["department", "month"])
        .size()
        .rename("slots_used")
        .reset_index()
    )
    used_m = used_dm.groupby("month")["slots_used"].sum().reindex(months, fill_value=0)
    cap, source = _capacity(plan, dataset)
    sec.notes.append(t(f"capacity_source_{source}", lang))
    cap_m = None
    if cap is not None and source != "ledger":
        cap_m = (
            cap.groupby("month")["capacity_slots"].sum().reindex(months, fill_value=0)
        )
    labels_m = [month_label(m, lang) for m in months]
    png = plots.month_chart(
        labels_m,
        list(vis.to_numpy()),
        list(used_m.to_numpy()),
        None if cap_m is None else list(cap_m.to_numpy()),
        titles=(t("chart_month_visits", lang), t("chart_month_slots", lang)),
        labels=(t("visits", lang), t("slots_used", lang), t("capacity_slots", lang)),
    )
    sec.images.append((t("sec_months", lang), _data_uri(png)))
    names = _dept_names(plan)
    if cap is not None and source != "ledger":
        grid = cap.merge(used_dm, on=["department", "month"], how="outer").fillna(0)
        depts = sorted(grid["department"].unique())
        used_p = (
            grid.pivot_table(
                index="department", columns="month", values="slots_used", aggfunc="sum"
            )
            .reindex(index=depts, columns=months)
            .fillna(0)
        )
        cap_p = (
            grid.pivot_table(
                index="department",
                columns="month",
                values="capacity_slots",
                aggfunc="sum",
            )
            .reindex(index=depts, columns=months)
            .fillna(0)
        )
        rows: list[list[str]] = []
        shades: list[list[str | None]] = []
        for d in depts:
            row = [names.get(d, d)]
            shade: list[str | None] = [None]
            for m in months:
                u = float(used_p.loc[d, m])
                c = float(cap_p.loc[d, m])
                if c <= 0 and u <= 0:
                    row.append("")
                    shade.append(None)
                    continue
                r = u / c if c > 0 else np.inf
                row.append(f"{_int(u)}/{_int(c)}")
                shade.append(_shade(r))
            tot_u, tot_c = float(used_p.loc[d].sum()), float(cap_p.loc[d].sum())
            row.append(_pct(tot_u / tot_c) if tot_c > 0 else "—")
            shade.append(_shade(tot_u / tot_c if tot_c > 0 else np.inf))
            rows.append(row)
            shades.append(shade)
        block = TableBlock(
            [t("department", lang), *labels_m, t("utilisation", lang)],
            rows,
            caption=t("utilisation_table", lang),
            numeric=[False] + [True] * (len(months) + 1),
            shades=shades,
        )
        sec.tables.append(block)
    elif cap is not None:  # annual capacity only (ledger)
        used_d = used_dm.groupby("department")["slots_used"].sum()
        out = cap.assign(
            department_name=cap["department"].map(lambda d: names.get(d, d)),
            used=cap["department"].map(used_d).fillna(0),
        )
        out["util"] = out["used"] / _num(out["capacity_slots"]).replace(0, np.nan)
        sec.tables.append(
            _table(
                out[["department_name", "used", "capacity_slots", "util"]],
                [
                    t("department", lang),
                    t("slots_used", lang),
                    t("annual_capacity", lang),
                    t("utilisation", lang),
                ],
                formats=[None, _int, _int, _pct],
                lang=lang,
            )
        )
    else:
        pv = (
            used_dm.pivot_table(
                index="department", columns="month", values="slots_used", aggfunc="sum"
            )
            .reindex(columns=months)
            .fillna(0)
        )
        out = pv.reset_index()
        out["department"] = out["department"].map(lambda d: names.get(d, d))
        sec.tables.append(
            _table(
                out,
                [t("department", lang), *labels_m],
                formats=[None] + [_int] * len(months),
                caption=t("slots_used", lang),
                lang=lang,
            )
        )
    return sec


def _shade(ratio: float) -> str:
    """A background colour for a utilisation ratio (green → amber → red)."""
    if not np.isfinite(ratio) or ratio > 1.0:
        return "#f4a6a6"
    if ratio > 0.9:
        return "#fbd38d"
    if ratio > 0.6:
        return "#fdf0c2"
    return "#d9f2d9"


def _load_section(
    plan: InspectionPlan, assigned: pd.DataFrame, dataset: Dataset | None, lang: str
) -> Section:
    sec = Section("load", t("sec_load", lang))
    names = _dept_names(plan)
    per = assigned.groupby("inspector_id").agg(
        visits=("visit_id", "nunique"), department=("department", "first")
    )
    per_month = (
        assigned.groupby(["inspector_id", "month"]).size().groupby(level=0).max()
    )
    per["max_month"] = per_month.reindex(per.index).fillna(0)
    if dataset is not None and len(dataset.inspectors):
        ins = dataset.inspectors
        if "active" in ins.columns:
            ins = ins[ins["active"].fillna(True).astype(bool)]
        depts = set(assigned["department"].astype(str)) | set(
            _visit_departments(_visits(plan))["department"].astype(str)
        )
        ins = ins[ins["department"].astype(str).isin(depts)]
        base = pd.DataFrame(
            {"department": ins["department"].astype(str).to_numpy()},
            index=pd.Index(ins["inspector_id"].astype(str), name="inspector_id"),
        )
        base["visits"] = per["visits"].reindex(base.index).fillna(0)
        base["max_month"] = per["max_month"].reindex(base.index).fillna(0)
        per = base
    if not len(per):
        sec.notes.append(t("no_data", lang))
        return sec
    by_dept: dict[str, Sequence[float]] = {
        names.get(str(d), str(d)): list(g["visits"].to_numpy(dtype=float))
        for d, g in per.groupby("department", sort=True)
    }
    png = plots.histogram_chart(
        list(per["visits"].to_numpy(dtype=float)),
        title=t("chart_load_hist", lang),
        xlabel=t("visits", lang),
        ylabel=t("n_inspectors_axis", lang),
        groups=by_dept if 1 < len(by_dept) <= 20 else None,
        group_title=t("chart_load_box", lang),
    )
    sec.images.append((t("sec_load", lang), _data_uri(png)))
    summ = (
        per.groupby("department", sort=True)
        .agg(
            n=("visits", "size"),
            idle=("visits", lambda s: int((s == 0).sum())),
            lo=("visits", "min"),
            med=("visits", "median"),
            mean=("visits", "mean"),
            hi=("visits", "max"),
            mm=("max_month", "max"),
        )
        .reset_index()
    )
    summ["department"] = summ["department"].map(lambda d: names.get(d, d))
    one = lambda v: "—" if pd.isna(v) else f"{float(v):.1f}"  # noqa: E731
    block = _table(
        summ,
        [
            t(k, lang)
            for k in (
                "department",
                "n_inspectors",
                "idle",
                "load_min",
                "load_median",
                "load_mean",
                "load_max",
                "max_month_load",
            )
        ],
        formats=[None, _int, _int, _int, one, one, _int, _int],
        lang=lang,
    )
    for i in (4, 5):
        block.numeric[i] = True
    sec.tables.append(block)
    return sec


def _joint_section(plan: InspectionPlan, visits: pd.DataFrame, lang: str) -> Section:
    sec = Section("joint", t("sec_joint", lang))
    names = _dept_names(plan)
    long = _visit_departments(visits)
    if not len(long):
        sec.notes.append(t("no_data", lang))
        return sec
    g = long.groupby("department", sort=True)["joint"].agg(["sum", "size"])
    g["single"] = g["size"] - g["sum"]
    dnames = [names.get(str(d), str(d)) for d in g.index]
    png = plots.stacked_barh_chart(
        dnames,
        list(g["sum"].to_numpy(dtype=float)),
        list(g["single"].to_numpy(dtype=float)),
        title=t("sec_joint", lang),
        labels=(t("joint", lang), t("single", lang)),
    )
    sec.images.append((t("sec_joint", lang), _data_uri(png)))
    out = pd.DataFrame(
        {
            "d": dnames,
            "n": g["size"].to_numpy(),
            "j": g["sum"].to_numpy(),
            "s": g["single"].to_numpy(),
        }
    )
    out["share"] = out["j"] / out["n"].replace(0, np.nan)
    tot = pd.DataFrame(
        {
            "d": [t("all", lang)],
            "n": [len(visits)],
            "j": [int(visits["joint"].sum())],
            "s": [int((~visits["joint"]).sum())],
        }
    )
    tot["share"] = tot["j"] / tot["n"].replace(0, np.nan)
    out = pd.concat([out, tot], ignore_index=True)
    sec.tables.append(
        _table(
            out,
            [
                t(k, lang)
                for k in (
                    "department",
                    "n_visits",
                    "n_joint",
                    "n_single",
                    "joint_share",
                )
            ],
            formats=[None, _int, _int, _int, _pct],
            lang=lang,
        )
    )
    sec.notes.append(t("note_joint", lang))
    return sec


def _exclusion_section(plan: InspectionPlan, lang: str) -> Section:
    sec = Section("exclusions", t("sec_exclusions", lang))
    exc = plan.exclusions
    if not len(exc) or "reason_code" not in exc.columns:
        sec.notes.append(t("none_excluded", lang))
        return sec
    codes = exc["reason_code"].astype(str)
    counts = codes.value_counts()
    names = [label(EXCLUSION_LABELS, c, lang) for c in counts.index]
    png = plots.bar_chart(
        names,
        list(counts.to_numpy(dtype=float)),
        title=t("sec_exclusions", lang),
        xlabel=t("count", lang),
    )
    sec.images.append((t("sec_exclusions", lang), _data_uri(png)))
    out = pd.DataFrame({"reason": names, "code": counts.index, "n": counts.to_numpy()})
    out["share"] = out["n"] / max(len(exc), 1)
    heads = [
        t("reason", lang),
        t("reason_code", lang),
        t("count", lang),
        t("share", lang),
    ]
    fmts: list[Callable[[Any], str] | None] = [None, None, _int, _pct]
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
        tiers = _tiers_present(pd.Series(list(ct.columns)))
        for x in tiers:
            out[f"tier_{x}"] = out["code"].map(ct[x]).fillna(0).to_numpy()
            heads.append(label(TIER_LABELS, x, lang))
            fmts.append(_int)
    sec.tables.append(_table(out, heads, formats=fmts, lang=lang))
    return sec


def _diagnostics_section(
    plan: InspectionPlan, visits: pd.DataFrame, lang: str
) -> Section:
    sec = Section("diagnostics", t("sec_diagnostics", lang))
    unfilled = pd.DataFrame(plan.diagnostics.get("unfilled", []) or [])
    binding = pd.DataFrame(plan.diagnostics.get("binding", []) or [])
    if not len(unfilled) and not len(binding):
        sec.notes.append(t("all_staffed", lang))
    if len(unfilled):
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
            names = _dept_names(plan)
            long = _visit_departments(u.assign(departments=u["departments"].fillna("")))
            if len(long):
                ct = pd.crosstab(long["department"], long["month"].astype("Int64"))
                months = [int(m) for m in ct.columns]
                out = ct.reset_index()
                out["department"] = out["department"].map(lambda d: names.get(d, d))
                out["total"] = ct.sum(axis=1).to_numpy()
                sec.tables.append(
                    _table(
                        out,
                        [
                            t("department", lang),
                            *[month_label(m, lang) for m in months],
                            t("all", lang),
                        ],
                        formats=[None] + [_int] * (len(months) + 1),
                        caption=f"{t('unfilled_by_month', lang)}: {len(u):,}",
                        lang=lang,
                    )
                )
        cols = [
            c
            for c in ("visit_id", "uscc", "month", "departments", "reason")
            if c in u.columns
        ]
        fm: dict[str, Callable[[Any], str] | None] = {
            "month": lambda v: "" if pd.isna(v) else month_label(int(v), lang)
        }
        sec.tables.append(
            _table(
                u[cols],
                [t(c, lang) for c in cols],
                formats=[fm.get(c) for c in cols],
                caption=f"{t('unfilled_visits', lang)}: {len(u):,}",
                max_rows=50,
                lang=lang,
            )
        )
    if len(binding):
        b = binding.copy()
        for c in ("needed", "available"):
            b[c] = _num(b[c]) if c in b.columns else np.nan
        b["shortfall"] = b["needed"] - b["available"]
        b = b.sort_values("shortfall", ascending=False, kind="stable")
        cols = [
            c for c in ("group", "needed", "available", "shortfall") if c in b.columns
        ]
        sec.tables.append(
            _table(
                b[cols],
                [t(c, lang) for c in cols],
                formats=[None if c == "group" else _int for c in cols],
                caption=t("binding_groups", lang),
                lang=lang,
            )
        )
    warns = [
        w
        for rec in plan.ledger
        if rec.get("step") == "warnings"
        for w in rec.get("warnings", [])
    ]
    if warns:
        w = pd.DataFrame(warns)
        cols = [c for c in ("code", "message") if c in w.columns]
        sec.tables.append(
            _table(w[cols], cols, caption=t("draw_warnings", lang), lang=lang)
        )
    return sec


def _deadline_section(
    plan: InspectionPlan, visits: pd.DataFrame, lang: str, calendar: Any
) -> Section:
    from creditsup.publish import publication_deadline, working_days_between

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
    rows: list[list[str]] = []
    try:
        days = working_days_between(
            _dt.date(year, 1, 1), _dt.date(year, 12, 31), calendar=calendar
        )
    except MissingDependencyError:
        sec.notes.append(t("calendar_missing", lang))
        return sec
    except CreditsupError as exc:
        sec.notes.append(str(exc))
        return sec
    n_by_month = visits["month"].value_counts()
    for m in months:
        in_month = [d for d in days if d.month == m]
        if not in_month:
            continue
        last = in_month[-1]
        try:
            due = publication_deadline(last, calendar=calendar).isoformat()
        except ConfigError as exc:
            due = t("calendar_unknown", lang)
            if str(exc) not in sec.notes:
                sec.notes.append(str(exc))
        rows.append(
            [month_label(m, lang), _int(n_by_month.get(m, 0)), last.isoformat(), due]
        )
    sec.tables.append(
        TableBlock(
            [
                t("month", lang),
                t("n_visits", lang),
                t("check_ends", lang),
                t("publish_by", lang),
            ],
            rows,
            numeric=[False, True, False, False],
        )
    )
    return sec


def _provenance_section(plan: InspectionPlan, lang: str) -> Section:
    p = plan.provenance
    sec = Section("provenance", t("sec_provenance", lang))
    keys = (
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
    rows = [[t(k, lang), str(p.get(k, ""))] for k in keys if p.get(k) not in (None, "")]
    rows.append([t("ledger_records", lang), _int(len(plan.ledger))])
    sec.tables.append(
        TableBlock([t("key", lang), t("value", lang)], rows, numeric=[False, False])
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
                    [
                        t(head, lang),
                        t("version" if key == "versions" else "sha256", lang),
                    ],
                    [[str(k), str(v)] for k, v in sorted(d.items())],
                    caption=t(name, lang),
                    numeric=[False, False],
                )
            )
    sec.notes.append(t("verify_hint", lang))
    return sec


# ------------------------------------------------------------------- public
def report_sections(
    plan: InspectionPlan,
    *,
    lang: str = "zh",
    dataset: Dataset | None = None,
    fonts: plots.FontChoice | None = None,
    calendar: Any = None,
) -> list[Section]:
    """Build every section of the report (charts rendered to PNG)."""
    if lang not in ("zh", "en"):
        raise ConfigError(f"The 'lang' must be 'zh' or 'en'. Got {lang!r} instead.")
    fonts = fonts or plots.resolve_fonts()
    visits = _visits(plan)
    assigned = _assignments_with_month(plan, visits)
    with plots.plot_context(fonts):
        sections = [
            _summary(plan, visits, lang),
            _tier_section(plan, visits, lang),
            _ratio_section(plan, lang),
            _month_section(plan, visits, assigned, dataset, lang),
            _load_section(plan, assigned, dataset, lang),
            _joint_section(plan, visits, lang),
            _exclusion_section(plan, lang),
            _diagnostics_section(plan, visits, lang),
            _deadline_section(plan, visits, lang, calendar),
            _provenance_section(plan, lang),
        ]
    return sections


def _environment() -> Any:
    try:
        import jinja2
    except ImportError:
        raise MissingDependencyError("jinja2", "report") from None
    return jinja2.Environment(
        loader=jinja2.PackageLoader("creditsup.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(
    plan: InspectionPlan,
    *,
    lang: str = "zh",
    dataset: Dataset | None = None,
    fonts: plots.FontChoice | None = None,
    calendar: Any = None,
) -> str:
    """The report page as a string (see :func:`creditsup.report.render_report`)."""
    env = _environment()
    sections = report_sections(
        plan, lang=lang, dataset=dataset, fonts=fonts, calendar=calendar
    )
    year = plan.provenance.get("year", "")
    return str(
        env.get_template("report.html.j2").render(
            lang="zh-CN" if lang == "zh" else "en",
            title=t("title", lang, year=year),
            subtitle=t("subtitle", lang),
            contents=t("contents", lang),
            generated=f"{t('created_at', lang)}: {plan.provenance.get('created_at', '')}",
            sections=sections,
        )
    )
