"""Dask partitions give exactly the single-machine draw."""

from __future__ import annotations

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
from creditsup.distributed import poisson_prn, prn_column, srswor_prn  # noqa: E402
from creditsup.sampling._prn import prn_key, smallest_n  # noqa: E402
from creditsup.uscc import generate  # noqa: E402


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
