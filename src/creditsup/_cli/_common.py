"""The typer application behind ``creditsup``: options, output and helpers shared by the verbs.

Every error ends as one line on stderr with a stable exit code, never a
traceback: ``2`` for bad usage, bad input, unsafe outputs and OS errors;
``1`` when a check fails; ``3`` when the plan cannot do all the policy asks.
Set ``CREDITSUP_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creditsup.exceptions import (
    DataValidationError,
)

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["app", "err", "out"]

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="creditsup",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

#: Plausible plan years: pandas dates end in 2262, the law began in 1949.
YEAR_MIN, YEAR_MAX = 1950, 2200
_REPORT_MARK = b'<meta name="generator" content="creditsup">'
_FAILURES_HEAD = "\ufefftable,row,column,value,rule,message".encode()
_SCORES_HEAD = "\ufeffuscc,score,tier".encode()


#: The display language, set by ``--lang`` (else CREDITSUP_LANG or the locale).
_LANG: list[str | None] = [None]  # reset by every run()


def _lang() -> str:
    """The language of messages (English when ``CREDITSUP_LANG`` is bad: ``run``
    reports that first)."""
    from creditsup.exceptions import ConfigError
    from creditsup.i18n import current_lang

    try:
        return current_lang(_LANG[0])
    except ConfigError:
        return "en"


def _doc_lang() -> str:
    """The language of public files and reports: ``--lang`` if given, else Chinese."""
    return _LANG[0] or "zh"


def _say(key: str, **values: object) -> str:
    from creditsup.i18n import message

    return message(key, _lang(), **values)


def _join(parts: Iterable[str]) -> str:
    """A list as the run's language writes one (``、`` or ``, ``)."""
    return ("，" if _lang() == "zh" else ", ").join(parts)


def _table(name: str) -> str:
    """A dataset table as the run's language names it."""
    from creditsup.labels import label

    return label(f"table.{name}", "zh") if _lang() == "zh" else name


def _print_figures(frame: Any, label_of: Callable[[str], str]) -> None:
    """A two-column frame of key figures: as it is in English; in Chinese a
    table whose first column is shown through ``label_of``."""
    if _lang() != "zh":
        out.print(escape(frame.to_string(index=False)))
        return
    from creditsup.labels import label

    table = Table(box=None, show_header=True, pad_edge=False)
    table.add_column(label("figure"))
    table.add_column(label("value"), justify="right")
    for key, value in frame.itertuples(index=False):
        table.add_row(escape(label_of(str(key))), escape(str(value)))
    out.print(table)


def _fail(text: str, code: int = 2) -> NoReturn:
    from creditsup.i18n import error_text

    err.print(
        f"[bold red]{escape(_say('error'))}[/]{escape(error_text(text, _lang()))}"
    )
    raise typer.Exit(code)


def _version_callback(value: bool) -> None:
    if value:
        from creditsup import __version__

        typer.echo(f"creditsup {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
        ),
    ] = None,
) -> None:
    """Credit-tiered 'double random, one public' (双随机、一公开) supervision."""
    if lang is not None:
        from creditsup.labels import check_lang

        _LANG[0] = check_lang(lang)


def _text(name: str, value: str) -> str:
    """A text argument must be valid UTF-8 (a shell may pass undecodable bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        _fail(f"The '{name}' must be valid UTF-8 text. Got {value!r} instead.")
    if not value.strip():
        _fail(f"The '{name}' must not be empty.")
    return value


def _print_failures(exc: DataValidationError, limit: int = 200) -> None:
    from creditsup.i18n import rule_text
    from creditsup.labels import label

    lang = _lang()
    fc = exc.failure_cases
    table = Table(title=_say("failures_title", n=len(fc)), show_lines=False)
    heads = (
        ("表", "行", "列", "值", "规则", "说明")
        if lang == "zh"
        else ("table", "row", "column", "value", "rule", "message")
    )
    for col in heads:
        table.add_column(col, overflow="fold")
    for r in fc.head(limit).itertuples(index=False):
        row = int(str(r.row))
        where, column = str(r.table), str(r.column)
        if lang == "zh":
            name = label(f"{where}.{column}", "zh")
            shown = name if name != f"{where}.{column}" else label(column, "zh")
            text = rule_text(str(r.rule), "zh", column=shown)
            where, column = label(f"table.{where}", "zh"), f"{shown}（{column}）"
        else:
            text = str(r.message)
        cells = (
            where,
            "-" if row < 0 else str(row + 2),  # as Excel shows it: header is row 1
            column,
            str(r.value)[:40],
            str(r.rule),
            text,
        )
        table.add_row(*(escape(c) for c in cells))
    out.print(table)
    if len(fc) > limit:
        out.print(_say("more_failures", n=len(fc) - limit))
    counts = fc.groupby(["table", "rule"]).size().reset_index(name="n")
    out.print(
        escape(
            _say("by_rule")
            + _join(
                f"{_table(t)}/{r}: {n}" for t, r, n in counts.itertuples(index=False)
            )
        )
    )


def _load(data_dir: Path) -> Dataset:
    from creditsup.schemas import load_dataset

    try:
        return load_dataset(data_dir)
    except DataValidationError as exc:
        _print_failures(exc, limit=20)
        _fail(_say("dataset_invalid", path=str(data_dir), n=len(exc.failure_cases)))


def _policy(path: Path | None) -> Any:
    from creditsup.policy import load_policy

    return load_policy(path)


Year = Annotated[int, typer.Option(min=YEAR_MIN, max=YEAR_MAX)]
PolicyOpt = Annotated[Path | None, typer.Option("--policy")]
Quiet = Annotated[bool, typer.Option("--quiet")]
DataDir = Annotated[Path, typer.Argument()]
PlanDir = Annotated[Path, typer.Argument()]
AsOf = Annotated[str, typer.Option("--as-of")]
Format = Annotated[str, typer.Option("--format")]


def _json_out(payload: object) -> None:
    """Machine-readable output: one JSON document on stdout."""
    import json

    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _check_format(fmt: str) -> bool:
    if fmt not in ("text", "json"):
        _fail(f"The '--format' must be text or json. Got {fmt!r} instead.")
    return fmt == "json"


OutcomeOpt = Annotated[
    str | None,
    typer.Option(
        "--outcome",
    ),
]
SeedSourceOpt = Annotated[
    str | None,
    typer.Option(
        "--seed-source",
    ),
]
SeedFormOpt = Annotated[
    str | None,
    typer.Option("--seed-form"),
]


def _seed_source(text: str | None, form: str | None) -> Any:
    from creditsup.plan import SeedSource

    if text is None:
        if form is not None:
            _fail("The '--seed-form' needs a '--seed-source'.")
        return None
    return SeedSource(_text("--seed-source", text), form)
