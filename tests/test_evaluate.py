"""Tests of the backtest (creditsup.evaluate): metrics, draws, no leakage, report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from _backtest_toy import toy_dataset as _toy
from creditsup import uscc
from creditsup.evaluate import (
    BacktestResult,
    auc_interval,
    auc_score,
    backtest,
    bootstrap_aucs,
    brier_score,
    expected_hit_rate,
    rank_inclusion,
    recode_outcome,
    score_as_of,
    simulate_hit_rates,
)
from creditsup.evaluate.metrics import weighted_auc
from creditsup.exceptions import ConfigError
from creditsup.sampling import SamplingPolicy
from creditsup.schemas import Dataset, validate_dataset
from creditsup.scoring import default_scorecard
from creditsup.tiers import TierPolicy

ALPHA = 1e-3
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "chicago"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@dataclasses.dataclass(frozen=True)
class _Policy:
    scorecard: object = dataclasses.field(default_factory=default_scorecard)
    tiers: TierPolicy = dataclasses.field(default_factory=TierPolicy)
    sampling: SamplingPolicy = dataclasses.field(default_factory=SamplingPolicy)


@pytest.fixture(scope="module")
def toy() -> Dataset:
    return _toy()


@pytest.fixture(scope="module")
def toy_result(toy: Dataset) -> BacktestResult:
    return backtest(toy, as_of="2022-01-01", seeds=100, n_boot=300)


# ----------------------------------------------------------------- metric helpers


def _pairwise_auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y], s[~y]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 5), st.integers(0, 3)),
        min_size=2,
        max_size=40,
    )
)
def test_weighted_auc_equals_auc_of_the_expanded_sample(
    rows: list[tuple[bool, int, int]],
) -> None:
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows], dtype=float)
    w = np.array([r[2] for r in rows])
    ye, se = np.repeat(y, w), np.repeat(s, w)
    got = weighted_auc(y, s, w[None, :])[0]
    if ye.all() or not ye.any():
        assert np.isnan(got)
    else:
        assert got == pytest.approx(_pairwise_auc(ye, se), abs=1e-12)
        assert auc_score(ye, se) == pytest.approx(got, abs=1e-12)


def test_auc_interval_is_seeded_and_covers_the_estimate() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(500) < 0.3
    s = y + rng.normal(0, 1.5, 500)
    a = auc_interval(y, s, n_boot=400, seed="a")
    assert a == auc_interval(y, s, n_boot=400, seed="a")
    assert a != auc_interval(y, s, n_boot=400, seed="b")
    assert a[1] < a[0] < a[2]
    # a useless score's interval covers 0.5, a good one's does not
    assert auc_interval(y, rng.random(500), n_boot=400)[1] < 0.5
    assert a[1] > 0.5


def test_bootstrap_is_paired() -> None:
    rng = np.random.default_rng(4)
    y = rng.random(300) < 0.4
    s = y + rng.normal(0, 1, 300)
    boot = bootstrap_aucs(y, {"a": s, "b": s}, n_boot=50)
    assert (boot["a"] == boot["b"]).all()


@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=30),
    st.lists(st.floats(0, 1), min_size=4, max_size=4),
    st.integers(0, 1000),
)
def test_rank_inclusion_properties(
    scores: list[int], pis: list[float], salt: int
) -> None:
    n = len(scores)
    rng = np.random.default_rng(salt)
    cuts = np.sort(rng.integers(0, n + 1, 3))
    sizes = np.diff(np.r_[0, cuts, n])
    tier_pi = np.sort(pis)
    got = rank_inclusion(scores, sizes, tier_pi)
    assert got.sum() == pytest.approx(float((sizes * tier_pi).sum()), abs=1e-9)
    s = np.asarray(scores)
    for v in np.unique(s):  # ties share one probability
        assert np.ptp(got[s == v]) < 1e-12
    order = np.argsort(s, kind="stable")
    assert (np.diff(got[order]) >= -1e-12).all()  # never lower for a higher score


def test_rank_inclusion_without_ties_is_positional() -> None:
    got = rank_inclusion([10, 30, 20, 40, 50], [2, 2, 1], [0.1, 0.2, 0.9])
    assert got.tolist() == [0.1, 0.2, 0.1, 0.2, 0.9]
    with pytest.raises(ConfigError, match="add up"):
        rank_inclusion([1, 2], [1, 2], [0.1, 0.2])


def test_expected_hit_rate_and_brier() -> None:
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    assert expected_hit_rate(y, np.full(8, 0.3)) == pytest.approx(0.25)
    assert expected_hit_rate(y, y * 0.5 + 0.1) == pytest.approx(1.2 / 1.8)
    assert np.isnan(expected_hit_rate(y, np.zeros(8)))
    assert brier_score(y, y) == 0.0
    assert brier_score(y, 1 - y) == 1.0


def test_simulated_draws_match_the_inclusion_probabilities() -> None:
    """Drawn counts per stratum over 1,500 keys agree with sum(pi) (z-tests,
    alpha = 1e-3); a sampler biased by 5 % is rejected (power check)."""
    n, keys = 2000, 1500
    rng = np.random.default_rng(7)
    ids = uscc.generate(n, rng=rng)
    tier = rng.integers(0, 4, n)
    pi = np.array([0.05, 0.1, 0.2, 0.4])[tier]
    y = rng.random(n) < 0.2
    pis = {f"t{t}": np.where(tier == t, pi, 0.0) for t in range(4)}
    hits, drawn = simulate_hit_rates(ids, y, pis, seeds=keys, seed="stat")
    z_drawn, z_biased = [], []
    for t in range(4):
        p = pis[f"t{t}"]
        mean, var = p.sum(), (p * (1 - p)).sum()
        counts = drawn[f"t{t}"].to_numpy()
        z_drawn.append((counts.mean() - mean) / np.sqrt(var / keys))
        z_biased.append((counts.mean() - 1.05 * mean) / np.sqrt(var / keys))
        found = (hits[f"t{t}"] * counts).to_numpy()
        py = p * y
        z = (found.mean() - py.sum()) / np.sqrt((py * (1 - p)).sum() / keys)
        assert abs(z) < stats.norm.isf(ALPHA / 2)
    assert stats.chi2.sf(np.sum(np.square(z_drawn)), 4) > ALPHA
    assert stats.chi2.sf(np.sum(np.square(z_biased)), 4) < ALPHA


def test_simulated_draws_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(8)
    ids = uscc.generate(300, rng=rng)
    y = rng.random(300) < 0.3
    pi = rng.random(300) * 0.5
    a, _ = simulate_hit_rates(ids, y, {"m": pi}, seeds=20)
    perm = rng.permutation(300)
    b, _ = simulate_hit_rates(ids[perm], y[perm], {"m": pi[perm]}, seeds=20)
    pd.testing.assert_frame_equal(a, b)
    c, _ = simulate_hit_rates(ids, y, {"m": pi}, seeds=20, seed="other")
    assert not a.equals(c)


def test_recode_outcome_keeps_uninformative_results(toy: Dataset) -> None:
    h = toy.history.copy()
    h.loc[h.index[:5], "result"] = "no_activity"
    ds = dataclasses.replace(toy, history=h)
    rec = recode_outcome(ds, "problem_found").history
    assert (rec["result"].iloc[:5] == "no_activity").all()
    truth = h["problem_found"].astype(str).str.lower() == "true"
    rest = rec.iloc[5:]
    assert ((rest["result"] == "problem_corrected") == truth.iloc[5:].to_numpy()).all()
    with pytest.raises(ConfigError, match="column of history"):
        recode_outcome(ds, "nope")


# ----------------------------------------------------------------- no leakage


def _perturb_after(ds: Dataset, when: str, seed: int = 1) -> Dataset:
    """Shuffle every result and add alarming records dated on or after ``when``."""
    rng = np.random.default_rng(seed)
    h = ds.history.copy()
    late = h["date"] >= pd.Timestamp(when)
    h.loc[late, "result"] = rng.permutation(h.loc[late, "result"].to_numpy())
    h.loc[late, "problem_found"] = rng.permutation(
        h.loc[late, "problem_found"].to_numpy()
    )
    extra = pd.DataFrame(
        {
            "uscc": ds.entities["uscc"].iloc[:50].to_numpy(),
            "kind": "serious_illegal_list",
            "date": pd.Timestamp(when) + pd.Timedelta(days=3),
        }
    )
    rec = pd.concat([ds.records, extra], ignore_index=True)
    rec["date"] = pd.to_datetime(rec["date"]).astype("datetime64[us]")
    return dataclasses.replace(ds, history=h, records=rec)


@pytest.mark.parametrize("calibrate", [True, False])
def test_scoring_as_of_equals_scoring_the_cut_dataset(
    toy: Dataset, calibrate: bool
) -> None:
    t = pd.Timestamp("2022-03-01")
    full, cal_full = score_as_of(toy, as_of=t, calibrate=calibrate)
    cut, cal_cut = score_as_of(
        toy.cut(t - pd.Timedelta(days=1)), as_of=t, calibrate=calibrate
    )
    pd.testing.assert_frame_equal(full.table, cut.table)
    assert full.scores.scorecard == cut.scores.scorecard
    if calibrate:
        assert cal_full is not None and cal_cut is not None
        assert cal_full.scorecard == cal_cut.scorecard
    # later rows, however alarming, change nothing
    moved, _ = score_as_of(
        _perturb_after(toy, "2022-03-01"), as_of=t, calibrate=calibrate
    )
    pd.testing.assert_frame_equal(full.table, moved.table)


def test_backtest_ignores_rows_after_the_window_and_uses_the_window(
    toy: Dataset,
) -> None:
    a = backtest(toy, as_of="2022-01-01", horizon_days=180, seeds=20, n_boot=50)
    b = backtest(
        _perturb_after(toy, "2022-06-30"),
        as_of="2022-01-01",
        horizon_days=180,
        seeds=20,
        n_boot=50,
    )
    pd.testing.assert_frame_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.methods, b.methods)
    # power: perturbing the window itself changes the outcome metrics
    c = backtest(
        _perturb_after(toy, "2022-01-01"),
        as_of="2022-01-01",
        horizon_days=180,
        seeds=20,
        n_boot=50,
    )
    pd.testing.assert_frame_equal(
        a.scores[["uscc", "score", "tier"]], c.scores[["uscc", "score", "tier"]]
    )
    assert not np.isclose(a.metrics["auc"], c.metrics["auc"])


# ----------------------------------------------------------------- the backtest


def test_backtest_finds_the_planted_signal(toy_result: BacktestResult) -> None:
    res = toy_result
    m = res.methods.set_index("method")
    assert res.metrics["outcome"] == "problem_found"
    assert res.metrics["n_evaluated"] == 1200
    assert m.loc["scorecard", "auc_lo"] > 0.5
    assert m.loc["scorecard", "hit_rate"] > m.loc["uniform", "hit_rate"]
    # the uniform draw finds the base rate; every method spends the same budget
    assert m.loc["uniform", "hit_rate"] == pytest.approx(res.metrics["event_rate"])
    assert np.allclose(m["expected_visits"], res.metrics["budget"])
    rates = res.tiers.set_index("tier")["rate"]
    assert rates["A"] < rates["D"]
    assert set(res.methods["method"]) == {
        "scorecard",
        "uniform",
        "city_risk",
        "history_rule",
        "uncalibrated",
    }
    # the floor is the smallest tier ratio, tier A gets its share
    assert res.metrics["floor"] == pytest.approx(0.05)
    a = res.tiers.set_index("tier").loc["A"]
    assert res.metrics["budget_share_A"] == pytest.approx(
        a["n"] * 0.05 / res.metrics["budget"]
    )
    assert res.metrics["caps_hold"]
    assert res.summary().columns[0] == "method"


def test_inclusion_matches_the_library_draw(
    toy: Dataset, toy_result: BacktestResult
) -> None:
    """The backtest's one-visit probabilities are those of draw_visits for a
    single general item: Monte Carlo over 300 keys agrees per tier (z-tests at
    alpha = 1e-3), and probabilities 10 % higher are rejected."""
    from creditsup.sampling import estimate_inclusion

    t = pd.Timestamp("2022-01-01")
    tiers = toy_result.scores.loc[:, ["uscc", "tier"]]
    inc = estimate_inclusion(
        toy.cut(t - pd.Timedelta(days=1)),
        tiers,
        SamplingPolicy(max_visit_share=None),  # the backtest scales by its own budget
        year=2022,
        n_keys=300,
    )
    inc = inc[inc["item_id"] == "(any)"].set_index("tier")
    ours = toy_result.tiers.set_index("tier")["pi"]
    crit = stats.norm.isf(ALPHA / 2)
    z = (inc["pi_final"] - ours[inc.index]) / inc["se_final"]
    assert (z.abs() < crit).all(), z
    z_biased = (inc["pi_final"] - 1.1 * ours[inc.index]) / inc["se_final"]
    assert (z_biased.abs() > crit).any()


def test_backtest_without_signal_does_not_claim_one() -> None:
    res = backtest(
        _toy(800, seed=2, signal=False), as_of="2022-01-01", seeds=50, n_boot=300
    )
    m = res.methods.set_index("method")
    # the interval does not exclude chance, and the draw finds no more than chance
    assert m.loc["scorecard", "auc_lo"] < 0.5
    assert m.loc["scorecard", "lift"] < 1.15


def test_budget_scales_every_method(toy: Dataset) -> None:
    res = backtest(toy, as_of="2022-01-01", budget=0.25, seeds=10, n_boot=20)
    assert res.metrics["budget"] == pytest.approx(0.25 * 1200, rel=1e-6)
    assert np.allclose(res.methods["expected_visits"], 300.0, rtol=1e-6)
    res = backtest(toy, as_of="2022-01-01", budget=240, seeds=10, n_boot=20)
    assert res.metrics["budget"] == pytest.approx(240, rel=1e-6)
    with pytest.raises(ConfigError, match="budget"):
        backtest(toy, as_of="2022-01-01", budget=5000, seeds=10, n_boot=20)


def test_caps_and_trigger_only_tiers(toy: Dataset) -> None:
    ds = _toy(600, seed=5, extra_visits=10)
    res = backtest(ds, as_of="2022-07-01", horizon_days=184, seeds=20, n_boot=20)
    feb = ds.history[ds.history["date"] == pd.Timestamp("2022-02-01")]
    busy = feb.groupby("uscc").size()
    busy = busy[busy >= 6]
    assert len(busy) == 10
    capped = res.scores.set_index("uscc").loc[busy.index]
    ev = capped[capped["evaluated"]]
    assert (ev["pi"] == 0).all() and len(ev) > 0
    assert res.metrics["n_at_cap"] >= len(ev)
    assert res.metrics["floor"] == 0.0
    assert res.metrics["caps_hold"]
    for t, c in res.metrics["caps"].items():
        assert c["cap"] is None or c["max_visits"] <= c["cap"], t
    pol = _Policy(sampling=SamplingPolicy(ratios={"A": 0.0}, trigger_only_tiers=("A",)))
    res = backtest(toy, pol, as_of="2022-01-01", seeds=10, n_boot=20)
    assert res.metrics["floor"] == 0.0
    assert res.tiers.set_index("tier").loc["A", "budget_share"] == 0.0


def test_outcome_choice(toy: Dataset) -> None:
    by_result = backtest(toy, as_of="2022-01-01", outcome="result", seeds=10, n_boot=20)
    assert by_result.metrics["outcome"] == "result"
    assert not by_result.metrics["history_recoded"]
    with pytest.raises(ConfigError, match="outcome"):
        backtest(toy, as_of="2022-01-01", outcome="nope", seeds=10, n_boot=20)


def test_bad_arguments(toy: Dataset) -> None:
    with pytest.raises(ConfigError, match="horizon_days"):
        backtest(toy, as_of="2022-01-01", horizon_days=0)
    with pytest.raises(ConfigError, match="baselines"):
        backtest(toy, as_of="2022-01-01", baselines=("magic",))
    with pytest.raises(ConfigError, match="nothing to evaluate"):
        backtest(toy, as_of="2024-01-01", calibrate=False)
    with pytest.raises(ConfigError, match="scorecard, tiers and sampling"):
        backtest(toy, object(), as_of="2022-01-01")  # type: ignore[arg-type]


def test_plan_policy_is_accepted(toy: Dataset) -> None:
    from creditsup.plan import Policy

    res = backtest(toy, Policy(), as_of="2022-01-01", seeds=10, n_boot=20)
    assert res.metrics["scorecard"]["name"] == default_scorecard().name


def test_save_writes_the_folder(toy_result: BacktestResult, tmp_path: Path) -> None:
    out = toy_result.save(tmp_path / "bt")
    scores = pd.read_csv(out / "scores.csv", dtype=str)
    assert list(scores.columns) == ["uscc", "score", "tier"]
    assert len(scores) == toy_result.metrics["n_rated"]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["auc"] == pytest.approx(toy_result.metrics["auc"])
    md = (out / "backtest.md").read_text(encoding="utf-8")
    assert "| scorecard |" in md and "## Event rate by tier" in md
    pytest.importorskip("matplotlib")
    for name in ("tier_rates", "roc", "hit_rates", "calibration"):
        assert (out / f"{name}.png").stat().st_size > 1000


# ----------------------------------------------------------------- the case study


@pytest.mark.skipif(
    not (SHARED / "food_inspections_2011_2013.csv").is_file(),
    reason="shared Chicago data absent",
)
def test_chicago_case_study_beats_every_baseline(tmp_path: Path) -> None:
    from creditsup.chicago import import_chicago
    from creditsup.plan import load_policy

    ds = validate_dataset(
        import_chicago(
            SHARED / "food_inspections_2011_2013.csv",
            SHARED / "business_licenses_2011_2013.csv",
        )
    )
    pol = load_policy(EXAMPLES / "chicago_policy.toml")
    res = backtest(ds, pol, as_of="2013-01-01", horizon_days=365, seeds=50, n_boot=200)
    m = res.methods.set_index("method")
    for base in ("uniform", "city_risk", "history_rule"):
        assert m.loc["scorecard", "auc"] > m.loc[base, "auc"], base
        assert m.loc["scorecard", "hit_rate"] > m.loc[base, "hit_rate"], base
    assert res.metrics["floor"] > 0
    assert res.metrics["caps_hold"]
    rates = res.tiers["rate"].to_numpy()
    assert (np.diff(rates) > 0).all()
    # no leakage on the real data: the cut dataset gives the same tiers
    t = pd.Timestamp("2013-01-01")
    view = recode_outcome(ds, "problem_found")
    full, _ = score_as_of(view, pol, as_of=t)
    cut, _ = score_as_of(view.cut(t - pd.Timedelta(days=1)), pol, as_of=t)
    pd.testing.assert_frame_equal(full.table, cut.table)
