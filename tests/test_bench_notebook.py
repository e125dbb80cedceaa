"""``benchmarks/run.py`` at the smoke size, and the scaling notebook (a jupytext
script) at tiny sizes beside its JSON: one run of each (they take seconds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_benchmark_runner_and_notebook_smoke(tmp_path: Path) -> None:
    """run.py at the smoke size: every stage timed, baselines beside, README table;
    then the notebook plots its sizes and run.json's stages."""
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
    methods = {"naive_scoring", "naive_draw", "cpsat", "greedy"}
    bl = smoke["baselines"]
    assert methods <= set(bl)
    # below the threshold the baselines run on the whole dataset
    assert bl["sample"] is None and bl["entities"] == bl["data_entities"] == 2000
    assert all(bl[k]["peak_rss_mib"] > 0 for k in methods) and bl["peak_rss_mib"] > 0
    assert "| **end to end** |" in (tmp_path / "run.md").read_text()
    text = readme.read_text()
    assert "old" not in text and "| smoke | 2,000 | 40 |" in text
    _baselines_on_a_sample(bench, args, doc)
    _notebook(bench, tmp_path / "run.json", tmp_path / "nb")


def _notebook(bench: Path, run_json: Path, out: Path) -> None:
    """The scaling notebook (a jupytext script) at two tiny sizes, beside the
    scenarios of the repository's run.json (nation rows, before/after) and this smoke."""
    doc = json.loads((bench / "results" / "run.json").read_text())
    doc["scenarios"]["smoke (test)"] = json.loads(run_json.read_text())["scenarios"][
        "smoke"
    ]
    run_json = run_json.with_name("combined.json")
    run_json.write_text(json.dumps(doc))
    plans = sum(r.get("kind") != "nation" for r in doc["scenarios"].values())
    env = {
        **os.environ,
        "CREDITSUP_BENCH_SIZES": "300,600",
        "CREDITSUP_BENCH_REPEATS": "1",
        "CREDITSUP_BENCH_OUT": str(out),
        "CREDITSUP_BENCH_RUN_JSON": str(run_json),
    }
    res = subprocess.run(
        [sys.executable, str(bench / "scaling_notebook.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads((out / "scaling.json").read_text())
    assert [r["entities"] for r in doc["rows"]] == [300, 600]
    assert all(r["wall_s"] > 0 and r["peak_rss_mib"] > 0 for r in doc["rows"])
    assert (out / "scaling.png").stat().st_size > 0
    assert "Growth exponent" in (out / "scaling.md").read_text()
    assert (out / "run_stages.png").stat().st_size > 0
    assert f"plotted {plans} scenario(s)" in res.stdout


def _baselines_on_a_sample(bench: Path, args: list[str], doc: dict) -> None:
    """Above the threshold (tiny here) the baselines run on a keyed sample, and
    the baselines and the plan's figures are measured apart without losing each other."""
    out = Path(args[args.index("--out") + 1])

    def run(*extra: str) -> dict:
        res = subprocess.run(
            [sys.executable, str(bench / "run.py"), *args[:-2], *extra],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, res.stderr
        return json.loads((out / "run.json").read_text())["scenarios"]["smoke"]

    plan = doc["scenarios"]["smoke"]["after"]
    smoke = run("--baselines-only", "--baseline-max-entities", "500")
    assert smoke["after"] == plan  # the plan's figures stay
    bl = smoke["baselines"]
    assert bl["sample"]["entities"] == bl["entities"] == 500
    assert bl["sample"]["of_entities"] == bl["data_entities"] == 2000
    assert bl["sample"]["inspectors"] == 10 and bl["max_entities"] == 500
    assert bl["naive_scoring"]["ours_s"] > 0 and bl["visits"] < plan["visits"]
    md = (out / "run.md").read_text()
    assert "| scoring: naive pandas (`groupby().apply`) (500-entity sample) |" in md
    assert "keyed uniform sample of 500 of 2,000 entities" in md
    again = run("--no-baselines")  # the plan again: the baselines stay
    assert again["baselines"] == bl and again["measured_at"] >= smoke["measured_at"]
