"""Stage 1: the shared context of a draw (global; no seed).

:func:`build_context` turns the policy and the small tables into what every
slice of entities shares: the check items sorted by ``item_id``, their
departments, joint groups and visit groups (one door per entity, R14, apart
from the policy's separate groups), the publicity flag, the nominal ratio of
every (item, tier), the annual cap of every tier, the targeted draws (C2) with
their global criteria, the tiers frame and the history validated and hashed
once (each slice joins its own entities to them), and the inspectors'
capacity per department and month. Entity rows are read only for the
shared-address criterion of a targeted draw.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from creditsup.exceptions import ConfigError, DataValidationError
from creditsup.sampling._arrays import (
    ALIGN_KEY,
    F64,
    I8,
    I64,
    NO_CAP,
    B,
    KeyedIds,
    Obj,
    as_object,
    codes,
    tier_codes,
)
from creditsup.sampling.policy import SamplingPolicy
from creditsup.sampling.targets import TargetSpec, build_targets, resolve_items
from creditsup.schemas import TIERS, Dataset, available_in, unavailable_bits

__all__ = ["DrawContext", "HistoryTable", "TierTable", "build_context"]


def _failure(
    table: str, row: int, column: str, value: str, rule: str, message: str
) -> dict[str, Any]:
    return {
        "table": table,
        "row": row,
        "column": column,
        "value": value,
        "rule": rule,
        "message": message,
    }


def _same_ids(a: pd.Series, b: pd.Series) -> bool:
    """Whether two USCC columns list the same identifiers in the same order."""
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    return len(a) == len(b) and a.astype(str).equals(b.astype(str))


@dataclass(frozen=True)
class TierTable:
    """The tiers frame, validated: tier codes (-1: none) and hashed USCCs."""

    uscc: pd.Series
    codes: I8
    key: str

    @functools.cached_property
    def ids(self) -> KeyedIds:
        """The USCCs of the frame and their keyed hash (both computed on demand)."""
        return KeyedIds(as_object(self.uscc), self.key)

    def align(self, uscc: pd.Series, ent: KeyedIds) -> tuple[I8, int]:
        """Tier code of each entity of a slice, and how many rows matched."""
        if _same_ids(self.uscc, uscc):
            return self.codes.copy(), len(self.codes)
        pos = ent.positions_of(self.ids)
        out = np.full(len(ent.ids), -1, dtype=np.int8)
        hit = pos >= 0
        out[pos[hit]] = self.codes[hit]
        return out, int(hit.sum())


def tier_table(tiers: pd.DataFrame, entities: pd.DataFrame, key: str) -> TierTable:
    """Validate the tiers frame: columns, tier labels, one row per entity."""
    missing = [c for c in ("uscc", "tier") if c not in tiers.columns]
    if missing:
        raise DataValidationError.from_records(
            [
                _failure(
                    "tiers",
                    -1,
                    c,
                    "",
                    "missing_column",
                    f"The tiers frame needs a '{c}' column.",
                )
                for c in missing
            ]
        )
    t_uscc = tiers["uscc"].reset_index(drop=True)
    found = tier_codes(tiers["tier"].reset_index(drop=True))
    bad = np.flatnonzero(found == -2)
    if len(bad):
        raise DataValidationError.from_records(
            [
                _failure(
                    "tiers",
                    int(r),
                    "tier",
                    str(tiers["tier"].iloc[r]),
                    "unknown_enum",
                    f"A tier must be one of {', '.join(TIERS)}.",
                )
                for r in bad[:1000]
            ]
        )
    same = _same_ids(t_uscc, entities["uscc"])
    dup = np.zeros(0, dtype=np.int64) if same else t_uscc.duplicated(keep=False)
    if bool(dup.any()):
        raise DataValidationError.from_records(
            [
                _failure(
                    "tiers",
                    int(r),
                    "uscc",
                    str(t_uscc.iloc[r]),
                    "duplicate_key",
                    "An entity appears more than once in the tiers frame.",
                )
                for r in np.flatnonzero(np.asarray(dup))[:1000]
            ]
        )
    return TierTable(t_uscc, np.maximum(found, -1), key)


@dataclass(frozen=True)
class HistoryTable:
    """Earlier checks: day, counted toward the cap this year, department code."""

    ids: KeyedIds
    day: I64
    in_year: B
    counted: B
    department: I64
    year_start: int

    def facts(self, ent: KeyedIds, recent_days: I64) -> tuple[I64, B, dict[int, B]]:
        """Per entity of a slice: visits counted this year, any visit this year,
        and per department with a window, whether it checked the entity recently.
        """
        n = len(ent.ids)
        used = np.zeros(n, dtype=np.int64)
        hist_any = np.zeros(n, dtype=bool)
        recent: dict[int, B] = {}
        if not len(self.day) or not n:
            return used, hist_any, recent
        h_ent = ent.positions_of(self.ids)
        found = h_ent >= 0
        counted = self.counted & found
        if counted.any():
            key = np.sort(
                (h_ent[counted] << 24) | (self.day[counted] - self.year_start)
            )
            distinct = key[np.r_[True, key[1:] != key[:-1]]]
            used = np.bincount(distinct >> 24, minlength=n).astype(np.int64)
        hist_any[h_ent[self.in_year & found]] = True
        for d, days in enumerate(recent_days.tolist()):
            if days <= 0:
                continue
            sel = found & (self.department == d) & (self.day >= self.year_start - days)
            mask = np.zeros(n, dtype=bool)
            mask[h_ent[sel]] = True
            recent[d] = mask
        return used, hist_any, recent


def history_table(
    hist: pd.DataFrame,
    policy: SamplingPolicy,
    year: int,
    departments: list[str],
    key: str,
) -> HistoryTable:
    """The history's days and codes, hashed under ``key`` (lazily)."""
    day = hist["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    y0 = int(np.datetime64(f"{year}-01-01", "D").astype(np.int64))
    y1 = int(np.datetime64(f"{year + 1}-01-01", "D").astype(np.int64))
    in_year = (day >= y0) & (day < y1)
    trig = codes(hist["trigger"].fillna("random"), policy.exempt_triggers)
    return HistoryTable(
        ids=KeyedIds(as_object(hist["uscc"]), key),
        day=day,
        in_year=in_year,
        counted=in_year & (trig < 0),
        department=codes(hist["department"], tuple(departments)),
        year_start=y0,
    )


def item_ratios(
    items: pd.DataFrame, policy: SamplingPolicy
) -> tuple[F64, F64, list[dict[str, Any]]]:
    """Nominal ratio per (item, tier) for ordinary and key-supervision entities."""
    n_items = len(items)
    base = np.zeros((n_items, len(TIERS)))
    ks = np.zeros((n_items, len(TIERS)))
    clamped: list[dict[str, Any]] = []
    is_key = (items["kind"] == "key").to_numpy()
    for j, t in enumerate(TIERS):
        default = np.where(is_key, policy.key_ratios[t], policy.ratios[t])
        col = f"ratio_{t}"
        if col in items.columns:
            over = pd.to_numeric(items[col], errors="coerce").to_numpy(dtype=float)
        else:
            over = np.full(n_items, np.nan)
        r = np.where(np.isnan(over), default, over)
        bad = np.flatnonzero((r < 0) | (r > 1))
        if len(bad):
            i = int(bad[0])
            raise DataValidationError.from_records(
                [
                    _failure(
                        "items",
                        i,
                        col,
                        str(r[i]),
                        "bad_ratio",
                        f"The 'ratio' for tier '{t}' must be in [0, 1]. "
                        f"Got {r[i]} instead.",
                    )
                ]
            )
        ks[:, j] = r
        if t in policy.ratio_ceiling:
            ceil = policy.ratio_ceiling[t]
            hit = (~is_key) & (r > ceil)
            ids = items["item_id"].astype(str)
            clamped += [
                {
                    "item_id": ids.iloc[k],
                    "tier": t,
                    "ratio": float(r[k]),
                    "ceiling": ceil,
                }
                for k in np.flatnonzero(hit).tolist()
            ]
            r = np.where(hit, ceil, r)
        base[:, j] = r
    if policy.key_supervision_ratio is not None:
        ks = np.maximum(ks, policy.key_supervision_ratio)
    off = [j for j, t in enumerate(TIERS) if t in policy.trigger_only_tiers]
    base[:, off] = 0.0
    ks[:, off] = 0.0
    return base, ks, clamped


def capacity(
    inspectors: pd.DataFrame, departments: list[str], months: tuple[int, ...]
) -> tuple[I64, F64]:
    """Inspector-slots per (department, month), and the median monthly capacity
    of a department's active inspectors (what one more inspector adds)."""
    cap = np.zeros((len(departments), 12), dtype=np.int64)
    unit = np.zeros(len(departments), dtype=np.float64)
    if not len(inspectors):
        return cap, unit
    ins = inspectors
    if "active" in ins.columns:
        ins = ins[ins["active"].fillna(True).astype(bool)]
    dpos = {d: i for i, d in enumerate(departments)}
    dcode = ins["department"].astype(str).map(dpos)
    keep = dcode.notna().to_numpy()
    ins = ins[keep]
    dcode_a = dcode[keep].to_numpy(dtype=np.int64)
    mc = ins["monthly_capacity"].fillna(0).to_numpy(dtype=np.int64)
    if "unavailable_months" in ins.columns:
        un = unavailable_bits(ins["unavailable_months"])
    else:
        un = np.zeros(len(ins), dtype=np.int64)
    for m in sorted(set(months)):
        avail = available_in(un, m)
        np.add.at(cap[:, m - 1], dcode_a[avail], mc[avail])
    for d in np.unique(dcode_a).tolist():
        unit[d] = float(np.median(mc[dcode_a == d]))
    return cap, unit


def _as_of(tiers: pd.DataFrame, as_of: object) -> np.datetime64 | None:
    """The scoring date of the tiers (argument, else ``tiers.attrs['as_of']``)."""
    value = as_of if as_of is not None else tiers.attrs.get("as_of")
    if value is None:
        return None
    try:
        return np.datetime64(pd.Timestamp(str(value)).date(), "D")
    except ValueError as exc:
        raise ConfigError(
            f"The 'as_of' of the draw must be a date. Got {value!r} instead."
        ) from exc


def _publicity(items: pd.DataFrame, policy: SamplingPolicy) -> B:
    """Which items are publicity-information checks (column or policy list)."""
    ids = items["item_id"].astype(str)
    flag = np.zeros(len(items), dtype=bool)
    if "publicity" in items.columns:
        flag = items["publicity"].fillna(False).to_numpy(dtype=bool, copy=True)
    listed = resolve_items(
        policy.publicity_items,
        ids.tolist(),
        np.zeros(len(items), bool),
        "'publicity_items'",
    )
    flag[listed] = True
    return flag


def _expertise_codes(items: pd.DataFrame) -> I64:
    """A code per distinct (department, required expertise); -1 when none."""
    exp = items["expertise"].fillna("").astype(str).str.strip()
    pair = (items["department"].astype(str) + "\x1f" + exp).where(exp != "")
    found, _ = pd.factorize(pair, use_na_sentinel=True)
    return np.asarray(found, dtype=np.int64)


def visit_groups(
    items: pd.DataFrame, policy: SamplingPolicy, joint: list[str], publicity: B
) -> tuple[list[str], I64, list[tuple[int, ...]]]:
    """Visit group of every item: one per entity (``merge = 'entity'``) or per
    joint group, apart from the policy's separate groups; and their months."""
    ids = items["item_id"].astype(str).tolist()
    separate: dict[int, str] = {}
    for name, sep in policy.separate.items():
        for i in resolve_items(
            sep.items, ids, publicity, f"separate visit '{name}'"
        ).tolist():
            if i in separate:
                raise ConfigError(
                    f"The item '{ids[i]}' is in two separate visits of SamplingPolicy "
                    f"('{separate[i]}' and '{name}'); list it once."
                )
            separate[i] = name
    labels = [
        f"separate:{separate[i]}"
        if i in separate
        else ("visit" if policy.merge == "entity" else joint[i])
        for i in range(len(ids))
    ]
    groups = sorted(set(labels))
    months = [
        policy.separate[g[9:]].months or policy.months
        if g.startswith("separate:")
        else policy.months
        for g in groups
    ]
    code = np.array([groups.index(x) for x in labels], dtype=np.int64)
    return groups, code, months


@dataclass(frozen=True)
class DrawContext:
    """What every slice of entities shares (built once per draw, no seed).

    Items are sorted by ``item_id``; ``item_group``/``item_dept`` index
    ``groups`` (joint groups: start points of ``coordination = 'mix'``) and
    ``departments``; ``item_vgroup`` indexes ``visit_groups`` (the checks of
    an entity in one visit group form one visit) whose months are
    ``vgroup_months``. ``base_pi``/``ks_pi`` are the nominal ratios per (item,
    tier) for ordinary and key-supervision entities; ``cap_by_code`` is the
    annual cap per tier code (last: no tier, no cap). ``item_expertise`` codes
    each item's required (department, expertise) pair (-1: any officer of the
    department). ``as_of`` is the scoring
    date of the tiers when known; ``unit_capacity`` the median monthly
    capacity of a department's inspectors.
    """

    policy: SamplingPolicy
    year: int
    hash_key: str
    items: pd.DataFrame
    item_ids: Obj
    departments: list[str]
    groups: list[str]
    item_group: I64
    item_dept: I64
    item_key: B
    item_publicity: B
    item_expertise: I64
    visit_groups: list[str]
    item_vgroup: I64
    vgroup_months: list[tuple[int, ...]]
    base_pi: F64
    ks_pi: F64
    cap_by_code: I64
    recent_days: I64
    tiers: TierTable
    history: HistoryTable | None
    capacity: I64
    unit_capacity: F64
    targets: list[TargetSpec]
    as_of: np.datetime64 | None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)


def build_context(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy,
    year: int,
    *,
    hash_key: str = ALIGN_KEY,
    as_of: _dt.date | str | None = None,
) -> DrawContext:
    """Validate the tiers frame and prepare items, caps, targets, history, capacity.

    ``dataset.entities`` is read only to skip the duplicate check of a tiers
    frame that lists exactly the entities, and for the shared-address
    criterion of a targeted draw; the entities themselves go through
    :func:`~creditsup.sampling.eligibility.eligible_pools`, slice by slice.
    ``as_of`` (default: ``tiers.attrs["as_of"]``, which
    :func:`creditsup.tiers.assign_tiers` sets) is the scoring date: an entity
    established after it that has no tier is a new entity (C5).

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_draw_inputs
    >>> ds, tiers = tiny_draw_inputs()
    >>> ctx = build_context(ds, tiers, SamplingPolicy(), 2027)
    >>> ctx.groups, ctx.departments, ctx.base_pi[:, 3].tolist()
    (['G'], ['food', 'market'], [0.7, 0.7])
    >>> ctx.visit_groups, ctx.item_vgroup.tolist()  # one door per entity (R14)
    (['visit'], [0, 0])
    """
    tt = tier_table(tiers, dataset.entities, hash_key)
    items = dataset.items.sort_values("item_id", kind="stable").reset_index(drop=True)
    item_ids = items["item_id"].astype(str).tolist()
    departments = sorted({str(d) for d in items["department"]})
    groups_of_item = [
        f"dept:{d}" if (pd.isna(g) or str(g).strip() == "") else str(g).strip()
        for d, g in zip(items["department"], items["joint_group"], strict=True)
    ]
    groups = sorted(set(groups_of_item))
    warnings: list[dict[str, Any]] = []
    unknown_fixed = sorted(set(policy.fixed_counts) - set(item_ids))
    if unknown_fixed:
        warnings.append(
            {
                "code": "unknown_fixed_count_item",
                "message": "fixed_counts names unknown item(s): "
                + ", ".join(unknown_fixed),
            }
        )
    publicity = _publicity(items, policy)
    vgroups, item_vgroup, vmonths = visit_groups(
        items, policy, groups_of_item, publicity
    )
    targets, t_warnings = build_targets(
        dataset, policy, item_ids, publicity, year, hash_key
    )
    base_pi, ks_pi, clamped = item_ratios(items, policy)
    caps = [policy.cap_of(t) for t in TIERS]
    hist = dataset.history
    cap, unit = capacity(dataset.inspectors, departments, policy.months)
    return DrawContext(
        policy=policy,
        year=year,
        hash_key=hash_key,
        items=items,
        item_ids=np.array(item_ids, dtype=object),
        departments=departments,
        groups=groups,
        item_group=np.array([groups.index(g) for g in groups_of_item], dtype=np.int64),
        item_dept=np.array(
            [departments.index(str(d)) for d in items["department"]], dtype=np.int64
        ),
        item_key=(items["kind"] == "key").to_numpy(dtype=bool),
        item_publicity=publicity,
        item_expertise=_expertise_codes(items),
        visit_groups=vgroups,
        item_vgroup=item_vgroup,
        vgroup_months=vmonths,
        base_pi=base_pi,
        ks_pi=ks_pi,
        cap_by_code=np.array(
            [NO_CAP if c is None else int(c) for c in caps] + [NO_CAP], dtype=np.int64
        ),
        recent_days=np.array([policy.recent_days(d) for d in departments], np.int64),
        tiers=tt,
        history=history_table(hist, policy, year, departments, hash_key)
        if len(hist)
        else None,
        capacity=cap,
        unit_capacity=unit,
        targets=targets,
        as_of=_as_of(tiers, as_of),
        warnings=warnings + t_warnings,
        ledger=[{"step": "ceiling", "clamped": clamped}] if clamped else [],
    )
