"""Configuration base: frozen pydantic v2 models loaded from TOML.

Each step of the data flow defines its own policy model (``Scorecard``,
``TierPolicy``, ``SamplingPolicy``, ``AssignmentPolicy``) on top of
:class:`FrozenModel`; :mod:`creditsup.plan` gathers them into one ``Policy``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from creditsup.exceptions import ConfigError

__all__ = ["FrozenModel", "config_hash", "load_config", "parse_config"]

M = TypeVar("M", bound=BaseModel)


class FrozenModel(BaseModel):
    """Base of every creditsup configuration object: frozen, no extra keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _format_validation_error(model: type[BaseModel], exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(
            f"The '{loc}' of {model.__name__} is invalid: {err['msg']}. "
            f"Got {err.get('input')!r} instead."
        )
    return "\n".join(parts)


def parse_config(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` into ``model``, raising :class:`ConfigError` on failure.

    Examples
    --------
    >>> class P(FrozenModel):
    ...     ratio: float = 0.1
    >>> parse_config(P, {"ratio": 0.2}).ratio
    0.2
    >>> parse_config(P, {"ratoi": 0.2})
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'ratoi' of P is invalid: ...
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(model, exc)) from None


def load_config(path: str | Path, model: type[M]) -> M:
    """Load a TOML file into a frozen config ``model``."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"The policy file {str(p)!r} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The policy file {str(p)!r} is not valid TOML: {exc}"
        ) from None
    return parse_config(model, data)


def config_hash(model: BaseModel) -> str:
    """SHA-256 of the canonical JSON form of a config (for provenance)."""
    payload = json.dumps(
        model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
