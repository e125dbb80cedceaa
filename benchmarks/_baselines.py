"""The baselines of ``benchmarks/run.py``, run on the same dataset as the plan.

Each baseline answers "what would the obvious implementation cost?" and reuses
the one already written for the step's own benchmark:

``naive_scoring``   one Python call per entity through ``groupby().apply``
                    (``bench_scoring.naive_scores``), on a subset of entities and
                    extrapolated linearly to the whole table;
``naive_draw``      ``groupby().sample`` per item and tier, caps applied
                    afterwards (``bench_sampling.naive_draw``), on the whole table;
``cpsat``           one monolithic CP-SAT model per department-month
                    (``bench_assignment._mcf_vs_cpsat``), on an evenly spread
                    sample of groups, extrapolated to all groups;
``greedy``          randomised greedy assignment: tasks in random order, each
                    takes random candidates with capacity left in its month
                    (written here; the candidates are the plan's own arcs).

Each is set beside our own time for the same step, measured in the same
process **on the same rows** (``ours_s``): the ratio compares like with like.

Above ``--max-entities`` (``run.py --baseline-max-entities``, 1,000,000 by
default) the dataset does not fit the baselines' memory (a province, 5M
entities, loaded whole took 23 GB), so all of them, and our stages beside
them, run on a keyed uniform sample of that many entities with all their rows
(``_sample.py``); the JSON's ``sample`` says of what and how. ``peak_rss_mib``
is this process's high-water mark (sampling, loading, ours and every
baseline), and each baseline records the mark after it.

Usage (internal)::

    python benchmarks/_baselines.py DATA_DIR OUT_JSON [--naive-entities N]
        [--cpsat-groups G] [--max-entities M] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

YEAR = 2026
SEED = "bench"


def _timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0, time.process_time() - c0


def _with_ratios(ds: Any, policy: Any) -> Any:
    """Items with every ratio spelt out (the naive draw reads them per item)."""
    import dataclasses

    items = ds.items.copy()
    for tier, ratio in policy.sampling.ratios.items():
        col = f"ratio_{tier}"
        if col not in items.columns:
            items[col] = np.nan
        key = policy.sampling.key_ratios.get(tier, ratio)
        fill = np.where(items["kind"] == "key", key, ratio)
        items[col] = items[col].astype("float64").fillna(pd.Series(fill, items.index))
    return dataclasses.replace(ds, items=items)


def naive_scoring(ds: Any, ours_s: float, n_subset: int) -> dict[str, Any]:
    import bench_scoring

    n = min(n_subset, len(ds.entities))
    sub = bench_scoring.subset(ds, n)
    _, wall, cpu = _timed(
        bench_scoring.naive_scores, sub, as_of=pd.Timestamp(f"{YEAR - 1}-12-31")
    )
    scale = len(ds.entities) / max(n, 1)
    return {
        "subset_entities": n,
        "subset_s": wall,
        "wall_s": wall * scale,
        "cpu_s": cpu * scale,
        "extrapolated": scale > 1,
        "ours_s": ours_s,
    }


def naive_draw(
    ds: Any, tiers: pd.DataFrame, policy: Any, ours_s: float
) -> dict[str, Any]:
    import bench_sampling

    out, wall, cpu = _timed(
        bench_sampling.naive_draw, _with_ratios(ds, policy), tiers, 0
    )
    return {"wall_s": wall, "cpu_s": cpu, "ours_s": ours_s, "visits": out["visits"]}


def cpsat(visits: pd.DataFrame, ds: Any, ours_s: float, groups: int) -> dict[str, Any]:
    import bench_assignment

    res, _wall, _cpu = _timed(
        bench_assignment._mcf_vs_cpsat,
        visits,
        ds,
        year=YEAR,
        seed=SEED,
        max_deterministic_time=10.0,
        max_groups=groups,
    )
    return {
        "groups_sampled": res["groups"],
        "groups_total": res["groups_total"],
        "sample_s": res["cpsat_s"],
        "wall_s": res["cpsat_s_all_groups_est"],
        "extrapolated": res["groups"] < res["groups_total"],
        "mcf_sample_s": res["mcf_s"],
        "cpsat_objective": res["cpsat_objective"],
        "mcf_objective": res["mcf_objective"],
        "ours_s": ours_s,
    }


def greedy_assignment(visits: pd.DataFrame, ds: Any) -> dict[str, Any]:
    """Randomised greedy: each task, in random order, takes random candidates."""
    from creditsup.assignment import AssignmentPolicy
    from creditsup.assignment.candidates import candidate_arcs
    from creditsup.assignment.prepare import prepare

    P = prepare(visits, ds, AssignmentPolicy(), year=YEAR, seed=SEED)
    tasks = np.arange(len(P.t_visit), dtype=np.int64)
    a_t, a_i = candidate_arcs(
        P, tasks, P.t_month, prune=True, k_cross=10, seed=SEED, year=YEAR
    )
    rng = np.random.default_rng(0)
    left = np.repeat(P.insp_cap[:, None], 13, axis=1)
    lo = np.searchsorted(a_t, tasks)
    hi = np.searchsorted(a_t, tasks, side="right")
    filled = cross = 0
    for t in rng.permutation(len(tasks)):  # a baseline: one Python step per task
        cand = a_i[lo[t] : hi[t]]
        m = P.t_month[t]
        cand = rng.permutation(cand[left[cand, m] > 0])[: P.t_size[t]]
        left[cand, m] -= 1
        filled += int(len(cand) == P.t_size[t])
        cross += int((P.insp_region[cand] != P.v_region[P.t_visit[t]]).sum())
    return {"tasks": len(tasks), "filled_tasks": filled, "cross_region_slots": cross}


def _ours(ds: Any) -> dict[str, Any]:
    from creditsup.assignment import AssignmentPolicy, assign_inspectors
    from creditsup.policy import Policy
    from creditsup.sampling import draw_visits
    from creditsup.tiers import rate_entities

    policy = Policy()
    as_of = pd.Timestamp(f"{YEAR - 1}-12-31").date()
    rated, score_s, _ = _timed(rate_entities, ds, as_of=as_of)
    tiers = rated.table[["uscc", "tier"]]
    draw, draw_s, _ = _timed(
        draw_visits, ds, tiers, policy.sampling, year=YEAR, seed=SEED
    )
    _, assign_s, _ = _timed(
        assign_inspectors, draw.visits, ds, AssignmentPolicy(), year=YEAR, seed=SEED
    )
    return {
        "policy": policy,
        "tiers": tiers,
        "visits": draw.visits,
        "scoring_s": score_s,
        "draw_s": draw_s,
        "assignment_s": assign_s,
    }


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _baselines(ds: Any, naive_entities: int, cpsat_groups: int) -> dict[str, Any]:
    ours = _ours(ds)
    out: dict[str, Any] = {"ours_peak_rss_mib": _peak_mib()}
    out["naive_scoring"] = naive_scoring(ds, ours["scoring_s"], naive_entities)
    out["naive_scoring"]["peak_rss_mib"] = _peak_mib()
    out["naive_draw"] = naive_draw(ds, ours["tiers"], ours["policy"], ours["draw_s"])
    out["naive_draw"]["peak_rss_mib"] = _peak_mib()
    out["cpsat"] = cpsat(ours["visits"], ds, ours["assignment_s"], cpsat_groups)
    out["cpsat"]["peak_rss_mib"] = _peak_mib()
    greedy, g_wall, g_cpu = _timed(greedy_assignment, ours["visits"], ds)
    out["greedy"] = {
        **greedy,
        "wall_s": g_wall,
        "cpu_s": g_cpu,
        "ours_s": ours["assignment_s"],
        "peak_rss_mib": _peak_mib(),
    }
    out["visits"] = len(ours["visits"])
    return out


def measure(
    data: Path,
    *,
    naive_entities: int,
    cpsat_groups: int,
    max_entities: int | None = None,
    seed: str = SEED,
) -> dict[str, Any]:
    """Every baseline beside ours, on ``data`` or on its keyed sample."""
    import _sample

    from creditsup.schemas import load_dataset

    t0 = time.perf_counter()
    n_all = _sample.count_entities(data)
    with tempfile.TemporaryDirectory(prefix="creditsup-baselines-") as tmp:
        sample = None
        if max_entities is not None and n_all > max_entities:
            sample = _sample.sample_dataset(
                data, Path(tmp), entities=max_entities, seed=seed
            )
            data = Path(tmp)
        ds = load_dataset(data)
        out = _baselines(ds, naive_entities, cpsat_groups)
    return {
        "data_entities": n_all,
        "entities": len(ds.entities),
        "inspectors": len(ds.inspectors),
        "sample": sample,
        "max_entities": max_entities,
        **out,
        "wall_s": time.perf_counter() - t0,
        "peak_rss_mib": _peak_mib(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--naive-entities", type=int, default=2000)
    ap.add_argument("--cpsat-groups", type=int, default=4)
    ap.add_argument("--max-entities", type=int, help="sample above this many entities")
    ap.add_argument("--seed", default=SEED, help="the sample's seed")
    a = ap.parse_args()
    res = measure(
        a.data,
        naive_entities=a.naive_entities,
        cpsat_groups=a.cpsat_groups,
        max_entities=a.max_entities,
        seed=a.seed,
    )
    a.out.write_text(json.dumps(res, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
