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
from creditsup.assignment.candidates import candidate_arcs
from creditsup.assignment.diagnose import diagnose
from creditsup.assignment.prepare import prepare
from creditsup.assignment.problem import new_state, prefailed
from creditsup.assignment.rules import (
    HARD_RULES,
    Arcs,
    AuditRows,
    HardRule,
    RuleInputs,
    RuleText,
    active_rules,
    registered,
)
from creditsup.config import parse_config
from creditsup.exceptions import ConfigError, DataValidationError, InfeasiblePlanError
from creditsup.schemas import SCHEMAS, Column, Dataset, validate_dataset

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
    entity_columns: dict[str, list[Any]] | None = None,
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
            **{k: vals[:n_entities] for k, vals in (entity_columns or {}).items()},
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
        ("same_region_candidates", 10_001, "must be <= 10000"),
        ("same_region_candidates", -1, "must be >= 0"),
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
    # the plan's ledger and provenance hash this dump (demo byte identity);
    # creditsup-draw/4 added same_region_candidates (issue #14)
    assert AssignmentPolicy().model_dump(mode="json") == {
        "min_team": 2,
        "max_team": 6,
        "rotation": True,
        "same_region_first": True,
        "same_region_candidates": 32,
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
        "same_region_candidates",
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
        "department market needs 3 inspectors to cover its expertise (a, b, c), "
        "more than max_team (2) per department" in u["reason"]
    )
    assert small.diagnostics["binding"] == [
        {
            "group": "visit V1: team size of market",
            "group_zh": "检查V1：market部门的检查组人数",
            "department": "market",
            "month": None,
            "visit_id": "V1",
            "needed": 3,
            "available": 2,
        }
    ]
    # the detail to show, in both languages, with the stable fields
    detail = small.diagnostics
    assert detail["unfilled"][0]["reason_zh"] == (
        "检查V1：market部门覆盖其所需专长（a, b, c）需要 3 名检查人员，"
        "超过每个部门检查组人数上限 max_team（2）"
    )
    assert detail["binding"] == [
        {
            "group": "visit V1: team size of market",
            "group_zh": "检查V1：market部门的检查组人数",
            "needed": 3,
            "available": 2,
            "department": "market",
            "month": None,
            "visit_id": "V1",
        }
    ]


def test_max_team_holds_per_department_so_a_joint_visit_is_staffable() -> None:
    """R14: each department sends its own team; 4 departments x 2 areas = 8 > 6."""
    depts = ["market", "food", "price", "ip"]
    ins = [
        insp(f"{d[0].upper()}{k}", dept=d, exp=e)
        for d in depts
        for k, e in enumerate(["a", "b", "a", "b"])
    ]
    items = [item(f"{d}-{e}", dept=d, exp=e) for d in depts for e in ("a", "b")]
    ds = make_dataset(ins, items)
    visits = make_visits(
        [("V1", 0, 6, ";".join(depts), ";".join(i["item_id"] for i in items))]
    )
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    assert res.diagnostics["unfilled"] == []
    assert len(team(res, "V1")) == 8 > AssignmentPolicy().max_team
    assert audit_assignment(res.assignments, res.visits, ds).empty


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
    zh = {u["visit_id"]: u["reason_zh"] for u in res.diagnostics["unfilled"]}
    assert "所属的部门不在该次检查的部门中" in zh["V1"]
    assert zh["V2"].startswith("检查V2：检查事项 X99 不在抽查事项清单中")
    assert zh["V3"] == "检查V3：该次检查没有列出部门"
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
    vid = u["visit_id"]
    assert u["reason"] == (  # the visit named once
        f"visit {vid}: department market, March: needs 4 inspector-slots, has 2"
    )
    [shown] = res.diagnostics["unfilled"]
    assert shown["reason_zh"] == f"检查{vid}：market部门，3月：需要4个检查人次，现有2个"
    assert res.diagnostics["binding"] == [
        {
            "group": "department market, March",
            "group_zh": "market部门，3月",
            "needed": 4,
            "available": 2,
            "department": "market",
            "month": 3,
            "visit_id": None,
        }
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
    # every hard rule holds: by the registry's audit, and by the independent
    # plain-pandas oracle (which a broken rule mask cannot fool)
    audit = audit_assignment(res.assignments, res.visits, ds, policy=policy)
    assert audit.empty, audit.to_dict(orient="records")
    assert oracle(res, ds, policy) == []
    sizes = res.assignments.groupby("visit_id").size()
    assert (sizes >= policy.min_team).all()  # R11, per visit
    per_dept = res.assignments.groupby(["visit_id", "department"]).size()
    assert (per_dept <= policy.max_team).all()  # R14: each department's own team
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
        policy=policy,
    )
    assert audit_assignment(new.assignments, new.visits, ds, policy=policy).empty
    assert oracle(new, ds, policy) == []
    on = new.assignments[new.assignments["visit_id"] == row["visit_id"]]
    assert row["inspector_id"] not in set(on["inspector_id"])
    assert len(new.redraws) == 1


# ------------------------------------------------------ independent oracle
def _items_of(x: Any) -> list[str]:
    """The items of a ``;`` list (an empty or missing cell has none)."""
    text = "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)
    return [p.strip() for p in text.split(";") if p.strip()]


def oracle(
    res: AssignmentResult, ds: Dataset, policy: AssignmentPolicy
) -> list[tuple[str, str, str]]:
    """Every assigned inspector checked against the raw tables, in plain pandas.

    Independent of ``creditsup.assignment`` (neither the rule registry nor the
    audit): department, active, month availability, expertise, conflicts,
    rotation, team of at least two (and ``min_team``), every department and
    item of a staffed visit covered, and the monthly capacity.
    """
    a = res.assignments.astype(str)
    vis = res.visits.assign(visit_id=res.visits["visit_id"].astype(str))
    vis = vis.set_index("visit_id")
    ins = ds.inspectors.assign(inspector_id=ds.inspectors["inspector_id"].astype(str))
    ins = ins.set_index("inspector_id")
    items = {
        str(r.item_id): (
            str(r.department),
            "" if pd.isna(r.expertise) else str(r.expertise).strip(),
        )
        for r in ds.items.itertuples()
    }
    conflicts = set(
        zip(
            ds.conflicts["inspector_id"].astype(str),
            ds.conflicts["uscc"].astype(str),
            strict=True,
        )
    )
    last: dict[str, set[str]] = {}
    if policy.rotation and len(ds.history):
        h = ds.history.assign(uscc=ds.history["uscc"].astype(str))
        h = h[h["date"] == h.groupby("uscc")["date"].transform("max")]
        for u, ids in zip(h["uscc"], h["inspector_ids"], strict=True):
            last.setdefault(u, set()).update(_items_of(ids))
    out: list[tuple[str, str, str]] = []
    for vid, iid, dept in zip(
        a["visit_id"], a["inspector_id"], a["department"], strict=True
    ):
        v, i = vis.loc[vid], ins.loc[iid]
        if str(i["department"]) != dept or dept not in _items_of(v["departments"]):
            out.append((vid, iid, "department"))
        if not bool(i["active"]):
            out.append((vid, iid, "active"))
        if str(int(v["month"])) in _items_of(i["unavailable_months"]):
            out.append((vid, iid, "available"))
        needs = {items[x][1] for x in _items_of(v["items"]) if items[x][0] == dept}
        if needs and "" not in needs and not needs & set(_items_of(i["expertise"])):
            out.append((vid, iid, "expertise"))
        if (iid, str(v["uscc"])) in conflicts:
            out.append((vid, iid, "conflict"))
        if iid in last.get(str(v["uscc"]), set()):
            out.append((vid, iid, "rotation"))
    for vid, v in vis.iterrows():
        team = a[a["visit_id"] == vid]
        if v["status"] != "staffed":
            if len(team):
                out.append((str(vid), "", "unfilled visit has a team"))
            continue
        if len(team) < max(2, policy.min_team):
            out.append((str(vid), "", "team"))
        held = {
            (str(ins.loc[iid, "department"]), e)
            for iid in team["inspector_id"]
            for e in _items_of(ins.loc[iid, "expertise"])
        }
        for d in _items_of(v["departments"]):
            if d not in set(team["department"]):
                out.append((str(vid), "", f"no inspector of {d}"))
        for x in _items_of(v["items"]):
            if items[x][1] and items[x] not in held:
                out.append((str(vid), "", f"item {x} not covered"))
    month = a["visit_id"].map(vis["month"].astype(int))
    for (iid, m), n in a.groupby([a["inspector_id"], month]).size().items():
        if n > int(ins.loc[str(iid), "monthly_capacity"]):
            out.append(("", str(iid), f"capacity in month {m}"))
    return out


def test_oracle_sees_each_broken_rule(basic: tuple[pd.DataFrame, Dataset]) -> None:
    visits, ds = basic
    res = assign_inspectors(visits, ds, year=YEAR, seed="s")
    pol = AssignmentPolicy()
    assert oracle(res, ds, pol) == []
    i0 = sorted(team(res, "V1"))[0]
    ins = ds.inspectors.copy()
    ins.loc[ins["inspector_id"] == i0, "active"] = False
    ins.loc[ins["inspector_id"] == i0, "unavailable_months"] = "3"
    ins.loc[ins["inspector_id"] == i0, "expertise"] = "zzz"
    ins.loc[ins["inspector_id"] == i0, "monthly_capacity"] = 0
    broken = Dataset(
        entities=ds.entities,
        inspectors=ins,
        conflicts=pd.DataFrame({"inspector_id": [i0], "uscc": [USCCS[0]]}),
        items=ds.items,
        history=pd.DataFrame(
            {
                "uscc": [USCCS[0]],
                "date": [pd.Timestamp("2026-01-01")],
                "inspector_ids": [i0],
            }
        ),
    )
    found = {r for v, i, r in oracle(res, broken, pol) if (v, i) == ("V1", i0)}
    assert found == {"active", "available", "expertise", "conflict", "rotation"}
    assert any(
        r.startswith("capacity") for _, i, r in oracle(res, broken, pol) if i == i0
    )
    a = res.assignments
    food_on_v1 = pd.concat(
        [
            a,
            pd.DataFrame(
                [{"visit_id": "V1", "inspector_id": "F0", "department": "food"}]
            ),
        ]
    )
    bad = replace_assignments(res, food_on_v1)
    assert ("V1", "F0", "department") in oracle(bad, ds, pol)
    lone = replace_assignments(
        res, a[~((a["visit_id"] == "V1") & (a["inspector_id"] == i0))]
    )
    assert ("V1", "", "team") in oracle(lone, ds, pol)


def replace_assignments(res: AssignmentResult, a: pd.DataFrame) -> AssignmentResult:
    return AssignmentResult(
        assignments=a.reset_index(drop=True),
        visits=res.visits,
        diagnostics=res.diagnostics,
    )


# --------------------------------------------------------- rule registry
def test_registry_declares_each_rule_once() -> None:
    names = [r.name for r in HARD_RULES]
    assert names == [
        "department",
        "active",
        "available",
        "expertise",
        "conflict",
        "rotation",
    ]
    assert len({r.violation for r in HARD_RULES}) == len(HARD_RULES)
    for r in HARD_RULES:
        assert r.columns and all(r.columns.values())
        for text in (r.en, r.zh):
            assert text.who and text.no_holder and "{d}" in text.who
    assert [r.name for r in active_rules(AssignmentPolicy(rotation=False))] == names[
        :-1
    ]
    with (
        pytest.raises(ValueError, match="already registered"),
        registered(HARD_RULES[0]),
    ):
        pass
    with pytest.raises(ValueError, match="Unknown policy switch"):
        HardRule(
            name="x",
            columns={},
            mask=lambda a: np.ones(len(a.task), dtype=bool),
            audit=lambda r: (r.rows.iloc[:0], ""),
            violation="x",
            en=HARD_RULES[0].en,
            zh=HARD_RULES[0].zh,
            switch="no_such_field",
        )


@given(instances())
def test_each_rule_mask_agrees_with_its_audit(
    inst: tuple[pd.DataFrame, Dataset, AssignmentPolicy],
) -> None:
    """Per rule, the arc mask refuses exactly the pairs its audit check flags."""
    visits, ds, policy = inst
    P = prepare(visits, ds, policy, year=YEAR, seed="m")
    t = np.repeat(np.arange(len(P.t_visit)), len(P.insp_id))
    i = np.tile(np.arange(len(P.insp_id)), len(P.t_visit))
    keep = (P.insp_dept[i] == P.t_dept[t]) & ~prefailed(P)[P.t_visit[t]]
    t, i = t[keep], i[keep]
    asg = pd.DataFrame(
        {
            "visit_id": P.v_id[P.t_visit[t]].astype(str),
            "inspector_id": P.insp_id[i].astype(str),
            "department": np.asarray(P.dept_names, dtype=object)[P.t_dept[t]],
        }
    )
    found = audit_assignment(asg, P.visits, ds, policy=policy)
    for rule in P.rules:
        ok = rule.mask(Arcs(P, t, i, P.t_month[t], P.rule_data.get(rule.name)))
        refused = set(zip(asg["visit_id"][~ok], asg["inspector_id"][~ok], strict=True))
        hit = found[found["rule"] == rule.violation]
        assert refused == set(zip(hit["visit_id"], hit["inspector_id"], strict=True))


def test_diagnosis_speaks_chinese_through_the_registry() -> None:
    ds = make_dataset(
        [insp("M0"), insp("M1"), insp("M2", exp="ads")],
        [item("M01")],
        conflicts=[("M0", 0), ("M1", 0)],
    )
    visits = make_visits([("V1", 0, 2, "market", "M01")])
    pol = AssignmentPolicy()
    P = prepare(visits, ds, pol, year=YEAR, seed="s")
    S = new_state(P)
    failed = np.array([0])
    en, _ = diagnose(P, S, failed, P.v_month, pol)
    zh, zh_bind = diagnose(P, S, failed, P.v_month, pol, lang="zh")
    assert (
        "every qualified inspector is in conflict (department market, February)"
        in (en[0]["reason"])
    )
    assert zh[0]["reason"].startswith("检查V1：所有合格检查人员均与该对象存在利益冲突")
    assert "2月" in zh[0]["reason"] and zh_bind[0]["group"].startswith("检查V1：")


# ------------------------------------------- a new rule: one entry, one column
def _township_data(inp: RuleInputs) -> tuple[Any, Any]:
    return inp.inspector_values("township"), inp.entity_values("township")


def _township_mask(a: Arcs) -> Any:
    insp_township, visit_township = a.data
    return insp_township[a.insp] != visit_township[a.visit]


def _township_audit(r: AuditRows) -> tuple[pd.DataFrame, Any]:
    rows = r.rows
    bad = rows[rows["insp_township"].astype(str) == rows["ent_township"].astype(str)]
    return bad, "from the entity's township " + bad["ent_township"].astype(str)


TOWNSHIP = HardRule(
    name="township",
    columns={"entities": ("township",), "inspectors": ("township",)},
    prepare=_township_data,
    mask=_township_mask,
    audit=_township_audit,
    violation="own_township",
    en=RuleText(
        who="inspectors of department {d} from another township",
        no_holder="every holder of expertise {e} in department {d} lives in the "
        "entity's township",
    ),
    zh=RuleText(
        who="{d}非本乡镇的检查人员",
        no_holder="{d}具备专长{e}的检查人员均来自该对象所在乡镇",
    ),
)


@pytest.fixture
def townships(monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, Dataset]:
    # the one schema column, on the entities and on the inspectors
    for table in ("entities", "inspectors"):
        monkeypatch.setitem(
            SCHEMAS[table].columns, "township", Column("id", required=False, default="")
        )
    ins = [
        {**insp("M0"), "township": "T1"},
        {**insp("M1", leave="5"), "township": "T1"},
        {**insp("M2"), "township": "T2"},
        {**insp("M3"), "township": "T2"},
        {**insp("M4"), "township": "T2"},
    ]
    ds = make_dataset(ins, [item("M01")], entity_columns={"township": ["T1", "T2"] * 5})
    visits = make_visits(
        [
            ("V1", 0, 3, "market", "M01"),  # entity in T1: only M2, M3, M4
            ("V2", 1, 3, "market", "M01"),  # entity in T2: only M0, M1
            ("V3", 1, 5, "market", "M01"),  # T2 in May: M1 on leave, M0 alone
        ]
    )
    return visits, ds


def test_a_new_rule_is_one_registry_entry(
    townships: tuple[pd.DataFrame, Dataset],
) -> None:
    visits, ds = townships
    assert "township" in ds.entities.columns and "township" in ds.inspectors.columns
    pol = AssignmentPolicy(repair=False)
    # the default path is untouched: V3 is staffed, the arcs cross townships
    plain = assign_inspectors(visits, ds, pol, year=YEAR, seed="t")
    assert plain.is_feasible
    with registered(TOWNSHIP):
        assert [r.name for r in active_rules(pol)][-1] == "township"
        # candidate arcs
        P = prepare(visits, ds, pol, year=YEAR, seed="t")
        for prune in (True, False):
            a_t, a_i = candidate_arcs(
                P, np.arange(len(P.t_visit)), P.t_month, prune=prune, k_cross=3,
                seed="t", year=YEAR,
            )  # fmt: skip
            insp_t, visit_t = P.rule_data["township"]  # type: ignore[misc]
            assert len(a_t) and (insp_t[a_i] != visit_t[P.t_visit[a_t]]).all()
        # the assignment
        for k in range(4):
            res = assign_inspectors(visits, ds, pol, year=YEAR, seed=f"t{k}")
            assert team(res, "V1") <= {"M2", "M3", "M4"} and len(team(res, "V1")) == 2
            assert team(res, "V2") == {"M0", "M1"}
            # the diagnosis of the visit the rule makes unstaffable
            [u] = res.diagnostics["unfilled"]
            assert u == {
                "visit_id": "V3",
                "reason": "visit V3: 1 inspectors of department market from another "
                "township, the team needs 2",
                "reason_zh": "检查V3：market部门非本乡镇的检查人员1名，检查组需要2名",
            }
            assert res.diagnostics["unfilled"][0]["reason_zh"] == (
                "检查V3：market部门非本乡镇的检查人员1名，检查组需要2名"
            )
            assert res.diagnostics["binding"] == [
                {
                    "group": "visit V3: inspectors of department market from "
                    "another township",
                    "group_zh": "检查V3：market部门非本乡镇的检查人员",
                    "needed": 2,
                    "available": 1,
                    "department": "market",
                    "month": 5,
                    "visit_id": "V3",
                }
            ]
            # the audit
            assert audit_assignment(res.assignments, res.visits, ds, policy=pol).empty
            assert oracle(res, ds, pol) == []
        zh, _ = diagnose(P, new_state(P), np.array([2]), P.v_month, pol, lang="zh")
        assert (
            zh[0]["reason"] == "检查V3：market部门非本乡镇的检查人员1名，检查组需要2名"
        )
        m0_on_v1 = pd.concat(
            [
                res.assignments,
                pd.DataFrame(
                    [{"visit_id": "V1", "inspector_id": "M0", "department": "market"}]
                ),
            ]
        )
        found = audit_assignment(m0_on_v1, res.visits, ds, policy=pol)
        assert found[
            ["visit_id", "inspector_id", "rule", "detail"]
        ].values.tolist() == [
            ["V1", "M0", "own_township", "from the entity's township T1"]
        ]
        # its input column is required once the rule is in force
        with pytest.raises(DataValidationError, match="township"):
            assign_inspectors(
                visits,
                Dataset(
                    entities=ds.entities,
                    inspectors=ds.inspectors.drop(columns=["township"]),
                    conflicts=ds.conflicts,
                    items=ds.items,
                    history=ds.history,
                ),
                pol,
                year=YEAR,
                seed="t",
            )
    # back to the default registry
    assert audit_assignment(m0_on_v1, res.visits, ds, policy=pol).empty
    assert [r.name for r in active_rules(pol)] == [r.name for r in HARD_RULES]
