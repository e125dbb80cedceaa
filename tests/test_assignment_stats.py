"""Statistical tests of the assignment law on a tiny enumerable instance.

Every feasible assignment of the base instance (one department, 6 inspectors,
4 visits in the same month, expertise, capacity and a conflict: 80 feasible
assignments) is listed by brute force. The base instance is replicated in
``COPIES`` independent departments, so one call of ``assign_inspectors``
yields ``COPIES`` draws. With 40 draws per feasible assignment:

* MCF + Metropolis (the default policy) must not be rejected against the
  uniform law by a chi-square test at alpha = 1e-3, and every per-(visit,
  inspector) marginal must agree with the exact uniform marginal;
* power check: random-cost min-cost flow alone (``metropolis_sweeps=0``) and
  a random-serial-dictatorship greedy assigner must both be rejected.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from creditsup import uscc
from creditsup.assignment import AssignmentPolicy, assign_inspectors, audit_assignment
from creditsup.schemas import Dataset, validate_dataset

ALPHA = 1e-3
YEAR = 2027
COPIES = 400
DRAWS_PER_ASSIGNMENT = 40
INSPECTORS = [  # id, expertise, monthly capacity
    ("I1", "a", 2),
    ("I2", "a;b", 2),
    ("I3", "b", 2),
    ("I4", "a", 1),
    ("I5", "b", 1),
    ("I6", "a", 1),
]
VISITS = [("V1", "IA"), ("V2", "IA;IB"), ("V3", "IB"), ("V4", "IA")]
ITEMS = {"IA": "a", "IB": "b"}
CONFLICTS = {("I1", "V3")}
TEAM = 2


def feasible_assignments() -> list[tuple[tuple[str, ...], ...]]:
    """Brute force: every assignment keeping every hard rule."""
    ids = [i for i, _, _ in INSPECTORS]
    exp = {i: set(e.split(";")) for i, e, _ in INSPECTORS}
    cap = {i: c for i, _, c in INSPECTORS}
    per_visit = []
    for v, items in VISITS:
        req = {ITEMS[x] for x in items.split(";")}
        per_visit.append(
            [
                t
                for t in itertools.combinations(ids, TEAM)
                if not any((i, v) in CONFLICTS for i in t)
                and all(exp[i] & req for i in t)
                and req <= set().union(*(exp[i] for i in t))
            ]
        )
    out = []
    for combo in itertools.product(*per_visit):
        load: dict[str, int] = {}
        for t in combo:
            for i in t:
                load[i] = load.get(i, 0) + 1
        if all(n <= cap[i] for i, n in load.items()):
            out.append(combo)
    return out


def code(teams: tuple[tuple[str, ...], ...]) -> int:
    """An integer code of an assignment: one 6-bit inspector mask per visit."""
    ids = [i for i, _, _ in INSPECTORS]
    return sum(
        sum(1 << ids.index(i) for i in t) << (6 * k) for k, t in enumerate(teams)
    )


@pytest.fixture(scope="module")
def instance() -> tuple[pd.DataFrame, Dataset]:
    ids = uscc.generate(COPIES * len(VISITS), rng=np.random.default_rng(0))
    ins, items, ents, visits, conf = [], [], [], [], []
    for c in range(COPIES):
        d = f"d{c:04d}"
        for i, e, k in INSPECTORS:
            ins.append(
                {
                    "inspector_id": f"{d}-{i}",
                    "name": i,
                    "department": d,
                    "region": "140902",
                    "expertise": ";".join(f"{d}-{x}" for x in e.split(";")),
                    "monthly_capacity": str(k),
                }
            )
        for it, e in ITEMS.items():
            items.append(
                {
                    "item_id": f"{d}-{it}",
                    "department": d,
                    "name": it,
                    "legal_basis": "law",
                    "kind": "general",
                    "expertise": f"{d}-{e}",
                }
            )
        for j, (v, its) in enumerate(VISITS):
            u = ids[c * len(VISITS) + j]
            ents.append(
                {
                    "uscc": u,
                    "name": u,
                    "entity_type": "enterprise",
                    "industry": "F5211",
                    "region": "140902",
                    "established": "2015-01-01",
                    "status": "active",
                }
            )
            visits.append(
                {
                    "visit_id": f"{d}-{v}",
                    "uscc": u,
                    "tier": "B",
                    "month": 3,
                    "departments": d,
                    "items": ";".join(f"{d}-{x}" for x in its.split(";")),
                    "trigger": "random",
                    "joint": False,
                }
            )
            conf += [
                {"inspector_id": f"{d}-{i}", "uscc": u}
                for i, cv in CONFLICTS
                if cv == v
            ]
    ds = validate_dataset(
        {
            "entities": pd.DataFrame(ents),
            "inspectors": pd.DataFrame(ins),
            "items": pd.DataFrame(items),
            "conflicts": pd.DataFrame(conf),
        }
    )
    return pd.DataFrame(visits), ds


def draw_codes(
    instance: tuple[pd.DataFrame, Dataset], policy: AssignmentPolicy, n: int
) -> np.ndarray:
    """Codes of ``n`` (rounded up to COPIES) independent draws."""
    visits, ds = instance
    ids = [i for i, _, _ in INSPECTORS]
    vids = [v for v, _ in VISITS]
    out = []
    for s in range(-(-n // COPIES)):
        res = assign_inspectors(visits, ds, policy, year=YEAR, seed=f"law-{s}")
        assert res.is_feasible
        if s == 0:
            assert audit_assignment(res.assignments, res.visits, ds).empty
        a = res.assignments
        copy = a["visit_id"].str[1:5].astype(int).to_numpy()
        v = a["visit_id"].str[6:].map(vids.index).to_numpy()
        i = a["inspector_id"].str[6:].map(ids.index).to_numpy()
        c = np.zeros(COPIES, dtype=np.int64)
        np.add.at(c, copy, (1 << i) << (6 * v))
        out.append(c)
    return np.concatenate(out)


def law(codes: np.ndarray, feasible: np.ndarray) -> tuple[np.ndarray, float]:
    """Counts per feasible assignment and the chi-square p-value vs uniform."""
    pos = np.searchsorted(feasible, codes)
    assert (feasible[np.minimum(pos, len(feasible) - 1)] == codes).all(), (
        "infeasible draw"
    )
    counts = np.bincount(pos, minlength=len(feasible))
    return counts, float(stats.chisquare(counts).pvalue)


def greedy_codes(n: int, seed: int) -> np.ndarray:
    """Random serial dictatorship: visits in random order, random qualified pair."""
    rng = np.random.default_rng(seed)
    exp = {i: set(e.split(";")) for i, e, _ in INSPECTORS}
    out = []
    while len(out) < n:
        left = {i: c for i, _, c in INSPECTORS}
        teams: dict[int, tuple[str, ...]] = {}
        for k in rng.permutation(len(VISITS)):
            v, items = VISITS[k]
            req = {ITEMS[x] for x in items.split(";")}
            opts = [
                t
                for t in itertools.combinations(sorted(left), TEAM)
                if all(
                    left[i] > 0 and exp[i] & req and (i, v) not in CONFLICTS for i in t
                )
                and req <= set().union(*(exp[i] for i in t))
            ]
            if not opts:
                break
            t = opts[rng.integers(len(opts))]
            for i in t:
                left[i] -= 1
            teams[int(k)] = t
        if len(teams) == len(VISITS):  # restart on a dead end
            out.append(code(tuple(teams[k] for k in range(len(VISITS)))))
    return np.array(out, dtype=np.int64)


@pytest.fixture(scope="module")
def feasible() -> np.ndarray:
    f = np.array(sorted(code(a) for a in feasible_assignments()), dtype=np.int64)
    assert len(f) == 80
    return f


def test_mcf_plus_metropolis_is_uniform(
    instance: tuple[pd.DataFrame, Dataset], feasible: np.ndarray
) -> None:
    n = DRAWS_PER_ASSIGNMENT * len(feasible)
    codes = draw_codes(instance, AssignmentPolicy(), n)
    counts, p = law(codes, feasible)
    assert (counts > 0).all()  # every feasible assignment is reachable
    assert p > ALPHA, f"chi-square p={p:.2e} against uniform"
    # marginals P(inspector i on visit v) against the exact uniform marginals
    bits = (feasible[:, None] >> np.arange(6 * len(VISITS))) & 1
    exact = bits.mean(axis=0)
    seen = ((codes[:, None] >> np.arange(6 * len(VISITS))) & 1).mean(axis=0)
    se = np.sqrt(np.maximum(exact * (1 - exact), 1e-12) / len(codes))
    z = np.abs(seen - exact) / se
    bound = stats.norm.isf(ALPHA / 2 / len(exact))  # Bonferroni
    assert z.max() < bound, f"marginal z={z.max():.2f} > {bound:.2f}"


def test_power_random_cost_flow_alone_is_rejected(
    instance: tuple[pd.DataFrame, Dataset], feasible: np.ndarray
) -> None:
    n = DRAWS_PER_ASSIGNMENT * len(feasible)
    codes = draw_codes(instance, AssignmentPolicy(metropolis_sweeps=0), n)
    _, p = law(codes, feasible)
    assert p < ALPHA, f"biased assigner not rejected: p={p:.2e}"


def test_power_greedy_is_rejected(feasible: np.ndarray) -> None:
    codes = greedy_codes(DRAWS_PER_ASSIGNMENT * len(feasible), seed=5)
    _, p = law(codes, feasible)
    assert p < ALPHA, f"biased assigner not rejected: p={p:.2e}"


def test_exact_uniform_sampler_passes(feasible: np.ndarray) -> None:
    """Control: draws from the exact uniform law are not rejected."""
    rng = np.random.default_rng(11)
    codes = feasible[
        rng.integers(len(feasible), size=DRAWS_PER_ASSIGNMENT * len(feasible))
    ]
    _, p = law(codes, feasible)
    assert p > ALPHA
