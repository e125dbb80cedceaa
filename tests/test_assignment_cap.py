"""The cap on same-region candidate arcs (``same_region_candidates``, issue #14).

Per task, the pruned arcs keep a uniformly random K-subset of the eligible
inspectors of the entity's region: the K of smallest keyed rank. Checked here:
the cap binds and equals the brute-force "K smallest ranks among every
eligible inspector" (also when few of the tested prefix are eligible); a task
with at most K eligible inspectors keeps them all; the result does not depend
on row order; a task the capped arcs cannot staff is staffed by the fallback
round; and, statistically, every eligible inspector is equally likely to be
on a task's team (with a power check against a biased subset).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from creditsup import uscc
from creditsup._random import derive_key
from creditsup.assignment import AssignmentPolicy, assign_inspectors, audit_assignment
from creditsup.assignment import candidates as cand_mod
from creditsup.assignment.candidates import (
    candidate_arcs,
    cost_hashes,
    same_region_ranks,
)
from creditsup.assignment.prepare import prepare
from creditsup.assignment.problem import tasks_of
from creditsup.schemas import Dataset, validate_dataset

YEAR = 2027
SEED = "cap test"
REGION = "140902"
ALPHA = 1e-3


def district(
    *,
    depts: int = 1,
    inspectors: int = 40,
    b_experts: int = 5,
    cap: int = 20,
    visits: int = 30,
    month: int | None = None,
    conflicts: int = 0,
) -> tuple[pd.DataFrame, Dataset]:
    """``depts`` departments of ``inspectors`` same-region inspectors each.

    Every inspector holds expertise ``a``; the first ``b_experts`` also hold
    ``b``. Every third visit needs ``b`` (few eligible), the others ``a``.
    ``conflicts`` random (inspector, entity) conflicts per department.
    """
    rng = np.random.default_rng(3)
    ids = uscc.generate(depts * visits, rng=np.random.default_rng(1))
    ins, items, ents, vis, conf = [], [], [], [], []
    for c in range(depts):
        d = f"d{c:03d}"
        for k in range(inspectors):
            exp = f"{d}-a;{d}-b" if k < b_experts else f"{d}-a"
            ins.append(
                {
                    "inspector_id": f"{d}-I{k:02d}",
                    "name": f"I{k:02d}",
                    "department": d,
                    "region": REGION,
                    "expertise": exp,
                    "monthly_capacity": str(cap),
                }
            )
        for it in ("a", "b"):
            items.append(
                {
                    "item_id": f"{d}-{it}",
                    "department": d,
                    "name": it,
                    "legal_basis": "law",
                    "kind": "general",
                    "expertise": f"{d}-{it}",
                }
            )
        for j in range(visits):
            u = ids[c * visits + j]
            ents.append(
                {
                    "uscc": u,
                    "name": u,
                    "entity_type": "enterprise",
                    "industry": "F5211",
                    "region": REGION,
                    "established": "2015-01-01",
                    "status": "active",
                }
            )
            vis.append(
                {
                    "visit_id": f"{d}-V{j:03d}",
                    "uscc": u,
                    "tier": "B",
                    "month": month or 1 + j % 12,
                    "departments": d,
                    "items": f"{d}-b" if j % 3 == 0 else f"{d}-a",
                    "trigger": "random",
                    "joint": False,
                }
            )
        for _ in range(conflicts):
            k, j = rng.integers(inspectors), rng.integers(visits)
            conf.append({"inspector_id": f"{d}-I{k:02d}", "uscc": ids[c * visits + j]})
    ds = validate_dataset(
        {
            "entities": pd.DataFrame(ents),
            "inspectors": pd.DataFrame(ins),
            "items": pd.DataFrame(items),
            "conflicts": pd.DataFrame(
                conf, columns=["inspector_id", "uscc"]
            ).drop_duplicates(),
        }
    )
    return pd.DataFrame(vis), ds


def arcs(
    visits: pd.DataFrame, ds: Dataset, k_same: int
) -> tuple[Any, np.ndarray, np.ndarray]:
    P = prepare(visits, ds, AssignmentPolicy(), year=YEAR, seed=SEED)
    tasks = tasks_of(P, np.arange(len(P.v_id)))
    a_t, a_i = candidate_arcs(
        P, tasks, P.t_month[tasks], prune=True, k_cross=0, seed=SEED, year=YEAR,
        k_same=k_same,
    )  # fmt: skip
    return P, a_t.astype(np.int64), a_i.astype(np.int64)


@pytest.mark.parametrize("k", [1, 4, 8, 30])
def test_cap_keeps_the_k_smallest_ranks_of_every_eligible(k: int) -> None:
    visits, ds = district(conflicts=60)
    P, full_t, full_i = arcs(visits, ds, 0)
    _, cap_t, cap_i = arcs(visits, ds, k)
    key = derive_key(SEED, YEAR, "assignment", "same-region-rank")
    rank = same_region_ranks(P, full_t, full_i, cost_hashes(P, key))
    order = np.lexsort((rank, full_t))
    first = np.searchsorted(full_t[order], full_t[order])
    top = order[np.arange(len(order)) - first < k]
    want = sorted(zip(full_t[top].tolist(), full_i[top].tolist(), strict=True))
    assert sorted(zip(cap_t.tolist(), cap_i.tolist(), strict=True)) == want
    per_task = np.bincount(cap_t, minlength=len(P.t_visit))
    eligible = np.bincount(full_t, minlength=len(P.t_visit))
    assert (per_task == np.minimum(eligible, k)).all()
    if k < 30:
        assert (per_task < eligible).any()  # the cap binds
    # the 'b' visits: 5 eligible of 40, found past the tested prefix of ranks
    b_tasks = np.flatnonzero(eligible <= 5)
    assert (
        len(b_tasks) and (per_task[b_tasks] == np.minimum(eligible[b_tasks], k)).all()
    )


def test_few_eligible_inspectors_keep_every_arc() -> None:
    # 8 inspectors per region: K = 8 or more changes nothing, arcs included
    visits, ds = district(inspectors=8, b_experts=3, conflicts=10)
    _, full_t, full_i = arcs(visits, ds, 0)
    for k in (8, 9, 32):
        _, t, i = arcs(visits, ds, k)
        assert np.array_equal(t, full_t) and np.array_equal(i, full_i)
    base = dict(same_region_candidates=0, cross_region_candidates=0)
    a = assign_inspectors(visits, ds, AssignmentPolicy(**base), year=YEAR, seed=SEED)
    base["same_region_candidates"] = 8
    b = assign_inspectors(visits, ds, AssignmentPolicy(**base), year=YEAR, seed=SEED)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)


def test_cap_is_deterministic_and_independent_of_row_order() -> None:
    visits, ds = district(depts=3, conflicts=30)
    policy = AssignmentPolicy(same_region_candidates=4)
    a = assign_inspectors(visits, ds, policy, year=YEAR, seed=SEED)
    assert a.is_feasible
    assert a.metrics["median_candidates_per_task"] == 4 + 10 * 0  # one region
    rng = np.random.default_rng(9)
    shuffled = Dataset(
        **{
            name: df.iloc[rng.permutation(len(df))].reset_index(drop=True)
            for name, df in ds.tables().items()
        }
    )
    v2 = visits.iloc[rng.permutation(len(visits))].reset_index(drop=True)
    b = assign_inspectors(v2, shuffled, policy, year=YEAR, seed=SEED)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    c = assign_inspectors(visits, ds, policy, year=YEAR, seed=SEED + "!")
    assert not a.assignments.equals(c.assignments)  # the seed moves the subsets


def test_a_task_the_capped_arcs_cannot_staff_is_retried_with_every_arc() -> None:
    # 6 inspectors of capacity 1, 3 visits in March, teams of 2: only disjoint
    # teams work, and three random 2-subsets are rarely disjoint
    visits, ds = district(inspectors=6, b_experts=6, cap=1, visits=3, month=3)
    capped = AssignmentPolicy(
        same_region_candidates=2, cross_region_candidates=0, max_team=2
    )
    failed = []
    for s in range(10):
        res = assign_inspectors(visits, ds, capped, year=YEAR, seed=f"fallback {s}")
        flow = next(r for r in res.ledger if r["step"] == "flow")
        failed.append(flow["failed_after_first_round"])
        assert res.is_feasible, res.diagnostics
        assert (res.visits["month"] == 3).all()  # staffed in its month, no repair
        assert audit_assignment(res.assignments, res.visits, ds).empty
    assert sum(f > 0 for f in failed) >= 5  # the fallback round did the work
    full = capped.model_copy(update={"same_region_candidates": 0})
    res = assign_inspectors(visits, ds, full, year=YEAR, seed="fallback 0")
    assert (
        next(r for r in res.ledger if r["step"] == "flow")["failed_after_first_round"]
        == 0
    )


# ------------------------------------------------------------ the law under the cap
COPIES = 600
N_INSP = 12
K = 3


@pytest.fixture(scope="module")
def one_visit_departments() -> tuple[pd.DataFrame, Dataset]:
    return district(
        depts=COPIES, inspectors=N_INSP, b_experts=N_INSP, visits=1, month=3
    )


def team_counts(
    instance: tuple[pd.DataFrame, Dataset], seeds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per inspector number and per pair of numbers: teams they are on."""
    visits, ds = instance
    policy = AssignmentPolicy(same_region_candidates=K, max_team=2)
    per_insp = np.zeros(N_INSP, dtype=np.int64)
    pairs = {p: 0 for p in itertools.combinations(range(N_INSP), 2)}
    for s in range(seeds):
        res = assign_inspectors(visits, ds, policy, year=YEAR, seed=f"law {s}")
        assert res.is_feasible
        num = res.assignments["inspector_id"].str[-2:].astype(int)
        per_insp += np.bincount(num, minlength=N_INSP)
        for team in num.groupby(res.assignments["visit_id"]).agg(tuple):
            pairs[tuple(sorted(team))] += 1
    return per_insp, np.array(list(pairs.values()))


def test_under_the_cap_every_eligible_inspector_is_equally_likely(
    one_visit_departments: tuple[pd.DataFrame, Dataset],
) -> None:
    per_insp, per_pair = team_counts(one_visit_departments, seeds=2)
    assert per_insp.sum() == 2 * 2 * COPIES
    p = float(stats.chisquare(per_insp).pvalue)
    assert p > ALPHA, f"chi-square p={p:.2e}: inspectors not equally likely"
    # the team is a uniform pair: K-subset uniform, then the chain uniform in it
    p = float(stats.chisquare(per_pair).pvalue)
    assert p > ALPHA, f"chi-square p={p:.2e}: teams not uniform"


def test_power_a_biased_subset_is_rejected(
    one_visit_departments: tuple[pd.DataFrame, Dataset],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ranks by inspector number: the cap keeps the same 3 inspectors always
    def biased(P: Any, tasks: Any, inspectors: Any, hashes: Any) -> Any:
        return inspectors.astype(np.uint64)

    monkeypatch.setattr(cand_mod, "same_region_ranks", biased)
    per_insp, per_pair = team_counts(one_visit_departments, seeds=1)
    assert float(stats.chisquare(per_insp).pvalue) < ALPHA
    assert float(stats.chisquare(per_pair).pvalue) < ALPHA
