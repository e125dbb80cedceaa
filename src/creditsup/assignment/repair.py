"""Stage 5, repair: move a visit that cannot be staffed to another month.

Each still-failing visit tries the months of ``repair_months`` nearest first
(earlier on ties), with every candidate of its department in that month and
the capacity left there. A visit that fails everywhere goes back to its
original month and is reported unfilled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from creditsup.assignment._arrays import I32, I64
from creditsup.assignment.candidates import candidate_arcs
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.problem import Problem, State, tasks_of
from creditsup.assignment.rounds import (
    in_tasks,
    merge_arcs,
    release_failed,
    solve_round,
)
from creditsup.sampling.pipeline import Mapper, serial

__all__ = ["repair"]


def _month_for_tasks(P: Problem, vis: I64, months: I64, tasks: I64) -> I64:
    lookup = np.zeros(len(P.v_id), dtype=np.int64)
    lookup[vis] = months
    return lookup[P.t_visit[tasks]]


def _alternatives(P: Problem, failed: I64, months: I64) -> tuple[I64, int]:
    """Per failed visit, the months to try (nearest first); how many rounds."""
    orig = P.v_month[failed]
    dist = np.abs(months[None, :] - orig[:, None]) * 2 + (
        months[None, :] > orig[:, None]
    )
    dist = np.where(months[None, :] == orig[:, None], 10**6, dist)
    alt = months[np.argsort(dist, axis=1, kind="stable")]
    n_alt = int((months[None, :] != orig[:, None]).sum(axis=1).max(initial=0))
    return alt, n_alt


def repair(
    P: Problem,
    S: State,
    failed: I64,
    arc_t: I32,
    arc_i: I32,
    *,
    policy: AssignmentPolicy,
    cost_key: str,
    seed: str,
    year: int,
    mapper: Mapper = serial,
) -> tuple[I64, list[dict[str, Any]], I32, I32]:
    """Try the failed visits in other months.

    Returns the visits still unfilled, the moves made (``visit_id, from,
    to``, by visit), and the candidate arcs with those of moved visits
    replaced. ``mapper`` runs the groups of each round (:func:`.solve_round`).
    """
    months = np.array(policy.repair_months, dtype=np.int64)
    moved: list[dict[str, Any]] = []
    orig = P.v_month[failed]
    alt, n_alt = _alternatives(P, failed, months)
    remaining = failed.copy()
    idx_of = {int(v): k for k, v in enumerate(failed)}
    for r in range(n_alt):
        if len(remaining) == 0:
            break
        rows = np.array([idx_of[int(v)] for v in remaining], dtype=np.int64)
        new_m = alt[rows, r]
        ok_m = new_m != orig[rows]
        try_v = remaining[ok_m]
        if len(try_v) == 0:
            continue
        tt = tasks_of(P, try_v)
        S.month[tt] = _month_for_tasks(P, try_v, new_m[ok_m], tt)
        nt, ni = candidate_arcs(
            P, tt, S.month[tt], prune=False, k_cross=0, seed=seed, year=year
        )
        solve_round(P, S, tt, nt, ni, policy=policy, cost_key=cost_key, mapper=mapper)
        done = np.setdiff1d(try_v, release_failed(P, S, try_v))
        if len(done):
            dt = tasks_of(P, done)
            new = in_tasks(nt, dt, len(P.t_visit))
            keep = ~in_tasks(arc_t, dt, len(P.t_visit))
            arc_t, arc_i = merge_arcs(arc_t, arc_i, keep, nt[new], ni[new])
            moved += [
                {
                    "visit_id": str(P.v_id[int(v)]),
                    "from": int(P.v_month[int(v)]),
                    "to": int(S.month[P.visit_tasks[int(v), 0]]),
                }
                for v in done
            ]
        remaining = np.setdiff1d(remaining, done)
    # failed visits go back to their original month
    ft = tasks_of(P, remaining)
    S.month[ft] = P.t_month[ft]
    moved.sort(key=lambda d: d["visit_id"])
    return remaining, moved, arc_t, arc_i
