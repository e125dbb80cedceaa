"""Verbs of the annual plan: ``plan``, ``commit``, ``verify``, ``publish``, ``report``, ``schema``,
``policy-template``, ``demo``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from creditsup._cli._common import (
    _REPORT_MARK,
    YEAR_MAX,
    YEAR_MIN,
    DataDir,
    Format,
    PlanDir,
    PolicyOpt,
    Quiet,
    SeedFormOpt,
    SeedSourceOpt,
    Year,
    _check_format,
    _doc_lang,
    _fail,
    _json_out,
    _lang,
    _load,
    _policy,
    _print_failures,
    _print_figures,
    _say,
    _seed_source,
    _text,
    app,
    err,
    out,
)
from creditsup.exceptions import DataValidationError, MissingDependencyError
from creditsup.i18n import MESSAGES

logger = logging.getLogger(__name__)


def _pct(v: Any) -> str:
    return "-" if v is None else f"{float(v):.1%}"


def _say_policy(result: Any) -> None:
    """Waivers, a scaled budget and missed floors: said, never silent (R08)."""
    from creditsup.labels import label

    lang, d = _lang(), result.diagnostics
    for w in d.get("waivers", []):
        floor = label(f"floor.{w.get('floor')}", lang)
        err.print(
            escape(
                _say(
                    "floor_waived",
                    floor=floor,
                    required=_pct(w.get("required")),
                    planned=_pct(w.get("planned")),
                    reason=w.get("reason", ""),
                )
            )
        )
    scale = (d.get("budget") or {}).get("scale")
    if scale is not None and float(scale) < 1:
        err.print(escape(_say("budget_scaled", scale=f"{float(scale):.3f}")))
    for f in d.get("floors", []):
        real, req = f.get("realized"), f.get("required")
        if f.get("status") == "ok" and real is not None and req is not None:
            if float(real) < float(req) - 1e-12:
                err.print(
                    escape(
                        _say(
                            "floor_missed",
                            floor=label(f"floor.{f.get('floor')}", lang),
                            required=_pct(req),
                            realized=_pct(real),
                        )
                    )
                )


def _say_capacity(result: Any) -> None:
    """The capacity check: each short (department, month) and what would fit."""
    short = result.diagnostics.get("capacity", [])
    if not short:
        return
    names = _dept_names(result)
    slots = sum(int(c.get("shortfall", 0)) for c in short)
    err.print(
        f"[bold red]{_say('infeasible')}[/]"
        + escape(_say("capacity_short", n=len(short), slots=slots))
    )
    worst = sorted(short, key=lambda c: -int(c.get("shortfall", 0)))[:10]
    for c in sorted(worst, key=lambda c: (str(c["department"]), int(c["month"]))):
        dep = str(c.get("department"))
        err.print(
            escape(
                _say(
                    "capacity_line",
                    department=names.get(dep, dep) if _lang() == "zh" else dep,
                    month=c.get("month"),
                    needed=c.get("needed"),
                    available=c.get("available"),
                    extra=c.get("extra_inspectors", "?"),
                )
            )
        )
    budget = result.diagnostics.get("budget") or {}
    if budget.get("fit_scale") is not None:
        err.print(
            escape(_say("capacity_fit", scale=f"{float(budget['fit_scale']):.3f}"))
        )
    if budget.get("shortfall_at_floors"):
        err.print(escape(_say("capacity_floors", slots=budget["shortfall_at_floors"])))


def _dept_names(result: Any) -> dict[str, str]:
    """Department id -> display name: the items' names, then the policy's."""
    from creditsup.labels import department_names, item_department_names

    return {
        **item_department_names(result.items),
        **department_names(result.provenance),
    }


def _say_infeasible(result: Any, where: Path, limit: int = 10) -> None:
    """What cannot be staffed: the short department-months, then each unfilled
    visit once with its reason (in the run's language; not hard-wrapped)."""
    _say_capacity(result)
    diagnosis = result.diagnosis(_lang())
    unfilled = diagnosis["unfilled"]
    if not unfilled:
        err.print("  " + _say("see", path=where / "diagnostics.json"))
        return
    err.print(f"[bold red]{_say('infeasible')}[/]{_say('unfilled', n=len(unfilled))}")
    groups = sorted(
        (b for b in diagnosis["binding"] if not b.get("visit_id")),
        key=lambda b: (str(b.get("department")), b.get("month") or 0),
    )
    if groups:
        err.print("  " + _say("short_groups"))
    for b in groups[:limit]:
        line = _say(
            "binding_line",
            group=b.get("group"),
            needed=b.get("needed"),
            available=b.get("available"),
        )
        err.print("    " + escape(line))
    err.print(
        "  " + _say("unfilled_list", n=len(unfilled), k=min(limit, len(unfilled)))
    )
    for u in unfilled[:limit]:
        err.print("    " + escape(str(u.get("reason"))))
    err.print("  " + _say("see", path=where / "diagnostics.json"))


def _draw_warnings(result: Any) -> None:
    """The draw's warnings in Chinese (English: the library's own log lines)."""
    from creditsup._cli._logs import draw_warnings

    if _lang() == "zh":
        for line in draw_warnings(result.ledger, _dept_names(result)):
            err.print(escape(line))


#: The figures of :meth:`InspectionPlan.summary` and their display labels.
_FIGURES = {
    "year": "year",
    "seed": "seed",
    "entities": "entities",
    "excluded entities": "excluded_entities",
    "visits": "visits",
    "joint visits share": "joint_share",
    "assignments": "assignments",
    "inspectors used": "inspectors_used",
    "unfilled visits": "unfilled",
    "inspector-slots short": "slots_short",
    "seed commitment": "seed_commitment",
}


def _print_summary(result: Any) -> None:
    """The plan's key figures (Chinese labels under ``zh``)."""
    from creditsup.labels import label

    _print_figures(result.summary(), lambda f: label(_FIGURES.get(f, f)))


@dataclass(frozen=True)
class Engine:
    """Where ``plan --engine dask`` runs: an existing scheduler or a local cluster."""

    partitions: int | None
    workers: int
    scheduler: str | None

    @contextlib.contextmanager
    def client(self) -> Iterator[None]:
        """A Dask client for the run: the given scheduler, a ``LocalCluster`` of
        ``workers`` processes, or (``workers = 0``) Dask's threads."""
        if self.scheduler is None and self.workers == 0:
            yield
            return
        try:
            dist: Any = importlib.import_module("dask.distributed")
        except ImportError:
            raise MissingDependencyError("distributed", "dask") from None
        if self.scheduler is not None:
            with dist.Client(self.scheduler):
                yield
            return
        with (
            dist.LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            ) as cluster,
            dist.Client(cluster),
        ):
            yield


def _engine(
    name: str, *, partitions: int | None, workers: int, scheduler: str | None
) -> Engine | None:
    if name not in ("local", "dask"):
        _fail(f"The '--engine' must be local or dask. Got {name!r} instead.")
    if name == "local":
        if partitions is not None or scheduler is not None:
            _fail("The '--partitions' and '--scheduler' need '--engine dask'.")
        return None
    return Engine(partitions, workers, scheduler)


def _build(ds_dir: Path, policy: Any, *, engine: Engine | None, **kw: Any) -> Any:
    """The plan from the local engine, or from the Dask engine on its scheduler."""
    from creditsup.plan import build_plan

    if engine is None:
        return build_plan(_load(ds_dir), policy, **kw)
    try:
        with engine.client():
            return build_plan(
                ds_dir, policy, engine="dask", partitions=engine.partitions, **kw
            )
    except DataValidationError as exc:
        _print_failures(exc, limit=20)
        _fail(_say("dataset_invalid", path=str(ds_dir), n=len(exc.failure_cases)))


def _build_with_progress(
    ds_dir: Path, policy: Any, *, quiet: bool, engine: Engine | None = None, **kw: Any
) -> Any:
    if quiet:
        return _build(ds_dir, policy, engine=engine, **kw)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    stages = ["load", "tiers", "draw", "assignment", "ledger", "save"]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # no stray line in a pipe or a log
    ) as bar:
        task = bar.add_task(_say("stage_load"), total=len(stages))

        def step(name: str) -> None:
            text = _say(f"stage_{name}") if f"stage_{name}" in MESSAGES else name
            bar.update(task, description=text, advance=1)

        return _build(ds_dir, policy, engine=engine, progress=step, **kw)


@app.command()
def plan(
    data_dir: DataDir,
    year: Annotated[int, typer.Option(min=YEAR_MIN, max=YEAR_MAX)],
    seed: Annotated[str, typer.Option()],
    out_dir: Annotated[Path, typer.Option("--out")],
    policy_file: PolicyOpt = None,
    operator: Annotated[str, typer.Option()] = "",
    seed_source: SeedSourceOpt = None,
    seed_form: SeedFormOpt = None,
    fmt: Format = "text",
    engine: Annotated[str, typer.Option("--engine")] = "local",
    partitions: Annotated[int | None, typer.Option(min=1)] = None,
    workers: Annotated[int, typer.Option(min=0)] = 2,
    scheduler: Annotated[str | None, typer.Option("--scheduler")] = None,
    quiet: Quiet = False,
) -> None:
    """Build the annual plan bundle (contract §3). Exit 3 when infeasible."""
    from creditsup.outputs import check_output

    run_on = _engine(
        engine, partitions=partitions, workers=workers, scheduler=scheduler
    )
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
        engine=run_on,
    )
    result.save(out_dir, protect=[data_dir])
    if not as_json:
        _draw_warnings(result)
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
        _print_summary(result)
        out.print(escape(_say("bundle_at", path=out_dir)))
    if not as_json:
        _say_policy(result)
    if not result.is_feasible:
        if not as_json:
            _say_infeasible(result, out_dir)
        raise typer.Exit(3)


@app.command()
def commit(
    data_dir: DataDir,
    year: Annotated[int, typer.Option(min=YEAR_MIN, max=YEAR_MAX)],
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
    data_dir: Annotated[Path, typer.Option("--data")],
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
            from creditsup.labels import value_label

            sep = "、" if _lang() == "zh" else ", "
            checks = sep.join(
                value_label("verify_check", c, _lang()) for c in report.checked
            )
            out.print(f"[green]{escape(_say('verified', checks=checks))}[/]")
        return
    if report.refused:
        _fail(_say("cannot_replay", why=report.differences[0]))
    from creditsup.i18n import error_text

    first = error_text(report.differences[0], _lang())
    err.print(f"[bold red]{_say('mismatch')}[/]{escape(first)}")
    raise typer.Exit(1)


@app.command()
def publish(
    plan_dir: PlanDir,
    out_dir: Annotated[Path, typer.Option("--out")],
    no_excel: Annotated[bool, typer.Option("--no-excel")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    quiet: Quiet = False,
) -> None:
    """Write the public view (一公开): plan table, entity lists and results."""
    from creditsup.outputs import check_output
    from creditsup.plan import load_plan
    from creditsup.publish import publish_plan

    check_output(out_dir, kinds=("public",), protect=[plan_dir])
    plan = load_plan(plan_dir)
    results, overdue = _results_to_publish(plan, as_of)
    paths = publish_plan(
        plan,
        out_dir,
        lang=_doc_lang(),
        excel=not no_excel,
        protect=[plan_dir],
        results=results,
    )
    if not quiet:
        for p in paths:
            out.print(str(p))
    if overdue is not None and len(overdue):
        err.print(escape(_say("overdue_results", n=len(overdue))))
        for r in overdue.head(20).itertuples(index=False):
            err.print(escape(f"  {r.visit_id}  {r.check_date} → {r.due_date}"))


def _results_to_publish(plan: Any, as_of: str | None) -> tuple[Any, Any]:
    """The public results and the overdue ones (``None`` when there are none)."""
    import datetime as dt

    if "results.csv" not in plan.extra_tables:
        if as_of is not None:
            _fail("The '--as-of' dates results, and this bundle has none.")
        return None, None
    from creditsup.year import overdue_results, public_results

    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        _fail(f"The '--as-of' must be a date YYYY-MM-DD. Got {as_of!r} instead.")
    return public_results(plan, as_of=day), overdue_results(plan, as_of=day)


@app.command()
def report(
    plan_dir: PlanDir,
    out_file: Annotated[Path, typer.Option("--out")],
    data_dir: Annotated[
        Path | None,
        typer.Option("--data"),
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
        out.print(escape(_say("report_at", path=path)))


@app.command()
def schema(
    name: Annotated[
        str,
        typer.Argument(),
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
    out_dir: Annotated[Path, typer.Option("--out")] = Path("creditsup-demo"),
    entities: Annotated[int, typer.Option(min=1)] = 50_000,
    inspectors: Annotated[
        int,
        typer.Option(min=1),
    ] = 600,
    seed: Annotated[str, typer.Option()] = "demo-2026",
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
    with err.status(_say("status_synth")):
        tables = synthetic_tables(
            entities, inspectors, seed=_text("--seed", seed), year=year
        )
        write_dataset(tables, data_dir)
        ds = validate_dataset(tables)
    with err.status(_say("status_plan")):
        result = build_plan(ds, year=year, seed=seed, operator="demo")
        result.save(plan_dir, protect=[data_dir])
    _draw_warnings(result)
    with err.status(_say("status_publish")):
        lang = _doc_lang()
        public = publish_plan(result, out_dir / "public", lang=lang, protect=[plan_dir])
        html_path = render_report(result, out_dir / "report.html", lang=lang)
    if not quiet:
        _print_summary(result)
        public_dir = public[0].parent if public else out_dir / "public"
        command = f"creditsup verify {plan_dir} --data {data_dir}"
        for line in (
            "",
            _say("dataset_at", path=data_dir),
            _say("bundle_at", path=plan_dir),
            _say("public_at", path=public_dir),
            _say("report_at", path=html_path),
            _say("verify_with", command=command),
            _say("done_in", seconds=time.perf_counter() - t0),
        ):
            out.print(escape(line))
    _say_policy(result)
    if not result.is_feasible:
        _say_infeasible(result, plan_dir)
        raise typer.Exit(3)
