"""Verbs of the supervision year: ``results``, ``followups``, ``replan``, ``triggers``,
``draw-batch``, ``close-year``.

Each one reads the bundle, runs one stage of :mod:`creditsup.year`, and
writes the bundle back through :meth:`InspectionPlan.save` (atomic, owned
folders) only when something changed. Bad input rows are listed all at once
(Excel row numbers) with exit 1; the good rows are kept.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from creditsup._cli._common import (
    Format,
    PlanDir,
    Quiet,
    SeedFormOpt,
    SeedSourceOpt,
    _check_format,
    _fail,
    _json_out,
    _load,
    _print_failures,
    _say,
    _seed_source,
    _text,
    app,
    out,
)

logger = logging.getLogger(__name__)

InFile = Annotated[Path, typer.Argument(help="Input table (CSV, XLSX or Parquet).")]
Operator = Annotated[str, typer.Option(help="Who records it (ledger).")]
CalendarOpt = Annotated[
    Path | None,
    typer.Option(
        "--calendar",
        help="Holidays table (date,kind: holiday/workday or 休/班) for years "
        "chinesecalendar does not know.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Reference date YYYY-MM-DD (default today)."),
]


def _plan(plan_dir: Path) -> Any:
    from creditsup.plan import load_plan

    return load_plan(plan_dir)


def _table(path: Path) -> Any:
    from creditsup.io import read_table

    return read_table(path)


def _calendar(path: Path | None) -> Any:
    if path is None:
        return None
    from creditsup.workdays import WorkCalendar

    return WorkCalendar.from_table(_table(path))


def _as_of(text: str | None) -> Any:
    import datetime as dt

    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(f"The '--as-of' must be a date YYYY-MM-DD. Got {text!r} instead.")


def _report_rows(failures: Any, as_json: bool, payload: dict[str, Any]) -> None:
    from creditsup.exceptions import DataValidationError

    if as_json:
        rows = failures.assign(excel_row=failures["row"] + 2)
        _json_out({**payload, "failures": rows.to_dict(orient="records")})
    elif len(failures):
        _print_failures(DataValidationError(failures))


@app.command()
def results(
    plan_dir: PlanDir,
    results_file: InFile,
    operator: Operator = "",
    calendar: CalendarOpt = None,
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Record inspection results (R19) into the bundle; exit 1 if rows are bad."""
    from creditsup.year import record_results

    as_json = _check_format(fmt)
    protect = [results_file] + ([calendar] if calendar else [])
    done = record_results(
        _plan(plan_dir),
        _table(results_file),
        operator=operator,
        calendar=_calendar(calendar),
    )
    if done.changed:
        done.plan.save(plan_dir, protect=protect)
    bad = int(done.failures["row"].nunique()) if len(done.failures) else 0
    counts = {"accepted": len(done.accepted), "unchanged": done.unchanged, "bad": bad}
    _report_rows(done.failures, as_json, counts)
    if not as_json and not quiet:
        out.print(escape(_say("results_recorded", **counts)))
    if bad:
        raise typer.Exit(1)


@app.command()
def followups(
    plan_dir: PlanDir,
    closings: Annotated[
        Path | None,
        typer.Argument(help="Closings (followup_id,closed_on,outcome); optional."),
    ] = None,
    as_of: AsOfOpt = None,
    operator: Operator = "",
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Close follow-ups (R20) and list the open and overdue ones."""
    from creditsup.year import close_followups, followup_status

    as_json = _check_format(fmt)
    ref = _as_of(as_of)
    plan = _plan(plan_dir)
    bad = 0
    payload: dict[str, Any] = {}
    if closings is not None:
        done = close_followups(plan, _table(closings), operator=operator)
        if done.changed:
            done.plan.save(plan_dir, protect=[closings])
            plan = done.plan
        bad = int(done.failures["row"].nunique()) if len(done.failures) else 0
        payload = {"closed": len(done.closed), "unchanged": done.unchanged, "bad": bad}
        if not as_json:
            _report_rows(done.failures, False, payload)
        if not as_json and not quiet:
            out.print(escape(_say("followups_closed", **payload)))
    status = followup_status(plan, as_of=ref)
    counts = status["state"].value_counts()
    states = {
        "open": int(counts.get("open", 0)),
        "overdue": int(counts.get("overdue", 0)),
        "closed": int(counts.get("closed", 0) + counts.get("closed_late", 0)),
    }
    overdue = status[status["state"].eq("overdue")]
    if as_json:
        rows = done.failures.to_dict(orient="records") if closings is not None else []
        _json_out(
            {
                **payload,
                **states,
                "failures": rows,
                "overdue_followups": overdue[
                    ["followup_id", "kind", "due_date"]
                ].to_dict(orient="records"),
            }
        )
    elif not quiet:
        out.print(escape(_say("followups_state", **states)))
        for r in overdue.head(20).itertuples(index=False):
            out.print(escape(f"  {r.followup_id}  {r.kind}  {r.due_date}"))
    if bad:
        raise typer.Exit(1)


@app.command("close-year")
def close_year_cmd(
    plan_dir: PlanDir,
    data_dir: Annotated[
        Path, typer.Option("--data", help="The dataset the plan was drawn from.")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="The new dataset folder to write.")
    ],
    restorations: Annotated[
        Path | None,
        typer.Option(
            "--restorations",
            help="Credit restorations (uscc,kind,restored_on[,date]) of past records.",
        ),
    ] = None,
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Next year's dataset: DIR + the year's results and follow-up records."""
    from creditsup.outputs import check_output
    from creditsup.year import close_year

    as_json = _check_format(fmt)
    protect = [plan_dir, data_dir] + ([restorations] if restorations else [])
    check_output(out_dir, kinds=("dataset",), protect=protect)
    _load(data_dir)  # the data must be valid (failures listed, exit 2)
    done = close_year(
        _plan(plan_dir),
        data_dir,
        restorations=_table(restorations) if restorations else None,
    )
    done.save(out_dir, protect=protect)
    counts = {
        "history": len(done.history_added),
        "records": len(done.records_added),
        "restored": done.restored,
    }
    if as_json:
        _json_out({"dataset": str(out_dir), **counts})
    elif not quiet:
        out.print(
            escape(
                _say(
                    "year_closed",
                    path=str(out_dir),
                    history=counts["history"],
                    records=counts["records"],
                )
            )
        )


@app.command()
def replan(
    plan_dir: PlanDir,
    data_dir: Annotated[
        Path, typer.Option("--data", help="The dataset the plan was drawn from.")
    ],
    changes: Annotated[
        Path,
        typer.Option(
            "--changes",
            help="Changes: kind,id,from_date[,value,reason]; kinds inspector_left, "
            "inspector_joined, entity_closed, capacity_changed.",
        ),
    ],
    operator: Operator = "",
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Mid-year changes: only the affected visits are re-drawn; exit 1 on bad rows."""
    from creditsup.year import replan as do_replan

    as_json = _check_format(fmt)
    done = do_replan(
        _plan(plan_dir), _load(data_dir), _table(changes), operator=operator
    )
    if done.changed:
        done.plan.save(plan_dir, protect=[data_dir, changes])
    counts = done.counts()
    if as_json:
        _report_rows(
            done.failures, True, {**counts, "log": done.log.to_dict("records")}
        )
    else:
        _report_rows(done.failures, False, counts)
        if not quiet:
            out.print(escape(_say("replanned", **counts)))
            for r in done.log[done.log["visit_id"].ne("")].to_dict("records"):
                line = f"  {r['kind']} {r['id']}: {r['visit_id']} {r['outcome']}"
                if r["new_inspector_id"]:
                    line += f" → {r['new_inspector_id']}"
                out.print(escape(line))
    if len(done.failures):
        raise typer.Exit(1)


@app.command()
def triggers(
    plan_dir: PlanDir,
    triggers_file: InFile,
    data_dir: Annotated[
        Path, typer.Option("--data", help="The dataset the plan was drawn from.")
    ],
    operator: Operator = "",
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Triggered checks (触发式监管): add their visits; exit 1 bad rows, 3 unfilled."""
    from creditsup.year import record_triggers

    as_json = _check_format(fmt)
    done = record_triggers(
        _plan(plan_dir), _load(data_dir), _table(triggers_file), operator=operator
    )
    if done.changed:
        done.plan.save(plan_dir, protect=[data_dir, triggers_file])
    bad = int(done.failures["row"].nunique()) if len(done.failures) else 0
    counts = {
        "visits": len(done.visits),
        "unfilled": len(done.unfilled),
        "unchanged": done.unchanged,
        "bad": bad,
    }
    extra = {**counts, "new_visits": done.visits.to_dict(orient="records")}
    _report_rows(done.failures, as_json, extra)
    if not as_json and not quiet:
        out.print(escape(_say("triggered", **counts)))
        for r in done.visits.to_dict(orient="records"):
            out.print(escape(f"  {r['visit_id']}  {r['trigger']}  {r['status']}"))
    if bad:
        raise typer.Exit(1)
    if done.unfilled:
        raise typer.Exit(3)


@app.command("draw-batch")
def draw_batch_cmd(
    plan_dir: PlanDir,
    batch: Annotated[
        str, typer.Option("--batch", help="The batch's months: 7 or 7-9.")
    ],
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data", help="That day's dataset (its inspectors and conflicts)."
        ),
    ],
    seed: Annotated[
        str | None, typer.Option(help="The batch's seed, e.g. a lottery result.")
    ] = None,
    seed_source: SeedSourceOpt = None,
    seed_form: SeedFormOpt = None,
    commit: Annotated[
        bool,
        typer.Option(
            "--commit", help="Print the commitment to publish before the seed."
        ),
    ] = False,
    operator: Operator = "",
    quiet: Quiet = False,
) -> None:
    """Draw a batch's inspectors when it opens (R06); exit 3 if a visit is unfilled."""
    from creditsup.year import batch_commitment, draw_batch

    plan = _plan(plan_dir)
    roster = _load(data_dir)
    source = _seed_source(seed_source, seed_form)
    if commit:
        typer.echo(batch_commitment(plan, roster, batch=batch, seed_source=source))
        return
    if seed is None:
        _fail(
            "The '--seed' is needed to draw (or give '--commit' to print the commitment)."
        )
    done = draw_batch(
        plan,
        roster,
        batch=batch,
        seed=_text("--seed", seed),
        seed_source=source,
        operator=operator,
    )
    done.plan.save(plan_dir, protect=[data_dir])
    if not quiet:
        out.print(
            escape(
                _say(
                    "batch_drawn",
                    batch=batch,
                    visits=len(done.visits),
                    unfilled=len(done.unfilled),
                    commitment=done.commitment[:16],
                )
            )
        )
    if done.unfilled:
        raise typer.Exit(3)
