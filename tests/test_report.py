"""The HTML plan report: self-contained, bilingual, renders anywhere (SVG text), rcParams-safe."""

from __future__ import annotations

import dataclasses
import importlib.resources
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from _tiny import tiny_tables
from creditsup.exceptions import (
    ConfigError,
    CreditsupWarning,
    MissingDependencyError,
    UnsafeOutputError,
)
from creditsup.plan import InspectionPlan
from creditsup.publish import publication_deadline
from creditsup.report import plots, render_report
from creditsup.schemas import validate_dataset
from test_publish import make_plan

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

SECTIONS = (
    "summary",
    "tiers",
    "ratio",
    "months",
    "load",
    "joint",
    "exclusions",
    "diagnostics",
    "deadlines",
    "provenance",
)


def _cjk_font_file() -> str | None:
    from matplotlib import font_manager

    for f in font_manager.fontManager.ttflist:
        if f.name in plots.CJK_FAMILIES:
            return str(f.fname)
    return None


def _has_cjk_font() -> bool:
    return plots.resolve_fonts().cjk is not None


needs_cjk = pytest.mark.skipif(
    not _has_cjk_font(),
    reason="no CJK font installed (Debian: apt-get install fonts-wqy-microhei)",
)


def _check_self_contained(html: str) -> None:
    refs = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.I)
    assert refs, "expected anchors"
    for ref in refs:
        assert ref.startswith("#"), ref[:80]  # only links inside the page
    assert "http" not in html and "//" not in re.sub(r"<style.*?</style>", "", html)
    assert re.findall(r"url\(([^)]*)\)", html) == [
        u for u in re.findall(r"url\(([^)]*)\)", html) if u.startswith("#")
    ]
    for bad in ("<script", "<link", "@import", "<iframe", "<object", "<img"):
        assert bad not in html.lower(), bad
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "two elements share an id"


def _charts(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


_HAN = re.compile(r"[\u4e00-\u9fff]")


def _visible_text(html: str) -> str:
    """What a reader sees: the page without markup, plus the charts' text."""
    texts = " ".join(re.findall(r"<text\b[^>]*>([^<]*)</text>", html))
    body = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body) + " " + texts


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib sees no CJK font: as on a server that has none installed."""
    monkeypatch.setattr(plots, "CJK_FAMILIES", ("No Such CJK Font",))
    monkeypatch.setattr(plots, "_FILE_HINTS", ("no-such-font-file",))
    plots._register_system_cjk_fonts.cache_clear()
    yield
    plots._register_system_cjk_fonts.cache_clear()


def _dataset() -> Any:
    return validate_dataset(tiny_tables())


# ------------------------------------------------------------------- report
def test_zh_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    plan = make_plan()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # also: no "Glyph missing" warning
        out = render_report(plan, tmp_path / "sub" / "report.html")
    html = out.read_text("utf-8")
    assert '<html lang="zh-CN">' in html
    _check_self_contained(html)
    charts = _charts(html)
    assert len(charts) >= 6
    for sec in SECTIONS:
        assert f'id="{sec}"' in html
    for title in (
        "信用风险分类分布",
        "计划抽查比例与目标比例",
        "各月检查量与检查力量",
        "不可行诊断",
    ):
        assert title in html
    # diagnostics: the unfilled visit and the binding group
    assert "V2026-000003" in html and "department food, December" in html
    # provenance block
    prov = plan.provenance
    for value in (prov["seed"], prov["seed_commitment"], prov["policy_hash"], "e" * 64):
        assert value in html
    # publication deadlines: March 2026 checks end on Tue 31 March
    assert publication_deadline("2026-03-31").isoformat() in html
    # exclusions by reason, with the tier of the excluded entity
    assert "已注销" in html


def test_en_report(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", CreditsupWarning
        )  # fonts are not the point here
        out = render_report(make_plan(), tmp_path / "r.html", lang="en")
    html = out.read_text("utf-8")
    assert '<html lang="en">' in html
    _check_self_contained(html)
    for title in (
        "Tier distribution",
        "Visits per month against capacity",
        "Provenance",
    ):
        assert title in html
    assert "信用风险分类分布" not in html


def test_report_is_deterministic_and_leaves_rcparams_alone(tmp_path: Path) -> None:
    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CreditsupWarning)
        a = render_report(make_plan(), tmp_path / "a.html").read_bytes()
        b = render_report(make_plan(), tmp_path / "b.html").read_bytes()
    assert a == b
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


def test_capacity_sources(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CreditsupWarning)
        bare = render_report(make_plan(), tmp_path / "bare.html").read_text("utf-8")
        with_data = render_report(
            make_plan(), tmp_path / "data.html", dataset=_dataset()
        ).read_text("utf-8")
    assert "计划未携带检查力量信息" in bare
    assert "由执法检查人员名录库计算" in with_data
    # market: I001 (5/month) + I002 (4/month); one market slot used in March
    # (V1), two in May (V2); food: I003 (6/month), one slot in March (V1)
    assert ">1/9<" in with_data and ">2/9<" in with_data and ">1/6<" in with_data
    # I002 is on leave in July: market capacity drops to 5
    assert ">0/5<" in with_data
    # idle inspectors are counted from the pool: none here, all three used
    assert "未派任务人员" in with_data


def test_plan_capacity_and_strata_tables_are_used(tmp_path: Path) -> None:
    base = make_plan()
    capacity = pd.DataFrame(
        {
            "department": ["market"] * 12 + ["food"] * 12,
            "month": list(range(1, 13)) * 2,
            "capacity_slots": [7] * 12 + [3] * 12,
        }
    )
    strata = pd.DataFrame(
        {
            "item_id": ["M01", "M01", "F01", "F01"],
            "department": ["market", "market", "food", "food"],
            "tier": ["A", "C", "A", "D"],
            "pool_size": [10, 4, 8, 2],
            "ratio": [0.05, 0.5, 0.05, 1.0],
            "expected": [0.5, 2.0, 0.4, 2.0],
            "drawn": [1, 2, 0, 2],
            "kept": [1, 2, 0, 2],
        }
    )
    plan = dataclasses.replace(base, capacity=capacity, strata=strata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CreditsupWarning)
        html = render_report(plan, tmp_path / "r.html", lang="en").read_text("utf-8")
    assert "from the plan&#39;s (department × month) capacity table" in html
    assert ">1/7<" in html and ">2/7<" in html and ">1/3<" in html
    assert "Per (department, tier): planned = checks kept" in html
    # market × C: planned 2/4 = 50.0 %, target 2.0/4 = 50.0 %
    assert re.search(
        r"<td>市场监管科</td><td>C \(elevated\)</td><td[^>]*>4</td>"
        r"<td[^>]*>50.0%</td><td[^>]*>50.0%</td>",
        html,
    )


# -------------------------------------------------------------------- fonts
@needs_cjk
def test_chinese_glyphs_render_with_the_resolved_font() -> None:
    from matplotlib.figure import Figure

    fonts = plots.resolve_fonts()
    assert fonts.cjk in plots.CJK_FAMILIES
    assert fonts.families[0] == "DejaVu Sans"

    def draw(choice: plots.FontChoice) -> None:
        with plots.plot_context(choice):
            fig = Figure()
            fig.text(0.1, 0.5, "信用风险分类 A/B/C/D 抽查计划")
            fig.savefig(__import__("io").BytesIO(), format="png")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw(fonts)
    # power check: without the CJK face matplotlib reports missing glyphs
    with pytest.warns(UserWarning, match="missing from"):
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            from matplotlib.figure import Figure as F2

            with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
                fig = F2()
                fig.text(0.1, 0.5, "信用风险")
                fig.savefig(__import__("io").BytesIO(), format="png")


def test_no_cjk_font_needed_to_make_a_report(tmp_path: Path, no_cjk_font: None) -> None:
    """A report made where matplotlib has no CJK font: no warning, and every
    chart keeps its Chinese as SVG text for the reader's browser to draw."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plots.resolve_fonts().cjk is None
        html = render_report(make_plan(), tmp_path / "r.html").read_text("utf-8")
    _check_self_contained(html)
    charts = _charts(html)
    assert len(charts) >= 6
    for svg in charts:  # text as text: <text> elements, no glyph outlines
        texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
        assert texts and any(_HAN.search(x) for x in texts), svg[:200]
        assert "<image" not in svg and "<?xml" not in svg and "xmlns" not in svg
        for style in re.findall(r'<text\b[^>]*style="([^"]*)"', svg):
            assert "font-family: 'PingFang SC', 'Hiragino Sans GB', " in style
    # the page's own font stack, in the order of common systems
    assert (
        'font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
        '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", '
        "sans-serif;"
    ) in html
    # power check: the same chart text is in the page as text, not as boxes
    assert "各类主体数" in charts[1] or any("各类主体数" in c for c in charts)


def test_report_reads_as_a_person_would(tmp_path: Path) -> None:
    """Department names, Beijing time, no rule codes or Python hints in the body."""
    html = render_report(make_plan(), tmp_path / "r.html").read_text("utf-8")
    seen = _visible_text(html)
    assert "食品安全科" in seen and "市场监管科" in seen
    assert not re.search(
        r"(?<![\w-])(market|food)(?![\w-])",
        seen.replace(
            "department food, December",
            "",  # the solver's own words, quoted
        ),
    )
    # created 2026-01-05T08:00:00+00:00 -> 16:00 in Beijing
    assert "2026-01-05 16:00（北京时间）" in seen and "+00:00" not in seen
    assert not re.search(r"\b[RC]\d{1,2}\b", seen), re.findall(
        r".{20}\b[RC]\d{1,2}\b", seen
    )
    for hint in ("calendar=", "WorkCalendar", "pip install", "Pass "):
        assert hint not in seen
    # the footnotes say what the rules are, in words
    assert "每次检查至少派两名" in seen and "不对外公开" in seen
    en = render_report(make_plan(), tmp_path / "e.html", lang="en").read_text("utf-8")
    assert "2026-01-05 16:00 Beijing time (UTC+8)" in _visible_text(en)


def test_a_year_without_a_holiday_calendar_says_so_in_words(tmp_path: Path) -> None:
    base = make_plan()
    far = dataclasses.replace(base, provenance={**base.provenance, "year": 2099})
    html = render_report(far, tmp_path / "r.html").read_text("utf-8")
    seen = _visible_text(html)
    assert "2099 年的法定节假日与调休安排尚未收录" in seen
    assert "calendar=" not in seen and "WorkCalendar" not in seen


def test_report_writes_only_over_its_own_file(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    render_report(make_plan(), out)
    first = out.read_bytes()
    assert b'<meta name="generator" content="creditsup">' in first[:4096]
    render_report(make_plan(), out, lang="en")  # its own report: replaced
    assert out.read_bytes() != first
    mine = tmp_path / "notes.html"
    mine.write_text("<html>my notes</html>", "utf-8")
    with pytest.raises(UnsafeOutputError, match="did not write"):
        render_report(make_plan(), mine)
    assert mine.read_text("utf-8") == "<html>my notes</html>"
    with pytest.raises(UnsafeOutputError):
        render_report(make_plan(), tmp_path)  # a folder


# ---------------------------------------------------------------- chromium
def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browser_has_cjk_font() -> bool:
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True
        ).stdout
    except OSError:
        return False
    return bool(out.strip())


def _latin_only_fontconfig(tmp: Path) -> dict[str, str]:
    """An environment in which the browser sees only matplotlib's DejaVu fonts."""
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    conf = tmp / "fonts.conf"
    conf.write_text(
        f"<?xml version='1.0'?><fontconfig><dir>{dejavu}</dir>"
        f"<cachedir>{tmp / 'fc-cache'}</cachedir></fontconfig>",
        "utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def _screenshot(
    html: Path, png: Path, size: str = "900,700", env: dict[str, str] | None = None
) -> bytes:
    subprocess.run(
        [
            str(_chromium()),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={png.parent / ('profile-' + png.stem)}",
            f"--window-size={size}",
            f"--screenshot={png}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env=env,
    )
    return png.read_bytes()


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
@pytest.mark.skipif(
    not _browser_has_cjk_font(),
    reason="the browser needs a CJK font (Debian: apt-get install fonts-wqy-microhei)",
)
def test_chromium_draws_the_chinese_of_a_report_made_without_cjk_fonts(
    tmp_path: Path, no_cjk_font: None
) -> None:
    """A report made with no CJK font (for matplotlib) shows Chinese glyphs
    in a browser that has one: two pages that differ only in the Chinese of a
    chart title give different pictures, which boxes (one empty glyph for
    every character) would not."""
    html = render_report(make_plan(), tmp_path / "r.html").read_text("utf-8")
    chart = next(c for c in _charts(html) if "各类主体数" in c)
    pages = []
    for i, title in enumerate(("各类主体数", "检查力量表")):
        page = tmp_path / f"p{i}.html"
        body = chart.replace(">各类主体数<", f">{title}<")
        page.write_text(
            '<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8">'
            f"<body style='margin:0'>{body}</body></html>",
            "utf-8",
        )
        pages.append(page)
    shots = [_screenshot(p, p.with_suffix(".png")) for p in pages]
    assert shots[0].startswith(b"\x89PNG") and shots[0] != shots[1]
    # power check: a browser with no CJK font draws both titles as the same
    # five boxes, so the pictures are equal
    latin = _latin_only_fontconfig(tmp_path)
    boxes = [
        _screenshot(p, p.with_name(p.stem + "-boxes.png"), env=latin) for p in pages
    ]
    assert boxes[0] == boxes[1]
    full = _screenshot(tmp_path / "r.html", tmp_path / "full.png", "1200,1600")
    assert len(full) > 20_000  # a page was drawn, not a blank


@needs_cjk
def test_font_path_and_family(tmp_path: Path) -> None:
    path = _cjk_font_file()
    if path is None:  # pragma: no cover - cache predates the font
        plots._register_system_cjk_fonts()
        path = _cjk_font_file()
    assert path is not None
    choice = plots.resolve_fonts(font_path=path)
    assert choice.cjk in plots.CJK_FAMILIES and choice.families[0] == choice.cjk
    assert plots.resolve_fonts(font_family=choice.cjk).cjk == choice.cjk
    with pytest.raises(ConfigError, match="does not exist"):
        plots.resolve_fonts(font_path=tmp_path / "none.ttf")
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font")
    with pytest.raises(ConfigError, match="not a usable font"):
        plots.resolve_fonts(font_path=bogus)
    with pytest.raises(ConfigError, match="not installed"):
        plots.resolve_fonts(font_family="No Such Family 42")
    out = render_report(make_plan(), tmp_path / "r.html", font_path=path)
    assert out.is_file()


# ----------------------------------------------------------------- packaging
def test_missing_report_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "matplotlib", None)
        with pytest.raises(MissingDependencyError, match=r"creditsup\[report\]"):
            render_report(make_plan(), tmp_path / "r.html")
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "jinja2", None)
        with pytest.raises(
            MissingDependencyError, match=r"jinja2.*creditsup\[report\]"
        ):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CreditsupWarning)
                render_report(make_plan(), tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_bad_lang(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'lang'"):
        render_report(make_plan(), tmp_path / "r.html", lang="fr")


def test_template_is_package_data() -> None:
    res = importlib.resources.files("creditsup.report").joinpath(
        "templates/report.html.j2"
    )
    assert res.is_file()
    assert "{{ title }}" in res.read_text("utf-8")


# ---------------------------------------------------------------- real plan
@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, InspectionPlan, Path]:
    from creditsup.datasets import synthetic_district
    from creditsup.plan import build_plan

    ds = synthetic_district(1500, 30, seed=5)
    with warnings.catch_warnings():
        # upstream pandas deprecations are the other modules' business here
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        plan = build_plan(
            ds, year=2026, seed="report-test", created_at="2026-01-02T00:00:00+00:00"
        )
    bundle = plan.save(tmp_path_factory.mktemp("bundle") / "plan")
    return ds, plan, bundle


@needs_cjk
def test_real_plan_report(
    tmp_path: Path, real: tuple[Any, InspectionPlan, Path]
) -> None:
    ds, plan, bundle = real
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        html = render_report(plan, tmp_path / "r.html", dataset=ds).read_text("utf-8")
    _check_self_contained(html)
    # a real plan carries strata.csv: one planned-vs-target chart per
    # (department x tier) instead of the two fallback charts, so 6 in all
    assert len(_charts(html)) >= 6
    assert "按（部门、风险分类）汇总" in html
    for sec in SECTIONS:
        assert f'id="{sec}"' in html
    n_visits = len(plan.visits)
    assert f"{n_visits:,}" in html
    # from the saved bundle folder (strings everywhere) the figures agree
    from_disk = render_report(bundle, tmp_path / "d.html").read_text("utf-8")
    _check_self_contained(from_disk)
    assert f"{n_visits:,}" in from_disk
    assert plan.provenance["seed_commitment"] in from_disk
    unfilled = len(plan.diagnostics["unfilled"])
    assert f"{unfilled:,}" in from_disk


def test_empty_plan_renders(tmp_path: Path) -> None:
    base = make_plan()
    empty = make_plan(
        visits=base.visits.iloc[:0],
        assignments=base.assignments.iloc[:0],
        exclusions=base.exclusions.iloc[:0],
        scores=base.scores.iloc[:0],
        accounting=pd.DataFrame(),
        tasks=pd.DataFrame(),
        diagnostics={"unfilled": [], "binding": []},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CreditsupWarning)
        html = render_report(empty, tmp_path / "r.html").read_text("utf-8")
    _check_self_contained(html)
    assert "全部检查均已派员" in html and "没有被排除的主体" in html


# ------------------------------------------------------------------ labels
def test_report_labels_come_from_the_one_table() -> None:
    from creditsup.labels import LABELS, parse_table
    from creditsup.publish import COLUMN_LABELS
    from creditsup.report._text import TEXT, t
    from creditsup.schemas import EXCLUSION_REASONS, TIERS

    # the report's own table holds sentences only: no key twice
    assert set(TEXT).isdisjoint(LABELS)
    # what publish writes into public files is what the report shows
    for key in ("pool_size", "department", "month", "joint", "visit_id", "uscc"):
        for i, lang in enumerate(("zh", "en")):
            assert t(key, lang) == COLUMN_LABELS[key][i]
    assert t("pool_size", "zh") == "对象总数" and t("visit_id", "en") == "Visit ID"
    # every code the report labels has a label
    for tier in (*TIERS, "none"):
        assert f"tier.{tier}" in LABELS
    for reason in EXCLUSION_REASONS:
        assert f"reason_code.{reason}" in LABELS
    with pytest.raises(ValueError, match="given twice"):
        parse_table("a | 甲 | A\na | 乙 | B")
    with pytest.raises(ValueError):
        parse_table("a | 甲")


def test_ledger_capacity_source(tmp_path: Path) -> None:
    base = make_plan()
    ledger = [*base.ledger, {"step": "months", "capacity_slots": {"market": 10}}]
    plan = dataclasses.replace(base, ledger=ledger)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CreditsupWarning)
        html = render_report(plan, tmp_path / "r.html").read_text("utf-8")
    assert "只有抽取记录中的各部门全年可用人次" in html
    # market: 3 slots used (V1 March, V2 May twice) of 10 in the year
    assert "全年可用人次" in html and ">30.0%<" in html
