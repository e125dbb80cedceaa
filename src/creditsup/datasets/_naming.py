"""Names and addresses of the synthetic district (all Arrow string arrays).

Personal names come from common surnames and given-name characters; entity
names follow each entity type's pattern (region + stem + shop word for
individual businesses, city + trade name + business word + company form for
enterprises, ...); addresses are street addresses, shared by related entities
or replaced by a cluster-registration building.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from creditsup._random import stage_rng
from creditsup.datasets import _catalog as cat
from creditsup.datasets._arrays import (
    BoolArr,
    IntArr,
    choice,
    if_else,
    join,
    scatter,
    take,
)

__all__ = ["TOWNS", "TOWN_OFFSETS", "contacts", "entity_names", "person_names"]

#: Every township, region by region.
TOWNS: list[str] = [t for r in cat.REGIONS for t in r.towns]
_N_TOWNS = np.array([len(r.towns) for r in cat.REGIONS])
#: The position in :data:`TOWNS` of each region's first township.
TOWN_OFFSETS = np.concatenate([[0], np.cumsum(_N_TOWNS)[:-1]]).astype(np.int64)
_NUM = [str(i) for i in range(1000)]
_REGION_NAMES = [r.name for r in cat.REGIONS]


def person_names(rng: np.random.Generator, n: int) -> Any:
    """Plausible Chinese personal names (surname + 1-2 given characters)."""
    sur = [s for s, _ in cat.SURNAMES]
    w = np.array([f for _, f in cat.SURNAMES])
    given = [*dict.fromkeys(cat.GIVEN_CHARS), ""]
    g1 = rng.integers(0, len(given) - 1, n)
    g2 = np.where(
        rng.random(n) < 0.92, rng.integers(0, len(given) - 1, n), len(given) - 1
    )
    return join(take(sur, choice(rng, w, n)), take(given, g1), take(given, g2))


def _trade_names(rng: np.random.Generator, n: int) -> Any:
    chars = list(dict.fromkeys(cat.TRADE_CHARS))
    return join(
        take(chars, rng.integers(0, len(chars), n)),
        take(chars, rng.integers(0, len(chars), n)),
    )


@dataclass(frozen=True)
class _Words:
    """The per-entity random parts of a name, drawn once for all types."""

    trade: Any  # a two-character trade name (字号)
    surname: Any
    stem_kind: IntArr  # individual: trade name, surname, 老/小 + surname
    city_prefix: BoolArr  # enterprise: city prefix, else 山西
    company_form: IntArr  # enterprise: 有限公司, 有限责任公司, 股份有限公司


def _draw_words(rng: np.random.Generator, n: int) -> _Words:
    trade = _trade_names(rng, n)
    sur = take(
        [x for x, _ in cat.SURNAMES],
        choice(rng, np.array([f for _, f in cat.SURNAMES]), n),
    )
    stem_kind = np.searchsorted([0.6, 0.78, 0.94], rng.random(n), side="right")
    ent_prefix = rng.random(n) < 0.85
    ent_suffix = np.searchsorted([0.88, 0.98], rng.random(n), side="right")
    return _Words(trade, sur, stem_kind, ent_prefix, ent_suffix)


def _names_of_type(
    t: int, idx: IntArr, w: _Words, region: IntArr, ind: IntArr, town_at: IntArr
) -> Any:
    """The names of the entities ``idx``, all of entity type ``t``."""
    inds = cat.INDUSTRIES
    r_i, i_i, tw_i = region[idx], ind[idx], town_at[idx]
    rname = take(_REGION_NAMES, r_i)
    if t == cat.IND:
        core = if_else(w.stem_kind[idx] == 0, w.trade.take(idx), w.surname.take(idx))
        stem = join(
            take(["", "", "老", "小"], w.stem_kind[idx]),
            core,
            take(["", "记", "", ""], w.stem_kind[idx]),
        )
        return join(rname, stem, take([i.shop for i in inds], i_i))
    if t == cat.ENT:
        prefix = if_else(
            w.city_prefix[idx], take([r.city for r in cat.REGIONS], r_i), "山西"
        )
        return join(
            prefix,
            w.trade.take(idx),
            take([i.biz for i in inds], i_i),
            take(["有限公司", "有限责任公司", "股份有限公司"], w.company_form[idx]),
        )
    if t == cat.COOP:
        return join(
            rname,
            take(TOWNS, tw_i),
            w.trade.take(idx),
            take([i.coop for i in inds], i_i),
            "专业合作社",
        )
    use_town = np.array([i.other.startswith("@") for i in inds])[i_i]
    middle = if_else(use_town, take(TOWNS, tw_i), w.trade.take(idx))
    return join(rname, middle, take([i.other.lstrip("@") for i in inds], i_i))


def entity_names(
    rng: np.random.Generator, etype: IntArr, ind: IntArr, region: IntArr, town: IntArr
) -> Any:
    """Entity names following each entity type's naming pattern."""
    n = len(etype)
    words = _draw_words(rng, n)
    town_at = TOWN_OFFSETS[region] + town
    parts: list[tuple[IntArr, Any]] = []
    for t in range(4):
        idx = np.flatnonzero(etype == t).astype(np.int64)
        if len(idx):
            parts.append((idx, _names_of_type(t, idx, words, region, ind, town_at)))
    return scatter(parts, n)


def _address(
    rng: np.random.Generator,
    region: IntArr,
    town_at: IntArr,
    max_number: int,
    suffix: Callable[[], Any],
) -> Any:
    """Region, township, road, number 号 and ``suffix()`` (drawn last)."""
    k = len(region)
    road = take(cat.ROADS, rng.integers(0, len(cat.ROADS), k))
    number = take(_NUM, rng.integers(1, max_number, k))
    return join(
        take(_REGION_NAMES, region), take(TOWNS, town_at), road, number, "号", suffix()
    )


def _street_addresses(
    rng: np.random.Generator, etype: IntArr, region: IntArr, town: IntArr
) -> Any:
    n = len(etype)
    kind = np.where(rng.random(n) < 0.45, 0, np.where(etype == cat.ENT, 1, 2))
    suffix = if_else(
        kind == 1,
        join(
            take(_NUM, rng.integers(1, 30, n)),
            "号楼",
            take(_NUM, rng.integers(101, 999, n)),
            "室",
        ),
        if_else(kind == 2, join("附", take(_NUM, rng.integers(1, 40, n)), "号"), ""),
    )
    return _address(rng, region, TOWN_OFFSETS[region] + town, 400, lambda: suffix)


def _cluster_addresses(rng: np.random.Generator, cluster_ids: IntArr) -> Any:
    """One building address per cluster (``region * 1000 + slot``)."""
    k = len(cluster_ids)
    creg = (cluster_ids // 1000).astype(np.int64)
    ctown = np.floor(rng.random(k) * _N_TOWNS[creg]).astype(np.int64)
    buildings = cat.CLUSTER_BUILDINGS
    return _address(
        rng,
        creg,
        TOWN_OFFSETS[creg] + ctown,
        300,
        lambda: take(buildings, rng.integers(0, len(buildings), k)),
    )


def contacts(
    seed: str,
    etype: IntArr,
    region: IntArr,
    town: IntArr,
    *,
    leader_of: IntArr,
    share_addr: BoolArr,
    cluster: IntArr,
) -> tuple[Any, Any]:
    """Addresses and legal representatives (a few missing).

    Entities that ``share_addr`` take their group leader's address, and the
    members of a ``cluster`` (``>= 0``) its building; every group member has
    the leader's legal representative.
    """
    n = len(etype)
    arng = stage_rng(seed, "synth", "addresses")
    own = np.where(share_addr, leader_of, np.arange(n))
    address = _street_addresses(arng, etype, region, town).take(pa.array(own))
    in_cluster = cluster >= 0
    if in_cluster.any():
        cids, inv = np.unique(cluster[in_cluster], return_inverse=True)
        caddr = _cluster_addresses(stage_rng(seed, "synth", "clusters"), cids)
        pos = np.zeros(n, dtype=np.int64)
        pos[in_cluster] = inv
        address = if_else(in_cluster, caddr.take(pa.array(pos)), address)
    address = if_else(arng.random(n) < 0.002, None, address)
    legal_rep = person_names(stage_rng(seed, "synth", "legal_rep"), n).take(
        pa.array(leader_of)
    )
    legal_rep = if_else(arng.random(n) < 0.003, None, legal_rep)
    return address, legal_rep
