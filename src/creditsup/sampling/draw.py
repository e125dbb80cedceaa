"""The public draw: :func:`draw_visits` and its partitioned form."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from creditsup.exceptions import InfeasiblePlanError
from creditsup.sampling._prn import prn_key
from creditsup.sampling.budget import final_draw
from creditsup.sampling.estimate import estimate
from creditsup.sampling.outputs import CHUNK_ROWS, build_result
from creditsup.sampling.pipeline import Mapper, prepare, serial
from creditsup.sampling.policy import SamplingPolicy
from creditsup.sampling.result import DrawResult
from creditsup.schemas import Dataset

__all__ = ["draw_partitioned", "draw_visits"]


def draw_partitioned(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy | None = None,
    *,
    year: int,
    seed: str,
    partitions: Sequence[Any],
    mapper: Mapper = serial,
    inclusion_keys: int = 0,
    as_of: _dt.date | str | None = None,
    checks_sink: Callable[[pd.DataFrame], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> DrawResult:
    """:func:`draw_visits` with the per-entity stages run slice by slice.

    ``partitions`` are disjoint slices of ``dataset.entities`` (any rows, any
    order) that together hold every entity; ``mapper(fn, partitions)`` runs
    the per-slice stages (eligibility and pools, then PRNs and selection),
    for instance in parallel. The result is exactly that of
    :func:`draw_visits`.

    ``checks_sink`` (for draws too large to hold their checks table, some
    1.3 rows per entity): called with consecutive pieces of the checks
    table, at most ``chunk_rows`` rows each, whose concatenation is
    ``draw_visits(...).checks``; the result's ``checks`` then has no row.
    The driver also lets the slices go once drawn (no inclusion estimate
    needs them).

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_draw_inputs
    >>> ds, tiers = tiny_draw_inputs()
    >>> rows = ds.entities.sample(frac=1.0, random_state=0)
    >>> a = draw_partitioned(ds, tiers, year=2027, seed="demo",
    ...                      partitions=[rows.iloc[:2], rows.iloc[2:]])
    >>> a.visits.equals(draw_visits(ds, tiers, year=2027, seed="demo").visits)
    True
    """
    policy = policy if policy is not None else SamplingPolicy()
    key = prn_key(seed, int(year), "prn")
    design = prepare(
        dataset,
        tiers,
        policy,
        int(year),
        hash_key=key,
        partitions=partitions,
        mapper=mapper,
        as_of=as_of,
    )
    draw, alloc, fit = final_draw(design, seed, mapper=mapper)
    if checks_sink is not None and inclusion_keys <= 0 and len(design.parts) > 1:
        design.parts.clear()  # views of the merge with their own positions
    result = build_result(
        design.ctx,
        design.merged,
        alloc,
        draw,
        fit,
        checks_sink=checks_sink,
        chunk_rows=chunk_rows,
    )
    if policy.on_conflict == "raise":
        bad = [
            w
            for w in result.warnings
            if w["code"] in ("coverage_unmet", "capacity_exceeded")
        ]
        if bad:
            binding = [b for w in bad for b in w.get("binding", [])]
            raise InfeasiblePlanError(
                "; ".join(str(w["message"]) for w in bad), binding=binding
            )
    if inclusion_keys > 0:
        inc = estimate(design, n_keys=inclusion_keys, seed=f"{seed}/inclusion")
        result = dataclasses.replace(result, inclusion=inc)
    return result


def draw_visits(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy | None = None,
    *,
    year: int,
    seed: str,
    inclusion_keys: int = 0,
    as_of: _dt.date | str | None = None,
) -> DrawResult:
    """Draw the year's visits: one door per entity, tier ratios, floors, capacity.

    Parameters
    ----------
    dataset : Dataset
        The validated dataset (entities, items, history, inspectors are used).
    tiers : pandas.DataFrame
        At least ``uscc, tier`` (``A``-``E``), e.g. ``rate_entities(...).table``.
        An entity missing from it (or without a tier) gets the policy's
        ``new_entity_tier``, listed in ``assumed_tiers``: ``new_entity`` when
        it was established after the scoring date, else ``untiered``.
    policy : SamplingPolicy, optional
        Defaults to ``SamplingPolicy()``.
    year : int
        The plan year (keys the PRNs; history of this year counts toward caps).
    seed : str
        Any string, e.g. a published lottery result. All randomness derives
        from it: ``derive_key(seed, year, "prn" | "start" | "cap" | "month")``.
    inclusion_keys : int, default 0
        When positive, also estimate inclusion probabilities per stratum by
        Monte Carlo over this many keys (:func:`estimate_inclusion`).
    as_of : date or str, optional
        The scoring date of ``tiers`` (default: ``tiers.attrs["as_of"]``,
        set by :func:`creditsup.tiers.assign_tiers`).

    Returns
    -------
    DrawResult

    Raises
    ------
    ConfigError
        The policy's ratios miss a legal floor it does not waive (R08, R23),
        or the policy names items the items table lacks.
    DataValidationError
        The tiers frame lacks a column, repeats an entity or has an unknown tier.
    InfeasiblePlanError
        Only with ``policy.on_conflict == "raise"``: coverage or capacity fails.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_draw_inputs
    >>> ds, tiers = tiny_draw_inputs()  # 6 entities, one deregistered; tier D
    >>> res = draw_visits(ds, tiers, SamplingPolicy(ratios={"D": 1.0}),
    ...                   year=2027, seed="demo")
    >>> len(res.visits), bool(res.visits["joint"].all())
    (5, True)
    >>> res.visits["departments"].iloc[0]
    'food;market'
    >>> res.exclusions["reason_code"].tolist()
    ['deregistered']
    """
    return draw_partitioned(
        dataset,
        tiers,
        policy,
        year=year,
        seed=seed,
        partitions=[dataset.entities],
        inclusion_keys=inclusion_keys,
        as_of=as_of,
    )
