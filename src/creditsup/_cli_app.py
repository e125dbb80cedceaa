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
from creditsup.schemas import Dataset

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
            "-" if int(str(r.row)) < 0 else str(r.row),
            str(r.column),
            str(r.value)[:40],
            str(r.rule),
            str(r.message),
        )
    out.print(table)
    if len(fc) > limit:
        out.print(f"... {len(fc) - limit} more (use --out to write them all)")
    counts = fc.groupby(["table", "rule"]).size().reset_index(name="n")
    out.print(
        "by rule: "
        + ", ".join(f"{t}/{r}: {n}" for t, r, n in counts.itertuples(index=False))
    )


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


def _load(data_dir: Path) -> Dataset:
    from creditsup.schemas import load_dataset

    try:
        return load_dataset(data_dir)
    except DataValidationError as exc:
        _print_failures(exc, limit=20)
        _fail(
            f"The dataset {str(data_dir)!r} has {len(exc.failure_cases)} validation "
            f"failure(s); run 'creditsup validate {data_dir}' for the full list."
        )


@app.command()
def score(
    data_dir: Annotated[Path, typer.Argument(help="Dataset folder.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Scoring date YYYY-MM-DD.")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML file.")
    ] = None,
) -> None:
    """Credit score, tier and top reasons for every entity."""
    from creditsup.plan import load_policy
    from creditsup.tiers import rate_entities, write_scores

    policy = load_policy(policy_file)
    ds = _load(data_dir)
    result = rate_entities(
        ds, as_of=as_of, scorecard=policy.scorecard, tier_policy=policy.tiers
    )
    write_scores(result, out_file)
    shares = result.table["tier"].value_counts(normalize=True).sort_index()
    out.print(
        f"scored {len(result.table):,} entities as of {as_of}: "
        + ", ".join(f"{t} {100 * v:.1f}%" for t, v in shares.items())
        + f" -> {out_file}"
    )


@app.command()
def plan(
    data_dir: Annotated[Path, typer.Argument(help="Dataset folder.")],
    year: Annotated[int, typer.Option(help="The plan year.")],
    seed: Annotated[
        str, typer.Option(help="The seed: any string, e.g. a lottery result.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Bundle folder to write.")],
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML file.")
    ] = None,
    operator: Annotated[str, typer.Option(help="Who runs the draw (R10).")] = "",
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No progress display.")
    ] = False,
) -> None:
    """Build the annual plan bundle (contract §3). Exit 3 when infeasible."""
    from creditsup.plan import build_plan, load_policy

    policy = load_policy(policy_file)
    stages = ["load", "tiers", "draw", "assignment", "ledger", "save"]
    if quiet:
        ds = _load(data_dir)
        result = build_plan(ds, policy, year=year, seed=seed, operator=operator)
        result.save(out_dir)
    else:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as bar:
            task = bar.add_task("load", total=len(stages))

            def step(name: str) -> None:
                bar.update(task, description=name, advance=1)

            ds = _load(data_dir)
            result = build_plan(
                ds, policy, year=year, seed=seed, operator=operator, progress=step
            )
            step("save")
            result.save(out_dir)
            bar.update(task, description="done", completed=len(stages))
    if not quiet:
        out.print(result.summary().to_string(index=False))
        out.print(f"plan bundle: {out_dir}")
    if not result.is_feasible:
        unfilled = result.diagnostics["unfilled"]
        err.print(
            f"[bold red]infeasible:[/] {len(unfilled)} visit(s) cannot be staffed"
        )
        for b in result.diagnostics.get("binding", [])[:10]:
            err.print(
                f"  {b.get('group')}: needs {b.get('needed')}, has {b.get('available')}"
            )
        for u in unfilled[:10]:
            err.print(f"  {u.get('visit_id')}: {u.get('reason')}")
        err.print(f"  see {out_dir / 'diagnostics.json'}")
        raise typer.Exit(3)


@app.command()
def commit(
    data_dir: Annotated[Path, typer.Argument(help="Dataset folder.")],
    year: Annotated[int, typer.Option(help="The plan year.")],
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML file.")
    ] = None,
) -> None:
    """Print the commitment to publish before the seed is known."""
    from creditsup.plan import compute_commitment, load_policy

    policy = load_policy(policy_file)
    typer.echo(compute_commitment(_load(data_dir), policy, year=year))


@app.command()
def verify(
    plan_dir: Annotated[Path, typer.Argument(help="Plan bundle folder.")],
    data_dir: Annotated[Path, typer.Option("--data", help="The input dataset folder.")],
) -> None:
    """Re-derive the plan from its inputs and seed; exit 1 on the first difference."""
    from creditsup.plan import verify_plan

    report = verify_plan(plan_dir, _load(data_dir))
    if report.ok:
        out.print(f"[green]verified[/]: {', '.join(report.checked)}")
        return
    err.print(f"[bold red]mismatch:[/] {report.differences[0]}", soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def publish(
    plan_dir: Annotated[Path, typer.Argument(help="Plan bundle folder.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Write the public view (一公开): plan table and entity lists."""
    from creditsup.plan import load_plan
    from creditsup.publish import publish_plan

    paths = publish_plan(load_plan(plan_dir), out_dir, lang=lang)
    for p in paths:
        out.print(str(p))


@app.command()
def report(
    plan_dir: Annotated[Path, typer.Argument(help="Plan bundle folder.")],
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write.")],
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Write a self-contained HTML report with charts."""
    from creditsup.plan import load_plan
    from creditsup.report import render_report

    path = render_report(load_plan(plan_dir), out_file, lang=lang)
    out.print(f"report: {path}")


@app.command("policy-template")
def policy_template() -> None:
    """Print the default policy as TOML."""
    from creditsup.plan import policy_template as template

    typer.echo(template(), nl=False)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for all outputs.")
    ] = Path("creditsup-demo"),
    entities: Annotated[int, typer.Option(help="District size.")] = 50_000,
    inspectors: Annotated[int, typer.Option(help="Number of inspectors.")] = 100,
    seed: Annotated[str, typer.Option(help="Seed string.")] = "demo-2026",
    year: Annotated[int, typer.Option(help="Plan year.")] = 2026,
) -> None:
    """Synthetic district + annual plan + HTML report, in one command."""
    import time

    from creditsup.datasets import synthetic_tables
    from creditsup.io import write_dataset
    from creditsup.plan import build_plan
    from creditsup.publish import publish_plan
    from creditsup.report import render_report
    from creditsup.schemas import validate_dataset

    t0 = time.perf_counter()
    data_dir, plan_dir = out_dir / "data", out_dir / "plan"
    with err.status("synthesising the district…"):
        tables = synthetic_tables(entities, inspectors, seed=seed, year=year)
        write_dataset(tables, data_dir)
        ds = validate_dataset(tables)
    with err.status("building the plan…"):
        result = build_plan(ds, year=year, seed=seed, operator="demo")
        result.save(plan_dir)
    with err.status("publishing and reporting…"):
        public = publish_plan(result, out_dir / "public")
        html_path = render_report(result, out_dir / "report.html")
    out.print(result.summary().to_string(index=False))
    out.print(f"\ndataset:  {data_dir}")
    out.print(f"plan:     {plan_dir}")
    out.print(f"public:   {public[0].parent if public else out_dir / 'public'}")
    out.print(f"report:   {html_path}")
    out.print(f"verify:   creditsup verify {plan_dir} --data {data_dir}")
    out.print(f"done in {time.perf_counter() - t0:.1f} s")


@app.command("import-chicago")
def import_chicago(
    inspections: Annotated[Path, typer.Argument(help="food_inspections CSV.")],
    licenses: Annotated[Path, typer.Argument(help="business_licenses CSV.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Dataset folder to write.")],
) -> None:
    """Convert Chicago's public food-inspection data into a dataset folder."""
    from creditsup.chicago import import_chicago_to

    path = import_chicago_to(inspections, licenses, out_dir)
    out.print(f"dataset: {path} (stand-in USCCs; licence numbers in source_id)")


@app.command()
def backtest(
    data_dir: Annotated[Path, typer.Argument(help="Dataset folder.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Split date YYYY-MM-DD.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    horizon_days: Annotated[int, typer.Option("--horizon-days")] = 365,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML file.")
    ] = None,
    seeds: Annotated[int, typer.Option(help="Simulated draws.")] = 200,
    budget: Annotated[
        float | None, typer.Option(help="Expected visits (default: the policy's).")
    ] = None,
    no_calibrate: Annotated[
        bool, typer.Option("--no-calibrate", help="Use the scorecard as given.")
    ] = False,
) -> None:
    """Backtest a policy on past outcomes against uniform and simple baselines."""
    from creditsup.evaluate import backtest as run_backtest
    from creditsup.plan import load_policy

    policy = load_policy(policy_file)
    result = run_backtest(
        _load(data_dir),
        policy,
        as_of=as_of,
        horizon_days=horizon_days,
        seeds=seeds,
        budget=budget,
        calibrate=not no_calibrate,
    )
    result.save(out_dir)
    out.print(result.to_markdown())
    out.print(f"written to {out_dir}")


def run(argv: list[str] | None = None) -> int:
    try:
        rv = app(args=argv, standalone_mode=False)
        if isinstance(rv, int):  # click returns an Exit's code without raising
            return rv
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
