"""Benchmark ``creditsup plan`` stage by stage, at the sizes of issue #14.

For each scenario it synthesises the district once (cached), then runs the
plan in a **fresh interpreter per repeat** (``_stages.py``), so that the peak
RSS is that run's own, and records per stage (load, hashing, scoring, draw,
assignment, ledger, bundle) the wall time, the CPU time and the
RSS high-water mark after the stage. It reports medians over the repeats,
the growth exponent of each stage across the scenarios in the results file
(time ∝ entities^b), and, in the same run, the baselines of ``_baselines.py``
(naive pandas scoring, ``groupby().sample`` draws with caps afterwards,
monolithic CP-SAT per department-month on a sample, randomised greedy
assignment).

The baselines run in their own child (``_baselines.py``), each beside our
own stage timed on the same rows in that child. Above
``--baseline-max-entities`` (1,000,000) they run on a keyed uniform sample of
that many entities with all their rows (``_sample.py``), recorded in the JSON
and named in the table. ``--baselines-only`` measures them alone into a
scenario's entry, keeping its plan figures; ``--no-baselines`` measures the
plan alone, keeping the baselines recorded earlier: the two combine.

``--before SRC`` measures another source tree (e.g. ``git archive`` of an
older commit, its ``src`` folder) in the same run, alternating before/after
repeats so that both see the same machine load; the JSON then holds both
columns, their ratio, and whether both wrote the same bundle bytes.

Scenarios::

    smoke       2,000 entities,     40 inspectors   (the test suite; seconds)
    county    100,000 entities,    300 inspectors
    city    1,000,000 entities,  3,000 inspectors   target ≤ 10 s, ≤ 1 GiB
    province 5,000,000 entities, 9,000 inspectors   target ≤ 60 s, ≤ 4 GiB
    nation-smoke    3,000 entities in 3 Parquet files   (the test suite)
    nation-5m   5,000,000 entities in 10 Parquet files
    nation-10m 10,000,000 entities in 20 Parquet files
    nation     50,000,000 entities in 100 Parquet files  target ≤ 600 s, ≤ 8 GiB

The ``nation*`` scenarios run the draw only, out of core, on Dask
(``_nation.py``): the entities are generated once as a partitioned Parquet
dataset in ``--data-dir``, read with ``dask.dataframe.read_parquet`` and drawn
through ``draw_partitioned`` with ``dask_mapper``, on the threaded scheduler
(``--dask processes``: a 2-worker ``LocalCluster``). Their figures are per
stage (generate, read, eligible pools, merge/allocate, select,
merge/visits), CPU and peak RSS of the whole process tree; a run that passes
``--max-rss-gib`` is stopped and recorded as such.

Run::

    PYTHONPATH=src python benchmarks/run.py --scenario smoke county
    PYTHONPATH=src python benchmarks/run.py --scenario city --before /tmp/base/src
    PYTHONPATH=src python benchmarks/run.py --scenario nation-5m nation
    PYTHONPATH=src python benchmarks/run.py --scenario province --baselines-only

Writes ``benchmarks/results/run.json`` and ``run.md`` (scenarios measured
earlier stay in the file, each with its date), and with ``--readme`` the speed
table of ``README.md`` from the JSON.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import markdown, readme_table, update_readme  # noqa: E402
from _stages import NATION_STAGES, STAGES  # noqa: E402

RESULTS = HERE / "results"

#: name: (entities, inspectors, default repeats, target wall s, target peak MiB)
SCENARIOS: dict[str, tuple[int, int, int, float | None, float | None]] = {
    "smoke": (2_000, 40, 3, None, None),
    "county": (100_000, 300, 3, None, None),
    "city": (1_000_000, 3_000, 1, 10.0, 1024.0),
    "province": (5_000_000, 9_000, 1, 60.0, 4096.0),
    "nation-smoke": (3_000, 60, 1, None, None),
    "nation-5m": (5_000_000, 9_000, 1, None, None),
    "nation-10m": (10_000_000, 18_000, 1, None, None),
    "nation": (50_000_000, 90_000, 1, 600.0, 8192.0),
}
NATION = ("nation-smoke", "nation-5m", "nation-10m", "nation")
#: glibc: serve large arrays by mmap, so that a freed array goes back to the
#: system at once (the nation's driver frees many large temporaries).
NATION_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "ARROW_DEFAULT_MEMORY_POOL": "system"}
#: Baseline sizes per scenario: (naive-scoring entities, CP-SAT groups sampled).
BASELINE_SIZES = {"smoke": (300, 4), "county": (1000, 4)}
_DEFAULT_BASELINE = (2000, 6)
#: Above this many entities the baselines run on a keyed sample of this many
#: (``_sample.py``): a province loaded whole by the baselines took 23 GB.
BASELINE_MAX_ENTITIES = 1_000_000
#: A scenario's keys written by the baselines child (the rest: the plan's).
BASELINE_KEYS = ("baselines", "baselines_error")


def _env(src: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def synthesise(name: str, root: Path) -> Path:
    """The scenario's synthetic district (made once; reused while it exists)."""
    n, k, *_ = SCENARIOS[name]
    folder = root / f"{name}-{n}-{k}"
    if (folder / "entities.csv").is_file():
        return folder
    print(f"[{name}] synthesising {n:,} entities, {k:,} inspectors", file=sys.stderr)
    subprocess.run(
        [
            *(sys.executable, "-m", "creditsup", "synth", "--entities", str(n)),
            *("--inspectors", str(k), "--out", str(folder), "--quiet"),
        ],
        check=True,
    )
    return folder


def _child(
    script: str,
    args: list[str],
    src: Path | None,
    *,
    env: dict[str, str] | None = None,
    after: Sequence[str] = (),
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        res = subprocess.run(
            [sys.executable, str(HERE / script), *args, str(out), *after],
            env={**_env(src), **(env or {})},
            capture_output=True,
            text=True,
        )
        if res.returncode == 3 and out.is_file():  # stopped at the memory bound
            doc: dict[str, Any] = json.loads(out.read_text())
            return doc
        if res.returncode != 0:
            raise RuntimeError(f"{script} failed:\n{res.stderr[-3000:]}")
        doc = json.loads(out.read_text())
        return doc


def measure_nation(
    name: str, data_dir: Path, *, scheduler: str, max_rss_gib: float
) -> dict[str, Any]:
    """One run of a nation scenario in a fresh interpreter (``_nation.py``)."""
    print(f"[{name}] the draw on Dask ({scheduler})", file=sys.stderr)
    facts = _child(
        "_nation.py",
        [name, str(data_dir)],
        None,
        env=NATION_ENV,
        after=["--scheduler", scheduler, "--max-rss-gib", str(max_rss_gib)],
    )
    n, k_insp, _, t_wall, t_rss = SCENARIOS[name]
    draw = {s: r for s, r in facts["stages"].items() if s != "generate"}
    after = {
        "stages": facts["stages"],
        "end_to_end_s": sum(r["wall_s"] for r in draw.values()),
        "end_to_end_all_s": [sum(r["wall_s"] for r in draw.values())],
        "spread": 0.0,
        "cpu_s": sum(r["cpu_s"] for r in draw.values()),
        "peak_rss_mib": max((r["peak_rss_mib"] for r in draw.values()), default=0.0),
        "entities": n,
        "inspectors": k_insp,
        "visits": facts.get("visits"),
        "checks": facts.get("checks"),
        "visits_sha256": facts.get("visits_sha256"),
        "scheduler": scheduler,
        "generate_cached": facts.get("generate_cached"),
        "generate_first_run": facts.get("generate_first_run"),
        "aborted": facts.get("aborted"),
        "partitions_done": facts.get("partitions_done"),
    }
    return {
        "kind": "nation",
        "entities": n,
        "inspectors": k_insp,
        "files": facts["files"],
        "repeats": 1,
        "measured_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "target": {"wall_s": t_wall, "peak_rss_mib": t_rss},
        "stage_names": list(NATION_STAGES),
        "max_rss_mib": max_rss_gib * 1024,
        "after": after,
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of wall and CPU per stage; the largest peak RSS (the bound)."""
    stages = {}
    for s in STAGES:
        rows = [r["stages"][s] for r in runs if s in r["stages"]]
        if not rows:
            continue
        stages[s] = {
            "wall_s": statistics.median(r["wall_s"] for r in rows),
            "cpu_s": statistics.median(r["cpu_s"] for r in rows),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in rows),
        }
    walls = [r["end_to_end_s"] for r in runs]
    first = runs[0]
    return {
        "stages": stages,
        "end_to_end_s": statistics.median(walls),
        "end_to_end_all_s": walls,
        "spread": (max(walls) - min(walls)) / statistics.median(walls),
        "cpu_s": statistics.median(
            sum(x["cpu_s"] for x in r["stages"].values()) for r in runs
        ),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        **{
            k: first[k]
            for k in ("entities", "inspectors", "visits", "assignments", "unfilled")
        },
        **{
            k: first.get(k)
            for k in ("algorithm", "candidate_arcs", "cross_region_share")
        },
        "bundle_sha256": sorted({r["bundle_sha256"] for r in runs}),
    }


def measure(
    name: str, data: Path, *, repeat: int, before: Path | None
) -> dict[str, Any]:
    """One scenario: ``repeat`` fresh runs (before/after alternating), medians."""
    after_runs: list[dict[str, Any]] = []
    before_runs: list[dict[str, Any]] = []
    for k in range(repeat):
        if before is not None:
            print(f"[{name}] before, run {k + 1}/{repeat}", file=sys.stderr)
            before_runs.append(_child("_stages.py", [str(data)], before))
        print(f"[{name}] after, run {k + 1}/{repeat}", file=sys.stderr)
        after_runs.append(_child("_stages.py", [str(data)], None))
    n, k_insp, _, t_wall, t_rss = SCENARIOS[name]
    out: dict[str, Any] = {
        "entities": n,
        "inspectors": k_insp,
        "repeats": repeat,
        "measured_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "target": {"wall_s": t_wall, "peak_rss_mib": t_rss},
        "after": _median_run(after_runs),
    }
    if before_runs:
        b, a = _median_run(before_runs), out["after"]
        out["before"] = b
        out["speedup"] = {
            "end_to_end": b["end_to_end_s"] / a["end_to_end_s"],
            "peak_rss": b["peak_rss_mib"] / a["peak_rss_mib"],
            **{
                s: b["stages"][s]["wall_s"] / max(a["stages"][s]["wall_s"], 1e-9)
                for s in STAGES
                if s in a["stages"] and s in b["stages"]
            },
        }
        out["identical_bundle"] = a["bundle_sha256"] == b["bundle_sha256"]
    return out


def measure_baselines(name: str, data: Path, *, max_entities: int) -> dict[str, Any]:
    """The baselines child (``_baselines.py``): {"baselines": …} or {"baselines_error": …}.

    Above ``max_entities`` entities it runs on a keyed uniform sample of that
    many (``_sample.py``), recorded under ``baselines.sample``.
    """
    naive_n, groups = BASELINE_SIZES.get(name, _DEFAULT_BASELINE)
    print(f"[{name}] baselines", file=sys.stderr)
    args = [str(data), "--naive-entities", str(naive_n), "--cpsat-groups", str(groups)]
    args += ["--max-entities", str(max_entities)]
    try:
        return {"baselines": _child("_baselines.py", args, None)}
    except RuntimeError as exc:  # e.g. killed for memory: keep the plan's figures
        print(f"[{name}] baselines failed: {exc}", file=sys.stderr)
        return {"baselines_error": str(exc).splitlines()[0]}


def _with_baselines(entry: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """``entry`` (a scenario's plan figures) with new baselines, or their failure."""
    kept = {k: v for k, v in entry.items() if k not in BASELINE_KEYS}
    return {**kept, **found}


def _slope(rows: list[dict[str, Any]], stage: str) -> float | None:
    """Least-squares slope of log(median CPU seconds) on log(entities)."""
    x = np.log([r["entities"] for r in rows])
    if stage == "end_to_end":
        y = [r["after"]["cpu_s"] for r in rows]
    elif stage == "peak_rss":
        y = [r["after"]["peak_rss_mib"] for r in rows]
    else:
        y = [r["after"]["stages"].get(stage, {}).get("cpu_s", 0.0) for r in rows]
    return float(np.polyfit(x, np.log(y), 1)[0]) if min(y) > 0 else None


def exponents(scenarios: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Growth exponent b (CPU ∝ entities^b) per stage: all sizes, the two largest.

    CPU time, not wall: the machine is shared, and CPU time is the steadier
    figure. The fit over all sizes is pulled down by fixed costs at the
    small sizes; the two largest scenarios show how the stage grows at scale.
    """
    rows = sorted(
        (r for r in scenarios.values() if r.get("kind") != "nation"),
        key=lambda r: r["entities"],
    )
    if len({r["entities"] for r in rows}) < 2:
        return {}
    out: dict[str, dict[str, float]] = {}
    for s in [*STAGES, "end_to_end", "peak_rss"]:
        every, top = _slope(rows, s), _slope(rows[-2:], s)
        if every is not None and top is not None:
            out[s] = {"all_sizes": every, "two_largest": top}
    return out


def _machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1m_at_end": round(load[0], 2),
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", nargs="+", choices=list(SCENARIOS), default=["smoke"])
    ap.add_argument(
        "--repeat", type=int, help="runs per scenario (default: per scenario)"
    )
    ap.add_argument("--before", type=Path, help="another src tree to measure beside")
    ap.add_argument(
        "--no-baselines",
        action="store_true",
        help="measure the plan only (baselines recorded earlier stay in the JSON)",
    )
    ap.add_argument(
        "--baselines-only",
        action="store_true",
        help="measure the baselines only, into the scenario's entry (its plan figures stay)",
    )
    ap.add_argument(
        "--baseline-max-entities",
        type=int,
        default=BASELINE_MAX_ENTITIES,
        help="above this many entities the baselines run on a keyed sample of this many",
    )
    ap.add_argument(
        "--dask",
        choices=("threads", "processes"),
        default="threads",
        help="nation scenarios: Dask's threaded scheduler or a 2-worker LocalCluster",
    )
    ap.add_argument(
        "--max-rss-gib",
        type=float,
        default=12.0,
        help="nation scenarios: stop a run whose process tree passes this RSS",
    )
    ap.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "creditsup-bench"
    )
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    ap.add_argument("--readme", type=Path, help="README to update from the JSON")
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite run.md (and --readme) from run.json",
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    if a.baselines_only and a.no_baselines:
        print(
            "run.py: --baselines-only and --no-baselines exclude each other",
            file=sys.stderr,
        )
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "run.json"
    doc: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    scenarios: dict[str, Any] = doc.get("scenarios", {})
    for name in [] if a.report_only else a.scenario:
        if name in NATION and a.baselines_only:
            print(f"[{name}] has no baselines (the draw only)", file=sys.stderr)
            continue
        if name in NATION:
            key = name if a.dask == "threads" else f"{name} (LocalCluster)"
            scenarios[key] = measure_nation(
                name, a.data_dir, scheduler=a.dask, max_rss_gib=a.max_rss_gib
            )
            continue
        data = synthesise(name, a.data_dir)
        entry = scenarios.get(name, {})
        if not a.baselines_only:
            repeat = a.repeat or SCENARIOS[name][2]
            new = measure(name, data, repeat=repeat, before=a.before)
            # baselines measured earlier stay (they time their own rows)
            entry = _with_baselines(
                new, {k: entry[k] for k in BASELINE_KEYS if k in entry}
            )
        elif "after" not in entry:
            print(
                f"run.py: no plan figures for {name!r} in {path}; run it without "
                "--baselines-only first",
                file=sys.stderr,
            )
            return 2
        if not a.no_baselines:
            found = measure_baselines(name, data, max_entities=a.baseline_max_entities)
            entry = _with_baselines(entry, found)
        scenarios[name] = entry
    doc = {
        "machine": doc.get("machine", {}) if a.report_only else _machine(),
        "stages": list(STAGES),
        "scenarios": dict(sorted(scenarios.items(), key=lambda kv: kv[1]["entities"])),
        "exponents": exponents(scenarios),
    }
    path.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    text = markdown(doc)
    (a.out / "run.md").write_text(text)
    print(text)
    if a.readme is not None:
        update_readme(a.readme, readme_table(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
