"""A minimal TOML writer for policy templates (stdlib ``tomllib`` only reads)."""

from __future__ import annotations

import json
import textwrap
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


def _comment(path: str, comments: Mapping[str, str], lines: list[str]) -> None:
    text = comments.get(path)
    if text:
        lines.extend("# " + w for w in textwrap.wrap(text, width=86))


def _emit(
    data: Mapping[str, Any], prefix: str, lines: list[str], comments: Mapping[str, str]
) -> None:
    def path(k: str) -> str:
        return f"{prefix}.{k}" if prefix else k

    for k, v in data.items():
        if v is None and path(k) in comments:
            _comment(path(k), comments, lines)
            lines.append(f"# {_key(k)} = (not set)")
    scalars = [
        (k, v)
        for k, v in data.items()
        if v is not None and not isinstance(v, Mapping) and not _is_table_list(v)
    ]
    for k, v in scalars:
        _comment(path(k), comments, lines)
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in data.items():
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, Mapping):
            lines.append("")
            _comment(path(k), comments, lines)
            lines.append(f"[{name}]")
            _emit(v, name, lines, comments)
        elif _is_table_list(v):
            for entry in v:
                lines.append("")
                _comment(path(k), comments, lines)
                lines.append(f"[[{name}]]")
                _emit(entry, name, lines, comments)


def dumps(
    data: Mapping[str, Any],
    *,
    header: str = "",
    comments: Mapping[str, str] | None = None,
) -> str:
    """Serialise nested dicts of scalars, lists and tables to TOML text.

    ``None`` values are omitted (TOML has no null); ``comments`` maps dotted
    key paths to text written as ``#`` lines above the key (an omitted key
    with a comment is shown as ``# key = (not set)``).

    Examples
    --------
    >>> import tomllib
    >>> text = dumps({"a": 1, "t": {"b": [1, 2], "c": "x"}})
    >>> tomllib.loads(text) == {"a": 1, "t": {"b": [1, 2], "c": "x"}}
    True
    >>> print(dumps({"t": {"b": 2, "n": None}}, comments={"t.b": "Two.", "t.n": "Off."}))
    [t]
    # Off.
    # n = (not set)
    # Two.
    b = 2
    <BLANKLINE>
    """
    lines = [f"# {line}" for line in header.splitlines()]
    _emit(data, "", lines, comments or {})
    return "\n".join(lines).strip() + "\n"
