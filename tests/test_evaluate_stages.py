"""Each stage of the backtest (creditsup.evaluate.*) called alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _backtest_toy import toy_dataset
from creditsup.evaluate import BacktestOptions, backtest, backtest_from_options
from creditsup.evaluate.baselines import (
    baseline_inclusion,
    history_rule,
    method_rankings,
)
from creditsup.evaluate.charts import roc_curve
from creditsup.evaluate.inclusion import (
    Inclusion,
    cap_check,
    scale_to_budget,
    scorecard_inclusion,
)
from creditsup.evaluate.metrics import (
    bootstrap_aucs,
    compare_methods,
    expected_hit_rate,
    simulate_hit_rates,
)
from creditsup.evaluate.options import resolve_policy
from creditsup.evaluate.outcomes import define_outcome, first_outcomes, truthy
from creditsup.evaluate.probability import ProbabilityMap, previous_window_map
from creditsup.evaluate.report import markdown_table
from creditsup.evaluate.result import _jsonable
from creditsup.evaluate.score import Evaluated, join_outcomes, score_as_of
from creditsup.evaluate.summary import BacktestStages, assemble
from creditsup.evaluate.tables import (
    SCORES_COLUMNS,
    group_table,
    scores_table,
    simulations_table,
    tier_table,
)
from creditsup.exceptions import ConfigError
from creditsup.sampling import SamplingPolicy
from creditsup.schemas import Dataset
from creditsup.scoring import default_scorecard
from creditsup.tiers import TierPolicy

T = pd.Timestamp("2022-01-01")


@pytest.fixture(scope="module")
def toy() -> Dataset:
    return toy_dataset(400, seed=3)


@pytest.fixture(scope="module")
def opts() -> BacktestOptions:
    return BacktestOptions(as_of=T.date(), seeds=20, n_boot=40, calibrate=False)


def _evaluated(tiers: list[str], y: list[bool], history: list[bool]) -> Evaluated:
    n = len(tiers)
    table = pd.DataFrame(
        {
            "uscc": [f"u{i}" for i in range(n)],
            "score": np.arange(n, dtype=float),
            "tier": tiers,
            "tier_reason": "score",
            "first_date": T,
            "y": y,
            "evaluated": True,
            "has_history": history,
        }
    )
    return Evaluated(table=table, ev=table.copy())


# ----------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("patch", "needles"),
    [
        ({"horizon_days": 0}, ["'horizon_days'", ">= 1", "Got 0"]),
        ({"budget": -2.0}, ["'budget'", "> 0", "Got -2.0"]),
        ({"n_boot": 0}, ["'n_boot'", ">= 1", "Got 0"]),
        ({"baselines": ("uniform", "magic")}, ["'baselines.1'", "'magic'"]),
        ({"calibrate": "maybe"}, ["'calibrate'", "'maybe'"]),
    ],
)
def test_options_errors_name_the_field_and_value(
    patch: dict[str, object], needles: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        BacktestOptions(as_of=T.date(), **patch)  # type: ignore[arg-type]
    for needle in needles:
        assert needle in str(info.value)


def test_options_window() -> None:
    o = BacktestOptions(as_of="2022-03-01", horizon_days=31)
    assert (o.start, o.end) == (pd.Timestamp("2022-03-01"), pd.Timestamp("2022-04-01"))
    assert o.scored_as_of == pd.Timestamp("2022-02-28")


def test_resolve_policy() -> None:
    parts = resolve_policy(None)
    assert parts.scorecard == default_scorecard() and parts.tiers == TierPolicy()
    with pytest.raises(ConfigError, match="without \\['sampling'\\]"):
        resolve_policy(type("P", (), {"scorecard": 1, "tiers": 2})())  # type: ignore[arg-type]


def test_backtest_equals_backtest_from_options(
    toy: Dataset, opts: BacktestOptions
) -> None:
    a = backtest(toy, as_of=T, seeds=20, n_boot=40, calibrate=False)
    b = backtest_from_options(toy, opts)
    assert json.dumps(a.metrics, default=str) == json.dumps(b.metrics, default=str)
    pd.testing.assert_frame_equal(a.scores, b.scores)


# ----------------------------------------------------------------- outcomes


def test_define_outcome(toy: Dataset, opts: BacktestOptions) -> None:
    sc = default_scorecard()
    out = define_outcome(toy, opts, sc)
    assert out.name == "problem_found" and out.recoded
    assert out.event.tolist() == toy.history["problem_found"].tolist()
    assert out.view is not toy and out.view.entities is toy.entities
    plain = define_outcome(toy, opts.model_copy(update={"outcome": "result"}), sc)
    assert plain.name == "result" and not plain.recoded and plain.view is toy
    kept = define_outcome(
        toy, opts.model_copy(update={"recode_history": False}), default_scorecard()
    )
    assert kept.name == "problem_found" and kept.view is toy


def test_first_outcomes_takes_the_first_day_in_the_window() -> None:
    hist = pd.DataFrame(
        {
            "uscc": ["a", "a", "a", "b", "b", "c"],
            "date": pd.to_datetime(
                [
                    "2021-12-31",  # before the window
                    "2022-03-01",
                    "2022-03-01",  # same first day: any event counts
                    "2022-02-01",
                    "2022-05-01",
                    "2022-02-01",
                ]
            ),
            "trigger": ["random"] * 5 + ["complaint"],
            "result": ["normal"] * 6,
        }
    )
    event = np.array([True, False, True, False, True, True])
    out = first_outcomes(
        hist,
        event,
        start=T,
        end=pd.Timestamp("2023-01-01"),
        triggers=("random",),
        exclude_results=(),
    )
    assert out["uscc"].tolist() == ["a", "b"]
    assert out["y"].tolist() == [True, False]
    assert out["first_date"].tolist() == [
        pd.Timestamp("2022-03-01"),
        pd.Timestamp("2022-02-01"),
    ]
    none = first_outcomes(
        hist, event, start=T, end=T, triggers=("random",), exclude_results=()
    )
    assert len(none) == 0 and list(none.columns) == ["uscc", "first_date", "y"]


def test_truthy() -> None:
    assert truthy(pd.Series([True, None, False], dtype="boolean")).tolist() == [
        True,
        False,
        False,
    ]
    assert truthy(pd.Series([0.0, 2.0, np.nan])).tolist() == [False, True, False]


# ----------------------------------------------------------------- score


def test_join_outcomes(toy: Dataset) -> None:
    tiers, cal = score_as_of(toy, as_of=T, calibrate=False)
    assert cal is None
    outs = pd.DataFrame(
        {
            "uscc": tiers.table["uscc"].iloc[[0, 5]].to_numpy(),
            "first_date": [T, T],
            "y": [True, False],
        }
    )
    ev = join_outcomes(tiers, outs, toy.history, start=T, end=T + pd.Timedelta(days=9))
    assert len(ev.table) == len(tiers.table) and ev.mask.sum() == 2
    assert ev.y.tolist() == [True, False]
    assert ev.table["has_history"].all()  # every toy entity was inspected in 2019
    with pytest.raises(ConfigError, match="nothing to evaluate"):
        join_outcomes(tiers, outs.iloc[:0], toy.history, start=T, end=T)


# ----------------------------------------------------------------- inclusion


def test_scorecard_inclusion_ratios_caps_and_budget() -> None:
    ev = _evaluated(["A", "B", "D", "D"], [False] * 4, [True] * 4)
    hist = pd.DataFrame(
        {
            "uscc": ["u3"] * 6 + ["u2"],
            "date": pd.to_datetime(["2021-12-01"] * 6 + ["2021-06-01"]),
            "trigger": ["random"] * 6 + ["complaint"],  # complaints are exempt
        }
    )
    pol = SamplingPolicy()
    labels = ["A", "B", "C", "D"]
    visits_2022 = scorecard_inclusion(
        ev, hist, pol, labels, start=T, budget=None
    )  # the earlier visits are in 2021: a new year, no one at the cap
    assert visits_2022.pi.tolist() == [0.05, 0.10, 0.70, 0.70]
    late = scorecard_inclusion(
        ev, hist, pol, labels, start=pd.Timestamp("2021-12-31"), budget=None
    )
    assert late.earlier.tolist() == [0, 0, 0, 6]
    assert late.at_cap.tolist() == [False, False, False, True]  # D's cap is 6
    assert late.pi.tolist() == [0.05, 0.10, 0.70, 0.0]
    assert late.sizes == [1, 1, 0, 1] and late.tier_pi == [0.05, 0.10, 0.0, 0.70]
    caps = cap_check(late, ev.tier, pol, labels)
    assert caps.hold and caps.max_visits == {"A": 1, "B": 1, "C": 0, "D": 1}
    half = scorecard_inclusion(ev, hist, pol, labels, start=T, budget=0.5)
    assert half.total == pytest.approx(2.0)
    with pytest.raises(ConfigError, match="budget"):
        scorecard_inclusion(ev, hist, pol, labels, start=T, budget=5)


def test_scale_to_budget_keeps_the_order_and_the_ceiling() -> None:
    base = np.array([0.1, 0.2, 0.6, 0.0])
    out = scale_to_budget(base, 2.0, np.array([True, True, True, False]))
    assert out.sum() == pytest.approx(2.0)
    assert out[3] == 0.0 and out[2] == 1.0 and out[0] < out[1]


# ----------------------------------------------------------------- baselines


def test_history_rule_reads_the_last_inspection() -> None:
    hist = pd.DataFrame(
        {
            "uscc": ["a", "a", "b"],
            "date": pd.to_datetime(["2020-01-01", "2021-01-01", "2021-05-01"]),
            "critical_count": [3, 1, 0],
            "serious_count": [0, 2, 1],
            "failed": ["yes", "no", "true"],
            "result": ["normal"] * 3,
        }
    )
    rule = history_rule(hist, T, ("problem_corrected",))
    assert rule.to_dict() == {"a": 4.0, "b": 2.0}
    assert len(history_rule(hist, pd.Timestamp("2019-01-01"), ())) == 0


def _stages(toy: Dataset, opts: BacktestOptions) -> BacktestStages:
    """The stages run one by one, as backtest_from_options runs them."""
    parts = resolve_policy(None)
    outcome = define_outcome(toy, opts, parts.scorecard)
    tiers, cal = score_as_of(outcome.view, as_of=opts.start, calibrate=False)
    outs = first_outcomes(
        toy.history,
        outcome.event,
        start=opts.start,
        end=opts.end,
        triggers=opts.outcome_triggers,
        exclude_results=opts.exclude_results,
    )
    ev = join_outcomes(tiers, outs, toy.history, start=opts.start, end=opts.end)
    labels = list(parts.tiers.tiers)
    inc = scorecard_inclusion(
        ev, toy.history, parts.sampling, labels, start=T, budget=None
    )
    ranks = method_rankings(
        toy,
        ev.ev,
        opts,
        view=outcome.view,
        scorecard=tiers.scores.scorecard,
        uncalibrated=parts.scorecard,
    )
    pis = baseline_inclusion(ranks, inc, opts.baselines)
    boot = bootstrap_aucs(ev.y, ranks, n_boot=opts.n_boot, seed=opts.seed)
    hits, drawn = simulate_hit_rates(
        ev.ev["uscc"], ev.y, pis, seeds=opts.seeds, seed=opts.seed
    )
    return BacktestStages(
        options=opts,
        policy=parts,
        outcome=outcome,
        tiers=tiers,
        calibration=cal,
        evaluated=ev,
        inclusion=inc,
        caps=cap_check(inc, ev.tier, parts.sampling, labels),
        rankings=ranks,
        pis=pis,
        methods=compare_methods(ev.y, ranks, pis, boot, hits, drawn),
        hits=hits,
        drawn=drawn,
        probability=previous_window_map(outcome.view, tiers.scores.scorecard, opts),
    )


def test_baselines_spend_the_same_budget(toy: Dataset, opts: BacktestOptions) -> None:
    st = _stages(toy, opts)
    assert list(st.rankings) == ["scorecard", "city_risk", "history_rule"]
    assert list(st.pis) == ["scorecard", "uniform", "city_risk", "history_rule"]
    for name, pi in st.pis.items():
        assert pi.sum() == pytest.approx(st.inclusion.total), name
    assert np.unique(st.pis["uniform"]).size == 1
    m = st.methods.set_index("method")
    assert list(m.index) == list(st.pis)
    assert m.loc["uniform", ["auc", "auc_lo", "auc_hi"]].tolist() == [0.5] * 3
    assert np.isnan(m.loc["scorecard", "auc_diff_lo"])
    assert m.loc["uniform", "lift"] == pytest.approx(1.0)
    y = st.evaluated.y
    assert m.loc["scorecard", "hit_rate"] == expected_hit_rate(y, st.pis["scorecard"])


# ----------------------------------------------------------------- probabilities


def test_previous_window_map(toy: Dataset, opts: BacktestOptions) -> None:
    pmap = previous_window_map(toy, default_scorecard(), opts)
    assert pmap.fit is not None and pmap.fit[1] > 0  # riskier scores, more events
    assert pmap.base_rate is not None and 0 < pmap.base_rate < 1
    early = opts.model_copy(update={"as_of": pd.Timestamp("2019-01-01").date()})
    empty = previous_window_map(toy, default_scorecard(), early)
    assert empty == ProbabilityMap(fit=None, base_rate=None)
    assert empty.predict(np.array([1.0])) is None
    p = ProbabilityMap(fit=(0.0, 1.0), base_rate=0.5).predict(np.array([0.0]))
    assert p is not None and p.tolist() == [0.5]


# ----------------------------------------------------------------- tables


def test_tables_alone() -> None:
    ev = _evaluated(["A", "A", "D", "D"], [False, True, True, True], [True, False] * 2)
    inc = Inclusion(
        tier_ratios={"A": 0.1, "D": 0.5},
        earlier=np.zeros(4, dtype=np.int64),
        at_cap=np.zeros(4, dtype=bool),
        pi=np.array([0.1, 0.1, 0.5, 0.5]),
        sizes=[2, 2],
        tier_pi=[0.1, 0.5],
    )
    tiers = tier_table(ev, inc, np.array([0.2, 0.2, 0.8, 0.6]), ["A", "D"])
    assert tiers["n"].tolist() == [2, 2] and tiers["rate"].tolist() == [0.5, 1.0]
    assert tiers["mean_predicted"].tolist() == pytest.approx([0.2, 0.7])
    assert tiers["budget_share"].tolist() == pytest.approx([1 / 6, 5 / 6])
    groups = group_table(ev)
    assert groups["group"].tolist() == ["with_history", "no_history"]
    assert groups["n"].tolist() == [2, 2] and groups["events"].tolist() == [1, 2]
    scores = scores_table(ev, inc, None)
    assert list(scores.columns) == list(SCORES_COLUMNS)
    assert scores["predicted"].isna().all() and scores["pi"].sum() == pytest.approx(1.2)
    hits = pd.DataFrame({"scorecard": [0.5, 1.0]})
    sims = simulations_table(
        {"scorecard": inc.pi}, hits, pd.DataFrame({"scorecard": [2, 1]})
    )
    assert sims.to_dict(orient="list") == {
        "draw": [0, 1],
        "method": ["scorecard", "scorecard"],
        "hit_rate": [0.5, 1.0],
        "drawn": [2, 1],
    }


def test_assemble_alone_equals_the_backtest(
    toy: Dataset, opts: BacktestOptions
) -> None:
    res = assemble(_stages(toy, opts))
    ref = backtest_from_options(toy, opts)
    assert json.dumps(res.metrics, default=str) == json.dumps(ref.metrics, default=str)
    keys = list(res.metrics)
    assert keys[:3] == ["as_of", "scored_as_of", "horizon_days"]
    assert keys[-4:] == ["tiers", "methods", "groups", "beats_all_baselines"]
    pd.testing.assert_frame_equal(res.simulations, ref.simulations)
    pd.testing.assert_frame_equal(res.rankings, ref.rankings)


# ----------------------------------------------------------------- report


def test_report_helpers(tmp_path: Path) -> None:
    tab = markdown_table(pd.DataFrame({"x": [0.12345, np.nan], "n": [1, 2]}), digits=2)
    assert tab.splitlines() == ["| x | n |", "|---|---|", "| 0.12 | 1 |", "| – | 2 |"]
    fpr, tpr = roc_curve(np.array([True, True, False]), np.array([2.0, 2.0, 1.0]))
    assert fpr.tolist() == [0.0, 0.0, 1.0] and tpr.tolist() == [0.0, 1.0, 1.0]
    assert _jsonable(
        {"a": np.float64(np.nan), "b": (np.int64(2), pd.Timestamp("2022-01-05"))}
    ) == {"a": None, "b": [2, "2022-01-05"]}
