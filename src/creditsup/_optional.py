"""Optional dependencies (extras): imported only when a feature needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from creditsup.exceptions import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str, *, package: str | None = None) -> ModuleType:
    """Import ``module`` of the extra ``extra``, or raise
    :class:`~creditsup.exceptions.MissingDependencyError` naming the PyPI
    ``package`` (default: the module name) and the extra to install.

    Examples
    --------
    >>> require("json", "none").__name__
    'json'
    >>> require("no_such_module_42", "report")
    Traceback (most recent call last):
    ...
    creditsup.exceptions.MissingDependencyError: This feature needs the optional package 'no_such_module_42'. Install it with pip install 'creditsup[report]'.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package or module, extra) from None
