"""The plan report as one self-contained HTML page (jinja2, extra ``[report]``).

:func:`report_sections` turns an :class:`~creditsup.plan.InspectionPlan` into
plain section objects (tables as text cells, charts as base64 PNG data URIs);
:func:`render_html` fills ``templates/report.html.j2`` with them. The page
has inline CSS and no external reference at all, so it opens offline on a
government intranet and can be mailed as one file.

The sections are built by stage modules: ``_frames`` (the plan's figures as
frames), ``_draw_sections`` (summary, tiers, ratios), ``_staff_sections``
(months, load, joint visits) and ``_audit_sections`` (exclusions,
diagnostics, deadlines, provenance), from the blocks of ``_blocks``; labels
come from :mod:`creditsup.labels`, sentences from ``_text``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from creditsup._optional import require
from creditsup.labels import check_lang
from creditsup.report import plots
from creditsup.report._audit_sections import (
    deadline_section,
    diagnostics_section,
    exclusion_section,
    provenance_section,
)
from creditsup.report._blocks import Section, TableBlock
from creditsup.report._draw_sections import (
    ratio_section,
    summary_section,
    tier_section,
)
from creditsup.report._frames import assignments_with_month, visits_frame
from creditsup.report._staff_sections import (
    joint_section,
    load_section,
    month_section,
)
from creditsup.report._text import t

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan
    from creditsup.schemas import Dataset

__all__ = ["Section", "TableBlock", "render_html", "report_sections"]

logger = logging.getLogger(__name__)


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
    check_lang(lang)
    fonts = fonts or plots.resolve_fonts()
    visits = visits_frame(plan)
    assigned = assignments_with_month(plan, visits)
    with plots.plot_context(fonts):
        sections = [
            summary_section(plan, visits, lang),
            tier_section(plan, visits, lang),
            ratio_section(plan, lang),
            month_section(plan, visits, assigned, dataset, lang),
            load_section(plan, assigned, dataset, lang),
            joint_section(plan, visits, lang),
            exclusion_section(plan, lang),
            diagnostics_section(plan, visits, lang),
            deadline_section(plan, visits, lang, calendar),
            provenance_section(plan, lang),
        ]
    return sections


def _environment() -> Any:
    jinja2 = require("jinja2", "report")
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
