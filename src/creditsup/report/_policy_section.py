"""Report section: what the plan cannot do of what the policy asks (R08, R23).

The legal floors (required, planned on the ratios, realised in the draw, and
whether the policy waives one), the budget mode when it scaled the
discretionary ratios, and the (department, month) capacity shortfalls with
the inspectors that would cover them. Nothing here is silent: the CLI prints
the same, and ``diagnostics.json`` holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from creditsup.labels import label, month_label
from creditsup.report import _blocks as blocks
from creditsup.report._blocks import Section
from creditsup.report._text import t

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan

__all__ = ["policy_fit_section"]


def _floors(plan: InspectionPlan, sec: Section, lang: str) -> None:
    f = pd.DataFrame(plan.diagnostics.get("floors", []) or [])
    if not len(f) or "floor" not in f.columns:
        return
    f = f.assign(
        floor=[label(f"floor.{x}", lang) for x in f["floor"]],
        status=[label(f"floor_status.{x}", lang) for x in f["status"]],
    )
    cols = [c for c in ("floor", "required", "planned", "realized", "status") if c in f]
    fmt: dict[str, Any] = {
        c: blocks.fmt_pct for c in ("required", "planned", "realized")
    }
    sec.tables.append(
        blocks.table_block(
            f[cols],
            blocks.heads(lang, *cols),
            formats=[fmt.get(c) for c in cols],
            caption=t("floors_table", lang),
            lang=lang,
        )
    )


def _capacity(
    plan: InspectionPlan, sec: Section, lang: str, names: dict[str, str]
) -> None:
    c = pd.DataFrame(plan.diagnostics.get("capacity", []) or [])
    budget = plan.diagnostics.get("budget") or {}
    if not len(c):
        sec.notes.append(t("capacity_ok", lang))
    else:
        c = c.assign(
            department=[names.get(str(d), str(d)) for d in c["department"]],
            month=[month_label(int(m), lang) for m in c["month"]],
        )
        cols = ["department", "month", "needed", "available", "shortfall"]
        cols += ["extra_inspectors"] if "extra_inspectors" in c.columns else []
        sec.tables.append(
            blocks.table_block(
                c[cols],
                blocks.heads(lang, *cols),
                formats=[None, None, *[blocks.fmt_int] * (len(cols) - 2)],
                caption=t("capacity_table", lang),
                max_rows=60,
                lang=lang,
            )
        )
        if budget.get("fit_scale") is not None:
            sec.notes.append(
                t("fit_note", lang, scale=f"{float(budget['fit_scale']):.3f}")
            )
    scale = budget.get("scale")
    if scale is not None and float(scale) < 1:
        sec.notes.append(t("budget_note", lang, scale=f"{float(scale):.3f}"))


def policy_fit_section(plan: InspectionPlan, lang: str) -> Section:
    """Legal floors, waivers, budget scaling and capacity shortfalls."""
    sec = Section("policy_fit", t("sec_policy_fit", lang))
    names = blocks.department_labels(plan, lang)
    for w in plan.diagnostics.get("waivers", []) or []:
        floor = label(f"floor.{w.get('floor')}", lang)
        sec.notes.append(
            t("waiver_note", lang, floor=floor, reason=w.get("reason", ""))
        )
    _floors(plan, sec, lang)
    _capacity(plan, sec, lang, names)
    return sec
