"""Verbs of evaluation and import: ``import-chicago``, ``backtest``, ``fit``,
``import-inspections``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from creditsup._cli._common import (
    AsOf,
    DataDir,
    OutcomeOpt,
    PolicyOpt,
    Quiet,
    _join,
    _lang,
    _load,
    _policy,
    _print_figures,
    _say,
    _table,
    app,
    out,
)

logger = logging.getLogger(__name__)


@app.command("import-chicago")
def import_chicago(
    inspections: Annotated[Path, typer.Argument()],
    licenses: Annotated[Path, typer.Argument()],
    out_dir: Annotated[Path, typer.Option("--out")],
    quiet: Quiet = False,
) -> None:
    """Convert Chicago's public food-inspection data into a dataset folder."""
    from creditsup.chicago import import_chicago_to
    from creditsup.outputs import check_output

    check_output(out_dir, kinds=("dataset",), protect=[inspections, licenses])
    path = import_chicago_to(inspections, licenses, out_dir)
    if not quiet:
        out.print(escape(_say("chicago_done", path=path)))


@app.command()
def backtest(
    data_dir: DataDir,
    as_of: AsOf,
    out_dir: Annotated[Path, typer.Option("--out")],
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, max=3660)] = 365,
    policy_file: PolicyOpt = None,
    seeds: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    budget: Annotated[float | None, typer.Option()] = None,
    no_calibrate: Annotated[bool, typer.Option("--no-calibrate")] = False,
    fit: Annotated[
        bool,
        typer.Option("--fit"),
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
    result.save(out_dir, lang=_lang())
    _write_beside(out_dir, extra)
    mark_folder(out_dir, "backtest")
    if not quiet:
        out.print(escape(result.to_markdown(_lang())))
        out.print(escape(_say("written_to", path=out_dir)))


def _write_beside(folder: Path, files: dict[str, bytes]) -> None:
    from creditsup.outputs import write_atomic

    for name, data in files.items():
        write_atomic(folder / name, data)


_FIT_HEAD = b"# creditsup fitted scorecard"
_FIT_REPORT_HEAD = b"# Fitted scorecard as of"


@app.command("fit")
def fit_command(
    data_dir: DataDir,
    as_of: Annotated[str, typer.Option("--as-of")],
    out_file: Annotated[Path, typer.Option("--out")],
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, max=3660)] = 365,
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy"),
    ] = None,
    outcome: OutcomeOpt = None,
    holdout_days: Annotated[
        int,
        typer.Option("--holdout-days", min=0, max=3660),
    ] = 91,
    report_file: Annotated[Path | None, typer.Option("--report")] = None,
    folds: Annotated[
        int,
        typer.Option("--folds", min=0, max=20),
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
        from creditsup.labels import value_label

        _print_figures(result.summary(), lambda k: value_label("fit", k))
        out.print(escape(_say("scorecard_at", path=out_file)))


@app.command("import-inspections")
def import_inspections(
    source: Annotated[Path, typer.Argument()],
    mapping_file: Annotated[Path, typer.Option("--map")],
    out_dir: Annotated[Path, typer.Option("--out")],
    quiet: Quiet = False,
) -> None:
    """Convert a bureau's inspection export into a dataset folder."""
    from creditsup.importer import import_inspections_to, load_mapping
    from creditsup.outputs import check_output

    check_output(out_dir, kinds=("dataset",), protect=[source, mapping_file])
    mapping = load_mapping(mapping_file)
    path, counts = import_inspections_to(source, mapping, out_dir)
    if not quiet:
        rows = _join(f"{_table(k)} {v:,}" for k, v in counts.items())
        out.print(escape(_say("imported", path=path, rows=rows)))
