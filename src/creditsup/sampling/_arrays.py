"""Array types and small array helpers shared by the sampling stages (private)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._random import keyed_uint64
from creditsup.sampling._prn import align
from creditsup.schemas import TIERS

I8 = npt.NDArray[np.int8]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]
#: Positions of pool members: int32 while they fit (:func:`pos_dtype`), else int64.
Pos = npt.NDArray[np.signedinteger[Any]]
#: Identifiers: fixed-width ASCII bytes (:func:`compact_ids`) or ``str`` objects.
Ids = npt.NDArray[Any]

#: Hash key of the joins when no PRN key is given (``estimate_inclusion``).
ALIGN_KEY = "creditsup-align1"
#: Remaining visits of an entity whose tier has no cap.
NO_CAP = 1 << 40
MONTHS = np.arange(1, 13)


def as_object(s: pd.Series) -> Obj:
    """The values of ``s`` as an object array of strings (NA as ``""``)."""
    return np.asarray(s.to_numpy(dtype=object, na_value=""), dtype=object)


def pos_dtype(n: int) -> type[np.signedinteger[Any]]:
    """The integer type of positions among ``n`` entities (4 bytes while they fit).

    Examples
    --------
    >>> pos_dtype(50_000_000).__name__, pos_dtype(2**31 + 1).__name__
    ('int32', 'int64')
    """
    return np.int32 if n < 2**31 else np.int64


def compact_ids(ids: Obj) -> Ids:
    """ASCII identifiers as fixed-width bytes, others as they are.

    A USCC then takes 18 bytes instead of about 75 (a pointer and a ``str``
    object), and fixed-width bytes sort as the strings do. :func:`id_texts`
    gives the strings back.

    Examples
    --------
    >>> compact_ids(np.array(["91B", "12A"], dtype=object)).dtype.kind
    'S'
    >>> compact_ids(np.array(["企业", "12A"], dtype=object)).dtype.kind
    'O'
    """
    if not len(ids):
        return ids
    try:
        out = ids.astype("S")
    except (UnicodeEncodeError, TypeError, ValueError):
        return ids
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    if not np.array_equal(np.char.str_len(out), lengths):  # a trailing NUL
        return ids
    return out


def id_texts(ids: Ids) -> Obj:
    """The identifiers as an object array of ``str`` (see :func:`compact_ids`).

    Examples
    --------
    >>> id_texts(compact_ids(np.array(["91B", "12A"], dtype=object))).tolist()
    ['91B', '12A']
    """
    if ids.dtype == object:
        return ids
    return np.asarray(ids.astype("U").astype(object), dtype=object)


def concat_ids(parts: Iterable[Ids]) -> Ids:
    """Identifiers of several slices in one array (``str`` if any slice has them)."""
    arrays = list(parts)
    if any(a.dtype == object for a in arrays):
        arrays = [id_texts(a) for a in arrays]
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=object)


class PiCodes(Sequence[F64]):
    """Per item, pool probabilities as codes into the item's distinct values.

    A pool member's probability comes from a handful of values (the item's
    ratio per tier, key supervision, targeted draws), so one byte per member
    stands for eight. ``codes[i][k]`` indexes ``values[i]``; ``self[i]``
    decodes item ``i`` (a new float64 array, exactly the encoded values).

    Examples
    --------
    >>> pc = PiCodes.encode([np.array([0.1, 0.7, 0.1]), np.array([])])
    >>> pc[0].tolist(), len(pc), pc.codes[0].dtype.name
    ([0.1, 0.7, 0.1], 2, 'uint8')
    """

    def __init__(self, values: list[F64], codes: list[npt.NDArray[Any]]) -> None:
        self.values, self.codes = values, codes

    @classmethod
    def encode(cls, arrays: Iterable[F64]) -> PiCodes:
        """The codes of float arrays (one per item)."""
        values, codes = [], []
        for a in arrays:
            v, inv = np.unique(np.asarray(a, dtype=np.float64), return_inverse=True)
            values.append(v)
            codes.append(inv.ravel().astype(np.min_scalar_type(max(len(v) - 1, 0))))
        return cls(values, codes)

    @classmethod
    def concat(cls, parts: Sequence[tuple[F64, npt.NDArray[Any]]]) -> tuple[F64, Any]:
        """One item's (values, codes) pairs of several slices, concatenated."""
        v = sorted_unique(np.concatenate([p[0] for p in parts]))
        dtype = np.min_scalar_type(max(len(v) - 1, 0))
        code = [np.searchsorted(v, pv).astype(dtype)[pc] for pv, pc in parts]
        return v, np.concatenate(code) if code else np.zeros(0, dtype)

    def pairs(self) -> list[tuple[F64, npt.NDArray[Any]]]:
        """``(values, codes)`` per item."""
        return list(zip(self.values, self.codes, strict=True))

    @overload
    def __getitem__(self, i: int) -> F64: ...
    @overload
    def __getitem__(self, i: slice) -> list[F64]: ...
    def __getitem__(self, i: int | slice) -> F64 | list[F64]:
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        out: F64 = self.values[i][self.codes[i]]
        return out

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[F64]:
        return (self[i] for i in range(len(self)))


def codes(values: pd.Series, vocab: tuple[str, ...]) -> I64:
    """Position of each value in ``vocab`` (-1 when absent), via factorize."""
    found, uniq = pd.factorize(values, use_na_sentinel=True)
    lut = np.array(
        [vocab.index(u) if (u := str(x)) in vocab else -1 for x in uniq] + [-1],
        dtype=np.int64,
    )
    return lut[found]


def sorted_unique(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``np.unique(values)`` (sorted distinct values), by sorting.

    NumPy 2.4's ``np.unique`` without ``return_*`` goes through a hash table
    that is about ten times slower than a sort at a million integers; this
    gives the same array.

    Examples
    --------
    >>> sorted_unique(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    s = np.sort(np.asarray(values).ravel())
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def tier_codes(values: pd.Series) -> I8:
    """Tier position of each value (case-insensitive); -1 for NA, -2 unknown."""
    found, uniq = pd.factorize(values, use_na_sentinel=True)
    lut = np.array(
        [TIERS.index(t) if (t := str(u).strip().upper()) in TIERS else -2 for u in uniq]
        + [-1],
        dtype=np.int8,
    )
    return lut[found]


def canonical_rank(uscc: Obj) -> tuple[I64, bool]:
    """Each entity's position in USCC order, and whether the input is sorted."""
    n = len(uscc)
    if n <= 1 or bool((uscc[1:] > uscc[:-1]).all()):
        return np.arange(n, dtype=np.int64), True
    by_rank = np.argsort(uscc.astype(str), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_rank] = np.arange(n)
    return rank, False


class KeyedIds:
    """Identifiers and their keyed 64-bit hashes, computed at most once.

    The hash serves the joins (exact: :func:`~creditsup.sampling._prn.align`
    verifies matches on the strings); under the draw's PRN key the entities'
    hash is also their permanent random number.
    """

    def __init__(self, ids: Obj, key: str) -> None:
        self.ids = ids
        self.key = key
        self._h: U64 | None = None

    def hash(self) -> U64:
        """The keyed hash of every identifier (cached)."""
        if self._h is None:
            self._h = keyed_uint64(self.ids, self.key)
        return self._h

    @property
    def cached(self) -> U64 | None:
        """The hash if it was computed, else ``None``."""
        return self._h

    def positions_of(self, other: KeyedIds) -> I64:
        """Position of each of ``other``'s identifiers here (-1 when absent)."""
        assert other.key == self.key
        return align(self.ids, self.hash(), other.ids, other.hash())


def set_codes(
    owner: I64, member: I64, n_owner: int, n_member: int
) -> tuple[I64, list[tuple[int, ...]]]:
    """Encode the set of members of each owner; return codes and the sets."""
    w = max(1, (n_member + 63) // 64)
    bits = np.zeros((n_owner, w), dtype=np.uint64)
    word = member // 64
    bit = np.left_shift(np.uint64(1), (member % 64).astype(np.uint64))
    np.bitwise_or.at(bits, (owner, word), bit)
    uniq, inv = np.unique(bits, axis=0, return_inverse=True)
    sets = []
    for row in uniq:
        members = [
            int(k * 64 + b) for k in range(w) for b in range(64) if int(row[k]) >> b & 1
        ]
        sets.append(tuple(members))
    return np.asarray(inv, dtype=np.int64).ravel(), sets


def sha_lines(values: Iterable[str]) -> str:
    """SHA-256 of the values joined by newlines."""
    h = hashlib.sha256()
    h.update("\n".join(values).encode("utf-8"))
    return h.hexdigest()


def hash_ids(h: Any, ids: Ids, chunk: int = 1 << 20) -> None:
    """Feed ``"\\n".join(ids)`` (UTF-8) to the hash ``h``, a million at a time.

    The same bytes as ``h.update("\\n".join(ids).encode())`` without the
    whole joined text (and a ``str`` per identifier) in memory at once.

    Examples
    --------
    >>> a, b = hashlib.sha256(), hashlib.sha256()
    >>> ids = np.array(["x", "yz", "w"], dtype=object)
    >>> hash_ids(a, compact_ids(ids), chunk=2)
    >>> b.update("x\\nyz\\nw".encode())
    >>> a.hexdigest() == b.hexdigest()
    True
    """
    for a in range(0, len(ids), chunk):
        part = ids[a : a + chunk]
        text = (
            b"\n".join(part.tolist())
            if part.dtype.kind == "S"
            else "\n".join(part.tolist()).encode("utf-8")
        )
        h.update(b"\n" + text if a else text)


def sha_ids(ids: Ids) -> str:
    """:func:`sha_lines` of identifiers (:func:`hash_ids`)."""
    h = hashlib.sha256()
    hash_ids(h, ids)
    return h.hexdigest()


def _plain(x: object) -> object:
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"Not JSON-able: {x!r}")


def jsonable(x: Any) -> Any:
    """``x`` as plain JSON values: numpy scalars become Python ones.

    Examples
    --------
    >>> jsonable({"n": np.int64(3), "t": (np.bool_(True), 0.5)})
    {'n': 3, 't': [True, 0.5]}
    """
    return json.loads(json.dumps(x, default=_plain))
