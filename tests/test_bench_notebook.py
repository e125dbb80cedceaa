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
