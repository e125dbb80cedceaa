"""Build a plan: tiers → coordinated draw → inspector assignment → ledger.

:func:`build_plan` runs the stages in order from one seed string; each stage
appends its records to the draw record (ledger). :func:`redraw_plan` replaces
one inspector after the draw (R12) and logs it, so that
:func:`~creditsup.plan.verify_plan` can replay it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import os
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from creditsup._checks import require_dataset, require_year
from creditsup.assignment import (
    AssignmentPolicy,
    AssignmentResult,
    assign_inspectors,
    redraw,
)
from creditsup.config import config_hash, parse_config
from creditsup.exceptions import ConfigError
from creditsup.io import csv_bytes
from creditsup.plan._ledger import (
    ALGORITHM_VERSION,
    PUBLIC_ALGORITHM,
    SeedSource,
    canonical,
    chain,
    commitment_of,
    sha256,
)
from creditsup.plan.bundle import InspectionPlan, _frame_for
from creditsup.plan.partitioned import Staged, stage_partitioned
from creditsup.policy import Policy
from creditsup.sampling import DrawResult, draw_partitioned, draw_visits
from creditsup.sampling.pipeline import Mapper, serial
from creditsup.sampling.result import ALGORITHM as SAMPLING_ALGORITHM
from creditsup.schemas import Dataset, load_dataset
from creditsup.tiers import TierResult, rate_entities

__all__ = ["ProgressFn", "build_plan", "redraw_plan"]

logger = logging.getLogger(__name__)

#: Called with the name of each stage as it starts.
ProgressFn = Callable[[str], None]
_Records = list[dict[str, Any]]


def _default_as_of(year: int) -> _dt.date:
    return _dt.date(year - 1, 12, 31)


def _versions() -> dict[str, str]:
    from creditsup import __version__

    out = {"creditsup": __version__}  # the code that ran, not the installed metadata
    for pkg in ("numpy", "pandas", "pyarrow", "ortools", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "unknown"
    return out


def _counts(accounting: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in accounting.to_dict(orient="records"):
        tier = str(row.get("tier"))
        out[tier] = {
            k: (int(v) if isinstance(v, int | np.integer) else v)
            for k, v in row.items()
            if k != "tier" and not (isinstance(v, float) and np.isnan(v))
        }
    return out


def parse_config_error(name: str, value: object) -> ConfigError:
    """The error for a bad top-level argument."""
    return ConfigError(
        f"The '{name}' must be a non-empty string. Got {value!r} instead."
    )


def _within_months(policy: Policy) -> AssignmentPolicy:
    """The assignment policy, with repair kept inside the allowed months (R16)."""
    allowed = set(policy.sampling.months)
    months = tuple(m for m in policy.assignment.repair_months if m in allowed)
    if months == tuple(policy.assignment.repair_months):
        return policy.assignment
    return policy.assignment.model_copy(update={"repair_months": months})


def _tier_stage(
    dataset: Dataset,
    policy: Policy,
    as_of: _dt.date,
    records: _Records,
    rated: TierResult | None = None,
) -> pd.DataFrame:
    if rated is None:
        rated = rate_entities(
            dataset, as_of=as_of, scorecard=policy.scorecard, tier_policy=policy.tiers
        )
    # pandas copy-on-write: a selection shares the data until either side changes
    scores = rated.table[["uscc", "score", "tier", "tier_reason", "reasons"]]
    records.append(
        {
            "stage": "tiers",
            "as_of": str(as_of),
            "scores_sha256": sha256(csv_bytes(_frame_for("scores.csv", scores))),
            "tier_counts": {
                str(k): int(n)
                for k, n in scores["tier"].value_counts().sort_index().items()
            },
        }
    )
    return scores


def _outputs_record(visits: pd.DataFrame, assigned: AssignmentResult) -> dict[str, Any]:
    visits_bytes = csv_bytes(_frame_for("visits.csv", visits))
    assign_bytes = csv_bytes(_frame_for("assignments.csv", assigned.assignments))
    return {
        "stage": "outputs",
        "visits_sha256": sha256(visits_bytes),
        "assignments_sha256": sha256(assign_bytes),
        "n_visits": len(visits),
        "n_assignments": len(assigned.assignments),
        "n_unfilled": len(assigned.diagnostics.get("unfilled", [])),
    }


def _assemble(
    dataset: Dataset,
    scores: pd.DataFrame,
    draw: DrawResult,
    assigned: AssignmentResult,
    visits: pd.DataFrame,
    provenance: dict[str, Any],
    ledger: _Records,
) -> InspectionPlan:
    return InspectionPlan(
        visits=visits.reset_index(drop=True),
        assignments=assigned.assignments.reset_index(drop=True),
        exclusions=draw.exclusions.reset_index(drop=True),
        scores=scores.reset_index(drop=True),
        accounting=draw.accounting.reset_index(drop=True),
        tasks=draw.tasks.reset_index(drop=True),
        diagnostics={
            "unfilled": list(assigned.diagnostics.get("unfilled", [])),
            "binding": list(assigned.diagnostics.get("binding", [])),
            **policy_diagnostics(draw),
        },
        provenance=provenance,
        ledger=ledger,
        items=dataset.items.copy(deep=False),  # copy-on-write: no data copied
        entity_names=dataset.entities[["uscc", "name"]],
        capacity=draw.months.reset_index(drop=True),
        strata=draw.strata.reset_index(drop=True),
        cap_removals=draw.cap_removals.reset_index(drop=True),
        floors=draw.floors.reset_index(drop=True),
        capacity_needs=draw.capacity_needs.reset_index(drop=True),
        assumed_tiers=draw.assumed_tiers.reset_index(drop=True),
    )


def _plain(value: Any) -> Any:
    """A JSON-able scalar (numpy numbers to Python; NaN to None)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else round(float(value), 6)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def policy_diagnostics(draw: DrawResult) -> dict[str, Any]:
    """What the plan cannot do of what the policy asks, and how it was met.

    ``capacity``: every (department, month) whose inspector-slots fall short
    of the draw's needs (``needed``, ``available``, ``shortfall``,
    ``extra_inspectors``); a plan with any is infeasible (exit 3).
    ``budget``: the policy's budget mode and the factor applied to the
    discretionary ratios (``scale``), or the factor that would fit the roster
    (``fit_scale``). ``floors``: each legal floor (R08, R23), required,
    planned and realised, and its status. ``waivers``: the floors the policy
    waives, with its reason.
    """
    need = draw.capacity_needs
    short = need[need["shortfall"] > 0] if "shortfall" in need.columns else need
    cols = ["department", "month", "needed", "available", "shortfall"]
    cols += ["extra_inspectors"] if "extra_inspectors" in short.columns else []
    return {
        "capacity": [
            {k: _plain(v) for k, v in rec.items()}
            for rec in short[cols].to_dict(orient="records")
        ],
        "budget": {k: _plain(v) for k, v in draw.budget.items()},
        "floors": [
            {k: _plain(v) for k, v in rec.items()}
            for rec in draw.floors.to_dict(orient="records")
        ],
        "waivers": [{k: _plain(v) for k, v in w.items()} for w in draw.waivers],
    }


def _stage(
    data: Dataset | str | os.PathLike[str],
    policy: Policy,
    as_of: _dt.date,
    engine: str,
    partitions: int | None,
) -> tuple[Dataset, Staged | None]:
    """The validated dataset, and with the Dask engine its tiered partitions."""
    if engine not in ("local", "dask"):
        raise ConfigError(
            f"The 'engine' must be 'local' or 'dask'. Got {engine!r} instead."
        )
    if engine == "local":
        if isinstance(data, str | os.PathLike):
            return load_dataset(Path(data)), None
        require_dataset(data)
        return data, None
    if not isinstance(data, str | os.PathLike):
        raise TypeError(
            "The Dask engine reads a dataset folder: pass its path as 'dataset'. "
            f"Got {type(data).__name__} instead."
        )
    staged = stage_partitioned(
        Path(data),
        scorecard=policy.scorecard,
        tier_policy=policy.tiers,
        as_of=as_of,
        partitions=partitions,
    )
    return staged.dataset, staged


def build_plan(
    dataset: Dataset | str | os.PathLike[str],
    policy: Policy | None = None,
    *,
    year: int,
    seed: str,
    operator: str = "",
    created_at: str | None = None,
    progress: ProgressFn | None = None,
    seed_source: SeedSource | None = None,
    engine: Literal["local", "dask"] = "local",
    partitions: int | None = None,
) -> InspectionPlan:
    """Build the annual plan: tiers, the coordinated draw and the assignment.

    Parameters
    ----------
    dataset : Dataset or path-like
        The validated inputs (:func:`creditsup.schemas.load_dataset`), or a
        dataset folder (read and validated here; with ``engine="dask"``, a
        folder is required).
    policy : Policy, optional
        The bureau's policy; the default policy when omitted.
    year : int
        The plan year.
    seed : str
        Any string, e.g. a published lottery result. Every random stream of
        every stage derives from it; the same inputs and seed give
        byte-identical ``visits.csv`` and ``assignments.csv``.
    operator : str
        Who runs the draw (recorded in the ledger, R10).
    created_at : str, optional
        ISO timestamp to record (default: now, UTC). Verification replays it.
    progress : callable, optional
        Called with the name of each stage as it starts.
    seed_source : SeedSource, optional
        Where the seed came from, as declared in the commitment before the
        draw (e.g. a lottery draw). Recorded in the commitment, the provenance
        and the ledger; a seed that does not have the declared form is refused.
    engine : {'local', 'dask'}
        ``'dask'`` validates, scores and draws the folder partition by
        partition as Dask tasks on the active scheduler and solves the
        assignment's (department, month) problems as tasks
        (:mod:`creditsup.plan.partitioned`); the plan is byte-identical to
        the local engine's.
    partitions : int, optional
        The number of USCC partitions of the Dask engine (default: the
        number of part files of ``entities``).

    Returns
    -------
    InspectionPlan
    """
    year = require_year(year)
    if policy is not None and not isinstance(policy, Policy):
        raise TypeError(
            "The 'policy' must be a creditsup Policy (creditsup.load_policy(path)). "
            f"Got {type(policy).__name__} instead."
        )
    policy = policy or Policy()
    if not isinstance(seed, str) or not seed:
        raise parse_config_error("seed", seed)
    if seed_source is not None and (problem := seed_source.check(seed)):
        raise ConfigError(f"The 'seed' cannot be used: {problem}.")
    step = progress or (lambda _name: None)
    created = created_at or _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    as_of = policy.as_of or _default_as_of(year)
    dataset, staged = _stage(dataset, policy, as_of, engine, partitions)
    hashes = dataset.table_hashes()  # once: the commitment and the ledger share them
    commitment = commitment_of(hashes, policy, year=year, seed_source=seed_source)
    inputs: dict[str, Any] = {
        "algorithm": ALGORITHM_VERSION,
        "year": year,
        "seed": seed,
        "seed_commitment": commitment,
        "tables": hashes,
        "policy_hash": config_hash(policy),
        "operator": operator,
        "created_at": created,
    }
    if seed_source is not None:
        inputs["seed_source"] = seed_source.as_json()
    records: _Records = [{"stage": "inputs", **inputs}]
    step("tiers")
    rated = None if staged is None else staged.rated
    scores = _tier_stage(dataset, policy, as_of, records, rated)
    step("draw")
    tiers = scores[["uscc", "tier"]]
    mapper: Mapper = serial
    if staged is None:
        draw = draw_visits(dataset, tiers, policy.sampling, year=year, seed=seed)
    else:
        from creditsup.distributed import dask_mapper

        mapper = dask_mapper
        draw = draw_partitioned(
            dataset,
            tiers,
            policy.sampling,
            year=year,
            seed=seed,
            partitions=staged.entity_parts,
            mapper=dask_mapper,
        )
    records += [{"stage": "draw", **rec} for rec in draw.ledger]
    step("assignment")
    assigned = assign_inspectors(
        draw.visits,
        dataset,
        _within_months(policy),
        year=year,
        seed=seed,
        mapper=mapper,  # the Dask engine solves the (department, month) groups as tasks
    )
    records += [{"stage": "assignment", **rec} for rec in assigned.ledger]
    visits = assigned.visits
    if "status" not in visits.columns:  # pragma: no cover - defensive
        visits = visits.assign(status="staffed")
    step("ledger")
    records.append(_outputs_record(visits, assigned))
    ledger = chain(records)
    provenance: dict[str, Any] = {
        "creditsup": _versions()["creditsup"],
        "versions": _versions(),
        "algorithm": ALGORITHM_VERSION,
        "algorithms": {
            "draw": ALGORITHM_VERSION,
            "sampling": SAMPLING_ALGORITHM,
            "public": PUBLIC_ALGORITHM,
        },
        "year": year,
        "seed": seed,
        "seed_commitment": commitment,
        "inputs": inputs["tables"],
        "policy": policy.model_dump(mode="json"),
        "policy_hash": inputs["policy_hash"],
        "as_of": str(as_of),
        "operator": operator,
        "created_at": created,
        "counts": _counts(draw.accounting.reset_index(drop=True)),
        "ledger_head": ledger[-1]["hash"],
    }
    if seed_source is not None:
        provenance["seed_source"] = seed_source.as_json()
    return _assemble(dataset, scores, draw, assigned, visits, provenance, ledger)


def redraw_plan(
    plan: InspectionPlan,
    dataset: Dataset,
    *,
    visit_id: str,
    inspector_id: str,
    reason: str,
) -> InspectionPlan:
    """Replace one inspector after the draw (R12) and log it in the ledger.

    The replacement is drawn at random under the same hard rules, from a
    stream derived from the plan's seed and the re-draw's sequence number, so
    :func:`verify_plan` can replay it. When nobody qualifies, the visit becomes
    unfilled and is listed in the diagnostics (never dropped).
    """
    policy = parse_config(Policy, plan.provenance["policy"])
    n = len(plan.redraws)
    seed = f"{plan.provenance['seed']}|redraw|{n}"
    current = AssignmentResult.from_tables(
        visits=plan.visits,
        assignments=plan.assignments,
        diagnostics=plan.diagnostics,
        policy=policy.assignment,
    )
    new = redraw(
        current,
        dataset,
        visit_id=visit_id,
        inspector_id=inspector_id,
        reason=reason,
        seed=seed,
        policy=policy.assignment,
    )
    last = new.redraws.iloc[-1]
    row = {
        "visit_id": visit_id,
        "old_inspector_id": inspector_id,
        "new_inspector_id": ""
        if pd.isna(last.get("new_inspector_id"))
        else str(last["new_inspector_id"]),
        "reason": reason,
    }
    body = {
        "stage": "redraw",
        "n": n,
        **row,
        "outcome": str(last.get("outcome", "")),
        "seed_label": seed,
        "seq": plan.ledger[-1]["seq"] + 1,
        "prev_hash": plan.ledger[-1]["hash"],
    }
    record = {**body, "hash": sha256(canonical(body))}
    return dataclasses.replace(
        plan,
        visits=new.visits.reset_index(drop=True),
        assignments=new.assignments.reset_index(drop=True),
        diagnostics={
            **plan.diagnostics,
            "unfilled": list(new.diagnostics.get("unfilled", [])),
            "binding": list(new.diagnostics.get("binding", [])),
        },
        provenance={**plan.provenance, "ledger_head": record["hash"]},
        ledger=[*plan.ledger, record],
        redraws=pd.concat([plan.redraws, pd.DataFrame([row])], ignore_index=True),
    )
