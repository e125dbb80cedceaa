"""The draw's stages called alone, and on slices of the entities.

The per-entity stages (eligibility and pools, PRNs and selection) run on any
partition of the entities; the global stages merge the slices. Whatever the
slicing and the row order, the draw is exactly that of ``draw_visits``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from creditsup.sampling import DrawResult, SamplingPolicy, draw_partitioned, draw_visits
from creditsup.sampling._prn import prn_key
from creditsup.sampling.context import build_context
from creditsup.sampling.eligibility import eligible_pools
from creditsup.sampling.estimate import estimate
from creditsup.sampling.pipeline import draw_once, prepare
from creditsup.sampling.policy import SeparateVisit, TargetedDraw
from creditsup.sampling.select import draw_streams, select_candidates
from creditsup.schemas import Dataset
from strategies import DRAW_FRAMES as FRAMES
from strategies import YEAR, build

POLICIES = {
    "default": SamplingPolicy(),
    "budget_scaled_capped": SamplingPolicy(
        max_visit_share=0.2,
        key_ratios={"D": 0.9},
        caps={"D": 1},
        merge="joint_group",
        waive=("key_d",),
        waive_reason="test",
    ),
    "fixed_cover_negative": SamplingPolicy(
        ratio_mode="fixed",
        coverage_tiers=("D",),
        cover_key_supervision=True,
        coordination="negative",
        caps={"D": 1, "C": 2},
    ),
    "counts_budget_windows": SamplingPolicy(
        max_visit_share=0.1,
        fixed_counts={"P01": 17, "M02": 10_000, "D01": 3},
        key_supervision_ratio=0.5,
        recent_check_days=120,
        observation_days=400,
    ),
    "independent_trigger_only": SamplingPolicy(
        coordination="independent",
        trigger_only_tiers=("A",),
        ratios={"A": 0.0},
        months=(3, 9),
        coverage_tiers=("C",),
    ),
    "separate_targeted_capacity": SamplingPolicy(
        separate={"autumn": SeparateVisit(items=("Q01",), months=(10, 11))},
        targeted=(
            TargetedDraw(
                name="retail_individuals",
                ratio=0.5,
                items=("M01", "P01"),
                entity_types=("individual",),
                industries=("F52",),
            ),
            TargetedDraw(
                name="crowded", ratio=0.3, items=("@all",), min_firms_at_address=3
            ),
        ),
        new_entity_tier="C",
        budget="capacity",
        months=(3, 6, 9, 10, 11),
    ),
}


@pytest.fixture(scope="module")
def district() -> tuple[Dataset, pd.DataFrame]:
    return build(300, seed=3)


def slices(entities: pd.DataFrame, k: int, shuffle: bool) -> list[pd.DataFrame]:
    rows = entities.sample(frac=1.0, random_state=k) if shuffle else entities
    return [rows.iloc[ix] for ix in np.array_split(np.arange(len(rows)), k)]


def assert_same_draw(a: DrawResult, b: DrawResult) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert json.dumps(a.ledger) == json.dumps(b.ledger)
    assert a.warnings == b.warnings
    assert a.budget == b.budget and a.waivers == b.waivers


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("shuffle", [False, True])
def test_slices_give_the_whole_draw(
    district: tuple[Dataset, pd.DataFrame], policy: str, shuffle: bool
) -> None:
    ds, tiers = district
    if policy == "separate_targeted_capacity":
        tiers = tiers.iloc[20:]  # 20 entities without a tier: the policy's tier
    whole = draw_visits(ds, tiers, POLICIES[policy], year=YEAR, seed="slices")
    assert len(whole.visits) > 10
    if policy == "budget_scaled_capped":
        assert any(w["code"] == "ratios_scaled" for w in whole.warnings)
        assert len(whole.cap_removals) > 0
        assert [w["floor"] for w in whole.waivers] == ["key_d"]
    if policy == "separate_targeted_capacity":
        assert whole.budget["scale"] < 1.0  # the roster binds: scaled to fit
        assert (whole.capacity_needs["shortfall"] == 0).all()
        assert (whole.checks["source"] == "targeted").any()
        assert whole.visits["uscc"].duplicated().any()  # the autumn visits
        autumn = whole.visits["items"] == "Q01"
        assert set(whole.visits.loc[autumn, "month"]) <= {10, 11}
    for k in (1, 2, 3, 7):
        part = draw_partitioned(
            ds,
            tiers,
            POLICIES[policy],
            year=YEAR,
            seed="slices",
            partitions=slices(ds.entities, k, shuffle),
        )
        assert_same_draw(whole, part)


def test_slices_with_an_empty_one_and_inclusion(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    policy = POLICIES["fixed_cover_negative"]
    whole = draw_visits(ds, tiers, policy, year=YEAR, seed="e", inclusion_keys=4)
    parts = [ds.entities.iloc[:0], *slices(ds.entities, 3, shuffle=True)]
    part = draw_partitioned(
        ds, tiers, policy, year=YEAR, seed="e", partitions=parts, inclusion_keys=4
    )
    assert_same_draw(whole, part)
    assert whole.inclusion is not None and part.inclusion is not None
    pd.testing.assert_frame_equal(whole.inclusion, part.inclusion)
    # per (entity, item) pair: the same pools, in the same order
    by_entity = [
        estimate(
            prepare(ds, tiers, policy, YEAR, partitions=p),
            n_keys=3,
            seed="e",
            by="entity",
        )
        for p in ([ds.entities], parts)
    ]
    pd.testing.assert_frame_equal(*by_entity)


def test_overlapping_slices_are_refused(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    rows = ds.entities
    with pytest.raises(ValueError, match="overlap"):
        draw_partitioned(
            ds,
            tiers,
            year=YEAR,
            seed="x",
            partitions=[rows.iloc[:200], rows.iloc[150:]],
        )


def test_eligibility_of_a_slice_is_the_whole_restricted(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """Per-entity facts and pools of a slice are those of the whole draw."""
    ds, tiers = district
    policy = POLICIES["counts_budget_windows"]
    ctx = build_context(ds, tiers, policy, YEAR)
    whole = eligible_pools(ds.entities, ctx)
    pos = np.random.default_rng(0).permutation(len(ds.entities))[:90]
    part = eligible_pools(ds.entities.iloc[pos], ctx)
    for name in ("tier", "ks", "reason", "used", "remaining", "hist_any", "required"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[pos])
    assert (part.reason >= 0).any() and (part.used > 0).any()
    for i in range(len(ctx.items)):
        w = dict(zip(whole.pools[i].tolist(), whole.pool_pi[i].tolist(), strict=True))
        got = dict(
            zip(pos[part.pools[i]].tolist(), part.pool_pi[i].tolist(), strict=True)
        )
        assert got == {e: p for e, p in w.items() if e in set(pos.tolist())}
    assert part.n_tier_rows == len(pos)


def test_selection_of_a_slice_is_the_whole_restricted(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """Poisson checks of a slice are final; SRSWOR candidates contain the final."""
    ds, tiers = district
    policy = SamplingPolicy(max_visit_share=0.2, fixed_counts={"P01": 25})
    design = prepare(ds, tiers, policy, YEAR, hash_key=prn_key("sel", YEAR, "prn"))
    final = draw_once(design, "sel").checks
    pos = np.flatnonzero(ds.entities["industry"].str.startswith("F").to_numpy())
    part = eligible_pools(ds.entities.iloc[pos], design.ctx)
    streams = draw_streams(design.ctx, "sel")
    cand = select_candidates(part, design.ctx, design.alloc, streams)
    p01 = int(np.flatnonzero(design.ctx.item_ids == "P01")[0])
    for i in range(len(design.ctx.items)):
        mine = set(pos[cand.ent[cand.item == i]].tolist())
        kept = set(final.ent[(final.item == i) & ~final.cov].tolist()) & set(
            pos.tolist()
        )
        if i == p01:
            assert kept <= mine and len(mine) <= 25
        else:
            assert mine == kept
    assert len(cand.ent) > 10
