"""The typer application behind ``creditsup`` (see :mod:`creditsup.cli`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from creditsup.exceptions import (
    CreditsupError,
    DataValidationError,
    InfeasiblePlanError,
    MissingDependencyError,
)

__all__ = ["app", "run"]

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="creditsup",
    help="Credit-tiered 'double random, one public' (双随机、一公开) supervision.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def _print_failures(exc: DataValidationError, limit: int = 200) -> None:
    fc = exc.failure_cases
    table = Table(title=f"{len(fc)} validation failure(s)", show_lines=False)
    for col in ("table", "row", "column", "value", "rule", "message"):
        table.add_column(col, overflow="fold")
    for r in fc.head(limit).itertuples(index=False):
        table.add_row(
            str(r.table),
            "-" if int(r.row) < 0 else str(r.row),
            str(r.column),
            str(r.value)[:40],
            str(r.rule),
            str(r.message),
        )
    out.print(table)
    if len(fc) > limit:
        out.print(f"... {len(fc) - limit} more (use --out to write them all)")
    counts = fc.groupby(["table", "rule"]).size()
    out.print("by rule: " + ", ".join(f"{t}/{r}: {n}" for (t, r), n in counts.items()))


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    entities: Annotated[int, typer.Option(help="Number of entities.")] = 50_000,
    inspectors: Annotated[int, typer.Option(help="Number of inspectors.")] = 100,
    seed: Annotated[str, typer.Option(help="Seed (any string).")] = "0",
    year: Annotated[int, typer.Option(help="The planning year.")] = 2026,
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or xlsx")] = "csv",
) -> None:
    """Write a realistic synthetic district dataset folder."""
    from creditsup.datasets import synthetic_tables
    from creditsup.io import write_dataset

    if fmt not in ("csv", "parquet", "xlsx"):
        _fail(f"The '--format' must be csv, parquet or xlsx. Got {fmt!r} instead.")
    tables = synthetic_tables(entities, inspectors, seed=seed, year=year)
    write_dataset(tables, out_dir, fmt=fmt)  # type: ignore[arg-type]
    out.print(
        f"wrote {len(tables['entities']):,} entities, "
        f"{len(tables['inspectors']):,} inspectors to {out_dir}"
    )


@app.command()
def validate(
    data_dir: Annotated[Path, typer.Argument(help="Dataset folder.")],
    failures_out: Annotated[
        Path | None, typer.Option("--out", help="Write all failures to this CSV.")
    ] = None,
) -> None:
    """Check every table against the contract; list every failure."""
    from creditsup.io import write_csv
    from creditsup.schemas import load_dataset

    try:
        ds = load_dataset(data_dir)
    except DataValidationError as exc:
        _print_failures(exc)
        if failures_out is not None:
            write_csv(exc.failure_cases, failures_out)
        raise typer.Exit(1) from None
    rows = ", ".join(f"{k} {len(v):,}" for k, v in ds.tables().items())
    out.print(f"[green]valid[/]: {rows}")


def run(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except InfeasiblePlanError as exc:
        err.print(f"[bold red]infeasible:[/] {exc}", soft_wrap=True)
        return 3
    except (CreditsupError, MissingDependencyError) as exc:
        err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        return 2
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.Abort):
            return 130
        if isinstance(exc, click.ClickException):
            exc.show()
            return 2
        raise
    return 0

