"""Past one machine: the keyed-PRN draw on Dask (extra ``[dask]``).

The draw's randomness is a pure function of (seed, year, stream label, USCC),
so it partitions exactly: every partition computes its own permanent random
numbers, and

* a **Poisson-PRN** selection (``frac(u + s) < π``) is a per-row filter;
* a **sequential SRSWOR-PRN** selection of ``n_h`` units per stratum keeps the
  ``n_h`` smallest shifted PRNs of each partition, and the driver keeps the
  ``n_h`` smallest of those: the result equals the single-machine selection,
  whatever the partitioning.

:func:`creditsup.sampling.draw_partitioned` with ``partitions=ddf.to_delayed()``
and ``mapper=``:func:`dask_mapper` runs the whole ``draw_visits`` this way,
through the stages of :mod:`creditsup.sampling`:

1. driver: ``build_context`` -- items, ratios, caps, the tiers frame and
   the history (validated and hashed once), inspector capacity;
2. **per partition**: ``eligible_pools`` -- join to tiers and history,
   exclusions, candidate pools with nominal probabilities;
3. driver: ``merge_pools`` (USCC order) and ``allocate`` (budget factor,
   SRSWOR sizes ``n_h``);
4. **per partition**: ``select_candidates`` -- PRNs, Poisson-PRN checks, the
   partition's ``n_h`` smallest per stratum, coverage candidates;
5. driver: ``merge_candidates`` (global SRSWOR cut, coverage),
   ``merge_visits``, ``cap_visits``, months, tables and ledger.

The driver holds the per-entity results of the partitions (a few arrays per
entity and per candidate pool): what a merge in USCC order needs so that the
float sums of the outputs are those of the single-machine draw.

The functions take and return Dask DataFrames (or a pandas frame for the
small SRSWOR result) and never import Dask at module import time.

Examples
--------
>>> import pandas as pd
>>> import dask.dataframe as dd
>>> from creditsup.uscc import generate
>>> import numpy as np
>>> ids = generate(1000, rng=np.random.default_rng(0))
>>> df = pd.DataFrame({"uscc": ids, "tier": np.where(np.arange(1000) % 4, "B", "D")})
>>> one = srswor_prn(dd.from_pandas(df, npartitions=1), n_by_stratum={"B": 20, "D": 5},
...                  stratum="tier", seed="s", year=2027)
>>> many = srswor_prn(dd.from_pandas(df.sample(frac=1, random_state=3), npartitions=7),
...                   n_by_stratum={"B": 20, "D": 5}, stratum="tier", seed="s", year=2027)
>>> one.equals(many), len(one)
(True, 25)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from creditsup._random import keyed_uint64, to_uniform
from creditsup.exceptions import MissingDependencyError
from creditsup.sampling._prn import prn_key

__all__ = ["dask_mapper", "poisson_prn", "prn_column", "srswor_prn"]

R = TypeVar("R")


def _dask() -> Any:
    """The ``dask`` package, with its DataFrame module loaded."""
    try:
        import dask
        import dask.dataframe
    except ImportError:
        raise MissingDependencyError("dask", "dask") from None
    return dask


def _shifted(
    part: pd.DataFrame, column: str, key: str, start: int
) -> np.ndarray[Any, Any]:
    ids = part[column].astype(str).to_numpy(dtype=object)
    return keyed_uint64(ids, key) + np.uint64(start % 2**64)


def prn_column(
    ddf: Any,
    *,
    seed: str,
    year: int,
    label: str = "prn",
    column: str = "uscc",
    start: int = 0,
    name: str = "prn",
) -> Any:
    """Add the uniform ``frac(u + s)`` of each row's identifier, per partition.

    Identical to :func:`creditsup._random.keyed_uniform` under
    ``prn_key(seed, year, label)`` (shifted by ``start``), whatever the
    partitioning.
    """
    _dask()
    key = prn_key(seed, year, label)

    def add(part: pd.DataFrame) -> pd.DataFrame:
        return part.assign(**{name: to_uniform(_shifted(part, column, key, start))})

    meta = ddf._meta.assign(**{name: np.float64(0)})
    return ddf.map_partitions(add, meta=meta)


def poisson_prn(
    ddf: Any,
    *,
    pi: str,
    seed: str,
    year: int,
    label: str = "prn",
    column: str = "uscc",
    start: int = 0,
) -> Any:
    """Poisson-PRN selection: the rows with ``frac(u + s) < π`` (column ``pi``).

    Each row is selected with probability exactly ``π``, independently of the
    other rows and of the partitioning.
    """
    _dask()
    key = prn_key(seed, year, label)

    def select(part: pd.DataFrame) -> pd.DataFrame:
        u = to_uniform(_shifted(part, column, key, start))
        return part[u < part[pi].to_numpy(dtype=float)]

    return ddf.map_partitions(select, meta=ddf._meta)


def srswor_prn(
    ddf: Any,
    *,
    n_by_stratum: Mapping[str, int],
    stratum: str,
    seed: str,
    year: int,
    label: str = "prn",
    column: str = "uscc",
    start: int = 0,
) -> pd.DataFrame:
    """Sequential SRSWOR on PRNs: the ``n_h`` smallest ``frac(u + s)`` per stratum.

    Every partition keeps its own ``n_h`` smallest per stratum; the driver
    merges them and keeps the ``n_h`` smallest (ties broken by the
    identifier). The result is the exact single-machine selection, sorted by
    stratum and identifier.
    """
    _dask()
    key = prn_key(seed, year, label)
    wanted = {str(k): int(v) for k, v in n_by_stratum.items()}

    def smallest(frame: pd.DataFrame, v: np.ndarray[Any, Any]) -> pd.DataFrame:
        out = frame.assign(_v=v, _s=frame[stratum].astype(str))
        out = out[out["_s"].isin(list(wanted))]
        out = out.sort_values(["_s", "_v", column], kind="stable")
        rank = out.groupby("_s", sort=False).cumcount().to_numpy()
        limit = out["_s"].map(wanted).to_numpy(dtype=np.int64)
        return out[rank < limit]

    def local(part: pd.DataFrame) -> pd.DataFrame:
        return smallest(part, _shifted(part, column, key, start)).drop(columns="_s")

    meta = ddf._meta.assign(_v=np.uint64(0))
    kept = ddf.map_partitions(local, meta=meta).compute()
    final = smallest(kept.drop(columns="_v"), kept["_v"].to_numpy(dtype=np.uint64))
    return (
        final.drop(columns=["_v", "_s"])
        .sort_values([stratum, column], kind="stable")
        .reset_index(drop=True)
    )


def dask_mapper(fn: Callable[[Any], R], items: Sequence[Any], /) -> list[R]:
    """Run ``fn`` on every item as one Dask task each; results in order.

    Items may be Dask ``Delayed`` objects, such as the partitions of a Dask
    DataFrame (``ddf.to_delayed()``). This is the
    :class:`~creditsup.sampling.pipeline.Mapper` that runs the per-entity
    stages of :func:`creditsup.sampling.draw_partitioned` on Dask (see the
    module docstring); the result is exactly that of ``draw_visits``.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> from creditsup.sampling import draw_partitioned, draw_visits
    >>> from creditsup.sampling._examples import tiny_draw_inputs
    >>> ds, tiers = tiny_draw_inputs()
    >>> ddf = dd.from_pandas(ds.entities, npartitions=3)
    >>> res = draw_partitioned(ds, tiers, year=2027, seed="demo",
    ...                        partitions=ddf.to_delayed(), mapper=dask_mapper)
    >>> res.visits.equals(draw_visits(ds, tiers, year=2027, seed="demo").visits)
    True
    """
    dask = _dask()
    inputs = [dask.delayed(x, traverse=False) for x in items]
    tasks = [dask.delayed(fn)(x) for x in inputs]
    return list(dask.compute(*tasks))
