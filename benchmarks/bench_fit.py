"""Benchmark: learning a scorecard from N entities, 5·N records and their history.

The data are the scoring benchmark's synthetic tables (``bench_scoring.py``:
N entities, 5·N records skewed towards risky entities) plus an inspection
history: about 15 % of the entities inspected at random each year over the
three years before the cut-off and the year after, each inspection finding
a problem with a probability that rises with the entity's hidden risk (the
same risk that skews its records). :func:`creditsup.fit.fit_scorecard` then
learns a scorecard as of the cut-off with its default options (8 quarterly
snapshots, 3 validation folds); the stages are timed separately.

Run::

    PYTHONPATH=src python benchmarks/bench_fit.py                 # 1M / 5M
    PYTHONPATH=src python benchmarks/bench_fit.py --sizes 200000

Writes ``benchmarks/results/fit.json`` and ``benchmarks/results/fit.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditsup.evaluate import auc_score
from creditsup.fit import FitOptions, fit_scorecard
from creditsup.schemas import Dataset
from creditsup.scoring import score_entities

RESULTS = Path(__file__).resolve().parent / "results"
HERE = Path(__file__).resolve().parent
AS_OF = pd.Timestamp("2025-04-01")


def _scoring_bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_scoring", HERE / "bench_scoring.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_dataset(n_entities: int, *, seed: int = 0) -> Dataset:
    """The scoring benchmark's tables plus a risk-driven inspection history."""
    ds = _scoring_bench().make_dataset(n_entities, 5 * n_entities, seed=seed)
    rng = np.random.default_rng(seed + 1)
    ent = ds.entities
    n = len(ent)
    # hidden risk: the entity's share of the (risk-skewed) records
    n_rec = (
        ds.records.groupby("uscc", sort=False).size().reindex(ent["uscc"]).fillna(0)
    ).to_numpy(dtype=np.float64)
    risk = np.log1p(n_rec) + rng.normal(0, 0.5, n)
    per_year = rng.poisson(0.15, size=(4, n))
    rows = []
    for year in range(4):  # three years before the cut-off and the one after
        k = per_year[year]
        who = np.repeat(np.arange(n), k)
        start = AS_OF - pd.Timedelta(days=365 * (3 - year))
        day = start + pd.to_timedelta(rng.integers(0, 365, len(who)), "D")
        z = -2.4 + 0.7 * (risk[who] - risk.mean())
        found = rng.random(len(who)) < 1 / (1 + np.exp(-z))
        rows.append(
            pd.DataFrame(
                {
                    "uscc": ent["uscc"].to_numpy(dtype=object)[who],
                    "date": pd.DatetimeIndex(day).astype("datetime64[us]"),
                    "department": "market",
                    "result": np.where(found, "problem_corrected", "normal"),
                    "inspector_ids": None,
                    "trigger": "random",
                    "serious_count": (found * rng.integers(1, 4, len(who))).astype(
                        np.int64
                    ),
                }
            )
        )
    hist = pd.concat(rows, ignore_index=True)
    hist = hist.astype({"uscc": "str", "department": "str", "result": "str"})
    hist["trigger"] = hist["trigger"].astype("str")
    return dataclasses.replace(ds, history=hist)


def run(n: int, *, seed: int = 0) -> dict[str, Any]:
    t0 = time.perf_counter()
    ds = make_dataset(n, seed=seed)
    t_data = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    res = fit_scorecard(ds, as_of=AS_OF, horizon_days=365, options=FitOptions())
    t_fit, c_fit = time.perf_counter() - t0, time.process_time() - c0
    # out of time: the year after the cut-off
    nxt = ds.history[ds.history["date"] >= AS_OF]
    first = nxt.sort_values("date").drop_duplicates("uscc")
    y = first.set_index("uscc")["result"].eq("problem_corrected")
    t0 = time.perf_counter()
    table = score_entities(ds, res.scorecard, as_of=AS_OF - pd.Timedelta(days=1)).table
    t_score = time.perf_counter() - t0
    s = table.set_index("uscc")["score"].reindex(y.index)
    ok = s.notna().to_numpy()
    return {
        "entities": len(ds.entities),
        "records": len(ds.records),
        "inspections": len(ds.history),
        "units": res.n_units,
        "candidates": res.n_candidates,
        "indicators": len(res.scorecard.indicators),
        "seconds_data": round(t_data, 2),
        "seconds_fit": round(t_fit, 2),
        "cpu_seconds_fit": round(c_fit, 2),
        "seconds_score": round(t_score, 2),
        "auc_next_year": round(auc_score(y.to_numpy()[ok], s.to_numpy()[ok]), 4),
        "load_1min": round(os.getloadavg()[0], 2),
        "max_rss_gb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        row = run(n)
        print(json.dumps(row), flush=True)
        rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "as_of": str(AS_OF.date()),
    }
    (RESULTS / "fit.json").write_text(
        json.dumps({"meta": meta, "runs": rows}, indent=2) + "\n", encoding="utf-8"
    )
    cols = list(rows[0])
    lines = [
        "# Fitting a scorecard (benchmarks/bench_fit.py)",
        "",
        f"Python {meta['python']}, {meta['cpus']} CPUs; cut-off {meta['as_of']}; "
        "default FitOptions (8 snapshots, 3 folds); times in seconds (wall; "
        "cpu_seconds_fit: the process's CPU time in the fit, which other work "
        "on a shared machine does not inflate; load_1min: the machine's load "
        "average when the run ended).",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    (RESULTS / "fit.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
