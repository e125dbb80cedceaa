"""Credit scores, A–D tiers and what later inspections found, on a synthetic district.

Issue 3's "done when", end to end:

1. score and tier every entity of a 50,000-entity synthetic district with the default
   national scorecard and write ``scores.csv`` (what ``creditsup score`` writes);
2. check the tier shares against the 20/60/15/5 % targets and that every live
   serious-illegal entity is in the top tier;
3. out of time: tier the district as of 31 March 2025 using only what was known then,
   and compare the problem rate found at each entity's next inspection in the following
   year, by tier, with Wilson 95 % intervals;
4. calibrate the points on the inspections before 31 March 2025 (binned logistic
   regression with monotone bins) and repeat step 3 with the calibrated scorecard.

Run::

    PYTHONPATH=src python examples/score_tiers_outcomes.py [--entities 50000] [--seed 1]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from creditsup._calibration import auc_score, calibrate_scorecard, outcome_rates
from creditsup.datasets import synthetic_district
from creditsup.tiers import TierResult, rate_entities, write_scores


def _table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _outcomes(tiers: TierResult, ds: object, end: pd.Timestamp) -> pd.DataFrame:
    rates = outcome_rates(tiers, ds, end=end)  # type: ignore[arg-type]
    return rates.assign(
        interval=[
            f"[{lo:.3f}, {hi:.3f}]"
            for lo, hi in zip(rates.rate_lo, rates.rate_hi, strict=True)
        ]
    )[["tier", "n", "events", "rate", "interval"]]


def _next_inspection_auc(tiers: TierResult, ds: object, end: pd.Timestamp) -> float:
    hist = ds.history  # type: ignore[attr-defined]
    h = hist[(hist["date"] > tiers.as_of) & (hist["date"] <= end)]
    h = h[h["result"] != "deregistered"]
    first = h[h["date"] == h.groupby("uscc")["date"].transform("min")]
    probs = list(tiers.scores.scorecard.problem_results)
    y = first.assign(y=first["result"].isin(probs)).groupby("uscc")["y"].max()
    s = tiers.table.set_index("uscc")["score"].reindex(y.index)
    ok = s.notna().to_numpy()
    return auc_score(y.to_numpy()[ok], s.to_numpy()[ok])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=50_000)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--out", type=Path, default=None, help="folder for scores.csv")
    args = ap.parse_args()

    ds = synthetic_district(args.entities, 100, seed=args.seed)
    print(
        f"synthetic district: {len(ds.entities):,} entities, {len(ds.records):,} records, "
        f"{len(ds.history):,} past inspections (seed {args.seed!r})\n"
    )

    # 1-2. today's tiers
    snapshot = ds.history["date"].max()
    now = rate_entities(ds, as_of=snapshot)
    out = args.out or Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    write_scores(now, out / "scores.csv")
    print(f"## Tiers as of {snapshot.date()} (scores.csv in {out})\n")
    print(_table(now.summary()[["tier", "n", "share", "target_share", "overridden"]]))
    live = now.scores.table.set_index("uscc")
    si = live.index[live["pts_serious_illegal"] > 0]
    top = (now.table.set_index("uscc").loc[si, "tier"] == now.policy.top).mean()
    print(
        f"\nlive serious-illegal entities: {len(si)}, share in the top tier: {top:.0%}"
    )
    print(f"tier_reason counts: {now.table['tier_reason'].value_counts().to_dict()}")
    print("example rows:")
    print(
        now.table.sort_values("score", ascending=False).head(3).to_string(index=False)
    )

    # 3. out of time
    t = pd.Timestamp("2025-03-31")
    end = t + pd.DateOffset(years=1)
    then = rate_entities(ds, as_of=t)
    print(
        f"\n## Default scorecard: tiers as of {t.date()}, problem rate at the next "
        f"inspection up to {end.date()}\n"
    )
    rates = _outcomes(then, ds, end)
    print(_table(rates))
    print(
        f"\nAUC of the score at the next inspection: {_next_inspection_auc(then, ds, end):.3f}"
    )
    r = rates.set_index("tier")["rate"].to_numpy()
    lo_hi = outcome_rates(then, ds, end=end).set_index("tier")
    print(
        f"strictly rising A→D: {bool((np.diff(r) > 0).all())}; A and D intervals "
        f"disjoint: {bool(lo_hi.loc['A', 'rate_hi'] < lo_hi.loc['D', 'rate_lo'])}"
    )

    # 4. calibrated on the inspections before t
    cal = calibrate_scorecard(ds, as_of=t)
    print(
        f"\n## Calibrated on {cal.n_units:,} inspections before {t.date()} "
        f"({cal.n_events:,} with a problem)\n"
    )
    print(
        f"in-sample AUC: default {cal.auc_before:.3f} → calibrated {cal.auc:.3f}; "
        f"Brier {cal.brier:.4f}\n"
    )
    print(_table(cal.calibration[["group", "n", "mean_predicted", "observed"]]))
    then_cal = rate_entities(ds, as_of=t, scorecard=cal.scorecard)
    print(f"\n## Calibrated scorecard: tiers as of {t.date()}, next inspection\n")
    print(_table(_outcomes(then_cal, ds, end)))
    auc_cal = _next_inspection_auc(then_cal, ds, end)
    print(f"\nAUC of the calibrated score at the next inspection: {auc_cal:.3f}")


if __name__ == "__main__":
    main()
