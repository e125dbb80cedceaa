"""The plan report: one self-contained offline HTML file (extra ``[report]``).

:func:`render_report` writes an internal report on an
:class:`~creditsup.plan.InspectionPlan`: tier distribution, planned ratio
against target per tier and department, visits per month against inspector
capacity, load per inspector, joint-visit share, exclusions by reason,
infeasibility diagnostics, publication deadlines (R18) and the provenance
block. Charts are PNG images embedded as base64; the CSS is inline; the page
references no URL, so it opens offline. The report shows credit tiers: it is
internal (C3); publish with :func:`creditsup.publish.publish_plan` instead.

matplotlib and jinja2 are imported only when a report is rendered.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from creditsup.labels import check_lang

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan
    from creditsup.schemas import Dataset
    from creditsup.workdays import WorkCalendar

__all__ = ["render_report"]


def render_report(
    plan: InspectionPlan | str | Path,
    out: str | Path,
    *,
    lang: str = "zh",
    font_path: str | Path | None = None,
    font_family: str | None = None,
    dataset: Dataset | None = None,
    calendar: WorkCalendar | None = None,
) -> Path:
    """Write the HTML report of a plan to ``out``.

    Parameters
    ----------
    plan : InspectionPlan, or str or Path
        The plan, or the folder of a saved plan bundle.
    out : str or Path
        The ``.html`` file to write (written atomically; parents created).
    lang : {"zh", "en"}
        The report language (default Chinese).
    font_path, font_family : optional
        A CJK font for the charts; by default the first installed of
        :data:`creditsup.report.plots.CJK_FAMILIES` (a ``CreditsupWarning`` when none).
    dataset : Dataset, optional
        The plan's inputs. Needed only for inspector capacity when the plan
        itself carries no capacity table, and to count idle inspectors.
    calendar : WorkCalendar, optional
        Holidays for publication deadlines in years ``chinesecalendar`` does
        not know (see :func:`creditsup.workdays.publication_deadline`).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    MissingDependencyError
        matplotlib or jinja2 (extra ``report``) is not installed.
    ConfigError
        Bad ``lang`` or font.
    """
    from creditsup.report import plots
    from creditsup.report.html import render_html

    check_lang(lang)
    plots.require_matplotlib()
    if not isinstance(plan, str | Path):
        the_plan = plan
    else:
        from creditsup.plan import load_plan

        the_plan = load_plan(plan)
    fonts = plots.resolve_fonts(font_path=font_path, font_family=font_family)
    text = render_html(
        the_plan, lang=lang, dataset=dataset, fonts=fonts, calendar=calendar
    )
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        if tmp.exists():  # pragma: no cover - only after a failed write
            tmp.unlink()
    return target
