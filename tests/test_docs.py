"""The documentation site: generated pages cover the code, the rules page covers
what the code cites, every page is in the navigation, and the site builds."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _hooks():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "docs_hooks", DOCS / "_tools" / "hooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_has_every_verb() -> None:
    pytest.importorskip("typer")
    hooks = _hooks()
    verbs = hooks.verbs()
    assert {"validate", "plan", "verify", "publish", "report", "backtest"} <= set(verbs)
    text = hooks.cli_reference()
    for verb in verbs:
        assert f"## `creditsup {verb}`" in text
        assert re.search(rf"Usage: creditsup {re.escape(verb)} ", text), verb
    assert "--lang" in text and "Traceback" not in text
    # the page asks for it
    assert "<!-- creditsup:cli -->" in (DOCS / "reference" / "cli.md").read_text(
        "utf-8"
    )


def test_error_catalogue_covers_every_rule_code() -> None:
    from creditsup.i18n import RULES
    from creditsup.schemas import RULE_CODES

    table = _hooks().rule_catalogue()
    page = (DOCS / "guides" / "excel.md").read_text("utf-8")
    assert "<!-- creditsup:rule-catalogue -->" in page
    fixes = page.split("### How to fix each one", 1)[1]
    for code in RULE_CODES:
        assert f"| `{code}` |" in table, code
        assert code in RULES, code  # a Chinese and an English text
        assert re.search(rf"^`{code}`\n:   \S", fixes, flags=re.M), f"no fix for {code}"
    assert "{column}" not in table and "<column>" not in table


def test_glossary_holds_every_label() -> None:
    from creditsup.labels import LABELS

    table = _hooks().label_table()
    for key, (zh, en) in LABELS.items():
        assert zh.replace("|", "\\|") in table and en.replace("|", "\\|") in table, key
    page = (DOCS / "reference" / "glossary.md").read_text("utf-8")
    for term in (
        "双随机、一公开",
        "一单两库一细则",
        "检查对象名录库",
        "执法检查人员名录库",
        "信用修复",
    ):
        assert term in page


def test_rules_page_covers_every_rule_the_code_cites() -> None:
    page = (DOCS / "reference" / "rules.md").read_text("utf-8")
    sections = re.split(r"^### ", page, flags=re.M)[1:]
    ids = [s.split("\n", 1)[0].strip() for s in sections]
    expected = [f"R{i:02d}" for i in range(1, 24)] + [f"C{i}" for i in range(1, 6)]
    assert ids == expected
    for ident, body in zip(ids, sections, strict=True):
        assert "**中文：**" in body and "**English:**" in body, ident
        assert "**In creditsup:**" in body, ident
        zh = body.split("**中文：**", 1)[1].split("**English:**", 1)[0]
        assert len(re.findall(r"[\u4e00-\u9fff]", zh)) >= 15, ident
    cited: set[str] = set()
    for path in (ROOT / "src" / "creditsup").rglob("*.py"):
        cited |= set(
            re.findall(r"\b(R(?:0[1-9]|1\d|2[0-3])|C[1-5])\b", path.read_text())
        )
    assert cited and cited <= set(expected)


def test_every_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    nav = set(re.findall(r":\s+([\w/.-]+\.md)\s*$", config, flags=re.M))
    pages = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if "_tools" not in p.parts
    }
    assert pages == nav, (pages - nav, nav - pages)
    for page in nav:
        assert (DOCS / page).is_file(), page
    index = (DOCS / "index.md").read_text("utf-8")
    assert "mkdocs-material" in index and "trade-off" in index
    png = (DOCS / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000


def test_docs_toolchain_is_its_own_extra() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    extras = project["optional-dependencies"]
    names = lambda reqs: {re.split(r"[<>=\[ ;]", r, maxsplit=1)[0] for r in reqs}  # noqa: E731
    assert {"mkdocs", "mkdocs-material", "mkdocstrings"} <= names(extras["docs"])
    assert not names(extras["dev"]) & {"mkdocs", "mkdocs-material", "mkdocstrings"}
    assert "docs" not in " ".join(extras["all"])


def test_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("material")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    cli = (tmp_path / "reference" / "cli.html").read_text("utf-8")
    assert "creditsup validate" in cli
    api = (tmp_path / "reference" / "api.html").read_text("utf-8")
    assert "build_plan" in api and "render_report" in api
