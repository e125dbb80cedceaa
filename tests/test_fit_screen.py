"""The fit's second round: shrunk and time-decayed statistics, the correlation
screen, and the longer of two windows the training data cannot tell apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _backtest_toy import toy_dataset
from creditsup.exceptions import ConfigError
from creditsup.fit import CandidateOptions, FitOptions, fit_scorecard
from creditsup.fit.binning import bin_feature
from creditsup.fit.candidates import Candidate, candidate_indicators
from creditsup.fit.fit import _distinct
from creditsup.fit.model import fit_logistic
from creditsup.fit.select import build_design, unit_weights
from creditsup.fit.units import Units
from creditsup.scoring import Indicator, Scorecard, default_scorecard, score_entities
from test_fit import AS_OF, FAST, _scramble_after, _stat_dataset

DAY = pd.Timestamp("2021-12-31")


def _ind(name: str, **kw: object) -> Indicator:
    return Indicator.model_validate({"name": name, "dimension": "supervision", **kw})


def _age(date: str) -> float:
    return float((DAY - pd.Timestamp(date)).days)


def test_shrunk_and_decayed_statistics_match_a_direct_computation() -> None:
    ds, (a, _, c) = _stat_dataset()
    h = {"source": "history"}
    inds = (
        _ind(
            "share_s",
            statistic="share",
            results=("normal",),
            prior_rows=2.0,
            prior_value=0.5,
            **h,
        ),
        _ind(
            "mean_s",
            statistic="mean",
            column="critical_count",
            prior_rows=2.0,
            prior_value=1.0,
            **h,
        ),
        _ind("n_hl", statistic="count", results=("normal",), half_life_days=365, **h),
        _ind(
            "sum_hl", statistic="sum", column="critical_count", half_life_days=100, **h
        ),
        _ind(
            "rec_hl",
            source="records",
            kinds=("complaint",),
            statistic="count",
            half_life_days=30,
        ),
    )
    sc = Scorecard(name="t", version="1", indicators=inds)
    got = score_entities(ds, sc, as_of=DAY).details.set_index("uscc")
    # entity a: 2021-01-10 normal (1 critical), 06-01 problem (3), 11-01 normal ('')
    assert got.loc[a, "share_s"] == pytest.approx((2 + 2 * 0.5) / (3 + 2))
    assert got.loc[a, "mean_s"] == pytest.approx((1 + 3 + 2 * 1.0) / (2 + 2))
    n_hl = 0.5 ** (_age("2021-01-10") / 365) + 0.5 ** (_age("2021-11-01") / 365)
    assert got.loc[a, "n_hl"] == pytest.approx(n_hl)
    s_hl = 1 * 0.5 ** (_age("2021-01-10") / 100) + 3 * 0.5 ** (_age("2021-06-01") / 100)
    assert got.loc[a, "sum_hl"] == pytest.approx(s_hl)
    assert got.loc[a, "rec_hl"] == pytest.approx(0.5 ** (_age("2021-03-01") / 30))
    # no inspection: a shrunk share is still missing (its own bin), not the prior
    assert np.isnan(got.loc[c, "share_s"]) and got.loc[c, "n_hl"] == 0


def test_shrinkage_and_decay_are_checked() -> None:
    with pytest.raises(ConfigError, match="'prior_rows'"):
        _ind("x", source="history", statistic="count", prior_rows=2.0)
    with pytest.raises(ConfigError, match="'half_life_days'"):
        _ind("x", source="history", statistic="share", half_life_days=90)
    with pytest.raises(ConfigError, match="'half_life_days'"):
        _ind(
            "x",
            source="relationship",
            column="address",
            statistic="count",
            half_life_days=90,
        )
    with pytest.raises(ConfigError, match="half_life_days"):
        _ind("x", source="history", half_life_days=0)
    # plain indicators dump no new keys (policy files and bundles unchanged)
    for ind in default_scorecard().model_dump()["indicators"]:
        assert not {"prior_rows", "prior_value", "half_life_days"} & set(ind)


def _units(n: int, y: np.ndarray) -> Units:
    z = np.zeros(n, dtype=np.int64)
    ids = np.asarray([f"u{i:05d}" for i in range(n)], dtype=object)
    return Units(np.arange(n), ids, z, z - 1, z, y, pd.Timestamp("2020-01-01"))


def _num(name: str, lookback: int | None = None) -> Candidate:
    return Candidate(
        _ind(name, source="history", statistic="count", lookback_days=lookback),
        "numeric",
    )


def test_the_correlation_screen_keeps_one_of_two_copies() -> None:
    rng = np.random.default_rng(0)
    n = 6000
    risk = rng.poisson(1.5, n).astype(float)
    copy = risk.copy()
    flip = rng.random(n) < 0.02
    copy[flip] = rng.poisson(1.5, int(flip.sum()))
    other = rng.poisson(1.0, n).astype(float)
    y = rng.random(n) < 0.05 + 0.05 * risk + 0.04 * other
    values = {"risk": risk, "copy": copy, "other": other}
    cands = [_num("risk"), _num("copy", 365), _num("other", 90)]
    units, mask = _units(n, y), np.ones(n, dtype=bool)
    screened = build_design(cands, values, units, mask, FitOptions(max_correlation=0.9))
    names = [fb.name for fb in screened.bins]
    assert len(names) == 2 and "other" in names
    assert screened.x.shape == (n, 2)
    every = build_design(cands, values, units, mask, FitOptions(max_correlation=1.0))
    assert sorted(fb.name for fb in every.bins) == ["copy", "other", "risk"]


def test_identical_windows_keep_the_longer_one() -> None:
    v = np.asarray([0.0, 1.0, 2.0, 1.0])
    same = [_num("c_365d", 365), _num("c_all"), _num("c_90d", 90)]
    got = _distinct(same, {"c_365d": v, "c_all": v.copy(), "c_90d": v.copy()})
    assert [c.name for c in got] == ["c_all"]
    # equal values of two different statistics: the first stays
    other = Candidate(
        _ind("s_all", source="history", statistic="share", results=("normal",)),
        "numeric",
    )
    got = _distinct([_num("c_365d", 365), other], {"c_365d": v, "s_all": v.copy()})
    assert [c.name for c in got] == ["c_365d"]


def test_generated_priors_come_from_rows_before_the_cut_off() -> None:
    toy = toy_dataset(300, seed=5)
    cut = pd.Timestamp(AS_OF)
    opts = CandidateOptions(half_lives=(180,))
    cands = {c.name: c for c in candidate_indicators(toy, cutoff=cut, options=opts)}
    shrunk = cands["hist_problem_corrected_share_s_all"].indicator
    h = toy.history[pd.to_datetime(toy.history["date"]) < cut]
    share = float((h["result"] == "problem_corrected").mean())
    assert shrunk.prior_rows == 2.0
    assert shrunk.prior_value == pytest.approx(share, rel=1e-3)
    assert cands["hist_any_count_hl180"].indicator.half_life_days == 180.0
    later = candidate_indicators(
        _scramble_after(toy, AS_OF, 3), cutoff=cut, options=opts
    )
    assert [c.indicator for c in later] == [c.indicator for c in cands.values()]


def test_scrambling_after_the_split_leaves_a_fit_with_decayed_counts_unchanged() -> (
    None
):
    toy = toy_dataset(600, seed=7)
    opts = CandidateOptions(half_lives=(180,))
    kw = {"as_of": AS_OF, "horizon_days": 365, "options": FAST, "candidates": opts}
    one = fit_scorecard(toy, **kw)  # type: ignore[arg-type]
    two = fit_scorecard(_scramble_after(toy, AS_OF, 11), **kw)  # type: ignore[arg-type]
    assert one.to_toml() == two.to_toml()


def test_a_weight_of_two_is_a_unit_counted_twice() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    x = rng.poisson(2.0, n).astype(float)
    y = rng.random(n) < 0.05 + 0.04 * x
    w = np.where(rng.random(n) < 0.3, 2.0, 1.0)
    twice = np.repeat(np.arange(n), w.astype(int))
    opts = FitOptions()
    a = bin_feature("x", x, y, opts, weight=w)
    b = bin_feature("x", x[twice], y[twice], opts)
    assert a is not None and b is not None
    np.testing.assert_array_equal(a.edges, b.edges)
    np.testing.assert_allclose(a.x, b.x)
    np.testing.assert_allclose(a.n, b.n)
    design = np.column_stack([a.transform(x), rng.normal(size=n)])
    ta = fit_logistic(design, y, 1e-3, weight=w)
    tb = fit_logistic(design[twice], y[twice], 1e-3)
    np.testing.assert_allclose(ta, tb, atol=1e-4)
    # equal snapshot weights: each snapshot's weights sum to the same total
    snap = np.repeat(np.asarray([10, 20, 30]), [500, 300, 200])
    units = _units(1000, np.zeros(1000, dtype=bool))
    units = Units(
        *[getattr(units, f) for f in ("ent", "uscc")],
        snap,
        snap - 1,
        snap,
        units.y,
        units.cutoff,
    )
    eq = unit_weights(
        units, np.ones(1000, dtype=bool), FitOptions(snapshot_weights="equal")
    )
    totals = [eq[snap == s].sum() for s in (10, 20, 30)]
    np.testing.assert_allclose(totals, [1000 / 3] * 3)
    assert np.all(unit_weights(units, np.ones(1000, dtype=bool), FitOptions()) == 1)
