"""The plan report as one self-contained HTML page (jinja2, extra ``[report]``).

:func:`report_sections` turns an :class:`~creditsup.plan.InspectionPlan` into
plain section objects (tables as text cells, charts as inline ``<svg>`` with
their text kept as text); :func:`render_html` fills
``templates/report.html.j2`` with them. The page has inline CSS, a font stack
of common Chinese fonts and no external reference at all, so it opens offline
on a government intranet, can be mailed as one file, and shows its Chinese in
any browser that has a Chinese font, whatever fonts the machine that made it
had.

The sections are built by stage modules: ``_frames`` (the plan's figures as
frames), ``_draw_sections`` (summary, tiers, ratios), ``_staff_sections``
(months, load, joint visits) and ``_audit_sections`` (exclusions,
diagnostics, deadlines, provenance), from the blocks of ``_blocks``; labels
come from :mod:`creditsup.labels`, sentences from ``_text``.
"""

from __future__ import annotations

import logging
import re
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
from creditsup.report._policy_section import policy_fit_section
from creditsup.report._staff_sections import (
    joint_section,
    load_section,
    month_section,
)
from creditsup.report._text import beijing_time, t

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan
    from creditsup.schemas import Dataset

__all__ = ["Section", "TableBlock", "render_html", "report_sections"]

logger = logging.getLogger(__name__)

_ID = re.compile(r'(\bid="|url\(#|\bhref="#)')
#: The footnotes that say in words what the rules behind the figures are.
_FOOTNOTES = ("fn_internal", "fn_double_random", "fn_team", "fn_cap", "fn_commitment")


def _own_ids(svg: str, prefix: str) -> str:
    """Prefix every id of a chart and every reference to one, so that several
    inline charts never share an id on the page."""
    return _ID.sub(lambda m: m.group(1) + prefix, svg)


# ------------------------------------------------------------------- public
def report_sections(
    plan: InspectionPlan,
    *,
    lang: str = "zh",
    dataset: Dataset | None = None,
    fonts: plots.FontChoice | None = None,
    calendar: Any = None,
) -> list[Section]:
    """Build every section of the report (charts as inline SVG)."""
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
            policy_fit_section(plan, lang),
            diagnostics_section(plan, visits, lang),
            deadline_section(plan, visits, lang, calendar),
            provenance_section(plan, lang),
        ]
    n = 0
    for sec in sections:
        for i, (alt, svg) in enumerate(sec.charts):
            n += 1
            sec.charts[i] = (alt, _own_ids(svg, f"c{n}-"))
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
    fonts = fonts or plots.resolve_fonts()
    sections = report_sections(
        plan, lang=lang, dataset=dataset, fonts=fonts, calendar=calendar
    )
    year = plan.provenance.get("year", "")
    created = plan.provenance.get("created_at", "")
    return str(
        env.get_template("report.html.j2").render(
            lang="zh-CN" if lang == "zh" else "en",
            title=t("title", lang, year=year),
            subtitle=t("subtitle", lang),
            contents=t("contents", lang),
            generated=f"{t('created_at', lang)}: {beijing_time(created, lang)}",
            font_stack=fonts.css_family(),
            sections=sections,
            notes_title=t("notes_title", lang),
            footnotes=[t(k, lang) for k in _FOOTNOTES],
        )
    )
