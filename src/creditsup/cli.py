"""The ``creditsup`` command line (extra ``[cli]``: typer and rich).

Exit codes: 0 success; 1 a check failed (``validate``, ``verify``); 2 bad
usage or bad input (one clear message, no traceback); 3 infeasible plan.
The verbs live in :mod:`creditsup._cli`; this module only checks that the
extra is installed.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code when ``argv`` is given."""
    try:
        from creditsup._cli import run
    except ImportError as exc:
        sys.stderr.write(
            f"error: the creditsup command line needs the 'cli' extra ({exc.name}): "
            "pip install 'creditsup[cli]'\n"
        )
        code = 2
    else:
        code = run(argv)
    if argv is None:
        raise SystemExit(code)
    return code
