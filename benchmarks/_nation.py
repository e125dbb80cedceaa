"""The ``nation`` scenario of ``benchmarks/run.py``: the draw only, out of core, on Dask.

Issue #14: "50M entities; the draw only, out of core, on Dask; <= 10 min,
<= 8 GB on this machine". The entities never exist as one frame:

``generate``  a partitioned Parquet dataset, one file per prefecture of
              ``rows`` entities, written partition by partition from a
              per-partition seed (cached in ``--data-dir``; reused when its
              ``_meta.json`` matches). Each partition is one prefecture
              (地级市): its own 6-digit division codes, so USCCs are unique
              across files by construction and within a file by a redraw of
              the few duplicates. Columns: ``uscc`` (valid, from
              :func:`creditsup.uscc.generate`), ``entity_type``, ``industry``
              (the synthetic district's shares per type), ``region``,
              ``established``, ``status``, ``key_supervision`` and ``tier``
              (the default five-tier profile, 1 % without a tier).
``read``      one pass of ``dask.dataframe.read_parquet`` over every file,
              measured alone (the eligibility pass reads them again);
``eligible pools``  per partition, on Dask (read + ``eligible_pools``);
``merge/allocate``  driver: ``merge_pools`` and ``allocate``;
``select``    per partition, on Dask (``select_candidates``);
``merge/visits``    driver: the global SRSWOR cut, visits, cap, months,
              the result tables and the ledger; the checks table (some 1.3
              rows per entity) is written piece by piece to
              ``<data-dir>/<dataset>-checks.parquet`` (``checks_sink``), never
              held whole.

The small tables (items, inspectors) come from the synthetic district;
history, records and conflicts are empty. The tiers travel with the entities
(the slice's ``tier`` column; the tiers frame of the draw has no row), so no
task needs the 50M-row tiers frame.

Figures per stage: wall time, CPU time of the driver and its Dask worker
processes, and the peak RSS of that whole process tree (psutil, sampled every
50 ms).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditsup import uscc as _uscc
from creditsup._random import stage_rng
from creditsup.datasets import _catalog as cat
from creditsup.datasets import synthetic_district
from creditsup.schemas import TIERS, Dataset

#: The default tier profile for five tiers (``creditsup.tiers``): A..E shares.
TIER_SHARES = (0.20, 0.55, 0.15, 0.07, 0.03)
#: Share of entities without a tier (they get the policy's new-entity tier).
UNTIERED = 0.01
COLUMNS = (
    "uscc",
    "entity_type",
    "industry",
    "region",
    "established",
    "status",
    "key_supervision",
    "tier",
)
#: The synthetic district that lends its items and inspectors (entities, inspectors).
_TEMPLATE = (20_000, 60)
_FORMAT = 1


def _region_codes(p: int) -> np.ndarray[Any, Any]:
    """Twenty county codes of prefecture ``p`` (unique per partition)."""
    province, city = 11 + p // 90, 1 + p % 90
    if province > 99:
        raise ValueError("At most 8,010 partitions.")
    return np.array([f"{province:02d}{city:02d}{c:02d}" for c in range(1, 21)])


def _unique_usccs(
    rng: np.random.Generator, at: np.ndarray[Any, Any], region: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    codes = _uscc.generate(len(at), rng=rng, authority_type=at, region=region)
    for _ in range(100):
        dup = pd.Series(codes).duplicated().to_numpy()
        if not dup.any():
            return codes
        codes[dup] = _uscc.generate(
            int(dup.sum()), rng=rng, authority_type=at[dup], region=region[dup]
        )
    raise RuntimeError("could not draw unique USCCs")


def entity_partition(p: int, rows: int, *, seed: str, year: int) -> pd.DataFrame:
    """Partition ``p``: ``rows`` entities of one prefecture (vectorised).

    Examples
    --------
    >>> df = entity_partition(3, 500, seed="s", year=2026)
    >>> len(df), df["uscc"].is_unique, sorted(df.columns) == sorted(COLUMNS)
    (500, True, True)
    """
    rng = stage_rng(seed, "nation", str(p))
    shares = np.array(list(cat.ENTITY_TYPE_SHARES.values()))
    etype = rng.choice(len(shares), size=rows, p=shares / shares.sum())
    weights = np.array([i.weights for i in cat.INDUSTRIES], dtype=np.float64)
    ind = np.zeros(rows, dtype=np.int64)
    for t in range(len(shares)):
        m = etype == t
        w = weights[:, t] / weights[:, t].sum()
        ind[m] = rng.choice(len(w), size=int(m.sum()), p=w)
    regions = _region_codes(p)
    region = regions[rng.integers(0, len(regions), rows)]
    other = np.where(
        np.isin([i.code for i in cat.INDUSTRIES], ["P8310", "P8391"])[ind], "52", "12"
    )
    at = np.select([etype == 0, etype == 1, etype == 2], ["92", "91", "93"], other)
    usccs = _unique_usccs(rng, at.astype(object), region.astype(object))
    snap = np.datetime64(f"{year}-03-31", "D")
    mean_y = np.array([5.5, 8.0, 6.0, 15.0])[etype]
    age_d = np.floor(rng.exponential(mean_y) * 365.25).clip(0, 45 * 365).astype(int)
    status = rng.choice(3, size=rows, p=[0.97, 0.02, 0.01])
    key = np.array([i.key for i in cat.INDUSTRIES])[ind]
    key_sup = rng.random(rows) < np.where(key, 0.85, 0.004)
    tier = rng.choice(len(TIERS), size=rows, p=TIER_SHARES)
    tier_text = np.array(TIERS, dtype=object)[tier]
    tier_text[rng.random(rows) < UNTIERED] = None
    return pd.DataFrame(
        {
            "uscc": pd.array(usccs, dtype="str"),
            "entity_type": np.array(list(cat.ENTITY_TYPE_SHARES))[etype],
            "industry": np.array([i.code for i in cat.INDUSTRIES])[ind],
            "region": region,
            "established": (snap - age_d - 1).astype("datetime64[us]"),
            "status": np.array(["active", "deregistered", "revoked"])[status],
            "key_supervision": key_sup,
            "tier": pd.array(tier_text, dtype="str"),
        }
    )


def write_dataset(
    folder: Path, *, entities: int, files: int, seed: str, year: int
) -> Path:
    """The partitioned Parquet dataset (written file by file; reused if complete)."""
    meta = {"format": _FORMAT, "entities": entities, "files": files, "seed": seed}
    meta_path = folder / "_meta.json"
    if meta_path.is_file() and json.loads(meta_path.read_text()) == meta:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, entities, files + 1).round().astype(int)
    for p in range(files):
        path = folder / f"part-{p:05d}.parquet"
        if path.is_file():  # an interrupted run: the files written stay valid
            continue
        df = entity_partition(p, int(bounds[p + 1] - bounds[p]), seed=seed, year=year)
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
        os.replace(tmp, path)
    meta_path.write_text(json.dumps(meta))
    return folder


def files_of(folder: Path) -> list[Path]:
    """The Parquet files of the dataset, in order."""
    return sorted(folder.glob("part-*.parquet"))


def small_tables(entities: int, inspectors: int, *, seed: str, year: int) -> Dataset:
    """Items and inspectors of the synthetic district, scaled to the nation.

    The inspectors of a 20,000-entity district are repeated (new ids) up to
    ``inspectors`` and their monthly capacity scaled so that the roster's
    capacity per entity is that of the district. History, records and
    conflicts are empty; ``entities`` is an empty frame of the dataset's
    columns (the entities come partition by partition).
    """
    n0, k0 = _TEMPLATE
    ds = synthetic_district(n0, k0, seed=seed, year=year, history_years=0)
    inspectors = max(inspectors, k0)  # every department of the template
    reps = max(1, -(-inspectors // k0))
    ins = pd.concat([ds.inspectors] * reps, ignore_index=True).iloc[:inspectors]
    copy = np.repeat(np.arange(reps), k0)[: len(ins)]
    ins = ins.assign(
        inspector_id=ins["inspector_id"].astype(str) + "-" + copy.astype(str),
        monthly_capacity=np.ceil(
            ins["monthly_capacity"].to_numpy() * entities * k0 / (n0 * len(ins))
        ).astype(np.int64),
    )
    empty = entity_partition(0, 0, seed=seed, year=year)
    return dataclasses.replace(
        ds,
        entities=empty,
        inspectors=ins.reset_index(drop=True),
        history=ds.history.iloc[:0],
        records=ds.records.iloc[:0],
        conflicts=ds.conflicts.iloc[:0],
    )


def no_tiers() -> pd.DataFrame:
    """The tiers frame of the draw: no row (the tiers are in the partitions)."""
    return pd.DataFrame({"uscc": pd.Series([], dtype="str"), "tier": []})


class Monitor:
    """Wall, CPU and peak RSS of this process and its children, per stage."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self._me = psutil.Process()
        self._interval = interval
        self._peak = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._dead_cpu = 0.0
        self._seen: dict[int, float] = {}
        self.rows: dict[str, dict[str, float]] = {}
        self.peak_mib = 0.0
        #: tasks finished in the current pass (threaded scheduler only)
        self.done = 0
        self._name: str | None = None
        self._t = self._c = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _procs(self) -> list[Any]:
        try:
            return [self._me, *self._me.children(recursive=True)]
        except Exception:
            return [self._me]

    def rss_mib(self) -> float:
        total = 0
        for p in self._procs():
            try:
                total += p.memory_info().rss
            except Exception:
                continue
        return total / 2**20

    def cpu_s(self) -> float:
        """CPU seconds (user + system) of the tree, children that ended included."""
        now: dict[int, float] = {}
        for p in self._procs():
            try:
                t = p.cpu_times()
                now[p.pid] = t.user + t.system
            except Exception:
                continue
        with self._lock:
            for pid, c in self._seen.items():
                if pid not in now:
                    self._dead_cpu += c
            self._seen = now
            return self._dead_cpu + sum(now.values())

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            rss = self.rss_mib()
            self._peak = max(self._peak, rss)
            self.peak_mib = max(self.peak_mib, rss)
            self.cpu_s()

    def start(self, name: str) -> None:
        self.stop()
        self._name = name
        self._peak = self.rss_mib()
        self._t, self._c = time.perf_counter(), self.cpu_s()

    def stop(self) -> None:
        if self._name is None:
            return
        rss = self.rss_mib()
        self.peak_mib = max(self.peak_mib, rss)
        row = self.rows.setdefault(
            self._name, {"wall_s": 0.0, "cpu_s": 0.0, "peak_rss_mib": 0.0}
        )
        row["wall_s"] += time.perf_counter() - self._t
        row["cpu_s"] += self.cpu_s() - self._c
        row["peak_rss_mib"] = max(row["peak_rss_mib"], self._peak, rss)
        self._name = None

    def close(self) -> None:
        self.stop()
        self._stop.set()
        self._thread.join()


def staged_mapper(
    mapper: Callable[..., Any], clock: Monitor, *, count: bool = False
) -> Callable[..., Any]:
    """``mapper`` that opens the stage of each pass of ``draw_partitioned``.

    Pass 1 is eligibility (then the driver merges and allocates), pass 2 the
    selection (then the driver merges the visits); further passes (a budget
    fit) add to those two stages. ``count``: count the tasks done (threads
    only: the counting function holds the monitor, which does not pickle).
    """
    calls = [0]

    def run(fn: Callable[[Any], Any], items: Sequence[Any], /) -> list[Any]:
        calls[0] += 1
        first = calls[0] == 1
        clock.start("eligible pools" if first else "select")
        clock.done = 0

        def counted(x: Any) -> Any:
            result = fn(x)
            clock.done += 1
            return result

        out = list(mapper(counted if count else fn, items))
        clock.start("merge/allocate" if first else "merge/visits")
        return out

    return run


@contextmanager
def scheduler(kind: str, workers: int) -> Iterator[dict[str, Any]]:
    """The Dask scheduler: ``threads`` (one process) or ``processes`` (LocalCluster)."""
    import dask

    info: dict[str, Any] = {"scheduler": kind, "workers": workers}
    if kind == "threads":
        with dask.config.set(scheduler="threads", num_workers=workers):
            yield info
        return
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=0,
        ) as cluster,
        Client(cluster) as client,
    ):
        info["address"] = client.scheduler.address
        yield info


def read_partitions(folder: Path) -> Any:
    """The dataset as a Dask DataFrame, one partition per file."""
    import dask.dataframe as dd

    return dd.read_parquet(
        [str(f) for f in files_of(folder)],
        columns=list(COLUMNS),
        split_row_groups=False,
    )


class ParquetSink:
    """Writes the pieces of a table to one Parquet file as they come.

    The file appears (atomically, by rename) on :meth:`close`; ``rows``
    counts the rows written.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.rows = path, 0
        self._tmp = path.with_suffix(".tmp")
        self._writer: pq.ParquetWriter | None = None

    def __call__(self, piece: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(piece, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        self._writer.write_table(table)
        self.rows += len(piece)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            os.replace(self._tmp, self.path)


def run_draw(
    folder: Path,
    ds: Dataset,
    *,
    kind: str = "threads",
    workers: int = 2,
    year: int = 2026,
    seed: str = "nation",
    clock: Monitor | None = None,
    checks_to: Path | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The draw of the Parquet dataset on Dask; the result and the run's facts.

    ``checks_to``: the checks table is written there piece by piece
    (``draw_partitioned(..., checks_sink=...)``), not held (the result's
    ``checks`` has no row; ``info["checks"]`` counts the rows written).
    """
    import dask.dataframe  # noqa: F401 - imported before the clock starts

    from creditsup.distributed import dask_mapper
    from creditsup.sampling import SamplingPolicy, draw_partitioned

    own = clock is None
    clock = clock or Monitor()
    sink = None if checks_to is None else ParquetSink(checks_to)
    try:
        with scheduler(kind, workers) as info:
            clock.start("read")
            ddf = read_partitions(folder)
            rows = int(ddf.map_partitions(len).compute().sum())
            clock.start("eligible pools")
            result = draw_partitioned(
                ds,
                no_tiers(),
                SamplingPolicy(),
                year=year,
                seed=seed,
                partitions=ddf.to_delayed(),
                mapper=staged_mapper(dask_mapper, clock, count=kind == "threads"),
                checks_sink=sink,
            )
            if sink is not None:
                sink.close()
            clock.stop()
    finally:
        if own:
            clock.close()
    info.update(
        rows=rows,
        partitions=int(ddf.npartitions),
        checks=len(result.checks) if sink is None else sink.rows,
    )
    return result, info


#: name: (entities, files, inspectors)
SIZES = {
    "nation-smoke": (3_000, 3, 60),
    "nation-5m": (5_000_000, 10, 9_000),
    "nation-10m": (10_000_000, 20, 18_000),
    "nation": (50_000_000, 100, 90_000),
}


def _guard(clock: Monitor, limit_mib: float, out: Path, facts: dict[str, Any]) -> None:
    """Stop the run when the process tree passes ``limit_mib`` (protects the machine).

    The figures measured so far are written to ``out`` and the process ends
    at once (exit status 3): Dask's worker threads would otherwise finish
    their tasks before the interpreter could exit.
    """

    def watch() -> None:
        while True:
            time.sleep(0.05)
            rss = clock.rss_mib()
            if rss > limit_mib:
                stage = clock._name
                clock.stop()
                facts["aborted"] = {"stage": stage, "rss_mib": rss}
                facts["stages"] = clock.rows
                facts["partitions_done"] = clock.done
                out.write_text(json.dumps(facts, indent=1))
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def measure(
    name: str,
    data_dir: Path,
    *,
    kind: str = "threads",
    workers: int = 2,
    max_rss_mib: float = 12 * 1024,
    out: Path | None = None,
    seed: str = "nation",
    year: int = 2026,
) -> dict[str, Any]:
    """One run of the scenario: generate (or reuse), read, draw; figures per stage."""
    n, files, k = SIZES[name]
    folder = data_dir / f"{name}-{n}-{files}"
    clock = Monitor()
    facts: dict[str, Any] = {
        "entities": n,
        "files": files,
        "inspectors": k,
        "scheduler": kind,
        "workers": workers,
        "max_rss_mib": max_rss_mib,
    }
    if out is not None:
        _guard(clock, max_rss_mib, out, facts)
    t0 = time.perf_counter()
    clock.start("generate")
    cached = (folder / "_meta.json").is_file()
    write_dataset(folder, entities=n, files=files, seed=seed, year=year)
    ds = small_tables(n, k, seed=seed, year=year)
    clock.stop()
    gen_path = folder / "_generate.json"
    if not cached:
        gen_path.write_text(json.dumps(clock.rows["generate"]))
    facts["generate_cached"] = cached
    facts["generate_first_run"] = (
        json.loads(gen_path.read_text()) if gen_path.is_file() else None
    )
    t1 = time.perf_counter()
    try:
        result, info = run_draw(
            folder,
            ds,
            kind=kind,
            workers=workers,
            year=year,
            seed=seed,
            clock=clock,
            checks_to=data_dir / f"{folder.name}-checks.parquet",
        )
    except KeyboardInterrupt:
        clock.stop()
        facts.update(stages=clock.rows, draw_s=time.perf_counter() - t1)
        return facts
    finally:
        clock.close()
    facts.update(info)
    facts.update(
        stages=clock.rows,
        draw_s=time.perf_counter() - t1,
        end_to_end_s=time.perf_counter() - t0,
        peak_rss_mib=clock.peak_mib,
        visits=len(result.visits),
        visits_sha256=hashlib.sha256(
            result.visits.to_csv(index=False).encode()
        ).hexdigest(),
    )
    return facts


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/_nation.py NAME DATA_DIR OUT_JSON [--scheduler ...]``."""
    import argparse

    ap = argparse.ArgumentParser(description="One run of a nation scenario.")
    ap.add_argument("name", choices=list(SIZES))
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--scheduler", choices=("threads", "processes"), default="threads")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-rss-gib", type=float, default=12.0)
    a = ap.parse_args(argv)
    facts = measure(
        a.name,
        a.data_dir,
        kind=a.scheduler,
        workers=a.workers,
        max_rss_mib=a.max_rss_gib * 1024,
        out=a.out,
    )
    a.out.write_text(json.dumps(facts, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
