"""The scaling notebook (a jupytext script) runs at a tiny size and writes its table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_scaling_notebook_runs(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    script = Path(__file__).parents[1] / "benchmarks" / "scaling_notebook.py"
    env = {
        **os.environ,
        "CREDITSUP_BENCH_SIZES": "300,600",
        "CREDITSUP_BENCH_REPEATS": "1",
        "CREDITSUP_BENCH_OUT": str(tmp_path),
    }
    res = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "scaling.json").read_text())
    assert [r["entities"] for r in doc["rows"]] == [300, 600]
    assert all(r["wall_s"] > 0 and r["peak_rss_mib"] > 0 for r in doc["rows"])
    assert (tmp_path / "scaling.png").stat().st_size > 0
    assert "Growth exponent" in (tmp_path / "scaling.md").read_text()


def test_benchmark_runner_smoke(tmp_path: Path) -> None:
    """run.py at the smoke size: every stage timed, baselines beside, README table."""
    pytest.importorskip("matplotlib")
    bench = Path(__file__).parents[1] / "benchmarks"
    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n<!-- speed-table:start -->\nold\n<!-- speed-table:end -->\n"
    )
    args = ["--scenario", "smoke", "--repeat", "1", "--out", str(tmp_path)]
    args += ["--data-dir", str(tmp_path / "data"), "--readme", str(readme)]
    res = subprocess.run(
        [sys.executable, str(bench / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "run.json").read_text())
    smoke = doc["scenarios"]["smoke"]
    assert set(smoke["after"]["stages"]) == set(doc["stages"])
    for row in smoke["after"]["stages"].values():
        assert row["wall_s"] > 0 and row["cpu_s"] >= 0 and row["peak_rss_mib"] > 0
    assert smoke["after"]["visits"] > 0
    assert set(smoke["baselines"]) == {"naive_scoring", "naive_draw", "cpsat", "greedy"}
    assert "| **end to end** |" in (tmp_path / "run.md").read_text()
    text = readme.read_text()
    assert "old" not in text and "| smoke | 2,000 | 40 |" in text
    env = {
        **os.environ,
        "CREDITSUP_BENCH_SIZES": "300",
        "CREDITSUP_BENCH_REPEATS": "1",
        "CREDITSUP_BENCH_OUT": str(tmp_path / "nb"),
        "CREDITSUP_BENCH_RUN_JSON": str(tmp_path / "run.json"),
    }
    nb = subprocess.run(
        [sys.executable, str(bench / "scaling_notebook.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert nb.returncode == 0, nb.stderr
    assert (tmp_path / "nb" / "run_stages.png").stat().st_size > 0
