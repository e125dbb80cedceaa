"""Golden bundles made by released versions still verify, and tampered copies fail (issue #17)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from creditsup import __version__

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
    assert [p.name for p in BUNDLES][:4] == ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_golden_bundle_verifies(bundle: Path) -> None:
    res = _cli("verify", str(bundle / "plan"), "--data", str(bundle / "data"))
    if bundle.name == __version__:  # this release replays its own bundle, byte for byte
        assert res.returncode == 0, res.stdout + res.stderr
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


_NEWER = (
    "import sys\n"
    "import creditsup.plan.verify as v\n"
    "v.SUPPORTED_ALGORITHMS = frozenset({'creditsup-draw/99'})\n"
    "from creditsup.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_a_version_that_cannot_replay_refuses_clearly(
    bundle: Path, tmp_path: Path
) -> None:
    """A later creditsup without this algorithm: exit 2 naming the release; tampering still fails."""
    args = ["verify", str(bundle / "plan"), "--data", str(bundle / "data")]
    res = subprocess.run(
        [sys.executable, "-c", _NEWER, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"creditsup=={bundle.name}" in lines[0]
    plan = tmp_path / "plan"
    shutil.copytree(bundle / "plan", plan)
    (plan / "assignments.csv").write_bytes(
        (plan / "assignments.csv").read_bytes().replace(b"\n", b"\nX", 1)
    )
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _NEWER,
            "verify",
            str(plan),
            "--data",
            str(bundle / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1, res.stdout + res.stderr
