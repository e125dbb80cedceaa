"""TOML writing for policy templates and fitted scorecards, with comments (tomlkit).

The stdlib ``tomllib`` only reads; ``tomlkit`` writes a document with a
comment above each key and table, as a person would write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, InlineTable, Item, Table

__all__ = ["dumps"]


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _is_section(v: Any, path: str, comments: Mapping[str, str]) -> bool:
    """A mapping written as a ``[table]``: one with keys of its own to comment
    (a config section), or with tables inside; a mapping of data (ratios per
    tier, points per category) is an inline table under its key's comment."""
    if not isinstance(v, Mapping):
        return False
    if any(f"{path}.{k}" in comments for k in v):
        return True
    return any(isinstance(x, Mapping) or _is_table_list(x) for x in v.values())


def _inline(v: Mapping[str, Any]) -> InlineTable:
    t = tomlkit.inline_table()
    t.update({str(k): _item(x) for k, x in v.items() if x is not None})
    return t


def _item(v: Any) -> Any:
    if isinstance(v, Mapping):
        return _inline(v)
    if isinstance(v, list | tuple):
        return [_item(x) for x in v]
    if v is None or isinstance(v, bool | int | float | str):
        return v
    raise TypeError(f"Cannot write {type(v).__name__} to TOML.")


def _comment(box: Container | Table, comments: Mapping[str, str], path: str) -> None:
    for line in comments.get(path, "").splitlines():
        box.add(tomlkit.comment(line))


def _fill(
    box: Container | Table,
    data: Mapping[str, Any],
    comments: Mapping[str, str],
    path: str,
) -> None:
    """Scalars first (each under its comment), then tables and table lists."""
    for k, v in data.items():
        key = f"{path}.{k}" if path else k
        if v is None or _is_table_list(v) or _is_section(v, key, comments):
            continue
        _comment(box, comments, key)
        box.add(str(k), _item(v))
    for k, v in data.items():
        key = f"{path}.{k}" if path else k
        sub: Item
        if _is_section(v, key, comments):
            table = tomlkit.table()
            _comment(table, comments, key)
            _fill(table, v, comments, key)
            sub = table
        elif _is_table_list(v):
            aot: AoT = tomlkit.aot()
            for i, entry in enumerate(v):
                table = tomlkit.table()
                if i == 0:
                    _comment(table, comments, key)
                _fill(table, entry, comments, key)
                aot.append(table)
            sub = aot
        else:
            continue
        box.add(str(k), sub)


def dumps(
    data: Mapping[str, Any],
    *,
    header: str = "",
    comments: Mapping[str, str] | None = None,
) -> str:
    """Serialise nested dicts of scalars, lists and tables to TOML text.

    ``None`` values are omitted (TOML has no null). ``comments`` maps a dotted
    key path (``"sampling.ratios"``) to a comment written above that key, or
    at the top of that table (list items of a table list share their path,
    commented once).

    Examples
    --------
    >>> import tomllib
    >>> text = dumps({"a": 1, "t": {"b": [1, 2], "c": "x"}}, comments={"t.c": "why"})
    >>> tomllib.loads(text) == {"a": 1, "t": {"b": [1, 2], "c": "x"}}
    True
    >>> "# why" in text
    True
    """
    doc = tomlkit.document()
    for line in header.splitlines():
        doc.add(tomlkit.comment(line))
    if header:
        doc.add(tomlkit.nl())
    _fill(doc, data, comments or {}, "")
    return tomlkit.dumps(doc).strip() + "\n"
