"""The training design against the history gap: per-inspection outcome windows
(``outcome_window='step'``) and history re-weighting (``history_weights``),
their units and weights checked against direct computations, and the leakage
test run on each design."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from _backtest_toy import toy_dataset
from creditsup.evaluate import recode_outcome
from creditsup.evaluate.outcomes import event_column
from creditsup.exceptions import ConfigError
from creditsup.fit import FitOptions, fit_scorecard
from creditsup.fit.select import unit_weights
from creditsup.fit.units import NEVER, training_units
from creditsup.schemas import Dataset
from creditsup.scoring import score_entities, to_day
from test_fit import AS_OF, FAST, _scramble_after

CUTOFF = pd.Timestamp(AS_OF)


@pytest.fixture(scope="module")
def toy() -> Dataset:
    """The toy with no rows before 2021 for 40 % of its entities (as when an
    export begins shortly before the training window), and none before the
    split for 10 %."""
    ds = toy_dataset(900, seed=3)
    h = ds.history
    ids = ds.entities["uscc"].to_numpy()
    u = np.random.default_rng(7).random(len(ids))
    d = pd.to_datetime(h["date"])
    gone = (h["uscc"].isin(set(ids[u < 0.4])) & (d < "2021-01-01")) | (
        h["uscc"].isin(set(ids[u < 0.1])) & (d < AS_OF)
    )
    return dataclasses.replace(ds, history=h[~gone.to_numpy()].reset_index(drop=True))


def _units(ds: Dataset, options: FitOptions):  # type: ignore[no-untyped-def]
    name, event = event_column(ds.history, None, ("problem_corrected",))
    view = recode_outcome(ds, name) if name != "result" else ds
    return training_units(
        view.entities, view.history, event, cutoff=CUTOFF, options=options
    )


def test_step_windows_label_each_inspection_from_the_latest_snapshot(
    toy: Dataset,
) -> None:
    horizon = _units(toy, FAST)
    step = _units(toy, FAST.model_copy(update={"outcome_window": "step"}))
    # every unit's first inspection falls within step_days of its snapshot
    assert np.all(step.first - step.snapshot < FAST.step_days)
    assert np.all(step.first >= step.snapshot)
    # they are the horizon design's units whose first inspection is that early
    near = horizon.first - horizon.snapshot < FAST.step_days
    key = set(zip(step.uscc, step.snapshot, step.first, step.y, strict=True))
    assert key == set(
        zip(
            horizon.uscc[near],
            horizon.snapshot[near],
            horizon.first[near],
            horizon.y[near],
            strict=True,
        )
    )
    assert len(step) < len(horizon)


def test_has_history_is_a_row_before_the_snapshot(toy: Dataset) -> None:
    units = _units(toy, FAST)
    h = toy.history
    d = pd.to_datetime(h["date"])
    first = h[(d < CUTOFF).to_numpy()].groupby("uscc")["date"].min()
    seen = pd.Series(units.uscc).map(first)
    snap = pd.to_datetime(units.snapshot, unit="D")
    expected = (pd.to_datetime(seen) < snap).to_numpy()
    np.testing.assert_array_equal(units.has_history, expected)
    assert 0 < units.has_history.mean() < 1
    est, pop_seen = units.population  # type: ignore[misc]
    assert len(est) == len(toy.entities)
    assert np.all((pop_seen == NEVER) | (pop_seen < to_day(CUTOFF)))


@pytest.mark.parametrize("target", ["latest", "population"])
def test_history_weights_reach_their_target_share(toy: Dataset, target: str) -> None:
    units = _units(toy, FAST)
    cut = units.snapshots[1]  # a validation fold's cut-off
    mask = units.before(cut)
    opts = FAST.model_copy(update={"history_weights": target})
    w = unit_weights(units, mask, opts, cut)
    h = units.has_history[mask]
    if target == "latest":
        snap = units.snapshot[mask]
        want = h[snap == snap.max()].mean()
    else:
        est, seen = units.population  # type: ignore[misc]
        k = to_day(cut)
        want = (seen[est < k] < k).mean()
    assert w.mean() == pytest.approx(1.0)
    assert w[h].sum() / w.sum() == pytest.approx(want)
    if target == "population":  # the toy's snapshots share one mix
        assert abs(h.mean() - want) > 0.01  # the weights did move the share
    # within each group every unit weighs the same
    assert np.ptp(w[h]) == pytest.approx(0) and np.ptp(w[~h]) == pytest.approx(0)
    assert np.all(unit_weights(units, mask, FAST, cut) == 1)


def test_history_weights_is_checked() -> None:
    with pytest.raises(ConfigError, match="history_weights"):
        FitOptions(history_weights="balanced")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="outcome_window"):
        FitOptions(outcome_window="day")  # type: ignore[arg-type]


def _drop_after(ds: Dataset, split: str, seed: int) -> Dataset:
    """Outcomes scrambled after the split, and a third of those rows gone."""
    ds = _scramble_after(ds, split, seed)
    h = ds.history
    after = (pd.to_datetime(h["date"]) >= pd.Timestamp(split)).to_numpy()
    gone = after & (np.random.default_rng(seed).random(len(h)) < 1 / 3)
    return dataclasses.replace(ds, history=h[~gone].reset_index(drop=True))


@pytest.mark.parametrize(
    "update",
    [
        {"outcome_window": "step"},
        {"history_weights": "population"},
        {"history_weights": "latest", "snapshot_weights": "equal"},
    ],
)
def test_no_design_looks_past_the_split(toy: Dataset, update: dict[str, str]) -> None:
    opts = FAST.model_copy(update=update)
    one = fit_scorecard(toy, as_of=AS_OF, horizon_days=365, options=opts)
    two = fit_scorecard(
        _drop_after(toy, AS_OF, 5), as_of=AS_OF, horizon_days=365, options=opts
    )
    assert one.to_toml() == two.to_toml()
    assert one.tiers == two.tiers
    a = score_entities(toy, one.scorecard, as_of="2021-12-31").table
    b = score_entities(toy, two.scorecard, as_of="2021-12-31").table
    pd.testing.assert_frame_equal(a, b)
    assert len(one.scorecard.indicators) > 0
