"""Benchmark: synthetic district generation and dataset validation.

Times, at each size (default 100k and 1M entities):

* ``synthetic_tables`` (all six tables);
* ``validate_dataset`` on those tables (every table and the cross-table
  references), reported in rows per second over all tables;
* ``validate_table`` on the entities table alone;

and, side by side, the naive baseline: row-by-row pydantic validation of the
entities table (one ``model_validate`` per row, the USCC check character
verified in Python), run on a 20k-row subset and extrapolated per row.

Writes ``benchmarks/results/synth_validate.json`` and ``.md``.

Usage::

    PYTHONPATH=src python benchmarks/bench_synth_validate.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic

import creditsup
from creditsup import uscc
from creditsup.datasets import min_inspectors, synthetic_tables
from creditsup.schemas import validate_dataset, validate_table

RESULTS = Path(__file__).resolve().parent / "results"


class EntityRow(pydantic.BaseModel):
    """The entities contract as a row model (the naive baseline)."""

    uscc: str
    name: pydantic.constr(min_length=1)  # type: ignore[valid-type]
    entity_type: Literal["enterprise", "individual", "cooperative", "other"]
    industry: pydantic.constr(min_length=1)  # type: ignore[valid-type]
    region: pydantic.constr(pattern=r"^\d{6}$")  # type: ignore[valid-type]
    established: dt.date
    status: Literal["active", "deregistered", "revoked"]
    key_supervision: bool = False
    registered_capital: pydantic.NonNegativeFloat | None = None
    address: str | None = None
    legal_rep: str | None = None

    @pydantic.field_validator("uscc")
    @classmethod
    def _check_uscc(cls, v: str) -> str:
        code = uscc.compact(v)
        if len(code) != 18 or uscc.check_character(code[:17]) != code[17]:
            raise ValueError("invalid USCC")
        return code


def naive_validate(entities: pd.DataFrame) -> int:
    """Validate row by row with pydantic; return the number of bad rows."""
    bad = 0
    for row in entities.to_dict("records"):
        clean = {
            k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in row.items()
        }
        if isinstance(clean.get("established"), pd.Timestamp):
            clean["established"] = clean["established"].date()
        try:
            EntityRow.model_validate(clean)
        except pydantic.ValidationError:
            bad += 1
    return bad


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(sizes: list[int], baseline_rows: int, seed: str) -> dict[str, Any]:
    # warm up imports and numpy/arrow kernels
    validate_dataset(synthetic_tables(2_000, min_inspectors(), seed="warm-up"))
    rows: list[dict[str, Any]] = []
    baseline: dict[str, Any] | None = None
    for n in sizes:
        n_insp = max(min_inspectors(), round(n * 0.003))
        tables, t_synth = _timed(synthetic_tables, n, n_insp, seed=seed)
        n_rows = int(sum(len(t) for t in tables.values()))
        ds, t_valid = _timed(validate_dataset, tables)
        _, t_ent = _timed(validate_table, tables["entities"], "entities")
        if baseline is None:
            sub = tables["entities"].head(baseline_rows)
            bad, t_naive = _timed(naive_validate, sub)
            assert bad == 0, f"the baseline rejected {bad} valid rows"
            baseline = {
                "rows": len(sub),
                "seconds": t_naive,
                "rows_per_s": len(sub) / t_naive,
            }
        rows.append(
            {
                "entities": n,
                "inspectors": n_insp,
                "rows_all_tables": n_rows,
                "table_rows": {k: len(v) for k, v in ds.tables().items()},
                "synth_s": t_synth,
                "validate_s": t_valid,
                "synth_plus_validate_s": t_synth + t_valid,
                "validate_rows_per_s": n_rows / t_valid,
                "validate_entities_s": t_ent,
                "validate_entities_rows_per_s": n / t_ent,
                "naive_entities_s_extrapolated": n / baseline["rows_per_s"],
                "speedup_entities_vs_naive": (n / t_ent) / baseline["rows_per_s"],
                "peak_rss_mb": _rss_mb(),
            }
        )
        print(
            f"{n:>9,} entities: synth {t_synth:6.2f} s, validate {t_valid:6.2f} s "
            f"({n_rows / t_valid:,.0f} rows/s over {n_rows:,} rows), entities "
            f"{n / t_ent:,.0f} rows/s vs naive {baseline['rows_per_s']:,.0f} rows/s",
            flush=True,
        )
        del tables, ds
    return {
        "benchmark": "synth_validate",
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
        },
        "versions": {
            "creditsup": creditsup.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "pydantic": pydantic.__version__,
        },
        "seed": seed,
        "baseline": {
            "method": "row-by-row pydantic model_validate (entities)",
            **baseline,
        }
        if baseline
        else None,
        "results": rows,
    }


def to_markdown(res: dict[str, Any]) -> str:
    b = res["baseline"]
    lines = [
        "# Synthetic district and validation",
        "",
        f"Machine: {res['machine']['platform']}, {res['machine']['cpus']} CPUs, "
        f"Python {res['machine']['python']}; pandas {res['versions']['pandas']}, "
        f"pydantic {res['versions']['pydantic']}. Seed `{res['seed']}`. "
        f"Created {res['created_at']}.",
        "",
        "| entities | inspectors | rows (all tables) | synth (s) | validate (s) "
        "| validate rows/s | entities: ours rows/s | entities: naive pydantic rows/s "
        "| ratio | peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res["results"]:
        lines.append(
            f"| {r['entities']:,} | {r['inspectors']:,} | {r['rows_all_tables']:,} "
            f"| {r['synth_s']:.2f} | {r['validate_s']:.2f} "
            f"| {r['validate_rows_per_s']:,.0f} | {r['validate_entities_rows_per_s']:,.0f} "
            f"| {b['rows_per_s']:,.0f} | {r['speedup_entities_vs_naive']:.0f}× "
            f"| {r['peak_rss_mb']:,.0f} |"
        )
    lines += [
        "",
        f"Naive baseline: {b['method']}, measured on {b['rows']:,} rows in "
        f"{b['seconds']:.2f} s and extrapolated per row "
        f"(1M entities ≈ {1_000_000 / b['rows_per_s']:,.0f} s for the entities "
        "table alone). *ratio* = our entities-table validation rows/s over the "
        "baseline's. *validate* covers all six tables and the cross-table "
        "references.",
        "",
        "Table sizes: "
        + "; ".join(
            f"{r['entities']:,} entities → "
            + ", ".join(f"{k} {v:,}" for k, v in r["table_rows"].items())
            for r in res["results"]
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated sizes")
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    ap.add_argument("--seed", default="bench")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    res = run(sizes, args.baseline_rows, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "synth_validate.json").write_text(
        json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (args.out / "synth_validate.md").write_text(to_markdown(res), encoding="utf-8")
    print(to_markdown(res))


if __name__ == "__main__":
    main()
