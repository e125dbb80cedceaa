"""The lean, parallel assignment gives exactly the serial one's result.

* the chain's candidate order (a stable partition by region class, no sort)
  and its per-task binary search equal the sorted-key reference;
* the int32 arcs built chunk by chunk equal one global build;
* a mapper that runs the (department, month) groups in reverse order, in a
  thread pool or on Dask gives the same assignments, visits and ledger.
"""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest

from creditsup.assignment import assign_inspectors
from creditsup.assignment import candidates as cand_mod
from creditsup.assignment import chain as chain_mod
from creditsup.assignment.candidates import candidate_arcs
from creditsup.assignment.chain import ChainInput
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.prepare import prepare
from creditsup.assignment.rounds import GroupTask, merge_arcs, solve_group
from creditsup.datasets import synthetic_district
from creditsup.policy import Policy
from creditsup.sampling import draw_visits
from creditsup.tiers import rate_entities

YEAR = 2026


def _chain_input(rng: np.random.Generator, n_t: int, n_i: int) -> ChainInput:
    deg = rng.integers(0, 12, n_t)
    insp = [np.sort(rng.choice(n_i, d, replace=False)) for d in deg]
    cand = np.concatenate([np.zeros(0, dtype=np.int64), *insp]).astype(np.int32)
    ptr = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
    return ChainInput(
        size=np.ones(n_t, dtype=np.int64),
        req=np.zeros(n_t, dtype=np.uint64),
        month=rng.integers(1, 13, n_t),
        group=np.zeros(n_t, dtype=np.int64),
        visit=np.arange(n_t, dtype=np.int64),
        task_region=rng.integers(0, 3, n_t),
        cand_ptr=ptr,
        cand_insp=cand,
        insp_mask=np.ones(n_i, dtype=np.uint64),
        insp_region=rng.integers(0, 3, n_i),
        capacity=np.ones(n_i, dtype=np.int64),
        same_region=True,
        pair_limit=None,
        visit_tasks=np.arange(n_t, dtype=np.int64)[:, None],
    )


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_chain_candidates_match_the_sorted_reference(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chain_mod, "_CHUNK_ARCS", chunk)
    rng = np.random.default_rng(5)
    n_t, n_i = 300, 40
    ci = _chain_input(rng, n_t, n_i)
    C = chain_mod._candidates(ci, n_t)
    # the reference: a lexsort by (task, class, inspector) and sorted keys
    task = np.repeat(np.arange(n_t), np.diff(ci.cand_ptr))
    cls = (ci.insp_region[ci.cand_insp] != ci.task_region[task]).astype(np.int64)
    order = np.lexsort((ci.cand_insp, cls, task))
    assert C.insp.dtype == np.int32
    np.testing.assert_array_equal(C.insp, ci.cand_insp[order])
    np.testing.assert_array_equal(C.cls, cls[order])
    np.testing.assert_array_equal(C.n_cls0, np.bincount(task[cls == 0], minlength=n_t))
    key = (task[order] * 2 + cls[order]) * n_i + ci.cand_insp[order]
    t_q = rng.integers(0, n_t, 5000)
    i_q = rng.integers(-1, n_i, 5000)
    ref_key = (t_q * 2 + C.cls_of(np.maximum(i_q, 0), t_q)) * n_i + np.maximum(i_q, 0)
    p = np.minimum(np.searchsorted(key, ref_key), len(key) - 1)
    ref = np.where((i_q >= 0) & (key[p] == ref_key), p, -1)
    np.testing.assert_array_equal(C.pos(t_q, i_q), ref)
    assert (ref >= 0).sum() > 500  # many hits, many misses
    got = C.pos(t_q.reshape(50, 100), i_q.reshape(50, 100))
    np.testing.assert_array_equal(got, ref.reshape(50, 100))
    assert chain_mod._n_eff(ci, np.zeros((n_t, 1), dtype=np.int64), pairs=False) == len(
        np.unique(ci.cand_insp.astype(np.int64) * 13 + ci.month[task])
    )


def _union(kt: Any, ki: Any, keep: Any, nt: Any, ni: Any) -> tuple[Any, Any]:
    at = np.concatenate([kt[keep], nt])
    ai = np.concatenate([ki[keep], ni])
    order = np.lexsort((ai, at))
    return at[order], ai[order]


def test_merge_arcs_equals_the_sorted_union() -> None:
    kt = np.array([0, 0, 2, 5, 5], dtype=np.int32)
    ki = np.array([1, 4, 0, 2, 3], dtype=np.int32)
    keep = np.array([True, True, False, True, True])
    nt = np.array([1, 1, 2, 6], dtype=np.int32)
    ni = np.array([0, 9, 1, 0], dtype=np.int32)
    for new_t in (nt, np.array([0, 1, 2, 5], dtype=np.int32)):  # disjoint, overlapping
        t, i = merge_arcs(kt, ki, keep, new_t, ni)
        for got, want in zip((t, i), _union(kt, ki, keep, new_t, ni), strict=True):
            np.testing.assert_array_equal(got, want)
    rng = np.random.default_rng(3)
    for _ in range(200):  # tasks dropped and re-candidated, as the rounds do
        n_t, n_i = int(rng.integers(1, 30)), 12
        key = np.unique(rng.integers(0, n_t * n_i, int(rng.integers(0, 80))))
        kt, ki = (key // n_i).astype(np.int32), (key % n_i).astype(np.int32)
        again = np.flatnonzero(rng.random(n_t) < 0.3)
        keep = ~np.isin(kt, again)
        new = np.unique(rng.integers(0, n_i * len(again) + 1, 20)) if len(again) else []
        new = np.asarray(new, dtype=np.int64)
        new = new[new < n_i * len(again)]
        nt, ni = again[new // n_i].astype(np.int32), (new % n_i).astype(np.int32)
        t, i = merge_arcs(kt, ki, keep, nt, ni)
        want_t, want_i = _union(kt, ki, keep, nt, ni)
        np.testing.assert_array_equal(t, want_t)
        np.testing.assert_array_equal(i, want_i)


@pytest.fixture(scope="module")
def district() -> tuple[pd.DataFrame, Any]:
    ds = synthetic_district(2500, 30, seed=3, year=YEAR)  # some visits fail
    policy = Policy()
    rated = rate_entities(ds, as_of=f"{YEAR}-01-01", tier_policy=policy.tiers)
    tiers = rated.table[["uscc", "tier"]]
    draw = draw_visits(ds, tiers, policy.sampling, year=YEAR, seed="s")
    return draw.visits, ds


@pytest.mark.parametrize("prune", [True, False])
def test_chunked_arcs_equal_one_chunk(
    prune: bool, district: tuple[pd.DataFrame, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    visits, ds = district
    P = prepare(visits, ds, AssignmentPolicy(), year=YEAR, seed="s")
    tasks = np.arange(len(P.t_visit), dtype=np.int64)
    kw: dict[str, Any] = {"prune": prune, "k_cross": 3, "seed": "s", "year": YEAR}
    one_t, one_i = candidate_arcs(P, tasks, P.t_month, **kw)
    monkeypatch.setattr(cand_mod, "_CHUNK_ARCS", 50)
    assert len(cand_mod._chunks(P, tasks, prune=prune)) > 10
    t, i = candidate_arcs(P, tasks, P.t_month, **kw)
    assert t.dtype == np.int32 and i.dtype == np.int32 and len(t) > 0
    np.testing.assert_array_equal(t, one_t)
    np.testing.assert_array_equal(i, one_i)
    key = t.astype(np.int64) * len(P.insp_id) + i
    assert (np.diff(key) > 0).all()


def _reversed(fn: Any, items: Any) -> list[Any]:
    seq = list(items)
    return [fn(x) for x in seq[::-1]][::-1]


def _threads(fn: Any, items: Any) -> list[Any]:
    with ThreadPoolExecutor(2) as ex:
        return list(ex.map(fn, items))


def _recording(seen: list[GroupTask]) -> Any:
    def mapper(fn: Any, items: Any) -> list[Any]:
        seen.extend(items)
        return [fn(x) for x in items]

    return mapper


def _same(a: Any, b: Any) -> None:
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    pd.testing.assert_frame_equal(a.visits, b.visits)
    assert a.ledger == b.ledger
    assert a.diagnostics == b.diagnostics
    assert a.metrics == b.metrics


@pytest.mark.parametrize(
    "policy",
    [AssignmentPolicy(), AssignmentPolicy(min_team=3, repair_months=(3, 4, 5))],
)
def test_any_mapper_gives_the_serial_result(
    policy: AssignmentPolicy, district: tuple[pd.DataFrame, Any]
) -> None:
    visits, ds = district
    ref = assign_inspectors(visits, ds, policy, year=YEAR, seed="m")
    assert len(ref.assignments) > 100
    steps = {r["step"]: r for r in ref.ledger}  # flow, CP-SAT and repair rounds
    assert steps["cpsat"]["models"] > 0 and "repair" in steps
    seen: list[GroupTask] = []
    for mapper in (_reversed, _threads, _recording(seen)):
        _same(
            assign_inspectors(visits, ds, policy, year=YEAR, seed="m", mapper=mapper),
            ref,
        )
    assert len(seen) >= 12 and all(isinstance(g, GroupTask) for g in seen)
    # a group task is a small picklable value, solved alike after a round trip
    for use_cpsat in (False, True):  # a flow task and a CP-SAT task
        g = next(g for g in seen if g.use_cpsat == use_cpsat)
        back = pickle.loads(pickle.dumps(g))
        a, b = solve_group(g), solve_group(back)
        np.testing.assert_array_equal(a.chosen, b.chosen)
        np.testing.assert_array_equal(a.filled, b.filled)
        assert a.status == b.status


def test_dask_mapper_gives_the_serial_result(
    district: tuple[pd.DataFrame, Any],
) -> None:
    pytest.importorskip("dask")
    from creditsup.distributed import dask_mapper

    visits, ds = district
    visits = visits.iloc[: len(visits) // 2]
    ref = assign_inspectors(visits, ds, year=YEAR, seed="d")
    _same(assign_inspectors(visits, ds, year=YEAR, seed="d", mapper=dask_mapper), ref)


def _pair_metrics_by_merge(assignments: pd.DataFrame) -> dict[str, Any]:
    """The pandas self-merge the array version replaces (the reference)."""
    a = assignments[["visit_id", "inspector_id"]]
    pairs = a.merge(a, on="visit_id")
    pairs = pairs[pairs["inspector_id_x"] < pairs["inspector_id_y"]]
    pc = pairs.groupby(["inspector_id_x", "inspector_id_y"]).size()
    top = pc.sort_values(ascending=False, kind="stable").head(5)
    return {
        "pairs": len(pc),
        "pair_max": int(pc.max()) if len(pc) else 0,
        "pairs_repeated": int((pc >= 2).sum()),
        "pair_top": [
            {"inspectors": [str(x), str(y)], "visits": int(c)}
            for x, y, c in zip(
                top.index.get_level_values(0),
                top.index.get_level_values(1),
                top,
                strict=True,
            )
        ],
    }


def test_pair_metrics_equal_the_self_merge(district: tuple[pd.DataFrame, Any]) -> None:
    from creditsup.assignment.outputs import _pair_metrics

    visits, ds = district
    res = assign_inspectors(visits, ds, year=YEAR, seed="p")
    rng = np.random.default_rng(0)
    frames = [res.assignments, res.assignments.iloc[:0]]
    for _ in range(20):  # ties, repeated pairs, an inspector twice on a visit
        n = int(rng.integers(1, 60))
        frames.append(
            pd.DataFrame(
                {
                    "visit_id": rng.choice(["V1", "V2", "V10", "V3"], n),
                    "inspector_id": rng.choice(["a", "B", "b", "I10", "I9", "甲"], n),
                }
            )
        )
    for f in frames:
        assert _pair_metrics(f) == _pair_metrics_by_merge(f)
    assert _pair_metrics(res.assignments)["pairs_repeated"] > 0
