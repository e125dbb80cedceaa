"""Tests for the synthetic district (:mod:`creditsup.datasets`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from creditsup import uscc
from creditsup.datasets import (
    ENTITY_TYPE_SHARES,
    min_inspectors,
    synthetic_district,
    synthetic_tables,
    write_synthetic_district,
)
from creditsup.sampling import SamplingPolicy, draw_visits
from creditsup.schemas import PROBLEM_RESULTS, explode_list, load_dataset
from creditsup.tiers import rate_entities

ALPHA = 1e-3
SNAPSHOT = pd.Timestamp("2026-03-31")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return synthetic_tables(20_000, 60, seed=11, include_latent=True)


@pytest.fixture(scope="module")
def big() -> dict[str, pd.DataFrame]:
    """The default size (50k entities, 100 inspectors)."""
    return synthetic_tables(seed="big", include_latent=True)


# --------------------------------------------------------------------------- #
# determinism
# --------------------------------------------------------------------------- #
def test_same_seed_gives_identical_bytes() -> None:
    a = synthetic_tables(3_000, 30, seed="same")
    b = synthetic_tables(3_000, 30, seed="same")
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].to_csv(index=False) == b[name].to_csv(index=False), name


def test_int_and_str_seed_are_the_same_seed() -> None:
    a = synthetic_tables(500, 30, seed=5)
    b = synthetic_tables(500, 30, seed="5")
    pd.testing.assert_frame_equal(a["entities"], b["entities"])


def test_different_seeds_differ() -> None:
    a = synthetic_tables(3_000, 30, seed=1)
    b = synthetic_tables(3_000, 30, seed=2)
    assert not set(a["entities"]["uscc"]) & set(b["entities"]["uscc"])
    assert a["entities"]["name"].tolist() != b["entities"]["name"].tolist()
    assert not a["records"].equals(b["records"])
    assert not a["history"].equals(b["history"])
    assert a["inspectors"]["name"].tolist() != b["inspectors"]["name"].tolist()
    pd.testing.assert_frame_equal(a["items"], b["items"])  # the catalogue is fixed


# --------------------------------------------------------------------------- #
# entities
# --------------------------------------------------------------------------- #
def _type_counts(seeds: range, n: int) -> np.ndarray:
    counts = np.zeros(len(ENTITY_TYPE_SHARES))
    for seed in seeds:
        ent = synthetic_tables(n, 30, seed=f"types-{seed}", history_years=0)["entities"]
        vc = ent["entity_type"].value_counts()
        counts += [vc.get(t, 0) for t in ENTITY_TYPE_SHARES]
    return counts


def test_entity_type_shares() -> None:
    counts = _type_counts(range(5), 4_000)
    shares = np.array(list(ENTITY_TYPE_SHARES.values()))
    assert stats.chisquare(counts, counts.sum() * shares).pvalue > ALPHA
    # power: a district with 60 % individual businesses would be rejected
    biased = np.array([0.60, 0.355, 0.025, 0.02])
    assert stats.chisquare(counts, counts.sum() * biased).pvalue < ALPHA
    assert shares[0] > 0.6  # individual businesses are the majority


def test_usccs_are_valid_with_type_and_region_prefix(
    tables: dict[str, pd.DataFrame],
) -> None:
    ent = tables["entities"]
    assert (uscc.check_array(ent["uscc"]) == "ok").all()
    assert ent["uscc"].is_unique
    prefix = ent["uscc"].str[:2]
    expected = {"individual": {"92"}, "enterprise": {"91"}, "cooperative": {"93"}}
    for t, pre in expected.items():
        assert set(prefix[ent["entity_type"] == t]) == pre
    assert set(prefix[ent["entity_type"] == "other"]) <= {"12", "52"}
    assert (ent["uscc"].str[2:8] == ent["region"]).all()


def test_entity_attributes_are_realistic(tables: dict[str, pd.DataFrame]) -> None:
    ent = tables["entities"]
    assert ent["industry"].str.fullmatch(r"[A-T]\d{4}").all()
    assert ent["region"].str.fullmatch(r"1409\d\d").all()
    assert 10 <= ent["region"].nunique() <= 20
    age = (SNAPSHOT - ent["established"]).dt.days / 365.25
    assert age.min() >= 0 and age.max() > 20
    assert age.median() < age.mean()  # skewed towards recent entities
    gone = ent["status"].isin(["deregistered", "revoked"]).mean()
    assert 0.04 <= gone <= 0.09
    # individual businesses are mostly shops and restaurants
    ind = ent.loc[ent["entity_type"] == "individual", "industry"]
    assert ind.str[:1].isin(["F", "H"]).mean() > 0.6
    # co-operatives are agricultural
    coop = ent.loc[ent["entity_type"] == "cooperative", "industry"]
    assert (
        coop.str[:1].isin(["A", "C", "F"]).all() and coop.str[:1].eq("A").mean() > 0.8
    )
    assert (
        ent.loc[ent["entity_type"] == "cooperative", "name"]
        .str.endswith("专业合作社")
        .all()
    )
    assert (
        ent.loc[ent["entity_type"] == "enterprise", "name"].str.contains("公司").all()
    )
    # key supervision: food, drugs, special equipment...
    key = ent.groupby(ent["industry"].str[:3])["key_supervision"].mean()
    assert key["C14"] > 0.7 and key["F52"] < 0.1
    assert 0.02 < ent["key_supervision"].mean() < 0.12


def test_relationships_have_signal(tables: dict[str, pd.DataFrame]) -> None:
    ent = tables["entities"]
    act = ent["status"] == "active"
    per_address = ent.groupby("address")["uscc"].transform("size")
    assert per_address.max() >= 10  # cluster registrations (C2)
    per_rep = ent.groupby(["legal_rep", "region"])["uscc"].transform("size")
    shared = (per_rep > 1) | (per_address > 1)
    risk = ent["_latent_risk"]
    assert risk[shared & act].mean() > risk[~shared & act].mean() + 0.2


# --------------------------------------------------------------------------- #
# check items, inspectors, conflicts
# --------------------------------------------------------------------------- #
def test_items_catalogue(tables: dict[str, pd.DataFrame]) -> None:
    items = tables["items"]
    assert 30 <= len(items) <= 50
    assert items["item_id"].is_unique
    assert items["legal_basis"].str.strip().str.len().gt(0).all()
    assert items["legal_basis"].str.contains("《").all()
    assert 8 <= items["department"].nunique() <= 12
    assert set(items["kind"]) == {"general", "key"}
    groups = items.dropna(subset=["joint_group"]).groupby("joint_group")["department"]
    assert (groups.nunique() >= 2).all() and len(groups) >= 3
    assert items[[f"ratio_{t}" for t in "ABCD"]].notna().any(axis=1).sum() >= 2
    # every item applies to some entity of the district
    ent = tables["entities"]
    for it in items.itertuples():
        types = ent["entity_type"].isin(str(it.entity_types).split(";")) | (
            it.entity_types == "*"
        )
        inds = (it.industries == "*") | ent["industry"].str.startswith(
            tuple(str(it.industries).split(";"))
        )
        assert (types & inds).any(), it.item_id


@pytest.mark.parametrize(
    ("n_entities", "n_inspectors"),
    [(500, min_inspectors()), (5_000, 40), (20_000, 60), (20_000, 200)],
)
def test_every_item_expertise_is_covered_every_month(
    n_entities: int, n_inspectors: int
) -> None:
    t = synthetic_tables(n_entities, n_inspectors, seed="cover", history_years=0)
    insp, items = t["inspectors"], t["items"]
    assert len(insp) == n_inspectors and insp["inspector_id"].is_unique
    act = insp[insp["active"]]
    fields = explode_list(act["expertise"])
    long = act.loc[fields.index, ["department", "unavailable_months"]].assign(
        field=fields.to_numpy()
    )
    needed = items.loc[items["expertise"] != "", ["department", "expertise"]]
    for dep, field in needed.drop_duplicates().itertuples(index=False):
        holders = long[(long["department"] == dep) & (long["field"] == field)]
        for month in range(1, 13):
            away = (
                holders["unavailable_months"]
                .str.split(";")
                .map(lambda m, month=month: str(month) in m)
            )
            assert (~away).sum() >= 2, (dep, field, month)
    # expertise fields are those of the inspector's own department
    for dep, fields_ in long.groupby("department")["field"]:
        assert set(fields_) <= set(items.loc[items["department"] == dep, "expertise"])


def test_capacity_is_feasible_but_not_trivial(big: dict[str, pd.DataFrame]) -> None:
    insp = big["inspectors"]
    assert insp["monthly_capacity"].between(2, 20).all()
    assert 3 <= insp["monthly_capacity"].median() <= 15
    assert 0.01 <= (~insp["active"]).mean() <= 0.1
    assert insp["unavailable_months"].ne("").mean() > 0.2
    assert insp["certificate_no"].is_unique


def test_roster_covers_the_default_draw_of_one_door_visits() -> None:
    """The roster is sized for the default plan (one door per entity, R14): every
    department can staff its checks in the year, with slack but not unlimited."""
    ds = synthetic_district(8_000, 100, seed="roster", year=2026)
    tiers = rate_entities(ds, as_of="2025-12-31").table[["uscc", "tier"]]
    draw = draw_visits(ds, tiers, SamplingPolicy(), year=2026, seed="roster")
    need = draw.capacity_needs.groupby("department")[["needed", "available"]].sum()
    assert len(need) >= 8
    ratio = need["available"] / need["needed"]
    assert (ratio >= 1.1).all() and (ratio <= 3.0).all(), ratio.to_dict()
    assert int(draw.capacity_needs["shortfall"].sum()) <= 0.02 * need["needed"].sum()


def test_conflicts_are_sparse_and_reasoned(tables: dict[str, pd.DataFrame]) -> None:
    conf, insp, ent = tables["conflicts"], tables["inspectors"], tables["entities"]
    assert not conf.duplicated(["inspector_id", "uscc"]).any()
    assert conf["reason"].notna().all() and conf["reason"].nunique() >= 3
    density = len(conf) / (len(insp) * len(ent))
    assert 0 < density < 0.01
    same = conf.merge(insp[["inspector_id", "region"]], on="inspector_id").merge(
        ent[["uscc", "region"]], on="uscc", suffixes=("_i", "_e")
    )
    assert (same["region_i"] == same["region_e"]).mean() > 0.6


# --------------------------------------------------------------------------- #
# credit records and history
# --------------------------------------------------------------------------- #
def test_records_are_consistent(tables: dict[str, pd.DataFrame]) -> None:
    rec, ent = tables["records"], tables["entities"]
    kinds = set(rec["kind"])
    assert kinds == {
        "penalty",
        "abnormal_list",
        "serious_illegal_list",
        "complaint",
        "annual_report_late",
        "annual_report_missing",
        "check_problem",
        "tax_credit",
        "honor",
        "commitment_broken",
        "product_sampling_failed",
    }
    assert rec["date"].max() <= SNAPSHOT
    assert rec["date"].min() < SNAPSHOT - pd.DateOffset(years=4)
    est = rec["uscc"].map(ent.set_index("uscc")["established"])
    assert (rec["date"] >= est).all()
    assert (rec["end_date"].isna() | (rec["end_date"] > rec["date"])).all()
    assert (rec["restored_on"].isna() | (rec["restored_on"] > rec["date"])).all()
    pen = rec[rec["kind"] == "penalty"]
    assert set(pen["severity"]) == {1.0, 2.0, 3.0}
    months = (pen["end_date"] - pen["date"]).dt.days
    assert months[pen["severity"] == 1].between(89, 92).all()  # R21: 3 months
    assert months[pen["severity"] > 1].between(1095, 1097).all()  # 3 years
    assert set(rec.loc[rec["kind"] == "tax_credit", "value"]) == set("ABMCD")
    for kind in ("abnormal_list", "serious_illegal_list"):
        part = rec[rec["kind"] == kind]
        assert 0 < part["restored_on"].notna().mean() < 1, kind


def _ref_tiers(t: dict[str, pd.DataFrame]) -> pd.Series:
    """A plain additive scorecard (points per effective negative record)."""
    ent, rec = t["entities"], t["records"]
    eff = (rec["end_date"].isna() | (rec["end_date"] > SNAPSHOT)) & (
        rec["restored_on"].isna() | (rec["restored_on"] > SNAPSHOT)
    )
    years = (SNAPSHOT - rec["date"]).dt.days / 365.25
    k = rec["kind"]
    pts = pd.Series(0.0, index=rec.index)
    pts[(k == "penalty") & eff] = rec["severity"].map({1.0: 10, 2.0: 25, 3.0: 40})
    recent = {
        "annual_report_missing": (2, 15),
        "annual_report_late": (2, 5),
        "complaint": (2, 5),
        "check_problem": (3, 15),
        "product_sampling_failed": (2, 15),
        "commitment_broken": (3, 20),
    }
    for kind, (window, points) in recent.items():
        pts[(k == kind) & (years < window)] = points
    pts[(k == "honor") & eff] = -15
    tax = rec[k == "tax_credit"].sort_values("date").groupby("uscc")["value"].last()
    score = pts.groupby(rec["uscc"]).sum().reindex(ent["uscc"], fill_value=0)
    score += tax.map({"A": -10, "C": 10, "D": 25}).reindex(ent["uscc"]).fillna(0)
    age = ((SNAPSHOT - ent["established"]).dt.days / 365.25).to_numpy()
    s = score.to_numpy() + np.where(age < 1, 5, 0) - np.where(age > 10, 5, 0)
    si = ent["uscc"].isin(rec.loc[(k == "serious_illegal_list") & eff, "uscc"])
    ab = ent["uscc"].isin(rec.loc[(k == "abnormal_list") & eff, "uscc"])
    tier = np.where(
        si | (s >= 30), "D", np.where(ab | (s >= 10), "C", np.where(s <= -5, "A", "B"))
    )
    return pd.Series(tier, index=ent.index)


def test_reference_scorecard_gives_the_target_tier_mix(
    big: dict[str, pd.DataFrame],
) -> None:
    tiers = _ref_tiers(big)[big["entities"]["status"] == "active"]
    share = tiers.value_counts(normalize=True)
    for tier, target in {"A": 0.20, "B": 0.60, "C": 0.15, "D": 0.05}.items():
        assert abs(share[tier] - target) < 0.06, (tier, share.to_dict())


def test_problem_rate_rises_with_latent_risk(big: dict[str, pd.DataFrame]) -> None:
    ent, hist = big["entities"], big["history"]
    risk = hist["uscc"].map(ent.set_index("uscc")["_latent_risk"])
    problem = hist["result"].isin(PROBLEM_RESULTS)
    quint = pd.qcut(risk, 5, labels=False)
    rates = problem.groupby(quint).mean()
    assert rates.is_monotonic_increasing and rates.diff().dropna().gt(0).all()
    assert rates.iloc[-1] > 4 * rates.iloc[0]
    table = pd.crosstab(quint, problem)
    assert stats.chi2_contingency(table).pvalue < ALPHA
    # power check: a risk that has nothing to do with outcomes shows no trend
    shuffled = pd.Series(
        np.random.default_rng(0).permutation(risk.to_numpy()), index=hist.index
    )
    table = pd.crosstab(pd.qcut(shuffled, 5, labels=False), problem)
    assert stats.chi2_contingency(table).pvalue > ALPHA
    # negative records rise and honours fall with the latent risk
    rec = big["records"]
    rq = pd.qcut(ent.set_index("uscc")["_latent_risk"], 5, labels=False)
    neg = rec["kind"].isin(["penalty", "abnormal_list", "complaint"])
    per_q = rec[neg].groupby(rec.loc[neg, "uscc"].map(rq)).size()
    assert per_q.is_monotonic_increasing
    hon = rec[rec["kind"] == "honor"]
    assert hon.groupby(hon["uscc"].map(rq)).size().is_monotonic_decreasing


def test_history(tables: dict[str, pd.DataFrame]) -> None:
    hist, insp, ent = tables["history"], tables["inspectors"], tables["entities"]
    years = hist["date"].dt.year
    assert set(years) == {2023, 2024, 2025, 2026}
    assert hist.loc[years == 2026, "date"].max() <= SNAPSHOT
    assert (hist["date"].dt.day_of_week < 5).mean() > 0.99
    est = hist["uscc"].map(ent.set_index("uscc")["established"])
    assert (hist["date"] > est).all()
    trig = hist["trigger"].value_counts(normalize=True)
    assert trig["random"] > 0.7 and trig.get("complaint", 0) > 0.03
    # inspectors of the visiting department, two per visit
    ids = explode_list(hist["inspector_ids"])
    assert ids.groupby(level=0).nunique().eq(2).all()
    dept = ids.map(insp.set_index("inspector_id")["department"])
    assert (dept.to_numpy() == hist.loc[ids.index, "department"].to_numpy()).all()
    # joint visits: several departments on the same day
    per_visit = hist.groupby(["uscc", "date"])["department"].nunique()
    assert 0.05 < (per_visit > 1).mean() < 0.4
    # follow-up records (R20)
    rec = tables["records"]
    cp = rec[rec["kind"] == "check_problem"]
    assert set(cp["value"]) <= set(PROBLEM_RESULTS)
    assert len(cp) > 0.5 * hist["result"].isin(["problem_corrected"]).sum()


# --------------------------------------------------------------------------- #
# validation and I/O
# --------------------------------------------------------------------------- #
def test_district_validates_cleanly() -> None:
    ds = synthetic_district(20_000, 80, seed=1, include_latent=True)
    assert len(ds.entities) == 20_000 and len(ds.inspectors) == 80
    assert "_latent_risk" in ds.entities.columns
    assert ds.entities["uscc"].is_monotonic_increasing
    plain = synthetic_district(2_000, 30, seed=1)
    assert "_latent_risk" not in plain.entities.columns


@settings(max_examples=15)
@given(
    n_entities=st.integers(1, 400),
    extra_inspectors=st.integers(0, 30),
    seed=st.text(min_size=0, max_size=12),
    history_years=st.integers(0, 6),
    year=st.integers(2015, 2035),
)
def test_always_validates(
    n_entities: int, extra_inspectors: int, seed: str, history_years: int, year: int
) -> None:
    n_insp = min_inspectors() + extra_inspectors
    ds = synthetic_district(
        n_entities, n_insp, seed=seed, year=year, history_years=history_years
    )
    assert len(ds.entities) == n_entities and len(ds.inspectors) == n_insp
    snap = pd.Timestamp(year=year, month=3, day=31)
    for table in (ds.records, ds.history):
        assert (table["date"] <= snap).all()


def test_write_and_load_round_trip(tmp_path: Path) -> None:
    folder = write_synthetic_district(
        tmp_path / "d",
        n_entities=1_500,
        n_inspectors=30,
        seed="io",
    )
    loaded = load_dataset(folder)
    direct = synthetic_district(1_500, 30, seed="io")
    for name, df in direct.tables().items():
        pd.testing.assert_frame_equal(
            loaded.tables()[name], df, check_dtype=False, obj=name
        )


def test_a_small_pool_is_allowed_but_tight(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="creditsup.datasets"):
        ds = synthetic_district(3_000, 12, seed=3)
    assert "cannot cover" in caplog.text
    assert len(ds.inspectors) == 12
    assert ds.inspectors["department"].nunique() == 10  # one each, then workload
    ids = explode_list(ds.history["inspector_ids"])
    assert ids.isin(ds.inspectors["inspector_id"]).all()
    with caplog.at_level("WARNING", logger="creditsup.datasets"):
        caplog.clear()
        synthetic_tables(300, min_inspectors(), seed=3)
    assert "cannot cover" not in caplog.text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_entities": 0},
        {"n_inspectors": 0},
        {"year": 1800},
        {"history_years": -1},
        {"draw_ratio": 0.0},
        {"capacity_slack": 0.0},
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, float]) -> None:
    args = {"n_entities": 100, "n_inspectors": 30} | kwargs
    with pytest.raises(ValueError, match="must be"):
        synthetic_tables(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# the stages, called alone
# --------------------------------------------------------------------------- #
def test_entity_stage_alone() -> None:
    from creditsup.datasets._entities import build_entities

    ents = build_entities("stage", 3_000, 2026)
    frame = ents.frame
    assert len(frame) == len(ents.s) == 3_000
    assert frame["uscc"].is_unique
    assert abs(float(ents.s.mean())) < 1e-9 and abs(float(ents.s.std()) - 1) < 1e-9
    # the stage alone is deterministic
    pd.testing.assert_frame_equal(frame, build_entities("stage", 3_000, 2026).frame)


def test_relationship_stage_alone() -> None:
    from creditsup._random import stage_rng
    from creditsup.datasets._entities import relationships

    n = 5_000
    rng = np.random.default_rng(0)
    etype = rng.integers(0, 4, n)
    ind = rng.integers(0, 20, n)
    region = rng.integers(0, 15, n)
    town = rng.integers(0, 4, n)
    rel = relationships(stage_rng("x", "groups"), etype, ind, region, town)
    grouped = rel.leader_of != np.arange(n)
    assert grouped.sum() > 0.02 * n
    assert (etype[grouped] <= 1).all()  # individual businesses and enterprises
    leader = rel.leader_of[grouped]
    assert (rel.region[grouped] == rel.region[leader]).all()
    shared = rel.share_addr
    assert (rel.town[shared] == rel.town[rel.leader_of[shared]]).all()
    clustered = rel.cluster >= 0
    assert clustered.any() and (etype[clustered] == 1).all()
    assert not (clustered & shared).any()
    assert (rel.cluster[clustered] // 1000 == rel.region[clustered]).all()


def test_records_collector_builds_an_empty_table() -> None:
    import pyarrow as pa

    from creditsup.datasets._records import Records
    from creditsup.schemas import validate_table

    empty = Records().frame(pa.array([], type=pa.large_string()))
    assert list(empty.columns) == [
        "uscc",
        "kind",
        "date",
        "end_date",
        "restored_on",
        "severity",
        "value",
        "source",
    ]
    assert len(empty) == 0
    assert len(validate_table(empty, "records")) == 0
