"""Tests of creditsup.tiers: policies, overrides, properties and outcomes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditsup._calibration import outcome_rates
from creditsup.config import parse_config
from creditsup.exceptions import ConfigError
from creditsup.schemas import Dataset
from creditsup.scoring import default_scorecard, score_entities
from creditsup.tiers import (
    SCORES_COLUMNS,
    TierOverride,
    TierPolicy,
    TierResult,
    assign_tiers,
    rate_entities,
    tier_cutoffs,
    write_scores,
)
from strategies import AS_OF, IDS, NEGATIVE
from strategies import record_districts as districts

POLICIES = [
    TierPolicy(),
    TierPolicy(method="cutoff", cutoffs=(8.0, 20.0, 45.0)),
    TierPolicy(tiers=("A", "B", "C", "D", "E")),
]


# --------------------------------------------------------------------------- policy


def test_policy_defaults_and_validation() -> None:
    assert TierPolicy().tiers == ("A", "B", "C", "D")
    assert [o.name for o in TierPolicy().overrides] == ["serious_illegal", "abnormal"]
    assert TierPolicy(tiers=("A", "B", "C", "D", "E")).shares == (
        0.2,
        0.55,
        0.15,
        0.07,
        0.03,
    )
    bad = [
        (
            {"shares": [0.5, 0.5, 0.5, -0.5]},
            "The 'shares.3' of TierPolicy must be >= 0. Got -0.5 instead.",
        ),
        ({"shares": [0.2, 0.2, 0.2, 0.2]}, "sum to 1"),
        ({"tiers": ["A", "B"]}, "'tiers'"),
        ({"method": "cutoff"}, "'cutoffs'"),
        ({"method": "cutoff", "cutoffs": [3, 2, 1]}, "non-decreasing"),
        (
            {"overrides": [{"name": "x", "kinds": ["penalty"], "min_tier": "Z"}]},
            "'min_tier'",
        ),
    ]
    for patch, message in bad:
        with pytest.raises(ConfigError) as info:
            parse_config(TierPolicy, patch)
        assert message in str(info.value)


def test_tier_cutoffs_nearest_share_and_ties() -> None:
    assert tier_cutoffs(np.arange(100.0), TierPolicy()) == (20.0, 80.0, 95.0)
    # heavy ties stay together: half the entities share the lowest score
    scores = np.r_[np.zeros(50), np.arange(1.0, 51.0)]
    cuts = tier_cutoffs(scores, TierPolicy())
    assert cuts[0] in (0.0, 1.0)
    assert tier_cutoffs([], TierPolicy()) == (np.inf, np.inf, np.inf)
    fixed = TierPolicy(method="cutoff", cutoffs=(1.0, 2.0, 3.0))
    assert tier_cutoffs(scores, fixed) == (1.0, 2.0, 3.0)


# --------------------------------------------------------------------------- data


def _entities(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uscc": IDS[:n],
            "entity_type": (["enterprise", "individual", "cooperative"] * n)[:n],
            "industry": (["F5211", "H6210", "C1391", "E4710"] * n)[:n],
            "established": pd.Timestamp("2005-01-01")
            + pd.to_timedelta(np.arange(n) * 200, "D"),
        }
    )


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    cols = ["uscc", "kind", "date", "end_date", "restored_on", "severity", "value"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("date", "end_date", "restored_on"):
        df[c] = pd.to_datetime(df[c])
    df["severity"] = df["severity"].astype(float)
    return df


def _tiers(n: int, rows: list[dict[str, object]], policy: TierPolicy) -> pd.Series:
    ds = Dataset(entities=_entities(n), records=_frame(rows))
    res = rate_entities(ds, as_of=AS_OF, tier_policy=policy)
    return res.table.set_index("uscc")["tier"]


# --------------------------------------------------------------------------- properties


@given(
    districts(),
    st.data(),
    st.sampled_from(range(len(POLICIES))),
)
def test_adding_a_negative_record_never_lowers_the_tier(
    district: tuple[int, list[dict[str, object]]], data: st.DataObject, p: int
) -> None:
    n, rows = district
    who = data.draw(st.sampled_from(IDS[:n]))
    new = {
        "uscc": who,
        "kind": data.draw(st.sampled_from(NEGATIVE)),
        "date": AS_OF - pd.Timedelta(days=data.draw(st.integers(0, 1200))),
        "severity": data.draw(st.sampled_from([1.0, 2.0, 3.0])),
        "value": None,
        "restored_on": None,
    }
    before = _tiers(n, rows, POLICIES[p])
    after = _tiers(n, [*rows, new], POLICIES[p])
    assert after[who] >= before[who]


@given(districts(), st.data(), st.sampled_from(range(len(POLICIES))))
def test_restoration_never_raises_the_tier(
    district: tuple[int, list[dict[str, object]]], data: st.DataObject, p: int
) -> None:
    n, rows = district
    negative = [i for i, r in enumerate(rows) if r["kind"] in NEGATIVE]
    if not negative:
        rows = [
            *rows,
            {
                "uscc": IDS[0],
                "kind": "abnormal_list",
                "date": AS_OF - pd.Timedelta(days=100),
                "severity": np.nan,
                "value": None,
                "restored_on": None,
            },
        ]
        negative = [len(rows) - 1]
    i = data.draw(st.sampled_from(negative))
    restored = [dict(r) for r in rows]
    restored[i]["restored_on"] = AS_OF - pd.Timedelta(
        days=data.draw(st.integers(0, 30))
    )
    who = str(rows[i]["uscc"])
    assert _tiers(n, restored, POLICIES[p])[who] <= _tiers(n, rows, POLICIES[p])[who]


@given(districts(), st.integers(0, 2**31), st.sampled_from(range(len(POLICIES))))
def test_row_order_invariance_and_one_tier_per_entity(
    district: tuple[int, list[dict[str, object]]], seed: int, p: int
) -> None:
    n, rows = district
    ds = Dataset(entities=_entities(n), records=_frame(rows))
    rng = np.random.default_rng(seed)
    shuffled = Dataset(
        entities=ds.entities.sample(frac=1, random_state=rng).reset_index(drop=True),
        records=ds.records.sample(frac=1, random_state=rng).reset_index(drop=True),
    )
    a = rate_entities(ds, as_of=AS_OF, tier_policy=POLICIES[p]).table
    b = rate_entities(shuffled, as_of=AS_OF, tier_policy=POLICIES[p]).table
    pd.testing.assert_frame_equal(a, b)
    assert a["uscc"].is_unique and a["uscc"].tolist() == sorted(IDS[:n])
    assert a["tier"].isin(POLICIES[p].tiers).all()
    assert a["tier"].notna().all()


# --------------------------------------------------------------------------- overrides


def test_overrides_reasons_and_as_of_check() -> None:
    rows = [
        {"uscc": IDS[0], "kind": "serious_illegal_list", "date": "2025-06-01"},
        {"uscc": IDS[1], "kind": "abnormal_list", "date": "2025-06-01"},
        {"uscc": IDS[2], "kind": "abnormal_list", "date": "2022-06-01"},
        {"uscc": IDS[3], "kind": "abnormal_list", "date": "2025-01-01"},
    ]
    rec = _frame(
        [
            {**r, "restored_on": "2025-02-01" if r["uscc"] == IDS[3] else None}
            for r in rows
        ]
    )
    ds = Dataset(entities=_entities(12), records=rec)
    policy = TierPolicy(
        overrides=(
            *TierPolicy().overrides,
            TierOverride(
                name="abnormal_3y",
                kinds=("abnormal_list",),
                min_tier="top",
                min_listed_days=1096,
            ),
        )
    )
    res = rate_entities(ds, as_of=AS_OF, tier_policy=policy)
    tab = res.table.set_index("uscc")
    assert tab.loc[IDS[0], ["tier", "tier_reason"]].tolist() == ["D", "serious_illegal"]
    assert tab.loc[IDS[1], "tier"] >= "C"
    assert tab.loc[IDS[2], ["tier", "tier_reason"]].tolist() == ["D", "abnormal_3y"]
    assert tab.loc[IDS[3], "tier_reason"] == "score"  # restored: no override
    assert tab.loc[IDS[0], "reasons"].split(";")[0] == "serious_illegal"
    assert set(tab["tier_reason"]) <= {
        "score",
        "serious_illegal",
        "abnormal",
        "abnormal_3y",
    }
    assert list(res.table.columns[:5]) == list(SCORES_COLUMNS)
    summ = res.summary()
    assert summ["n"].sum() == len(tab) and summ["overridden"].sum() >= 2
    with pytest.raises(ConfigError, match="as_of"):
        assign_tiers(res.scores, ds, as_of="2024-01-01")


def test_write_scores(tmp_path: Path) -> None:
    ds = Dataset(entities=_entities(5))
    res = rate_entities(ds, as_of=AS_OF)
    out = tmp_path / "scores.csv"
    write_scores(res, out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == list(SCORES_COLUMNS)
    assert back["uscc"].tolist() == res.table["uscc"].tolist()


# --------------------------------------------------------------------------- district


@pytest.fixture(scope="module", params=["tiers-a", "tiers-b"])
def district(request: pytest.FixtureRequest) -> Dataset:
    from creditsup.datasets import synthetic_district

    return synthetic_district(50_000, 100, seed=request.param)


def _shuffled_tiers(res: TierResult, seed: int) -> TierResult:
    tab = res.table.copy()
    tab["tier"] = np.random.default_rng(seed).permutation(tab["tier"].to_numpy())
    return TierResult(
        table=tab, cutoffs=res.cutoffs, policy=res.policy, scores=res.scores
    )


def test_done_when_shares_overrides_and_rising_outcomes(district: Dataset) -> None:
    """Issue 3 "done when", on the synthetic district (two seeds)."""
    now = rate_entities(district, as_of="2026-03-31")
    summ = now.summary().set_index("tier")
    for tier, target in zip("ABCD", (0.20, 0.60, 0.15, 0.05), strict=True):
        assert abs(summ.loc[tier, "share"] - target) < 0.03, summ
    # every live serious-illegal entity is in the top tier, abnormal ones >= C
    live = now.scores.table.set_index("uscc")
    tab = now.table.set_index("uscc")
    si = live.index[live["pts_serious_illegal"] > 0]
    ab = live.index[live["pts_abnormal_list"] > 0]
    assert len(si) > 50 and (tab.loc[si, "tier"] == "D").all()
    assert (tab.loc[ab, "tier"] >= "C").all()
    # out of time: tiers as of T, problems found at each entity's next inspection
    t = pd.Timestamp("2025-03-31")
    then = rate_entities(district, as_of=t)
    rates = outcome_rates(then, district, end=t + pd.DateOffset(years=1))
    r = rates.set_index("tier")
    assert (np.diff(r["rate"].to_numpy()) > 0).all(), rates
    assert r.loc["A", "rate_hi"] < r.loc["D", "rate_lo"], rates
    # power: the same check fails for tiers that carry no information
    fake = outcome_rates(
        _shuffled_tiers(then, 0), district, end=t + pd.DateOffset(years=1)
    ).set_index("tier")
    assert not fake.loc["A", "rate_hi"] < fake.loc["D", "rate_lo"]


def test_five_tiers_and_scores_equal_to_score_entities(district: Dataset) -> None:
    five = TierPolicy(tiers=("A", "B", "C", "D", "E"))
    res = rate_entities(district, as_of="2026-03-31", tier_policy=five)
    assert set(res.table["tier"]) == set("ABCDE")
    si = res.scores.table["pts_serious_illegal"].to_numpy() > 0
    assert (res.table["tier"].to_numpy()[si] == "E").all()
    plain = score_entities(district, as_of="2026-03-31")
    pd.testing.assert_series_equal(res.table["score"], plain.table["score"])


# --------------------------------------------------------------------------- stages


@pytest.mark.parametrize(
    ("model", "data", "needles"),
    [
        (
            TierPolicy,
            {"shares": [0.2, 0.6, 0.15, 1.05]},
            ["'shares.3'", "<= 1", "1.05"],
        ),
        (TierPolicy, {"method": "median"}, ["'method'", "'median'"]),
        (TierOverride, {"name": "x", "kinds": [], "min_tier": "C"}, ["'kinds'", "[]"]),
        (
            TierOverride,
            {"name": "x", "kinds": ["penalty"], "min_listed_days": -3},
            ["'min_listed_days'", ">= 0", "-3"],
        ),
        (TierOverride, {"name": "Bad", "kinds": ["penalty"]}, ["'name'", "'Bad'"]),
    ],
)
def test_config_errors_name_the_field_and_value(
    model: type[TierPolicy] | type[TierOverride],
    data: dict[str, object],
    needles: list[str],
) -> None:
    with pytest.raises(ConfigError) as info:
        model(**data)
    for needle in needles:
        assert needle in str(info.value)


def test_tier_labels_come_from_the_schema_vocabulary() -> None:
    from creditsup.schemas import TIERS

    assert TierPolicy().tiers == TIERS[:4]
    assert TierPolicy(tiers=TIERS).tiers == TIERS
    assert TierPolicy().model_dump(mode="json")["shares"] == [0.2, 0.6, 0.15, 0.05]


def test_apply_overrides_alone() -> None:
    from creditsup.tiers import apply_overrides

    pol = TierPolicy(tiers=("A", "B", "C", "D", "E"))  # abnormal -> C, serious -> E
    score_idx = np.array([0, 3, 4, 1, 2])
    serious = np.array([False, False, False, True, False])
    abnormal = np.array([True, True, False, True, True])
    idx, why = apply_overrides(score_idx, [serious, abnormal], pol)
    assert idx.tolist() == [2, 3, 4, 4, 2]
    # the score's own tier D beats the abnormal floor C; C equals it: abnormal
    assert why.tolist() == [1, -1, -1, 0, 1]
    none, reason = apply_overrides(score_idx, [], TierPolicy(overrides=()))
    assert none.tolist() == score_idx.tolist() and (reason == -1).all()


def test_override_flags_alone() -> None:
    from creditsup.tiers import override_flags

    rows = [
        {"uscc": IDS[0], "kind": "abnormal_list", "date": "2025-06-01"},
        {"uscc": IDS[1], "kind": "serious_illegal_list", "date": "2026-01-05"},
        {
            "uscc": IDS[2],
            "kind": "abnormal_list",
            "date": "2025-01-01",
            "restored_on": "2025-03-01",
        },
    ]
    ds = Dataset(entities=_entities(3), records=_frame(rows))
    flags = override_flags(
        ds,
        TierPolicy(),
        scorecard=default_scorecard(),
        unit_ent=np.arange(3),
        unit_day=np.full(3, int(np.datetime64("2025-12-31", "D").astype(np.int64))),
    )
    serious, abnormal = flags
    assert serious.tolist() == [False, False, False]  # listed after the date
    assert abnormal.tolist() == [True, False, False]  # the third was restored
