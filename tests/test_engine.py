"""The Dask engine gives the local engine's plan, byte for byte (issue #14).

A small synthetic district is written as a partitioned Parquet dataset and
planned by both engines; the Dask engine runs on a 2-worker ``LocalCluster``
(processes, as on a real cluster: every task's input and output is pickled).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

from creditsup.datasets import synthetic_tables  # noqa: E402
from creditsup.exceptions import DataValidationError  # noqa: E402
from creditsup.io import PARTITIONED_TABLES, dataset_files, write_dataset  # noqa: E402
from creditsup.plan import build_plan  # noqa: E402
from creditsup.schemas import load_dataset  # noqa: E402
from strategies import engine_layouts  # noqa: E402

CREATED = "2026-11-30T08:00:00+00:00"
N_ENTITIES = 2500


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return synthetic_tables(N_ENTITIES, 40, seed="engine", year=2026)


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory, tables) -> Path:
    root = tmp_path_factory.mktemp("engine")
    return write_dataset(tables, root / "pq", fmt="parquet", partitions=3)


def _files(plan, folder: Path) -> dict[str, str]:
    plan.save(folder)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_synth_writes_part_files(parquet_dir: Path) -> None:
    for table in ("entities", "records", "history", "conflicts"):
        parts = sorted(p.name for p in (parquet_dir / table).glob("*.parquet"))
        assert parts == [f"part-{k:05d}.parquet" for k in range(3)], table
    assert (parquet_dir / "inspectors.parquet").is_file()
    whole = pd.read_parquet(parquet_dir / "entities")
    assert len(whole) == N_ENTITIES
    # the local engine reads the part files as one table
    assert len(load_dataset(parquet_dir).entities) == N_ENTITIES


@pytest.fixture(scope="module")
def local(parquet_dir: Path, tmp_path_factory) -> tuple[object, dict[str, str]]:
    plan = build_plan(parquet_dir, year=2027, seed="equal", created_at=CREATED)
    return plan, _files(plan, tmp_path_factory.mktemp("local") / "a")


@pytest.mark.parametrize("partitions", [1, 4, 7])
def test_dask_plan_is_the_local_plan_byte_for_byte(
    cluster, parquet_dir: Path, tmp_path: Path, partitions: int, local
) -> None:
    local, a = local
    dask_plan = build_plan(
        parquet_dir,
        year=2027,
        seed="equal",
        created_at=CREATED,
        engine="dask",
        partitions=partitions,
    )
    b = _files(dask_plan, tmp_path / "b")
    assert len(a) >= 15
    assert a == b
    assert len(local.visits) > 100
    # the relationship indicators are live: their counts cross partitions
    assert local.scores["reasons"].str.contains("shared_address").any()


def test_row_order_and_file_layout_do_not_matter(
    cluster, tables, tmp_path: Path
) -> None:
    """Rows shuffled and cut into 5 files of other sizes: the same plan."""
    shuffled = {
        k: v.sample(frac=1.0, random_state=3).reset_index(drop=True)
        for k, v in tables.items()
    }
    one = write_dataset(tables, tmp_path / "one", fmt="parquet")
    five = write_dataset(shuffled, tmp_path / "five", fmt="parquet", partitions=5)
    kw = {"year": 2027, "seed": "order", "created_at": CREATED}
    a = _files(build_plan(one, **kw), tmp_path / "a")
    b = _files(build_plan(five, engine="dask", partitions=3, **kw), tmp_path / "b")
    assert a == b


@functools.cache
def _district(n: int, seed: str) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """A tiny district's tables and the local engine's bundle digests (once each)."""
    tables = synthetic_tables(n, 12, seed=seed, year=2026)
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_dataset(tables, Path(tmp) / "one", fmt="parquet")
        plan = build_plan(folder, year=2027, seed=seed, created_at=CREATED)
        return tables, _files(plan, Path(tmp) / "a")


def _write_parts(
    tables: dict[str, pd.DataFrame], folder: Path, cuts: list[float]
) -> None:
    """The partitioned tables cut at ``cuts`` (shares of rows) into part files."""
    for name, df in tables.items():
        if name not in PARTITIONED_TABLES:
            for rel, data in dataset_files({name: df}, fmt="parquet").items():
                (folder / rel).write_bytes(data)
            continue
        bounds = [
            0,
            *sorted({round(c * len(df)) for c in cuts} - {0, len(df)}),
            len(df),
        ]
        (folder / name).mkdir()
        for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            part = dataset_files({name: df.iloc[lo:hi]}, fmt="parquet")
            (folder / name / f"part-{k:05d}.parquet").write_bytes(
                part[f"{name}.parquet"]
            )


@settings(max_examples=8)
@given(layout=engine_layouts())
def test_dask_engine_equals_the_local_engine_property(
    layout: dict[str, object],
) -> None:
    """Any district, row order, cut of the part files and partition count: the
    local engine's bundle, byte for byte (Dask's threads; the cluster's case is
    the fixed test above)."""
    import dask

    tables, a = _district(*layout["district"])  # type: ignore[misc]
    order = int(layout["order"])  # type: ignore[call-overload]
    shuffled = {
        k: v.sample(frac=1.0, random_state=order % 2**32).reset_index(drop=True)
        for k, v in tables.items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "parts"
        folder.mkdir()
        _write_parts(shuffled, folder, layout["cuts"])  # type: ignore[arg-type]
        with dask.config.set(scheduler="threads", num_workers=2):
            plan = build_plan(
                folder,
                year=2027,
                seed=layout["district"][1],  # type: ignore[index]
                created_at=CREATED,
                engine="dask",
                partitions=layout["partitions"],
            )
        b = _files(plan, Path(tmp) / "b")
    assert len(a) >= 15
    assert a == b


def test_bad_rows_are_reported_as_the_local_engine_reports_them(
    cluster, tables, tmp_path: Path
) -> None:
    bad = {k: v.copy() for k, v in tables.items()}
    ent = bad["entities"]
    ent["uscc"] = ent["uscc"].astype(object)
    ent.loc[2100, "uscc"] = "91440300192203821X"  # a wrong check character
    hist = bad["history"]
    hist["uscc"] = hist["uscc"].astype(object)
    hist.loc[5, "uscc"] = "914403001922038216"  # valid, but no such entity
    folder = write_dataset(bad, tmp_path / "bad", fmt="parquet", partitions=3)
    with pytest.raises(DataValidationError) as local:
        load_dataset(folder)
    with pytest.raises(DataValidationError) as dask_err:
        build_plan(folder, year=2027, seed="x", engine="dask", partitions=4)
    pd.testing.assert_frame_equal(
        dask_err.value.failure_cases, local.value.failure_cases
    )
    rules = set(local.value.failure_cases["rule"])
    assert {"invalid_uscc", "unknown_reference"} <= rules


def test_dask_engine_needs_a_folder(tables) -> None:
    from creditsup.schemas import validate_dataset

    ds = validate_dataset(tables)
    with pytest.raises(TypeError, match="dataset folder"):
        build_plan(ds, year=2027, seed="x", engine="dask")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "CREDITSUP_LANG": "en"}
    if env.get("PYTHONPATH"):  # a relative entry (PYTHONPATH=src) must survive cwd
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p
        )
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def test_plan_engine_dask_through_the_cli(parquet_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(parquet_dir, data)
    common = ["plan", "data", "--year", "2027", "--seed", "cli", "--quiet"]
    loc = _cli(*common, "--out", "L", cwd=tmp_path)
    dsk = _cli(
        *common, "--out", "D", "--engine", "dask", "--workers", "2", cwd=tmp_path
    )
    assert loc.returncode in (0, 3), loc.stderr
    assert dsk.returncode == loc.returncode, dsk.stderr
    assert "Traceback" not in dsk.stderr

    def digests(folder: Path) -> dict[str, str]:
        skip = {"provenance.json", "ledger.jsonl"}  # they hold created_at
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip
        }

    assert digests(tmp_path / "L") == digests(tmp_path / "D")
    # the Dask bundle replays on the local engine: ledger and provenance agree
    ver = _cli("verify", "D", "--data", "data", cwd=tmp_path)
    assert ver.returncode == 0, ver.stdout + ver.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--engine", "spark"], "--engine"),
        (["--partitions", "2"], "--partitions"),
        (["--engine", "dask", "--partitions", "0"], "partitions"),
    ],
)
def test_plan_engine_usage_errors(
    parquet_dir: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    res = _cli(
        "plan", str(parquet_dir), "--year", "2027", "--seed", "s", "--out", "o", *args,
        cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 2
    assert needle in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_synth_partitions_need_parquet(tmp_path: Path) -> None:
    res = _cli(
        "synth", "--out", "d", "--entities", "50", "--inspectors", "5",
        "--partitions", "3", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 2
    assert "--format parquet" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    ok = _cli(
        "synth", "--out", "d", "--entities", "50", "--inspectors", "5",
        "--format", "parquet", "--partitions", "3", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert len(list((tmp_path / "d" / "entities").glob("*.parquet"))) == 3
    assert np.isclose(len(pd.read_parquet(tmp_path / "d" / "entities")), 50)
