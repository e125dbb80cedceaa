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


def _comment(lines: list[str], comments: Mapping[str, str], path: str) -> None:
    for line in comments.get(path, "").splitlines():
        lines.append(f"# {line}".rstrip())


def _emit(
    data: Mapping[str, Any],
    prefix: str,
    lines: list[str],
    comments: Mapping[str, str],
    path: str = "",
) -> None:
    scalars = [
        (k, v)
        for k, v in data.items()
        if v is not None and not isinstance(v, Mapping) and not _is_table_list(v)
    ]
    for k, v in scalars:
        _comment(lines, comments, f"{path}.{k}" if path else k)
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in data.items():
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        sub = f"{path}.{k}" if path else k
        if isinstance(v, Mapping):
            lines.append("")
            _comment(lines, comments, sub)
            lines.append(f"[{name}]")
            _emit(v, name, lines, comments, sub)
        elif _is_table_list(v):
            for i, entry in enumerate(v):
                lines.append("")
                if i == 0:
                    _comment(lines, comments, sub)
                lines.append(f"[[{name}]]")
                _emit(entry, name, lines, comments, sub)


def dumps(
    data: Mapping[str, Any],
    *,
    header: str = "",
    comments: Mapping[str, str] | None = None,
) -> str:
    """Serialise nested dicts of scalars, lists and tables to TOML text.

    ``None`` values are omitted (TOML has no null). ``comments`` maps a dotted
    key path (``"sampling.ratios"``) to a comment written above that key or
    table (list items of a table list share their path, commented once).

    Examples
    --------
    >>> import tomllib
    >>> text = dumps({"a": 1, "t": {"b": [1, 2], "c": "x"}})
    >>> tomllib.loads(text) == {"a": 1, "t": {"b": [1, 2], "c": "x"}}
    True
    """
    lines = [f"# {line}" for line in header.splitlines()]
    _emit(data, "", lines, comments or {})
    return "\n".join(lines).strip() + "\n"
