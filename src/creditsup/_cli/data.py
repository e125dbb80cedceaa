"""Verbs on a dataset: ``synth``, ``validate``, ``score``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from creditsup._cli._common import (
    _FAILURES_HEAD,
    _SCORES_HEAD,
    AsOf,
    DataDir,
    Format,
    PolicyOpt,
    Quiet,
    Year,
    _check_format,
    _fail,
    _join,
    _json_out,
    _load,
    _policy,
    _print_failures,
    _say,
    _table,
    _text,
    app,
    out,
)
from creditsup.exceptions import (
    DataValidationError,
)

logger = logging.getLogger(__name__)


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out")],
    entities: Annotated[int, typer.Option(min=1)] = 50_000,
    inspectors: Annotated[int, typer.Option(min=1)] = 600,
    seed: Annotated[str, typer.Option()] = "0",
    year: Year = 2026,
    fmt: Annotated[str, typer.Option("--format")] = "csv",
    partitions: Annotated[int | None, typer.Option(min=1)] = None,
    quiet: Quiet = False,
) -> None:
    """Write a realistic synthetic district dataset folder."""
    from creditsup.datasets import synthetic_tables
    from creditsup.io import write_dataset
    from creditsup.outputs import check_output

    if fmt not in ("csv", "parquet", "xlsx"):
        _fail(f"The '--format' must be csv, parquet or xlsx. Got {fmt!r} instead.")
    if partitions is not None and partitions > 1 and fmt != "parquet":
        _fail("The '--partitions' needs '--format parquet'.")
    if partitions is None:  # Parquet: one part file per 250,000 entities
        partitions = -(-entities // 250_000) if fmt == "parquet" else 1
    check_output(out_dir, kinds=("dataset",))
    tables = synthetic_tables(
        entities, inspectors, seed=_text("--seed", seed), year=year
    )
    write_dataset(tables, out_dir, fmt=fmt, partitions=partitions)  # type: ignore[arg-type]
    if not quiet:
        counts = {k: f"{len(tables[k]):,}" for k in ("entities", "inspectors")}
        out.print(escape(_say("synth_done", path=out_dir, **counts)))


@app.command()
def validate(
    data_dir: DataDir,
    failures_out: Annotated[Path | None, typer.Option("--out")] = None,
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Check every table against the contract; list every failure."""
    as_json = _check_format(fmt)
    from creditsup.io import csv_bytes
    from creditsup.outputs import check_output, replace_file, starts_with
    from creditsup.schemas import load_dataset

    owned = starts_with(_FAILURES_HEAD)
    if failures_out is not None:
        check_output(
            failures_out, kinds=(), folder=False, protect=[data_dir], owned_file=owned
        )
    try:
        ds = load_dataset(data_dir)
    except DataValidationError as exc:
        fc = exc.failure_cases.copy()
        fc["row"] = fc["row"].map(lambda r: int(r) + 2 if int(r) >= 0 else "")
        if as_json:
            _json_out({"valid": False, "failures": fc.to_dict(orient="records")})
        else:
            _print_failures(exc)
        if failures_out is not None:
            replace_file(failures_out, csv_bytes(fc), owned=owned, protect=[data_dir])
        raise typer.Exit(1) from None
    if as_json:
        _json_out({"valid": True, "rows": {k: len(v) for k, v in ds.tables().items()}})
    elif not quiet:
        rows = _join(f"{_table(k)} {len(v):,}" for k, v in ds.tables().items())
        out.print(f"[green]{escape(_say('valid', rows=rows))}[/]")


@app.command()
def score(
    data_dir: DataDir,
    as_of: AsOf,
    out_file: Annotated[Path, typer.Option("--out")],
    policy_file: PolicyOpt = None,
    quiet: Quiet = False,
) -> None:
    """Credit score, tier and top reasons for every entity."""
    from creditsup.outputs import check_output, starts_with
    from creditsup.tiers import rate_entities, write_scores

    check_output(
        out_file,
        kinds=(),
        folder=False,
        protect=[data_dir],
        owned_file=starts_with(_SCORES_HEAD),
    )
    policy = _policy(policy_file)
    ds = _load(data_dir)
    result = rate_entities(
        ds, as_of=as_of, scorecard=policy.scorecard, tier_policy=policy.tiers
    )
    write_scores(result, out_file)
    if not quiet:
        shares = result.table["tier"].value_counts(normalize=True).sort_index()
        text = _say(
            "scored",
            n=f"{len(result.table):,}",
            as_of=as_of,
            shares=_join(f"{t} {100 * v:.1f}%" for t, v in shares.items()),
            path=out_file,
        )
        out.print(escape(text))
