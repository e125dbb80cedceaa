"""Configuration base: frozen pydantic v2 models loaded from TOML.

Each step of the data flow defines its own policy model (``Scorecard``,
``TierPolicy``, ``SamplingPolicy``, ``AssignmentPolicy``) on top of
:class:`FrozenModel`; :mod:`creditsup.plan` gathers them into one ``Policy``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from creditsup.exceptions import ConfigError

__all__ = ["FrozenModel", "config_hash", "load_config", "parse_config"]

M = TypeVar("M", bound=BaseModel)


_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


_TYPES = {
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
}


def _describe(err: Mapping[str, Any]) -> str:
    """The 'must be ...' part of one pydantic error, scikit-learn style."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in _BOUNDS:
        key, op = _BOUNDS[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {op} {bound}"
    if kind in _TYPES:
        return f"must be {_TYPES[kind]}"
    if kind == "extra_forbidden":
        return "is not a known option"
    if kind == "missing":
        return "is required"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s)"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def _format_validation_error(model: type[BaseModel], exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, ConfigError) and getattr(inner, "formatted", False):
            parts.append(str(inner))  # a nested config already said it
            continue
        loc = ".".join(str(p) for p in err["loc"])
        text = _describe(err)
        if str(err["msg"]).startswith("Value error, ") and text.startswith("The "):
            parts.append(f"{model.__name__}: {text}")  # a validator's own sentence
            continue
        where = f"The '{loc}' of {model.__name__}" if loc else f"{model.__name__}"
        parts.append(f"{where} {text}. Got {err.get('input')!r} instead.")
    return "\n".join(parts)


def _config_error(model: type[BaseModel], exc: ValidationError) -> ConfigError:
    err = ConfigError(_format_validation_error(model, exc))
    err.formatted = True  # type: ignore[attr-defined]
    return err


class FrozenModel(BaseModel):
    """Base of every creditsup configuration object: frozen, no extra keys.

    Constraints are declared on the fields (``Field(ge=..., le=...)``,
    ``Literal``, ``Annotated``). However a config is built, from a dict, from
    TOML or directly, a bad value raises one error type,
    :class:`~creditsup.exceptions.ConfigError`, with a scikit-learn-style
    message.

    Examples
    --------
    >>> from pydantic import Field
    >>> class P(FrozenModel):
    ...     ratio: float = Field(0.1, ge=0, le=1)
    >>> P(ratio=1.5)
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'ratio' of P must be <= 1. Got 1.5 instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(type(self), exc) from None

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate ``obj``; a bad value raises :class:`ConfigError`."""
        try:
            return super().model_validate(
                obj,
                strict=strict,
                extra=extra,
                from_attributes=from_attributes,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as exc:
            raise _config_error(cls, exc) from None


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
    creditsup.exceptions.ConfigError: The 'ratoi' of P is not a known option. Got 0.2 instead.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _config_error(model, exc) from None


_INT64 = (-(2**63), 2**63 - 1)


def _check_ints(data: Any, where: str = "") -> None:
    """Refuse integers beyond 64 bits: they cannot be a count, a size or a seed."""
    if isinstance(data, dict):
        for k, v in data.items():
            _check_ints(v, f"{where}.{k}" if where else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_ints(v, f"{where}[{i}]")
    elif isinstance(data, int) and not isinstance(data, bool):
        if not _INT64[0] <= data <= _INT64[1]:
            raise ConfigError(
                f"The '{where}' must be a 64-bit integer. Got {data} instead."
            )


def load_config(path: str | Path, model: type[M]) -> M:
    """Load a TOML file into a frozen config ``model``.

    Raises
    ------
    ConfigError
        The file is missing, a folder, not UTF-8 TOML, empty, or a value is
        invalid (one line per problem, naming the key and the value).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"The policy file {str(p)!r} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"The policy file {str(p)!r} is a folder.") from None
    except OSError as exc:
        raise ConfigError(
            f"The policy file {str(p)!r} cannot be read: {exc.strerror}."
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"The policy file {str(p)!r} is not a text file (UTF-8 TOML expected)."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The policy file {str(p)!r} is not valid TOML: {exc}"
        ) from None
    if not data:
        raise ConfigError(
            f"The policy file {str(p)!r} is empty. Start from "
            "'creditsup policy-template', or omit --policy for the default policy."
        )
    _check_ints(data)
    return parse_config(model, data)


def config_hash(model: BaseModel) -> str:
    """SHA-256 of the canonical JSON form of a config (for provenance)."""
    payload = json.dumps(
        model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
