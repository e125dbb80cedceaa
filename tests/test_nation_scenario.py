"""The nation scenario at its smoke size: Parquet partitions on Dask give the
single-machine draw, whatever the files, and the benchmark writes its rows."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("psutil")

BENCH = Path(__file__).parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _nation as N  # noqa: E402
from _stages import NATION_STAGES  # noqa: E402

from creditsup.exceptions import DataValidationError  # noqa: E402
from creditsup.sampling import (  # noqa: E402
    DrawResult,
    SamplingPolicy,
    draw_partitioned,
    draw_visits,
)
from creditsup.schemas import Dataset  # noqa: E402
from strategies import DRAW_FRAMES as FRAMES  # noqa: E402

YEAR, SEED, N_ENTITIES = 2026, "nation", 3_000


@pytest.fixture(scope="module")
def nation() -> tuple[Dataset, pd.DataFrame]:
    """Small tables and the entities of three prefectures (with their tiers)."""
    ds = N.small_tables(N_ENTITIES, 60, seed=SEED, year=YEAR)
    rows = [
        N.entity_partition(p, n, seed=SEED, year=YEAR)
        for p, n in enumerate((1_200, 1_000, 800))
    ]
    ents = pd.concat(rows, ignore_index=True)
    return ds, ents.sample(frac=1.0, random_state=1).reset_index(drop=True)


def _write(ents: pd.DataFrame, folder: Path, files: int) -> Path:
    folder.mkdir()
    for p, part in enumerate(np.array_split(np.arange(len(ents)), files)):
        table = pa.Table.from_pandas(ents.iloc[part], preserve_index=False)
        pq.write_table(table, folder / f"part-{p:05d}.parquet")
    return folder


def _same(a: DrawResult, b: DrawResult) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert json.dumps(a.ledger) == json.dumps(b.ledger)
    assert a.warnings == b.warnings and a.budget == b.budget


@pytest.fixture(scope="module")
def single_machine(nation: tuple[Dataset, pd.DataFrame]) -> DrawResult:
    ds, ents = nation
    whole = dataclasses.replace(ds, entities=ents.drop(columns="tier"))
    return draw_visits(
        whole, ents[["uscc", "tier"]], SamplingPolicy(), year=YEAR, seed=SEED
    )


def test_the_smoke_nation_is_a_real_draw(
    nation: tuple[Dataset, pd.DataFrame], single_machine: DrawResult
) -> None:
    _, ents = nation
    assert ents["uscc"].is_unique and ents["tier"].isna().any()
    assert set(ents["status"]) == {"active", "deregistered", "revoked"}
    res = single_machine
    assert 0.1 < len(res.visits) / len(ents) < 0.3
    assert (res.assumed_tiers["reason_code"] == "untiered").any()
    assert not any(w["code"] == "capacity_exceeded" for w in res.warnings)


@pytest.mark.parametrize("files", [1, 3, 7])
def test_parquet_partitions_on_dask_give_the_single_machine_draw(
    nation: tuple[Dataset, pd.DataFrame],
    single_machine: DrawResult,
    tmp_path: Path,
    files: int,
) -> None:
    ds, ents = nation
    folder = _write(ents, tmp_path / "nation", files)
    res, info = N.run_draw(folder, ds, kind="threads", year=YEAR, seed=SEED)
    assert info["partitions"] == files and info["rows"] == len(ents)
    _same(single_machine, res)


@pytest.mark.parametrize(("files", "chunk"), [(1, 500), (4, 1_000), (7, 10**6)])
def test_the_streamed_checks_are_the_single_machine_table(
    nation: tuple[Dataset, pd.DataFrame],
    single_machine: DrawResult,
    files: int,
    chunk: int,
) -> None:
    ds, ents = nation
    rows = ents.sample(frac=1.0, random_state=files)
    pieces: list[pd.DataFrame] = []
    res = draw_partitioned(
        ds,
        N.no_tiers(),
        year=YEAR,
        seed=SEED,
        partitions=[
            rows.iloc[ix] for ix in np.array_split(np.arange(len(rows)), files)
        ],
        checks_sink=pieces.append,
        chunk_rows=chunk,
    )
    want = single_machine.checks
    assert len(pieces) == max(1, -(-len(want) // chunk))
    assert all(len(p) <= chunk for p in pieces) and len(res.checks) == 0
    assert list(res.checks.columns) == list(want.columns)
    got = pd.concat(pieces, ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
    for name in set(FRAMES) - {"checks"}:
        pd.testing.assert_frame_equal(getattr(res, name), getattr(single_machine, name))
    assert json.dumps(res.ledger) == json.dumps(single_machine.ledger)


def test_the_benchmark_writes_the_checks_to_parquet(
    nation: tuple[Dataset, pd.DataFrame],
    single_machine: DrawResult,
    tmp_path: Path,
) -> None:
    ds, ents = nation
    folder = _write(ents, tmp_path / "nation", 3)
    path = tmp_path / "checks.parquet"
    res, info = N.run_draw(folder, ds, year=YEAR, seed=SEED, checks_to=path)
    got = pq.read_table(path).to_pandas()
    assert info["checks"] == len(got) == len(single_machine.checks)
    pd.testing.assert_frame_equal(got, single_machine.checks, check_dtype=False)
    pd.testing.assert_frame_equal(res.visits, single_machine.visits)


def test_a_local_cluster_gives_the_same_draw(
    nation: tuple[Dataset, pd.DataFrame],
    single_machine: DrawResult,
    tmp_path: Path,
) -> None:
    pytest.importorskip("distributed")
    ds, ents = nation
    folder = _write(ents, tmp_path / "nation", 3)
    res, info = N.run_draw(folder, ds, kind="processes", year=YEAR, seed=SEED)
    assert info["address"].startswith("tcp://")
    _same(single_machine, res)


def test_a_slice_with_an_unknown_tier_is_refused(
    nation: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, ents = nation
    bad = ents.iloc[:50].assign(tier=["A"] * 49 + ["Z"])
    with pytest.raises(DataValidationError) as err:
        draw_partitioned(
            ds, N.no_tiers(), year=YEAR, seed=SEED, partitions=[bad, ents.iloc[50:]]
        )
    cases = err.value.failure_cases
    assert cases[["column", "row", "value"]].values.tolist() == [["tier", 49, "Z"]]


def test_the_benchmark_smoke_run_writes_its_rows(tmp_path: Path) -> None:
    out = tmp_path / "results"
    res = subprocess.run(
        [
            *(sys.executable, str(BENCH / "run.py"), "--scenario", "nation-smoke"),
            *("--out", str(out), "--data-dir", str(tmp_path / "data")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    row = json.loads((out / "run.json").read_text())["scenarios"]["nation-smoke"]
    assert row["kind"] == "nation" and row["entities"] == N_ENTITIES
    stages = row["after"]["stages"]
    assert list(stages) == list(NATION_STAGES)
    assert all(r["wall_s"] > 0 and r["peak_rss_mib"] > 0 for r in stages.values())
    assert row["after"]["visits"] > 0 and not row["after"]["aborted"]
    assert "## nation-smoke: 3,000 entities" in (out / "run.md").read_text()
    files = sorted((tmp_path / "data").glob("nation-smoke-*/part-*.parquet"))
    assert len(files) == 3
