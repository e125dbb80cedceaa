"""Run the ``creditsup`` application: every error one line on stderr, a stable exit code.

``2`` for bad usage, bad input, unsafe outputs and OS errors; ``1`` when a
check fails; ``3`` when the plan cannot do all the policy asks. Set
``CREDITSUP_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import os
from typing import Any

import typer
from rich.markup import escape

from creditsup._cli._common import (
    _LANG,
    _lang,
    _say,
    err,
)
from creditsup._cli._help import command
from creditsup._cli._logs import install as install_logging
from creditsup.exceptions import (
    CreditsupError,
    InfeasiblePlanError,
    MissingDependencyError,
)


def _error(text: str, key: str = "error") -> None:
    from creditsup.i18n import error_text

    err.print(f"[bold red]{escape(_say(key))}[/]{escape(error_text(text, _lang()))}")


def _param_name(param: Any) -> str:
    opts = getattr(param, "opts", None) or []
    return str(opts[0]) if opts else str(getattr(param, "human_readable_name", ""))


def _bound_zh(cause: BaseException | None) -> str:
    """What a value should be, from the validation error behind a bad value."""
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return ""
    first = (errors() or [{}])[0]
    kind, ctx = first.get("type", ""), first.get("ctx", {}) or {}
    if kind == "less_than_equal":
        return f"（不能大于 {ctx.get('le')}）"
    if kind == "greater_than_equal":
        return f"（不能小于 {ctx.get('ge')}）"
    return {"int_parsing": "（应为整数）", "float_parsing": "（应为数字）"}.get(
        kind, ""
    )


def _usage_zh(exc: Any, names: set[str]) -> str | None:
    """A usage error in Chinese, from the error's own fields (``None``: no
    Chinese form; the English message is then looked up in the catalogue)."""
    param = getattr(exc, "param", None)
    if "NoSuchOption" in names:
        text = f"没有选项 {exc.option_name}。"
        if getattr(exc, "possibilities", None):
            text += f"是否想用 {'、'.join(sorted(exc.possibilities))}？"
        return text
    if "MissingParameter" in names and param is not None:
        kind = "参数" if getattr(param, "param_type_name", "") == "argument" else "选项"
        return f"缺少{kind} {_param_name(param)}。"
    if "BadParameter" in names and param is not None:
        return f"{_param_name(param)} 的取值无效{_bound_zh(exc.__cause__)}。"
    return None


def _click_error(exc: BaseException) -> int | None:
    """Exit code for a click/typer usage error (typer bundles its own click)."""
    names = {c.__name__ for c in type(exc).__mro__}
    if "NoArgsIsHelpError" in names:
        _error(_say("no_command"))
        return 2
    if "Abort" in names:
        return 130
    if "ClickException" not in names:
        return None
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    text = " ".join(str(message).split())
    if text and text[-1] not in ".!?":
        text += "."
    zh = _usage_zh(exc, names) if _lang() == "zh" else None
    if zh is not None or _lang() == "zh":
        from creditsup.i18n import error_text

        text = zh or error_text(text, "zh")
        where = (
            f"运行 '{ctx.command_path} --help' 查看用法。" if ctx is not None else ""
        )
    else:
        where = f" Try '{ctx.command_path} --help'." if ctx is not None else ""
    err.print(f"[bold red]{escape(_say('error'))}[/]{escape(text + where)}")
    return int(getattr(exc, "exit_code", 2) or 2)


def _lang_first(argv: list[str]) -> list[str]:
    """``--lang X`` may follow the verb (as users type it); typer wants it first."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return ["--lang", argv[i + 1], *argv[:i], *argv[i + 2 :]]
        if arg.startswith("--lang="):
            return [arg, *argv[:i], *argv[i + 1 :]]
    return argv


def _help_lang(args: list[str]) -> str:
    """The language of the help, known before the arguments are parsed (a bad
    ``--lang`` is reported by the app itself)."""
    from creditsup.i18n import current_lang

    given = args[1] if args[:1] == ["--lang"] and len(args) > 1 else None
    if args and args[0].startswith("--lang="):
        given = args[0].split("=", 1)[1]
    try:
        return current_lang(given if given in ("zh", "en") else None)
    except CreditsupError:  # a bad CREDITSUP_LANG: said by the first message
        return "en"


def run(argv: list[str] | None = None) -> int:
    """Run the app; return the exit code (no traceback for any error)."""
    import sys

    args = _lang_first(list(sys.argv[1:] if argv is None else argv))
    _LANG[0] = None
    install_logging(_lang)
    env = os.environ.get("CREDITSUP_LANG", "").strip()
    if env and env not in ("zh", "en"):
        _error(f"CREDITSUP_LANG must be zh or en. Got {env!r} instead.")
        return 2
    try:
        app = command(_help_lang(args))
        rv = app.main(args=args, standalone_mode=False, prog_name="creditsup")
        if isinstance(rv, int):  # click returns an Exit's code without raising
            return rv
    except typer.Exit as exc:
        return int(exc.exit_code)
    except InfeasiblePlanError as exc:
        _error(str(exc), "infeasible")
        return 3
    except (CreditsupError, MissingDependencyError) as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            _error(line)
        return 2
    except OSError as exc:
        where = f" '{exc.filename}'" if getattr(exc, "filename", None) else ""
        _error(f"{exc.strerror or exc}{where}.")
        return 2
    except Exception as exc:
        code = _click_error(exc)
        if code is not None:
            return code
        if os.environ.get("CREDITSUP_DEBUG"):
            raise
        _error(_say("internal", what=f"{type(exc).__name__}: {exc}"))
        return 2
    return 0
