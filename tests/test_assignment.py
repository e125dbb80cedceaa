"""Tests of creditsup.assignment: hard rules, diagnostics, repair, re-draw, audit."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditsup import uscc
from creditsup.assignment import (
    AssignmentPolicy,
    AssignmentResult,
    assign_inspectors,
    audit_assignment,
    estimate_exposure,
    redraw,
)
from creditsup.config import parse_config
from creditsup.exceptions import ConfigError, DataValidationError, InfeasiblePlanError
from creditsup.schemas import Dataset, validate_dataset

YEAR = 2027
REGION = "140902"
OTHER = "140903"
USCCS = list(uscc.generate(40, rng=np.random.default_rng(7)))


# ----------------------------------------------------------------- builders
def insp(
    iid: str,
    dept: str = "market",
    exp: str = "lic",
    cap: int = 3,
    region: str = REGION,
    leave: str = "",
    active: bool = True,
) -> dict[str, Any]:
    return {
        "inspector_id": iid,
        "name": iid,
        "department": dept,
        "region": region,
        "expertise": exp,
        "monthly_capacity": str(cap),
        "unavailable_months": leave,
        "active": "true" if active else "false",
    }


def item(iid: str, dept: str = "market", exp: str = "lic") -> dict[str, Any]:
    return {
        "item_id": iid,
        "department": dept,
        "name": iid,
        "legal_basis": "law art. 1",
        "kind": "general",
        "expertise": exp,
    }


def make_dataset(
    inspectors: list[dict[str, Any]],
    items: list[dict[str, Any]],
    *,
    n_entities: int = 10,
    conflicts: list[tuple[str, int]] = (),  # type: ignore[assignment]
    history: list[tuple[int, str, str]] = (),  # type: ignore[assignment]
    entity_regions: dict[int, str] | None = None,
) -> Dataset:
    regions = entity_regions or {}
    entities = pd.DataFrame(
        {
            "uscc": USCCS[:n_entities],
            "name": [f"e{k}" for k in range(n_entities)],
            "entity_type": "enterprise",
            "industry": "F5211",
            "region": [regions.get(k, REGION) for k in range(n_entities)],
            "established": "2015-01-01",
            "status": "active",
        }
    )
    tables = {
        "entities": entities,
        "inspectors": pd.DataFrame(inspectors),
        "items": pd.DataFrame(items),
        "conflicts": pd.DataFrame(
            [
                {"inspector_id": i, "uscc": USCCS[e], "reason": "relative"}
                for i, e in conflicts
            ],
            columns=["inspector_id", "uscc", "reason"],
        ),
        "history": pd.DataFrame(
            [
                {
                    "uscc": USCCS[e],
                    "date": d,
                    "department": "market",
                    "result": "normal",
                    "inspector_ids": ids,
                }
                for e, d, ids in history
            ],
            columns=["uscc", "date", "department", "result", "inspector_ids"],
        ),
    }
    return validate_dataset(tables)


def make_visits(rows: list[tuple[str, int, int, str, str]]) -> pd.DataFrame:
    """rows: (visit_id, entity index, month, departments, items)."""
    return pd.DataFrame(
        {
            "visit_id": [r[0] for r in rows],
            "uscc": [USCCS[r[1]] for r in rows],
            "tier": "B",
            "month": [r[2] for r in rows],
            "departments": [r[3] for r in rows],
            "items": [r[4] for r in rows],
            "trigger": "random",
            "joint": [";" in r[3] for r in rows],
        }
    )


def team(res: AssignmentResult, visit_id: str) -> set[str]:
    a = res.assignments
    return set(a.loc[a["visit_id"] == visit_id, "inspector_id"])


@pytest.fixture
def basic() -> tuple[pd.DataFrame, Dataset]:
    ins = [insp(f"M{k}", exp="lic;ads" if k % 2 else "lic") for k in range(6)]
    ins += [insp(f"F{k}", dept="food", exp="safety") for k in range(4)]
    ds = make_dataset(
        ins, [item("M01"), item("M02", exp="ads"), item("F01", "food", "safety")]
    )
    visits = make_visits(
        [
            ("V1", 0, 3, "market", "M01"),
            ("V2", 1, 3, "market", "M01;M02"),
            ("V3", 2, 3, "market;food", "M01;F01"),
            ("V4", 3, 4, "food", "F01"),
            ("V5", 4, 4, "market", "M02"),
        ]
    )
    return visits, ds


# ------------------------------------------------------------------- policy
def test_policy_defaults_and_messages() -> None:
    p = AssignmentPolicy()
    assert (p.min_team, p.max_team, p.rotation, p.same_region_first) == (
        2,
        6,
        True,
        True,
    )
    assert p.cross_region_candidates == 10 and p.pair_limit is None and p.repair
    with pytest.raises(
        ValueError, match=r"The 'min_team' of AssignmentPolicy must be >= 2"
    ):
        AssignmentPolicy(min_team=0)
    # R11: never fewer than two inspectors, so a team of one is refused
    with pytest.raises(
        ConfigError,
        match=r"The 'min_team' of AssignmentPolicy must be >= 2\. Got 1 instead",
    ):
        AssignmentPolicy(min_team=1)
    with pytest.raises(ValueError, match=r"'max_team' .* must be >= 'min_team' \(3\)"):
        AssignmentPolicy(min_team=3, max_team=2)
    with pytest.raises(ConfigError, match="metropolis_sweeps"):
        parse_config(AssignmentPolicy, {"metropolis_sweeps": -1})
    with pytest.raises(ConfigError):
        parse_config(AssignmentPolicy, {"repair_months": [13]})
    assert AssignmentPolicy(repair_months=(6, 9, 6)).repair_months == (6, 9)


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("metropolis_sweeps", 101, "must be <= 100"),
        ("metropolis_sweeps", -1, "must be >= 0"),
        ("cross_region_candidates", 101, "must be <= 100"),
        ("max_deterministic_time", 61.0, "must be <= 60"),
        ("max_deterministic_time", 0.0, "must be > 0"),
        ("max_team", 21, "must be <= 20"),
        ("min_team", 21, "must be <= 20"),
        ("pair_limit", 0, "must be >= 1"),
    ],
)
def test_policy_bounds_solver_effort(field: str, bad: float, message: str) -> None:
    # declarative bounds: no policy can make a run take hours
    with pytest.raises(ConfigError, match=rf"'{field}' of AssignmentPolicy {message}"):
        AssignmentPolicy(**{field: bad})
    with pytest.raises(ConfigError, match=field):
        parse_config(AssignmentPolicy, {field: bad})


def test_default_policy_dump_is_unchanged() -> None:
    # the plan's ledger and provenance hash this dump (demo byte identity)
    assert AssignmentPolicy().model_dump(mode="json") == {
        "min_team": 2,
        "max_team": 6,
        "rotation": True,
        "same_region_first": True,
        "cross_region_candidates": 10,
        "metropolis_sweeps": 10,
        "pair_limit": None,
        "max_deterministic_time": 10.0,
        "repair": True,
        "repair_months": list(range(1, 13)),
    }
    assert list(AssignmentPolicy().model_dump(mode="json")) == [
        "min_team",
        "max_team",
        "rotation",
        "same_region_first",
        "cross_region_candidates",
        "metropolis_sweeps",
        "pair_limit",
        "max_deterministic_time",
        "repair",
        "repair_months",
    ]


# ---------------------------------------------------------------- basics
def test_basic_assignment_keeps_every_rule(basic: tuple[pd.DataFrame, Dataset]) -> None:
    visits, ds = basic
    before = visits.copy()
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    pd.testing.assert_frame_equal(visits, before)  # caller's frame untouched
    assert list(res.assignments.columns) == ["visit_id", "inspector_id", "department"]
    a = res.assignments
    assert a.equals(a.sort_values(["visit_id", "inspector_id"]).reset_index(drop=True))
    assert res.diagnostics == {"unfilled": [], "binding": []}
    assert (res.visits["status"] == "staffed").all()
    assert audit_assignment(a, res.visits, ds).empty
    assert {"market", "food"} == set(a.loc[a["visit_id"] == "V3", "department"])
    # V2 needs 'lic' and 'ads': team covers both
    held = ds.inspectors.set_index("inspector_id")["expertise"]
    exp = set(";".join(held[sorted(team(res, "V2"))]).split(";"))
    assert {"lic", "ads"} <= exp
    json.dumps(res.ledger)  # JSON-able
    json.dumps(res.metrics)
    assert "5 visits, 5 staffed, 0 unfilled" in res.summary()
    assert res.is_feasible


def test_same_seed_same_plan_whatever_the_row_order(
    basic: tuple[pd.DataFrame, Dataset],
) -> None:
    visits, ds = basic
    a = assign_inspectors(visits, ds, year=YEAR, seed="s").assignments
    shuffled = Dataset(
        entities=ds.entities.sample(frac=1, random_state=1),
        inspectors=ds.inspectors.sample(frac=1, random_state=2),
        conflicts=ds.conflicts,
        items=ds.items.sample(frac=1, random_state=3),
        history=ds.history,
    )
    b = assign_inspectors(
        visits.sample(frac=1, random_state=4), shuffled, year=YEAR, seed="s"
    ).assignments
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_give_different_plans(
    basic: tuple[pd.DataFrame, Dataset],
) -> None:
    visits, ds = basic
    plans = {
        tuple(
            assign_inspectors(visits, ds, year=YEAR, seed=f"k{k}").assignments[
                "inspector_id"
            ]
        )
        for k in range(6)
    }
    assert len(plans) > 1


def test_empty_visits(basic: tuple[pd.DataFrame, Dataset]) -> None:
    visits, ds = basic
    res = assign_inspectors(visits.iloc[:0], ds, year=YEAR, seed="s")
    assert res.assignments.empty and res.visits.empty
    assert res.diagnostics == {"unfilled": [], "binding": []}


def test_bad_visits_table_raises(basic: tuple[pd.DataFrame, Dataset]) -> None:
    visits, ds = basic
    with pytest.raises(DataValidationError, match="duplicate_key"):
        assign_inspectors(pd.concat([visits, visits.iloc[:1]]), ds, year=YEAR, seed="s")
    with pytest.raises(DataValidationError, match="missing_column"):
        assign_inspectors(visits.drop(columns=["items"]), ds, year=YEAR, seed="s")
    with pytest.raises(DataValidationError, match="bad_month"):
        assign_inspectors(visits.assign(month=13), ds, year=YEAR, seed="s")


# ------------------------------------------------------------ hard rules
def test_conflict_and_rotation_are_excluded() -> None:
    ins = [insp(f"M{k}") for k in range(5)]
    ds = make_dataset(
        ins,
        [item("M01")],
        conflicts=[("M0", 0), ("M1", 0)],
        history=[
            (0, "2026-03-01", "M2"),
            (0, "2025-03-01", "M3"),
            (1, "2026-01-01", "M0;M1"),
        ],
    )
    visits = make_visits([("V1", 0, 5, "market", "M01"), ("V2", 1, 5, "market", "M01")])
    for k in range(8):
        res = assign_inspectors(visits, ds, year=YEAR, seed=f"r{k}")
        t1 = team(res, "V1")
        assert t1 == {"M3", "M4"}  # M0, M1 conflicted; M2 on the last visit
        assert not team(res, "V2") & {"M0", "M1"}
    off = assign_inspectors(
        visits, ds, AssignmentPolicy(rotation=False), year=YEAR, seed="x"
    )
    assert audit_assignment(
        off.assignments, off.visits, ds, policy=AssignmentPolicy(rotation=False)
    ).empty


def test_every_qualified_inspector_in_conflict_is_reported() -> None:
    ds = make_dataset(
        [insp("M0"), insp("M1"), insp("M2", exp="ads")],
        [item("M01")],
        conflicts=[("M0", 0), ("M1", 0)],
    )
    visits = make_visits([("V1", 0, 2, "market", "M01"), ("V2", 1, 2, "market", "M01")])
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    assert res.visits.set_index("visit_id")["status"].to_dict() == {
        "V1": "unfilled",
        "V2": "staffed",
    }
    [u] = res.diagnostics["unfilled"]
    assert u["visit_id"] == "V1"
    assert "every qualified inspector is in conflict" in u["reason"]
    assert team(res, "V1") == set()
    assert audit_assignment(res.assignments, res.visits, ds).empty


def test_unavailable_and_inactive_are_excluded() -> None:
    ins = [insp("M0", leave="3;4"), insp("M1", active=False), insp("M2"), insp("M3")]
    ds = make_dataset(ins, [item("M01")])
    visits = make_visits([("V1", 0, 3, "market", "M01")])
    for k in range(5):
        assert team(assign_inspectors(visits, ds, year=YEAR, seed=str(k)), "V1") == {
            "M2",
            "M3",
        }
    res = assign_inspectors(
        make_visits([("V1", 0, 3, "market", "M01")]),
        make_dataset([insp("M0", leave="3"), insp("M2")], [item("M01")]),
        AssignmentPolicy(repair=False),
        year=YEAR,
        seed="s",
    )
    assert (
        "1 active inspectors of department market available in March"
        in (res.diagnostics["unfilled"][0]["reason"])
    )


def test_team_grows_to_cover_expertise_up_to_max_team() -> None:
    ins = [
        insp("M0", exp="a"),
        insp("M1", exp="b"),
        insp("M2", exp="c"),
        insp("M3", exp="a"),
    ]
    items = [item("IA", exp="a"), item("IB", exp="b"), item("IC", exp="c")]
    ds = make_dataset(ins, items)
    visits = make_visits([("V1", 0, 6, "market", "IA;IB;IC")])
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    t = team(res, "V1")
    assert len(t) == 3 and {"M1", "M2"} <= t
    assert audit_assignment(res.assignments, res.visits, ds).empty
    small = assign_inspectors(
        visits, ds, AssignmentPolicy(max_team=2), year=YEAR, seed="s"
    )
    [u] = small.diagnostics["unfilled"]
    assert (
        "needs 3 inspectors to cover expertise (market: a, b, c), more than max_team (2)"
        in u["reason"]
    )
    assert small.diagnostics["binding"] == [
        {"group": "visit V1: team size", "needed": 3, "available": 2}
    ]


def test_missing_expertise_is_named() -> None:
    ds = make_dataset([insp("M0"), insp("M1")], [item("M01"), item("M09", exp="rare")])
    res = assign_inspectors(
        make_visits([("V1", 0, 1, "market", "M09")]), ds, year=YEAR, seed="s"
    )
    assert "holds expertise 'rare'" in res.diagnostics["unfilled"][0]["reason"]


def test_joint_visit_gets_every_department() -> None:
    ins = (
        [insp(f"M{k}") for k in range(3)]
        + [insp(f"F{k}", "food", "safety") for k in range(3)]
        + [insp(f"Q{k}", "quality", "general") for k in range(3)]
    )
    items = [item("M01"), item("F01", "food", "safety"), item("Q01", "quality", "")]
    ds = make_dataset(ins, items)
    visits = make_visits(
        [
            ("V1", 0, 7, "market;food;quality", "M01;F01;Q01"),
            ("V2", 1, 7, "food;market", ""),
        ]
    )
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    a = res.assignments
    assert set(a.loc[a["visit_id"] == "V1", "department"]) == {
        "market",
        "food",
        "quality",
    }
    assert set(a.loc[a["visit_id"] == "V2", "department"]) == {"market", "food"}
    assert audit_assignment(a, res.visits, ds).empty


def test_item_of_a_department_not_on_the_visit_is_reported() -> None:
    ds = make_dataset(
        [insp("M0"), insp("M1"), insp("F0", "food", "safety")],
        [item("M01"), item("F01", "food", "safety")],
    )
    visits = make_visits(
        [
            ("V1", 0, 1, "market", "M01;F01"),
            ("V2", 1, 1, "market", "X99"),
            ("V3", 2, 1, "", ""),
        ]
    )
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    reasons = {u["visit_id"]: u["reason"] for u in res.diagnostics["unfilled"]}
    assert "not among the visit's departments" in reasons["V1"]
    assert "unknown check item(s) X99" in reasons["V2"]
    assert "lists no department" in reasons["V3"]
    assert res.assignments.empty


# ------------------------------------------------- capacity, repair, binding
def test_capacity_shortage_names_the_binding_group() -> None:
    ds = make_dataset([insp("M0", cap=1), insp("M1", cap=1)], [item("M01")])
    visits = make_visits([("V1", 0, 3, "market", "M01"), ("V2", 1, 3, "market", "M01")])
    res = assign_inspectors(
        visits, ds, AssignmentPolicy(repair=False), year=YEAR, seed="s"
    )
    assert (res.visits["status"] == "unfilled").sum() == 1
    [u] = res.diagnostics["unfilled"]
    assert u["reason"] == "department market, March: needs 4 inspector-slots, has 2"
    assert res.diagnostics["binding"] == [
        {"group": "department market, March", "needed": 4, "available": 2}
    ]
    assert audit_assignment(res.assignments, res.visits, ds).empty


def test_repair_moves_a_visit_to_the_nearest_month_with_room() -> None:
    ds = make_dataset([insp("M0", cap=1, leave="2"), insp("M1", cap=1)], [item("M01")])
    visits = make_visits([("V1", 0, 3, "market", "M01"), ("V2", 1, 3, "market", "M01")])
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    assert res.is_feasible
    v = res.visits.set_index("visit_id")
    moved = v[v["month"] != v["original_month"]]
    assert (
        len(moved) == 1 and int(moved["month"].iloc[0]) == 4
    )  # February blocked by leave
    assert audit_assignment(res.assignments, res.visits, ds).empty
    rep = next(r for r in res.ledger if r["step"] == "repair")
    assert rep["moved"][0]["to"] == 4
    only_june = assign_inspectors(
        visits, ds, AssignmentPolicy(repair_months=(6,)), year=YEAR, seed="s"
    )
    assert set(only_june.visits["month"]) == {3, 6}


def test_cpsat_staffs_what_the_flow_cannot_model() -> None:
    # items need 'a' and 'b' plus an open item; only M0 holds a and b, so the
    # flow's distinct cover slots fail, while the team {M0, anyone} is valid.
    ins = [insp("M0", exp="a;b"), insp("M1", exp="c"), insp("M2", exp="c")]
    items = [item("IA", exp="a"), item("IB", exp="b"), item("IO", exp="")]
    ds = make_dataset(ins, items)
    visits = make_visits([("V1", 0, 9, "market", "IA;IB;IO")])
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    assert res.is_feasible and "M0" in team(res, "V1") and len(team(res, "V1")) == 2
    assert any(r["step"] == "cpsat" for r in res.ledger)
    assert res.metrics["cpsat_models"] >= 1
    assert audit_assignment(res.assignments, res.visits, ds).empty


def test_pair_limit_is_kept() -> None:
    ins = [insp(f"M{k}", cap=6) for k in range(4)]
    ds = make_dataset(ins, [item("M01")])
    visits = make_visits([(f"V{k}", k, 1 + k % 12, "market", "M01") for k in range(12)])
    pol = AssignmentPolicy(pair_limit=2)
    res = assign_inspectors(visits, ds, pol, year=YEAR, seed="p")
    assert res.is_feasible
    assert res.metrics["pair_max"] <= 2
    assert audit_assignment(res.assignments, res.visits, ds).empty
    free = assign_inspectors(visits, ds, year=YEAR, seed="p")
    assert free.metrics["pair_max"] >= res.metrics["pair_max"]


def test_same_region_first() -> None:
    ins = [insp("M0"), insp("M1"), insp("M2", region=OTHER), insp("M3", region=OTHER)]
    ds = make_dataset(ins, [item("M01")], entity_regions={0: REGION, 1: OTHER})
    visits = make_visits([("V1", 0, 5, "market", "M01"), ("V2", 1, 5, "market", "M01")])
    for k in range(5):
        res = assign_inspectors(visits, ds, year=YEAR, seed=f"g{k}")
        assert team(res, "V1") == {"M0", "M1"} and team(res, "V2") == {"M2", "M3"}
        assert res.metrics["cross_region_share"] == 0.0


# ------------------------------------------------------------------ redraw
def test_redraw_replaces_at_random_and_logs(
    basic: tuple[pd.DataFrame, Dataset],
) -> None:
    visits, ds = basic
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    old = sorted(team(res, "V1"))[0]
    new = redraw(res, ds, visit_id="V1", inspector_id=old, reason="ill", seed="r1")
    assert old not in team(new, "V1") and len(team(new, "V1")) == len(team(res, "V1"))
    assert audit_assignment(new.assignments, new.visits, ds).empty
    row = new.redraws.iloc[-1]
    assert (row["visit_id"], row["old_inspector_id"], row["reason"]) == (
        "V1",
        old,
        "ill",
    )
    assert row["new_inspector_id"] in team(new, "V1") and row["outcome"] == "replaced"
    assert new.ledger[-1]["step"] == "redraw" and new.ledger[-1]["reason"] == "ill"
    again = redraw(res, ds, visit_id="V1", inspector_id=old, reason="ill", seed="r1")
    pd.testing.assert_frame_equal(new.assignments, again.assignments)
    # other visits untouched
    rest = res.assignments[res.assignments["visit_id"] != "V1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        rest,
        new.assignments[new.assignments["visit_id"] != "V1"].reset_index(drop=True),
    )
    # replacements are spread at random over the eligible inspectors
    picks = {
        redraw(
            res, ds, visit_id="V1", inspector_id=old, reason="ill", seed=f"z{k}"
        ).redraws.iloc[-1]["new_inspector_id"]
        for k in range(20)
    }
    assert len(picks) >= 2


def test_redraw_without_candidate_unfills_or_raises() -> None:
    ds = make_dataset([insp("M0"), insp("M1")], [item("M01")])
    visits = make_visits([("V1", 0, 1, "market", "M01")])
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    new = redraw(res, ds, visit_id="V1", inspector_id="M0", reason="conflict", seed="x")
    assert new.visits["status"].tolist() == ["unfilled"]
    assert new.assignments.empty
    assert "no eligible replacement for M0" in new.diagnostics["unfilled"][0]["reason"]
    assert new.redraws.iloc[-1]["outcome"] == "unfilled"
    with pytest.raises(InfeasiblePlanError):
        redraw(
            res,
            ds,
            visit_id="V1",
            inspector_id="M0",
            reason="c",
            seed="x",
            on_infeasible="raise",
        )
    with pytest.raises(ConfigError, match="not in the plan"):
        redraw(res, ds, visit_id="V9", inspector_id="M0", reason="c", seed="x")
    with pytest.raises(ConfigError, match="not on visit"):
        redraw(res, ds, visit_id="V1", inspector_id="M7", reason="c", seed="x")


def test_from_tables_roundtrip_and_redraw(basic: tuple[pd.DataFrame, Dataset]) -> None:
    visits, ds = basic
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    back = AssignmentResult.from_tables(
        visits=res.visits.drop(columns=["status", "original_month"]),
        assignments=res.assignments,
        diagnostics=res.diagnostics,
    )
    assert (back.visits["status"] == "staffed").all()
    out = redraw(
        back,
        ds,
        visit_id="V4",
        inspector_id=sorted(team(res, "V4"))[0],
        reason="ill",
        seed="q",
    )
    assert audit_assignment(out.assignments, out.visits, ds).empty


# ------------------------------------------------------------------- audit
def test_audit_detects_each_broken_rule(basic: tuple[pd.DataFrame, Dataset]) -> None:
    visits, ds = basic
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    a = res.assignments
    v = res.visits

    def rules(asg: pd.DataFrame, vis: pd.DataFrame = v, dset: Dataset = ds) -> set[str]:
        return set(audit_assignment(asg, vis, dset)["rule"])

    v1 = sorted(team(res, "V1"))
    assert "team_size" in rules(
        a[~((a["visit_id"] == "V1") & (a["inspector_id"] == v1[0]))]
    )
    dup = pd.concat([a, a.iloc[:1]], ignore_index=True)
    assert "duplicate" in rules(dup)
    food_on_v1 = pd.concat(
        [
            a,
            pd.DataFrame(
                [{"visit_id": "V1", "inspector_id": "F0", "department": "food"}]
            ),
        ]
    )
    assert "wrong_department" in rules(food_on_v1)
    ghost = pd.concat(
        [
            a,
            pd.DataFrame(
                [{"visit_id": "V1", "inspector_id": "ZZ", "department": "market"}]
            ),
        ]
    )
    assert "unknown_inspector" in rules(ghost)
    assert "unknown_visit" in rules(
        a.assign(visit_id=a["visit_id"].replace("V1", "V9"))
    )
    # V3 loses its food inspector -> department_missing and coverage of F01
    no_food = a[~((a["visit_id"] == "V3") & (a["department"] == "food"))]
    assert {"department_missing", "coverage"} <= rules(no_food)
    # inspector data changed after the draw
    ins = ds.inspectors.copy()
    i0 = v1[0]
    ins.loc[ins["inspector_id"] == i0, "unavailable_months"] = "3"
    ins.loc[ins["inspector_id"] == i0, "active"] = False
    ins.loc[ins["inspector_id"] == i0, "monthly_capacity"] = 0
    ins.loc[ins["inspector_id"] == i0, "expertise"] = "zzz"
    broken = Dataset(
        entities=ds.entities,
        inspectors=ins,
        conflicts=pd.DataFrame(
            {"inspector_id": [i0], "uscc": [USCCS[0]], "reason": ["x"]}
        ),
        items=ds.items,
        history=pd.DataFrame(
            {
                "uscc": [USCCS[0]],
                "date": [pd.Timestamp("2026-01-01")],
                "department": ["market"],
                "result": ["normal"],
                "inspector_ids": [v1[1]],
                "trigger": ["random"],
            }
        ),
    )
    got = rules(a, dset=broken)
    assert {
        "unavailable",
        "inactive",
        "capacity",
        "expertise",
        "conflict",
        "rotation",
    } <= got
    assert "coverage" in got or "expertise" in got
    unf = v.assign(status=np.where(v["visit_id"] == "V1", "unfilled", "staffed"))
    assert "assigned_unfilled" in rules(a, vis=unf)
    assert audit_assignment(a, v, ds).columns.tolist() == [
        "visit_id",
        "inspector_id",
        "rule",
        "detail",
    ]


def test_metrics_and_exposure(basic: tuple[pd.DataFrame, Dataset]) -> None:
    visits, ds = basic
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    m = res.metrics
    for key in (
        "max_p_inspector_entity_prior",
        "pair_max",
        "load_min",
        "load_median",
        "load_max",
        "utilisation_max",
        "cross_region_share",
        "metropolis",
    ):
        assert key in m
    assert 0 < m["max_p_inspector_entity_prior"] <= 1
    assert m["load_max"] >= m["load_median"] >= m["load_min"] >= 0
    ex = estimate_exposure(visits, ds, year=YEAR, seeds=[f"e{k}" for k in range(4)])
    assert list(ex.columns) == ["inspector_id", "uscc", "p"]
    assert ex["p"].between(0, 1).all() and ex["p"].iloc[0] == ex["p"].max()


# ---------------------------------------------------------- hypothesis
@st.composite
def instances(draw: Any) -> tuple[pd.DataFrame, Dataset, AssignmentPolicy]:
    depts = ["market", "food", "quality"][: draw(st.sampled_from([1, 1, 2, 2, 3]))]
    exps = ["a", "b", "c"]
    n_insp = draw(st.integers(2, 14))
    ins = []
    for k in range(n_insp):
        d = draw(st.sampled_from(depts))
        e = draw(st.lists(st.sampled_from(exps), min_size=1, max_size=3, unique=True))
        leave = draw(st.lists(st.integers(1, 3), max_size=1))
        ins.append(
            insp(
                f"I{k}",
                dept=d,
                exp=";".join(sorted(e)),
                cap=draw(st.sampled_from([2, 3, 1, 4, 0])),
                region=draw(st.sampled_from([REGION, OTHER])),
                leave=";".join(map(str, sorted(leave))),
                active=draw(st.sampled_from([True, True, True, False])),
            )
        )
    if draw(st.booleans()):  # a roomy instance: generalists in every department
        ins += [
            insp(f"G{d[0]}{k}", dept=d, exp="a;b;c", cap=4, region=OTHER)
            for d in depts
            for k in range(3)
        ]
    items = [
        item(f"{d[0].upper()}{e or 'o'}", d, e)
        for d in depts
        for e in ["a", "b", "c", ""]
    ]
    n_vis = draw(st.integers(1, 8))
    rows = []
    for v in range(n_vis):
        vd = draw(
            st.lists(
                st.sampled_from(depts), min_size=1, max_size=len(depts), unique=True
            )
        )
        its = []
        for d in vd:
            its += draw(
                st.lists(
                    st.sampled_from(
                        [f"{d[0].upper()}{e}" for e in ["a", "b", "c", "o"]]
                    ),
                    max_size=2,
                    unique=True,
                )
            )
        rows.append(
            (
                f"V{v}",
                draw(st.integers(0, 5)),
                draw(st.integers(1, 3)),
                ";".join(vd),
                ";".join(its),
            )
        )
    conflicts = draw(
        st.lists(
            st.tuples(
                st.sampled_from([f"I{k}" for k in range(n_insp)]), st.integers(0, 5)
            ),
            max_size=4,
            unique=True,
        )
    )
    history = [
        (
            e,
            "2026-05-01",
            ";".join(
                draw(
                    st.lists(
                        st.sampled_from([f"I{k}" for k in range(n_insp)]),
                        min_size=1,
                        max_size=2,
                        unique=True,
                    )
                )
            ),
        )
        for e in draw(st.lists(st.integers(0, 5), max_size=3, unique=True))
    ]
    ds = make_dataset(
        ins,
        items,
        n_entities=6,
        conflicts=conflicts,
        history=history,
        entity_regions={k: draw(st.sampled_from([REGION, OTHER])) for k in range(6)},
    )
    policy = AssignmentPolicy(
        min_team=draw(st.integers(2, 3)),
        max_team=draw(st.integers(3, 5)),
        rotation=draw(st.booleans()),
        same_region_first=draw(st.booleans()),
        cross_region_candidates=draw(st.integers(0, 3)),
        metropolis_sweeps=draw(st.integers(0, 6)),
        pair_limit=draw(st.sampled_from([None, 1, 2])),
        repair=draw(st.booleans()),
        repair_months=(1, 2, 3),
    )
    return make_visits(rows), ds, policy


@given(instances(), st.text(min_size=1, max_size=8))
def test_hard_rules_hold_on_random_instances(
    inst: tuple[pd.DataFrame, Dataset, AssignmentPolicy], seed: str
) -> None:
    visits, ds, policy = inst
    res = assign_inspectors(visits, ds, policy, year=YEAR, seed=seed)
    # nothing dropped: every visit is staffed or listed unfilled with a reason
    assert sorted(res.visits["visit_id"]) == sorted(visits["visit_id"])
    unfilled = {u["visit_id"] for u in res.diagnostics["unfilled"]}
    assert unfilled == set(
        res.visits.loc[res.visits["status"] == "unfilled", "visit_id"]
    )
    assert all(u["reason"] for u in res.diagnostics["unfilled"])
    assert not set(res.assignments["visit_id"]) & unfilled
    assert set(res.assignments["visit_id"]) == set(res.visits["visit_id"]) - unfilled
    # every hard rule holds
    audit = audit_assignment(res.assignments, res.visits, ds, policy=policy)
    assert audit.empty, audit.to_dict(orient="records")
    sizes = res.assignments.groupby("visit_id").size()
    assert (sizes >= policy.min_team).all() and (sizes <= policy.max_team).all()
    if unfilled:
        assert res.diagnostics["binding"] or any(
            "unknown" in u["reason"] or "not among" in u["reason"]
            for u in res.diagnostics["unfilled"]
        )
    # moved visits only with repair, into allowed months
    moved = res.visits[res.visits["month"] != res.visits["original_month"]]
    assert policy.repair or moved.empty
    assert set(moved["month"]) <= set(policy.repair_months)
    json.dumps(res.ledger)


@given(instances())
def test_redraw_keeps_rules_on_random_instances(
    inst: tuple[pd.DataFrame, Dataset, AssignmentPolicy],
) -> None:
    visits, ds, policy = inst
    res = assign_inspectors(visits, ds, policy, year=YEAR, seed="h")
    if res.assignments.empty:
        return
    row = res.assignments.iloc[0]
    new = redraw(
        res,
        ds,
        visit_id=row["visit_id"],
        inspector_id=row["inspector_id"],
        reason="ill",
        seed="h2",
    )
    assert audit_assignment(new.assignments, new.visits, ds, policy=policy).empty
    on = new.assignments[new.assignments["visit_id"] == row["visit_id"]]
    assert row["inspector_id"] not in set(on["inspector_id"])
    assert len(new.redraws) == 1
