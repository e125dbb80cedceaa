"""A declared seed source (issue #17): bound by the commitment, recorded, published, checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from creditsup.datasets import synthetic_tables
from creditsup.io import write_dataset

SOURCE = "福彩3D, draw of 2026-01-05"
FORM = "[0-9] [0-9] [0-9]"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("seed") / "data"
    write_dataset(synthetic_tables(300, 30, seed="src", year=2026), d)
    return d


def test_the_commitment_binds_the_seed_source(data: Path) -> None:
    plain = cli("commit", str(data), "--year", "2026").stdout.strip()
    declared = cli(
        "commit", str(data), "--year", "2026", "--seed-source", SOURCE
    ).stdout.strip()
    other = cli(
        "commit", str(data), "--year", "2026", "--seed-source", "双色球 2026001"
    ).stdout.strip()
    with_form = cli(
        "commit",
        str(data),
        "--year",
        "2026",
        "--seed-source",
        SOURCE,
        "--seed-form",
        FORM,
    ).stdout.strip()
    assert len({plain, declared, other, with_form}) == 4
    assert all(len(c) == 64 for c in (plain, declared, other, with_form))


def test_recorded_published_and_verified(data: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    args = ["--year", "2026", "--out", str(plan), "--quiet"]
    source = ["--seed-source", SOURCE, "--seed-form", FORM]
    bad = cli("plan", str(data), "--seed", "hello", *args, *source)
    assert bad.returncode == 2 and "form" in bad.stderr and not plan.exists()
    res = cli("plan", str(data), "--seed", "3 0 7", *args, *source)
    assert res.returncode in (0, 3), res.stderr
    commitment = cli("commit", str(data), "--year", "2026", *source).stdout.strip()
    prov = json.loads((plan / "provenance.json").read_text("utf-8"))
    assert prov["seed_source"] == {"text": SOURCE, "form": FORM}
    assert prov["seed_commitment"] == commitment
    first = json.loads((plan / "ledger.jsonl").read_text("utf-8").splitlines()[0])
    assert first["seed_source"] == {"text": SOURCE, "form": FORM}
    pub = tmp_path / "pub"
    assert cli("publish", str(plan), "--out", str(pub), "--no-excel").returncode == 0
    draw = pd.read_csv(pub / "draw.csv", dtype=str, encoding="utf-8-sig")
    draw.columns = [c.rsplit(" ", 1)[-1] for c in draw.columns]
    assert draw.loc[0, "seed_source"] == SOURCE
    assert draw.loc[0, "seed_commitment"] == commitment
    assert cli("verify", str(plan), "--data", str(data)).returncode == 0
    # a bundle whose declared form the seed does not have fails verification
    prov["seed_source"]["form"] = "[a-z]+"
    (plan / "provenance.json").write_text(json.dumps(prov), "utf-8")
    res = cli("verify", str(plan), "--data", str(data))
    assert res.returncode == 1 and "Traceback" not in res.stderr
