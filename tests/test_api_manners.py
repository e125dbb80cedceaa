"""Python API and CLI manners (issue #15): clear errors at the boundary, short reprs, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import creditsup as cs
from creditsup.exceptions import ConfigError


@pytest.fixture(scope="module")
def ds() -> cs.Dataset:
    return cs.synthetic_district(300, 30, seed=1)


def test_boundary_errors_name_the_parameter(ds: cs.Dataset) -> None:
    with pytest.raises(TypeError, match="'year' must be an integer"):
        cs.build_plan(ds, year="2026", seed="s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'dataset' must be a creditsup Dataset"):
        cs.build_plan(ds.entities, year=2026, seed="s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'policy' must be a creditsup Policy"):
        cs.build_plan(ds, {"sampling": {}}, year=2026, seed="s")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'year' must be in"):
        cs.build_plan(ds, year=20260, seed="s")
    with pytest.raises(ConfigError, match="ISO date"):
        cs.rate_entities(ds, as_of="01/02/2025")
    with pytest.raises(TypeError, match="'dataset'"):
        cs.rate_entities(ds.entities, as_of="2025-12-31")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'data'"):
        cs.verify_plan("somewhere", ds.entities)  # type: ignore[arg-type]


def test_short_reprs_and_html(ds: cs.Dataset) -> None:
    tiers = cs.rate_entities(ds, as_of="2025-12-31")
    plan = cs.build_plan(ds, year=2026, seed="s")
    for obj, head in (
        (ds, "Dataset("),
        (tiers, "TierResult("),
        (plan, "InspectionPlan("),
    ):
        text = repr(obj)
        assert text.startswith(head) and len(text) < 200, text
        assert "<table" in obj._repr_html_()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )


def test_json_output_of_validate_plan_and_verify(tmp_path: Path) -> None:
    data, plan = tmp_path / "data", tmp_path / "plan"
    assert (
        _cli(
            "synth", "--entities", "300", "--inspectors", "30", "--out", str(data)
        ).returncode
        == 0
    )
    res = _cli("validate", str(data), "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout)["valid"] is True
    res = _cli(
        "plan",
        str(data),
        "--year",
        "2026",
        "--seed",
        "s",
        "--out",
        str(plan),
        "--format",
        "json",
    )
    doc = json.loads(res.stdout)
    assert res.returncode == (0 if doc["feasible"] else 3)
    assert doc["summary"]["visits"] >= 1 and "unfilled" in doc["diagnostics"]
    res = _cli("verify", str(plan), "--data", str(data), "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout)["ok"] is True
    (plan / "visits.csv").write_text("tampered\n", "utf-8")
    res = _cli("verify", str(plan), "--data", str(data), "--format", "json")
    doc = json.loads(res.stdout)
    assert res.returncode == 1 and doc["ok"] is False and doc["differences"]
    bad = _cli("validate", str(data), "--format", "yaml")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")
