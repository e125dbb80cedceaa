"""Static tables of the synthetic district and which items apply to whom.

:func:`items_frame` is the ``items`` table; :func:`item_scope` says, per
(entity type, industry) combination, which check items and departments
apply; :func:`min_inspectors` is the smallest pool that covers every
department's expertise twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from creditsup.datasets import _catalog as cat
from creditsup.datasets._arrays import BoolArr, IntArr, ObjArr, pick

__all__ = [
    "Scope",
    "codes_mask",
    "dept_fields",
    "item_scope",
    "items_frame",
    "min_inspectors",
]

_DEPT_NAMES = {d.id: d.name for d in cat.DEPARTMENTS}


def items_frame() -> pd.DataFrame:
    """The ``items`` table (contract §1) of the catalogue's check items."""
    rows: list[dict[str, Any]] = []
    for it in cat.ITEMS:
        row: dict[str, Any] = {
            "item_id": it.item_id,
            "department": it.department,
            "name": it.name,
            "legal_basis": it.legal_basis,
            "kind": it.kind,
            "entity_types": it.entity_types,
            "industries": it.industries,
            "expertise": it.expertise,
            "joint_group": it.joint_group,
            "publicity": it.publicity,
            "department_name": _DEPT_NAMES[it.department],
        }
        for t, r in zip("ABCD", it.ratios, strict=True):
            row[f"ratio_{t}"] = np.nan if r is None else float(r)
        row["ratio_E"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def dept_fields() -> dict[str, list[str]]:
    """Expertise fields actually required by some item, per department."""
    used = {(it.department, it.expertise) for it in cat.ITEMS if it.expertise}
    return {
        d.id: [f for f in cat.EXPERTISE[d.id] if (d.id, f) in used]
        for d in cat.DEPARTMENTS
    }


def min_inspectors() -> int:
    """The smallest ``n_inspectors`` for which every department can cover all
    its items' expertise with at least two active inspectors.

    Examples
    --------
    >>> min_inspectors()
    25
    """
    return sum(max(2, len(f)) for f in dept_fields().values())


def codes_mask(ind: IntArr, codes: list[str] | tuple[str, ...]) -> BoolArr:
    """Which entities' industry code is one of ``codes``."""
    table = np.array([i.code in codes for i in cat.INDUSTRIES])
    return np.asarray(table[ind], dtype=bool)


def _matches(codes: ObjArr, spec: str) -> BoolArr:
    """Which codes a ``;``-list of prefixes (or ``*``) covers."""
    if spec.strip() == "*":
        return np.ones(len(codes), dtype=bool)
    prefixes = tuple(p.strip() for p in spec.split(";") if p.strip())
    return np.array([str(c).startswith(prefixes) for c in codes], dtype=bool)


@dataclass(frozen=True)
class Scope:
    """Which items and departments apply to each (type, industry) combination."""

    combo: IntArr  # per entity: combo index
    types: IntArr  # per combo
    inds: IntArr  # per combo
    items: BoolArr  # items x combos
    depts: BoolArr  # combos x departments


def item_scope(etype: IntArr, ind: IntArr) -> Scope:
    """The :class:`Scope` of entities with types ``etype`` and industries ``ind``."""
    n_ind = len(cat.INDUSTRIES)
    key = etype * n_ind + ind
    uniq, combo = np.unique(key, return_inverse=True)
    ctypes = (uniq // n_ind).astype(np.int64)
    cinds = (uniq % n_ind).astype(np.int64)
    codes = pick([i.code for i in cat.INDUSTRIES], cinds)
    tnames = pick(list(cat.ENTITY_TYPES), ctypes)
    items = np.zeros((len(cat.ITEMS), len(uniq)), dtype=bool)
    for k, it in enumerate(cat.ITEMS):
        tmask = (
            np.ones(len(uniq), dtype=bool)
            if it.entity_types.strip() == "*"
            else np.isin(tnames, [t.strip() for t in it.entity_types.split(";")])
        )
        items[k] = tmask & _matches(codes, it.industries)
    dept_ids = [d.id for d in cat.DEPARTMENTS]
    item_dept = np.array([dept_ids.index(it.department) for it in cat.ITEMS])
    depts = np.zeros((len(uniq), len(dept_ids)), dtype=bool)
    for d in range(len(dept_ids)):
        depts[:, d] = items[item_dept == d].any(axis=0)
    return Scope(combo.astype(np.int64), ctypes, cinds, items, depts)
