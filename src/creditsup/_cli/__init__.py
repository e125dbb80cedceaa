"""The typer application behind ``creditsup`` (see :mod:`creditsup.cli`).

One module per group of verbs (:mod:`.data`, :mod:`.planning`,
:mod:`.evaluation`); :mod:`._common` holds the app, the consoles and the
shared options; :mod:`._run` turns every error into one line and an exit code.
A new verb goes in the module of its step (or a new one imported here).
"""

from __future__ import annotations

from creditsup._cli import data, evaluation, planning, year  # noqa: F401  (verbs)
from creditsup._cli._common import app
from creditsup._cli._run import run

__all__ = ["app", "run"]
