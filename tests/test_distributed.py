"""Dask partitions give exactly the single-machine draw (PRN helpers and the whole
``draw_visits`` through the per-partition stages)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

dd = pytest.importorskip("dask.dataframe")

from creditsup._random import (  # noqa: E402
    keyed_uint64,
    keyed_uniform,
    to_uniform,
)
from creditsup.distributed import (  # noqa: E402
    dask_mapper,
    poisson_prn,
    prn_column,
    srswor_prn,
)
from creditsup.sampling import (  # noqa: E402
    SamplingPolicy,
    draw_partitioned,
    draw_visits,
)
from creditsup.sampling._prn import prn_key, smallest_n  # noqa: E402
from creditsup.sampling.context import build_context  # noqa: E402
from creditsup.sampling.eligibility import eligible_pools  # noqa: E402
from creditsup.sampling.pools import allocate  # noqa: E402
from creditsup.sampling.select import draw_streams, select_candidates  # noqa: E402
from creditsup.uscc import generate  # noqa: E402
from strategies import build  # noqa: E402


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "uscc": generate(n, rng=rng),
            "tier": rng.choice(list("ABCD"), n, p=[0.2, 0.6, 0.15, 0.05]),
            "pi": rng.uniform(0.0, 0.3, n),
        }
    )


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """Dask stores text as Arrow strings with NA; compare the values."""
    text = [c for c in df.columns if c != "pi"]
    return df.astype(dict.fromkeys(text, object))


def single_machine_srswor(
    df: pd.DataFrame, n_by: dict[str, int], seed: str
) -> pd.DataFrame:
    key = prn_key(seed, 2027, "prn")
    v = keyed_uint64(df["uscc"].to_numpy(dtype=object), key)
    rank = np.argsort(np.argsort(df["uscc"].to_numpy(dtype=str), kind="stable"))
    parts = []
    for t, n in n_by.items():
        pos = np.flatnonzero(df["tier"].to_numpy() == t)
        parts.append(df.iloc[pos[smallest_n(v[pos], rank[pos], n)]])
    return pd.concat(parts).sort_values(["tier", "uscc"]).reset_index(drop=True)


@settings(max_examples=10)
@given(st.integers(1, 9), st.integers(0, 10_000), st.text(min_size=1, max_size=8))
def test_srswor_is_partition_independent(nparts: int, shuffle: int, seed: str) -> None:
    df = frame(3000, seed=1)
    n_by = {"A": 30, "B": 60, "C": 20, "D": 5}
    expected = single_machine_srswor(df, n_by, seed)
    ddf = dd.from_pandas(df.sample(frac=1.0, random_state=shuffle), npartitions=nparts)
    got = srswor_prn(ddf, n_by_stratum=n_by, stratum="tier", seed=seed, year=2027)
    pd.testing.assert_frame_equal(plain(got), plain(expected))


@pytest.mark.parametrize("nparts", [1, 4, 11])
def test_poisson_and_prn_are_partition_independent(nparts: int) -> None:
    df = frame(5000, seed=2)
    key = prn_key("lottery", 2027, "prn")
    u = keyed_uniform(df["uscc"], key)
    expected = df[u < df["pi"].to_numpy()].sort_values("uscc").reset_index(drop=True)
    ddf = dd.from_pandas(df.sample(frac=1.0, random_state=nparts), npartitions=nparts)
    got = poisson_prn(ddf, pi="pi", seed="lottery", year=2027).compute()
    pd.testing.assert_frame_equal(
        plain(got.sort_values("uscc").reset_index(drop=True)), plain(expected)
    )
    with_u = prn_column(ddf, seed="lottery", year=2027).compute().set_index("uscc")
    np.testing.assert_array_equal(with_u.loc[df["uscc"], "prn"].to_numpy(), u)
    assert np.allclose(
        to_uniform(keyed_uint64(df["uscc"].to_numpy(dtype=object), key)), u
    )


@pytest.mark.parametrize("nparts", [1, 3, 7])
def test_draw_on_dask_partitions_is_the_single_machine_draw(nparts: int) -> None:
    ds, tiers = build(300, seed=4)
    policy = SamplingPolicy(
        max_visit_share=0.2, fixed_counts={"P01": 20}, coverage_tiers=("D",)
    )
    expected = draw_visits(ds, tiers, policy, year=2027, seed="dask")
    rows = ds.entities.sample(frac=1.0, random_state=nparts)
    ddf = dd.from_pandas(rows, npartitions=nparts, sort=False)
    got = draw_partitioned(
        ds,
        tiers,
        policy,
        year=2027,
        seed="dask",
        partitions=ddf.to_delayed(),
        mapper=dask_mapper,
    )
    for name in ("visits", "checks", "exclusions", "accounting", "tasks", "strata"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name))
    assert got.ledger == expected.ledger
    assert len(expected.visits) > 20


def test_stage_inputs_survive_pickling() -> None:
    """What a partition task receives can be shipped to another process."""
    ds, tiers = build(120, seed=5)
    ctx = build_context(ds, tiers, SamplingPolicy(), 2027)
    part = eligible_pools(ds.entities.iloc[40:], ctx)
    again = pickle.loads(pickle.dumps((ctx, part)))
    for a, b in zip(
        (
            part,
            select_candidates(part, ctx, allocate(part, ctx), draw_streams(ctx, "p")),
        ),
        (
            eligible_pools(ds.entities.iloc[40:], again[0]),
            select_candidates(
                again[1], again[0], allocate(again[1], again[0]), draw_streams(ctx, "p")
            ),
        ),
        strict=True,
    ):
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, list):
                assert all(np.array_equal(u, v) for u, v in zip(x, y, strict=True))
            elif isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
    assert dask_mapper(len, ["ab", "c"]) == [2, 1]
