"""The draw means what bureaus mean (issue #12): tier ratios, legal floors, one
door per entity, quiet months, capacity, new entities, targeted draws.

Small versions of the done-when checks; ``benchmarks/draw_meaning.py`` runs
them at full size and reports the figures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditsup.datasets import synthetic_district, synthetic_tables
from creditsup.exceptions import ConfigError
from creditsup.io import write_dataset
from creditsup.sampling import DrawResult, SamplingPolicy, draw_visits
from creditsup.sampling.policy import Floors, SeparateVisit, TargetedDraw
from creditsup.schemas import Dataset, validate_dataset
from creditsup.tiers import rate_entities
from strategies import YEAR, build_tables, eight_departments

SYN_YEAR = 2026
#: Ratios below the R08 floors on the synthetic tier mix (20/60/15/5 %).
LOW = {"A": 0.01, "B": 0.01, "C": 0.05, "D": 0.30}


def tiers_of(ds: Dataset) -> pd.DataFrame:
    """Tiers as the plan computes them: scored on 31 December before the year."""
    return rate_entities(ds, as_of=f"{SYN_YEAR - 1}-12-31").table[["uscc", "tier"]]


@pytest.fixture(scope="module")
def district() -> tuple[Dataset, pd.DataFrame]:
    ds = synthetic_district(6000, 60, seed=2, year=SYN_YEAR)
    return ds, tiers_of(ds)


@pytest.fixture(scope="module")
def eight() -> tuple[Dataset, pd.DataFrame]:
    ds = eight_departments(4000, 300)
    return ds, tiers_of(ds)


def pooled_z(results: list[DrawResult]) -> pd.DataFrame:
    """Per tier over several seeds: visited share, planned share and z."""
    acc = pd.concat([r.accounting for r in results])
    g = acc.groupby("tier").agg(
        n=("n_eligible", "sum"),
        drawn=("n_drawn", "sum"),
        target=("entity_target", "mean"),
    )
    g["share"] = g["drawn"] / g["n"]
    g["z"] = (g["share"] - g["target"]) / np.sqrt(
        g["target"] * (1 - g["target"]) / g["n"]
    )
    return g


def assert_meaning(results: list[DrawResult], months: set[int]) -> None:
    """The done-when checks of issue #12 on draws under one policy."""
    z = pooled_z(results)
    assert z["z"].abs().max() < 4.0, z
    for r in results:
        acc = r.accounting
        assert acc["n_drawn"].sum() >= 0.05 * acc["n_eligible"].sum()  # R08
        visited = r.visits["uscc"]
        assert visited.duplicated().sum() <= 0.02 * visited.nunique()  # R14
        assert set(r.visits["month"]) <= months  # R16
        assert "no_tier" not in set(r.exclusions["reason_code"])  # C3
        fl = r.floors.set_index("floor")
        assert (fl.loc[fl["status"] == "ok", "realized"] >= 0.0).all()
        assert fl.loc["key_d", "realized"] == 1.0  # R23


def test_synthetic_district_means_what_bureaus_mean(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    policy = SamplingPolicy(months=(6, 9))
    results = [
        draw_visits(ds, tiers, policy, year=SYN_YEAR, seed=f"m{k}") for k in range(8)
    ]
    assert_meaning(results, {6, 9})
    r = results[0]
    # entities registered after the scoring date got the tier for new entities
    new = ds.entities["established"] > pd.Timestamp(f"{SYN_YEAR - 1}-12-31")
    assumed = r.assumed_tiers
    assert set(assumed["uscc"]) == set(ds.entities.loc[new, "uscc"])
    assert set(assumed["reason_code"]) == {"new_entity"} and len(assumed) > 50
    assert set(assumed["tier"]) == {"B"}
    drawn_new = set(r.visits["uscc"]) & set(assumed["uscc"])
    assert drawn_new and set(
        r.visits.set_index("uscc").loc[list(drawn_new), "tier"]
    ) == {"B"}
    # A-C: entities whose items all sit at the tier ratio are drawn at that ratio
    acc = r.accounting.set_index("tier")
    assert acc.loc["A", "tier_ratio"] == 0.05 and acc.loc["D", "tier_ratio"] == 0.7
    assert (acc["entity_target"] >= acc["tier_ratio"] - 1e-12).all()
    # publicity checks reach the 3 % floor of enterprises (market-01 is flagged)
    assert r.floors.set_index("floor").loc["publicity", "realized"] >= 0.03
    ledger_steps = {x["step"] for x in r.ledger}
    assert {"floors", "tiers_assumed", "capacity"} <= ledger_steps


def test_eight_departments_with_ample_capacity(
    eight: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = eight
    assert ds.items["department"].nunique() == 8 and len(ds.items) == 21
    results = [draw_visits(ds, tiers, year=SYN_YEAR, seed=f"e{k}") for k in range(8)]
    assert_meaning(results, set(range(1, 13)))
    for r in results:
        needs = r.capacity_needs
        assert (needs["shortfall"] == 0).all() and needs["needed"].sum() > 0
        assert not [w for w in r.warnings if w["code"] == "capacity_exceeded"]
        assert r.budget["scale"] == 1.0 and r.budget["shortfall_slots"] == 0
        assert r.visits["joint"].mean() > 0.5  # one door: departments go together


# -------------------------------------------------------------------- floors
def test_a_policy_below_a_floor_is_refused_unless_waived(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    low = SamplingPolicy(ratios=LOW, key_ratios=LOW | {"D": 1.0})
    with pytest.raises(ConfigError, match="legal floor 'overall'"):
        draw_visits(ds, tiers, low, year=SYN_YEAR, seed="f")
    one = low.model_copy(update={"waive": ("overall",), "waive_reason": "county"})
    with pytest.raises(ConfigError, match="legal floor 'publicity'"):
        draw_visits(ds, tiers, one, year=SYN_YEAR, seed="f")
    reason = "Henan 2020 profile for individual businesses (豫市监)"
    waived = SamplingPolicy(
        ratios=LOW,
        key_ratios=LOW | {"D": 1.0},
        waive=("publicity", "overall"),
        waive_reason=reason,
    )
    res = draw_visits(ds, tiers, waived, year=SYN_YEAR, seed="f")
    assert [w["floor"] for w in res.waivers] == ["overall", "publicity"]
    assert {w["reason"] for w in res.waivers} == {reason}
    assert res.waivers[0]["required"] == 0.05 and res.waivers[0]["planned"] < 0.05
    assert res.waivers[1]["required"] == 0.03 and res.waivers[1]["planned"] < 0.03
    assert f"WAIVED floor overall: {reason}" in res.summary()
    step = next(x for x in res.ledger if x["step"] == "floors")
    assert step["waivers"] == res.waivers
    assert res.floors.set_index("floor").loc["overall", "status"] == "waived"
    with pytest.raises(ConfigError, match="without a reason"):
        SamplingPolicy(waive=("overall",))
    # a stricter local floor is refused too
    strict = SamplingPolicy(floors=Floors(publicity=0.5))
    with pytest.raises(ConfigError, match="legal floor 'publicity'"):
        draw_visits(ds, tiers, strict, year=SYN_YEAR, seed="f")


def test_key_items_for_tier_d_stay_at_100_percent(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    with pytest.raises(ConfigError, match="legal floor 'key_d'"):
        SamplingPolicy(key_ratios={"D": 0.9})
    items = ds.items.copy()
    items.loc[items["item_id"] == "drug-01", "ratio_D"] = 0.5  # an item override
    lowered = Dataset(**{**ds.tables(), "items": items})
    with pytest.raises(ConfigError, match=r"'key_d'.*50\.00% against 100%"):
        draw_visits(lowered, tiers, year=SYN_YEAR, seed="k")
    # the budgets never scale key items for D
    res = draw_visits(
        ds, tiers, SamplingPolicy(max_visit_share=0.06), year=SYN_YEAR, seed="k"
    )
    assert res.policy.budget == "share"  # the documented mapping of the old key
    assert res.budget["floor_scale"] <= res.budget["scale"] < 1
    assert res.floors.set_index("floor").loc["key_d", "realized"] == 1.0
    assert any(w["code"] == "ratios_scaled" for w in res.warnings)


def test_publicity_floor_needs_publicity_items() -> None:
    raw = build_tables(200, seed=8)
    raw["items"]["publicity"] = "false"
    ds = validate_dataset(raw)
    tiers = pd.DataFrame({"uscc": ds.entities["uscc"], "tier": "B"})
    res = draw_visits(ds, tiers, year=YEAR, seed="p")
    assert res.floors.set_index("floor").loc["publicity", "status"] == "unchecked"
    assert any(w["code"] == "publicity_floor_unchecked" for w in res.warnings)
    listed = draw_visits(
        ds, tiers, SamplingPolicy(publicity_items=("M01",)), year=YEAR, seed="p"
    )
    assert listed.floors.set_index("floor").loc["publicity", "status"] == "ok"
    with pytest.raises(ConfigError, match="not in the items table: Z9"):
        draw_visits(
            ds, tiers, SamplingPolicy(publicity_items=("Z9",)), year=YEAR, seed="p"
        )


# ------------------------------------------------------------------ capacity
def test_capacity_shortfall_is_said_and_budget_capacity_fits(
    eight: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = eight
    scarce = Dataset(
        **{**ds.tables(), "inspectors": ds.inspectors.iloc[::4].reset_index(drop=True)}
    )
    res = draw_visits(scarce, tiers, year=SYN_YEAR, seed="c")
    needs = res.capacity_needs
    assert list(needs.columns) == [
        "department",
        "month",
        "needed",
        "available",
        "shortfall",
        "visits",
        "extra_inspectors",
    ]
    short = needs[needs["shortfall"] > 0]
    assert len(short) > 0
    assert (short["shortfall"] == short["needed"] - short["available"]).all()
    w = next(x for x in res.warnings if x["code"] == "capacity_exceeded")
    assert w["capacity"] and w["fit_scale"] is not None and 0 < w["fit_scale"] < 1
    assert f"{w['fit_scale']:.4f}" in w["message"]
    assert res.budget["budget"] == "none" and res.budget["scale"] == 1.0
    fitted = draw_visits(
        scarce, tiers, SamplingPolicy(budget="capacity"), year=SYN_YEAR, seed="c"
    )
    assert (fitted.capacity_needs["shortfall"] == 0).all()
    assert fitted.budget["scale"] == pytest.approx(w["fit_scale"])
    assert fitted.budget["scale"] >= fitted.budget["floor_scale"]
    assert set(fitted.visits["uscc"]) <= set(res.visits["uscc"])  # nested (one PRN)
    fl = fitted.floors.set_index("floor")
    assert (fl.loc[fl["status"] == "ok", "realized"] >= fl["required"]).all()
    assert any(x["code"] == "ratios_scaled" for x in fitted.warnings)
    # the tiers keep their order: D is still drawn more often than A
    acc = fitted.accounting.set_index("tier")
    assert (
        acc.loc["D", "drawn_share"]
        > acc.loc["C", "drawn_share"]
        > acc.loc["A", "drawn_share"]
    )


def test_capacity_below_the_floors_keeps_the_floors(
    eight: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = eight
    bare = Dataset(
        **{
            **ds.tables(),
            "inspectors": ds.inspectors.groupby("department").head(1),
        }
    )
    res = draw_visits(
        bare, tiers, SamplingPolicy(budget="capacity"), year=SYN_YEAR, seed="b"
    )
    assert res.budget["fit_scale"] is None
    assert res.budget["scale"] == res.budget["floor_scale"]
    assert res.budget["shortfall_at_floors"] > 0
    fl = res.floors.set_index("floor")
    assert fl.loc["overall", "realized"] >= 0.05
    w = next(x for x in res.warnings if x["code"] == "capacity_exceeded")
    assert "even the legal floors do not fit" in w["message"]


# --------------------------------------------- one door, seasons, quiet months
def test_separate_visits_keep_their_months_and_the_one_door_share_is_watched(
    eight: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = eight
    policy = SamplingPolicy(
        months=(3, 6, 9, 11),
        separate={"autumn": SeparateVisit(items=("fire-01", "fire-02"), months=(11,))},
    )
    res = draw_visits(ds, tiers, policy, year=SYN_YEAR, seed="s")
    fire = res.visits["departments"] == "fire"
    assert fire.any() and (res.visits.loc[fire, "month"] == 11).all()
    assert set(res.visits.loc[~fire, "month"]) <= {3, 6, 9, 11}
    assert not res.visits.loc[~fire, "items"].str.contains("fire-").any()
    per = res.visits.groupby("uscc").size()
    assert per.max() == 2
    share = (per > 1).mean()
    warned = any(w["code"] == "multi_visit_share" for w in res.warnings)
    assert warned == (share > 0.02)
    merge = next(x for x in res.ledger if x["step"] == "merge")
    assert merge["n_entities_multi_visit"] == int((per > 1).sum())
    with pytest.raises(ConfigError, match="within the policy's months"):
        SamplingPolicy(
            months=(6, 9), separate={"x": SeparateVisit(items=("a",), months=(7,))}
        )


# ----------------------------------------------------------- targeted draws
def test_targeted_draws_stay_in_their_filter_and_ride_on_the_visit(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    targets = (
        TargetedDraw(
            name="no_report_2y",
            ratio=0.9,
            items=("@publicity",),
            record_kind="annual_report_missing",
            min_records=2,
        ),
        TargetedDraw(
            name="crowded_address",
            ratio=0.5,
            items=("@publicity", "market-04"),
            min_firms_at_address=4,
        ),
    )
    policy = SamplingPolicy(targeted=targets)
    res = draw_visits(ds, tiers, policy, year=SYN_YEAR, seed="t")
    tab = res.targeted.set_index("task")
    assert (tab["n_matched"] > 0).all() and (tab["n_checks"] > 0).all()
    # R09: every targeted check falls inside its filter
    rec = ds.records
    missing = rec[
        (rec["kind"] == "annual_report_missing")
        & (rec["date"] >= pd.Timestamp(f"{SYN_YEAR - 2}-01-01"))
        & (rec["date"] < pd.Timestamp(f"{SYN_YEAR}-01-01"))
    ]
    two = set(missing.groupby("uscc").size().loc[lambda s: s >= 2].index)
    addr = ds.entities[ds.entities["status"] == "active"]["address"]
    crowded_addr = set(addr.value_counts().loc[lambda s: s >= 4].index)
    crowded = set(ds.entities.loc[ds.entities["address"].isin(crowded_addr), "uscc"])
    c = res.checks[res.checks["source"] == "targeted"]
    assert set(c.loc[c["task"] == "no_report_2y", "uscc"]) <= two
    assert set(c.loc[c["task"] == "crowded_address", "uscc"]) <= crowded
    publicity = set(ds.items.loc[ds.items["publicity"], "item_id"])
    assert set(c.loc[c["task"] == "no_report_2y", "item_id"]) <= publicity
    # merged into the entity's one visit
    assert res.visits["uscc"].is_unique
    # matched entities are visited far more often than their tiers alone give
    visited = set(res.visits["uscc"])
    eligible_two = two - set(res.exclusions["uscc"])
    assert len(eligible_two & visited) >= 0.75 * len(eligible_two)
    steps = [x for x in res.ledger if x["step"] == "targeted"]
    assert [x["task"] for x in steps] == ["no_report_2y", "crowded_address"]
    with pytest.raises(ConfigError, match="needs at least one filter"):
        TargetedDraw(name="x", ratio=0.1, items=("market-01",))
    with pytest.raises(ConfigError, match="not in the items table: nope"):
        draw_visits(
            ds,
            tiers,
            SamplingPolicy(
                targeted=(
                    TargetedDraw(name="y", ratio=0.1, items=("nope",), tiers=("A",)),
                )
            ),
            year=SYN_YEAR,
            seed="t",
        )


# ---------------------------------------------------------- new entities (C5)
def test_entities_without_a_tier_get_the_policy_tier() -> None:
    raw = build_tables(120, seed=9, history_per_entity=0.0, dereg=0.0)
    raw["entities"].loc[:9, "established"] = "2026-12-15"
    ds = validate_dataset(raw)
    tiers = pd.DataFrame({"uscc": ds.entities["uscc"], "tier": "C"})
    new = set(ds.entities.loc[ds.entities["established"] > "2026-12-01", "uscc"])
    older = ds.entities["uscc"].iloc[-1]
    known = tiers[~tiers["uscc"].isin(new | {older})]
    known.attrs["as_of"] = "2026-12-01"
    res = draw_visits(
        ds, known, SamplingPolicy(new_entity_tier="D"), year=YEAR, seed="n"
    )
    a = res.assumed_tiers.set_index("uscc")
    assert set(a.index) == new | {older}
    assert set(a.loc[list(new), "reason_code"]) == {"new_entity"}
    assert a.loc[older, "reason_code"] == "untiered"
    assert set(a["tier"]) == {"D"} and a["eligible"].all()
    assert res.exclusions.empty or "no_tier" not in set(res.exclusions["reason_code"])
    # C5: with an observation period the new entities wait (never 'no_tier')
    obs = SamplingPolicy(observation_days=90, observation_tiers=("B",))
    res = draw_visits(ds, known, obs, year=YEAR, seed="n")
    reason = res.exclusions.set_index("uscc")["reason_code"]
    assert set(reason.reindex(list(new))) == {"observation_period"}
    # without the scoring date, a missing entity is 'untiered'
    bare = known.copy()
    bare.attrs = {}
    res = draw_visits(ds, bare, year=YEAR, seed="n")
    assert set(res.assumed_tiers["reason_code"]) == {"untiered"}


# ---------------------------------------------------------------------- CLI
def test_cli_refuses_a_policy_below_a_floor_with_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "D"
    env = {**os.environ, "COLUMNS": "200"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "creditsup", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    # the data `creditsup synth --entities 1500 --inspectors 40 --seed 1` writes
    write_dataset(synthetic_tables(1500, 40, seed="1", year=2026), data)
    pol = tmp_path / "low.toml"
    pol.write_text(
        "[sampling]\nratios = { A = 0.01, B = 0.01, C = 0.05, D = 0.30 }\n", "utf-8"
    )
    res = cli("plan", str(data), "--year", "2026", "--seed", "x", "--policy", str(pol),
              "--out", str(tmp_path / "P"), "--quiet")  # fmt: skip
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "'overall'" in lines[0] and "waive" in lines[0]
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "P").exists()


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `creditsup synth --entities 1200 --inspectors 60 --seed 4` writes."""
    data = tmp_path_factory.mktemp("fit") / "D"
    write_dataset(synthetic_tables(1200, 60, seed="4", year=2026), data)
    return data


def _cli(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "CREDITSUP_LANG": lang}
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_scarce_capacity_exits_3_with_the_shortfall_said(
    cli_data: Path, tmp_path: Path
) -> None:
    """The draw is kept; CLI, diagnostics.json and the report name each
    (department, month) short, the inspectors to add and the factor that fits."""
    data = tmp_path / "D"
    shutil.copytree(cli_data, data)
    ins = pd.read_csv(data / "inspectors.csv", dtype=str, keep_default_na=False)
    ins["monthly_capacity"] = "1"
    ins.to_csv(data / "inspectors.csv", index=False)
    out = tmp_path / "P"
    res = _cli("plan", str(data), "--year", "2026", "--seed", "s", "--out", str(out),
               "--quiet")  # fmt: skip
    assert res.returncode == 3, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "capacity shortfall:" in res.stderr
    assert re.search(r"department \w+, month \d+: needs \d+ inspector-slots, has \d+; "
                     r"\d+ more inspector\(s\) needed", res.stderr)  # fmt: skip
    assert 'budget = "capacity" multiplies them by' in res.stderr
    diag = json.loads((out / "diagnostics.json").read_text("utf-8"))
    short = diag["capacity"]
    assert short and all(c["needed"] > c["available"] for c in short)
    assert all(c["shortfall"] == c["needed"] - c["available"] for c in short)
    assert all(c["extra_inspectors"] >= 1 for c in short)
    assert diag["budget"]["budget"] == "none" and diag["budget"]["scale"] == 1.0
    assert 0 < diag["budget"]["fit_scale"] < 1
    needs = pd.read_csv(out / "capacity_needs.csv")
    assert int(needs["shortfall"].sum()) == sum(c["shortfall"] for c in short)
    zh = _cli("plan", str(data), "--year", "2026", "--seed", "s", "--out", str(out),
              "--quiet", lang="zh")  # fmt: skip
    assert zh.returncode == 3 and "检查力量不足" in zh.stderr
    rep = _cli("report", str(out), "--out", str(tmp_path / "r.html"), lang="zh")
    assert rep.returncode == 0, rep.stderr
    html = (tmp_path / "r.html").read_text("utf-8")
    assert "法定底线与检查力量" in html and "检查力量缺口" in html
    # the saved diagnosis speaks Chinese in a report made from the bundle
    assert any(u["reason_zh"] in html for u in diag["unfilled"])


def test_cli_budget_capacity_and_waivers_are_printed(
    cli_data: Path, tmp_path: Path
) -> None:
    data = tmp_path / "D"
    shutil.copytree(cli_data, data)
    ins = pd.read_csv(data / "inspectors.csv", dtype=str, keep_default_na=False)
    ins["monthly_capacity"] = "1"
    ins.to_csv(data / "inspectors.csv", index=False)
    pol = tmp_path / "p.toml"
    pol.write_text(
        '[sampling]\nbudget = "capacity"\nratios = { A = 0.04, B = 0.10, C = 0.30, '
        'D = 0.70 }\nwaive = ["publicity"]\nwaive_reason = "县局 2026 年公示检查另行安排"\n',
        "utf-8",
    )
    out = tmp_path / "P"
    res = _cli("plan", str(data), "--year", "2026", "--seed", "s", "--out", str(out),
               "--policy", str(pol), "--quiet")  # fmt: skip
    assert res.returncode in (0, 3), res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "the discretionary ratios were multiplied by" in res.stderr
    assert "waived" in res.stderr and "县局 2026 年公示检查另行安排" in res.stderr
    diag = json.loads((out / "diagnostics.json").read_text("utf-8"))
    assert diag["budget"]["budget"] == "capacity" and diag["budget"]["scale"] < 1
    assert [w["floor"] for w in diag["waivers"]] == ["publicity"]
    ledger = [
        json.loads(x) for x in (out / "ledger.jsonl").read_text("utf-8").splitlines()
    ]
    floors = [r for r in ledger if r.get("step") == "floors"]
    assert [(w["floor"], w["reason"]) for w in floors[0]["waivers"]] == [
        ("publicity", "县局 2026 年公示检查另行安排")
    ]
    verify = _cli("verify", str(out), "--data", str(data))
    assert verify.returncode == 0, verify.stdout + verify.stderr
