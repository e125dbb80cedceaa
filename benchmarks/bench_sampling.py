"""Benchmark: one door per entity against per-department visits, and the speed of the draw.

Scenario (``research/scheduling.md`` §3, reference B2, with the default
policy of creditsup-prn-v2): a city of N entities, 10 departments with one
check item each, applying to about 30 % of entities; tiers 20/60/15/5 %; the
default (Lindian) tier ratios A-D 5/10/30/70 %; 7 of the 10 departments in 3
joint groups; caps A-D 2/3/4/6 with about 0.3 earlier visits per entity this
year (80 % counted, 20 % complaint-triggered and exempt).

The same checks are turned into visits three ways:

* **one door** (default, ``merge="entity"``): every check of an entity in the
  year, across departments, forms one visit (R14);
* **joint groups** (``merge="joint_group"``, creditsup-prn-v1): one visit per
  entity and joint group;
* **per department**: one visit per entity and department, what the checks
  cost without any merging.

Each is also priced in inspector-slots (an inspector on a visit for one
month's capacity): a per-department visit takes a team of two; a one-door
visit takes one inspector per department and at least two.

Baselines: the same code with an independent PRN per item
(``coordination="independent"``, what the one PRN per entity saves), and a
naive pandas draw (per-department ``DataFrame.sample``, ``groupby`` merge,
shuffled ``cumcount`` cap).

It also runs the randomness checks (2,000 keys on a small pool): per entity,
the share of keys in which it is visited against its planned probability (the
tier ratio); per (entity, item), against the item's ratio; and a biased
sampler that must be rejected.

Run: ``PYTHONPATH=src python benchmarks/bench_sampling.py [--sizes 1000000]``.
Writes ``benchmarks/results/sampling.json`` and ``sampling.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from creditsup import __version__
from creditsup._random import derive_key, keyed_uniform
from creditsup.sampling import (
    DrawResult,
    SamplingPolicy,
    draw_visits,
    estimate_inclusion,
)
from creditsup.sampling._prn import prn_key
from creditsup.sampling.budget import final_draw
from creditsup.sampling.outputs import build_result
from creditsup.sampling.pipeline import prepare
from creditsup.schemas import Dataset
from creditsup.uscc import generate

YEAR = 2027
SECTIONS = [
    "A0111",
    "C1391",
    "E4710",
    "F5211",
    "G5411",
    "H6210",
    "I6510",
    "K7010",
    "L7211",
    "O8010",
]
GROUPS = {0: "J1", 1: "J1", 2: "J1", 3: "J2", 4: "J2", 5: "J3", 6: "J3"}


def make_city(
    n: int, *, n_departments: int = 10, seed: int = 0
) -> tuple[Dataset, pd.DataFrame]:
    """A typed dataset (validation skipped: it is timed elsewhere) and tiers."""
    rng = np.random.default_rng(seed)
    ids = np.sort(generate(n, rng=rng))
    sec = rng.integers(0, len(SECTIONS), n)
    etype = np.array(["enterprise", "individual", "cooperative", "other"], dtype=object)
    ent = pd.DataFrame(
        {
            "uscc": pd.array(ids, dtype="str"),
            "name": pd.array(np.full(n, "e", dtype=object), dtype="str"),
            "entity_type": pd.array(
                etype[rng.choice(4, n, p=[0.35, 0.55, 0.07, 0.03])], dtype="str"
            ),
            "industry": pd.array(np.array(SECTIONS, dtype=object)[sec], dtype="str"),
            "region": pd.array(np.full(n, "140902", dtype=object), dtype="str"),
            "established": pd.Timestamp("2000-01-01")
            + pd.to_timedelta(rng.integers(0, 9000, n), unit="D"),
            "status": pd.array(
                np.where(rng.random(n) < 0.03, "deregistered", "active").astype(object),
                dtype="str",
            ),
            "key_supervision": rng.random(n) < 0.01,
        }
    )
    rows = []
    for d in range(n_departments):
        scope = ";".join(SECTIONS[(d + k) % len(SECTIONS)][:3] for k in range(3))
        rows.append(
            {
                "item_id": f"D{d:02d}",
                "department": f"dept{d:02d}",
                "name": "item",
                "legal_basis": "law",
                "kind": "general",
                "entity_types": "*",
                "industries": scope,
                "expertise": "general",
                "joint_group": GROUPS.get(d, pd.NA),
            }
        )
    items = pd.DataFrame(rows)
    n_ins = max(30, n // 100)
    inspectors = pd.DataFrame(
        {
            "inspector_id": [f"I{i:06d}" for i in range(n_ins)],
            "name": "x",
            "department": [f"dept{i % n_departments:02d}" for i in range(n_ins)],
            "region": "140902",
            "expertise": "general",
            "monthly_capacity": rng.integers(6, 13, n_ins),
            "unavailable_months": np.where(rng.random(n_ins) < 0.2, "7;8", ""),
            "active": True,
        }
    )
    nh = int(rng.poisson(0.3 * n))
    hi = rng.integers(0, n, nh)
    history = pd.DataFrame(
        {
            "uscc": pd.array(ids[hi], dtype="str"),
            "date": pd.Timestamp(f"{YEAR}-01-01")
            + pd.to_timedelta(rng.integers(0, 60, nh), unit="D"),
            "department": [f"dept{x:02d}" for x in rng.integers(0, n_departments, nh)],
            "result": "normal",
            "inspector_ids": "",
            "trigger": np.where(rng.random(nh) < 0.8, "random", "complaint"),
        }
    )
    ds = Dataset(entities=ent, items=items, inspectors=inspectors, history=history)
    tiers = pd.DataFrame(
        {
            "uscc": ent["uscc"],
            "tier": np.array(list("ABCD"), dtype=object)[
                rng.choice(4, n, p=[0.2, 0.6, 0.15, 0.05])
            ],
        }
    )
    return ds, tiers


RATIOS = SamplingPolicy().ratios


def naive_draw(ds: Dataset, tiers: pd.DataFrame, seed: int) -> dict[str, int]:
    """Per-department ``df.sample``, ``groupby`` merge per entity, shuffled-cumcount cap."""
    ent = ds.entities.merge(tiers, on="uscc")
    ent = ent[ent["status"] == "active"]
    caps = {"A": 2, "B": 3, "C": 4, "D": 6}
    hist = ds.history[~ds.history["trigger"].isin(["complaint"])]
    used = hist.drop_duplicates(["uscc", "date"]).groupby("uscc").size()
    ent = ent.assign(remaining=ent["tier"].map(caps) - ent["uscc"].map(used).fillna(0))
    ent = ent[ent["remaining"] > 0]
    checks = []
    for k, item in enumerate(ds.items.itertuples(index=False)):
        rng = np.random.default_rng([seed, k])  # one generator per department task
        prefixes = tuple(str(item.industries).split(";"))
        pool = ent[ent["industry"].str.startswith(prefixes)]
        for tier, sub in pool.groupby("tier"):
            pick = sub.sample(n=round(RATIOS[str(tier)] * len(sub)), random_state=rng)
            checks.append(
                pd.DataFrame(
                    {
                        "uscc": pick["uscc"].to_numpy(),
                        "remaining": pick["remaining"].to_numpy(),
                        "department": item.department,
                        "item_id": item.item_id,
                    }
                )
            )
    chk = pd.concat(checks, ignore_index=True)
    visits = (
        chk.groupby("uscc", sort=True)
        .agg(
            remaining=("remaining", "first"),
            departments=("department", lambda s: ";".join(sorted(set(s)))),
            items=("item_id", lambda s: ";".join(sorted(s))),
        )
        .reset_index()
    )
    visits = visits.sample(frac=1.0, random_state=seed)
    keep = visits.groupby("uscc").cumcount() < visits["remaining"]
    kept = visits[keep].copy()
    kept["month"] = np.random.default_rng([seed, 99]).integers(1, 13, len(kept))
    return {
        "checks": len(chk),
        "visits": len(kept),
        "department_visits": int(
            chk[["uscc", "department"]].drop_duplicates().shape[0]
        ),
        "entities": int(kept["uscc"].nunique()),
    }


def door_figures(res: DrawResult, team_size: int) -> dict[str, Any]:
    """Visits and inspector-slots of one draw, merged into one door and per
    department (a per-department visit takes a team of ``team_size``)."""
    c = res.checks
    per_dept = int(c[["uscc", "department"]].drop_duplicates().shape[0])
    return {
        "checks": len(c),
        "visits": len(res.visits),
        "joint_visits": int(res.visits["joint"].sum()),
        "entities": int(res.visits["uscc"].nunique()),
        "department_visits": per_dept,
        "slots_one_door": int(res.capacity_needs["needed"].sum()),
        "slots_per_department": team_size * per_dept,
        "cap_removed": len(res.cap_removals),
    }


def ours(
    ds: Dataset, tiers: pd.DataFrame, policy: SamplingPolicy, seed: str
) -> dict[str, Any]:
    res = draw_visits(ds, tiers, policy, year=YEAR, seed=seed)
    out = door_figures(res, policy.team_size)
    out["shortfall"] = int(res.capacity_needs["shortfall"].sum())
    return out


def phases(
    ds: Dataset, tiers: pd.DataFrame, policy: SamplingPolicy, seed: str, repeat: int
) -> dict[str, float]:
    """Best time of each stage: eligibility and pools; draw + merge + cap +
    capacity check; months, output frames and ledger."""
    best = {
        "prepare": float("inf"),
        "draw_merge_cap": float("inf"),
        "outputs": float("inf"),
    }
    for _ in range(repeat):
        t0 = time.perf_counter()
        design = prepare(ds, tiers, policy, YEAR, hash_key=prn_key(seed, YEAR, "prn"))
        t1 = time.perf_counter()
        d, alloc, fit = final_draw(design, seed)
        t2 = time.perf_counter()
        build_result(design.ctx, design.merged, alloc, d, fit)
        t3 = time.perf_counter()
        for k, v in zip(best, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            best[k] = min(best[k], v)
    return best


def timed(fn: Any, repeat: int, *args: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def verdict(
    x: np.ndarray, p: np.ndarray, block: np.ndarray, n_keys: int
) -> dict[str, float]:
    """Per-unit z (Bonferroni) and per-block dispersion chi-square at 1e-3."""
    inner = (p > 0) & (p < 1)
    x, p, block = x[inner], p[inner], block[inner]
    z = (x - n_keys * p) / np.sqrt(n_keys * p * (1 - p))
    m = len(z)
    p_blocks = []
    for b in np.unique(block):
        zb = z[block == b]
        c = float((zb**2).sum())
        p_blocks.append(2 * min(stats.chi2.sf(c, len(zb)), stats.chi2.cdf(c, len(zb))))
    out = {
        "units": m,
        "blocks": len(p_blocks),
        "p_dispersion_bonferroni": float(min(1.0, min(p_blocks) * len(p_blocks))),
        "max_abs_z": float(np.abs(z).max()),
        "z_crit_bonferroni": float(stats.norm.isf(1e-3 / (2 * m))),
        "share_abs_z_gt_3": float((np.abs(z) > 3).mean()),
    }
    out["rejected"] = bool(
        out["p_dispersion_bonferroni"] < 1e-3
        or out["max_abs_z"] > out["z_crit_bonferroni"]
    )
    return out


def randomness_check(n_keys: int = 2000) -> dict[str, Any]:
    """Entity-level and per-item inclusion over many keys vs planned; power."""
    ds, tiers = make_city(400, n_departments=3, seed=7)
    policy = SamplingPolicy(caps={t: None for t in "ABCDE"})
    t0 = time.perf_counter()
    inc = estimate_inclusion(
        ds, tiers, policy, year=YEAR, n_keys=n_keys, seed="bench", by="entity"
    )
    elapsed = time.perf_counter() - t0
    anyv = inc[inc["item_id"] == "(any)"]
    per_item = inc[inc["item_id"] != "(any)"]

    def counts(df: pd.DataFrame) -> np.ndarray:
        return np.rint(df["pi_final"].to_numpy() * n_keys)

    ent_v = verdict(
        counts(anyv), anyv["target_pi"].to_numpy(), np.zeros(len(anyv)), n_keys
    )
    item_v = verdict(
        counts(per_item),
        per_item["target_pi"].to_numpy(),
        per_item["item_id"].to_numpy(),
        n_keys,
    )
    # the per-item draw of creditsup-prn-v1 (independent PRNs per item), judged
    # against the tier ratio: an entity's chance exceeds it
    indep = estimate_inclusion(
        ds,
        tiers,
        SamplingPolicy(coordination="independent", caps={t: None for t in "ABCDE"}),
        year=YEAR,
        n_keys=n_keys,
        seed="bench-i",
        by="entity",
    )
    ind_any = indep[indep["item_id"] == "(any)"]
    ind_v = verdict(
        counts(ind_any), anyv["target_pi"].to_numpy(), np.zeros(len(anyv)), n_keys
    )
    # biased sampler: same rule, PRN transformed u -> u**1.1 (over-includes)
    ids = ds.entities["uscc"].to_numpy(dtype=object)
    pi = tiers["tier"].map(policy.ratios).to_numpy()
    biased = np.zeros(len(ids))
    for k in range(n_keys):
        u = keyed_uniform(ids, derive_key(f"biased#{k}", YEAR, "prn"))
        biased += u**1.1 < pi
    bias_v = verdict(biased, pi, np.zeros(len(ids)), n_keys)
    return {
        "n_keys": n_keys,
        "seconds": elapsed,
        "entity_level": ent_v,
        "per_item": item_v,
        "per_item_prns_vs_tier_ratio": ind_v,
        "biased": bias_v,
    }


def _markdown(
    rows: list[dict[str, Any]], check: dict[str, Any], meta: dict[str, Any]
) -> str:
    lines = [
        "# Sampling benchmark: one door per entity against per-department visits",
        "",
        f"creditsup {meta['creditsup']}, Python {meta['python']}, numpy {meta['numpy']},"
        f" pandas {meta['pandas']}; best of {meta['repeat']} runs on a shared 2-core"
        " machine. Default policy (creditsup-prn-v2): one PRN per entity, tier ratios"
        " A-D 5/10/30/70 %, one visit per entity.",
        "",
        "## Visits: what one-door merging saves (the same checks)",
        "",
        "| entities | checks | per-department visits | joint-group visits (v1) |"
        " one-door visits | saved vs per department | saved vs joint groups |"
        " inspector-slots per department | inspector-slots one door | slots saved |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        o, j = r["creditsup"], r["joint_groups"]
        lines.append(
            f"| {r['n_entities']:,} | {o['checks']:,} | {o['department_visits']:,}"
            f" | {j['visits']:,} | {o['visits']:,}"
            f" | {100 * (1 - o['visits'] / o['department_visits']):.1f} %"
            f" | {100 * (1 - o['visits'] / j['visits']):.1f} %"
            f" | {o['slots_per_department']:,} | {o['slots_one_door']:,}"
            f" | {100 * (1 - o['slots_one_door'] / o['slots_per_department']):.1f} % |"
        )
    lines += [
        "",
        "## Speed, and what one PRN per entity saves",
        "",
        "| entities | creditsup (s) | independent PRNs (s) | naive pandas (s) |"
        " visited entities (one PRN) | visited entities (independent PRNs) |"
        " visited entities (naive) | checks (naive) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s, o, i, v = r["seconds"], r["creditsup"], r["independent"], r["naive"]
        lines.append(
            f"| {r['n_entities']:,} | {s['creditsup']:.3f} | {s['independent']:.3f}"
            f" | {s['naive']:.3f} | {o['entities']:,} | {i['entities']:,}"
            f" | {v['entities']:,} | {v['checks']:,} |"
        )
    lines += [
        "",
        "creditsup times the whole `draw_visits` call (eligibility, PRNs, 10 tasks,"
        " one-door merge, cap, capacity check, months, output frames, ledger). By"
        " stage: "
        + "; ".join(
            f"{r['n_entities']:,}: eligibility and pools"
            f" {r['stages']['prepare']:.3f} s, draw + merge + cap + capacity check"
            f" {r['stages']['draw_merge_cap']:.3f} s, months and output frames"
            f" {r['stages']['outputs']:.3f} s"
            for r in rows
        )
        + ". Independent PRNs draw the same checks per item but visit more"
        " entities: an entity's chance becomes 1 - prod(1 - pi) instead of its tier"
        " ratio.",
        "",
        f"## Randomness ({check['n_keys']:,} keys, 400 entities, 3 departments)",
        "",
        "| sampler | judged against | units | dispersion chi2 p (Bonferroni) |"
        " max abs z | Bonferroni z (1e-3) | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, against, key in (
        (
            "creditsup, entity visited",
            "its tier ratio (largest item ratio)",
            "entity_level",
        ),
        ("creditsup, entity x item", "the item's ratio", "per_item"),
        (
            "independent PRN per item (v1)",
            "the tier ratio",
            "per_item_prns_vs_tier_ratio",
        ),
        ("biased PRN (u^1.1)", "the tier ratio", "biased"),
    ):
        v = check[key]
        lines.append(
            f"| {name} | {against} | {v['units']} | {v['p_dispersion_bonferroni']:.3g}"
            f" | {v['max_abs_z']:.2f} | {v['z_crit_bonferroni']:.2f}"
            f" | {'rejected' if v['rejected'] else 'not rejected'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--keys", type=int, default=2000, help="keys of the randomness check"
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()

    policy = SamplingPolicy()
    joint = SamplingPolicy(merge="joint_group")
    indep = SamplingPolicy(coordination="independent")
    rows = []
    for n in args.sizes:
        ds, tiers = make_city(n)
        draw_visits(ds, tiers, policy, year=YEAR, seed="warm-up")
        t_ours, r_ours = timed(ours, args.repeat, ds, tiers, policy, "bench-2027")
        r_joint = ours(ds, tiers, joint, "bench-2027")
        t_ind, r_ind = timed(ours, args.repeat, ds, tiers, indep, "bench-2027")
        t_naive, r_naive = timed(naive_draw, args.repeat, ds, tiers, 2027)
        rows.append(
            {
                "n_entities": n,
                "n_departments": 10,
                "n_items": len(ds.items),
                "seconds": {
                    "creditsup": t_ours,
                    "independent": t_ind,
                    "naive": t_naive,
                },
                "stages": phases(ds, tiers, policy, "bench-2027", args.repeat),
                "creditsup": r_ours,
                "joint_groups": r_joint,
                "independent": r_ind,
                "naive": r_naive,
                "visits_saved_vs_per_department": 1
                - r_ours["visits"] / r_ours["department_visits"],
                "visits_saved_vs_joint_groups": 1
                - r_ours["visits"] / r_joint["visits"],
                "slots_saved_vs_per_department": 1
                - r_ours["slots_one_door"] / r_ours["slots_per_department"],
            }
        )
        print(json.dumps(rows[-1], indent=1))
    check = randomness_check(args.keys)
    print(json.dumps(check, indent=1))

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "creditsup": __version__,
        "algorithm": "creditsup-prn-v2",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "machine": platform.machine(),
        "repeat": args.repeat,
        "timing": "best of --repeat wall-clock runs (the machine is shared)",
    }
    (args.out / "sampling.json").write_text(
        json.dumps({"meta": meta, "runs": rows, "randomness": check}, indent=2) + "\n",
        encoding="utf-8",
    )
    (args.out / "sampling.md").write_text(
        _markdown(rows, check, meta), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
