"""Array helpers of the assignment stages (private).

Type aliases for the numpy arrays the stages pass around, integer codes of
labels, a fast membership test for int64 keys, range expansion, the
SplitMix64 mixer behind the keyed random costs, and expertise bitmasks.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "B1",
    "F64",
    "I32",
    "I64",
    "MAX_BITS",
    "U64",
    "KeySet",
    "bits",
    "codes",
    "expand",
    "isin_sorted",
    "lookup",
    "mix64",
    "month_name",
]

I64 = npt.NDArray[np.int64]
#: Task and inspector numbers of the candidate arcs (tens of millions at city
#: scale): int32 halves their memory; arithmetic on them casts to int64 first.
I32 = npt.NDArray[np.int32]
U64 = npt.NDArray[np.uint64]
B1 = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]

#: Expertise areas per department: one bit each of a uint64 mask.
MAX_BITS = 64


def month_name(m: int) -> str:
    """English name of month ``m`` (1-12).

    Examples
    --------
    >>> month_name(3)
    'March'
    """
    return calendar.month_name[int(m)]


def bits(mask: int) -> list[int]:
    """Positions of the set bits of ``mask``, lowest first.

    Examples
    --------
    >>> bits(0b1010)
    [1, 3]
    """
    return [b for b in range(MAX_BITS) if (int(mask) >> b) & 1]


def codes(values: pd.Series | npt.NDArray[Any], categories: Sequence[str]) -> I64:
    """Position of each value in ``categories`` (``-1`` when absent).

    Examples
    --------
    >>> codes(np.array(["b", "z", "a"], dtype=object), ["a", "b"]).tolist()
    [1, -1, 0]
    """
    idx = pd.Index(list(categories), dtype=object)
    return np.asarray(
        idx.get_indexer(pd.Index(np.asarray(values, dtype=object), dtype=object)),
        dtype=np.int64,
    )


def isin_sorted(sorted_keys: I64, keys: I64) -> B1:
    """Membership of ``keys`` in the sorted array ``sorted_keys``."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return np.asarray(sorted_keys[pos] == keys)


class KeySet:
    """Fast membership of int64 keys: a hashed bitset, then an exact check.

    Examples
    --------
    >>> KeySet(np.array([3, 70], dtype=np.int64)).contains(
    ...     np.array([3, 4, 70], dtype=np.int64)).tolist()
    [True, False, True]
    """

    def __init__(self, keys: I64) -> None:
        self.keys = np.unique(keys.astype(np.int64))
        n_bits = max(16, int(np.ceil(np.log2(max(len(self.keys), 1) * 32))))
        self.shift = np.uint64(64 - n_bits)
        self.table = np.zeros((1 << n_bits) // 8 + 1, dtype=np.uint8)
        h = self._hash(self.keys)
        np.bitwise_or.at(
            self.table,
            h >> np.uint64(3),
            np.uint8(1) << (h & np.uint64(7)).astype(np.uint8),
        )

    def _hash(self, keys: I64) -> U64:
        x = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return x >> self.shift

    def contains(self, keys: I64) -> B1:
        """Whether each key is in the set."""
        out = np.zeros(len(keys), dtype=bool)
        if len(self.keys) == 0 or len(keys) == 0:
            return out
        h = self._hash(keys)
        maybe = (
            self.table[h >> np.uint64(3)] >> (h & np.uint64(7)).astype(np.uint8)
        ) & 1
        idx = np.flatnonzero(maybe)
        if len(idx):
            out[idx] = isin_sorted(self.keys, keys[idx])
        return out


def lookup(
    ids: npt.NDArray[np.object_], inspector_ids: pd.Series | npt.NDArray[Any]
) -> tuple[I64, B1]:
    """Positions of ``inspector_ids`` in the sorted ``ids`` and which are known.

    Examples
    --------
    >>> ids = np.array(["I1", "I3"], dtype=object)
    >>> pos, known = lookup(ids, np.array(["I3", "I2"], dtype=object))
    >>> pos.tolist(), known.tolist()
    ([1, 1], [True, False])
    """
    wanted = np.asarray(inspector_ids, dtype=object)
    pos = np.searchsorted(ids, wanted)
    pos = np.minimum(pos, max(len(ids) - 1, 0))
    known = (len(ids) > 0) & (ids[pos] == wanted)
    return pos.astype(np.int64), np.asarray(known, dtype=bool)


def expand(starts: I64, counts: I64) -> tuple[I64, I64]:
    """Expand ranges ``[starts[i], starts[i] + counts[i])``: (row, value).

    Examples
    --------
    >>> rows, vals = expand(np.array([10, 20]), np.array([2, 1]))
    >>> rows.tolist(), vals.tolist()
    ([0, 0, 1], [10, 11, 20])
    """
    counts = np.maximum(counts, 0)
    rows = np.repeat(np.arange(len(starts), dtype=np.int64), counts)
    if len(rows) == 0:
        return rows, rows.copy()
    offs = np.arange(len(rows), dtype=np.int64) - np.repeat(
        np.cumsum(counts) - counts, counts
    )
    return rows, starts[rows] + offs


def mix64(x: U64) -> U64:
    """SplitMix64 finaliser (vectorised, wrapping uint64 arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
