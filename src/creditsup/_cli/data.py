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
    _json_out,
    _load,
    _policy,
    _print_failures,
    _say,
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
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    entities: Annotated[int, typer.Option(min=1, help="Number of entities.")] = 50_000,
    inspectors: Annotated[int, typer.Option(min=1, help="Number of inspectors.")] = 600,
    seed: Annotated[str, typer.Option(help="Seed (any string).")] = "0",
    year: Year = 2026,
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or xlsx")] = "csv",
    quiet: Quiet = False,
) -> None:
    """Write a realistic synthetic district dataset folder."""
    from creditsup.datasets import synthetic_tables
    from creditsup.io import write_dataset
    from creditsup.outputs import check_output

    if fmt not in ("csv", "parquet", "xlsx"):
        _fail(f"The '--format' must be csv, parquet or xlsx. Got {fmt!r} instead.")
    check_output(out_dir, kinds=("dataset",))
    tables = synthetic_tables(
        entities, inspectors, seed=_text("--seed", seed), year=year
    )
    write_dataset(tables, out_dir, fmt=fmt)  # type: ignore[arg-type]
    if not quiet:
        out.print(
            f"wrote {len(tables['entities']):,} entities, "
            f"{len(tables['inspectors']):,} inspectors to {out_dir}"
        )


@app.command()
def validate(
    data_dir: DataDir,
    failures_out: Annotated[
        Path | None, typer.Option("--out", help="Write all failures to this CSV.")
    ] = None,
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
        rows = ", ".join(f"{k} {len(v):,}" for k, v in ds.tables().items())
        out.print(f"[green]{escape(_say('valid', rows=rows))}[/]")


@app.command()
def score(
    data_dir: DataDir,
    as_of: AsOf,
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
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
        out.print(
            f"scored {len(result.table):,} entities as of {as_of}: "
            + ", ".join(f"{t} {100 * v:.1f}%" for t, v in shares.items())
            + f" -> {out_file}"
        )
