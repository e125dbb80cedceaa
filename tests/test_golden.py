"""Golden bundles made by released versions still verify, and tampered copies fail (issue #17)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
BUNDLES = sorted(p for p in GOLDEN.iterdir() if (p / "plan").is_dir())


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_there_are_golden_bundles() -> None:
    assert [p.name for p in BUNDLES][:1] == ["0.1.0"]


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_golden_bundle_verifies(bundle: Path) -> None:
    res = _cli("verify", str(bundle / "plan"), "--data", str(bundle / "data"))
    if res.returncode == 2:  # documented refusal: names the release that can verify it
        assert "creditsup==" in res.stderr + res.stdout
        assert "Traceback" not in res.stderr
    else:
        assert res.returncode == 0, res.stdout + res.stderr
        assert "verified" in res.stdout


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_golden_bundle_one_cell_edit_fails(bundle: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    shutil.copytree(bundle / "plan", plan)
    visits = plan / "visits.csv"
    lines = visits.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[3] = "12" if cells[3] != "12" else "11"  # the month of the first visit
    lines[1] = ",".join(cells)
    visits.write_text("\ufeff" + "".join(lines), encoding="utf-8")
    res = _cli("verify", str(plan), "--data", str(bundle / "data"))
    assert res.returncode in (1, 2), res.stdout + res.stderr
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
