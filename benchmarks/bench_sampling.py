"""Benchmark: the coordinated draw against a naive, uncoordinated pandas draw.

Scenario (``research/scheduling.md`` §3, reference B2): a city of N entities,
10 departments with one check item each, applying to about 30 % of entities;
tiers 20/60/15/5 %; ratios by tier A-D of 0.5/1.2/3/8 % of the applicable
entities (≈5 % of N in department checks a year); 7 of the 10 departments in
3 joint groups; caps A-D 2/3/4/6 with about 0.3 earlier visits per entity
this year (80 % counted, 20 % complaint-triggered and exempt).

Three draws of the same checks are compared:

* ``creditsup`` — :func:`creditsup.draw_visits` (Poisson-PRN, same start
  within a joint group, spread across groups; merge; cap by a second PRN;
  month balancing; all output frames and the ledger);
* ``creditsup-independent`` — the same code with an independent PRN per item
  (``coordination="independent"``): what merging gains from coordination;
* ``naive`` — per-department ``DataFrame.sample`` with a per-department
  numpy generator, then a ``groupby`` merge, a shuffled ``cumcount`` cap and
  random months.

It also runs the randomness check (inclusion frequencies over 2,000 keys on a
small pool against the target probabilities; dispersion chi-square and per-unit
z at alpha = 1e-3, plus a biased sampler that must be rejected).

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
from creditsup.sampling import SamplingPolicy, draw_visits, estimate_inclusion
from creditsup.sampling._prn import prn_key
from creditsup.sampling.outputs import build_result
from creditsup.sampling.pipeline import draw_once, prepare
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
RATIOS = {"A": 0.005, "B": 0.012, "C": 0.03, "D": 0.08}  # per department
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
                **{f"ratio_{t}": r for t, r in RATIOS.items()},
                "ratio_E": np.nan,
            }
        )
    items = pd.DataFrame(rows)
    n_ins = max(30, n // 330)
    inspectors = pd.DataFrame(
        {
            "inspector_id": [f"I{i:06d}" for i in range(n_ins)],
            "name": "x",
            "department": [f"dept{i % n_departments:02d}" for i in range(n_ins)],
            "region": "140902",
            "expertise": "general",
            "monthly_capacity": rng.integers(3, 6, n_ins),
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


def naive_draw(ds: Dataset, tiers: pd.DataFrame, seed: int) -> dict[str, int]:
    """Per-department ``df.sample``, ``groupby`` merge, shuffled-cumcount cap."""
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
        group = (
            item.joint_group if isinstance(item.joint_group, str) else item.department
        )
        for tier, sub in pool.groupby("tier"):
            n = round(getattr(item, f"ratio_{tier}") * len(sub))
            pick = sub.sample(n=n, random_state=rng)
            checks.append(
                pd.DataFrame(
                    {
                        "uscc": pick["uscc"].to_numpy(),
                        "tier": tier,
                        "remaining": pick["remaining"].to_numpy(),
                        "group": group,
                        "department": item.department,
                        "item_id": item.item_id,
                    }
                )
            )
    chk = pd.concat(checks, ignore_index=True)
    visits = (
        chk.groupby(["uscc", "group"], sort=True)
        .agg(
            tier=("tier", "first"),
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
    kept = kept.sort_values(["uscc", "group"])
    return {
        "checks": len(chk),
        "visits": len(kept),
        "joint_visits": int(kept["departments"].str.contains(";").sum()),
        "entities": int(kept["uscc"].nunique()),
        "cap_removed": int((~keep).sum()),
    }


def ours(
    ds: Dataset, tiers: pd.DataFrame, policy: SamplingPolicy, seed: str
) -> dict[str, int]:
    res = draw_visits(ds, tiers, policy, year=YEAR, seed=seed)
    return {
        "checks": int(
            res.accounting["n_checks"].sum() + res.tasks["removed_by_cap"].sum()
        ),
        "visits": len(res.visits),
        "joint_visits": int(res.visits["joint"].sum()),
        "entities": int(res.visits["uscc"].nunique()),
        "cap_removed": len(res.cap_removals),
    }


def phases(
    ds: Dataset, tiers: pd.DataFrame, policy: SamplingPolicy, seed: str, repeat: int
) -> dict[str, float]:
    """Best time of each stage: eligibility and pools; draw + merge + cap; outputs."""
    best = {
        "prepare": float("inf"),
        "draw_merge_cap": float("inf"),
        "outputs": float("inf"),
    }
    for _ in range(repeat):
        t0 = time.perf_counter()
        design = prepare(ds, tiers, policy, YEAR, hash_key=prn_key(seed, YEAR, "prn"))
        t1 = time.perf_counter()
        d = draw_once(design, seed)
        t2 = time.perf_counter()
        build_result(design.ctx, design.merged, design.alloc, d)
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
    """Per-unit z (Bonferroni) and per-block dispersion chi-square at 1e-3.

    Units of one block (one check item) are independent under Poisson-PRN;
    units of one entity across items are not (shared start points), so the
    dispersion test runs per item and is Bonferroni-combined.
    """
    z = (x - n_keys * p) / np.sqrt(n_keys * p * (1 - p))
    m = len(z)
    p_blocks = []
    for b in np.unique(block):
        zb = z[block == b]
        c = float((zb**2).sum())
        p_blocks.append(2 * min(stats.chi2.sf(c, len(zb)), stats.chi2.cdf(c, len(zb))))
    return {
        "units": m,
        "blocks": len(p_blocks),
        "p_dispersion_min": float(min(p_blocks)),
        "p_dispersion_bonferroni": float(min(1.0, min(p_blocks) * len(p_blocks))),
        "max_abs_z": float(np.abs(z).max()),
        "z_crit_bonferroni": float(stats.norm.isf(1e-3 / (2 * m))),
        "share_abs_z_gt_3": float((np.abs(z) > 3).mean()),
    }


def randomness_check(n_keys: int = 2000) -> dict[str, Any]:
    """Inclusion frequencies over many keys vs target; plus a biased sampler."""
    ds, tiers = make_city(400, n_departments=3, seed=7)
    items = ds.items.assign(**{f"ratio_{t}": np.nan for t in "ABCD"})
    ds = Dataset(**{**ds.tables(), "items": items})  # the default (Lindian) ratios
    policy = SamplingPolicy(caps={t: None for t in "ABCDE"})
    t0 = time.perf_counter()
    inc = estimate_inclusion(
        ds, tiers, policy, year=YEAR, n_keys=n_keys, seed="bench", by="entity"
    )
    elapsed = time.perf_counter() - t0
    inc = inc[inc["item_id"] != "(any)"]
    active = inc[(inc["target_pi"] > 0) & (inc["target_pi"] < 1)]
    x = np.rint(active["pi_final"].to_numpy() * n_keys)
    ours_v = verdict(
        x, active["target_pi"].to_numpy(), active["item_id"].to_numpy(), n_keys
    )
    # biased sampler: same rule, PRN transformed u -> u**1.1 (over-includes)
    ids = ds.entities["uscc"].to_numpy(dtype=object)
    pi = tiers["tier"].map(policy.ratios).to_numpy()
    biased = np.zeros(len(ids))
    for k in range(n_keys):
        u = keyed_uniform(ids, derive_key(f"biased#{k}", YEAR, "prn"))
        biased += u**1.1 < pi
    bias_v = verdict(biased, pi, np.zeros(len(ids)), n_keys)
    return {"n_keys": n_keys, "seconds": elapsed, "creditsup": ours_v, "biased": bias_v}


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
    indep = SamplingPolicy(coordination="independent")
    rows = []
    for n in args.sizes:
        ds, tiers = make_city(n)
        draw_visits(ds, tiers, policy, year=YEAR, seed="warm-up")
        t_ours, r_ours = timed(ours, args.repeat, ds, tiers, policy, "bench-2027")
        t_ind, r_ind = timed(ours, args.repeat, ds, tiers, indep, "bench-2027")
        t_naive, r_naive = timed(naive_draw, args.repeat, ds, tiers, 2027)
        stages = phases(ds, tiers, policy, "bench-2027", args.repeat)
        rows.append(
            {
                "n_entities": n,
                "n_departments": 10,
                "n_items": len(ds.items),
                "seconds": {
                    "creditsup": t_ours,
                    "creditsup_independent": t_ind,
                    "naive": t_naive,
                },
                "stages_creditsup": stages,
                "speedup_vs_naive": t_naive / t_ours,
                "creditsup": r_ours,
                "creditsup_independent": r_ind,
                "naive": r_naive,
                "visit_cut_vs_independent": 1 - r_ours["visits"] / r_ind["visits"],
                "visit_cut_vs_naive": 1 - r_ours["visits"] / r_naive["visits"],
            }
        )
        print(json.dumps(rows[-1], indent=1))
    check = randomness_check(args.keys)
    print(json.dumps(check, indent=1))

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "creditsup": __version__,
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
    lines = [
        "# Sampling benchmark: coordinated PRN draw vs naive uncoordinated draw",
        "",
        f"creditsup {__version__}, Python {meta['python']}, numpy {meta['numpy']}, "
        f"pandas {meta['pandas']}; best of {args.repeat} runs on a shared 2-core machine.",
        "",
        "| entities | creditsup (s) | creditsup independent (s) | naive (s) | naive / creditsup |"
        " checks | visits creditsup | visits independent | visits naive |"
        " cut vs independent | cut vs naive | joint visits | cap removed (ours / naive) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s, o, i, v = (
            r["seconds"],
            r["creditsup"],
            r["creditsup_independent"],
            r["naive"],
        )
        lines.append(
            f"| {r['n_entities']:,} | {s['creditsup']:.3f} | {s['creditsup_independent']:.3f}"
            f" | {s['naive']:.3f} | {r['speedup_vs_naive']:.1f}x | {o['checks']:,}"
            f" | {o['visits']:,} | {i['visits']:,} | {v['visits']:,}"
            f" | {100 * r['visit_cut_vs_independent']:.1f} %"
            f" | {100 * r['visit_cut_vs_naive']:.1f} % | {o['joint_visits']:,}"
            f" | {o['cap_removed']:,} / {v['cap_removed']:,} |"
        )
    c, b = check["creditsup"], check["biased"]
    lines += [
        "",
        "creditsup times the whole `draw_visits` call: eligibility, PRNs, 10 tasks, merge,"
        " cap, month balancing, all output frames and the ledger. By stage (best of"
        " runs): "
        + "; ".join(
            f"{r['n_entities']:,}: eligibility and pools {r['stages_creditsup']['prepare']:.3f} s,"
            f" draw + merge + cap {r['stages_creditsup']['draw_merge_cap']:.3f} s,"
            f" months and output frames {r['stages_creditsup']['outputs']:.3f} s"
            for r in rows
        )
        + ".",
        "",
        f"## Randomness check ({check['n_keys']:,} keys, 400 entities, 3 departments)",
        "",
        "| sampler | units | dispersion chi2 p (min over items, Bonferroni) | max abs z |"
        " Bonferroni z (alpha 1e-3) | share abs z > 3 | verdict |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, v in (("creditsup Poisson-PRN", c), ("biased PRN (u^1.1)", b)):
        rejected = (
            v["p_dispersion_bonferroni"] < 1e-3
            or v["max_abs_z"] > v["z_crit_bonferroni"]
        )
        lines.append(
            f"| {name} | {v['units']} | {v['p_dispersion_bonferroni']:.3g}"
            f" | {v['max_abs_z']:.2f}"
            f" | {v['z_crit_bonferroni']:.2f} | {100 * v['share_abs_z_gt_3']:.2f} %"
            f" | {'rejected' if rejected else 'not rejected'} |"
        )
    (args.out / "sampling.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
