"""Industry codes (GB/T 4754-2017) and the scope of check items.

An item applies to an entity when the entity's type is among the item's
``entity_types`` and its industry starts with one of the item's
``industries`` prefixes (both ``*`` by default); codes with and without the
section letter are compared in normalised form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditsup.sampling._arrays import B

__all__ = ["industry_matches", "normalize_industry", "scope_masks"]

# GB/T 4754-2017: first division of each section, so that "5211" -> "F5211".
_SECTION_STARTS = (
    (1, "A"), (6, "B"), (13, "C"), (44, "D"), (47, "E"), (51, "F"), (53, "G"),
    (61, "H"), (63, "I"), (66, "J"), (70, "K"), (71, "L"), (73, "M"), (76, "N"),
    (80, "O"), (83, "P"), (84, "Q"), (86, "R"), (91, "S"), (97, "T"),
)  # fmt: skip


def normalize_industry(code: str) -> str:
    """Normalise a GB/T 4754 code to section letter + digits.

    ``"5211"`` becomes ``"F5211"``; ``"F5211"`` and ``"F"`` stay as they are.

    Examples
    --------
    >>> normalize_industry("5211"), normalize_industry("f52"), normalize_industry("C")
    ('F5211', 'F52', 'C')
    """
    c = str(code).strip().upper()
    if len(c) >= 2 and c[:2].isdigit():
        div = int(c[:2])
        letter = ""
        for start, sec in _SECTION_STARTS:
            if div >= start:
                letter = sec
        return letter + c
    return c


def industry_matches(industry: str, prefixes: str) -> bool:
    """Whether an entity's industry falls under an item's ``industries`` list.

    ``prefixes`` is ``*`` or a ``;`` list of code prefixes; codes with and
    without the section letter are compared in normalised form.

    Examples
    --------
    >>> industry_matches("5211", "F52;H62"), industry_matches("F5211", "H")
    (True, False)
    >>> industry_matches("C1391", "*")
    True
    """
    pref = [p.strip() for p in str(prefixes).split(";") if p.strip()]
    if not pref or "*" in pref:
        return True
    ind = normalize_industry(industry)
    return any(ind.startswith(normalize_industry(p)) for p in pref)


def scope_masks(entities: pd.DataFrame, items: pd.DataFrame) -> list[B]:
    """Per item, which entities it applies to (items with one scope share a mask).

    Examples
    --------
    >>> ent = pd.DataFrame({"entity_type": ["enterprise", "individual"],
    ...                     "industry": ["5211", "C1391"]})
    >>> items = pd.DataFrame({"entity_types": ["*", "enterprise"],
    ...                       "industries": ["C", "F52"]})
    >>> [m.tolist() for m in scope_masks(ent, items)]
    [[False, True], [True, False]]
    """
    et_codes, et_uniq = pd.factorize(entities["entity_type"].astype(str), sort=True)
    in_codes, in_uniq = pd.factorize(entities["industry"].astype(str), sort=True)
    et_vals = [str(x) for x in et_uniq]
    in_norm = [normalize_industry(str(x)) for x in in_uniq]
    masks: list[B] = []
    cache: dict[tuple[str, str], B] = {}
    for types, inds in zip(
        items["entity_types"].fillna("*").astype(str),
        items["industries"].fillna("*").astype(str),
        strict=True,
    ):
        if (types, inds) not in cache:
            t_ok = _type_ok(types, et_vals)
            i_ok = _industry_ok(inds, in_norm)
            cache[(types, inds)] = t_ok[et_codes] & i_ok[in_codes]
        masks.append(cache[(types, inds)])
    return masks


def _type_ok(types: str, values: list[str]) -> B:
    """Which entity types (plus the NA code, last) an item's list admits."""
    tl = {t.strip() for t in types.split(";") if t.strip()}
    if not tl or "*" in tl:
        return np.ones(len(values) + 1, dtype=bool)
    return np.array([v in tl for v in values] + [False], dtype=bool)


def _industry_ok(prefixes: str, normalised: list[str]) -> B:
    """Which normalised industries (plus the NA code, last) the prefixes admit."""
    pl = [normalize_industry(p) for p in prefixes.split(";") if p.strip()]
    if not pl or "*" in pl:
        return np.ones(len(normalised) + 1, dtype=bool)
    pref = tuple(pl)
    return np.array([v.startswith(pref) for v in normalised] + [False], dtype=bool)
