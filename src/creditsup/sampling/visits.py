"""Stage 5: merge the slices' candidates into checks, visits and the cap (global).

* :func:`merge_candidates`: the SRSWOR-PRN cut over all slices (the ``n_h``
  smallest shifted PRNs per stratum), then minimum coverage for the required
  entities that no item drew.
* :func:`merge_visits`: one visit per (entity, visit group), in canonical
  (USCC, group) order (R14): by default one visit group, so all checks of an
  entity in the year, across departments, form one visit; the policy's
  ``separate`` groups (and ``merge = "joint_group"``) give more.
* :func:`cap_visits`: an entity with more visits than its tier's cap allows
  this year (R15) keeps the first ones in the order (coverage, key, general;
  then a second PRN), so general visits go first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from creditsup._random import keyed_uint64
from creditsup.sampling._arrays import I64, B, Ids, Obj, id_texts
from creditsup.sampling._prn import prn_key, smallest_per_stratum
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.pools import Allocation
from creditsup.sampling.select import Candidates, Streams

__all__ = [
    "Checks",
    "Draw",
    "Visits",
    "cap_visits",
    "merge_candidates",
    "merge_visits",
    "visit_labels",
]


@dataclass(frozen=True)
class Checks:
    """Drawn checks (entity, item), random first then coverage (``cov``).

    ``unmet``: required entities that no check can reach (not eligible).
    """

    ent: I64
    item: I64
    cov: B
    unmet: I64


def _by_item(item: I64) -> I64 | slice:
    """The rows of a slice's candidates in item order (as they are, usually)."""
    if len(item) < 2 or bool((item[1:] >= item[:-1]).all()):
        return slice(None)
    return np.asarray(np.argsort(item, kind="stable"), dtype=np.int64)


def merge_candidates(
    pools: EntityPools,
    alloc: Allocation,
    index: Sequence[I64],
    cands: Sequence[Candidates],
) -> Checks:
    """Cut the SRSWOR strata over all slices and add minimum coverage.

    ``pools`` and ``index`` come from
    :func:`~creditsup.sampling.pools.merge_pools`; ``cands[j]`` from
    :func:`~creditsup.sampling.select.select_candidates` on slice ``j``.
    """
    n_items = len(alloc.stratum_n)
    # each slice's rows by item (selection writes them item after item), so
    # an item's candidates are gathered without concatenating every slice's
    orders = [_by_item(c.item) for c in cands]
    spans = [
        np.searchsorted(c.item[o], np.arange(n_items + 1))
        for c, o in zip(cands, orders, strict=True)
    ]
    ent_parts: list[I64] = []
    for i, n_h in enumerate(alloc.stratum_n):
        rows = [
            slice(b[i], b[i + 1]) if isinstance(o, slice) else o[b[i] : b[i + 1]]
            for o, b in zip(orders, spans, strict=True)
        ]
        e = np.concatenate(
            [np.zeros(0, np.int64)]
            + [ix[c.ent[r]] for ix, c, r in zip(index, cands, rows, strict=True)]
        )
        if n_h is not None:
            key = np.concatenate([c.key[r] for c, r in zip(cands, rows, strict=True)])
            stratum = np.concatenate(
                [c.stratum[r] for c, r in zip(cands, rows, strict=True)]
            )
            e = e[smallest_per_stratum(key, stratum, pools.rank[e], n_h)]
        ent_parts.append(np.sort(e))
    chk_item = np.repeat(
        np.arange(n_items, dtype=np.int64), [len(e) for e in ent_parts]
    )
    chk_ent = np.concatenate(ent_parts) if ent_parts else np.zeros(0, np.int64)
    has = np.zeros(len(pools.uscc), dtype=bool)
    has[chk_ent] = True
    cov_ent = np.concatenate(
        [ix[c.cover_ent] for ix, c in zip(index, cands, strict=True)]
    )
    cov_item = np.concatenate([c.cover_item for c in cands])
    order = np.argsort(cov_ent, kind="stable")
    add = order[~has[cov_ent[order]]]
    unmet = pools.required & ~pools.hist_any & ~pools.eligible
    return Checks(
        ent=np.concatenate([chk_ent, cov_ent[add]]).astype(np.int64, copy=False),
        item=np.concatenate([chk_item, cov_item[add]]).astype(np.int64, copy=False),
        cov=np.r_[np.zeros(len(chk_ent), bool), np.ones(len(add), bool)],
        unmet=np.flatnonzero(unmet).astype(np.int64),
    )


@dataclass(frozen=True)
class Visits:
    """One visit per (entity, group), canonical order; ``chk_visit`` maps checks.

    ``prio``: 2 coverage, 1 key item, 0 general (the cap keeps high first);
    ``key``: a key item or a key-supervision entity (trigger ``key``).
    """

    ent: I64
    group: I64
    chk_visit: I64
    prio: I64
    key: B


def merge_visits(checks: Checks, pools: EntityPools, ctx: DrawContext) -> Visits:
    """Merge the checks of one entity and visit group into one visit (R14)."""
    n_groups = max(len(ctx.visit_groups), 1)
    vkey = pools.rank[checks.ent] * n_groups + ctx.item_vgroup[checks.item]
    uk, first, chk_visit = np.unique(vkey, return_index=True, return_inverse=True)
    chk_visit = chk_visit.astype(np.int64).ravel()
    vis_ent = checks.ent[first]
    nv = len(uk)
    prio = np.zeros(nv, dtype=np.int64)
    is_key = ctx.item_key[checks.item]
    np.maximum.at(prio, chk_visit, np.where(checks.cov, 2, is_key * 1))
    vis_key = np.zeros(nv, dtype=bool)
    np.logical_or.at(vis_key, chk_visit, is_key)
    vis_key |= pools.ks[vis_ent]
    return Visits(
        ent=vis_ent,
        group=(uk % n_groups).astype(np.int64),
        chk_visit=chk_visit,
        prio=prio,
        key=vis_key,
    )


def visit_labels(uscc: Ids, groups: list[str], ent: I64, group: I64) -> Obj:
    """``"<uscc>|<group>"`` of each visit: the key of its later PRNs."""
    g = np.array(["|" + x for x in groups], dtype=object)
    out: Obj = id_texts(uscc[ent]) + g[group]
    return out


def cap_visits(
    visits: Visits, pools: EntityPools, ctx: DrawContext, streams: Streams
) -> B:
    """Which visits stay under the annual cap (R15), by a second PRN.

    An entity keeps its first ``remaining`` visits in the order (priority
    descending, ``keyed_uint64(label, derive_key(seed, year, "cap"))``).
    """
    nv = len(visits.ent)
    keep = np.ones(nv, dtype=bool)
    if not nv:
        return keep
    counts = np.bincount(visits.ent, minlength=len(pools.uscc))
    ov = np.flatnonzero(counts[visits.ent] > pools.remaining[visits.ent])
    if not len(ov):
        return keep
    ent = visits.ent[ov]
    labels = visit_labels(pools.uscc, ctx.visit_groups, ent, visits.group[ov])
    prn2 = keyed_uint64(labels, prn_key(streams.seed, streams.year, "cap"))
    order = np.lexsort((prn2, -visits.prio[ov], pools.rank[ent]))
    ents = ent[order]
    start = np.r_[True, ents[1:] != ents[:-1]]
    grp_start = np.maximum.accumulate(np.where(start, np.arange(len(ents)), 0))
    drop = np.arange(len(ents)) - grp_start >= pools.remaining[ents]
    keep[ov[order[drop]]] = False
    return keep


@dataclass(frozen=True)
class Draw:
    """The seed-dependent outcome: checks, visits, which visits the cap keeps."""

    checks: Checks
    visits: Visits
    keep: B
    streams: Streams
