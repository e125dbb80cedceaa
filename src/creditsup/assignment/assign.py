"""The orchestrator: :func:`assign_inspectors` runs the stages in order.

prepare -> candidate arcs -> min-cost flow rounds -> CP-SAT for
multi-expertise teams -> repair in other months -> diagnosis -> Metropolis
chain (and the pair limit) -> outputs. Every step appends a JSON-able record
to the ledger. :func:`estimate_exposure` runs the whole assignment over many
seeds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditsup._random import derive_key
from creditsup.assignment import outputs
from creditsup.assignment._arrays import I32, I64
from creditsup.assignment.candidates import candidate_arcs
from creditsup.assignment.chain import randomise
from creditsup.assignment.cover import cpsat_candidates
from creditsup.assignment.diagnose import diagnose_bilingual
from creditsup.assignment.policy import AssignmentPolicy, AssignmentResult
from creditsup.assignment.prepare import prepare
from creditsup.assignment.problem import Problem, State, new_state, prefailed, tasks_of
from creditsup.assignment.repair import repair
from creditsup.assignment.rounds import (
    in_tasks,
    merge_arcs,
    release_failed,
    solve_round,
)
from creditsup.config import config_hash
from creditsup.labels import item_department_names
from creditsup.sampling.pipeline import Mapper, serial

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["assign_inspectors", "estimate_exposure"]

logger = logging.getLogger(__name__)


@dataclass
class _Run:
    """One assignment run: the problem, its state, the knobs and the ledger."""

    P: Problem
    S: State
    policy: AssignmentPolicy
    seed: str
    year: int
    ledger: list[dict[str, Any]]
    mapper: Mapper = serial

    @property
    def cost_key(self) -> str:
        return derive_key(self.seed, self.year, "assignment", "cost")

    def arcs(self, tasks: I64, *, prune: bool) -> tuple[I32, I32]:
        return candidate_arcs(
            self.P,
            tasks,
            self.S.month[tasks],
            prune=prune,
            k_cross=self.policy.cross_region_candidates if prune else 0,
            seed=self.seed,
            year=self.year,
            k_same=self.policy.same_region_candidates if prune else 0,
        )


def _flow_rounds(R: _Run, live: I64) -> tuple[I32, I32, I64]:
    """Min-cost flow per (department, month), then retries of the failed visits
    with every candidate and the capacity freed. Returns the arcs and the
    visits still failing."""
    P, S, policy = R.P, R.S, R.policy
    tasks = tasks_of(P, live)
    arc_t, arc_i = R.arcs(tasks, prune=policy.same_region_first)
    R.ledger.append(
        {
            "step": "candidates",
            "n_arcs": len(arc_t),
            "pruned": policy.same_region_first,
            "same_region_candidates": policy.same_region_candidates,
            "cross_region_candidates": policy.cross_region_candidates,
        }
    )
    solve_round(
        P, S, tasks, arc_t, arc_i, policy=policy, cost_key=R.cost_key, mapper=R.mapper
    )
    failed = release_failed(P, S, live)
    n_first_failed = len(failed)
    rounds = 1
    while len(failed) and rounds < 3:
        rounds += 1
        ft = tasks_of(P, failed)
        nt, ni = R.arcs(ft, prune=False)
        keep = ~in_tasks(arc_t, ft, len(P.t_visit))
        arc_t, arc_i = merge_arcs(arc_t, arc_i, keep, nt, ni)
        solve_round(
            P, S, ft, nt, ni, policy=policy, cost_key=R.cost_key, mapper=R.mapper
        )
        new_failed = release_failed(P, S, failed)
        progress = len(new_failed) < len(failed)
        failed = new_failed
        if not progress:
            break
    R.ledger.append(
        {
            "step": "flow",
            "solver": "ortools.SimpleMinCostFlow",
            "subproblems": S.n_groups,
            "rounds": rounds,
            "failed_after_first_round": n_first_failed,
            "failed": len(failed),
        }
    )
    return arc_t, arc_i, failed


def _cpsat_round(R: _Run, failed: I64, arc_t: I32, arc_i: I32) -> I64:
    """CP-SAT where the flow's coverage model (distinct cover slots) is too strict."""
    P, S, policy = R.P, R.S, R.policy
    cand = cpsat_candidates(P, S, failed, arc_t, arc_i)
    if not len(cand):
        return failed
    ct = tasks_of(P, cand)
    lo = in_tasks(arc_t, ct, len(P.t_visit))
    solve_round(
        P,
        S,
        ct,
        arc_t[lo],
        arc_i[lo],
        policy=policy,
        cost_key=R.cost_key,
        use_cpsat=True,
        seed=R.seed,
        year=R.year,
        mapper=R.mapper,
    )
    still = release_failed(P, S, cand)
    R.ledger.append(
        {
            "step": "cpsat",
            "visits": len(cand),
            "staffed": len(cand) - len(still),
            "models": S.n_cpsat,
            "status": dict(sorted(S.cpsat_status.items())),
            "num_workers": 1,
            "max_deterministic_time": policy.max_deterministic_time,
        }
    )
    return np.union1d(np.setdiff1d(failed, cand), still)


def assign_inspectors(
    visits: pd.DataFrame,
    dataset: Dataset,
    policy: AssignmentPolicy | None = None,
    *,
    year: int,
    seed: str,
    mapper: Mapper = serial,
) -> AssignmentResult:
    """Assign a random team of inspectors to every visit under the hard rules.

    Parameters
    ----------
    visits : pandas.DataFrame
        ``visit_id, uscc, tier, month, departments, items, trigger, joint``
        (``contract.md`` §3); ``departments`` and ``items`` are ``;`` lists.
        Items map to a department and an expertise through ``dataset.items``.
    dataset : Dataset
        The validated dataset (inspectors, conflicts, items, history,
        entities for the entity's region).
    policy : AssignmentPolicy, optional
        Team sizes, rotation, region preference, chain length, repair.
    year : int
        Plan year (part of every random stream's label).
    seed : str
        The seed string; all randomness derives from it.
    mapper : Mapper, optional
        Solves the (department, month) groups of each round, in order
        (:class:`~creditsup.sampling.pipeline.Mapper`: serial by default; a
        thread pool or :func:`~creditsup.distributed.dask_mapper` agree).

    Returns
    -------
    AssignmentResult
        Assignments, visits with ``status``, diagnostics (never raises for an
        infeasible visit: it is listed under ``unfilled`` with its reason),
        metrics and ledger records.

    Raises
    ------
    DataValidationError
        The visits table lacks a column, repeats a ``visit_id`` or has a
        month outside 1-12.

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.assignment import audit_assignment
    >>> from creditsup.schemas import Dataset
    >>> ds = Dataset(
    ...     entities=pd.DataFrame({"uscc": ["914403001922038216"], "region": ["140902"]}),
    ...     inspectors=pd.DataFrame({
    ...         "inspector_id": ["I1", "I2", "I3"], "department": "market",
    ...         "region": "140902", "expertise": "licensing", "monthly_capacity": 2,
    ...         "unavailable_months": "", "active": True}),
    ...     conflicts=pd.DataFrame(columns=["inspector_id", "uscc"]),
    ...     items=pd.DataFrame({"item_id": ["M01"], "department": ["market"],
    ...                         "expertise": ["licensing"]}),
    ...     history=pd.DataFrame(columns=["uscc", "date", "inspector_ids"]),
    ... )
    >>> visits = pd.DataFrame({
    ...     "visit_id": ["V1"], "uscc": ["914403001922038216"], "tier": ["B"],
    ...     "month": [3], "departments": ["market"], "items": ["M01"],
    ...     "trigger": ["random"], "joint": [False]})
    >>> res = assign_inspectors(visits, ds, year=2027, seed="demo")
    >>> len(res.assignments), res.visits["status"].tolist()
    (2, ['staffed'])
    >>> audit_assignment(res.assignments, res.visits, ds).empty
    True
    """
    policy = policy or AssignmentPolicy()
    P = prepare(visits, dataset, policy, year=year, seed=seed)
    R = _Run(P, new_state(P), policy, seed, year, [_inputs_record(P, policy)], mapper)
    arc_t, arc_i, failed = _flow_rounds(R, np.flatnonzero(~prefailed(P)))
    if len(failed):
        failed = _cpsat_round(R, failed, arc_t, arc_i)
    moved: list[dict[str, Any]] = []
    if policy.repair and len(failed):
        failed, moved, arc_t, arc_i = repair(
            P, R.S, failed, arc_t, arc_i, policy=policy, cost_key=R.cost_key,
            seed=seed, year=year, mapper=mapper,
        )  # fmt: skip
        R.ledger.append(
            {"step": "repair", "moved": moved, "still_unfilled": len(failed)}
        )
    pre = np.array(sorted(P.v_prefail), dtype=np.int64)
    unfilled, binding, detail = diagnose_bilingual(
        P,
        R.S,
        np.union1d(failed, pre),
        P.v_month,
        policy,
        names=item_department_names(dataset.items),
    )
    keep = R.S.staffed_v[P.t_visit][arc_t]
    R.S.arc_t, R.S.arc_i = arc_t[keep], arc_i[keep]
    del arc_t, arc_i, keep
    return _finish(R, (unfilled, binding), len(moved), detail)


def _finish(
    R: _Run,
    diagnostics: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    moved: int,
    detail: dict[str, list[dict[str, Any]]],
) -> AssignmentResult:
    """Randomise the staffed teams with the chain, then build the result."""
    P, S = R.P, R.S
    chain_stats = randomise(P, S, R.policy, seed=R.seed, year=R.year)
    R.ledger.append({"step": "metropolis", **chain_stats})
    assignments = outputs.assignments_frame(P, S)
    unfilled, binding = diagnostics
    R.ledger.append(outputs.ledger_result(S, assignments, len(unfilled)))
    logger.info(
        "assigned %d visits (%d unfilled), %d assignments",
        len(P.v_id),
        len(unfilled),
        len(assignments),
    )
    return AssignmentResult(
        assignments=assignments,
        visits=outputs.visits_frame(P, S, P.v_month.copy()),
        # saved as they are shown: each visit named once, in English and in
        # Chinese (reason_zh, group_zh), with stable department/month fields
        diagnostics={
            "unfilled": detail.get("unfilled", unfilled),
            "binding": detail.get("binding", binding),
        },
        metrics=outputs.metrics(P, S, assignments, chain_stats, moved),
        ledger=R.ledger,
        policy=R.policy,
    )


def _inputs_record(P: Problem, policy: AssignmentPolicy) -> dict[str, Any]:
    return {
        "step": "inputs",
        "n_visits": len(P.v_id),
        "n_tasks": len(P.t_visit),
        "n_inspectors": len(P.insp_id),
        "n_prefailed": len(P.v_prefail),
        "policy": policy.model_dump(mode="json"),
        "policy_hash": config_hash(policy),
    }


def estimate_exposure(
    visits: pd.DataFrame,
    dataset: Dataset,
    policy: AssignmentPolicy | None = None,
    *,
    year: int,
    seeds: Sequence[str],
) -> pd.DataFrame:
    """Monte Carlo P(inspector, entity) over keys: run the assignment per seed.

    Returns one row per (inspector_id, uscc) seen, with ``p`` the share of
    seeds in which the inspector visits the entity; ``p.max()`` is the
    audit's "maximum P(inspector, entity) over keys".
    """
    counts: dict[tuple[str, str], int] = {}
    vmap = (
        visits.assign(visit_id=visits["visit_id"].astype(str))
        .set_index("visit_id")["uscc"]
        .astype(str)
    )
    for s in seeds:
        res = assign_inspectors(visits, dataset, policy, year=year, seed=s)
        pairs = set(
            zip(
                res.assignments["inspector_id"],
                res.assignments["visit_id"].map(vmap),
                strict=True,
            )
        )
        for p in pairs:
            counts[p] = counts.get(p, 0) + 1
    n = max(len(seeds), 1)
    df = pd.DataFrame(
        [(i, u, c / n) for (i, u), c in counts.items()],
        columns=["inspector_id", "uscc", "p"],
    )
    return df.sort_values(
        ["p", "inspector_id", "uscc"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
