"""Tests of creditsup._calibration: metrics, monotone binned logistic fit, leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from creditsup import uscc
from creditsup._calibration import (
    auc_score,
    calibrate_scorecard,
    calibration_table,
    outcome_rates,
    wilson_interval,
)
from creditsup.exceptions import ConfigError
from creditsup.schemas import Dataset
from creditsup.scoring import Indicator, Scorecard, default_scorecard
from creditsup.tiers import rate_entities

# --------------------------------------------------------------------------- metrics


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_matches_scipy(k: int, n: int) -> None:
    k = min(k, n)
    lo, hi = wilson_interval([k], [n])
    ci = stats.binomtest(k, n).proportion_ci(method="wilson")
    assert lo[0] == pytest.approx(ci.low, abs=1e-9)
    assert hi[0] == pytest.approx(ci.high, abs=1e-9)


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40
    ).filter(lambda v: 0 < sum(y for y, _ in v) < len(v))
)
def test_auc_is_the_pairwise_probability(pairs: list[tuple[bool, int]]) -> None:
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs], dtype=float)
    pos, neg = s[y], s[~y]
    brute = (
        (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    ).mean()
    assert auc_score(y, s) == pytest.approx(brute)


def test_calibration_table_groups() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(1003)
    y = rng.random(1003) < p
    tab = calibration_table(y, p, groups=10)
    assert tab["n"].sum() == 1003 and len(tab) == 10
    assert tab["mean_predicted"].is_monotonic_increasing
    assert (
        (tab["observed_lo"] <= tab["observed"])
        & (tab["observed"] <= tab["observed_hi"])
    ).all()


# --------------------------------------------------------------------------- recovery


def _toy(
    n: int, effect: float, seed: int, *, leak_day: int | None = None
) -> tuple[Dataset, Scorecard]:
    """One inspection per entity on 2025-01-01; the outcome depends on penalties."""
    rng = np.random.default_rng(seed)
    ids = sorted(uscc.generate(n, rng=rng).tolist())
    ent = pd.DataFrame(
        {"uscc": ids, "established": pd.Timestamp("2010-01-01") + pd.Timedelta(days=0)}
    )
    pen = rng.random(n) < 0.3
    insp = pd.Timestamp("2025-01-01")
    y = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + effect * pen)))
    rec = pd.DataFrame(
        {
            "uscc": np.asarray(ids, dtype=object)[pen],
            "kind": "penalty",
            "date": insp - pd.Timedelta(days=100),
            "severity": 2.0,
        }
    )
    if leak_day is not None:  # a record revealing the outcome
        rec = pd.concat(
            [
                rec,
                pd.DataFrame(
                    {
                        "uscc": np.asarray(ids, dtype=object)[y],
                        "kind": "check_problem",
                        "date": insp + pd.Timedelta(days=leak_day),
                        "severity": np.nan,
                    }
                ),
            ],
            ignore_index=True,
        )
    hist = pd.DataFrame(
        {
            "uscc": ids,
            "date": insp,
            "result": np.where(y, "problem_corrected", "normal"),
        }
    )
    card = Scorecard(
        indicators=(
            Indicator(
                name="penalties",
                dimension="supervision",
                source="records",
                kinds=("penalty",),
                edges=(1.0, 2.0),
                points=(0.0, 5.0, 8.0),
                monotone="increasing",
            ),
            Indicator(
                name="check_problems",
                dimension="supervision",
                source="records",
                kinds=("check_problem",),
                edges=(1.0,),
                points=(0.0, 1.0),
                monotone="increasing",
            ),
        )
    )
    return Dataset(entities=ent, records=rec, history=hist), card


def _step(res_card: Scorecard, name: str) -> float:
    pts = res_card.indicator(name).points
    return float(pts[1] - pts[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_a_known_effect(seed: int) -> None:
    ds, card = _toy(4000, 1.0, seed)
    res = calibrate_scorecard(ds, card, as_of="2025-06-30", l2=0.01)
    scale = res.points_to_double_odds / np.log(2)
    # true effect 1.0 log-odds; standard error ~0.08: 4.5 SE tolerance
    assert _step(res.scorecard, "penalties") == pytest.approx(scale, abs=0.35 * scale)
    # one informative indicator: refitting its points keeps the ranking
    assert res.auc == pytest.approx(res.auc_before) and res.auc > 0.55
    assert res.n_units == 4000
    # predicted probabilities add up to the events (logistic score equations)
    assert res.units["predicted"].sum() == pytest.approx(res.n_events, rel=1e-3)


def test_monotone_constraint_binds_against_a_reversed_effect() -> None:
    ds, card = _toy(4000, -1.0, 5)
    res = calibrate_scorecard(ds, card, as_of="2025-06-30", l2=0.01)
    assert _step(res.scorecard, "penalties") == pytest.approx(0.0, abs=1e-6)
    # power: without the constraint the same data give a clearly negative step
    free = card.model_copy(
        update={
            "indicators": (
                card.indicators[0].model_copy(update={"monotone": "none"}),
                card.indicators[1],
            )
        }
    )
    res_free = calibrate_scorecard(ds, free, as_of="2025-06-30", l2=0.01)
    assert _step(res_free.scorecard, "penalties") < -0.5 * res.points_to_double_odds


def test_no_leakage_from_the_inspection_itself() -> None:
    clean, card = _toy(3000, 1.0, 7)
    same_day, _ = _toy(3000, 1.0, 7, leak_day=0)
    a = calibrate_scorecard(clean, card, as_of="2025-06-30")
    b = calibrate_scorecard(same_day, card, as_of="2025-06-30")
    assert a.scorecard == b.scorecard and a.auc == b.auc
    # power: the same records one day earlier are known and do leak
    early, _ = _toy(3000, 1.0, 7, leak_day=-1)
    c = calibrate_scorecard(early, card, as_of="2025-06-30")
    assert c.auc > a.auc + 0.1


def test_errors() -> None:
    ds, card = _toy(50, 1.0, 0)
    with pytest.raises(ConfigError, match="history"):
        calibrate_scorecard(Dataset(entities=ds.entities), card, as_of="2025-06-30")
    with pytest.raises(ConfigError, match="without problems"):
        calibrate_scorecard(ds, card, as_of="2024-06-30")
    with pytest.raises(ConfigError, match="l2"):
        calibrate_scorecard(ds, card, as_of="2025-06-30", l2=-1)


# --------------------------------------------------------------------------- district


@pytest.fixture(scope="module")
def district() -> Dataset:
    from creditsup.datasets import synthetic_district

    return synthetic_district(30_000, 60, seed="calibration-tests")


def test_calibration_on_the_district(district: Dataset) -> None:
    t = "2025-06-30"
    res = calibrate_scorecard(district, as_of=t)
    assert res.n_units == len(res.units) > 1000
    assert (res.units["date"] < pd.Timestamp(t)).all()
    assert res.auc > 0.65 and res.auc > res.auc_before - 0.01
    rates = res.tier_rates.set_index("tier")
    assert (np.diff(rates["rate"].to_numpy()) > 0).all(), res.tier_rates
    assert rates.loc["A", "rate_hi"] < rates.loc["D", "rate_lo"]
    # the fitted points keep the bins, the monotone directions and are usable
    for old, new in zip(
        default_scorecard().indicators, res.scorecard.indicators, strict=True
    ):
        assert old.edges == new.edges and old.monotone == new.monotone
        assert list(old.categories) == list(new.categories)
    assert res.scorecard != default_scorecard()
    summ = res.summary().set_index("metric")
    assert summ.loc["n_units", "value"] == res.n_units
    tiers = rate_entities(district, as_of=t, scorecard=res.scorecard)
    later = outcome_rates(tiers, district).set_index("tier")
    assert later.loc["A", "rate"] < later.loc["D", "rate"]
    assert (
        abs(res.predict_proba(res.units["score"]) - res.units["predicted"]).max() < 1e-9
    )


def test_calibration_equals_calibration_on_the_cut_dataset(district: Dataset) -> None:
    t = "2025-03-31"
    a = calibrate_scorecard(district, as_of=t)
    b = calibrate_scorecard(district.cut(t), as_of=t)
    assert a.scorecard == b.scorecard
    assert (a.auc, a.n_units, a.intercept) == (b.auc, b.n_units, b.intercept)
    pd.testing.assert_frame_equal(a.tier_rates, b.tier_rates)


# --------------------------------------------------------------------------- stages


def test_calibration_units_alone() -> None:
    from creditsup._calibration import calibration_units
    from creditsup.scoring import to_day
    from creditsup.scoring.records import prepare_arrays

    ds, card = _toy(40, 1.0, 3)
    # one entity established on the inspection day: not known the day before
    ent = ds.entities.copy()
    ent.loc[0, "established"] = pd.Timestamp("2025-01-01")
    hist = pd.concat(
        [ds.history, ds.history.iloc[:1].assign(result="deregistered")],
        ignore_index=True,
    )
    ds = Dataset(entities=ent, records=ds.records, history=hist)
    prep = prepare_arrays(ds, card)
    units = calibration_units(
        ds, prep, card, day=to_day("2025-06-30"), exclude_results=("deregistered",)
    )
    assert units.rows.tolist() == list(range(1, 40))
    assert (units.day == to_day("2024-12-31")).all()
    assert units.ent.tolist() == list(range(1, 40))
    problems = ds.history["result"].iloc[1:40] == "problem_corrected"
    assert units.y.tolist() == problems.astype(float).tolist()
    with pytest.raises(ConfigError, match="without problems"):
        calibration_units(ds, prep, card, day=to_day("2025-01-01"), exclude_results=())


def test_fit_points_alone() -> None:
    from creditsup._calibration import fit_points

    _, card = _toy(10, 1.0, 0)
    rng = np.random.default_rng(1)
    pen = rng.integers(0, 3, 3000)  # bins of 'penalties': 0, 1, >= 2
    chk = np.zeros(3000, dtype=np.int64)
    y = (rng.random(3000) < 1 / (1 + np.exp(-(-1.5 + 0.8 * pen)))).astype(float)
    bins = np.column_stack([pen, chk])
    scale = 20 / np.log(2)
    fitted, intercept = fit_points(card, (), bins, y, l2=0.01, scale=scale)
    pts = np.asarray(fitted.indicator("penalties").points)
    assert (np.diff(pts) > 0).all()  # the effect, in the monotone direction
    assert pts[1] - pts[0] == pytest.approx(0.8 * scale, abs=0.3 * scale)
    # anchored: the mean points over the units are those of the input card
    before = np.asarray(card.indicator("penalties").bin_points())[pen].mean()
    after = fitted.indicator("penalties").bin_points()[pen].mean()
    assert after == pytest.approx(before, abs=0.01)
    # the map reproduces the event rate of each bin
    score = fitted.indicator("penalties").bin_points()[pen] + fitted.base_points
    p = 1 / (1 + np.exp(-(intercept + score / scale)))
    for b in range(3):
        assert p[pen == b].mean() == pytest.approx(y[pen == b].mean(), abs=0.03)


def test_event_rates_and_tier_rates() -> None:
    from creditsup._calibration import event_rates, tier_rates

    out = event_rates(
        ["x", "y"], np.array(["x", "x", "x", "y"], dtype=object), [1, 1, 0, 0]
    )
    assert out["n"].tolist() == [3, 1] and out["events"].tolist() == [2, 0]
    lo, hi = wilson_interval([2, 0], [3, 1])
    assert (
        out["rate_lo"].tolist() == lo.tolist()
        and out["rate_hi"].tolist() == hi.tolist()
    )
    tab = tier_rates(["A", "B"], ["A", "B"], [0, 1])
    assert list(tab.columns) == ["tier", "n", "events", "rate", "rate_lo", "rate_hi"]
    assert tab["rate"].tolist() == [0.0, 1.0]
