"""The plan report: one self-contained offline HTML file (extra ``[report]``).

:func:`render_report` writes an internal report on an
:class:`~creditsup.plan.InspectionPlan`: tier distribution, planned ratio
against target per tier and department, visits per month against inspector
capacity, load per inspector, joint-visit share, exclusions by reason,
infeasibility diagnostics, publication deadlines (R18) and the provenance
block, and footnotes that say in words what the rules behind them are.

The page is one self-contained file that renders anywhere: the charts are
inline SVG whose titles, labels and legends stay text (matplotlib
``svg.fonttype = "none"``), drawn by the reader's browser with a CSS font stack
of common Chinese fonts ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC",
"WenQuanYi Micro Hei", ...), so a report made on a server without any CJK font
shows its Chinese on any PC that has one. The CSS is inline; the page references
no URL, so it opens offline. Departments are shown by name, times in Beijing
time. The report shows credit tiers: it is internal (C3); publish with
:func:`creditsup.publish.publish_plan` instead.

matplotlib and jinja2 are imported only when a report is rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from creditsup.labels import check_lang

if TYPE_CHECKING:
    from creditsup.plan import InspectionPlan
    from creditsup.schemas import Dataset
    from creditsup.workdays import WorkCalendar

__all__ = ["GENERATOR_MARK", "render_report"]

#: The tag at the top of every report creditsup writes: a file that holds it
#: may be replaced by a new report, any other file is refused.
GENERATOR_MARK = b'<meta name="generator" content="creditsup">'


def render_report(
    plan: InspectionPlan | str | Path,
    out: str | Path,
    *,
    lang: str = "zh",
    font_path: str | Path | None = None,
    font_family: str | None = None,
    dataset: Dataset | None = None,
    calendar: WorkCalendar | None = None,
    protect: Sequence[str | Path] = (),
) -> Path:
    """Write the HTML report of a plan to ``out``.

    Parameters
    ----------
    plan : InspectionPlan, or str or Path
        The plan, or the folder of a saved plan bundle.
    out : str or Path
        The ``.html`` file to write: written atomically (parents created), and
        only over a file that is missing or a report creditsup wrote.
    lang : {"zh", "en"}
        The report language (default Chinese).
    font_path, font_family : optional
        A font to lay the charts out with and to name first in the page's font
        stack; by default the first installed of
        :data:`creditsup.report.plots.CJK_FAMILIES` lays them out (none is
        needed: the browser draws the text).
    dataset : Dataset, optional
        The plan's inputs. Needed only for inspector capacity when the plan
        itself carries no capacity table, and to count idle inspectors.
    calendar : WorkCalendar, optional
        Holidays for publication deadlines in years ``chinesecalendar`` does
        not know (see :func:`creditsup.workdays.publication_deadline`).
    protect : sequence of path-like
        Inputs that ``out`` must not replace (a plan folder given as ``plan``
        is protected too).

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
    UnsafeOutputError
        ``out`` is a folder, a link, an input, or a file creditsup did not write.

    Examples
    --------
    >>> import tempfile
    >>> from creditsup.datasets import synthetic_district
    >>> from creditsup.plan import build_plan
    >>> plan = build_plan(synthetic_district(300, 12, seed=1), year=2026, seed="doc")
    >>> path = render_report(plan, Path(tempfile.mkdtemp()) / "report.html")
    >>> html = path.read_text("utf-8")
    >>> "<svg" in html and "<text" in html and "http" not in html
    True
    """
    from creditsup.outputs import contains, replace_file
    from creditsup.report import plots
    from creditsup.report.html import render_html

    check_lang(lang)
    plots.require_matplotlib()
    guarded = list(protect)
    if not isinstance(plan, str | Path):
        the_plan = plan
    else:
        from creditsup.plan import load_plan

        guarded.append(plan)
        the_plan = load_plan(plan)
    fonts = plots.resolve_fonts(font_path=font_path, font_family=font_family)
    text = render_html(
        the_plan, lang=lang, dataset=dataset, fonts=fonts, calendar=calendar
    )
    return replace_file(
        out, text.encode("utf-8"), owned=contains(GENERATOR_MARK), protect=guarded
    )
