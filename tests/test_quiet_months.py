"""Quiet months hold in every step, repair included (issue #12, R16)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

import creditsup as cs
from creditsup.plan import check_invariants


def test_quiet_months_hold_through_repair_and_verify(tmp_path: Path) -> None:
    ds = cs.synthetic_district(1500, 30, seed=3)
    policy = cs.Policy.model_validate({"sampling": {"months": [6, 9]}})
    plan = cs.build_plan(ds, policy, year=2026, seed="quiet")
    assert len(plan.visits) > 20
    assert set(plan.visits["month"]) <= {6, 9}
    moves = [r for r in plan.ledger if r.get("step") == "repair"]
    for rec in moves:  # repair moved visits, but only between the allowed months
        assert all(int(m["to"]) in (6, 9) for m in rec.get("moved", []))
    assert not [p for p in check_invariants(plan, ds) if p.startswith("months")]
    # the check can fail: a visit moved to March is caught by verify and the invariants
    data, bundle = tmp_path / "data", tmp_path / "plan"
    cs.write_dataset(ds.tables(), data)
    pol = tmp_path / "p.toml"
    pol.write_text("[sampling]\nmonths = [6, 9]\n", "utf-8")
    env = {**os.environ, "COLUMNS": "200"}
    args = [
        "plan",
        str(data),
        "--year",
        "2026",
        "--seed",
        "quiet",
        "--out",
        str(bundle),
    ]
    res = subprocess.run(
        [sys.executable, "-m", "creditsup", *args, "--policy", str(pol), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode in (0, 3), res.stderr
    visits = pd.read_csv(bundle / "visits.csv", dtype=str, encoding="utf-8-sig")
    assert set(visits["month"]) <= {"6", "9"}
    res = subprocess.run(
        [sys.executable, "-m", "creditsup", "verify", str(bundle), "--data", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0 and "quiet months" in res.stdout, res.stdout + res.stderr
    moved = plan.visits.assign(month=3)
    broken = dataclasses.replace(plan, visits=moved)
    assert any(p.startswith("months") for p in check_invariants(broken, ds))
