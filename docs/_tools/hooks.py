"""mkdocs hooks: the pages generated from the code itself.

A page that holds one of these markers gets it replaced when the site is built:

* ``<!-- creditsup:cli -->``: ``creditsup --help`` and ``creditsup <verb> --help``
  of every verb of the typer app, as the command prints them (English);
  ``<!-- creditsup:cli-zh -->`` the same in Chinese;
* ``<!-- creditsup:rule-catalogue -->``: every validation rule code of
  :data:`creditsup.schemas.RULE_CODES` with its Chinese and English text from
  :data:`creditsup.i18n.RULES`;
* ``<!-- creditsup:labels -->``: the label table :data:`creditsup.labels.LABELS`
  (column headers and code values, Chinese and English).

So the CLI reference, the error catalogue and the glossary cannot drift from the
code: they are the code's own text. ``tests/test_docs.py`` calls the same
functions.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:  # document this checkout, not an installed copy
    sys.path.insert(0, str(ROOT / "src"))

MARKERS = {
    "<!-- creditsup:cli -->": "cli_reference",
    "<!-- creditsup:cli-zh -->": "cli_reference_zh",
    "<!-- creditsup:rule-catalogue -->": "rule_catalogue",
    "<!-- creditsup:labels -->": "label_table",
}


def _help(args: list[str], lang: str = "en") -> str:
    from typer.testing import CliRunner

    from creditsup._cli import run

    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    with CliRunner().isolation(env=env) as streams:
        code = run(["--lang", lang, *args, "--help"])
        output = streams[0].getvalue().decode("utf-8")
    if code != 0:
        raise RuntimeError(f"creditsup {' '.join(args)} --help failed: {output}")
    lines = [line.rstrip() for line in output.strip("\n").splitlines()]
    return "\n".join(lines).strip("\n")


def verbs() -> list[str]:
    """The verbs of the CLI, in the order the app declares them."""
    import typer

    from creditsup._cli import app

    group: Any = typer.main.get_command(app)
    return [name for name, cmd in group.commands.items() if not cmd.hidden]


def cli_reference(lang: str = "en") -> str:
    """Markdown: the help of the app and of every verb, in ``lang``."""
    parts = ["## `creditsup`", "", "```text", _help([], lang), "```", ""]
    for verb in verbs():
        parts += [f"## `creditsup {verb}`", "", "```text", _help([verb], lang)]
        parts += ["```", ""]
    return "\n".join(parts)


def cli_reference_zh() -> str:
    """Markdown: the same reference in Chinese (``creditsup --lang zh``)."""
    return cli_reference("zh")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rule_catalogue() -> str:
    """Markdown: one row per validation rule code."""
    from creditsup.i18n import RULES
    from creditsup.schemas import RULE_CODES

    rows = [
        "| rule code | 中文提示 | English message |",
        "|---|---|---|",
    ]
    for code in RULE_CODES:
        zh, en = RULES.get(code, (code, code))
        rows.append(
            f"| `{code}` | {_cell(zh.format(column='「列」'))} "
            f"| {_cell(en.format(column='*column*'))} |"
        )
    return "\n".join(rows)


def label_table() -> str:
    """Markdown: every display label, column keys first, then code values."""
    from creditsup.labels import LABELS

    columns = [(k, v) for k, v in LABELS.items() if "." not in k]
    values = [(k, v) for k, v in LABELS.items() if "." in k]
    out = ["### Columns and figures", "", "| key | 中文 | English |", "|---|---|---|"]
    out += [f"| `{k}` | {_cell(zh)} | {_cell(en)} |" for k, (zh, en) in columns]
    out += ["", "### Code values", "", "| vocabulary | code | 中文 | English |"]
    out += ["|---|---|---|---|"]
    for k, (zh, en) in values:
        vocab, code = k.split(".", 1)
        out.append(f"| `{vocab}` | `{code}` | {_cell(zh)} | {_cell(en)} |")
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each marker by the text generated from the code."""
    for marker, name in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, globals()[name]())
    return markdown
