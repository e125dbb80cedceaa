# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # How `creditsup plan` scales: time and memory against district size
#
# A notebook stored as a jupytext script (open it in Jupyter with jupytext, or run it as a
# script). For each size it synthesises a district, then runs `creditsup plan` end to end
# (load → validate → tiers → draw → assignment → bundle) **in a fresh process**, so that the
# peak memory is the plan's own. It writes `results/scaling.json` and `results/scaling.md`,
# plots time and peak RSS against size on log-log axes, and fits the growth exponent
# (time ∝ size^b). The machine is shared and noisy: read ratios and exponents, not seconds.
#
# Sizes: `CREDITSUP_BENCH_SIZES` (comma-separated entity counts; default 5000,20000,80000).
# The test suite runs it at a tiny size; the figures in `results/` come from a full run.
#
# The last part plots, stage by stage, what `benchmarks/run.py` measured at the issue's
# scenarios (smoke … province), from its JSON (`CREDITSUP_BENCH_RUN_JSON`, default
# `results/run.json`): time and peak RSS against size, before and after when both were run.

# %%
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("CREDITSUP_BENCH_OUT", HERE / "results"))
SIZES = [
    int(s)
    for s in os.environ.get("CREDITSUP_BENCH_SIZES", "5000,20000,80000").split(",")
]
REPEATS = int(os.environ.get("CREDITSUP_BENCH_REPEATS", "3"))


def run(*args: str) -> tuple[float, float, int]:
    """Wall seconds, child CPU seconds and the child's peak RSS (MiB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "creditsup", *args], capture_output=True
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode not in (0, 3):
        raise RuntimeError(res.stderr.decode("utf-8", "replace"))
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024


# %%
rows = []
with tempfile.TemporaryDirectory() as tmp:
    for n in SIZES:
        data = Path(tmp) / f"d{n}"
        inspectors = max(30, n // 500)
        run(
            "synth",
            "--entities",
            str(n),
            "--inspectors",
            str(inspectors),
            "--out",
            str(data),
            "--quiet",
        )
        walls, cpus, rss = [], [], 0
        for k in range(REPEATS):
            plan = Path(tmp) / f"p{n}-{k}"
            w, c, r = run(
                "plan",
                str(data),
                "--year",
                "2026",
                "--seed",
                "bench",
                "--out",
                str(plan),
                "--quiet",
            )
            walls.append(w)
            cpus.append(c)
            rss = max(rss, r)
        rows.append(
            {
                "entities": n,
                "inspectors": inspectors,
                "wall_s": float(np.median(walls)),
                "cpu_s": float(np.median(cpus)),
                "peak_rss_mib": rss,
            }
        )
        print(rows[-1])

# %%
sizes = np.array([r["entities"] for r in rows], dtype=float)
walls = np.array([r["wall_s"] for r in rows])
exponent = (
    float(np.polyfit(np.log(sizes), np.log(walls), 1)[0])
    if len(rows) > 1
    else float("nan")
)
OUT.mkdir(parents=True, exist_ok=True)
(OUT / "scaling.json").write_text(
    json.dumps({"rows": rows, "time_exponent": exponent, "repeats": REPEATS}, indent=2)
    + "\n"
)
lines = [
    "| entities | inspectors | wall (median) | CPU | peak RSS |",
    "|---:|---:|---:|---:|---:|",
    *(
        f"| {r['entities']:,} | {r['inspectors']:,} | {r['wall_s']:.2f} s | {r['cpu_s']:.2f} s "
        f"| {r['peak_rss_mib']:,} MiB |"
        for r in rows
    ),
    "",
    f"Growth exponent of wall time: {exponent:.2f} (time ∝ size^b; 1.0 is linear).",
]
(OUT / "scaling.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))

# %%
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.loglog(sizes, walls, "o-")
ax1.set_xlabel("entities")
ax1.set_ylabel("wall time (s)")
ax1.set_title(f"time, exponent {exponent:.2f}")
ax2.loglog(sizes, [r["peak_rss_mib"] for r in rows], "o-")
ax2.set_xlabel("entities")
ax2.set_ylabel("peak RSS (MiB)")
ax2.set_title("memory")
fig.tight_layout()
fig.savefig(OUT / "scaling.png", dpi=100)

# %% [markdown]
# ## Stage by stage, at the scenarios of `benchmarks/run.py`
#
# Read from the JSON that `run.py` writes (medians of fresh-process runs). Each line is a
# stage (read, validate, hashing, scoring, draw, assignment, ledger, bundle); the right
# panel is the peak RSS of the whole plan, after (and before, when `--before` was run).

# %%
RUN_JSON = Path(
    os.environ.get("CREDITSUP_BENCH_RUN_JSON", HERE / "results" / "run.json")
)
if RUN_JSON.is_file():
    run_doc = json.loads(RUN_JSON.read_text())
    scen = sorted(  # the plan's scenarios (the nation rows time the draw alone)
        (r for r in run_doc["scenarios"].values() if r.get("kind") != "nation"),
        key=lambda r: r["entities"],
    )
    n_ent = np.array([r["entities"] for r in scen], dtype=float)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for stage in run_doc["stages"]:
        ys = [r["after"]["stages"].get(stage, {}).get("wall_s", np.nan) for r in scen]
        ax1.loglog(n_ent, ys, "o-", label=stage)
    ax1.loglog(
        n_ent, [r["after"]["end_to_end_s"] for r in scen], "k*-", label="end to end"
    )
    ax1.set_xlabel("entities")
    ax1.set_ylabel("wall time, median (s)")
    ax1.legend(fontsize=7)
    ax1.set_title("time per stage")
    ax2.loglog(n_ent, [r["after"]["peak_rss_mib"] for r in scen], "o-", label="after")
    if any("before" in r for r in scen):
        pts = [
            (r["entities"], r["before"]["peak_rss_mib"]) for r in scen if "before" in r
        ]
        ax2.loglog(*zip(*pts, strict=True), "s--", label="before")
    ax2.set_xlabel("entities")
    ax2.set_ylabel("peak RSS (MiB)")
    ax2.legend(fontsize=7)
    ax2.set_title("memory")
    fig.tight_layout()
    fig.savefig(OUT / "run_stages.png", dpi=100)
    print(f"plotted {len(scen)} scenario(s) from {RUN_JSON}")
