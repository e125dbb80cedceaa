"""The Dask engine beside the local engine: ``creditsup plan --engine local|dask``.

For each size, a synthetic district is written once as partitioned Parquet
(``creditsup synth --format parquet --partitions P``) and planned by
``creditsup plan`` in a fresh process per engine:

* ``local``: one process;
* ``dask-threads``: the Dask engine on Dask's threads (``--workers 0``);
* ``dask-2proc``: the Dask engine on a ``LocalCluster`` of 2 worker processes
  (``--workers 2``), what a cluster does on one machine.

It records the wall time, the CPU time of the whole process tree (the plan
and its workers) and the peak resident memory of the tree (sampled every
0.1 s with psutil: the sum over the processes alive at that moment), and
checks that every engine writes the same bundle files (all but
``provenance.json`` and ``ledger.jsonl``, which hold the run's clock time).

Usage::

    python benchmarks/engine.py [--sizes county city] [--data-root DIR]

Writes ``benchmarks/results/engine.json`` and ``engine.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: name: (entities, inspectors, part files)
SIZES = {
    "smoke": (3_000, 40, 3),
    "county": (100_000, 300, 4),
    "city": (1_000_000, 3_000, 8),
}
ENGINES = {
    "local": [],
    "dask-threads": ["--engine", "dask", "--workers", "0"],
    "dask-2proc": ["--engine", "dask", "--workers", "2"],
}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "creditsup", *args]


def synthesise(name: str, root: Path) -> Path:
    n, k, parts = SIZES[name]
    folder = root / f"pq-{name}-{n}-{k}-{parts}"
    if (folder / "entities").is_dir():
        return folder
    subprocess.run(
        _cli(
            *("synth", "--entities", str(n), "--inspectors", str(k)),
            *("--format", "parquet", "--partitions", str(parts)),
            *("--out", str(folder), "--quiet"),
        ),
        check=True,
    )
    return folder


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run(data: Path, engine: str, out: Path) -> dict[str, Any]:
    """One plan in a fresh process: wall, tree CPU, tree peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = _cli("plan", str(data), "--year", "2027", "--seed", "bench", "--quiet")
    start = time.perf_counter()
    child = subprocess.Popen(
        [*args, "--out", str(out), *ENGINES[engine]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            peak = max(peak, _tree_rss(proc))
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if child.returncode not in (0, 3):
        raise RuntimeError(f"plan --engine {engine} exited {child.returncode}")
    return {
        "engine": engine,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_mib": round(peak / 2**20, 1),
        "exit": child.returncode,
    }


def digests(folder: Path) -> dict[str, str]:
    skip = {"provenance.json", "ledger.jsonl"}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip
    }


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# The Dask engine beside the local engine",
        "",
        f"`python benchmarks/engine.py --sizes {' '.join(doc['sizes'])}` on "
        f"{doc['machine']['cpus']} cores ({doc['machine']['python']}). Wall and CPU "
        "of the whole process tree (plan + Dask workers), peak RSS summed over the "
        "tree. `same bytes`: every bundle file equals the local engine's.",
        "",
        "| size | entities | engine | wall s | CPU s | peak MiB | wall vs local "
        "| same bytes |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for size, rows in doc["results"].items():
        base = rows[0]["wall_s"]
        for r in rows:
            lines.append(
                f"| {size} | {SIZES[size][0]:,} | {r['engine']} | {r['wall_s']:.1f} "
                f"| {r['cpu_s']:.1f} | {r['peak_mib']:,.0f} "
                f"| {r['wall_s'] / base:.2f}× | {'yes' if r['same_bytes'] else 'NO'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["smoke", "county"], choices=SIZES)
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    ap.add_argument("--data-root", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    results: dict[str, list[dict[str, Any]]] = {}
    for size in a.sizes:
        data = synthesise(size, a.data_root)
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            ref: dict[str, str] | None = None
            for engine in a.engines:
                out = Path(tmp) / engine
                row = run(data, engine, out)
                got = digests(out)
                ref = got if ref is None else ref
                row["same_bytes"] = got == ref
                rows.append(row)
                print(size, row, file=sys.stderr)
        results[size] = rows
    doc = {
        "sizes": a.sizes,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "engine.json").write_text(json.dumps(doc, indent=2) + "\n")
    (a.out / "engine.md").write_text(markdown(doc))
    print(markdown(doc))
    return 0 if all(r["same_bytes"] for rows in results.values() for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
