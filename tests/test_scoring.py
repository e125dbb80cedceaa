"""Tests of creditsup.scoring: scorecard config, as-of semantics, no leakage."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditsup.config import load_config, parse_config
from creditsup.exceptions import ConfigError
from creditsup.schemas import Dataset
from creditsup.scoring import (
    Indicator,
    Scorecard,
    default_scorecard,
    lookup,
    reason_codes,
    score_entities,
)

ROOT = Path(__file__).resolve().parents[1]
U1 = "914403001922038216"
U2 = "91330100716105852F"
U3 = "9144030071526726XG"
T = pd.Timestamp("2025-06-30")


@cache
def _bench() -> ModuleType:
    """benchmarks/bench_scoring.py: its naive implementation is our oracle."""
    spec = importlib.util.spec_from_file_location(
        "bench_scoring", ROOT / "benchmarks" / "bench_scoring.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_scoring"] = mod
    spec.loader.exec_module(mod)
    return mod


def _entities(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uscc": [U1, U2, U3][:n],
            "entity_type": ["enterprise", "individual", "cooperative"][:n],
            "industry": ["F5211", "H6210", "C1391"][:n],
            "established": pd.to_datetime(
                ["2010-05-01", "2018-01-31", "2020-07-15"][:n]
            ),
        }
    )


def _records(rows: list[dict[str, object]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in ("date", "end_date", "restored_on"):
        df[c] = pd.to_datetime(df[c]) if c in df else pd.NaT
    for c in ("severity",):
        if c not in df:
            df[c] = np.nan
    if "value" not in df:
        df["value"] = None
    return df


def _pts(records: list[dict[str, object]], name: str, *, as_of: object = T) -> float:
    ds = Dataset(entities=_entities(1), records=_records(records))
    res = score_entities(ds, as_of=as_of)  # type: ignore[arg-type]
    return float(res.table[f"pts_{name}"].iloc[0])


# --------------------------------------------------------------------------- config


def test_default_profile_is_the_toml_file_and_loads_with_load_config() -> None:
    path = ROOT / "src" / "creditsup" / "profiles" / "national.toml"
    assert load_config(path, Scorecard) == default_scorecard() == Scorecard()
    sc = default_scorecard()
    assert {i.dimension for i in sc.indicators} == {
        "basic",
        "dynamic",
        "supervision",
        "relationship",
        "social",
    }
    # every indicator is documented with its source in docs/scorecard.md
    doc = (ROOT / "docs" / "scorecard.md").read_text(encoding="utf-8")
    for ind in sc.indicators:
        assert ind.description and ind.reference
        assert f"`{ind.name}`" in doc


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"edges": [1.0, 2.0], "points": [0.0, 1.0]}, "len(edges) + 1"),
        ({"edges": [2.0, 1.0], "points": [0.0, 1.0, 2.0]}, "strictly increasing"),
        ({"points": [0.0, 5.0, 3.0, 9.0]}, "must be increasing"),
        ({"statistic": "age_years"}, "statistic"),
        ({"kinds": []}, "kinds"),
        ({"name": "Bad Name"}, "name"),
    ],
)
def test_indicator_validation_messages(patch: dict[str, object], message: str) -> None:
    base = default_scorecard().indicator("penalties").model_dump()
    with pytest.raises(ConfigError, match="Got") as info:
        parse_config(Indicator, {**base, **patch})
    assert message in str(info.value)


def test_scorecard_round_trips_through_toml() -> None:
    import tomllib

    from creditsup._toml import dumps

    sc = default_scorecard().with_points({"complaints": [0, 5, 9, 0]})
    text = dumps(sc.model_dump(mode="json"))
    assert parse_config(Scorecard, tomllib.loads(text)) == sc


def test_scorecard_rejects_duplicate_indicators() -> None:
    ind = default_scorecard().indicators[0].model_dump()
    with pytest.raises(ConfigError, match="unique"):
        parse_config(Scorecard, {"indicators": [ind, ind]})


def test_negative_kinds_and_with_points() -> None:
    sc = default_scorecard()
    neg = sc.negative_kinds()
    assert {"penalty", "abnormal_list", "serious_illegal_list", "complaint"} <= neg
    assert "tax_credit" not in neg and "honor" not in neg
    new = sc.with_points({"penalties": [0, 1, 2, 3, 0]})
    assert new.indicator("penalties").points == (0, 1, 2, 3)
    with pytest.raises(ConfigError):
        sc.with_points({"penalties": [0, 1]})


# --------------------------------------------------------------------------- as-of


def test_records_after_as_of_do_not_count() -> None:
    rec = [{"uscc": U1, "kind": "complaint", "date": "2025-06-30"}]
    assert _pts(rec, "complaints") == 4.0
    assert _pts(rec, "complaints", as_of="2025-06-29") == 0.0


def test_end_date_and_restoration() -> None:
    listed = {"uscc": U1, "kind": "abnormal_list", "date": "2024-01-10"}
    assert _pts([listed], "abnormal_list") == 25.0
    assert _pts([{**listed, "restored_on": "2025-06-30"}], "abnormal_list") == 0.0
    assert _pts([{**listed, "restored_on": "2025-07-01"}], "abnormal_list") == 25.0
    assert _pts([{**listed, "end_date": "2025-06-30"}], "abnormal_list") == 0.0
    assert _pts([{**listed, "end_date": "2025-07-01"}], "abnormal_list") == 25.0


def test_r21_default_publicity_periods() -> None:
    minor = {"uscc": U1, "kind": "penalty", "date": "2025-03-30", "severity": 1.0}
    assert _pts([minor], "penalties", as_of="2025-06-29") == 12.0
    assert _pts([minor], "penalties", as_of="2025-06-30") == 0.0  # 3 months
    ordinary = {**minor, "date": "2022-07-01", "severity": 2.0}
    assert _pts([ordinary], "penalties", as_of="2025-06-30") == 12.0
    assert _pts([ordinary], "penalties", as_of="2025-07-01") == 0.0  # 3 years
    # an explicit end_date later than the default does not extend publicity
    longer = {**ordinary, "end_date": "2027-01-01"}
    assert _pts([longer], "penalties", as_of="2025-07-01") == 0.0
    # month-end clipping: 30 Nov + 3 months = 28 Feb (then 29 Feb in leap years)
    nov = {**minor, "date": "2024-11-30"}
    assert _pts([nov], "penalties", as_of="2025-02-27") == 12.0
    assert _pts([nov], "penalties", as_of="2025-02-28") == 0.0
    serious = {"uscc": U1, "kind": "serious_illegal_list", "date": "2022-07-01"}
    assert _pts([serious], "serious_illegal", as_of="2025-06-30") == 40.0
    assert _pts([serious], "serious_illegal", as_of="2025-07-01") == 0.0


def test_lookback_window() -> None:
    c = {"uscc": U1, "kind": "complaint", "date": "2024-06-30"}
    assert _pts([c], "complaints", as_of="2025-06-30") == 4.0  # 365 < 366 days
    assert _pts([c], "complaints", as_of="2025-07-01") == 0.0


def test_severity_and_latest_tax_level() -> None:
    pen = [
        {"uscc": U1, "kind": "penalty", "date": "2025-01-01", "severity": 3.0},
        {"uscc": U1, "kind": "penalty", "date": "2025-02-01", "severity": 2.0},
    ]
    assert _pts(pen, "penalty_severity") == 10.0
    assert _pts(pen, "penalties") == 20.0
    tax = [
        {"uscc": U1, "kind": "tax_credit", "date": "2024-04-20", "value": "D"},
        {"uscc": U1, "kind": "tax_credit", "date": "2025-04-20", "value": "A"},
    ]
    assert _pts(tax, "tax_credit") == -5.0
    assert _pts(tax, "tax_credit", as_of="2025-01-01") == 12.0
    assert _pts([], "tax_credit") == 1.0  # missing


def test_history_problems_and_relationships() -> None:
    ent = _entities(3).assign(address=["A", "A", "A"], legal_rep=[None, None, None])
    hist = pd.DataFrame(
        {
            "uscc": [U1, U1, U2],
            "date": pd.to_datetime(["2024-01-05", "2025-06-30", "2025-01-01"]),
            "result": ["problem_corrected", "unreachable", "normal"],
        }
    )
    res = score_entities(Dataset(entities=ent, history=hist), as_of=T)
    tab = res.table.set_index("uscc")
    assert tab.loc[U1, "pts_inspection_problems"] == 16.0
    assert tab.loc[U2, "pts_inspection_problems"] == 0.0
    # two others at the same address; the third entity was established later
    assert tab["pts_shared_address"].tolist() == [6.0, 6.0, 6.0]
    early = score_entities(Dataset(entities=ent, history=hist), as_of="2019-01-01")
    assert early.table["pts_shared_address"].tolist() == [0.0, 0.0]
    # legal_rep has no data: the indicator is inactive and scores 0
    assert res.inactive == ("shared_legal_rep",)
    assert (res.table["pts_shared_legal_rep"] == 0).all()


def test_unestablished_entities_are_not_scored() -> None:
    res = score_entities(Dataset(entities=_entities(3)), as_of="2019-01-01")
    assert res.table["uscc"].tolist() == sorted([U1, U2])
    assert res.n_not_established == 1
    with pytest.raises(ConfigError, match="as_of"):
        score_entities(Dataset(entities=_entities(3)), as_of="not a date")


def test_reason_codes_are_the_costliest_indicators() -> None:
    rec = _records(
        [
            {"uscc": U1, "kind": "serious_illegal_list", "date": "2025-01-01"},
            {"uscc": U1, "kind": "complaint", "date": "2025-01-01"},
            {"uscc": U1, "kind": "abnormal_list", "date": "2025-01-01"},
        ]
    )
    res = score_entities(Dataset(entities=_entities(2), records=rec), as_of=T)
    reasons = reason_codes(res).tolist()
    first = res.table["uscc"].tolist().index(U1)
    assert reasons[first] == "serious_illegal;abnormal_list;complaints"
    # at most three, each with positive points, in decreasing order of points
    for row, text in zip(res.table.itertuples(index=False), reasons, strict=True):
        codes = [c for c in text.split(";") if c]
        pts = [getattr(row, f"pts_{c}") for c in codes]
        assert len(codes) <= 3 and all(p > 0 for p in pts)
        assert pts == sorted(pts, reverse=True)


def test_lookup_fast_and_fallback_paths() -> None:
    keys = pd.Series([U1, U2, U3], dtype="str")
    vals = pd.Series([U3, "91110000600037341L", U1], dtype="str")
    assert lookup(keys, vals).tolist() == [2, -1, 0]
    assert lookup(pd.Series(["a", "bb"]), pd.Series(["bb", "a", "c"])).tolist() == [
        1,
        0,
        -1,
    ]


# --------------------------------------------------------------------------- oracle


def test_vectorised_equals_naive_groupby_apply() -> None:
    bench = _bench()
    ds = bench.subset(bench.make_dataset(400, 2_500, seed=3), 150)
    fast = score_entities(ds, as_of=bench.AS_OF).table
    naive = bench.naive_scores(ds, as_of=bench.AS_OF)
    assert fast["uscc"].tolist() == naive["uscc"].tolist()
    cols = [c for c in fast.columns if c != "uscc"]
    np.testing.assert_allclose(fast[cols].to_numpy(float), naive[cols].to_numpy(float))


@given(st.integers(0, 10_000), st.sampled_from(["2024-12-31", "2026-01-15"]))
def test_row_order_does_not_matter(seed: int, as_of: str) -> None:
    bench = _bench()
    ds = bench.make_dataset(60, 300, seed=7)
    rng = np.random.default_rng(seed)
    shuffled = Dataset(
        entities=ds.entities.sample(frac=1, random_state=rng).reset_index(drop=True),
        records=ds.records.sample(frac=1, random_state=rng).reset_index(drop=True),
        history=ds.history.sample(frac=1, random_state=rng).reset_index(drop=True),
    )
    a = score_entities(ds, as_of=as_of).table
    b = score_entities(shuffled, as_of=as_of).table
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- leakage


@pytest.fixture(scope="module")
def district() -> Dataset:
    from creditsup.datasets import synthetic_district

    return synthetic_district(4_000, 40, seed="scoring-tests")


@pytest.mark.parametrize("as_of", ["2024-06-30", "2025-03-31", "2025-12-31"])
def test_scoring_as_of_equals_scoring_the_cut_dataset(
    district: Dataset, as_of: str
) -> None:
    full = score_entities(district, as_of=as_of)
    cut = score_entities(district.cut(as_of), as_of=as_of)
    pd.testing.assert_frame_equal(full.table, cut.table)
    pd.testing.assert_frame_equal(full.details, cut.details)
    # the check has power: future rows do change a later score
    later = score_entities(district, as_of="2026-03-31")
    common = full.table.merge(later.table, on="uscc")
    assert (common["score_x"] != common["score_y"]).any()


def test_summary(district: Dataset) -> None:
    res = score_entities(district, as_of="2026-03-31")
    summ = res.summary()
    assert summ["indicator"].tolist()[-1] == "score"
    assert len(summ) == len(res.scorecard.indicators) + 1
    assert summ.loc[summ["indicator"] == "serious_illegal", "share_nonzero"].item() > 0


# --------------------------------------------------------------------------- profiles


def test_profiles_are_the_data_files() -> None:
    from creditsup.scoring import scorecard_profiles

    files = sorted(
        p.stem for p in (ROOT / "src" / "creditsup" / "profiles").glob("*.toml")
    )
    assert list(scorecard_profiles()) == files
    assert "national" in scorecard_profiles()
    assert default_scorecard(profile="national") == default_scorecard() == Scorecard()
    with pytest.raises(ConfigError) as info:
        default_scorecard(profile="atlantis")
    text = str(info.value)
    assert "'profile'" in text and "'atlantis'" in text
    for name in scorecard_profiles():
        assert repr(name) in text


def test_default_configs_dump_unchanged() -> None:
    """The national profile's JSON form is what the TOML file says."""
    import tomllib

    path = ROOT / "src" / "creditsup" / "profiles" / "national.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    dumped = default_scorecard().model_dump(mode="json")
    assert dumped["name"] == data["name"] and dumped["version"] == data["version"]
    assert [i["name"] for i in dumped["indicators"]] == [
        i["name"] for i in data["indicators"]
    ]
    assert dumped["publicity"][0] == {
        "kind": "penalty",
        "months": 36,
        "minor_months": 3,
        "minor_max_severity": 1.0,
    }


@pytest.mark.parametrize(
    ("model", "patch", "needles"),
    [
        (
            "indicator",
            {"edges": [1.0, float("inf")], "points": [0, 1, 2]},
            ["'edges.1'", "inf"],
        ),
        ("indicator", {"lookback_days": 0}, ["'lookback_days'", "> 0", "Got 0"]),
        ("indicator", {"monotone": "up"}, ["'monotone'", "'up'"]),
        ("publicity", {"months": -1}, ["'months'", ">= 0", "Got -1"]),
        (
            "publicity",
            {"minor_months": 3, "minor_max_severity": None},
            ["'minor_max_severity'", "None"],
        ),
    ],
)
def test_config_errors_name_the_field_and_value(
    model: str, patch: dict[str, object], needles: list[str]
) -> None:
    from creditsup.scoring import PublicityRule

    if model == "indicator":
        base = default_scorecard().indicator("penalties").model_dump()
        cls: type[Indicator] | type[PublicityRule] = Indicator
    else:
        base = {"kind": "penalty", "months": 36}
        cls = PublicityRule
    with pytest.raises(ConfigError) as info:
        cls(**{**base, **patch})
    for needle in needles:
        assert needle in str(info.value)


def test_scorecard_rejects_duplicate_publicity_kinds() -> None:
    rule = {"kind": "penalty", "months": 36}
    with pytest.raises(ConfigError, match="each kind once"):
        parse_config(Scorecard, {"publicity": [rule, rule]})


# --------------------------------------------------------------------------- stages


def test_prepare_arrays_applies_r21_and_restoration() -> None:
    from creditsup.scoring.records import prepare_arrays

    rec = _records(
        [
            {"uscc": U1, "kind": "penalty", "date": "2024-01-31", "severity": 1.0},
            {"uscc": U1, "kind": "penalty", "date": "2024-01-31", "severity": 3.0},
            {
                "uscc": U2,
                "kind": "complaint",
                "date": "2024-05-01",
                "restored_on": "2024-06-01",
            },
            {"uscc": "nobody", "kind": "complaint", "date": "2024-05-01"},
        ]
    )
    prep = prepare_arrays(
        Dataset(entities=_entities(), records=rec), default_scorecard()
    )
    ra = prep.rec
    assert ra.ent.tolist() == [0, 0, 1, -1]
    day = lambda s: int(np.datetime64(s, "D").astype(np.int64))  # noqa: E731
    # minor penalty: 3 months, clipped to the month's end; serious: 36 months
    assert ra.end[0] == day("2024-04-30") and ra.end[1] == day("2027-01-31")
    assert ra.restored[2] == day("2024-06-01")
    assert prep.n_ent == 3 and prep.est_day[0] == day("2010-05-01")


def test_evaluate_indicators_equals_the_score_table() -> None:
    from creditsup.scoring.indicators import evaluate_indicators, points_matrix
    from creditsup.scoring.records import prepare_arrays
    from creditsup.scoring.result import units_as_of

    rec = _records(
        [
            {"uscc": U1, "kind": "complaint", "date": "2025-01-10"},
            {"uscc": U1, "kind": "complaint", "date": "2025-02-10"},
            {"uscc": U2, "kind": "penalty", "date": "2024-02-10", "severity": 2.0},
        ]
    )
    ds = Dataset(entities=_entities(), records=rec)
    sc = default_scorecard()
    prep = prepare_arrays(ds, sc)
    unit_ent, unit_day = units_as_of(ds, prep, to_day_(T))
    # units follow the uscc order: U2 < U1 < U3
    assert unit_ent.tolist() == [1, 0, 2] and (unit_day == to_day_(T)).all()
    ev = evaluate_indicators(ds, sc, prep, unit_ent, unit_day)
    res = score_entities(ds, as_of=T)
    assert ev.values["complaints"].tolist() == res.details["complaints"].tolist()
    assert ev.values["complaints"].tolist() == [0.0, 2.0, 0.0]
    pts = points_matrix(sc, ev, len(unit_ent))
    assert np.allclose(pts.sum(axis=0), res.table["score"])
    # one unit, a day before the complaints: none counted
    early = evaluate_indicators(
        ds, sc, prep, np.array([0]), np.array([to_day_("2025-01-01")])
    )
    assert early.values["complaints"].tolist() == [0.0]


def test_units_as_of_skips_entities_not_yet_established() -> None:
    from creditsup.scoring.records import prepare_arrays
    from creditsup.scoring.result import units_as_of

    ent = _entities().iloc[::-1].reset_index(drop=True)  # not sorted by uscc
    ds = Dataset(entities=ent)
    prep = prepare_arrays(ds, default_scorecard())
    unit_ent, _ = units_as_of(ds, prep, to_day_("2019-01-01"))
    assert ent["uscc"].iloc[unit_ent].tolist() == sorted([U1, U2])


def to_day_(value: object) -> np.int64:
    from creditsup.scoring import to_day

    return to_day(value)  # type: ignore[arg-type]


def test_a_new_profile_is_one_more_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from creditsup.scoring import _profiles, scorecard_profiles
    from creditsup.scoring.scorecard import default_scorecard as load

    src = ROOT / "src" / "creditsup" / "profiles" / "national.toml"
    text = src.read_text(encoding="utf-8")
    (tmp_path / "national.toml").write_text(text, encoding="utf-8")
    (tmp_path / "city.toml").write_text(
        text.replace('name = "national"', 'name = "city"', 1), encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not a profile", encoding="utf-8")
    monkeypatch.setattr(_profiles, "_folder", lambda: tmp_path)
    for fn in (_profiles.profile_names, _profiles.profile_data, load):
        fn.cache_clear()
    try:
        assert scorecard_profiles() == ("city", "national")
        city = load(profile="city")
        assert city.name == "city" and city.indicators == load().indicators
    finally:
        monkeypatch.undo()
        for fn in (_profiles.profile_names, _profiles.profile_data, load):
            fn.cache_clear()
    assert "city" not in scorecard_profiles()
