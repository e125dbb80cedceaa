"""Stage 8, outputs: the result tables and audit metrics of a finished state."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import numpy as np
import pandas as pd

from creditsup.assignment._arrays import I64, expand
from creditsup.assignment.problem import Problem, State
from creditsup.schemas import ASSIGNMENT_COLUMNS

__all__ = [
    "assignments_frame",
    "ledger_result",
    "metrics",
    "sha_frame",
    "visits_frame",
]


def sha_frame(df: pd.DataFrame) -> str:
    """SHA-256 of a frame's CSV text (for the ledger)."""
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return hashlib.sha256(buf.getvalue().encode("utf-8")).hexdigest()


def ledger_result(
    S: State, assignments: pd.DataFrame, n_unfilled: int
) -> dict[str, Any]:
    """The ledger's closing record: counts and the assignments' SHA-256."""
    return {
        "step": "result",
        "staffed": int(S.staffed_v.sum()),
        "unfilled": n_unfilled,
        "assignments": len(assignments),
        "assignments_sha256": sha_frame(assignments),
    }


def assignments_frame(P: Problem, S: State) -> pd.DataFrame:
    """``visit_id, inspector_id, department`` sorted by visit then inspector."""
    rows = S.team >= 0
    tt = np.repeat(np.arange(len(S.team)), rows.sum(axis=1))
    ii = S.team[rows]
    df = pd.DataFrame(
        {
            "visit_id": P.v_id[P.t_visit[tt]].astype(str),
            "inspector_id": P.insp_id[ii].astype(str),
            "department": np.asarray(P.dept_names, dtype=object)[P.t_dept[tt]].astype(
                str
            ),
        }
    )
    df = df.sort_values(["visit_id", "inspector_id"], kind="stable").reset_index(
        drop=True
    )
    for c in ASSIGNMENT_COLUMNS:
        df[c] = df[c].astype(str)
    return df


def visits_frame(P: Problem, S: State, orig_month: I64) -> pd.DataFrame:
    """The sorted visits with ``original_month``, the final ``month`` and ``status``."""
    vis_out = P.visits.copy()
    vis_out["original_month"] = orig_month
    first_t = P.visit_tasks[:, 0]
    cur_month = orig_month.copy()
    cur_month[first_t >= 0] = S.month[first_t[first_t >= 0]]
    vis_out["month"] = np.where(S.staffed_v, cur_month, orig_month).astype(np.int64)
    vis_out["status"] = np.where(S.staffed_v, "staffed", "unfilled")
    return vis_out


def _pair_counts(assignments: pd.DataFrame) -> tuple[I64, I64, I64, pd.Index]:
    """Pairs ``x < y`` of inspectors (by id) within visits and their counts.

    Sorted by (x, y), with ``x, y`` positions in the sorted inspector ids
    (returned last):
    what a self-merge on ``visit_id`` grouped by the pair gives, in arrays.
    """
    v, _ = pd.factorize(assignments["visit_id"])
    i, ids = pd.factorize(assignments["inspector_id"], sort=True)
    order = np.lexsort((i, v))
    v, i = v[order].astype(np.int64), i[order].astype(np.int64)
    end = np.searchsorted(v, v, side="right")
    r, j = expand(np.arange(len(v), dtype=np.int64) + 1, end - np.arange(len(v)) - 1)
    x, y = i[r], i[j]
    n = max(len(ids), 1)
    key, counts = np.unique((x * n + y)[x < y], return_counts=True)
    return key // n, key % n, counts.astype(np.int64), pd.Index(ids)


def _pair_metrics(assignments: pd.DataFrame) -> dict[str, Any]:
    """Pairs of inspectors within visits: how often they meet."""
    x, y, pc, ids = _pair_counts(assignments)
    top = np.argsort(-pc, kind="stable")[:5]
    return {
        "pairs": len(pc),
        "pair_max": int(pc.max()) if len(pc) else 0,
        "pairs_repeated": int((pc >= 2).sum()),
        "pair_top": [
            {"inspectors": [str(ids[x[k]]), str(ids[y[k]])], "visits": int(pc[k])}
            for k in top
        ],
    }


def _load_metrics(P: Problem, S: State) -> dict[str, Any]:
    """Load per active inspector against capacity."""
    act = P.insp_active
    if not act.any():
        return {
            "load_min": 0,
            "load_median": 0.0,
            "load_max": 0,
            "capacity_annual_median": 0.0,
            "utilisation_median": 0.0,
            "utilisation_max": 0.0,
        }
    annual = S.load.sum(axis=1)[act]
    avail_months = np.array(
        [
            sum(1 for m in range(1, 13) if not (int(u) >> m) & 1)
            for u in P.insp_unavail[act]
        ],
        dtype=np.int64,
    )
    annual_cap = P.insp_cap[act] * avail_months
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(annual_cap > 0, annual / np.maximum(annual_cap, 1), 0.0)
        mu = np.where(
            P.insp_cap[:, None] > 0,
            S.load[:, 1:] / np.maximum(P.insp_cap[:, None], 1),
            0.0,
        )[act]
    return {
        "load_min": int(annual.min()),
        "load_median": float(np.median(annual)),
        "load_max": int(annual.max()),
        "capacity_annual_median": float(np.median(annual_cap)),
        "utilisation_median": round(float(np.median(util)), 4),
        "utilisation_max": round(float(mu.max(initial=0.0)), 4),
    }


def metrics(
    P: Problem,
    S: State,
    assignments: pd.DataFrame,
    chain: dict[str, Any],
    moved: int,
) -> dict[str, Any]:
    """Audit metrics of the result (``AssignmentResult.metrics``)."""
    n_staffed = int(S.staffed_v.sum())
    out: dict[str, Any] = {
        "visits": len(P.v_id),
        "staffed": n_staffed,
        "unfilled": len(P.v_id) - n_staffed,
        "moved_by_repair": moved,
        "assignments": len(assignments),
    }
    staffed_t = np.flatnonzero(S.staffed_v[P.t_visit])
    if len(staffed_t):
        deg = np.bincount(S.arc_t, minlength=len(P.t_visit))[staffed_t]
        prior = P.t_size[staffed_t] / np.maximum(deg, 1)
        out["max_p_inspector_entity_prior"] = round(float(prior.max()), 6)
        out["median_candidates_per_task"] = float(np.median(deg))
    else:
        out["max_p_inspector_entity_prior"] = None
        out["median_candidates_per_task"] = None
    out["max_p_inspector_entity"] = None
    out.update(_pair_metrics(assignments))
    out.update(_load_metrics(P, S))
    rows = S.team >= 0
    if rows.any():
        tt = np.repeat(np.arange(len(S.team)), rows.sum(axis=1))
        cross = P.insp_region[S.team[rows]] != P.v_region[P.t_visit[tt]]
        out["cross_region_share"] = round(float(cross.mean()), 6)
        out["cross_region_slots"] = int(cross.sum())
    else:
        out["cross_region_share"] = 0.0
        out["cross_region_slots"] = 0
    sizes = assignments.groupby("visit_id").size()
    out["team_size_mean"] = round(float(sizes.mean()), 4) if len(sizes) else 0.0
    out["team_size_max"] = int(sizes.max()) if len(sizes) else 0
    out["metropolis"] = chain
    out["flow_subproblems"] = S.n_groups - S.n_cpsat
    out["cpsat_models"] = S.n_cpsat
    return out
