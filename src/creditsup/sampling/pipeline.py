"""The stages in order: :func:`prepare` (no seed) and :func:`draw_once` (a seed).

::

    build_context ─┐                          (global: items, tiers, history)
    eligible_pools ┼─ per slice ─┐            (entities, exclusions, pools)
                   │  merge_pools, allocate   (global: USCC order, budget, n_h)
    select_candidates ─ per slice ─┐          (PRNs, Poisson, SRSWOR top n_h)
                   merge_candidates, merge_visits, cap_visits  (global)
                   build_result: months, tables, ledger        (global)

The per-slice stages go through a ``mapper``: ``mapper(fn, slices)`` returns
``[fn(s) for s in slices]`` in order; a parallel or distributed mapper (see
:mod:`creditsup.distributed`) gives exactly the same draw.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pandas as pd

from creditsup.sampling._arrays import ALIGN_KEY
from creditsup.sampling.context import DrawContext, build_context
from creditsup.sampling.eligibility import EntityPools, eligible_pools
from creditsup.sampling.policy import SamplingPolicy
from creditsup.sampling.pools import (
    Allocation,
    Merged,
    allocate,
    canonical_slices,
    merge_pools,
)
from creditsup.sampling.select import draw_streams, select_candidates
from creditsup.sampling.visits import Draw, cap_visits, merge_candidates, merge_visits
from creditsup.schemas import Dataset

__all__ = ["Design", "Mapper", "draw_once", "prepare", "serial"]

R = TypeVar("R")


class Mapper(Protocol):
    """Apply ``fn`` to every item and return the results, in order."""

    def __call__(
        self, fn: Callable[[Any], R], items: Sequence[Any], /
    ) -> Iterable[R]: ...


def serial(fn: Callable[[Any], R], items: Sequence[Any], /) -> list[R]:
    """The default :class:`Mapper`: one item after the other.

    Examples
    --------
    >>> serial(len, ["ab", "c"])
    [2, 1]
    """
    return [fn(x) for x in items]


@dataclass(frozen=True)
class Design:
    """Everything about a draw that does not depend on the seed.

    ``parts`` are the slices :func:`draw_once` selects from, slice by slice:
    the one slice as it came, or, for several, as many contiguous views of
    ``merged`` (:func:`~creditsup.sampling.pools.canonical_slices`), so that
    the driver holds the entities once; ``merged`` is the union in USCC
    order; ``alloc`` the budget factor and SRSWOR sizes.
    """

    ctx: DrawContext
    parts: list[EntityPools]
    merged: Merged
    alloc: Allocation

    @property
    def pools(self) -> EntityPools:
        """All entities of the draw, in USCC order."""
        return self.merged.pools


def prepare(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy,
    year: int,
    *,
    hash_key: str = ALIGN_KEY,
    partitions: Sequence[Any] | None = None,
    mapper: Mapper = serial,
    as_of: _dt.date | str | None = None,
) -> Design:
    """Context, per-slice eligibility and pools, merge and allocation.

    ``partitions`` (default: ``[dataset.entities]``) are disjoint slices of
    the entities table; ``mapper`` runs
    :func:`~creditsup.sampling.eligibility.eligible_pools` on each.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_draw_inputs
    >>> ds, tiers = tiny_draw_inputs()
    >>> d = prepare(ds, tiers, SamplingPolicy(), 2027,
    ...             partitions=[ds.entities.iloc[:4], ds.entities.iloc[4:]])
    >>> len(d.parts), len(d.pools.uscc), int(d.pools.eligible.sum())
    (2, 6, 5)
    """
    ctx = build_context(dataset, tiers, policy, year, hash_key=hash_key, as_of=as_of)
    slices = [dataset.entities] if partitions is None else partitions
    parts = list(mapper(functools.partial(eligible_pools, ctx=ctx), slices))
    k = len(parts)
    merged = merge_pools(parts, ctx, release=k > 1)
    if k > 1:  # select from views of the merge: the slices are gone
        parts, merged = canonical_slices(merged, k)
    return Design(ctx, parts, merged, allocate(merged.pools, ctx))


def draw_once(
    design: Design,
    seed: str,
    *,
    mapper: Mapper = serial,
    alloc: Allocation | None = None,
) -> Draw:
    """Select per slice, then merge: checks, visits, and the cap.

    ``alloc`` (default ``design.alloc``) replaces the allocation, e.g. with
    another budget factor (:func:`~creditsup.sampling.pools.with_scale`).

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_draw_inputs
    >>> ds, tiers = tiny_draw_inputs()
    >>> d = prepare(ds, tiers, SamplingPolicy(ratios={"D": 1.0}), 2027)
    >>> out = draw_once(d, "demo")
    >>> len(out.checks.ent), len(out.visits.ent), bool(out.keep.all())
    (10, 5, True)
    """
    ctx = design.ctx
    alloc = design.alloc if alloc is None else alloc
    streams = draw_streams(ctx, seed)
    select = functools.partial(select_candidates, ctx=ctx, alloc=alloc, streams=streams)
    cands = list(mapper(select, design.parts))
    checks = merge_candidates(design.pools, alloc, design.merged.index, cands)
    del cands  # some 25 bytes a candidate: gone before the visits' sort
    visits = merge_visits(checks, design.pools, ctx)
    return Draw(checks, visits, cap_visits(visits, design.pools, ctx, streams), streams)
