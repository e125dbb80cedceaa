"""The out-of-core draw's compact forms give the in-memory draw, exactly.

Streamed checks (``draw_partitioned(..., checks_sink=...)``) concatenate to
``draw_visits``' table for any district, policy, seed, cut into slices and
piece size; identifiers as fixed-width bytes and pool probabilities as codes
decode to what they encode.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from creditsup.sampling import SamplingPolicy, draw_partitioned, draw_visits
from creditsup.sampling._arrays import (
    PiCodes,
    compact_ids,
    concat_ids,
    hash_ids,
    id_texts,
)
from creditsup.schemas import Dataset
from strategies import DRAW_FRAMES, YEAR, sampling_scenarios, seeds


@settings(max_examples=12, deadline=None)
@given(
    sampling_scenarios(),
    seeds(),
    st.integers(1, 5),
    st.integers(1, 40),
    st.integers(0, 10_000),
)
def test_streamed_checks_are_the_in_memory_table(
    scenario: tuple[Dataset, pd.DataFrame, SamplingPolicy],
    seed: str,
    k: int,
    chunk: int,
    shuffle: int,
) -> None:
    ds, tiers, policy = scenario
    want = draw_visits(ds, tiers, policy, year=YEAR, seed=seed)
    rows = ds.entities.sample(frac=1.0, random_state=shuffle)
    cuts = np.array_split(np.arange(len(rows)), k)
    pieces: list[pd.DataFrame] = []
    got = draw_partitioned(
        ds,
        tiers,
        policy,
        year=YEAR,
        seed=seed,
        partitions=[rows.iloc[c] for c in cuts],
        checks_sink=pieces.append,
        chunk_rows=chunk,
    )
    assert all(len(p) <= chunk for p in pieces) and len(got.checks) == 0
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), want.checks)
    for name in set(DRAW_FRAMES) - {"checks"}:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name))
    assert json.dumps(got.ledger) == json.dumps(want.ledger)


@given(
    st.lists(st.text(min_size=0, max_size=6), max_size=30),
    st.integers(1, 7),
)
def test_identifiers_round_trip_and_hash_as_text(ids: list[str], chunk: int) -> None:
    arr = np.array(ids, dtype=object)
    compact = compact_ids(arr)
    assert id_texts(compact).tolist() == ids
    h = hashlib.sha256()
    hash_ids(h, compact, chunk=chunk)
    assert h.hexdigest() == hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()
    half = len(ids) // 2
    mixed = concat_ids([compact_ids(arr[:half]), arr[half:]])
    assert id_texts(mixed).tolist() == ids


@given(
    st.lists(
        st.lists(st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0, 1 / 3]), max_size=20),
        min_size=1,
        max_size=4,
    )
)
def test_probability_codes_decode_exactly(parts: list[list[float]]) -> None:
    arrays = [np.array(p, dtype=np.float64) for p in parts]
    codes = PiCodes.encode(arrays)
    assert [c.tolist() for c in codes] == parts
    values, merged = PiCodes.concat(codes.pairs())
    assert values[merged].tolist() == [x for p in parts for x in p]
