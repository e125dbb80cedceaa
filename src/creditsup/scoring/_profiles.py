"""The built-in scorecard profiles: TOML data files in ``creditsup/profiles/``.

A profile is one ``<name>.toml`` file holding a whole :class:`Scorecard`
(``name``, ``version``, ``problem_results``, ``publicity``, ``indicators``).
Adding a profile means adding a file there; :func:`profile_names` finds it.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from creditsup.exceptions import ConfigError

__all__ = ["DEFAULT_PROFILE", "profile_data", "profile_names"]

#: The profile :class:`Scorecard` takes its defaults from.
DEFAULT_PROFILE = "national"
_SUFFIX = ".toml"


def _folder() -> Traversable:
    return resources.files("creditsup").joinpath("profiles")


@functools.cache
def profile_names() -> tuple[str, ...]:
    """Names of the built-in profiles, sorted (one per ``profiles/*.toml``).

    Examples
    --------
    >>> "national" in profile_names()
    True
    """
    return tuple(
        sorted(
            p.name[: -len(_SUFFIX)]
            for p in _folder().iterdir()
            if p.is_file() and p.name.endswith(_SUFFIX)
        )
    )


@functools.cache
def profile_data(profile: str = DEFAULT_PROFILE) -> dict[str, Any]:
    """The parsed TOML of a built-in profile.

    Raises
    ------
    ConfigError
        ``profile`` is not a built-in profile; the message lists them.
    """
    known = profile_names()
    if profile not in known:
        raise ConfigError(
            f"The 'profile' must be one of the built-in scorecard profiles "
            f"{list(known)}. Got {profile!r} instead."
        )
    text = _folder().joinpath(profile + _SUFFIX).read_text("utf-8")
    return tomllib.loads(text)
