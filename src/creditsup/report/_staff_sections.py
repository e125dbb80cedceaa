"""Report sections on staffing: visits per month against inspector capacity,
the load per inspector, and the share of joint visits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.labels import month_label
from creditsup.report import _blocks as blocks
from creditsup.report import plots
from creditsup.report._blocks import Section, TableBlock
from creditsup.report._frames import capacity, visit_departments, visits_frame
from creditsup.report._text import t

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan
    from creditsup.schemas import Dataset

__all__ = ["joint_section", "load_section", "month_section"]

_MONTHS = list(range(1, 13))


def _by_month(
    df: pd.DataFrame, values: str, depts: list[str] | None = None
) -> pd.DataFrame:
    """``values`` summed per department (rows) and month (columns 1-12)."""
    return (
        df.pivot_table(
            index="department", columns="month", values=values, aggfunc="sum"
        )
        .reindex(index=depts, columns=_MONTHS)
        .fillna(0)
    )


def _utilisation_grid(
    cap: pd.DataFrame, used_dm: pd.DataFrame, names: dict[str, str], lang: str
) -> TableBlock:
    """Used/capacity per department and month, shaded by utilisation."""
    grid = cap.merge(used_dm, on=["department", "month"], how="outer").fillna(0)
    depts = sorted(grid["department"].unique())
    used_p = _by_month(grid, "slots_used", depts)
    cap_p = _by_month(grid, "capacity_slots", depts)
    rows: list[list[str]] = []
    shades: list[list[str | None]] = []
    for d in depts:
        row = [names.get(d, d)]
        tone: list[str | None] = [None]
        for m in _MONTHS:
            u = float(used_p.loc[d, m])
            c = float(cap_p.loc[d, m])
            if c <= 0 and u <= 0:
                row.append("")
                tone.append(None)
                continue
            row.append(f"{blocks.fmt_int(u)}/{blocks.fmt_int(c)}")
            tone.append(blocks.shade(u / c if c > 0 else np.inf))
        tot_u, tot_c = float(used_p.loc[d].sum()), float(cap_p.loc[d].sum())
        row.append(blocks.fmt_pct(tot_u / tot_c) if tot_c > 0 else "—")
        tone.append(blocks.shade(tot_u / tot_c if tot_c > 0 else np.inf))
        rows.append(row)
        shades.append(tone)
    return TableBlock(
        blocks.month_heads(lang, _MONTHS, "utilisation"),
        rows,
        caption=t("utilisation_table", lang),
        numeric=[False] + [True] * (len(_MONTHS) + 1),
        shades=shades,
    )


def _annual_utilisation(
    cap: pd.DataFrame, used_dm: pd.DataFrame, names: dict[str, str], lang: str
) -> TableBlock:
    """Used against annual capacity per department (capacity from the ledger)."""
    used_d = used_dm.groupby("department")["slots_used"].sum()
    out = cap.assign(
        department_name=cap["department"].map(lambda d: names.get(d, d)),
        used=cap["department"].map(used_d).fillna(0),
    )
    out["util"] = out["used"] / blocks.to_num(out["capacity_slots"]).replace(0, np.nan)
    return blocks.table_block(
        out[["department_name", "used", "capacity_slots", "util"]],
        blocks.heads(
            lang, "department", "slots_used", "annual_capacity", "utilisation"
        ),
        formats=[None, blocks.fmt_int, blocks.fmt_int, blocks.fmt_pct],
        lang=lang,
    )


def _slots_used(used_dm: pd.DataFrame, names: dict[str, str], lang: str) -> TableBlock:
    """Inspector-slots used per department and month (no capacity known)."""
    out = _by_month(used_dm, "slots_used").reset_index()
    out["department"] = out["department"].map(lambda d: names.get(d, d))
    return blocks.table_block(
        out,
        blocks.month_heads(lang, _MONTHS),
        formats=[None] + [blocks.fmt_int] * len(_MONTHS),
        caption=t("slots_used", lang),
        lang=lang,
    )


def month_section(
    plan: InspectionPlan,
    visits: pd.DataFrame,
    assigned: pd.DataFrame,
    dataset: Dataset | None,
    lang: str,
) -> Section:
    """Visits and inspector-slots per month against capacity."""
    sec = Section("months", t("sec_months", lang))
    vis = visits["month"].value_counts().reindex(_MONTHS, fill_value=0)
    used_dm = (
        assigned.groupby(["department", "month"])
        .size()
        .rename("slots_used")
        .reset_index()
    )
    used_m = used_dm.groupby("month")["slots_used"].sum().reindex(_MONTHS, fill_value=0)
    cap, source = capacity(plan, dataset)
    sec.notes.append(t(f"capacity_source_{source}", lang))
    monthly = cap is not None and source != "ledger"
    cap_m = None
    if cap is not None and monthly:
        cap_m = cap.groupby("month")["capacity_slots"].sum()
        cap_m = cap_m.reindex(_MONTHS, fill_value=0)
    svg = plots.month_chart(
        [month_label(m, lang) for m in _MONTHS],
        list(vis.to_numpy()),
        list(used_m.to_numpy()),
        None if cap_m is None else list(cap_m.to_numpy()),
        titles=(t("chart_month_visits", lang), t("chart_month_slots", lang)),
        labels=(t("visits", lang), t("slots_used", lang), t("capacity_slots", lang)),
    )
    sec.charts.append((t("sec_months", lang), svg))
    names = blocks.department_labels(plan, lang)
    if cap is not None and monthly:
        sec.tables.append(_utilisation_grid(cap, used_dm, names, lang))
    elif cap is not None:  # annual capacity only (ledger)
        sec.tables.append(_annual_utilisation(cap, used_dm, names, lang))
    else:
        sec.tables.append(_slots_used(used_dm, names, lang))
    return sec


def _per_inspector(
    plan: InspectionPlan, assigned: pd.DataFrame, dataset: Dataset | None
) -> pd.DataFrame:
    """Visits and busiest month per inspector; with the dataset, every active
    inspector of a department that visits (idle ones with 0)."""
    per = assigned.groupby("inspector_id").agg(
        visits=("visit_id", "nunique"), department=("department", "first")
    )
    per_month = (
        assigned.groupby(["inspector_id", "month"]).size().groupby(level=0).max()
    )
    per["max_month"] = per_month.reindex(per.index).fillna(0)
    if dataset is None or not len(dataset.inspectors):
        return per
    ins = dataset.inspectors
    if "active" in ins.columns:
        ins = ins[ins["active"].fillna(True).astype(bool)]
    depts = set(assigned["department"].astype(str)) | set(
        visit_departments(visits_frame(plan))["department"].astype(str)
    )
    ins = ins[ins["department"].astype(str).isin(depts)]
    base = pd.DataFrame(
        {"department": ins["department"].astype(str).to_numpy()},
        index=pd.Index(ins["inspector_id"].astype(str), name="inspector_id"),
    )
    base["visits"] = per["visits"].reindex(base.index).fillna(0)
    base["max_month"] = per["max_month"].reindex(base.index).fillna(0)
    return base


def load_section(
    plan: InspectionPlan, assigned: pd.DataFrame, dataset: Dataset | None, lang: str
) -> Section:
    """Visits per inspector in the year, overall and per department."""
    sec = Section("load", t("sec_load", lang))
    names = blocks.department_labels(plan, lang)
    per = _per_inspector(plan, assigned, dataset)
    if not len(per):
        sec.notes.append(t("no_data", lang))
        return sec
    by_dept: dict[str, Sequence[float]] = {
        names.get(str(d), str(d)): list(g["visits"].to_numpy(dtype=float))
        for d, g in per.groupby("department", sort=True)
    }
    svg = plots.histogram_chart(
        list(per["visits"].to_numpy(dtype=float)),
        title=t("chart_load_hist", lang),
        xlabel=t("visits", lang),
        ylabel=t("n_inspectors_axis", lang),
        groups=by_dept if 1 < len(by_dept) <= 20 else None,
        group_title=t("chart_load_box", lang),
    )
    sec.charts.append((t("sec_load", lang), svg))
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
    block = blocks.table_block(
        summ,
        blocks.heads(
            lang,
            "department",
            "n_inspectors",
            "idle",
            "load_min",
            "load_median",
            "load_mean",
            "load_max",
            "max_month_load",
        ),
        formats=[
            None,
            blocks.fmt_int,
            blocks.fmt_int,
            blocks.fmt_int,
            one,
            one,
            blocks.fmt_int,
            blocks.fmt_int,
        ],
        lang=lang,
    )
    for i in (4, 5):
        block.numeric[i] = True
    sec.tables.append(block)
    return sec


def joint_section(plan: InspectionPlan, visits: pd.DataFrame, lang: str) -> Section:
    """Joint against single-department visits per department (R14)."""
    sec = Section("joint", t("sec_joint", lang))
    names = blocks.department_labels(plan, lang)
    long = visit_departments(visits)
    if not len(long):
        sec.notes.append(t("no_data", lang))
        return sec
    g = long.groupby("department", sort=True)["joint"].agg(["sum", "size"])
    g["single"] = g["size"] - g["sum"]
    dnames = [names.get(str(d), str(d)) for d in g.index]
    svg = plots.stacked_barh_chart(
        dnames,
        list(g["sum"].to_numpy(dtype=float)),
        list(g["single"].to_numpy(dtype=float)),
        title=t("sec_joint", lang),
        labels=(t("joint", lang), t("single", lang)),
    )
    sec.charts.append((t("sec_joint", lang), svg))
    out = pd.DataFrame(
        {
            "d": [*dnames, t("all", lang)],
            "n": [*g["size"].to_numpy(), len(visits)],
            "j": [*g["sum"].to_numpy(), int(visits["joint"].sum())],
            "s": [*g["single"].to_numpy(), int((~visits["joint"]).sum())],
        }
    )
    out["share"] = out["j"] / out["n"].replace(0, np.nan)
    sec.tables.append(
        blocks.table_block(
            out,
            blocks.heads(
                lang, "department", "n_visits", "n_joint", "n_single", "joint_share"
            ),
            formats=[
                None,
                blocks.fmt_int,
                blocks.fmt_int,
                blocks.fmt_int,
                blocks.fmt_pct,
            ],
            lang=lang,
        )
    )
    sec.notes.append(t("note_joint", lang))
    return sec
