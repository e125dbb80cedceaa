"""Anomaly-forced targeted draws (C2, R09): filters resolved once, matched per slice.

A :class:`~creditsup.sampling.policy.TargetedDraw` names a filter, a ratio
and the items to check. :func:`build_targets` (global, no seed) resolves the
items and computes the criteria that need every row of a table: the entities
with enough credit records of a kind in the look-back window, and the
addresses with enough active entities registered at them. :func:`target_masks`
(per slice) then tells which entities of a slice pass every criterion.

Entities that pass are drawn at the filter's ratio for the listed items that
apply to them, on the draw's permanent random numbers: the targeted checks
ride on the entity's one visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from creditsup.exceptions import ConfigError
from creditsup.sampling._arrays import I8, I64, B, KeyedIds, as_object
from creditsup.sampling.industry import scope_masks
from creditsup.sampling.policy import SamplingPolicy, TargetedDraw
from creditsup.schemas import TIERS, Dataset

__all__ = ["TargetSpec", "build_targets", "resolve_items", "target_masks"]


@dataclass(frozen=True)
class TargetSpec:
    """A targeted draw, resolved against the dataset.

    ``items``: positions in the context's sorted items; ``records``/``address``:
    the entities that pass the record and address criteria (``None``: no such
    criterion), hashed for the slices' joins.
    """

    spec: TargetedDraw
    items: I64
    records: KeyedIds | None
    address: KeyedIds | None


def resolve_items(
    names: tuple[str, ...], item_ids: list[str], publicity: B, where: str
) -> I64:
    """Positions of ``names`` among ``item_ids`` ('@publicity', '@all' allowed).

    Examples
    --------
    >>> resolve_items(("@publicity", "b"), ["a", "b", "c"],
    ...               np.array([True, False, False]), "x").tolist()
    [0, 1]
    """
    pos: set[int] = set()
    unknown = []
    index = {x: k for k, x in enumerate(item_ids)}
    for name in names:
        if name == "@all":
            pos.update(range(len(item_ids)))
        elif name == "@publicity":
            pos.update(np.flatnonzero(publicity).tolist())
        elif name in index:
            pos.add(index[name])
        else:
            unknown.append(name)
    if unknown:
        raise ConfigError(
            f"The {where} of SamplingPolicy names item(s) that are not in the items "
            f"table: {', '.join(sorted(unknown))}."
        )
    return np.array(sorted(pos), dtype=np.int64)


def _record_matches(
    records: pd.DataFrame, spec: TargetedDraw, year: int, key: str
) -> KeyedIds:
    """Entities with at least ``min_records`` live records of the kind."""
    y0 = pd.Timestamp(year=year, month=1, day=1)
    r = records
    if len(r):
        sel = (r["kind"] == spec.record_kind).to_numpy(dtype=bool, copy=True)
        day = r["date"].to_numpy(dtype="datetime64[ns]")
        sel &= day < y0.to_datetime64()
        sel &= day >= (y0 - pd.Timedelta(days=spec.lookback_days)).to_datetime64()
        if "restored_on" in r.columns:
            rest = r["restored_on"].to_numpy(dtype="datetime64[ns]")
            sel &= ~(rest < y0.to_datetime64())  # NaT compares False: live
        counts = r.loc[sel, "uscc"].astype(str).value_counts()
        ids = counts.index[counts.to_numpy() >= spec.min_records]
    else:
        ids = pd.Index([], dtype=object)
    return KeyedIds(np.asarray(sorted(ids), dtype=object), key)


def _address_matches(
    entities: pd.DataFrame, spec: TargetedDraw, key: str
) -> tuple[KeyedIds, list[dict[str, Any]]]:
    """Entities at an address where ``min_firms_at_address`` active ones sit."""
    if "address" not in entities.columns:
        warning = {
            "code": "targeted_no_address",
            "message": f"Targeted draw '{spec.name}': the entities table has no "
            "'address' column; nobody matches min_firms_at_address.",
        }
        return KeyedIds(np.zeros(0, dtype=object), key), [warning]
    addr = (
        entities["address"].astype("str").str.replace(r"\s+", "", regex=True)
    ).where(entities["address"].notna() & (entities["status"] == "active"))
    counts = addr.value_counts()
    crowded = set(
        counts.index[counts.to_numpy() >= int(spec.min_firms_at_address or 0)]
    )
    hit = addr.isin(crowded).to_numpy(dtype=bool)
    ids = as_object(entities["uscc"])[hit]
    return KeyedIds(np.sort(ids.astype(str)).astype(object), key), []


def build_targets(
    dataset: Dataset,
    policy: SamplingPolicy,
    item_ids: list[str],
    publicity: B,
    year: int,
    key: str,
) -> tuple[list[TargetSpec], list[dict[str, Any]]]:
    """Resolve the policy's targeted draws; global criteria computed once.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_draw_inputs
    >>> from creditsup.sampling.policy import TargetedDraw
    >>> ds, _ = tiny_draw_inputs()
    >>> t = TargetedDraw(name="big", ratio=0.5, items=["M1"], min_capital=1e6)
    >>> specs, warnings = build_targets(ds, SamplingPolicy(targeted=(t,)),
    ...                                 ["F1", "M1"], np.zeros(2, bool), 2027, "k")
    >>> specs[0].items.tolist(), specs[0].records is None, warnings
    ([1], True, [])
    """
    specs: list[TargetSpec] = []
    warnings: list[dict[str, Any]] = []
    for t in policy.targeted:
        items = resolve_items(t.items, item_ids, publicity, f"targeted draw '{t.name}'")
        records = None
        if t.record_kind is not None:
            records = _record_matches(dataset.records, t, year, key)
        address = None
        if t.min_firms_at_address is not None:
            address, w = _address_matches(dataset.entities, t, key)
            warnings += w
        specs.append(TargetSpec(t, items, records, address))
    return specs, warnings


def _member(ids: KeyedIds | None, ent: KeyedIds) -> B | None:
    """Which entities of ``ent`` are among ``ids`` (``None``: no criterion)."""
    if ids is None:
        return None
    hit: B = ids.positions_of(ent) >= 0
    return hit


def target_masks(
    entities: pd.DataFrame, ent: KeyedIds, tier: I8, targets: list[TargetSpec]
) -> list[B]:
    """Per targeted draw, which entities of a slice pass every criterion."""
    out: list[B] = []
    n = len(entities)
    for tg in targets:
        t = tg.spec
        mask = np.ones(n, dtype=bool)
        for found in (_member(tg.records, ent), _member(tg.address, ent)):
            if found is not None:
                mask &= found
        if t.entity_types or t.industries:
            scope = pd.DataFrame(
                {
                    "entity_types": [";".join(t.entity_types) or "*"],
                    "industries": [";".join(t.industries) or "*"],
                }
            )
            mask &= scope_masks(entities, scope)[0]
        if t.tiers:
            mask &= np.isin(tier, [TIERS.index(x) for x in t.tiers])
        if t.min_capital is not None:
            cap = (
                pd.to_numeric(entities["registered_capital"], errors="coerce")
                if "registered_capital" in entities.columns
                else pd.Series(np.nan, index=entities.index)
            )
            mask &= (
                cap.to_numpy(dtype=float) >= t.min_capital
            ) & cap.notna().to_numpy()
        if t.key_supervision is not None:
            ks = entities["key_supervision"].fillna(False).to_numpy(dtype=bool)
            mask &= ks == t.key_supervision
        out.append(mask)
    return out
