"""Seed handling and keyed per-entity random numbers.

All randomness in creditsup derives from one *seed string* (any text, e.g. a
published lottery result) through BLAKE2b. Each stage gets its own key or
:class:`numpy.random.SeedSequence`, so a change in one stage never moves the
random numbers of another.

Per-entity uniforms (permanent random numbers, PRNs) come from SipHash-2-4
keyed by the stage key (``pandas.util.hash_array`` with ``hash_key``), applied
to the entity's USCC. They depend only on (seed, stage, USCC): not on row
order, partitioning or the other entities.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "derive_key",
    "keyed_uint64",
    "keyed_uniform",
    "seed_sequence",
    "stage_rng",
    "to_uniform",
]

_TWO53 = float(2**53)


def _digest(seed: str, labels: Iterable[object]) -> bytes:
    h = hashlib.blake2b(digest_size=32, person=b"creditsup-v1")
    h.update(seed.encode("utf-8"))
    for label in labels:
        h.update(b"\x1f")
        h.update(str(label).encode("utf-8"))
    return h.digest()


def derive_key(seed: str, *labels: object) -> str:
    """Derive a 16-character SipHash key for ``(seed, *labels)``.

    Examples
    --------
    >>> derive_key("2026-lottery", 2027, "draw")
    'nSoB26PJcVB1HT_R'
    >>> len(derive_key("x"))
    16
    """
    return base64.urlsafe_b64encode(_digest(seed, labels)[:12]).decode("ascii")


def seed_sequence(seed: str, *labels: object) -> np.random.SeedSequence:
    """A :class:`numpy.random.SeedSequence` derived from ``(seed, *labels)``."""
    words = np.frombuffer(_digest(seed, labels), dtype="<u4")
    return np.random.SeedSequence([int(w) for w in words])


def stage_rng(seed: str, *labels: object) -> np.random.Generator:
    """A PCG64 generator for one stage, derived from ``(seed, *labels)``.

    Examples
    --------
    >>> a = stage_rng("s", "assign").integers(0, 1000, 3)
    >>> b = stage_rng("s", "assign").integers(0, 1000, 3)
    >>> bool((a == b).all())
    True
    """
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *labels)))


def keyed_uint64(values: object, key: str) -> npt.NDArray[np.uint64]:
    """SipHash-2-4 of each value under ``key`` (vectorised): *the* keyed hash.

    Every per-entity random number in creditsup comes from this function, so
    its output is pinned by a golden test (``tests/test_random_golden.py``):
    changing it would change the replay of every past plan.

    Parameters
    ----------
    values : array-like of str
        Identifiers (e.g. USCCs). They are hashed as text. An object array of
        ``str`` is hashed as it is (no defensive copy: at a million
        identifiers the copy costs more than the hash).
    key : str
        A 16-character key from :func:`derive_key`.

    Examples
    --------
    >>> int(keyed_uint64(["914403001922038216"], "0123456789abcdef")[0])
    5127306149070359985
    """
    if isinstance(values, np.ndarray) and values.dtype == object:
        arr = values
    else:
        arr = np.asarray(pd.Series(values, dtype=object).astype(str), dtype=object)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.uint64)
    out = pd.util.hash_array(arr, hash_key=key, categorize=False)
    return np.asarray(out, dtype=np.uint64)


def to_uniform(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """Map 64-bit hashes to uniforms in the open interval (0, 1).

    ``u = ((h >> 11) + 0.5) / 2**53``: the 53 high bits, centred. ``u`` is
    never 0; the single top hash value rounds to 1.0 in float64 (probability
    2**-53), which every selection rule ``u < pi`` treats as "not selected".

    Examples
    --------
    >>> to_uniform(np.array([0, 2**63], dtype=np.uint64)).tolist()
    [5.551115123125783e-17, 0.5]
    """
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / _TWO53


def keyed_uniform(values: object, key: str) -> npt.NDArray[np.float64]:
    """Uniforms in the open interval (0, 1), one per identifier.

    ``to_uniform(keyed_uint64(values, key))``.

    Examples
    --------
    >>> k = derive_key("seed", 2027, "prn")
    >>> u = keyed_uniform(["914403001922038216", "91330100716105852F"], k)
    >>> bool(((u > 0) & (u < 1)).all())
    True
    >>> float(keyed_uniform(["91330100716105852F"], k)[0]) == float(u[1])
    True
    """
    return to_uniform(keyed_uint64(values, key))
