"""A bureau's annual plan, end to end: load → score → plan → verify → publish → report.

What a district bureau's IT staff would run once a year, after the seed has been
published (for example the result of a public lottery draw):

1. load and validate the bureau's dataset folder (``entities``, ``records``,
   ``inspectors``, ``items``, ``conflicts``, ``history``; CSV, XLSX or Parquet);
2. score and tier every entity as of 31 December of the year before, and keep the
   internal ``scores.csv``;
3. build the annual plan with the bureau's policy and the published seed, and save
   the plan bundle;
4. verify the bundle as an auditor would: re-derive it from the inputs and the seed,
   byte for byte;
5. write the public files (一公开) and the internal HTML report.

Without ``--data`` it makes a small synthetic district in a temporary folder first,
so it runs from a clean clone. Run::

    PYTHONPATH=src python examples/annual_plan.py
    PYTHONPATH=src python examples/annual_plan.py --data my_bureau_data \\
        --year 2026 --seed "2025-12-31 lottery 07 12 19" --out plan_2026

The same as CLI steps::

    creditsup validate DATA
    creditsup score DATA --as-of 2025-12-31 --out scores.csv
    creditsup plan DATA --year 2026 --seed S --policy examples/bureau_policy.toml --out PLAN
    creditsup verify PLAN --data DATA
    creditsup publish PLAN --out PUBLIC
    creditsup report PLAN --data DATA --out report.html
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
from pathlib import Path

from creditsup import (
    DataValidationError,
    build_plan,
    load_dataset,
    load_policy,
    rate_entities,
    synthetic_tables,
    verify_plan,
    write_dataset,
)
from creditsup.publish import publish_plan
from creditsup.report import render_report
from creditsup.tiers import write_scores

HERE = Path(__file__).resolve().parent


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="the dataset folder (default: synthetic)")
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--seed", default="2025-12-31 lottery 07 12 19")
    ap.add_argument("--policy", type=Path, default=HERE / "bureau_policy.toml")
    ap.add_argument("--out", type=Path, help="output folder (default: a temp folder)")
    ap.add_argument("--operator", default="planning office")
    ap.add_argument("--entities", type=int, default=2_000, help="synthetic size")
    ap.add_argument("--inspectors", type=int, default=60, help="synthetic size")
    return ap.parse_args()


def main() -> int:
    args = _arguments()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    out = args.out or Path(tempfile.mkdtemp(prefix="annual_plan_"))
    data = args.data
    if data is None:
        data = out / "data"
        tables = synthetic_tables(
            args.entities, args.inspectors, seed="annual-plan-example", year=args.year
        )
        write_dataset(tables, data)
        print(f"synthetic district written to {data}")

    # 1. load and validate: every bad cell is reported at once
    try:
        dataset = load_dataset(data)
    except DataValidationError as exc:
        print(exc, file=sys.stderr)
        return 2
    policy = load_policy(args.policy)
    print(
        f"loaded {len(dataset.entities):,} entities, {len(dataset.inspectors):,} inspectors"
    )

    # 2. score and tier as of the end of the previous year (internal, never published)
    as_of = policy.as_of or dt.date(args.year - 1, 12, 31)
    tiers = rate_entities(
        dataset, as_of=as_of, scorecard=policy.scorecard, tier_policy=policy.tiers
    )
    write_scores(tiers, out / "scores.csv")
    print(f"\ntiers as of {as_of}:")
    print(tiers.summary()[["tier", "n", "share"]].to_string(index=False))

    # 3. the annual plan, drawn from the published seed
    plan = build_plan(
        dataset, policy, year=args.year, seed=args.seed, operator=args.operator
    )
    plan_dir = plan.save(out / "plan", protect=[data])
    print(f"\nplan {args.year}: {len(plan.visits):,} visits, bundle in {plan_dir}")
    print(plan.summary().to_string(index=False))

    # 4. verify as an auditor would: the inputs and the seed give the same bytes
    report = verify_plan(plan_dir, dataset)
    print(f"\nverify: {report.summary()}")
    if not report.ok:
        return 1

    # 5. the public files and the internal report
    public = publish_plan(plan, out / "public", protect=[plan_dir, data])
    html = render_report(
        plan, out / "report.html", dataset=dataset, protect=[plan_dir, data]
    )
    print(f"public files: {', '.join(p.name for p in public)}")
    print(f"report: {html}")
    if not plan.is_feasible:
        print("some visits could not be staffed: see plan/diagnostics.json")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
