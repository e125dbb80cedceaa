"""Benchmark: random inspector assignment (MCF + Metropolis) vs monolithic CP-SAT.

Builds a synthetic city-scale instance directly (visits + inspectors frames:
10 departments, ~20 regions, 4 expertise areas per department, capacity 3-5
per month, leave months, conflicts and a last-visit history), then times
:func:`creditsup.assignment.assign_inspectors` (arcs + min-cost flow per
department-month + Metropolis sweeps) and, side by side on the same instance
and the same candidate arcs and keyed random costs, one monolithic CP-SAT
model per department-month (one worker, fixed seed, deterministic limit).

Writes ``benchmarks/results/assignment.json`` and ``assignment.md``.

    python benchmarks/bench_assignment.py --sizes 50000:3000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditsup import uscc
from creditsup.schemas import Dataset

RESULTS = Path(__file__).resolve().parent / "results"


def synthetic_instance(
    n_visits: int, n_inspectors: int, *, seed: int = 0, year: int = 2027
) -> tuple[pd.DataFrame, Dataset]:
    """A synthetic city: visits and a typed dataset (no validation pass)."""
    rng = np.random.default_rng(seed)
    n_dept = 10
    n_regions = max(1, n_inspectors // (n_dept * 15))
    depts = [f"dept{d:02d}" for d in range(n_dept)]
    regions = [f"1409{r:02d}" for r in range(n_regions)]
    expertise = [[f"{d}_e{k}" for k in range(4)] for d in depts]
    # inspectors
    i_dept = rng.integers(0, n_dept, n_inspectors)
    i_reg = rng.integers(0, n_regions, n_inspectors)
    n_exp = rng.integers(1, 3, n_inspectors)
    exp_str = []
    for d, k in zip(i_dept, n_exp, strict=True):
        exp_str.append(";".join(sorted(rng.choice(expertise[d], k, replace=False))))
    leave = []
    for _ in range(n_inspectors):
        k = rng.choice([0, 0, 1, 2])
        leave.append(
            ";".join(str(m) for m in sorted(rng.choice(12, k, replace=False) + 1))
        )
    inspectors = pd.DataFrame(
        {
            "inspector_id": [f"P{i:05d}" for i in range(n_inspectors)],
            "name": [f"inspector {i}" for i in range(n_inspectors)],
            "department": np.array(depts)[i_dept],
            "region": np.array(regions)[i_reg],
            "expertise": exp_str,
            "monthly_capacity": rng.integers(3, 6, n_inspectors).astype(np.int64),
            "unavailable_months": leave,
            "certificate_no": pd.NA,
            "active": rng.random(n_inspectors) > 0.02,
        }
    )
    # items: 6 per department, expertise mostly set, some open
    rows = []
    for d, name in enumerate(depts):
        for k in range(6):
            exp = "" if k == 5 else expertise[d][k % 4]
            rows.append((f"{name}-{k}", name, f"item {k}", "law", "general", exp))
    items = pd.DataFrame(
        rows,
        columns=["item_id", "department", "name", "legal_basis", "kind", "expertise"],
    )
    # entities (one per visit) and visits
    gen = np.random.default_rng(seed + 1)
    ids = uscc.generate(n_visits, rng=gen)
    e_reg = rng.integers(0, n_regions, n_visits)
    entities = pd.DataFrame({"uscc": ids, "region": np.array(regions)[e_reg]})
    joint = rng.random(n_visits) < 0.15
    d1 = rng.integers(0, n_dept, n_visits)
    d2 = (d1 + rng.integers(1, n_dept, n_visits)) % n_dept
    months = rng.integers(1, 13, n_visits)
    dep_col, item_col = [], []
    for v in range(n_visits):
        ds = [d1[v], d2[v]] if joint[v] else [d1[v]]
        its = []
        for d in ds:
            k = rng.choice([1, 1, 1, 2])
            its += [f"{depts[d]}-{j}" for j in sorted(rng.choice(6, k, replace=False))]
        dep_col.append(";".join(depts[d] for d in ds))
        item_col.append(";".join(its))
    visits = pd.DataFrame(
        {
            "visit_id": [f"{year}-{v:06d}" for v in range(n_visits)],
            "uscc": ids,
            "tier": rng.choice(list("ABCD"), n_visits, p=[0.2, 0.6, 0.15, 0.05]),
            "month": months.astype(np.int64),
            "departments": dep_col,
            "items": item_col,
            "trigger": "random",
            "joint": joint,
        }
    )
    # conflicts (~0.3 per visit's department pool) and history (last visit)
    n_conf = int(0.3 * n_visits)
    conflicts = pd.DataFrame(
        {
            "inspector_id": inspectors["inspector_id"].to_numpy()[
                rng.integers(0, n_inspectors, n_conf)
            ],
            "uscc": ids[rng.integers(0, n_visits, n_conf)],
            "reason": "relative",
        }
    ).drop_duplicates(["inspector_id", "uscc"])
    hv = rng.random(n_visits) < 0.6
    same_dept = inspectors.groupby("department")["inspector_id"].apply(list).to_dict()
    hist_ids = []
    for v in np.flatnonzero(hv):
        pool = same_dept[depts[d1[v]]]
        hist_ids.append(";".join(rng.choice(pool, 2, replace=False)))
    history = pd.DataFrame(
        {
            "uscc": ids[hv],
            "date": pd.Timestamp(f"{year - 1}-06-01"),
            "department": np.array(depts)[d1[hv]],
            "result": "normal",
            "inspector_ids": hist_ids,
            "trigger": "random",
        }
    )
    ds = Dataset(
        entities=entities,
        inspectors=inspectors,
        conflicts=conflicts.reset_index(drop=True),
        items=items,
        history=history,
    )
    return visits, ds


def _mcf_vs_cpsat(
    visits: pd.DataFrame,
    ds: Dataset,
    *,
    year: int,
    seed: str,
    max_deterministic_time: float,
    max_groups: int | None,
) -> dict[str, Any]:
    """Per (department, month): MCF and monolithic CP-SAT on identical inputs.

    Same tasks, same pruned candidate arcs, same keyed random costs and
    lexicographic weights (unfilled >> cross-region >> random). The objective
    is the sum of the chosen arcs' costs plus the penalty of unfilled tasks.
    """
    from creditsup._random import derive_key, seed_sequence
    from creditsup.assignment import AssignmentPolicy
    from creditsup.assignment._arrays import expand
    from creditsup.assignment.candidates import arc_costs, candidate_arcs
    from creditsup.assignment.cover import solve_cpsat
    from creditsup.assignment.flow import GroupProblem, lexicographic_costs, solve_mcf
    from creditsup.assignment.prepare import prepare

    policy = AssignmentPolicy()
    P = prepare(visits, ds, policy, year=year, seed=seed)
    tasks = np.arange(len(P.t_visit), dtype=np.int64)
    grp = P.t_dept * 13 + P.t_month
    groups = np.unique(grp)
    n_groups = len(groups)
    if max_groups and max_groups < len(groups):  # an evenly spread sample
        groups = groups[np.linspace(0, len(groups) - 1, max_groups).round().astype(int)]
    # the arcs of the sampled groups' tasks only (each task's arcs are its own:
    # the same as in the whole run), so that a city's sample fits in memory
    mine = tasks[np.isin(grp, groups)]
    a_t, a_i = candidate_arcs(
        P, mine, P.t_month[mine], prune=True, k_cross=10, seed=seed, year=year
    )
    cost_all = arc_costs(P, a_t, a_i, derive_key(seed, year, "assignment", "cost"))
    cross_all = P.insp_region[a_i] != P.v_region[P.t_visit[a_t]]
    out: dict[str, Any] = {
        "groups": 0,
        "mcf_s": 0.0,
        "cpsat_s": 0.0,
        "mcf_objective": 0,
        "cpsat_objective": 0,
        "mcf_unfilled_tasks": 0,
        "cpsat_unfilled_tasks": 0,
        "mcf_cross_slots": 0,
        "cpsat_cross_slots": 0,
        "cpsat_status": {},
        "vars": 0,
        "same_objective_groups": 0,
    }
    cap = P.insp_cap.copy()
    out["groups_total"] = n_groups
    for g in groups:
        g_tasks = tasks[grp == g]
        lo = np.searchsorted(a_t, g_tasks)
        hi = np.searchsorted(a_t, g_tasks, side="right")
        r, pos = expand(lo, hi - lo)
        rank_v = P.v_rank[P.t_visit[g_tasks]]
        prank = np.empty(len(g_tasks), dtype=np.int64)
        prank[np.argsort(rank_v, kind="stable")] = np.arange(len(g_tasks))
        arc_cost, penalty = lexicographic_costs(
            cost_all[pos], cross_all[pos], r, P.t_size[g_tasks], prank
        )
        gp = GroupProblem(
            size=P.t_size[g_tasks],
            req=P.t_req[g_tasks],
            open_=P.t_open[g_tasks],
            penalty=penalty,
            arc_task=r,
            arc_insp=a_i[pos],
            arc_cost=arc_cost,
            insp_mask=P.insp_mask,
            capacity=cap,
        )
        t0 = time.perf_counter()
        m = solve_mcf(gp)
        out["mcf_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        rs = int(seed_sequence(seed, year, "bench-cpsat", int(g)).generate_state(1)[0])
        c = solve_cpsat(
            gp, random_seed=rs, max_deterministic_time=max_deterministic_time
        )
        out["cpsat_s"] += time.perf_counter() - t0
        out["groups"] += 1
        out["vars"] += len(r) + len(g_tasks)
        out["cpsat_status"][c.status] = out["cpsat_status"].get(c.status, 0) + 1
        objs = []
        for name, sol in (("mcf", m), ("cpsat", c)):
            used = sol.chosen & sol.filled[r]
            obj = int(arc_cost[used].sum()) + int(
                (penalty * gp.size)[~sol.filled].sum()
            )
            objs.append(obj)
            out[f"{name}_objective"] += obj
            out[f"{name}_unfilled_tasks"] += int((~sol.filled).sum())
            out[f"{name}_cross_slots"] += int(cross_all[pos][used].sum())
        out["same_objective_groups"] += int(objs[0] == objs[1])
        out["cpsat_not_worse_groups"] = out.get("cpsat_not_worse_groups", 0) + int(
            objs[1] <= objs[0]
        )
        print(
            f"  group {int(g)}: {len(g_tasks)} tasks, {len(r)} arcs, MCF obj {objs[0]}, "
            f"CP-SAT obj {objs[1]} ({c.status})",
            file=sys.stderr,
            flush=True,
        )
    scale = out["groups_total"] / max(out["groups"], 1)
    out["cpsat_s_all_groups_est"] = out["cpsat_s"] * scale
    out["mcf_s_all_groups_est"] = out["mcf_s"] * scale
    return out


def run(n_visits: int, n_inspectors: int, args: argparse.Namespace) -> dict[str, Any]:
    from creditsup.assignment import (
        AssignmentPolicy,
        assign_inspectors,
        audit_assignment,
    )

    t0 = time.perf_counter()
    visits, ds = synthetic_instance(n_visits, n_inspectors, seed=args.seed)
    gen_s = time.perf_counter() - t0
    policy = AssignmentPolicy(metropolis_sweeps=args.sweeps)
    # warm-up (imports, first numpy/OR-Tools calls) on a small slice
    assign_inspectors(visits.iloc[:200], ds, policy, year=2027, seed="warm")
    times, cpu = [], []
    res = None
    for k in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        res = assign_inspectors(visits, ds, policy, year=2027, seed=f"bench-{k}")
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert res is not None
    t0 = time.perf_counter()
    audit = audit_assignment(res.assignments, res.visits, ds)
    audit_s = time.perf_counter() - t0
    row: dict[str, Any] = {
        "visits": n_visits,
        "inspectors": n_inspectors,
        "tasks": int(res.ledger[0]["n_tasks"]),
        "arcs": int(res.ledger[1]["n_arcs"]),
        "generate_s": round(gen_s, 3),
        "ours_s": round(min(times), 3),
        "ours_s_all": [round(t, 3) for t in times],
        "ours_cpu_s": round(min(cpu), 3),
        "audit_s": round(audit_s, 3),
        "violations": len(audit),
        "unfilled_visits": len(res.diagnostics["unfilled"]),
        "assignments": len(res.assignments),
        "cross_region_share": res.metrics["cross_region_share"],
        "metropolis": res.metrics["metropolis"],
        "load_min_median_max": [
            res.metrics["load_min"],
            res.metrics["load_median"],
            res.metrics["load_max"],
        ],
        "pair_max": res.metrics["pair_max"],
        "max_p_inspector_entity_prior": res.metrics["max_p_inspector_entity_prior"],
    }
    print(json.dumps(row, indent=1), file=sys.stderr, flush=True)
    if not args.no_cpsat:
        cmp_ = _mcf_vs_cpsat(
            visits,
            ds,
            year=2027,
            seed="bench-0",
            max_deterministic_time=args.max_deterministic_time,
            max_groups=args.cpsat_groups,
        )
        row["baseline"] = cmp_
        row["speed_ratio_cpsat_vs_ours"] = round(
            cmp_["cpsat_s_all_groups_est"] / min(times), 1
        )
        row["speed_ratio_cpsat_vs_mcf"] = round(
            cmp_["cpsat_s"] / max(cmp_["mcf_s"], 1e-9), 1
        )
    return row


def _markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Assignment benchmark: MCF + Metropolis vs monolithic CP-SAT",
        "",
        f"Machine: {meta['machine']}; Python {meta['python']}; OR-Tools "
        f"{meta['ortools']}; load average at start {meta['load_average']} (the "
        "machine is shared: wall times vary, CPU times are steadier).",
        "",
        "**Ours** = `assign_inspectors` end to end: candidate arcs, SimpleMinCostFlow "
        "per department-month, retries, 10 Metropolis sweeps, outputs (best of "
        "the timed runs). **Baseline** = one monolithic CP-SAT model per "
        "department-month (the obvious OR-Tools approach: a boolean per candidate "
        "arc, team size, expertise coverage, capacity; 1 worker, fixed seed, "
        "`max_deterministic_time`), on the same tasks, candidate arcs and keyed "
        "random costs, on an evenly spread sample of department-months with the "
        "time extrapolated to all of them. The MCF stage alone is timed on the "
        "same sample. Objective = chosen arc costs (random + cross-region "
        "penalty) + unfilled-task penalties, lower is better.",
        "",
        "| visits | inspectors | arcs | ours (s) | ours CPU (s) | violations "
        "| unfilled | groups sampled | MCF stage on sample (s) | CP-SAT on sample (s) "
        "| CP-SAT all groups, est. (s) | CP-SAT / ours | CP-SAT / MCF "
        "| MCF objective | CP-SAT objective | CP-SAT status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = r.get("baseline", {})
        status = ", ".join(f"{k} {v}" for k, v in b.get("cpsat_status", {}).items())
        lines.append(
            f"| {r['visits']:,} | {r['inspectors']:,} | {r['arcs']:,} | {r['ours_s']} "
            f"| {r['ours_cpu_s']} | {r['violations']} | {r['unfilled_visits']} "
            f"| {b.get('groups', '-')}/{b.get('groups_total', '-')} "
            f"| {round(b.get('mcf_s', float('nan')), 3)} "
            f"| {round(b.get('cpsat_s', float('nan')), 2)} "
            f"| {round(b.get('cpsat_s_all_groups_est', float('nan')), 0)} "
            f"| {r.get('speed_ratio_cpsat_vs_ours', '-')} "
            f"| {r.get('speed_ratio_cpsat_vs_mcf', '-')} "
            f"| {b.get('mcf_objective', '-'):,} | {b.get('cpsat_objective', '-'):,} "
            f"| {status} |"
        )
    lines += [""]
    for r in rows:
        mt = r["metropolis"]
        b = r.get("baseline", {})
        lines.append(
            f"- {r['visits']:,} visits: ours {r['ours_s_all']} s (CPU {r['ours_cpu_s']} "
            f"s); Metropolis {mt['proposals']:,} proposals, acceptance "
            f"{mt['acceptance_rate']}, {mt['changed_share']} of slots changed; "
            f"cross-region share {r['cross_region_share']}; audit "
            f"{r['audit_s']} s, {r['violations']} violations"
            + (
                f"; cross-region slots on the sample: MCF {b['mcf_cross_slots']}, "
                f"CP-SAT {b['cpsat_cross_slots']}; unfilled tasks: MCF "
                f"{b['mcf_unfilled_tasks']}, CP-SAT {b['cpsat_unfilled_tasks']}; "
                f"CP-SAT objective not worse than MCF in "
                f"{b.get('cpsat_not_worse_groups', 0)}/{b['groups']} groups"
                if b
                else ""
            )
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes",
        default="50000:3000",
        help="comma-separated visits:inspectors pairs (default 50000:3000)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of ours")
    ap.add_argument("--sweeps", type=int, default=10, help="Metropolis sweeps")
    ap.add_argument("--seed", type=int, default=0, help="instance generator seed")
    ap.add_argument("--no-cpsat", action="store_true", help="skip the CP-SAT baseline")
    ap.add_argument(
        "--cpsat-groups",
        type=int,
        default=12,
        help="CP-SAT on an evenly spread sample of N department-months, time "
        "extrapolated to all (0 = every group; about 25 s each at 50k)",
    )
    ap.add_argument("--max-deterministic-time", type=float, default=10.0)
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    args = ap.parse_args(argv)
    import ortools

    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "ortools": ortools.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    rows = []
    for spec in args.sizes.split(","):
        n_v, n_i = (int(x) for x in spec.split(":"))
        print(f"size {n_v} visits / {n_i} inspectors ...", file=sys.stderr)
        row = run(n_v, n_i, args)
        print(json.dumps(row, indent=1), file=sys.stderr)
        rows.append(row)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "assignment.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n", encoding="utf-8"
    )
    (out / "assignment.md").write_text(_markdown(rows, meta), encoding="utf-8")
    print(_markdown(rows, meta))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
