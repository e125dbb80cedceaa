"""A realistic synthetic district to try the library on.

:func:`synthetic_tables` builds the six raw tables of the data contract
(``contract.md`` §1) for a synthetic market-supervision district modelled on
Xinzhou (忻州市, Shanxi): its 15 county-level divisions, individual businesses
as the majority, GB/T 4754-2017 industries, ten checking departments with a
44-item check list, an inspector pool and a few years of credit records and
past inspections. :func:`synthetic_district` validates them into a
:class:`~creditsup.schemas.Dataset`.

How the data hang together
--------------------------
Every entity has a hidden, standard-normal *latent risk* ``s``, built from
its type, industry, age, capital, relationships (a shared legal
representative, a cluster-registration address) and noise. Every credit record
and every inspection outcome is drawn with a rate that rises (or, for honours,
falls) with ``s``, so that a sensible scorecard recovers roughly 20 / 60 / 15
/ 5 % of entities in tiers A-D, and the problem rate of past inspections rises
with the tier. The records are consistent with each other: missing annual
reports put entities on the abnormal list, three unrestored years there move
enterprises to the serious-illegal list (R21, domain §c), inspections that
found the entity unreachable list it as abnormal (R20), and problems found
produce ``check_problem`` records and sometimes penalties.

Dates: all facts are dated on or before 31 March of ``year`` (the
*snapshot*), as if the annual plan of ``year`` were drawn in April. Credit
records cover ``max(5, history_years)`` years before ``year``; history covers
``history_years`` full years plus January to March of ``year``.

Units and codes: ``registered_capital`` is in yuan (CNY); ``severity`` of a
penalty is an ordinal 1 (minor: 3-month publicity, R21), 2 (ordinary) or 3
(serious, may lead to the serious-illegal list); ``value`` holds the tax level
for ``tax_credit``, the report year for annual-report records, the honour for
``honor`` and the inspection result for ``check_problem``; ``source`` is a
department id (or ``12315`` for complaints).

Relationships: about 4 % of entities belong to groups sharing one legal
representative (always in one region, often at one address), and some
enterprises sit at cluster-registration addresses with ~20 firms each (C2).
Names of people are drawn from common surnames, so unrelated entities may
share a ``legal_rep`` name too: key relationships on ``(legal_rep, region)``.
The latent risk itself is hidden unless ``include_latent=True``
(``entities._latent_risk``).

All randomness flows from the seed string through
:func:`creditsup._random.stage_rng`, one stream per part, so the output is
identical for identical arguments. Everything is vectorised: one million
entities take about ten seconds.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from creditsup import _synth_catalog as cat
from creditsup import uscc as _uscc
from creditsup._random import stage_rng
from creditsup.schemas import TRIGGERS, Dataset, DateWindow, validate_dataset

__all__ = [
    "ENTITY_TYPE_SHARES",
    "min_inspectors",
    "synthetic_district",
    "synthetic_tables",
    "write_synthetic_district",
]

logger = logging.getLogger(__name__)

IntArr = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.float64]
BoolArr = npt.NDArray[np.bool_]
ObjArr = npt.NDArray[np.object_]

#: Entity-type shares (individual businesses are the majority).
ENTITY_TYPE_SHARES: dict[str, float] = {
    "individual": 0.675,
    "enterprise": 0.28,
    "cooperative": 0.025,
    "other": 0.02,
}
_TYPES = tuple(ENTITY_TYPE_SHARES)
_IND, _ENT, _COOP, _OTHER = range(4)
#: Tier mix used to turn per-item tier ratios into an expected ratio.
_TIER_MIX = np.array([0.20, 0.60, 0.15, 0.05])
#: Departments per visit on average (joint visits), for capacity planning.
_JOINT_FACTOR = 1.25
_NAT = np.iinfo(np.int64).min
_EPOCH = np.datetime64("1970-01-01", "D")
_FOOD_PREFIXES = ("A03", "C13", "C14", "C15", "F51", "F521", "F522")
_PROBLEMS = (
    "problem_corrected",
    "not_published",
    "false_info",
    "unreachable",
    "refused",
)
_PROBLEM_P = np.array([0.60, 0.12, 0.06, 0.16, 0.06])
_TRIGGERS = TRIGGERS
_MONTHS = np.array([str(i) for i in range(13)], dtype=object)


# --------------------------------------------------------------------------- #
# small vectorised helpers
# --------------------------------------------------------------------------- #
def _day(y: int, m: int, d: int) -> int:
    return int((np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D") - _EPOCH).astype(int))


def _add_months(days: IntArr, months: int) -> IntArr:
    """Calendar month arithmetic on day numbers (day clamped to month end)."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    nm = m + np.timedelta64(months, "M")
    start = nm.astype("datetime64[D]")
    length = ((nm + np.timedelta64(1, "M")).astype("datetime64[D]") - start).astype(
        np.int64
    )
    out = (start + np.minimum(dom, length - 1)).astype(np.int64)
    return np.asarray(out, dtype=np.int64)


def _weekday(days: IntArr) -> IntArr:
    """Move Saturdays back to Friday and Sundays on to Monday."""
    wd = (days + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    return np.asarray(days - (wd == 5) + (wd == 6), dtype=np.int64)


def _dates(days: IntArr) -> npt.NDArray[np.datetime64]:
    out = days.astype("datetime64[D]").astype("datetime64[us]")
    return np.asarray(out)


def _mult(s: FloatArr, gamma: float) -> FloatArr:
    """Mean-preserving risk multiplier ``exp(gamma*s - gamma**2/2)``."""
    return np.asarray(np.exp(gamma * s - gamma * gamma / 2.0), dtype=np.float64)


def _sigmoid(x: FloatArr) -> FloatArr:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _pick(table: list[str] | tuple[str, ...], idx: IntArr) -> ObjArr:
    return np.asarray(np.array(table, dtype=object)[idx], dtype=object)


def _choice(rng: np.random.Generator, p: FloatArr, size: int) -> IntArr:
    p = np.asarray(p, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    idx = np.searchsorted(cum, rng.random(size), side="right")
    return np.minimum(idx, len(p) - 1).astype(np.int64)


def _row_choice(rng: np.random.Generator, weights: FloatArr) -> IntArr:
    """One weighted choice per row of ``weights`` (rows with zero weight: -1)."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    u = rng.random(len(weights)) * total
    idx = (cum <= u[:, None]).sum(axis=1).astype(np.int64)
    return np.where(total > 0, np.minimum(idx, weights.shape[1] - 1), -1)


def _events(
    rng: np.random.Generator, rate: FloatArr, start: IntArr, end: IntArr
) -> tuple[IntArr, IntArr]:
    """Poisson events per entity over ``[start, end)`` days: (entity, day)."""
    span = np.clip(end - start, 0, None)
    k = rng.poisson(np.clip(rate, 0, None) * span / 365.25)
    ent = np.repeat(np.arange(len(rate), dtype=np.int64), k)
    day = start[ent] + np.floor(rng.random(len(ent)) * span[ent]).astype(np.int64)
    return ent, day


_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def _take(table: list[str] | tuple[str, ...] | ObjArr, idx: IntArr) -> Any:
    """``table[idx]`` as an Arrow string array (fast, no Python objects)."""
    return pa.array(list(table), type=pa.large_string()).take(pa.array(idx))


def _lit(x: Any) -> Any:
    return (
        pa.scalar(x, type=pa.large_string()) if x is None or isinstance(x, str) else x
    )


def _join(*parts: Any) -> Any:
    """Element-wise concatenation of Arrow string arrays (or str scalars)."""
    return pc.binary_join_element_wise(*[_lit(p) for p in parts], _lit(""))


def _if(cond: BoolArr, a: Any, b: Any) -> Any:
    """Arrow ``where``: ``a`` where ``cond`` else ``b`` (arrays or str scalars)."""
    return pc.if_else(pa.array(np.asarray(cond, dtype=bool)), _lit(a), _lit(b))


def _text(arr: Any) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (zero copy)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pd.Series(
        arr.cast(pa.large_string()).to_pandas(
            types_mapper={pa.large_string(): _STR}.get
        )
    )


def _assemble(parts: list[tuple[IntArr, Any]], n: int) -> Any:
    """Scatter per-subset Arrow arrays back to positions ``0..n-1``."""
    idx = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    if not parts:
        return pa.array([], type=pa.large_string())
    joined = pa.concat_arrays([p[1].cast(pa.large_string()) for p in parts])
    inverse = np.empty(n, dtype=np.int64)
    inverse[idx] = np.arange(len(idx))
    return joined.take(pa.array(inverse))


def _names(rng: np.random.Generator, n: int) -> Any:
    """Plausible Chinese personal names (surname + 1-2 given characters)."""
    sur = [s for s, _ in cat.SURNAMES]
    w = np.array([f for _, f in cat.SURNAMES])
    given = [*dict.fromkeys(cat.GIVEN_CHARS), ""]
    g1 = rng.integers(0, len(given) - 1, n)
    g2 = np.where(
        rng.random(n) < 0.92, rng.integers(0, len(given) - 1, n), len(given) - 1
    )
    return _join(_take(sur, _choice(rng, w, n)), _take(given, g1), _take(given, g2))


def _trade_names(rng: np.random.Generator, n: int) -> Any:
    chars = list(dict.fromkeys(cat.TRADE_CHARS))
    return _join(
        _take(chars, rng.integers(0, len(chars), n)),
        _take(chars, rng.integers(0, len(chars), n)),
    )


def _codes_mask(ind: IntArr, codes: list[str] | tuple[str, ...]) -> BoolArr:
    """Which entities' industry code is one of ``codes``."""
    table = np.array([i.code in codes for i in cat.INDUSTRIES])
    return np.asarray(table[ind], dtype=bool)


def _matches(codes: ObjArr, spec: str) -> BoolArr:
    """Which codes a ``;``-list of prefixes (or ``*``) covers."""
    if spec.strip() == "*":
        return np.ones(len(codes), dtype=bool)
    prefixes = tuple(p.strip() for p in spec.split(";") if p.strip())
    return np.array([str(c).startswith(prefixes) for c in codes], dtype=bool)


# --------------------------------------------------------------------------- #
# static tables
# --------------------------------------------------------------------------- #
_DEPT_NAMES = {d.id: d.name for d in cat.DEPARTMENTS}


def _items_frame() -> pd.DataFrame:
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
            "department_name": _DEPT_NAMES[it.department],
        }
        for t, r in zip("ABCD", it.ratios, strict=True):
            row[f"ratio_{t}"] = np.nan if r is None else float(r)
        row["ratio_E"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _dept_fields() -> dict[str, list[str]]:
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
    return sum(max(2, len(f)) for f in _dept_fields().values())


@dataclass(frozen=True)
class _Scope:
    """Which items and departments apply to each (type, industry) combination."""

    combo: IntArr  # per entity: combo index
    types: IntArr  # per combo
    inds: IntArr  # per combo
    items: BoolArr  # items x combos
    depts: BoolArr  # combos x departments


def _scope(etype: IntArr, ind: IntArr) -> _Scope:
    n_ind = len(cat.INDUSTRIES)
    key = etype * n_ind + ind
    uniq, combo = np.unique(key, return_inverse=True)
    ctypes = (uniq // n_ind).astype(np.int64)
    cinds = (uniq % n_ind).astype(np.int64)
    codes = _pick([i.code for i in cat.INDUSTRIES], cinds)
    tnames = _pick(list(_TYPES), ctypes)
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
    return _Scope(combo.astype(np.int64), ctypes, cinds, items, depts)


# --------------------------------------------------------------------------- #
# entities
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class _Entities:
    frame: pd.DataFrame
    usccs: ObjArr
    uscc_pa: Any  # the same codes as an Arrow array
    etype: IntArr
    ind: IntArr
    region: IntArr
    established: IntArr
    key_supervision: BoolArr
    s: FloatArr  # standardised latent risk
    dormant: BoolArr


def _unique_usccs(rng: np.random.Generator, at: ObjArr, region_code: ObjArr) -> ObjArr:
    n = len(at)
    codes = _uscc.generate(n, rng=rng, authority_type=at, region=region_code)
    for _ in range(100):
        h = pd.util.hash_array(codes, categorize=False)
        dup = pd.Series(h).duplicated().to_numpy()
        if not dup.any():
            break
        codes[dup] = _uscc.generate(
            int(dup.sum()), rng=rng, authority_type=at[dup], region=region_code[dup]
        )
    return codes


def _entities(seed: str, n: int, year: int) -> _Entities:
    snap = _day(year, 3, 31)
    inds = cat.INDUSTRIES
    regs = cat.REGIONS
    rng = stage_rng(seed, "synth", "entities")
    etype = _choice(rng, np.array(list(ENTITY_TYPE_SHARES.values())), n)
    weights = np.array([i.weights for i in inds], dtype=np.float64)
    ind = np.zeros(n, dtype=np.int64)
    for t in range(4):
        m = etype == t
        ind[m] = _choice(rng, weights[:, t], int(m.sum()))
    region = _choice(rng, np.array([r.weight for r in regs]), n)
    n_towns = np.array([len(r.towns) for r in regs])
    town = np.floor(rng.random(n) * n_towns[region]).astype(np.int64)

    # establishment: truncated exponential ages, skewed recent
    mean_y = np.array([5.5, 8.0, 6.0, 15.0])[etype]
    coop_max = (snap - _day(2007, 7, 1)) / 365.25
    max_y = np.array([30.0, 35.0, coop_max, 45.0])[etype]
    u = rng.random(n)
    age = -mean_y * np.log1p(-u * (1.0 - np.exp(-max_y / mean_y)))
    established = snap - np.floor(age * 365.25).astype(np.int64) - 1

    # registered capital (yuan)
    z = rng.standard_normal(n)
    sect = np.array([i.code[0] for i in inds])[ind]
    big = np.isin(sect, ["E", "K", "D"]) | _codes_mask(ind, ("L7212",))
    cap = np.exp(
        np.select(
            [etype == _ENT, etype == _IND, etype == _COOP],
            [np.log(1e6) + 1.3 * z + 1.5 * big, np.log(5e4) + 1.0 * z, np.log(5e5) + z],
            np.log(2e6) + z,
        )
    )
    cap = np.round(cap, -3)
    cap[(etype == _IND) & (rng.random(n) < 0.4)] = np.nan
    cap[(etype == _OTHER) & (rng.random(n) < 0.5)] = np.nan

    # relationships: legal-representative groups and cluster addresses
    grng = stage_rng(seed, "synth", "groups")
    eligible = np.flatnonzero(etype <= _ENT)
    n_members = round(0.04 * n)
    sizes = 2 + grng.poisson(1.2, size=max(1, n_members // 2))
    sizes = sizes[np.cumsum(sizes) <= min(n_members, len(eligible))]
    members = grng.permutation(eligible)[: int(sizes.sum())]
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    leader_of = np.arange(n)
    leader_of[members] = np.repeat(members[first], sizes) if len(sizes) else members
    share_addr = np.zeros(n, dtype=bool)
    share_addr[members] = np.repeat(grng.random(len(sizes)) < 0.4, sizes)
    in_group = np.zeros(n, dtype=bool)
    in_group[members] = True  # related entities are local: the leader's region
    region = np.where(in_group, region[leader_of], region)
    town = np.where(share_addr, town[leader_of], town % n_towns[region])
    group_eff = np.zeros(n)
    group_eff[members] = np.repeat(0.7 + 0.5 * grng.standard_normal(len(sizes)), sizes)

    clustered = _codes_mask(
        ind, ("L7212", "L7251", "L7259", "I6510", "I6531", "F5292", "K7030")
    )
    p_cluster = np.where(etype == _ENT, np.where(clustered, 0.06, 0.006), 0.0)
    in_cluster = (grng.random(n) < p_cluster) & ~share_addr
    per_region = np.bincount(region[in_cluster], minlength=len(regs))
    k_region = np.maximum(1, np.round(per_region / 20)).astype(np.int64)
    slot = np.floor(grng.random(n) * k_region[region]).astype(np.int64)
    cluster = np.where(in_cluster, region * 1000 + slot, -1)

    # USCCs: authority/type prefix by entity type, region of registration
    codes = np.array([i.code for i in inds])
    other_at = np.where(_codes_mask(ind, ("P8310", "P8391")), "52", "12")
    at = np.select(
        [etype == _IND, etype == _ENT, etype == _COOP], ["92", "91", "93"], other_at
    ).astype(object)
    region_code = np.array([r.code for r in regs], dtype=object)[region]
    usccs = _unique_usccs(stage_rng(seed, "synth", "uscc"), at, region_code)

    # names
    nrng = stage_rng(seed, "synth", "names")
    town_tab = [t for r in regs for t in r.towns]
    town_off = np.concatenate([[0], np.cumsum(n_towns)[:-1]]).astype(np.int64)
    trade = _trade_names(nrng, n)
    sur = _take(
        [x for x, _ in cat.SURNAMES],
        _choice(nrng, np.array([f for _, f in cat.SURNAMES]), n),
    )
    stem_kind = np.searchsorted([0.6, 0.78, 0.94], nrng.random(n), side="right")
    ent_prefix = nrng.random(n) < 0.85
    ent_suffix = np.searchsorted([0.88, 0.98], nrng.random(n), side="right")
    use_town = np.array([i.other.startswith("@") for i in inds])[ind]
    parts: list[tuple[IntArr, Any]] = []
    for t in range(4):
        idx = np.flatnonzero(etype == t).astype(np.int64)
        if not len(idx):
            continue
        r_i, i_i, tw_i = region[idx], ind[idx], town_off[region[idx]] + town[idx]
        rname = _take([r.name for r in regs], r_i)
        if t == _IND:
            core = _if(stem_kind[idx] == 0, trade.take(idx), sur.take(idx))
            stem = _join(
                _take(["", "", "老", "小"], stem_kind[idx]),
                core,
                _take(["", "记", "", ""], stem_kind[idx]),
            )
            name = _join(rname, stem, _take([i.shop for i in inds], i_i))
        elif t == _ENT:
            prefix = _if(ent_prefix[idx], _take([r.city for r in regs], r_i), "山西")
            name = _join(
                prefix,
                trade.take(idx),
                _take([i.biz for i in inds], i_i),
                _take(["有限公司", "有限责任公司", "股份有限公司"], ent_suffix[idx]),
            )
        elif t == _COOP:
            name = _join(
                rname,
                _take(town_tab, tw_i),
                trade.take(idx),
                _take([i.coop for i in inds], i_i),
                "专业合作社",
            )
        else:
            middle = _if(use_town[idx], _take(town_tab, tw_i), trade.take(idx))
            name = _join(rname, middle, _take([i.other.lstrip("@") for i in inds], i_i))
        parts.append((idx, name))
    name = _assemble(parts, n)

    # addresses (some shared: related entities, cluster registrations)
    arng = stage_rng(seed, "synth", "addresses")
    num = [str(i) for i in range(1000)]
    kind = np.where(arng.random(n) < 0.45, 0, np.where(etype == _ENT, 1, 2))
    suffix = _if(
        kind == 1,
        _join(
            _take(num, arng.integers(1, 30, n)),
            "号楼",
            _take(num, arng.integers(101, 999, n)),
            "室",
        ),
        _if(kind == 2, _join("附", _take(num, arng.integers(1, 40, n)), "号"), ""),
    )
    address = _join(
        _take([r.name for r in regs], region),
        _take(town_tab, town_off[region] + town),
        _take(cat.ROADS, arng.integers(0, len(cat.ROADS), n)),
        _take(num, arng.integers(1, 400, n)),
        "号",
        suffix,
    ).take(pa.array(np.where(share_addr, leader_of, np.arange(n))))
    if in_cluster.any():
        cids, inv = np.unique(cluster[in_cluster], return_inverse=True)
        crng = stage_rng(seed, "synth", "clusters")
        k = len(cids)
        creg = (cids // 1000).astype(np.int64)
        ctown = np.floor(crng.random(k) * n_towns[creg]).astype(np.int64)
        caddr = _join(
            _take([r.name for r in regs], creg),
            _take(town_tab, town_off[creg] + ctown),
            _take(cat.ROADS, crng.integers(0, len(cat.ROADS), k)),
            _take(num, crng.integers(1, 300, k)),
            "号",
            _take(
                cat.CLUSTER_BUILDINGS, crng.integers(0, len(cat.CLUSTER_BUILDINGS), k)
            ),
        )
        pos = np.zeros(n, dtype=np.int64)
        pos[in_cluster] = inv
        address = _if(in_cluster, caddr.take(pa.array(pos)), address)
    address = _if(arng.random(n) < 0.002, None, address)
    legal_rep = _names(stage_rng(seed, "synth", "legal_rep"), n).take(
        pa.array(leader_of)
    )
    legal_rep = _if(arng.random(n) < 0.003, None, legal_rep)

    # latent risk
    lrng = stage_rng(seed, "synth", "latent")
    age_y = (snap - established) / 365.25
    raw = (
        np.array([0.0, 0.05, 0.35, -0.7])[etype]
        + np.array([i.risk for i in inds])[ind]
        + np.select([age_y < 1, age_y < 3, age_y < 10], [0.35, 0.15, 0.0], -0.25)
        + np.where((etype == _ENT) & (cap < 1e5), 0.15, 0.0)
        + group_eff
        + 0.5 * in_cluster
        + 0.75 * lrng.standard_normal(n)
        # a heavy tail: a few bad actors cause most violations
        + 1.6 * (lrng.random(n) < 0.045)
    )
    sd = float(raw.std()) if n > 1 else 1.0
    s = (raw - float(raw.mean())) / (sd if sd > 0 else 1.0)
    p_dormant = 0.025 * _mult(s, 0.8) * np.where(age_y > 3, 1.5, 0.5)
    dormant = lrng.random(n) < np.clip(p_dormant, 0, 0.5)
    keyp = np.where(np.array([i.key for i in inds])[ind], 0.85, 0.004)
    key_sup = lrng.random(n) < keyp

    uscc_pa = pa.array(usccs, type=pa.large_string())
    frame = pd.DataFrame(
        {
            "uscc": _text(uscc_pa),
            "name": _text(name),
            "entity_type": _text(_take(list(_TYPES), etype)),
            "industry": _text(_take(list(codes), ind)),
            "region": _text(_take([r.code for r in regs], region)),
            "established": _dates(established),
            "status": "active",
            "key_supervision": key_sup,
            "registered_capital": cap,
            "address": _text(address),
            "legal_rep": _text(legal_rep),
        }
    )
    return _Entities(
        frame, usccs, uscc_pa, etype, ind, region, established, key_sup, s, dormant
    )


# --------------------------------------------------------------------------- #
# credit records
# --------------------------------------------------------------------------- #
class _Records:
    """Collects record parts as arrays and builds the frame once."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(
        self,
        kind: str,
        ent: IntArr,
        date: IntArr,
        *,
        end: IntArr | None = None,
        restored: IntArr | None = None,
        severity: FloatArr | None = None,
        value: Any = None,
        source: Any = None,
    ) -> None:
        """Add ``len(ent)`` records; ``value``/``source`` are a str, None or an
        array (numpy object or Arrow) of strings."""
        m = len(ent)
        if m == 0:
            return
        nat = np.full(m, _NAT, dtype=np.int64)
        self.parts.append(
            {
                "ent": np.asarray(ent, dtype=np.int64),
                "kind": kind,
                "date": np.asarray(date, dtype=np.int64),
                "end": nat if end is None else end,
                "restored": nat if restored is None else restored,
                "severity": np.full(m, np.nan) if severity is None else severity,
                "value": _const(value, m),
                "source": _const(source, m),
            }
        )

    def frame(self, uscc_pa: Any) -> pd.DataFrame:
        if not self.parts:
            empty = np.zeros(0, dtype=np.int64)
            text = pa.array([], type=pa.large_string())
            return pd.DataFrame(
                {
                    "uscc": _text(text),
                    "kind": _text(text),
                    "date": _dates(empty),
                    "end_date": _dates(empty),
                    "restored_on": _dates(empty),
                    "severity": np.zeros(0),
                    "value": _text(text),
                    "source": _text(text),
                }
            )
        ent = np.concatenate([p["ent"] for p in self.parts])
        kinds = [p["kind"] for p in self.parts]
        kind_idx = np.repeat(np.arange(len(kinds)), [len(p["ent"]) for p in self.parts])
        return pd.DataFrame(
            {
                "uscc": _text(uscc_pa.take(pa.array(ent))),
                "kind": _text(_take(kinds, kind_idx)),
                "date": _dates(np.concatenate([p["date"] for p in self.parts])),
                "end_date": _dates(np.concatenate([p["end"] for p in self.parts])),
                "restored_on": _dates(
                    np.concatenate([p["restored"] for p in self.parts])
                ),
                "severity": np.concatenate([p["severity"] for p in self.parts]),
                "value": _text(pa.concat_arrays([p["value"] for p in self.parts])),
                "source": _text(pa.concat_arrays([p["source"] for p in self.parts])),
            }
        )


def _const(value: Any, m: int) -> Any:
    """A string column of length ``m`` as an Arrow array."""
    if value is None:
        return pa.nulls(m, type=pa.large_string())
    if isinstance(value, str):
        return _take([value], np.zeros(m, dtype=np.int64))
    if isinstance(value, pa.Array):
        return value.cast(pa.large_string())
    return pa.array(np.asarray(value, dtype=object), type=pa.large_string())


def _restore(
    rng: np.random.Generator,
    date: IntArr,
    p: FloatArr,
    delay: float,
    mean: float,
    snap: int,
) -> IntArr:
    """Restoration dates (NaT when not restored by the snapshot)."""
    m = len(date)
    when = date + int(delay) + np.floor(rng.exponential(mean, m)).astype(np.int64)
    ok = (rng.random(m) < p) & (when <= snap)
    return np.where(ok, when, _NAT)


def _dept_source(
    rng: np.random.Generator, ent: IntArr, scope: _Scope, market: float
) -> ObjArr:
    """A plausible issuing department for records of ``ent``."""
    ids = [d.id for d in cat.DEPARTMENTS]
    w = scope.depts[scope.combo[ent]].astype(np.float64)
    w[:, ids.index("market")] += market  # the market department issues most
    w[:, ids.index("tax")] *= 0.3  # fewer tax-department decisions
    idx = _row_choice(rng, w)
    return _pick([d.id for d in cat.DEPARTMENTS], np.maximum(idx, 0))


def _records(
    seed: str, ents: _Entities, scope: _Scope, year: int, span: int, rec: _Records
) -> None:
    n = len(ents.s)
    s, etype, dormant = ents.s, ents.etype, ents.dormant
    snap = _day(year, 3, 31)
    w0 = _day(year - span, 1, 1)
    start = np.maximum(ents.established, w0)
    end = np.full(n, snap + 1, dtype=np.int64)
    inds = cat.INDUSTRIES

    # penalties (R21: minor ones publicised 3 months, others 3 years)
    rng = stage_rng(seed, "synth", "records", "penalty")
    rate = (
        0.018
        * np.array([0.8, 1.3, 0.5, 0.3])[etype]
        * _mult(s, 1.3)
        * np.where(dormant, 0.3, 1.0)
    )
    ent, day = _events(rng, rate, start, end)
    u = rng.random(len(ent))
    p1 = np.clip(0.45 - 0.1 * s[ent], 0.15, 0.7)
    sev = np.where(
        u < p1, 1.0, np.where(u < 0.9 + 0.01 * np.clip(s[ent], -2, 5), 2.0, 3.0)
    )
    pend = np.where(sev == 1, _add_months(day, 3), _add_months(day, 36))
    restored = _restore(rng, day, np.where(sev == 2, 0.2, 0.0), 365, 200, snap)
    restored = np.where(restored < pend, restored, _NAT)
    rec.add(
        "penalty",
        ent,
        day,
        end=pend,
        restored=restored,
        severity=sev,
        source=_dept_source(rng, ent, scope, 2.0),
    )
    serious = sev == 3
    si_from_penalty = (ent[serious], day[serious])

    # complaints (12315)
    rng = stage_rng(seed, "synth", "records", "complaint")
    cm = np.array([i.complaints for i in inds])[ents.ind]
    rate = 0.045 * cm * np.array([1.0, 1.2, 0.3, 0.5])[etype] * _mult(s, 1.0)
    ent, day = _events(rng, rate, start, end)
    rec.add("complaint", ent, day, source="12315")

    # honours (low risk only)
    rng = stage_rng(seed, "synth", "records", "honor")
    rate = np.array([0.004, 0.012, 0.006, 0.0])[etype] * _mult(s, -1.8) * ~dormant
    ent, day = _events(rng, rate, start, end)
    hon = np.where(
        etype[ent] == _ENT,
        cat.HONORS[0],
        _pick(cat.HONORS[1:], rng.integers(0, len(cat.HONORS) - 1, len(ent))),
    ).astype(object)
    rec.add("honor", ent, day, end=_add_months(day, 24), value=hon, source="market")

    # broken credit commitments
    rng = stage_rng(seed, "synth", "records", "commitment")
    ent, day = _events(rng, 0.002 * _mult(s, 1.6), start, end)
    rec.add("commitment_broken", ent, day, source=_dept_source(rng, ent, scope, 1.0))

    # failed product sampling
    rng = stage_rng(seed, "synth", "records", "sampling")
    sampled = np.array([i.sampled for i in inds])[ents.ind]
    ent, day = _events(rng, 0.012 * sampled * _mult(s, 1.0), start, end)
    food = np.array(
        [str(c).startswith(_FOOD_PREFIXES) for c in np.array([i.code for i in inds])]
    )
    src = np.where(food[ents.ind[ent]], "food", "quality").astype(object)
    rec.add("product_sampling_failed", ent, day, value=None, source=src)

    # annual reports (due 30 June for the previous year) and the abnormal list
    rng = stage_rng(seed, "synth", "records", "annual_report")
    years = np.arange(year - span - 1, year - 1)
    due = np.array([_day(int(y) + 1, 6, 30) for y in years])
    year_end = np.array([_day(int(y), 12, 31) for y in years])
    must = (ents.established[:, None] <= year_end[None, :]) & (etype != _OTHER)[:, None]
    p_miss = np.clip(np.array([0.085, 0.065, 0.15, 0.0])[etype] * _mult(s, 1.4), 0, 0.7)
    p_miss = np.where(dormant, 0.85, p_miss)
    p_late = np.clip(0.08 * _mult(s, 0.9), 0, 0.4)
    u = rng.random(must.shape)
    missing = must & (u < p_miss[:, None])
    late = must & ~missing & (u < (p_miss + p_late)[:, None])
    ent, yi = np.nonzero(missing)
    ent = ent.astype(np.int64)
    rec.add(
        "annual_report_missing",
        ent,
        due[yi] + 1,
        value=years[yi].astype(str).astype(object),
        source="market",
    )
    lent, lyi = np.nonzero(late)
    lday = due[lyi] + 1 + rng.integers(1, 180, len(lent))
    keep = lday <= snap
    rec.add(
        "annual_report_late",
        lent[keep].astype(np.int64),
        lday[keep],
        value=years[lyi[keep]].astype(str).astype(object),
        source="market",
    )
    listed = rng.random(len(ent)) < np.where(etype[ent] == _IND, 0.75, 0.9)
    aent = ent[listed]
    aday = _weekday(due[yi[listed]] + 1 + rng.integers(0, 45, len(aent)))
    p_rest = np.clip(0.6 * np.exp(-0.6 * s[aent]), 0, 0.95) * ~dormant[aent]
    arest = _restore(rng, aday, p_rest, 15, 150, snap)
    keep = aday <= snap
    rec.add(
        "abnormal_list", aent[keep], aday[keep], restored=arest[keep], source="market"
    )

    # three unrestored years on the abnormal list -> serious-illegal list (enterprises)
    sday = _add_months(aday, 36)
    moved = (
        keep
        & (sday <= snap)
        & ((arest == _NAT) | (arest > sday))
        & (etype[aent] != _IND)
        & (rng.random(len(aent)) < 0.6)
    )
    sent = np.concatenate([aent[moved], si_from_penalty[0]])
    sday = np.concatenate(
        [
            sday[moved],
            si_from_penalty[1] + rng.integers(10, 60, len(si_from_penalty[0])),
        ]
    )
    via_penalty = np.arange(len(sent)) >= int(moved.sum())
    pick = ~via_penalty | (rng.random(len(sent)) < 0.2)
    sent, sday = sent[pick], sday[pick]
    keep = sday <= snap
    sent, sday = sent[keep], sday[keep]
    order = np.lexsort((sday, sent))  # once listed, an entity is not listed again
    first = np.unique(sent[order], return_index=True)[1]
    sent, sday = sent[order][first], sday[order][first]
    rec.add(
        "serious_illegal_list",
        sent,
        sday,
        end=_add_months(sday, 36),
        restored=_restore(rng, sday, np.full(len(sent), 0.25), 365, 120, snap),
        source="market",
    )

    # tax credit levels (published each April for the previous tax year)
    rng = stage_rng(seed, "synth", "records", "tax_credit")
    rated = rng.random(n) < np.array([0.15, 1.0, 0.6, 0.0])[etype]
    e_noise = 0.5 * rng.standard_normal(n)
    cuts = np.array([-0.74, 0.88, 1.645]) * np.sqrt(1 + 0.25 + 0.16)
    for k in (3, 2, 1):
        pub = _day(year - k, 4, 20) + int(rng.integers(0, 10))
        if pub < w0:
            continue
        tax_year_start = _day(year - k - 1, 1, 1)
        idx = np.flatnonzero(rated & (ents.established < pub))
        t = s[idx] + e_noise[idx] + 0.4 * rng.standard_normal(len(idx))
        lvl = np.array(["A", "B", "C", "D"], dtype=object)[np.searchsorted(cuts, t)]
        new = (ents.established[idx] >= tax_year_start) | dormant[idx]
        lvl = np.where(new, "M", lvl).astype(object)
        day = np.full(len(idx), pub, dtype=np.int64)
        rec.add(
            "tax_credit",
            idx.astype(np.int64),
            day,
            end=_add_months(day, 12),
            value=lvl,
            source="tax",
        )


# --------------------------------------------------------------------------- #
# inspectors and conflicts
# --------------------------------------------------------------------------- #
def _largest_remainder(total: int, weights: FloatArr) -> IntArr:
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    w = (
        weights / weights.sum()
        if weights.sum() > 0
        else np.full(len(weights), 1 / len(weights))
    )
    raw = total * w
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(raw - base)))
    base[order[:rest]] += 1
    return np.asarray(base, dtype=np.int64)


def _workload(
    scope: _Scope, active: BoolArr, draw_ratio: float
) -> tuple[FloatArr, dict[tuple[str, str], float]]:
    """Expected department checks per year, and per (department, field).

    Items without a ratio override share one base ratio, chosen so that all
    departments together make ``_JOINT_FACTOR * draw_ratio * n_active``
    department checks (a visit involves 1.25 departments on average); the
    overrides (e.g. 100 % of school canteens) come on top.
    """
    counts = np.bincount(scope.combo[active], minlength=scope.items.shape[1]).astype(
        float
    )
    fixed = np.array([all(r is not None for r in it.ratios) for it in cat.ITEMS])
    dept_ids = [d.id for d in cat.DEPARTMENTS]
    rows = {
        dep: [k for k, it in enumerate(cat.ITEMS) if it.department == dep]
        for dep in dept_ids
    }

    def ratios(base: float) -> FloatArr:
        out = [
            float(np.dot(_TIER_MIX, [base if r is None else r for r in it.ratios]))
            for it in cat.ITEMS
        ]
        return np.asarray(out, dtype=np.float64)

    def checks(base: float) -> FloatArr:
        r_item = scope.items * ratios(base)[:, None]
        return np.array(
            [float(np.dot(counts, r_item[rows[d]].max(axis=0))) for d in dept_ids]
        )

    target = _JOINT_FACTOR * draw_ratio * float(counts.sum())
    lo, hi = 0.0, 1.0
    if checks(hi).sum() > target and not fixed.all():
        for _ in range(50):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if checks(mid).sum() < target else (lo, mid)
    base = hi
    r_item = scope.items * ratios(base)[:, None]
    fields: dict[tuple[str, str], float] = {}
    for dep in dept_ids:
        for f in cat.EXPERTISE[dep]:
            frows = [k for k in rows[dep] if cat.ITEMS[k].expertise == f]
            if frows:
                fields[(dep, f)] = float(np.dot(counts, r_item[frows].max(axis=0)))
    return checks(base), fields


def _inspectors(
    seed: str,
    n_insp: int,
    scope: _Scope,
    ents: _Entities,
    active: BoolArr,
    *,
    draw_ratio: float,
    capacity_slack: float,
) -> pd.DataFrame:
    rng = stage_rng(seed, "synth", "inspectors")
    fields = _dept_fields()
    dept_ids = [d.id for d in cat.DEPARTMENTS]
    checks, fload = _workload(scope, active, draw_ratio)
    slots = 2.0 * checks
    core = np.array([max(2, len(fields[d])) for d in dept_ids], dtype=np.int64)
    if n_insp >= core.sum():
        n_dept = core + _largest_remainder(n_insp - int(core.sum()), slots + 1e-9)
    else:  # a deliberately tight pool: no coverage guarantee
        logger.warning(
            "n_inspectors=%d < %d: some departments cannot cover every item's "
            "expertise with two inspectors",
            n_insp,
            int(core.sum()),
        )
        one = min(n_insp, len(dept_ids))  # one each (busiest first), then cores
        first = np.zeros(len(dept_ids), dtype=np.int64)
        first[np.argsort(-slots, kind="stable")[:one]] = 1
        rest = (core - first).astype(np.float64)
        n_dept = first + _largest_remainder(n_insp - one, rest)
    reg_w = np.bincount(ents.region, minlength=len(cat.REGIONS)).astype(float) + 1.0
    rows: list[pd.DataFrame] = []
    for d, dep in enumerate(dept_ids):
        nd, fd = int(n_dept[d]), fields[dep]
        kd = min(int(core[d]), nd)
        if nd == 0:
            continue
        is_core = np.arange(nd) < kd
        f1 = np.zeros(nd, dtype=np.int64)
        f2 = np.full(nd, -1, dtype=np.int64)
        if len(fd) >= 2:
            f1[:kd] = np.arange(kd) % len(fd)
            f2[:kd] = (np.arange(kd) + 1) % len(fd)
        fw = np.array([fload.get((dep, f), 0.0) for f in fd]) + 1e-6
        extra = nd - kd
        if extra and fd:
            f1[kd:] = _choice(rng, fw, extra)
            if len(fd) >= 2:
                second = rng.random(extra) < 0.35
                shift = 1 + np.floor(rng.random(extra) * (len(fd) - 1)).astype(np.int64)
                f2[kd:] = np.where(second, (f1[kd:] + shift) % len(fd), -1)
        ftab = np.array([*fd, ""], dtype=object)
        lo, hi = np.minimum(f1, np.where(f2 < 0, f1, f2)), np.maximum(f1, f2)
        expertise = (
            np.where(f2 < 0, ftab[f1], ftab[lo] + ";" + ftab[hi])
            if fd
            else np.full(nd, "", object)
        )
        act = is_core | (rng.random(nd) >= 0.05)
        u = rng.random(nd)
        m1 = rng.integers(1, 13, nd)
        n_leave = np.where(is_core, 0, np.where(u < 0.55, 0, np.where(u < 0.85, 1, 2)))
        m1 = np.where((n_leave == 2) & (m1 == 12), 11, m1)
        leave = np.where(
            n_leave == 0,
            "",
            np.where(
                n_leave == 1,
                _MONTHS[m1],
                _MONTHS[m1] + ";" + _MONTHS[np.minimum(m1 + 1, 12)],
            ),
        ).astype(object)
        months = (12 - n_leave)[act].sum()
        per_month = capacity_slack * slots[d] / max(int(months), 1)
        cap = np.maximum(2, np.round(per_month * rng.uniform(0.75, 1.25, nd))).astype(
            np.int64
        )
        seat = rng.random(nd) < (0.0 if dep == "market" else 0.4)
        region = np.where(seat, 0, _choice(rng, reg_w, nd))
        rows.append(
            pd.DataFrame(
                {
                    "department": dep,
                    "region": _pick([r.code for r in cat.REGIONS], region),
                    "expertise": expertise.astype(object),
                    "monthly_capacity": cap,
                    "unavailable_months": leave,
                    "active": act,
                    "_code": cat.DEPARTMENTS[d].code,
                }
            )
        )
    df = pd.concat(rows, ignore_index=True)
    k = np.arange(len(df))
    ids = "INS" + pd.Series(k + 1).astype(str).str.zfill(5)
    cert = (
        "1409"
        + df["_code"].astype(str).str.zfill(2)
        + pd.Series(rng.integers(10, 25, len(df))).astype(str)
        + pd.Series(k + 1).astype(str).str.zfill(4)
    )
    return pd.DataFrame(
        {
            "inspector_id": ids.to_numpy(dtype=object),
            "name": _text(_names(rng, len(df))),
            "department": df["department"].to_numpy(dtype=object),
            "region": df["region"].to_numpy(dtype=object),
            "expertise": df["expertise"].to_numpy(dtype=object),
            "monthly_capacity": df["monthly_capacity"].to_numpy(dtype=np.int64),
            "unavailable_months": df["unavailable_months"].to_numpy(dtype=object),
            "certificate_no": cert.to_numpy(dtype=object),
            "active": df["active"].to_numpy(dtype=bool),
        }
    )


def _conflicts(seed: str, insp: pd.DataFrame, ents: _Entities) -> pd.DataFrame:
    rng = stage_rng(seed, "synth", "conflicts")
    n, n_reg = len(ents.s), len(cat.REGIONS)
    if n == 0 or not len(insp):
        return pd.DataFrame(
            {"inspector_id": [], "uscc": [], "reason": []}, dtype=object
        )
    mu = float(np.clip(0.005 * n / n_reg, 3, 30))
    k = rng.poisson(mu, len(insp))
    ins = np.repeat(np.arange(len(insp)), k)
    codes = [r.code for r in cat.REGIONS]
    ireg = pd.Index(codes).get_indexer(pd.Index(insp["region"]))[ins]
    order = np.argsort(ents.region, kind="stable")
    cnt = np.bincount(ents.region, minlength=n_reg)
    off = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    same = (rng.random(len(ins)) < 0.8) & (cnt[ireg] > 0)
    u = rng.random(len(ins))
    ent = np.where(
        same,
        order[np.minimum(off[ireg] + np.floor(u * cnt[ireg]).astype(np.int64), n - 1)],
        np.floor(u * n).astype(np.int64),
    )
    pair = np.unique(ins.astype(np.int64) * n + ent)
    ins, ent = pair // n, pair % n
    reasons = _pick(
        [r for r, _ in cat.CONFLICT_REASONS],
        _choice(rng, np.array([w for _, w in cat.CONFLICT_REASONS]), len(ins)),
    )
    return pd.DataFrame(
        {
            "inspector_id": insp["inspector_id"].to_numpy(dtype=object)[ins],
            "uscc": _text(ents.uscc_pa.take(pa.array(ent))),
            "reason": reasons,
        }
    )


# --------------------------------------------------------------------------- #
# inspection history
# --------------------------------------------------------------------------- #
def _history(
    seed: str,
    ents: _Entities,
    scope: _Scope,
    insp: pd.DataFrame,
    status: ObjArr,
    year: int,
    history_years: int,
    rec: _Records,
) -> pd.DataFrame:
    rng = stage_rng(seed, "synth", "history")
    n = len(ents.s)
    s, dormant = ents.s, ents.dormant
    snap = _day(year, 3, 31)
    key_sup = ents.key_supervision
    rate = np.clip(0.05 * _mult(s, 0.6) * np.where(key_sup, 2.0, 1.0), 0, 0.8)
    rate = rate * scope.depts[scope.combo].any(axis=1)
    start = np.maximum(ents.established + 30, _day(year - history_years, 1, 1))
    ent, day = _events(rng, rate, start, np.full(n, snap + 1, dtype=np.int64))
    day = np.minimum(_weekday(day), snap)
    trig = _choice(rng, np.array([0.84, 0.08, 0.04, 0.03, 0.01]), len(ent))
    # complaint-driven visits for entities with many complaints are more likely
    trig = np.where(
        (trig == 0) & (rng.random(len(ent)) < 0.04 * _mult(s[ent], 1.0)), 1, trig
    )
    w = scope.depts[scope.combo[ent]].astype(np.float64)
    w[:, [d.id for d in cat.DEPARTMENTS].index("market")] *= 2.0
    dept = _row_choice(rng, w)
    # some visits are joint: a second department on the same day
    joint = rng.random(len(ent)) < 0.2
    w2 = w.copy()
    w2[np.arange(len(ent)), np.maximum(dept, 0)] = 0.0
    dept2 = _row_choice(rng, w2)
    joint &= dept2 >= 0
    ent = np.concatenate([ent, ent[joint]])
    day = np.concatenate([day, day[joint]])
    trig = np.concatenate([trig, trig[joint]])
    dept = np.concatenate([dept, dept2[joint]])
    ok = dept >= 0
    ent, day, trig, dept = ent[ok], day[ok], trig[ok], dept[ok]
    m = len(ent)

    # outcome: the problem rate rises with the latent risk
    logit = -2.3 + 1.15 * s[ent] + 0.7 * (trig > 0) + 1.5 * dormant[ent]
    problem = rng.random(m) < _sigmoid(logit)
    kind = _choice(rng, _PROBLEM_P, m)
    kind = np.where(dormant[ent] & (rng.random(m) < 0.6), 3, kind)  # unreachable
    result = np.where(problem, _pick(_PROBLEMS, kind), "normal").astype(object)
    result = np.where(
        ~problem & dormant[ent] & (rng.random(m) < 0.7), "no_activity", result
    )
    gone = np.isin(status[ent], ["deregistered", "revoked"]) & (day > snap - 365)
    result = np.where(gone & (rng.random(m) < 0.5), "deregistered", result).astype(
        object
    )

    # two inspectors of the visiting department
    dcodes = insp["department"].to_numpy(dtype=object)
    ids = insp["inspector_id"].to_numpy(dtype=object)
    dept_ids = [d.id for d in cat.DEPARTMENTS]
    dstart = np.array([int(np.argmax(dcodes == d)) for d in dept_ids])
    dcount = np.array([int((dcodes == d).sum()) for d in dept_ids])
    nd = dcount[dept]
    i1 = np.floor(rng.random(m) * nd).astype(np.int64)
    i2 = (
        i1 + 1 + np.floor(rng.random(m) * np.maximum(nd - 1, 0)).astype(np.int64)
    ) % np.maximum(nd, 1)
    safe = np.where(nd > 0, dstart[dept], 0)
    one = np.where(nd > 0, ids[np.minimum(safe + i1, len(ids) - 1)], "")
    two = ids[np.minimum(safe + i2, len(ids) - 1)]
    inspectors = np.where(nd >= 2, one + ";" + two, one).astype(object)

    dsrc = _pick(dept_ids, dept)
    # follow-up records (R20): problems -> check_problem (and some penalties);
    # unreachable or false information -> abnormal list
    cp = np.isin(
        result, ["problem_corrected", "not_published", "false_info", "refused"]
    )
    cday = _weekday(day + rng.integers(5, 26, m))
    ok = cp & (cday <= snap)
    rec.add("check_problem", ent[ok], cday[ok], value=result[ok], source=dsrc[ok])
    pen = (result == "problem_corrected") & (rng.random(m) < 0.2)
    pday = day + rng.integers(30, 120, m)
    ok = pen & (pday <= snap)
    sev = np.where(rng.random(int(ok.sum())) < 0.4, 1.0, 2.0)
    pdays = pday[ok]
    rec.add(
        "penalty",
        ent[ok],
        pdays,
        end=np.where(sev == 1, _add_months(pdays, 3), _add_months(pdays, 36)),
        severity=sev,
        source=dsrc[ok],
    )
    ab = (result == "unreachable") | ((result == "false_info") & (rng.random(m) < 0.5))
    aday = _weekday(day + rng.integers(7, 21, m))
    ok = ab & (aday <= snap)
    rec.add(
        "abnormal_list",
        ent[ok],
        aday[ok],
        restored=_restore(rng, aday[ok], np.full(int(ok.sum()), 0.3), 30, 120, snap),
        source="market",
    )

    return pd.DataFrame(
        {
            "uscc": _text(ents.uscc_pa.take(pa.array(ent))),
            "date": _dates(day),
            "department": dsrc,
            "result": result,
            "inspector_ids": inspectors.astype(object),
            "trigger": _pick(_TRIGGERS, trig),
        }
    )


def _status(seed: str, ents: _Entities, rec: _Records, year: int) -> ObjArr:
    """Deregistered and revoked entities (zombies and long-abnormal ones)."""
    rng = stage_rng(seed, "synth", "status")
    n = len(ents.s)
    snap = _day(year, 3, 31)
    age_y = (snap - ents.established) / 365.25
    long_abn = np.zeros(n, dtype=bool)
    for p in rec.parts:
        if p["kind"] == "abnormal_list":
            old = (p["restored"] == _NAT) & (p["date"] < snap - 2 * 365)
            long_abn[p["ent"][old]] = True
    p_dereg = (
        0.035
        * np.array([1.3, 0.8, 1.0, 0.1])[ents.etype]
        * np.where(age_y > 5, 1.5, 0.6)
        + 0.3 * ents.dormant
    )
    p_rev = 0.004 * _mult(ents.s, 0.8) + 0.2 * ents.dormant + 0.2 * long_abn
    u = rng.random(n)
    return np.where(
        u < np.clip(p_rev, 0, 0.9),
        "revoked",
        np.where(u < np.clip(p_rev + p_dereg, 0, 0.95), "deregistered", "active"),
    ).astype(object)


# --------------------------------------------------------------------------- #
# public API
# --------------------------------------------------------------------------- #
def _check_args(
    n_entities: int, n_inspectors: int, year: int, history_years: int
) -> None:
    if not isinstance(n_entities, int | np.integer) or n_entities < 1:
        raise ValueError(
            f"The 'n_entities' must be an integer >= 1. Got {n_entities!r} instead."
        )
    if not isinstance(n_inspectors, int | np.integer) or n_inspectors < 1:
        raise ValueError(
            f"The 'n_inspectors' must be an integer >= 1. Got {n_inspectors!r} instead."
        )
    if not 1990 <= year <= 2200:
        raise ValueError(f"The 'year' must be in [1990, 2200]. Got {year!r} instead.")
    if not 0 <= history_years <= 20:
        raise ValueError(
            f"The 'history_years' must be in [0, 20]. Got {history_years!r} instead."
        )


def synthetic_tables(
    n_entities: int = 50_000,
    n_inspectors: int = 100,
    *,
    seed: int | str = 0,
    year: int = 2026,
    history_years: int = 3,
    include_latent: bool = False,
    draw_ratio: float = 0.05,
    capacity_slack: float = 1.6,
) -> dict[str, pd.DataFrame]:
    """The six raw tables of a synthetic district (contract §1 column names).

    Parameters
    ----------
    n_entities : int
        Number of market entities.
    n_inspectors : int
        Number of inspectors across the ten departments, allocated in
        proportion to each department's expected workload. With at least
        :func:`min_inspectors` of them, every expertise an item of a
        department requires is held by two active inspectors of that
        department who are never on leave; a smaller pool is allowed (to build
        deliberately tight instances) but carries no such guarantee.
    seed : int or str
        The seed; identical arguments give identical tables.
    year : int
        The planning year. All facts are dated on or before 31 March of it.
    history_years : int
        Full years of past inspections before ``year``.
    include_latent : bool
        Add the hidden standard-normal risk as the pass-through column
        ``_latent_risk`` of ``entities`` (for tests of scoring).
    draw_ratio : float
        The share of active entities expected to be visited per year (the
        annual plan's overall ratio, ≈ 5 % by default). It only sizes the
        inspectors' ``monthly_capacity``: the expected department checks
        (``1.25 × draw_ratio × active entities``, split over departments by
        their items' scope and per-item ratio overrides) need two inspectors
        each, and the pool's yearly capacity is ``capacity_slack`` times that.
    capacity_slack : float
        Yearly capacity over expected demand (default 1.6: feasible, not
        trivially so). Each inspector's capacity is at least 2 a month.

    Notes
    -----
    Every (department, expertise) pair required by an item has at least two
    active inspectors who are never on leave (a "core" per department, hence
    :func:`min_inspectors`); the rest are drawn in
    proportion to the department's workload, with 1-2 fields, leave months
    and a 5 % chance of being inactive. Conflicts of interest: each inspector
    declares about ``0.5 % × entities per region`` of them (3-30), 80 % in
    their own region.

    Returns
    -------
    dict of str to DataFrame
        ``entities``, ``records``, ``inspectors``, ``conflicts``, ``items``,
        ``history``.

    Examples
    --------
    >>> t = synthetic_tables(2_000, 40, seed="demo")
    >>> sorted(t)
    ['conflicts', 'entities', 'history', 'inspectors', 'items', 'records']
    >>> len(t["entities"]), len(t["inspectors"])
    (2000, 40)
    >>> bool(t["items"]["legal_basis"].str.len().gt(0).all())
    True
    """
    _check_args(n_entities, n_inspectors, year, history_years)
    if not 0 < draw_ratio <= 1:
        raise ValueError(
            f"The 'draw_ratio' must be in (0, 1]. Got {draw_ratio!r} instead."
        )
    if not capacity_slack > 0:
        raise ValueError(
            f"The 'capacity_slack' must be > 0. Got {capacity_slack!r} instead."
        )
    key = str(seed)
    n = int(n_entities)
    ents = _entities(key, n, year)
    scope = _scope(ents.etype, ents.ind)
    rec = _Records()
    _records(key, ents, scope, year, max(5, history_years), rec)
    status = _status(key, ents, rec, year)
    active = status == "active"
    insp = _inspectors(
        key,
        int(n_inspectors),
        scope,
        ents,
        active,
        draw_ratio=draw_ratio,
        capacity_slack=capacity_slack,
    )
    history = _history(key, ents, scope, insp, status, year, history_years, rec)
    entities = ents.frame.assign(status=status)
    if include_latent:
        entities["_latent_risk"] = ents.s
    tables = {
        "entities": entities,
        "records": rec.frame(ents.uscc_pa),
        "inspectors": insp,
        "conflicts": _conflicts(key, insp, ents),
        "items": _items_frame(),
        "history": history,
    }
    logger.debug(
        "synthetic district: %s",
        ", ".join(f"{k} {len(v):,}" for k, v in tables.items()),
    )
    return tables


def synthetic_district(
    n_entities: int = 50_000,
    n_inspectors: int = 100,
    *,
    seed: int | str = 0,
    year: int = 2026,
    history_years: int = 3,
    include_latent: bool = False,
    draw_ratio: float = 0.05,
    capacity_slack: float = 1.6,
) -> Dataset:
    """A validated synthetic district (see :func:`synthetic_tables`).

    Examples
    --------
    >>> ds = synthetic_district(2_000, 40, seed=1)
    >>> ds.entities["entity_type"].value_counts().index[0]
    'individual'
    >>> int(ds.entities["uscc"].str[:2].isin(["91", "92", "93", "12", "52"]).sum())
    2000
    """
    return validate_dataset(
        synthetic_tables(
            n_entities,
            n_inspectors,
            seed=seed,
            year=year,
            history_years=history_years,
            include_latent=include_latent,
            draw_ratio=draw_ratio,
            capacity_slack=capacity_slack,
        ),
        dates=DateWindow(latest=_dt.date(year, 12, 31)),  # the data's own snapshot
    )


def write_synthetic_district(
    path: str | Path,
    *,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
    **kwargs: Any,
) -> Path:
    """Write a synthetic district as a dataset folder (one file per table).

    ``kwargs`` go to :func:`synthetic_tables`.
    """
    from creditsup.io import write_dataset

    return write_dataset(synthetic_tables(**kwargs), path, fmt=fmt)
