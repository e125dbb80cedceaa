"""Learning a scorecard: statistics, binning, model, leakage, round trips."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _backtest_toy import toy_dataset
from creditsup import uscc
from creditsup.exceptions import ConfigError, MissingDependencyError
from creditsup.fit import (
    CandidateOptions,
    FitOptions,
    backtest_fitted,
    candidate_indicators,
    fit_scorecard,
)
from creditsup.fit.binning import bin_feature, nice_edge
from creditsup.fit.model import fit_logistic, penalty_path
from creditsup.policy import Policy, load_policy
from creditsup.schemas import Dataset, validate_dataset
from creditsup.scoring import (
    Indicator,
    Scorecard,
    default_scorecard,
    reason_codes,
    score_entities,
)

#: Small grids: the default test run stays short.
FAST = FitOptions(n_folds=1, max_snapshots=4, feature_grid=(3, 6), n_penalties=6)
AS_OF = "2022-01-01"


@pytest.fixture(scope="module")
def toy() -> Dataset:
    return toy_dataset(900, seed=3)


@pytest.fixture(scope="module")
def fitted(toy: Dataset):  # type: ignore[no-untyped-def]
    return fit_scorecard(toy, as_of=AS_OF, horizon_days=365, options=FAST)


# ------------------------------------------------------------------ statistics
def _stat_dataset() -> tuple[Dataset, list[str]]:
    ids = list(uscc.generate(3, rng=np.random.default_rng(1)))
    ent = pd.DataFrame(
        {
            "uscc": ids,
            "name": "e",
            "entity_type": "enterprise",
            "industry": ["H6210", "F5211", "H6291"],
            "region": "140902",
            "established": ["2020-01-01", "2020-06-01", "2021-01-01"],
            "status": "active",
        }
    )
    hist = pd.DataFrame(
        {
            "uscc": [ids[0]] * 4 + [ids[1]],
            "date": [
                "2021-01-10",
                "2021-06-01",
                "2021-11-01",
                "2022-03-01",
                "2021-12-01",
            ],
            "department": "food",
            "result": ["normal", "problem_corrected", "normal", "refused", "normal"],
            "trigger": "random",
            "critical_count": ["1", "3", "", "9", "2"],
        }
    )
    rec = pd.DataFrame(
        {
            "uscc": [ids[0], ids[0], ids[1]],
            "kind": ["complaint", "penalty", "complaint"],
            "date": ["2021-03-01", "2021-09-01", "2021-10-01"],
            "severity": [1.0, 2.0, 1.0],
            "amount": ["100", "2500", "50"],
        }
    )
    ds = validate_dataset(
        {
            "entities": ent,
            "history": hist,
            "records": rec,
            "items": pd.DataFrame(
                {
                    "item_id": ["F"],
                    "department": ["food"],
                    "name": ["x"],
                    "legal_basis": ["law"],
                    "kind": ["general"],
                }
            ),
            "inspectors": pd.DataFrame(
                {
                    "inspector_id": ["i1", "i2"],
                    "name": ["a", "b"],
                    "department": "food",
                    "region": "140902",
                    "expertise": "food",
                    "monthly_capacity": 1,
                }
            ),
        }
    )
    return ds, ids


def _ind(name: str, **kw: object) -> Indicator:
    return Indicator.model_validate({"name": name, "dimension": "supervision", **kw})


def test_new_statistics_match_a_direct_count() -> None:
    ds, (a, b, c) = _stat_dataset()
    h = {"source": "history"}
    inds = (
        _ind("n_normal", statistic="count", results=("normal",), **h),
        _ind("share_normal", statistic="share", results=("normal",), **h),
        _ind(
            "share_1y", statistic="share", results=("normal",), lookback_days=365, **h
        ),
        _ind("since_problem", statistic="days_since", **h),
        _ind("crit_sum", statistic="sum", column="critical_count", **h),
        _ind("crit_mean", statistic="mean", column="critical_count", **h),
        _ind("crit_max", statistic="max", column="critical_count", **h),
        _ind("crit_last", statistic="last", column="critical_count", **h),
        _ind("rec_share", source="records", kinds=("complaint",), statistic="share"),
        _ind("rec_since", source="records", kinds=("penalty",), statistic="days_since"),
        _ind(
            "amount",
            source="records",
            kinds=("penalty",),
            statistic="sum",
            column="amount",
        ),
        _ind(
            "age",
            dimension="basic",
            source="entities",
            statistic="age_days",
            column="established",
        ),
    )
    sc = Scorecard(name="t", version="1", indicators=inds)
    got = score_entities(ds, sc, as_of="2021-12-31").details.set_index("uscc")
    # entity a: inspections 2021-01-10 normal (1), 06-01 problem (3), 11-01 normal ('')
    assert got.loc[a, "n_normal"] == 2
    assert got.loc[a, "share_normal"] == pytest.approx(2 / 3)
    assert got.loc[a, "share_1y"] == pytest.approx(2 / 3)  # 2021-01-10 is within a year
    assert (
        got.loc[a, "since_problem"]
        == (pd.Timestamp("2021-12-31") - pd.Timestamp("2021-06-01")).days
    )
    assert got.loc[a, "crit_sum"] == 4 and got.loc[a, "crit_mean"] == 2
    assert got.loc[a, "crit_max"] == 3 and got.loc[a, "crit_last"] == 3  # '' skipped
    assert got.loc[a, "rec_share"] == pytest.approx(0.5)
    assert (
        got.loc[a, "rec_since"]
        == (pd.Timestamp("2021-12-31") - pd.Timestamp("2021-09-01")).days
    )
    assert got.loc[a, "amount"] == 2500
    assert got.loc[b, "crit_last"] == 2 and np.isnan(got.loc[b, "since_problem"])
    assert got.loc[b, "rec_share"] == 1.0 and got.loc[b, "amount"] == 0
    assert np.isnan(got.loc[c, "share_normal"]) and np.isnan(got.loc[c, "crit_mean"])
    assert (
        got.loc[c, "age"]
        == (pd.Timestamp("2021-12-31") - pd.Timestamp("2021-01-01")).days
    )
    # the 2022 inspection (refused, 9 critical) is after the date: never counted
    assert got.loc[a, "crit_max"] == 3


def test_an_aggregate_needs_a_column_and_results_need_history() -> None:
    with pytest.raises(ConfigError, match="'column'"):
        _ind("x", source="history", statistic="sum")
    with pytest.raises(ConfigError, match="'results'"):
        _ind("x", source="records", kinds=("penalty",), results=("normal",))


def test_an_unknown_aggregate_column_is_a_config_error() -> None:
    ds, _ = _stat_dataset()
    ind = _ind("x", source="history", statistic="sum", column="nope")
    with pytest.raises(ConfigError, match="column of the history table"):
        score_entities(
            ds, Scorecard(name="t", version="1", indicators=(ind,)), as_of="2022-01-01"
        )


def test_the_national_profile_dump_is_unchanged_by_the_new_fields() -> None:
    dump = default_scorecard().model_dump()
    assert all("results" not in i for i in dump["indicators"])
    text = __import__("creditsup.policy").policy.policy_template()
    assert not any(line.startswith("results = ") for line in text.splitlines())


# ------------------------------------------------------------------ binning, model
def test_nice_edges_bin_the_data_identically() -> None:
    assert nice_edge(0.0, 1.0) == 1.0
    assert nice_edge(4.5, 7.25) == 5.0
    assert 0.123 < nice_edge(0.123, 0.1875) <= 0.1875


def test_numeric_bins_are_monotone_in_both_directions() -> None:
    rng = np.random.default_rng(0)
    x = rng.poisson(2.0, 8000).astype(float)
    x[rng.random(8000) < 0.1] = np.nan
    for sign in (1, -1):
        p = 0.15 + sign * 0.04 * (np.nan_to_num(x, nan=2.0) - 2)
        y = rng.random(8000) < np.clip(p, 0.01, 0.9)
        fb = bin_feature("x", x, y, FitOptions())
        assert fb is not None and fb.iv > 0.05
        assert fb.trend == ("increasing" if sign > 0 else "decreasing")
        step = np.diff(fb.x[: fb.n_ordered])
        assert (step >= 0).all() if sign > 0 else (step <= 0).all()
        assert fb.n[: fb.n_ordered].min() >= 0.05 * 8000 * 0.9 - 1  # min bin size
        assert fb.bins(np.array([np.nan]))[0] == fb.n_ordered  # missing bin


def test_categories_are_grouped_by_risk_and_rare_ones_pooled() -> None:
    rng = np.random.default_rng(1)
    codes = rng.choice([0, 1, 2, 3, 4], size=10_000, p=[0.4, 0.3, 0.2, 0.095, 0.005])
    rate = np.array([0.05, 0.05, 0.3, 0.3, 0.3])[codes]
    y = rng.random(10_000) < rate
    fb = bin_feature("c", codes, y, FitOptions(min_category_share=0.01), n_categories=5)
    assert fb is not None
    low, high = fb.category_bin[[0, 1]], fb.category_bin[[2, 3]]
    assert low.max() < high.min()  # ordered by risk
    assert fb.category_bin[4] == fb.n_ordered  # rare: other
    assert fb.x[high].min() > fb.x[low].max() + 1.0


def test_a_missing_optbinning_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optbinning", None)
    x = np.arange(100, dtype=float)
    with pytest.raises(MissingDependencyError, match=r"creditsup\[fit\]"):
        bin_feature("x", x, x > 50, FitOptions())


def test_the_penalty_path_keeps_coefficients_non_negative() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3000, 4))
    y = rng.random(3000) < 1 / (1 + np.exp(-(x[:, 0] - x[:, 1])))
    path = penalty_path(x, y, n_penalties=6, min_ratio=1e-3)
    assert all((t[1:] >= 0).all() for t in path.thetas)
    assert (path.thetas[0][1:] == 0).all()  # lam_max: nothing enters
    assert path.entry[0] == 0 and 1 not in path.entry  # x1 pushes the wrong way
    theta = fit_logistic(x[:, :1], y, 0.0)
    assert theta[1] > 0.5


# ------------------------------------------------------------------ the fit
def test_candidates_cover_the_sources(toy: Dataset) -> None:
    names = {c.name for c in candidate_indicators(toy, cutoff=pd.Timestamp(AS_OF))}
    assert {"hist_problem_corrected_count_365d", "hist_normal_share_all"} <= names
    assert {"hist_critical_count_max_1095d", "hist_critical_count_last"} <= names
    assert {"rec_check_problem_days_since", "ent_city_risk", "ent_age_days"} <= names
    only = CandidateOptions(sources=("entities",), windows=(365,))
    assert all(
        c.indicator.source == "entities"
        for c in candidate_indicators(toy, cutoff=pd.Timestamp(AS_OF), options=only)
    )


def test_the_fit_finds_the_signal_and_explains_it(toy: Dataset, fitted) -> None:  # type: ignore[no-untyped-def]
    sc = fitted.scorecard
    assert 1 <= len(sc.indicators) <= 6
    assert any(i.source == "history" for i in sc.indicators)
    for ind in sc.indicators:
        pts = ind.bin_points()
        assert pts.min() == 0.0 and (pts >= 0).all()  # risk points only (C4)
        assert ind.monotone in ("increasing", "decreasing")
    # the fitted points reproduce the model: score -> probability of the units
    res = backtest_fitted(
        toy,
        as_of=AS_OF,
        horizon_days=365,
        seeds=5,
        n_boot=100,
        baselines=("uniform", "history_rule"),
        fit_options=FAST,
    )[0]
    m = res.methods.set_index("method")
    assert m.loc["scorecard", "auc_lo"] > 0.55
    assert m.loc["scorecard", "auc"] > m.loc["previous", "auc"]
    assert m.loc["scorecard", "lift"] > 1.0
    assert res.metrics["caps_hold"]
    rates = res.tiers["rate"].to_numpy()
    assert rates[-1] > rates[0]


def test_scores_reproduce_the_fitted_probabilities(toy: Dataset, fitted) -> None:  # type: ignore[no-untyped-def]
    table = score_entities(toy, fitted.scorecard, as_of="2021-12-31").table
    p = fitted.predict(table["score"].to_numpy())
    assert ((p > 0) & (p < 1)).all()
    # the highest-scored tenth fails far more often in the next year
    nxt = toy.history[(toy.history["date"] >= AS_OF)]
    y = nxt.groupby("uscc")["problem_found"].max().astype(bool)
    s = table.set_index("uscc")["score"].reindex(y.index)
    top = s >= s.quantile(0.9)
    assert y[top].mean() > y[~top].mean() * 1.3
    reasons = reason_codes(score_entities(toy, fitted.scorecard, as_of="2021-12-31"))
    assert (reasons[top.reindex(table["uscc"]).to_numpy()] != "").all()


def test_the_toml_is_an_ordinary_policy(tmp_path: Path, fitted) -> None:  # type: ignore[no-untyped-def]
    text = fitted.to_toml()
    assert text.startswith("# creditsup fitted scorecard")
    path = tmp_path / "scorecard.toml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert policy.scorecard == fitted.scorecard
    assert policy.tiers == fitted.tiers
    assert policy.tiers.method == "cutoff"
    assert [o.name for o in policy.tiers.overrides] == ["serious_illegal", "abnormal"]
    assert "Points per bin" in fitted.to_markdown()


def test_rate_tiers_follow_the_fitted_probabilities(toy: Dataset) -> None:
    opts = FitOptions.model_validate(
        {**FAST.model_dump(), "tier_method": "rate", "tier_rates": (0.1, 0.2, 0.4)}
    )
    res = fit_scorecard(toy, as_of=AS_OF, horizon_days=365, options=opts)
    p = res.predict(np.asarray(res.tiers.cutoffs))
    assert p == pytest.approx([0.1, 0.2, 0.4], abs=1e-3)


def _scramble_after(ds: Dataset, split: str, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    h = ds.history.copy()
    after = (h["date"] >= pd.Timestamp(split)).to_numpy()
    n = int(after.sum())
    flip = rng.random(n) < 0.5
    h.loc[after, "problem_found"] = flip
    h.loc[after, "result"] = np.where(flip, "problem_corrected", "normal")
    h.loc[after, "critical_count"] = rng.integers(0, 5, n)
    h.loc[after, "trigger"] = rng.choice(["random", "complaint"], n)
    return dataclasses.replace(ds, history=h)


def test_scrambling_outcomes_after_the_split_changes_nothing(
    toy: Dataset, fitted
) -> None:  # type: ignore[no-untyped-def]
    other = fit_scorecard(
        _scramble_after(toy, AS_OF, 9), as_of=AS_OF, horizon_days=365, options=FAST
    )
    assert other.scorecard == fitted.scorecard
    assert other.tiers == fitted.tiers
    assert other.to_toml() == fitted.to_toml()
    a = score_entities(toy, fitted.scorecard, as_of="2021-12-31").table
    b = score_entities(other and toy, other.scorecard, as_of="2021-12-31").table
    pd.testing.assert_frame_equal(a, b)


def test_the_fit_does_not_depend_on_row_order(toy: Dataset, fitted) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    shuffled = dataclasses.replace(
        toy,
        entities=toy.entities.iloc[rng.permutation(len(toy.entities))].reset_index(
            drop=True
        ),
        history=toy.history.iloc[rng.permutation(len(toy.history))].reset_index(
            drop=True
        ),
        records=toy.records.iloc[rng.permutation(len(toy.records))].reset_index(
            drop=True
        ),
    )
    again = fit_scorecard(shuffled, as_of=AS_OF, horizon_days=365, options=FAST)
    assert again.scorecard == fitted.scorecard


def test_too_little_history_is_a_clear_error(toy: Dataset) -> None:
    with pytest.raises(ConfigError, match="needs at least"):
        fit_scorecard(toy, as_of="2019-02-01", horizon_days=365, options=FAST)


def test_fit_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="tier_rates"):
        FitOptions(tier_method="rate", tier_rates=(0.3, 0.2, 0.4))
    with pytest.raises(ConfigError, match="step_days"):
        FitOptions(step_days=1)
    assert Policy().scorecard == default_scorecard()
