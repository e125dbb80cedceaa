"""The Dask engine of :func:`~creditsup.plan.build_plan`: partition by partition.

``build_plan(folder, engine="dask")`` reads a dataset folder whose large
tables may be partitioned Parquet (``entities/part-00000.parquet`` …, as
``creditsup synth --format parquet --partitions N`` writes them) and runs the
per-entity work as Dask tasks on the active scheduler (a
``dask.distributed.Client`` when one is open, else Dask's threads):

1. **per part file**: read it and split its rows by USCC into ``n``
   partitions (:func:`creditsup.schemas.uscc_buckets`); every row of an
   entity -- in ``entities``, ``records``, ``history``, ``conflicts`` --
   lands in the same partition, whatever file it came from;
2. **per partition**: validate and type the rows
   (:func:`creditsup.schemas.validate_partition`: references to entities
   are exact inside a partition) and count the relationship groups
   (shared address, owner);
3. driver: add the group counts (:meth:`creditsup.scoring.GroupCounts.plus`);
4. **per partition**: score with the whole population's counts and compute
   the override flags (:func:`creditsup.tiers.override_flags`);
5. driver: the tables concatenated and sorted by their keys
   (:func:`creditsup.schemas.assemble_dataset`), the table hashes, the tier
   cut-offs from all the scores (:func:`creditsup.tiers.tier_scores`);
6. **per partition**: the draw's eligibility and selection
   (:func:`creditsup.sampling.draw_partitioned`), merged in USCC order;
7. the assignment, its (department, month) problems solved as tasks.

**Exact by construction.** Each per-partition stage is the single-machine
stage applied to a disjoint slice of entities with all their rows; what
needs the whole population (group counts, cut-offs, the draw's allocation
and SRSWOR cut, hashes) is computed on the driver from the partitions'
results, merged in USCC order. The plan is byte-identical to the local
engine's on the same folder, whatever the number of part files or
partitions (``tests/test_engine.py`` checks it on a 2-worker
``LocalCluster``).

**Bad input.** When any partition fails validation, the whole folder is
validated as the local engine does, so the error lists every failure with
the row numbers of the whole table.

**What the driver holds**: the typed tables (what the local engine holds)
and the per-entity arrays of the draw's merge; the workers read, parse,
validate, score and select. On a multi-node cluster the part files must be
readable from every worker (shared storage); nothing else changes.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from creditsup.exceptions import ConfigError
from creditsup.io import PARTITIONED_TABLES, dataset_paths, read_table, table_parts
from creditsup.schemas import (
    Dataset,
    DateWindow,
    assemble_dataset,
    load_dataset,
    uscc_buckets,
    validate_partition,
    validate_tables,
)
from creditsup.scoring import (
    GroupCounts,
    Scorecard,
    ScoreResult,
    lookup,
    score_entities,
    slice_group_counts,
    to_day,
)
from creditsup.tiers import TierPolicy, TierResult, override_flags, tier_scores

__all__ = ["Staged", "stage_partitioned"]

logger = logging.getLogger(__name__)

_Tables = dict[str, pd.DataFrame]
_SHARED = ("inspectors", "items")


@dataclass(frozen=True)
class Staged:
    """A partitioned dataset validated and tiered, ready for the draw.

    ``dataset`` equals what :func:`~creditsup.schemas.load_dataset` returns
    for the folder; ``rated`` what :func:`~creditsup.tiers.rate_entities`
    returns for it; ``entity_parts`` are the partitions' typed entities (Dask
    ``Delayed`` objects, kept on the workers) for the draw's per-partition
    stages.
    """

    dataset: Dataset
    rated: TierResult
    entity_parts: list[Any]


def _dask() -> Any:
    from creditsup.distributed import _dask as load

    return load()


def _split(path: Path, table: str, n: int) -> list[pd.DataFrame]:
    """One part file's rows, split by USCC into ``n`` partitions (file order)."""
    df = read_table(path)
    bucket = uscc_buckets(df, table, n)
    if bucket is None:  # no USCC column: validation of partition 0 reports it
        return [df] + [df.iloc[:0]] * (n - 1)
    order = np.argsort(bucket, kind="stable")
    bounds = np.cumsum(np.bincount(bucket, minlength=n))[:-1]
    return [df.iloc[idx] for idx in np.split(order, bounds)]


def _validate(
    pieces: Mapping[str, Sequence[pd.DataFrame]],
    inspectors: pd.DataFrame,
    dates: DateWindow | None,
) -> _Tables | None:
    raw = {name: pd.concat(list(p), ignore_index=True) for name, p in pieces.items()}
    return validate_partition(raw, inspectors=inspectors, dates=dates)


def _group_counts(
    part: _Tables | None, scorecard: Scorecard, as_of: _dt.date
) -> GroupCounts | None:
    if part is None:
        return None
    return slice_group_counts(Dataset(**part), scorecard, as_of=as_of)


@dataclass(frozen=True)
class _Scored:
    scores: ScoreResult
    flags: list[np.ndarray[Any, Any]]


def _score(
    part: _Tables,
    shared_tables: _Tables,
    scorecard: Scorecard,
    policy: TierPolicy,
    as_of: _dt.date,
    counts: GroupCounts,
) -> _Scored:
    ds = Dataset(**part, **shared_tables)
    scores = score_entities(ds, scorecard, as_of=as_of, shared=counts)
    flags: list[np.ndarray[Any, Any]] = []
    if policy.overrides:
        flags = override_flags(
            ds,
            policy,
            scorecard=scorecard,
            unit_ent=lookup(ds.entities["uscc"], scores.table["uscc"]),
            unit_day=np.full(len(scores.table), to_day(as_of), dtype=np.int64),
        )
    return _Scored(scores, flags)


def _entities(part: _Tables) -> pd.DataFrame:
    return part["entities"]


def _merge_scores(parts: Sequence[_Scored]) -> tuple[ScoreResult, list[Any]]:
    """The partitions' scores as one result in USCC order, with their flags."""
    first = parts[0].scores
    table = pd.concat([p.scores.table for p in parts], ignore_index=True)
    details = pd.concat([p.scores.details for p in parts], ignore_index=True)
    order = np.argsort(table["uscc"].to_numpy(dtype=object), kind="stable")
    flags = [
        np.concatenate([p.flags[j] for p in parts])[order]
        for j in range(len(parts[0].flags))
    ]
    merged = ScoreResult(
        table.take(order).reset_index(drop=True),
        details.take(order).reset_index(drop=True),
        first.as_of,
        first.scorecard,
        inactive=first.inactive,
        n_not_established=sum(p.scores.n_not_established for p in parts),
    )
    return merged, flags


def _report(folder: Path, dates: DateWindow | None) -> NoReturn:
    """Raise the whole dataset's validation error (every failure, whole-table
    row numbers)."""
    load_dataset(folder, dates=dates)
    raise RuntimeError(  # pragma: no cover - a partition failed, the whole passed
        "A partition failed validation but the whole dataset passed."
    )


def stage_partitioned(
    folder: str | Path,
    *,
    scorecard: Scorecard,
    tier_policy: TierPolicy,
    as_of: _dt.date,
    partitions: int | None = None,
    dates: DateWindow | None = None,
) -> Staged:
    """Read, validate and tier a dataset folder partition by partition on Dask.

    ``partitions`` (default: the number of part files of ``entities``, at
    least 1) is the number of USCC partitions.

    Raises
    ------
    DataValidationError
        Some rows break the contract (the whole dataset's report).
    """
    dask = _dask()
    root = Path(folder)
    paths = dataset_paths(root)
    big = [t for t in PARTITIONED_TABLES if t in paths]
    if "entities" not in paths:
        _report(root, dates)
    n = partitions if partitions is not None else len(table_parts(paths["entities"]))
    if n < 1:
        raise ConfigError(f"The 'partitions' must be >= 1. Got {n} instead.")
    absent = [t for t in PARTITIONED_TABLES if t not in paths]
    shared = validate_tables(
        {t: read_table(paths[t]) for t in _SHARED if t in paths},
        [*_SHARED, *absent],
        dates=dates,
    )
    if shared is None:
        _report(root, dates)
    delayed = dask.delayed
    splits = {
        t: [delayed(_split, nout=n)(p, t, n) for p in table_parts(paths[t])]
        for t in big
    }
    insp = shared["inspectors"]
    parts = dask.persist(
        *[
            delayed(_validate)({t: [s[b] for s in splits[t]] for t in big}, insp, dates)
            for b in range(n)
        ]
    )
    counts = dask.compute(*[delayed(_group_counts)(p, scorecard, as_of) for p in parts])
    if any(c is None for c in counts):
        _report(root, dates)
    total = counts[0]
    for c in counts[1:]:
        total = total.plus(c)
    small = {t: shared[t] for t in _SHARED}
    scored, tables = dask.compute(
        [
            delayed(_score)(p, small, scorecard, tier_policy, as_of, total)
            for p in parts
        ],
        list(parts),
    )
    own = {t: shared[t] for t in shared if t not in _SHARED}
    dataset = assemble_dataset(tables, {**small, **own})
    scores, flags = _merge_scores(scored)
    rated = tier_scores(scores, flags, tier_policy)
    logger.info(
        "validated and tiered %d entities in %d partitions", len(scores.table), n
    )
    return Staged(dataset, rated, [delayed(_entities)(p) for p in parts])
