"""The done-when figures of issue #12: does the draw mean what bureaus mean?

On the synthetic district (:func:`creditsup.datasets.synthetic_district`,
50,000 entities, 600 inspectors) and on an independent-style dataset with 8
departments, 21 items and 400 inspectors with ample capacity, under the
default policy (and with quiet months ``[6, 9]``), over several seeds:

* each tier's visited share against its planned share (the tier ratio, and
  the mandates: key items for D, 100 % items) -- z in binomial standard
  errors, pooled over the seeds;
* the share of eligible entities visited (R08 floor 5 %), enterprises with a
  publicity check (3 %), key items of tier D checked (100 %);
* the share of visited entities with more than one visit (R14, <= 2 %);
* months outside the allowed ones (R16); ``no_tier`` exclusions (C3);
* inspector-slots needed against available, and what ``budget = "capacity"``
  does on the synthetic roster.

Run: ``PYTHONPATH=src python benchmarks/draw_meaning.py [--seeds 20]``.
Writes ``benchmarks/results/draw_meaning.json`` and ``draw_meaning.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditsup import __version__
from creditsup.datasets import synthetic_district
from creditsup.plan import ALGORITHM_VERSION, build_plan
from creditsup.policy import Policy
from creditsup.sampling import DrawResult, SamplingPolicy, draw_visits
from creditsup.schemas import Dataset
from creditsup.tiers import rate_entities

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from strategies import eight_departments

YEAR = 2026


def tiers_of(ds: Dataset) -> pd.DataFrame:
    return rate_entities(ds, as_of=f"{YEAR - 1}-12-31").table[["uscc", "tier"]]


def figures(
    ds: Dataset, tiers: pd.DataFrame, policy: SamplingPolicy, seeds: int
) -> dict[str, Any]:
    """The done-when figures of ``seeds`` draws under ``policy``."""
    runs: list[DrawResult] = []
    t0 = time.perf_counter()
    for k in range(seeds):
        runs.append(draw_visits(ds, tiers, policy, year=YEAR, seed=f"meaning#{k}"))
    seconds = (time.perf_counter() - t0) / seeds
    acc = pd.concat([r.accounting for r in runs])
    g = acc.groupby("tier").agg(
        eligible=("n_eligible", "mean"),
        drawn=("n_drawn", "sum"),
        n=("n_eligible", "sum"),
        tier_ratio=("tier_ratio", "first"),
        planned=("entity_target", "mean"),
    )
    g["visited_share"] = g["drawn"] / g["n"]
    g["z"] = (g["visited_share"] - g["planned"]) / np.sqrt(
        g["planned"] * (1 - g["planned"]) / g["n"]
    )
    allowed = set(policy.months)
    fl = pd.concat([r.floors for r in runs]).groupby("floor")["realized"]
    multi = [
        float((r.visits.groupby("uscc").size() > 1).sum() / r.visits["uscc"].nunique())
        for r in runs
    ]
    needs = runs[0].capacity_needs
    return {
        "seeds": seeds,
        "seconds_per_draw": round(seconds, 3),
        "tiers": {
            str(t): {
                "eligible": round(float(r.eligible), 1),
                "tier_ratio": float(r.tier_ratio),
                "planned": round(float(r.planned), 5),
                "visited_share": round(float(r.visited_share), 5),
                "z": round(float(r.z), 2),
            }
            for t, r in g.iterrows()
        },
        "overall_min": round(float(fl.min()["overall"]), 5),
        "publicity_min": round(float(fl.min()["publicity"]), 5),
        "key_d_min": round(float(fl.min()["key_d"]), 5),
        "multi_visit_share_max": round(max(multi), 5),
        "months_outside": int(
            sum((~r.visits["month"].isin(allowed)).sum() for r in runs)
        ),
        "no_tier": int(
            sum((r.exclusions["reason_code"] == "no_tier").sum() for r in runs)
        ),
        "assumed_tier": runs[0].assumed_tiers["reason_code"].value_counts().to_dict(),
        "visits": int(np.mean([len(r.visits) for r in runs])),
        "joint_share": round(
            float(np.mean([r.visits["joint"].mean() for r in runs])), 3
        ),
        "slots_needed": int(needs["needed"].sum()),
        "slots_available": int(needs["available"].sum()),
        "shortfall": int(needs["shortfall"].sum()),
        "budget": runs[0].budget,
    }


def plan_figures(ds: Dataset, policy: Policy) -> dict[str, Any]:
    """One whole plan (draw + assignment): staffing, team limits, months, exit."""
    t0 = time.perf_counter()
    plan = build_plan(ds, policy, year=YEAR, seed="meaning#plan")
    seconds = time.perf_counter() - t0
    binding = plan.diagnostics.get("binding", [])
    team = [b for b in binding if "team size" in str(b.get("group", ""))]
    months = set(policy.sampling.months)
    return {
        "seconds": round(seconds, 2),
        "visits": len(plan.visits),
        "assignments": len(plan.assignments),
        "unfilled": len(plan.diagnostics.get("unfilled", [])),
        "unstaffable_team_size": len(team),
        "largest_team": int(plan.assignments.groupby("visit_id").size().max()),
        "largest_department_team": int(
            plan.assignments.groupby(["visit_id", "department"]).size().max()
        ),
        "months_outside": int((~plan.visits["month"].isin(months)).sum()),
        "capacity_shortfall_groups": len(plan.diagnostics.get("capacity", [])),
        "budget_scale": plan.diagnostics.get("budget", {}).get("scale"),
        "exit": 0 if plan.is_feasible else 3,
    }


def scarce(ds: Dataset, factor: float) -> Dataset:
    """The same dataset with every inspector's monthly capacity times ``factor``."""
    ins = ds.inspectors.copy()
    cap = np.floor(ins["monthly_capacity"].astype(float) * factor).clip(lower=1)
    ins["monthly_capacity"] = cap.astype(ds.inspectors["monthly_capacity"].dtype)
    return dataclasses.replace(ds, inspectors=ins)


def _md_plans(plans: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "## Whole plans (draw + assignment, one seed)",
        "",
        "| dataset | visits | unfilled | unstaffable by team size | largest team"
        " | largest department team | months outside | short (dept, month)"
        " | budget scale | exit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, f in plans.items():
        lines.append(
            f"| {name} | {f['visits']:,} | {f['unfilled']:,} |"
            f" {f['unstaffable_team_size']} | {f['largest_team']} |"
            f" {f['largest_department_team']} | {f['months_outside']} |"
            f" {f['capacity_shortfall_groups']} | {f['budget_scale']} | {f['exit']} |"
        )
    return [*lines, ""]


def _md_block(name: str, f: dict[str, Any]) -> list[str]:
    lines = [
        f"## {name}",
        "",
        f"{f['seeds']} seeds, {f['seconds_per_draw']} s per draw; about {f['visits']:,}"
        f" visits a draw, {100 * f['joint_share']:.0f} % joint.",
        "",
        "| tier | eligible | tier ratio | planned share | visited share | z |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t, r in f["tiers"].items():
        lines.append(
            f"| {t} | {r['eligible']:,.0f} | {r['tier_ratio']:.2f} | {r['planned']:.4f}"
            f" | {r['visited_share']:.4f} | {r['z']:+.2f} |"
        )
    lines += [
        "",
        f"- visited share of eligible entities (lowest over seeds):"
        f" {100 * f['overall_min']:.2f} % (floor 5 %)",
        f"- enterprises with a publicity check: {100 * f['publicity_min']:.2f} %"
        " (floor 3 %)",
        f"- key items of tier D checked: {100 * f['key_d_min']:.1f} %",
        f"- visited entities with more than one visit (highest):"
        f" {100 * f['multi_visit_share_max']:.2f} % (<= 2 %)",
        f"- visits outside the allowed months: {f['months_outside']};"
        f" `no_tier` exclusions: {f['no_tier']}; tier assumed: {f['assumed_tier']}",
        f"- inspector-slots needed {f['slots_needed']:,}, available"
        f" {f['slots_available']:,}, shortfall {f['shortfall']:,};"
        f" budget: {f['budget']}",
        "",
    ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    syn = synthetic_district(50_000, 600, seed=0, year=YEAR)
    eight = eight_departments(6000, 400)
    data = {"synthetic district (50,000 entities, 600 inspectors)": syn,
            "8 departments, 21 items, ample capacity (6,000 entities)": eight}  # fmt: skip
    out: dict[str, Any] = {}
    for name, ds in data.items():
        tiers = tiers_of(ds)
        out[name] = figures(ds, tiers, SamplingPolicy(), args.seeds)
        out[name + ", quiet months [6, 9]"] = figures(
            ds, tiers, SamplingPolicy(months=(6, 9)), max(2, args.seeds // 4)
        )
    syn_tiers = tiers_of(syn)
    out["synthetic district at a third of its capacity, budget = 'capacity'"] = figures(
        scarce(syn, 1 / 3),
        syn_tiers,
        SamplingPolicy(budget="capacity"),
        max(2, args.seeds // 4),
    )
    quiet = Policy(sampling=SamplingPolicy(months=(6, 9)))
    plans = {
        "synthetic district": plan_figures(syn, Policy()),
        "synthetic district, quiet months [6, 9]": plan_figures(syn, quiet),
        "synthetic district, half capacity": plan_figures(scarce(syn, 0.5), Policy()),
        "synthetic district, half capacity, budget = 'capacity'": plan_figures(
            scarce(syn, 0.5), Policy(sampling=SamplingPolicy(budget="capacity"))
        ),
        "8 departments": plan_figures(eight, Policy()),
        "8 departments, quiet months [6, 9]": plan_figures(eight, quiet),
        "8 departments, a tenth of the capacity": plan_figures(
            scarce(eight, 0.1), Policy()
        ),
    }
    out["plans"] = plans
    print(json.dumps(out, indent=1, default=str))
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "creditsup": __version__,
        "algorithm": "creditsup-prn-v2",
        "plan_algorithm": ALGORITHM_VERSION,
        "year": YEAR,
    }
    (args.out / "draw_meaning.json").write_text(
        json.dumps({"meta": meta, "figures": out}, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    lines = [
        "# Does the draw mean what bureaus mean? (issue #12)",
        "",
        f"creditsup {__version__}, creditsup-prn-v2, plan year {YEAR}, default policy"
        " unless named. z: (visited - planned) / binomial SE, pooled over seeds;"
        " planned = mean over eligible entities of their largest item ratio (the tier"
        " ratio, raised by mandates such as key items for D and 100 % items).",
        "",
    ]
    for name, f in out.items():
        if name != "plans":
            lines += _md_block(name, f)
    lines += _md_plans(plans)
    (args.out / "draw_meaning.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
