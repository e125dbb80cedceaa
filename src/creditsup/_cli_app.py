"""The typer application behind ``creditsup`` (see :mod:`creditsup.cli`).

Every error ends as one line on stderr with a stable exit code, never a
traceback: ``2`` for bad usage, bad input, unsafe outputs and OS errors;
``1`` when a check fails; ``3`` when the plan cannot do all the policy asks.
Set ``CREDITSUP_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
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
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

#: Plausible plan years: pandas dates end in 2262, the law began in 1949.
YEAR_MIN, YEAR_MAX = 1950, 2200
_REPORT_MARK = b'<meta name="generator" content="creditsup">'
_FAILURES_HEAD = "\ufefftable,row,column,value,rule,message".encode()
_SCORES_HEAD = "\ufeffuscc,score,tier".encode()


#: The display language, set by ``--lang`` (else CREDITSUP_LANG or the locale).
_LANG: list[str | None] = [None]  # reset by every run()


def _lang() -> str:
    from creditsup.i18n import current_lang

    return current_lang(_LANG[0])


def _doc_lang() -> str:
    """The language of public files and reports: ``--lang`` if given, else Chinese."""
    return _LANG[0] or "zh"


def _say(key: str, **values: object) -> str:
    from creditsup.i18n import message

    return message(key, _lang(), **values)


def _fail(text: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]{escape(_say('error'))}[/]{escape(text)}")
    raise typer.Exit(code)


def _version_callback(value: bool) -> None:
    if value:
        from creditsup import __version__

        typer.echo(f"creditsup {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version.",
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="zh or en (default: CREDITSUP_LANG, else the locale: zh_* gives zh).",
        ),
    ] = None,
) -> None:
    """Credit-tiered 'double random, one public' (双随机、一公开) supervision."""
    if lang is not None:
        from creditsup.labels import check_lang

        _LANG[0] = check_lang(lang)


def _text(name: str, value: str) -> str:
    """A text argument must be valid UTF-8 (a shell may pass undecodable bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        _fail(f"The '{name}' must be valid UTF-8 text. Got {value!r} instead.")
    if not value.strip():
        _fail(f"The '{name}' must not be empty.")
    return value


def _print_failures(exc: DataValidationError, limit: int = 200) -> None:
    from creditsup.i18n import rule_text
    from creditsup.labels import label

    lang = _lang()
    fc = exc.failure_cases
    table = Table(title=_say("failures_title", n=len(fc)), show_lines=False)
    heads = (
        ("表", "行", "列", "值", "规则", "说明")
        if lang == "zh"
        else ("table", "row", "column", "value", "rule", "message")
    )
    for col in heads:
        table.add_column(col, overflow="fold")
    for r in fc.head(limit).itertuples(index=False):
        row = int(str(r.row))
        where, column = str(r.table), str(r.column)
        if lang == "zh":
            name = label(f"{where}.{column}", "zh")
            shown = name if name != f"{where}.{column}" else label(column, "zh")
            text = rule_text(str(r.rule), "zh", column=shown)
            where, column = label(f"table.{where}", "zh"), f"{shown}（{column}）"
        else:
            text = str(r.message)
        cells = (
            where,
            "-" if row < 0 else str(row + 2),  # as Excel shows it: header is row 1
            column,
            str(r.value)[:40],
            str(r.rule),
            text,
        )
        table.add_row(*(escape(c) for c in cells))
    out.print(table)
    if len(fc) > limit:
        out.print(_say("more_failures", n=len(fc) - limit))
    counts = fc.groupby(["table", "rule"]).size().reset_index(name="n")
    out.print(
        _say("by_rule")
        + ", ".join(f"{t}/{r}: {n}" for t, r, n in counts.itertuples(index=False))
    )


def _load(data_dir: Path) -> Dataset:
    from creditsup.schemas import load_dataset

    try:
        return load_dataset(data_dir)
    except DataValidationError as exc:
        _print_failures(exc, limit=20)
        _fail(_say("dataset_invalid", path=str(data_dir), n=len(exc.failure_cases)))


def _policy(path: Path | None) -> Any:
    from creditsup.policy import load_policy

    return load_policy(path)


Year = Annotated[int, typer.Option(min=YEAR_MIN, max=YEAR_MAX, help="The plan year.")]
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="Policy TOML file.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="Print only errors.")]
DataDir = Annotated[Path, typer.Argument(help="Dataset folder.")]
PlanDir = Annotated[Path, typer.Argument(help="Plan bundle folder.")]
AsOf = Annotated[
    str, typer.Option("--as-of", help="The date YYYY-MM-DD (scoring date, split date).")
]
Format = Annotated[
    str, typer.Option("--format", help="text (for people) or json (for programs).")
]


def _json_out(payload: object) -> None:
    """Machine-readable output: one JSON document on stdout."""
    import json

    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _check_format(fmt: str) -> bool:
    if fmt not in ("text", "json"):
        _fail(f"The '--format' must be text or json. Got {fmt!r} instead.")
    return fmt == "json"


OutcomeOpt = Annotated[
    str | None,
    typer.Option(
        "--outcome",
        help="'result' or a history column (default: problem_found if present).",
    ),
]
SeedSourceOpt = Annotated[
    str | None,
    typer.Option(
        "--seed-source",
        help="Where the seed will come from, e.g. '福彩3D, draw of 2027-01-05'.",
    ),
]
SeedFormOpt = Annotated[
    str | None,
    typer.Option("--seed-form", help="A regular expression the seed must match."),
]


def _seed_source(text: str | None, form: str | None) -> Any:
    from creditsup.plan import SeedSource

    if text is None:
        if form is not None:
            _fail("The '--seed-form' needs a '--seed-source'.")
        return None
    return SeedSource(_text("--seed-source", text), form)


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    entities: Annotated[int, typer.Option(min=1, help="Number of entities.")] = 50_000,
    inspectors: Annotated[int, typer.Option(min=1, help="Number of inspectors.")] = 100,
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


def _say_infeasible(result: Any, where: Path) -> None:
    unfilled = result.diagnostics["unfilled"]
    err.print(f"[bold red]{_say('infeasible')}[/]{_say('unfilled', n=len(unfilled))}")
    for b in result.diagnostics.get("binding", [])[:10]:
        line = f"  {b.get('group')}: needs {b.get('needed')}, has {b.get('available')}"
        err.print(escape(line))
    shown = {
        str(b.get("visit_id", "")) for b in result.diagnostics.get("binding", [])[:10]
    }
    for u in [u for u in unfilled if str(u.get("visit_id")) not in shown][:10]:
        err.print(escape(f"  {u.get('visit_id')}: {u.get('reason')}"))
    err.print("  " + _say("see", path=where / "diagnostics.json"))


def _build_with_progress(ds_dir: Path, policy: Any, *, quiet: bool, **kw: Any) -> Any:
    from creditsup.plan import build_plan

    if quiet:
        return build_plan(_load(ds_dir), policy, **kw)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    stages = ["load", "tiers", "draw", "assignment", "ledger", "save"]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("load", total=len(stages))

        def step(name: str) -> None:
            bar.update(task, description=name, advance=1)

        ds = _load(ds_dir)
        return build_plan(ds, policy, progress=step, **kw)


@app.command()
def plan(
    data_dir: DataDir,
    year: Annotated[
        int, typer.Option(min=YEAR_MIN, max=YEAR_MAX, help="The plan year.")
    ],
    seed: Annotated[
        str, typer.Option(help="The seed: any string, e.g. a lottery result.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Bundle folder to write.")],
    policy_file: PolicyOpt = None,
    operator: Annotated[str, typer.Option(help="Who runs the draw (R10).")] = "",
    seed_source: SeedSourceOpt = None,
    seed_form: SeedFormOpt = None,
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Build the annual plan bundle (contract §3). Exit 3 when infeasible."""
    from creditsup.outputs import check_output

    as_json = _check_format(fmt)
    quiet = quiet or as_json
    check_output(out_dir, kinds=("plan",), protect=[data_dir])
    source = _seed_source(seed_source, seed_form)
    policy = _policy(policy_file)
    result = _build_with_progress(
        data_dir,
        policy,
        year=year,
        seed=_text("--seed", seed),
        operator=operator,
        quiet=quiet,
        seed_source=source,
    )
    result.save(out_dir, protect=[data_dir])
    if as_json:
        summary = dict(result.summary().itertuples(index=False))
        _json_out(
            {
                "bundle": str(out_dir),
                "feasible": result.is_feasible,
                "summary": summary,
                "diagnostics": result.diagnostics,
            }
        )
    elif not quiet:
        out.print(escape(result.summary().to_string(index=False)))
        out.print(f"plan bundle: {out_dir}")
    if not result.is_feasible:
        if not as_json:
            _say_infeasible(result, out_dir)
        raise typer.Exit(3)


@app.command()
def commit(
    data_dir: DataDir,
    year: Annotated[
        int, typer.Option(min=YEAR_MIN, max=YEAR_MAX, help="The plan year.")
    ],
    policy_file: PolicyOpt = None,
    seed_source: SeedSourceOpt = None,
    seed_form: SeedFormOpt = None,
) -> None:
    """Print the commitment to publish before the seed is known."""
    from creditsup.plan import compute_commitment

    source = _seed_source(seed_source, seed_form)
    typer.echo(
        compute_commitment(
            _load(data_dir), _policy(policy_file), year=year, seed_source=source
        )
    )


@app.command()
def verify(
    plan_dir: PlanDir,
    data_dir: Annotated[Path, typer.Option("--data", help="The input dataset folder.")],
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Re-derive the plan from its inputs and seed; exit 1 on the first difference."""
    from creditsup.plan import verify_plan

    as_json = _check_format(fmt)
    report = verify_plan(plan_dir, _load(data_dir))
    if as_json:
        _json_out(
            {
                "ok": report.ok,
                "refused": report.refused,
                "checked": report.checked,
                "differences": report.differences,
            }
        )
        raise typer.Exit(0 if report.ok else 2 if report.refused else 1)
    if report.ok:
        if not quiet:
            checks = ", ".join(report.checked)
            out.print(f"[green]{escape(_say('verified', checks=checks))}[/]")
        return
    if report.refused:
        _fail(f"cannot replay this plan: {report.differences[0]}")
    err.print(f"[bold red]{_say('mismatch')}[/]{escape(report.differences[0])}")
    raise typer.Exit(1)


@app.command()
def publish(
    plan_dir: PlanDir,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    no_excel: Annotated[
        bool, typer.Option("--no-excel", help="CSV only, no public.xlsx.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Write the public view (一公开): plan table and entity lists."""
    from creditsup.outputs import check_output
    from creditsup.plan import load_plan
    from creditsup.publish import publish_plan

    check_output(out_dir, kinds=("public",), protect=[plan_dir])
    paths = publish_plan(
        load_plan(plan_dir),
        out_dir,
        lang=_doc_lang(),
        excel=not no_excel,
        protect=[plan_dir],
    )
    if not quiet:
        for p in paths:
            out.print(str(p))


@app.command()
def report(
    plan_dir: PlanDir,
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write.")],
    data_dir: Annotated[
        Path | None,
        typer.Option("--data", help="The input dataset (for idle inspectors)."),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Write a self-contained HTML report with charts."""
    from creditsup.outputs import check_output, contains
    from creditsup.plan import load_plan
    from creditsup.report import render_report

    protect = [plan_dir] + ([data_dir] if data_dir else [])
    check_output(
        out_file,
        kinds=(),
        folder=False,
        protect=protect,
        owned_file=contains(_REPORT_MARK),
    )
    ds = _load(data_dir) if data_dir else None
    path = render_report(load_plan(plan_dir), out_file, lang=_doc_lang(), dataset=ds)
    if not quiet:
        out.print(f"report: {path}")


@app.command()
def schema(
    name: Annotated[
        str,
        typer.Argument(help="provenance, diagnostics, policy, ledger or public"),
    ],
) -> None:
    """Print the JSON Schema (Draft 2020-12) of a file creditsup writes."""
    import json

    from creditsup.plan.schemas import json_schema

    typer.echo(json.dumps(json_schema(name), indent=2, ensure_ascii=False))


@app.command("policy-template")
def policy_template() -> None:
    """Print the default policy as TOML."""
    from creditsup.policy import policy_template as template

    typer.echo(template(), nl=False)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for all outputs.")
    ] = Path("creditsup-demo"),
    entities: Annotated[int, typer.Option(min=1, help="District size.")] = 50_000,
    inspectors: Annotated[
        int,
        typer.Option(
            min=1,
            help="Number of inspectors (120 staff every visit of the default plan).",
        ),
    ] = 120,
    seed: Annotated[str, typer.Option(help="Seed string.")] = "demo-2026",
    year: Year = 2026,
    quiet: Quiet = False,
) -> None:
    """Synthetic district + annual plan + HTML report, in one command."""
    import time

    from creditsup.datasets import synthetic_tables
    from creditsup.io import write_dataset
    from creditsup.outputs import check_output, mark_folder
    from creditsup.plan import build_plan
    from creditsup.publish import publish_plan
    from creditsup.report import render_report
    from creditsup.schemas import validate_dataset

    check_output(out_dir, kinds=("demo",))
    out_dir.mkdir(parents=True, exist_ok=True)
    mark_folder(out_dir, "demo")
    t0 = time.perf_counter()
    data_dir, plan_dir = out_dir / "data", out_dir / "plan"
    with err.status("synthesising the district…"):
        tables = synthetic_tables(
            entities, inspectors, seed=_text("--seed", seed), year=year
        )
        write_dataset(tables, data_dir)
        ds = validate_dataset(tables)
    with err.status("building the plan…"):
        result = build_plan(ds, year=year, seed=seed, operator="demo")
        result.save(plan_dir, protect=[data_dir])
    with err.status("publishing and reporting…"):
        public = publish_plan(result, out_dir / "public", protect=[plan_dir])
        html_path = render_report(result, out_dir / "report.html")
    if not quiet:
        out.print(escape(result.summary().to_string(index=False)))
        out.print(f"\ndataset:  {data_dir}")
        out.print(f"plan:     {plan_dir}")
        out.print(f"public:   {public[0].parent if public else out_dir / 'public'}")
        out.print(f"report:   {html_path}")
        out.print(f"verify:   creditsup verify {plan_dir} --data {data_dir}")
        out.print(f"done in {time.perf_counter() - t0:.1f} s")
    if not result.is_feasible:
        _say_infeasible(result, plan_dir)
        raise typer.Exit(3)


@app.command("import-chicago")
def import_chicago(
    inspections: Annotated[Path, typer.Argument(help="food_inspections CSV.")],
    licenses: Annotated[Path, typer.Argument(help="business_licenses CSV.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Dataset folder to write.")],
    quiet: Quiet = False,
) -> None:
    """Convert Chicago's public food-inspection data into a dataset folder."""
    from creditsup.chicago import import_chicago_to
    from creditsup.outputs import check_output

    check_output(out_dir, kinds=("dataset",), protect=[inspections, licenses])
    path = import_chicago_to(inspections, licenses, out_dir)
    if not quiet:
        out.print(f"dataset: {path} (stand-in USCCs; licence numbers in source_id)")


@app.command()
def backtest(
    data_dir: DataDir,
    as_of: AsOf,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, max=3660)] = 365,
    policy_file: PolicyOpt = None,
    seeds: Annotated[
        int, typer.Option(min=1, max=100_000, help="Simulated draws.")
    ] = 200,
    budget: Annotated[
        float | None, typer.Option(help="Expected visits (default: the policy's).")
    ] = None,
    no_calibrate: Annotated[
        bool, typer.Option("--no-calibrate", help="Use the scorecard as given.")
    ] = False,
    fit: Annotated[
        bool,
        typer.Option(
            "--fit",
            help="Learn the scorecard from the data before the split (the "
            "policy's scorecard becomes the 'previous' baseline); writes "
            "scorecard.toml and fit.md too.",
        ),
    ] = False,
    outcome: OutcomeOpt = None,
    quiet: Quiet = False,
) -> None:
    """Backtest a policy on past outcomes against uniform and simple baselines."""
    from creditsup.evaluate import backtest as run_backtest
    from creditsup.outputs import check_output, mark_folder

    check_output(out_dir, kinds=("backtest",), protect=[data_dir])
    policy = _policy(policy_file)
    ds = _load(data_dir)
    extra: dict[str, bytes] = {}
    common: dict[str, Any] = {
        "as_of": as_of,
        "horizon_days": horizon_days,
        "seeds": seeds,
        "budget": budget,
        "outcome": outcome,
    }
    if fit:
        from creditsup.fit import backtest_fitted

        result, fitted = backtest_fitted(ds, policy, **common)
        extra = {
            "scorecard.toml": fitted.to_toml().encode("utf-8"),
            "fit.md": fitted.to_markdown().encode("utf-8"),
        }
    else:
        result = run_backtest(ds, policy, calibrate=not no_calibrate, **common)
    result.save(out_dir)
    _write_beside(out_dir, extra)
    mark_folder(out_dir, "backtest")
    if not quiet:
        out.print(escape(result.to_markdown()))
        out.print(f"written to {out_dir}")


def _write_beside(folder: Path, files: dict[str, bytes]) -> None:
    from creditsup.outputs import write_atomic

    for name, data in files.items():
        write_atomic(folder / name, data)


_FIT_HEAD = b"# creditsup fitted scorecard"
_FIT_REPORT_HEAD = b"# Fitted scorecard as of"


@app.command("fit")
def fit_command(
    data_dir: DataDir,
    as_of: Annotated[
        str, typer.Option("--as-of", help="Cut-off YYYY-MM-DD: only rows before it.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="The scorecard TOML file to write.")
    ],
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, max=3660)] = 365,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="The policy in use: its problem results, overrides and sampling; "
            "its scorecard is the 'previous' baseline.",
        ),
    ] = None,
    outcome: OutcomeOpt = None,
    holdout_days: Annotated[
        int,
        typer.Option(
            "--holdout-days",
            min=0,
            max=3660,
            help="Days before the cut-off held out and only reported on (0: none).",
        ),
    ] = 91,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Write the fit report (markdown).")
    ] = None,
    folds: Annotated[
        int,
        typer.Option(
            "--folds", min=0, max=20, help="Time-based validation folds (0: none)."
        ),
    ] = 3,
    quiet: Quiet = False,
) -> None:
    """Learn a scorecard from the dataset's own history before a date."""
    from creditsup.outputs import check_output, replace_file, starts_with

    owned = starts_with(_FIT_HEAD)
    owned_report = starts_with(_FIT_REPORT_HEAD)
    check_output(out_file, kinds=(), folder=False, protect=[data_dir], owned_file=owned)
    if report_file is not None:
        check_output(
            report_file,
            kinds=(),
            folder=False,
            protect=[data_dir],
            owned_file=owned_report,
        )
    from creditsup.fit import FitOptions, fit_scorecard

    policy = _policy(policy_file) if policy_file is not None else None
    ds = _load(data_dir)
    result = fit_scorecard(
        ds,
        as_of=as_of,
        horizon_days=horizon_days,
        outcome=outcome,
        previous=policy,
        options=FitOptions(holdout_days=holdout_days, n_folds=folds),
    )
    replace_file(
        out_file, result.to_toml().encode("utf-8"), owned=owned, protect=[data_dir]
    )
    if report_file is not None:
        replace_file(
            report_file,
            result.to_markdown().encode("utf-8"),
            owned=owned_report,
            protect=[data_dir],
        )
    if not quiet:
        out.print(escape(result.summary().to_string(index=False)))
        out.print(f"scorecard: {out_file} (use it with --policy)")


@app.command("import-inspections")
def import_inspections(
    source: Annotated[Path, typer.Argument(help="The inspections file (CSV/XLSX).")],
    mapping_file: Annotated[
        Path, typer.Option("--map", help="The mapping TOML (columns, values, dates).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Dataset folder to write.")],
    quiet: Quiet = False,
) -> None:
    """Convert a bureau's inspection export into a dataset folder."""
    from creditsup.importer import import_inspections_to, load_mapping
    from creditsup.outputs import check_output

    check_output(out_dir, kinds=("dataset",), protect=[source, mapping_file])
    mapping = load_mapping(mapping_file)
    path, counts = import_inspections_to(source, mapping, out_dir)
    if not quiet:
        rows = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        out.print(f"dataset: {path} ({rows})")


# ----------------------------------------------------------------------- run
def _error(text: str, key: str = "error") -> None:
    err.print(f"[bold red]{escape(_say(key))}[/]{escape(text)}")


def _click_error(exc: BaseException) -> int | None:
    """Exit code for a click/typer usage error (typer bundles its own click)."""
    names = {c.__name__ for c in type(exc).__mro__}
    if "NoArgsIsHelpError" in names:
        _error(_say("no_command"))
        return 2
    if "Abort" in names:
        return 130
    if "ClickException" not in names:
        return None
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    where = f" Try '{ctx.command_path} --help'." if ctx is not None else ""
    text = " ".join(str(message).split())
    if text and text[-1] not in ".!?":
        text += "."
    _error(text + where)
    return int(getattr(exc, "exit_code", 2) or 2)


def _lang_first(argv: list[str]) -> list[str]:
    """``--lang X`` may follow the verb (as users type it); typer wants it first."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return ["--lang", argv[i + 1], *argv[:i], *argv[i + 2 :]]
        if arg.startswith("--lang="):
            return [arg, *argv[:i], *argv[i + 1 :]]
    return argv


def run(argv: list[str] | None = None) -> int:
    """Run the app; return the exit code (no traceback for any error)."""
    import sys

    args = _lang_first(list(sys.argv[1:] if argv is None else argv))
    _LANG[0] = None
    try:
        rv = app(args=args, standalone_mode=False, prog_name="creditsup")
        if isinstance(rv, int):  # click returns an Exit's code without raising
            return rv
    except typer.Exit as exc:
        return int(exc.exit_code)
    except InfeasiblePlanError as exc:
        _error(str(exc), "infeasible")
        return 3
    except (CreditsupError, MissingDependencyError) as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            _error(line)
        return 2
    except OSError as exc:
        where = f" '{exc.filename}'" if getattr(exc, "filename", None) else ""
        _error(f"{exc.strerror or exc}{where}.")
        return 2
    except Exception as exc:
        code = _click_error(exc)
        if code is not None:
            return code
        if os.environ.get("CREDITSUP_DEBUG"):
            raise
        _error(_say("internal", what=f"{type(exc).__name__}: {exc}"))
        return 2
    return 0
