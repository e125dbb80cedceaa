"""Permanent random numbers (PRNs): keyed hashes, start points, selection rules.

Private helpers of the :mod:`creditsup.sampling` stages. Everything here is a pure
function of the seed string, the plan year and the identifiers, so results do
not depend on row order or partitioning.

Fixed-point convention
----------------------
A PRN is a 64-bit keyed hash ``h`` of the USCC (SipHash-2-4 through
:func:`creditsup._random.keyed_uint64`); the uniform in (0, 1) is
``u = ((h >> 11) + 0.5) / 2**53``, exactly
:func:`creditsup._random.keyed_uniform`. A start point ``s`` is also a 64-bit
integer ``S``, and the *shifted* PRN ``frac(u + s)`` is computed exactly as
``(h + S) mod 2**64`` (unsigned wrap-around), then mapped to (0, 1) the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._random import derive_key, keyed_uint64

__all__ = [
    "TWO64",
    "align",
    "largest_remainder",
    "prn_key",
    "smallest_n",
    "smallest_per_stratum",
    "start_points",
]

TWO64 = 2**64
U64 = npt.NDArray[np.uint64]


def prn_key(seed: str, year: int, *labels: object) -> str:
    """The SipHash key of a draw stream: ``derive_key(seed, year, *labels)``.

    Examples
    --------
    >>> prn_key("s", 2027, "prn") == derive_key("s", 2027, "prn")
    True
    """
    return derive_key(seed, year, *labels)


def start_points(
    labels: list[str], *, seed: str, year: int, spread: bool
) -> dict[str, int]:
    """64-bit start points, one per label (a joint group or an item).

    With ``spread=True`` the labels are put in a random order (by a keyed
    hash of the label) and spaced evenly around the unit circle from a random
    offset: label ``r`` of ``G`` starts at ``offset + r / G``. Samples whose
    ratio is at most ``1/G`` are then disjoint across labels, the strongest
    negative coordination possible (SAMU's start-point shifts). With
    ``spread=False`` every label starts at the same random offset (positive
    coordination).

    Examples
    --------
    >>> s = start_points(["g1", "g2"], seed="x", year=2027, spread=True)
    >>> (s["g1"] - s["g2"]) % 2**64 == 2**63
    True
    """
    offset = int(
        keyed_uint64(np.array(["offset"], dtype=object), prn_key(seed, year, "start"))[
            0
        ]
    )
    uniq = sorted(set(labels))
    if not spread or len(uniq) <= 1:
        return dict.fromkeys(uniq, offset)
    order = keyed_uint64(
        np.array(uniq, dtype=object), prn_key(seed, year, "start-order")
    )
    ranks = np.argsort(np.argsort(order, kind="stable"), kind="stable")
    g = len(uniq)
    return {
        lab: (offset + (int(r) * TWO64) // g) % TWO64
        for lab, r in zip(uniq, ranks, strict=True)
    }


def align(
    left: npt.NDArray[np.object_],
    left_hash: U64,
    right: npt.NDArray[np.object_],
    right_hash: U64,
) -> npt.NDArray[np.int64]:
    """Position of each ``right`` identifier in ``left`` (``-1`` when absent).

    A hash join on precomputed 64-bit hashes, verified on the strings: exact
    (a hash collision inside ``left`` falls back to a string index), and much
    faster than a string hash table at a million rows.
    """
    n = len(left)
    out = np.full(len(right), -1, dtype=np.int64)
    if len(right) == 0 or n == 0:
        return out
    index = pd.Index(left_hash)
    if not index.is_unique:
        idx = pd.Index(left).get_indexer(pd.Index(right))
        return np.asarray(idx, dtype=np.int64)
    pos = np.asarray(index.get_indexer(pd.Index(right_hash)), dtype=np.int64)
    hit = np.flatnonzero(pos >= 0)
    ok = left[pos[hit]] == right[hit]
    out[hit[ok]] = pos[hit[ok]]
    return out


def smallest_n(
    keys: U64, tiebreak: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.int64]:
    """Positions of the ``n`` smallest ``keys`` (ties broken by ``tiebreak``).

    This is sequential simple random sampling without replacement on PRNs
    (Ohlsson 1992): taking the ``n`` smallest of ``frac(u + s)`` gives every
    ``n``-subset the same probability. Returned positions are sorted.

    Examples
    --------
    >>> k = np.array([5, 1, 3, 3, 9], dtype=np.uint64)
    >>> smallest_n(k, np.array([0, 1, 2, 3, 4]), 3).tolist()
    [1, 2, 3]
    >>> smallest_n(k, np.array([0, 1, 4, 3, 2]), 2).tolist()
    [1, 3]
    """
    m = len(keys)
    if n <= 0 or m == 0:
        return np.zeros(0, dtype=np.int64)
    if n >= m:
        return np.arange(m, dtype=np.int64)
    kth = np.partition(keys, n - 1)[n - 1]
    below = np.flatnonzero(keys < kth)
    at = np.flatnonzero(keys == kth)
    need = n - len(below)
    if need < len(at):
        at = at[np.argsort(tiebreak[at], kind="stable")[:need]]
    return np.sort(np.concatenate([below, at])).astype(np.int64)


def smallest_per_stratum(
    keys: U64,
    strata: npt.NDArray[np.integer[Any]],
    tiebreak: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Positions of the ``sizes[s]`` smallest ``keys`` of every stratum ``s``.

    Examples
    --------
    >>> k = np.array([5, 1, 3, 3, 9], dtype=np.uint64)
    >>> st = np.array([0, 0, 1, 1, 1])
    >>> smallest_per_stratum(k, st, np.arange(5), np.array([1, 2])).tolist()
    [1, 2, 3]
    """
    chosen: list[npt.NDArray[np.int64]] = []
    for s in np.flatnonzero(sizes):
        pos = np.flatnonzero(strata == s)
        chosen.append(pos[smallest_n(keys[pos], tiebreak[pos], int(sizes[s]))])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)


def largest_remainder(
    total: int, weights: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Split ``total`` into integers proportional to ``weights`` (Hamilton).

    Ties in the remainders go to the earlier position, so the split is
    deterministic. Zero weights get nothing unless every weight is zero, in
    which case the split is even.

    Examples
    --------
    >>> largest_remainder(10, np.array([1.0, 1.0, 1.0])).tolist()
    [4, 3, 3]
    >>> largest_remainder(3, np.array([0.0, 2.0, 1.0])).tolist()
    [0, 2, 1]
    """
    w = np.asarray(weights, dtype=np.float64)
    if len(w) == 0:
        return np.zeros(0, dtype=np.int64)
    if total <= 0:
        return np.zeros(len(w), dtype=np.int64)
    if not (w > 0).any():
        w = np.ones(len(w))
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = int(total - base.sum())
    if rest > 0:
        frac = exact - base
        order = np.lexsort((np.arange(len(w)), -frac))
        base[order[:rest]] += 1
    out: npt.NDArray[np.int64] = base.astype(np.int64)
    return out
