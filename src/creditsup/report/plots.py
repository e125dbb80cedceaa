"""Charts of the plan report as inline SVG with the text kept as text
(matplotlib, extra ``[report]``).

Every chart is drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot,
so no GUI backend and no global figure registry) inside
:func:`matplotlib.rc_context`, so the caller's global ``rcParams`` are never
touched. ``svg.fonttype = "none"`` keeps every title, label and legend as an
SVG ``<text>`` element: the browser that opens the report draws the Chinese
with its own fonts, through the font stack :data:`CSS_FONT_STACK`, so a report
made on a server without any CJK font reads the same as one made on a desktop.

matplotlib still measures the text to lay the chart out. It uses the first
installed face of :data:`CJK_FAMILIES` after "DejaVu Sans" when there is one
(on Debian: ``apt-get install fonts-wqy-microhei``), or the one given with
``font_path``/``font_family``; without any, DejaVu's placeholder glyph (a little
wider than a CJK character) stands in for the width, which only loosens the
layout a little. Nothing is rasterised, so nothing renders as boxes.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup._optional import require
from creditsup.exceptions import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CJK_FAMILIES",
    "CSS_FONT_STACK",
    "FontChoice",
    "bar_chart",
    "grouped_bar_chart",
    "histogram_chart",
    "month_chart",
    "plot_context",
    "ratio_chart",
    "require_matplotlib",
    "resolve_fonts",
    "stacked_barh_chart",
    "tier_chart",
]

logger = logging.getLogger(__name__)

#: The font stack of the report page and of every chart's text, in the order a
#: browser tries them: macOS, Windows, then the open CJK faces of Linux.
CSS_FONT_STACK: tuple[str, ...] = (
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "sans-serif",
)
_UNSAFE = re.compile(r"[^\w .\-]")
_GENERIC = frozenset({"serif", "sans-serif", "monospace", "cursive", "fantasy"})

#: CJK font families matplotlib measures the text with (searched in order,
#: after "DejaVu Sans").
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "Droid Sans Fallback",
)
#: Font file name stems of those families (for fonts missing from the cache).
_FILE_HINTS: tuple[str, ...] = (
    "notosanscjk",
    "sourcehansans",
    "wqy-microhei",
    "msyh",
    "simhei",
    "droidsansfallback",
)
_BASE = "DejaVu Sans"
_PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#9D755D")
_TIER_COLORS = {
    "A": "#54A24B",
    "B": "#4C78A8",
    "C": "#F58518",
    "D": "#E45756",
    "E": "#9D3B3B",
}


def require_matplotlib() -> Any:
    """Import matplotlib lazily, or raise
    :class:`~creditsup.exceptions.MissingDependencyError`."""
    return require("matplotlib", "report")


@dataclass(frozen=True)
class FontChoice:
    """The fonts of the report: what matplotlib measures with, what the
    browser draws with.

    Attributes
    ----------
    families : tuple of str
        The ``font.family`` list given to matplotlib (layout only).
    cjk : str or None
        The CJK family matplotlib measures with, or None when none is installed.
    css : tuple of str
        The font stack of the page and of every chart's ``<text>``: a family
        asked for by name first, then :data:`CSS_FONT_STACK`.

    Examples
    --------
    >>> FontChoice(("DejaVu Sans",), None).css_family()
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", \
"Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif'
    """

    families: tuple[str, ...]
    cjk: str | None
    css: tuple[str, ...] = CSS_FONT_STACK

    def css_family(self, quote: str = '"') -> str:
        """The CSS ``font-family`` value (generic names unquoted)."""
        names = (_UNSAFE.sub("", f) for f in self.css)  # a name, never markup
        return ", ".join(
            f if f in _GENERIC else f"{quote}{f}{quote}" for f in names if f
        )


#: The fonts of the charts being drawn (set by :func:`plot_context`).
_CSS: contextvars.ContextVar[FontChoice | None] = contextvars.ContextVar(
    "creditsup_report_fonts", default=None
)


def _installed_families() -> set[str]:
    from matplotlib import font_manager

    return {f.name for f in font_manager.fontManager.ttflist}


@functools.lru_cache(maxsize=1)
def _register_system_cjk_fonts() -> tuple[str, ...]:
    """Add system CJK font files unknown to matplotlib's (possibly stale) cache."""
    from matplotlib import font_manager

    known = {Path(f.fname).name.lower() for f in font_manager.fontManager.ttflist}
    added: list[str] = []
    for path in sorted(font_manager.findSystemFonts()):
        name = Path(path).name.lower()
        if name in known or not any(h in name.replace("_", "") for h in _FILE_HINTS):
            continue
        try:
            font_manager.fontManager.addfont(path)
            added.append(path)
        except (OSError, RuntimeError, ValueError):  # pragma: no cover - broken font
            continue
    return tuple(added)


def resolve_fonts(
    *,
    font_path: str | Path | None = None,
    font_family: str | None = None,
) -> FontChoice:
    """Choose the chart fonts: the given one, else the first installed CJK face.

    Parameters
    ----------
    font_path : str or Path, optional
        A ``.ttf``/``.otf``/``.ttc`` file; registered with matplotlib's font
        manager, used first for the layout and named first in the page's font
        stack (a reader's browser uses it when it has it installed too).
    font_family : str, optional
        An installed family name, used first the same way.

    Returns
    -------
    FontChoice

    Raises
    ------
    ConfigError
        ``font_path`` does not exist or is not a font, or ``font_family`` is not
        installed.
    """
    require_matplotlib()
    from matplotlib import font_manager

    if font_path is not None:
        p = Path(font_path)
        if not p.is_file():
            raise ConfigError(f"The font file {str(p)!r} does not exist.")
        try:
            font_manager.fontManager.addfont(str(p))
            name = font_manager.FontProperties(fname=str(p)).get_name()
        except (OSError, RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"The file {str(p)!r} is not a usable font: {exc}"
            ) from None
        return FontChoice((name, _BASE), name, (name, *CSS_FONT_STACK))
    if font_family is not None:
        if font_family not in _installed_families():
            _register_system_cjk_fonts()
        if font_family not in _installed_families():
            raise ConfigError(
                f"The font family {font_family!r} is not installed. Pass font_path= "
                "with the font file instead."
            )
        return FontChoice(
            (font_family, _BASE), font_family, (font_family, *CSS_FONT_STACK)
        )
    found = [f for f in CJK_FAMILIES if f in _installed_families()]
    if not found:
        _register_system_cjk_fonts()
        found = [f for f in CJK_FAMILIES if f in _installed_families()]
    if found:
        return FontChoice((_BASE, found[0]), found[0])
    logger.info(
        "No CJK font installed for chart layout (looked for %s): the charts keep "
        "their text as text and the reader's browser draws it; the layout uses "
        "placeholder widths.",
        ", ".join(CJK_FAMILIES),
    )
    return FontChoice((_BASE,), None)


@contextlib.contextmanager
def plot_context(fonts: FontChoice) -> Iterator[None]:
    """Temporary matplotlib settings for the report charts (restored on exit):
    SVG output with text as text, fixed ids, the chosen layout fonts."""
    matplotlib = require_matplotlib()
    rc = {
        "svg.fonttype": "none",
        "svg.hashsalt": "creditsup",
        "font.family": list(fonts.families),
        "axes.unicode_minus": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.alpha": 0.3,
        "axes.titlesize": 11,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "legend.frameon": False,
        "savefig.dpi": 110,
    }
    token = _CSS.set(fonts)
    try:
        with matplotlib.rc_context(rc), warnings.catch_warnings():
            if fonts.cjk is None:  # layout only: the browser draws the glyphs
                warnings.filterwarnings(
                    "ignore", message=r"Glyph .* missing from", category=UserWarning
                )
            yield
    finally:
        _CSS.reset(token)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_FAMILY = re.compile(r"font-family: [^;\"]*")


def _svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: text kept as text,
    no XML prolog, no namespace URIs, no metadata, and every ``<text>`` on the
    page's font stack (set by :func:`plot_context`)."""
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format="svg",
        metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
    )
    text = _PROLOG.sub("", buf.getvalue().decode("utf-8"), count=1)
    text = _XMLNS.sub("", text).replace("xlink:href=", "href=")
    return _FAMILY.sub("font-family: " + _css_stack(), text).strip()


def _css_stack() -> str:
    """The font stack of the charts being drawn (single-quoted, for a style
    attribute)."""
    return (_CSS.get() or FontChoice((_BASE,), None)).css_family("'")


def _percent_axis(ax: Axes, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    if target.get_scale() == "log":  # 0.001 is "0.1%", not "0%"
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}%"))
    else:
        target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def tier_chart(
    tiers: Sequence[str],
    labels: Sequence[str],
    entities: Sequence[float],
    visits: Sequence[float],
    *,
    titles: tuple[str, str],
) -> str:
    """Two bar panels: entities per tier and visits per tier."""
    fig = _figure(9, 3.2)
    axes = fig.subplots(1, 2)
    colors = [_TIER_COLORS.get(t, "#888888") for t in tiers]
    for ax, values, title in zip(axes, (entities, visits), titles, strict=True):
        vals = np.asarray(values, dtype=float)
        bars = ax.bar(list(labels), vals, color=colors)
        total = vals.sum()
        if total > 0:
            ax.bar_label(
                bars, labels=[f"{v:,.0f}\n{v / total:.1%}" for v in vals], fontsize=7
            )
        ax.set_title(title)
        ax.margins(y=0.25)
    return _svg(fig)


def ratio_chart(
    groups: Sequence[str],
    series: Sequence[str],
    planned: pd.DataFrame,
    target: pd.DataFrame,
    *,
    title: str,
    planned_label: str,
    target_label: str,
    ylabel: str,
) -> str:
    """Planned ratio (bars) against target (black ticks), grouped.

    ``planned`` and ``target`` are indexed by ``groups`` with one column per
    entry of ``series`` (e.g. departments × tiers).
    """
    n_g, n_s = len(groups), max(len(series), 1)
    fig = _figure(min(max(6.0, 0.75 * n_g * max(n_s, 2) / 2 + 3), 14), 3.8)
    ax = fig.subplots()
    if not n_g:
        _empty(ax, "—")
        return _svg(fig)
    width = 0.8 / n_s
    x = np.arange(n_g)
    positive: list[float] = []
    for j, s in enumerate(series):
        pos = x - 0.4 + width * (j + 0.5)
        p = (
            planned[s].to_numpy(dtype=float)
            if s in planned.columns
            else np.full(n_g, np.nan)
        )
        tg = (
            target[s].to_numpy(dtype=float)
            if s in target.columns
            else np.full(n_g, np.nan)
        )
        color = _TIER_COLORS.get(str(s), _PALETTE[j % len(_PALETTE)])
        ax.bar(pos, np.nan_to_num(p), width * 0.9, color=color, label=f"{s}")
        ok = ~np.isnan(tg)
        ax.scatter(
            pos[ok],
            tg[ok],
            marker="_",
            s=300 * width,
            color="black",
            linewidths=2,
            zorder=3,
            label=target_label if j == 0 else None,
        )
        positive.extend(v for v in np.r_[p, tg] if np.isfinite(v) and v > 0)
    if positive and max(positive) / min(positive) > 30:
        ax.set_yscale("log")
    _percent_axis(ax)
    ax.set_xticks(
        x,
        list(groups),
        rotation=30 if n_g > 5 else 0,
        ha="right" if n_g > 5 else "center",
    )
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles,
        [planned_label + " " + lab if lab != target_label else lab for lab in labels],
        ncol=min(len(labels), 6),
        loc="upper left",
    )
    ax.margins(y=0.15)
    return _svg(fig)


def month_chart(
    months: Sequence[str],
    visits: Sequence[float],
    used: Sequence[float],
    capacity: Sequence[float] | None,
    *,
    titles: tuple[str, str],
    labels: tuple[str, str, str],
) -> str:
    """Visits per month, and inspector-slots used against capacity per month."""
    fig = _figure(9, 3.2)
    ax1, ax2 = fig.subplots(1, 2)
    x = np.arange(len(months))
    ax1.bar(x, np.asarray(visits, dtype=float), color=_PALETTE[0], label=labels[0])
    ax1.set_xticks(x, list(months))
    ax1.set_title(titles[0])
    ax2.bar(x, np.asarray(used, dtype=float), color=_PALETTE[1], label=labels[1])
    if capacity is not None:
        ax2.plot(
            x,
            np.asarray(capacity, dtype=float),
            color="black",
            marker="o",
            ms=3,
            label=labels[2],
        )
    ax2.set_xticks(x, list(months))
    ax2.set_title(titles[1])
    ax2.legend(loc="upper left")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", labelrotation=0)
        ax.margins(y=0.15)
    return _svg(fig)


def histogram_chart(
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    groups: dict[str, Sequence[float]] | None = None,
    group_title: str = "",
) -> str:
    """A histogram of ``values``, and a box plot per group when given."""
    n_panels = 2 if groups else 1
    fig = _figure(9 if groups else 6, 3.2)
    axes = np.atleast_1d(fig.subplots(1, n_panels))
    vals = np.asarray(values, dtype=float)
    ax = axes[0]
    if len(vals):
        bins = (
            np.arange(vals.min(), vals.max() + 2) - 0.5
            if vals.max() - vals.min() < 40
            else 30
        )
        ax.hist(vals, bins=bins, color=_PALETTE[0], edgecolor="white")
    else:
        _empty(ax, "—")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if groups:
        ax = axes[1]
        names = list(groups)
        data = [np.asarray(groups[k], dtype=float) for k in names]
        try:  # matplotlib >= 3.10
            ax.boxplot(data, orientation="horizontal")
        except TypeError:  # pragma: no cover - older matplotlib
            ax.boxplot(data, vert=False)
        ax.set_yticks(np.arange(1, len(names) + 1), names)
        ax.set_title(group_title)
        ax.set_xlabel(xlabel)
    return _svg(fig)


def stacked_barh_chart(
    names: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    *,
    title: str,
    labels: tuple[str, str],
) -> str:
    """Horizontal stacked bars (e.g. joint and single visits per department)."""
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    fig = _figure(8, max(2.2, 0.35 * len(names) + 1.2))
    ax = fig.subplots()
    y = np.arange(len(names))
    ax.barh(y, a, color=_PALETTE[2], label=labels[0])
    ax.barh(y, b, left=a, color="#BBBBBB", label=labels[1])
    tot = a + b
    for yi, ai, ti in zip(y, a, tot, strict=True):
        if ti > 0:
            ax.text(float(ti), float(yi), f" {ai / ti:.0%}", va="center", fontsize=7)
    ax.set_yticks(y, list(names))
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.margins(x=0.1)
    return _svg(fig)


def bar_chart(
    names: Sequence[str], values: Sequence[float], *, title: str, xlabel: str
) -> str:
    """Horizontal bars with value labels (e.g. exclusions per reason)."""
    vals = np.asarray(values, dtype=float)
    fig = _figure(8, max(2.0, 0.35 * len(names) + 1.2))
    ax = fig.subplots()
    if not len(vals):
        _empty(ax, "—")
        return _svg(fig)
    y = np.arange(len(names))
    bars = ax.barh(y, vals, color=_PALETTE[3])
    ax.bar_label(bars, labels=[f" {v:,.0f}" for v in vals], fontsize=7)
    ax.set_yticks(y, list(names))
    ax.invert_yaxis()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.margins(x=0.15)
    return _svg(fig)


def grouped_bar_chart(
    names: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
) -> str:
    """Vertical grouped bars, one group per name and one bar per series."""
    fig = _figure(8, 3.2)
    ax = fig.subplots()
    n_s = max(len(series), 1)
    width = 0.8 / n_s
    x = np.arange(len(names))
    for j, (lab, vals) in enumerate(series.items()):
        ax.bar(
            x - 0.4 + width * (j + 0.5),
            np.asarray(vals, dtype=float),
            width * 0.9,
            color=_PALETTE[j % len(_PALETTE)],
            label=lab,
        )
    ax.set_xticks(x, list(names))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend()
    return _svg(fig)
