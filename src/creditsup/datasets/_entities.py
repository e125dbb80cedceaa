"""The entities stage: types, industries, places, ages, capital, relationships,
USCCs, names, addresses and the hidden latent risk of every entity.

:func:`build_entities` runs the sub-stages in order. Each draws from its own
:func:`~creditsup._random.stage_rng` stream (``entities``, ``groups``,
``uscc``, ``names``, ``addresses``, ``latent``), so a sub-stage's output
depends only on the seed and its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from creditsup import uscc as _uscc
from creditsup._random import stage_rng
from creditsup.datasets import _catalog as cat
from creditsup.datasets._arrays import (
    BoolArr,
    FloatArr,
    IntArr,
    ObjArr,
    as_dates,
    choice,
    day_number,
    mult,
    take,
    to_text,
)
from creditsup.datasets._naming import contacts, entity_names
from creditsup.datasets._scope import codes_mask

__all__ = ["Entities", "Relations", "build_entities", "relationships"]

_CLUSTERED = ("L7212", "L7251", "L7259", "I6510", "I6531", "F5292", "K7030")


@dataclass(frozen=True)
class Entities:
    """The ``entities`` table and the arrays later stages draw on."""

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


@dataclass(frozen=True)
class Relations:
    """Legal-representative groups and cluster registrations.

    ``region`` and ``town`` are the entities' places after moving group
    members to their leader's region (related entities are local).
    """

    region: IntArr
    town: IntArr
    leader_of: IntArr  # the group leader of each entity (itself when alone)
    share_addr: BoolArr  # registered at the leader's address
    group_eff: FloatArr  # the group's shift of the latent risk
    cluster: IntArr  # region * 1000 + slot of a cluster address, or -1


def _classify(
    rng: np.random.Generator, n: int
) -> tuple[IntArr, IntArr, IntArr, IntArr]:
    """Entity type, industry, region and township of each entity."""
    etype = choice(rng, np.array(list(cat.ENTITY_TYPE_SHARES.values())), n)
    weights = np.array([i.weights for i in cat.INDUSTRIES], dtype=np.float64)
    ind = np.zeros(n, dtype=np.int64)
    for t in range(4):
        m = etype == t
        ind[m] = choice(rng, weights[:, t], int(m.sum()))
    region = choice(rng, np.array([r.weight for r in cat.REGIONS]), n)
    n_towns = np.array([len(r.towns) for r in cat.REGIONS])
    town = np.floor(rng.random(n) * n_towns[region]).astype(np.int64)
    return etype, ind, region, town


def _established(rng: np.random.Generator, etype: IntArr, snap: int) -> IntArr:
    """Establishment days: truncated exponential ages, skewed recent."""
    n = len(etype)
    mean_y = np.array([5.5, 8.0, 6.0, 15.0])[etype]
    coop_max = (snap - day_number(2007, 7, 1)) / 365.25
    max_y = np.array([30.0, 35.0, coop_max, 45.0])[etype]
    u = rng.random(n)
    age = -mean_y * np.log1p(-u * (1.0 - np.exp(-max_y / mean_y)))
    return np.asarray(snap - np.floor(age * 365.25).astype(np.int64) - 1)


def _capital(rng: np.random.Generator, etype: IntArr, ind: IntArr) -> FloatArr:
    """Registered capital in yuan (often missing for individual businesses)."""
    n = len(etype)
    z = rng.standard_normal(n)
    sect = np.array([i.code[0] for i in cat.INDUSTRIES])[ind]
    big = np.isin(sect, ["E", "K", "D"]) | codes_mask(ind, ("L7212",))
    cap = np.exp(
        np.select(
            [etype == cat.ENT, etype == cat.IND, etype == cat.COOP],
            [np.log(1e6) + 1.3 * z + 1.5 * big, np.log(5e4) + 1.0 * z, np.log(5e5) + z],
            np.log(2e6) + z,
        )
    )
    cap = np.round(cap, -3)
    cap[(etype == cat.IND) & (rng.random(n) < 0.4)] = np.nan
    cap[(etype == cat.OTHER) & (rng.random(n) < 0.5)] = np.nan
    return np.asarray(cap, dtype=np.float64)


def relationships(
    rng: np.random.Generator, etype: IntArr, ind: IntArr, region: IntArr, town: IntArr
) -> Relations:
    """Groups sharing a legal representative (~4 % of individual businesses
    and enterprises) and enterprises at cluster-registration addresses."""
    n = len(etype)
    n_towns = np.array([len(r.towns) for r in cat.REGIONS])
    eligible = np.flatnonzero(etype <= cat.ENT)
    n_members = round(0.04 * n)
    sizes = 2 + rng.poisson(1.2, size=max(1, n_members // 2))
    sizes = sizes[np.cumsum(sizes) <= min(n_members, len(eligible))]
    members = rng.permutation(eligible)[: int(sizes.sum())]
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    leader_of = np.arange(n)
    leader_of[members] = np.repeat(members[first], sizes) if len(sizes) else members
    share_addr = np.zeros(n, dtype=bool)
    share_addr[members] = np.repeat(rng.random(len(sizes)) < 0.4, sizes)
    in_group = np.zeros(n, dtype=bool)
    in_group[members] = True  # related entities are local: the leader's region
    region = np.where(in_group, region[leader_of], region)
    town = np.where(share_addr, town[leader_of], town % n_towns[region])
    group_eff = np.zeros(n)
    group_eff[members] = np.repeat(0.7 + 0.5 * rng.standard_normal(len(sizes)), sizes)

    clustered = codes_mask(ind, _CLUSTERED)
    p_cluster = np.where(etype == cat.ENT, np.where(clustered, 0.06, 0.006), 0.0)
    in_cluster = (rng.random(n) < p_cluster) & ~share_addr
    per_region = np.bincount(region[in_cluster], minlength=len(cat.REGIONS))
    k_region = np.maximum(1, np.round(per_region / 20)).astype(np.int64)
    slot = np.floor(rng.random(n) * k_region[region]).astype(np.int64)
    cluster = np.where(in_cluster, region * 1000 + slot, -1)
    return Relations(region, town, leader_of, share_addr, group_eff, cluster)


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


def _usccs(
    rng: np.random.Generator, etype: IntArr, ind: IntArr, region: IntArr
) -> ObjArr:
    """Unique USCCs: authority/type prefix by entity type, region of registration."""
    other_at = np.where(codes_mask(ind, ("P8310", "P8391")), "52", "12")
    at = np.select(
        [etype == cat.IND, etype == cat.ENT, etype == cat.COOP],
        ["92", "91", "93"],
        other_at,
    ).astype(object)
    region_code = np.array([r.code for r in cat.REGIONS], dtype=object)[region]
    return _unique_usccs(rng, at, region_code)


def _latent(
    rng: np.random.Generator,
    etype: IntArr,
    ind: IntArr,
    age_y: FloatArr,
    cap: FloatArr,
    rel: Relations,
) -> tuple[FloatArr, BoolArr, BoolArr]:
    """The standardised latent risk, dormancy and key supervision."""
    n = len(etype)
    raw = (
        np.array([0.0, 0.05, 0.35, -0.7])[etype]
        + np.array([i.risk for i in cat.INDUSTRIES])[ind]
        + np.select([age_y < 1, age_y < 3, age_y < 10], [0.35, 0.15, 0.0], -0.25)
        + np.where((etype == cat.ENT) & (cap < 1e5), 0.15, 0.0)
        + rel.group_eff
        + 0.5 * (rel.cluster >= 0)
        + 0.75 * rng.standard_normal(n)
        # a heavy tail: a few bad actors cause most violations
        + 1.6 * (rng.random(n) < 0.045)
    )
    sd = float(raw.std()) if n > 1 else 1.0
    s = (raw - float(raw.mean())) / (sd if sd > 0 else 1.0)
    p_dormant = 0.025 * mult(s, 0.8) * np.where(age_y > 3, 1.5, 0.5)
    dormant = rng.random(n) < np.clip(p_dormant, 0, 0.5)
    keyp = np.where(np.array([i.key for i in cat.INDUSTRIES])[ind], 0.85, 0.004)
    key_sup = rng.random(n) < keyp
    return s, dormant, key_sup


def build_entities(seed: str, n: int, year: int) -> Entities:
    """The ``n`` entities of the district as of 31 March of ``year``."""
    snap = day_number(year, 3, 31)
    rng = stage_rng(seed, "synth", "entities")
    etype, ind, region, town = _classify(rng, n)
    established = _established(rng, etype, snap)
    cap = _capital(rng, etype, ind)
    rel = relationships(stage_rng(seed, "synth", "groups"), etype, ind, region, town)
    usccs = _usccs(stage_rng(seed, "synth", "uscc"), etype, ind, rel.region)
    name = entity_names(
        stage_rng(seed, "synth", "names"), etype, ind, rel.region, rel.town
    )
    address, legal_rep = contacts(
        seed,
        etype,
        rel.region,
        rel.town,
        leader_of=rel.leader_of,
        share_addr=rel.share_addr,
        cluster=rel.cluster,
    )
    age_y = (snap - established) / 365.25
    s, dormant, key_sup = _latent(
        stage_rng(seed, "synth", "latent"), etype, ind, age_y, cap, rel
    )
    uscc_pa = pa.array(usccs, type=pa.large_string())
    frame = pd.DataFrame(
        {
            "uscc": to_text(uscc_pa),
            "name": to_text(name),
            "entity_type": to_text(take(list(cat.ENTITY_TYPES), etype)),
            "industry": to_text(take([i.code for i in cat.INDUSTRIES], ind)),
            "region": to_text(take([r.code for r in cat.REGIONS], rel.region)),
            "established": as_dates(established),
            "status": "active",
            "key_supervision": key_sup,
            "registered_capital": cap,
            "address": to_text(address),
            "legal_rep": to_text(legal_rep),
        }
    )
    return Entities(
        frame, usccs, uscc_pa, etype, ind, rel.region, established, key_sup, s, dormant
    )
