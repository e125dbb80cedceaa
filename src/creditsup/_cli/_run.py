"""Run the ``creditsup`` application: every error one line on stderr, a stable exit code.

``2`` for bad usage, bad input, unsafe outputs and OS errors; ``1`` when a
check fails; ``3`` when the plan cannot do all the policy asks. Set
``CREDITSUP_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import os

import typer
from rich.markup import escape

from creditsup._cli._common import (
    _LANG,
    _say,
    app,
    err,
)
from creditsup.exceptions import (
    CreditsupError,
    InfeasiblePlanError,
    MissingDependencyError,
)


def _error(text: str, key: str = "error") -> None:
    err.print(f"[bold red]{escape(_say(key))}[/]{escape(text)}")


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
    where = f" Try '{ctx.command_path} --help'." if ctx is not None else ""
    text = " ".join(str(message).split())
    if text and text[-1] not in ".!?":
        text += "."
    _error(text + where)
    return int(getattr(exc, "exit_code", 2) or 2)


def _lang_first(argv: list[str]) -> list[str]:
    """``--lang X`` may follow the verb (as users type it); typer wants it first."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return ["--lang", argv[i + 1], *argv[:i], *argv[i + 2 :]]
        if arg.startswith("--lang="):
            return [arg, *argv[:i], *argv[i + 1 :]]
    return argv


def run(argv: list[str] | None = None) -> int:
    """Run the app; return the exit code (no traceback for any error)."""
    import sys

    args = _lang_first(list(sys.argv[1:] if argv is None else argv))
    _LANG[0] = None
    try:
        rv = app(args=args, standalone_mode=False, prog_name="creditsup")
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
