"""A minimal TOML writer for policy templates (stdlib ``tomllib`` only reads)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps"]


def _key(k: str) -> str:
    return (
        k
        if k.replace("_", "").replace("-", "").isalnum() and k.isascii()
        else json.dumps(k)
    )


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        inner = ", ".join(
            f"{_key(str(k))} = {_value(x)}" for k, x in v.items() if x is not None
        )
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"Cannot write {type(v).__name__} to TOML.")


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _emit(data: Mapping[str, Any], prefix: str, lines: list[str]) -> None:
    scalars = [
        (k, v)
        for k, v in data.items()
        if v is not None and not isinstance(v, Mapping) and not _is_table_list(v)
    ]
    for k, v in scalars:
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in data.items():
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, Mapping):
            lines.append("")
            lines.append(f"[{name}]")
            _emit(v, name, lines)
        elif _is_table_list(v):
            for entry in v:
                lines.append("")
                lines.append(f"[[{name}]]")
                _emit(entry, name, lines)


def dumps(data: Mapping[str, Any], *, header: str = "") -> str:
    """Serialise nested dicts of scalars, lists and tables to TOML text.

    ``None`` values are omitted (TOML has no null).

    Examples
    --------
    >>> import tomllib
    >>> text = dumps({"a": 1, "t": {"b": [1, 2], "c": "x"}})
    >>> tomllib.loads(text) == {"a": 1, "t": {"b": [1, 2], "c": "x"}}
    True
    """
    lines = [f"# {line}" for line in header.splitlines()]
    _emit(data, "", lines)
    return "\n".join(lines).strip() + "\n"
