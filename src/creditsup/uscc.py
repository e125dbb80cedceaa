"""Unified Social Credit Codes (统一社会信用代码, GB 32100-2015).

A USCC has 18 characters:

====== ==========================================================
1      registration authority (``1``-``9``, ``A``, ``N``, ``Y``)
2      entity type within the authority
3-8    administrative division (GB/T 2260), digits
9-17   organisation code (GB 11714: 8 characters + check)
18     check character, ISO 7064 MOD 31-3
====== ==========================================================

The alphabet has 31 characters and omits ``I O Z S V``. Unlike python-stdnum,
codes whose authority is ``A``, ``N`` or ``Y`` are accepted.

Scalar functions (:func:`is_valid`, :func:`validate`, :func:`parse`) serve
interactive use; :func:`check_array` validates a million codes at once with
numpy and returns a reason code per value.

Legacy registration numbers (注册号, GS 15-2006)
----------------------------------------------
Entities registered before the USCC reform may still be known by their
15-digit registration number (rule U6 of ``domain.md`` §d): positions 1-6 the
registering authority (a GB/T 2260 division code, ``100000`` for the national
administration), 7-14 a sequence number whose first digit gives the kind
(0-3 domestic enterprise, 4-5 foreign-invested enterprise, 6-9 individual
business), and position 15 a check digit computed by ISO 7064 MOD 11,10
(:func:`regno_check_digit`). :func:`check_array` accepts them with
``allow_legacy=True`` (as the dataset validator does) and :func:`id_kinds`
tells the two kinds of identifier apart. They are a separate kind of ID, never
converted into a USCC: the draw hashes the string as it is, so its keys stay
stable when the entity later gets its USCC under a new row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ALPHABET",
    "AUTHORITIES",
    "ID_KINDS",
    "PROBLEMS",
    "USCCInfo",
    "UsccProblem",
    "check_array",
    "check_character",
    "check_codes",
    "compact",
    "generate",
    "generate_regno",
    "id_kinds",
    "is_valid",
    "is_valid_regno",
    "needs_compacting",
    "org_code_check_character",
    "parse",
    "regno_check_digit",
    "validate",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

#: Registration authorities (position 1) and their known types (position 2).
AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "群团组织", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地(大陆)代表机构",
            "9": "其他",
        },
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商/市场监管", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {
            "1": "组级集体经济组织",
            "2": "村级集体经济组织",
            "3": "乡镇级集体经济组织",
            "9": "其他",
        },
    ),
    "Y": ("其他", {"1": "其他"}),
}


class UsccProblem(StrEnum):
    """Why a code is not a valid USCC (rules U1-U4 of ``domain.md`` §d)."""

    OK = "ok"
    MISSING = "missing"
    EXCEL_MANGLED = "excel_mangled"
    LENGTH = "length"
    ALPHABET = "alphabet"
    REGION = "region"
    AUTHORITY = "authority"
    CHECK = "check"
    REGNO_CHECK = "regno_check"


@dataclass(frozen=True)
class USCCInfo:
    """The parts of a valid USCC."""

    code: str
    authority: str
    authority_name: str
    entity_type: str
    entity_type_name: str
    region: str
    org_code: str
    org_code_valid: bool


def compact(code: str) -> str:
    """Strip spaces and hyphens and upper-case (rule U1).

    >>> compact(" 9135-0100 m000100y43 ")
    '91350100M000100Y43'
    """
    return code.replace(" ", "").replace("-", "").strip().upper()


def check_character(body: str) -> str:
    """The 18th character for the first 17 characters ``body``.

    >>> check_character("91350100M000100Y4")
    '3'
    """
    if len(body) != 17 or any(c not in _VALUE for c in body):
        raise ValueError(
            f"The USCC body must be 17 characters of {ALPHABET!r}. Got {body!r} instead."
        )
    total = sum(_VALUE[c] * int(w) for c, w in zip(body, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_code_check_character(body: str) -> str:
    """The GB 11714 check character for the 8-character organisation-code body.

    >>> org_code_check_character("M000100Y")
    '4'
    """
    if len(body) != 8 or not body.isalnum():
        raise ValueError(
            "The organisation-code body must be 8 letters or digits. "
            f"Got {body!r} instead."
        )
    vals = [int(c) if c.isdigit() else ord(c) - 55 for c in body.upper()]
    c9 = 11 - sum(v * int(w) for v, w in zip(vals, _ORG_WEIGHTS, strict=True)) % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def _problem(code: object) -> UsccProblem:
    return UsccProblem(check_array(pd.Series([code], dtype=object))[0])


def is_valid(code: str) -> bool:
    """Whether ``code`` is a valid USCC (after :func:`compact`).

    >>> is_valid("91350100M000100Y43"), is_valid("91350100M000100Y4Z")
    (True, False)
    >>> is_valid("N2110100MA0XXXXXXX")
    False
    """
    return _problem(code) is UsccProblem.OK


def validate(code: str) -> str:
    """Return the compact code, or raise ``ValueError`` saying what is wrong.

    >>> validate("91350100M000100Y43")
    '91350100M000100Y43'
    """
    problem = _problem(code)
    if problem is not UsccProblem.OK:
        raise ValueError(f"{code!r} is not a valid USCC: {_MESSAGES[problem]}.")
    return compact(code)


def parse(code: str) -> USCCInfo:
    """Split a valid USCC into authority, type, region and organisation code.

    >>> info = parse("91350100M000100Y43")
    >>> info.authority_name, info.entity_type_name, info.region, info.org_code_valid
    ('工商/市场监管', '企业', '350100', True)
    """
    c = validate(code)
    name, types = AUTHORITIES[c[0]]
    org = c[8:17]
    return USCCInfo(
        code=c,
        authority=c[0],
        authority_name=name,
        entity_type=c[1],
        entity_type_name=types.get(c[1], "未知"),
        region=c[2:8],
        org_code=org,
        org_code_valid=org_code_check_character(org[:8]) == org[8],
    )


_MESSAGES = {
    UsccProblem.MISSING: "the code is empty",
    UsccProblem.EXCEL_MANGLED: (
        "it looks mangled by Excel (scientific notation or digits truncated to 15 "
        "significant figures with trailing zeros); store USCCs as text"
    ),
    UsccProblem.LENGTH: "a USCC has 18 characters",
    UsccProblem.ALPHABET: f"only the characters {ALPHABET} are allowed",
    UsccProblem.REGION: "positions 3-8 (the division code) must be digits",
    UsccProblem.AUTHORITY: "unknown registration authority / type pair (positions 1-2)",
    UsccProblem.CHECK: "the check character (position 18) does not match",
    UsccProblem.REGNO_CHECK: (
        "a 15-digit registration number (注册号, GS 15-2006) whose check digit "
        "(ISO 7064 MOD 11,10) does not match"
    ),
}


def problem_message(problem: str) -> str:
    """A human explanation of a :class:`UsccProblem` code."""
    return _MESSAGES.get(UsccProblem(problem), "valid")


_LUT = np.full(256, -1, dtype=np.int64)
for _c, _v in _VALUE.items():
    _LUT[ord(_c)] = _v
_LUT8 = _LUT.astype(np.int8)
_WEIGHTS32 = _WEIGHTS.astype(np.int32)
_KNOWN_PAIRS = {(a, t) for a, (_, types) in AUTHORITIES.items() for t in types}
_PAIR_OK = np.zeros((256, 256), dtype=bool)
for _a, _t in _KNOWN_PAIRS:
    _PAIR_OK[ord(_a), ord(_t)] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True
#: Bytes that rule U1 removes or upper-cases (a superset of RE2's ``\s``).
_COMPACT = np.zeros(256, dtype=bool)
_COMPACT[[ord(c) for c in " \t\n\r\f\v-"]] = True
_COMPACT[ord("a") : ord("z") + 1] = True

#: The problems in the order of :func:`check_codes`' integer codes.
PROBLEMS: tuple[UsccProblem, ...] = tuple(UsccProblem)
_CODE = {p: np.int8(i) for i, p in enumerate(PROBLEMS)}


def _as_arrow(codes: pd.Series | npt.ArrayLike) -> pa.Array:
    """Codes as one Arrow string array (nulls kept); numbers become their text."""
    if isinstance(codes, pa.ChunkedArray):
        arr = codes.combine_chunks() if codes.num_chunks != 1 else codes.chunk(0)
        return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
    if isinstance(codes, pa.Array):
        return codes if pa.types.is_string(codes.type) else codes.cast(pa.string())
    s = (
        codes
        if isinstance(codes, pd.Series)
        else pd.Series(np.asarray(codes, dtype=object), dtype=object)
    )
    try:
        text = pa.array(s, from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers mixed in (e.g. from Excel)
        s = s.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
        text = pa.array(s, type=pa.string(), from_pandas=True)
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        if pa.types.is_null(text.type):
            return text.cast(pa.string())
        s = s.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
        text = pa.array(s, type=pa.string(), from_pandas=True)
    return text


def _fixed_bytes(
    text: pa.Array, mask: npt.NDArray[np.bool_], width: int
) -> npt.NDArray[np.uint8]:
    """The codes selected by ``mask``, all ``width`` bytes long, as a
    ``(mask.sum(), width)`` byte matrix (one copy of their bytes)."""
    sub = pc.filter(text, pa.array(mask))
    if len(sub) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    if isinstance(sub, pa.ChunkedArray):
        sub = sub.combine_chunks()
    offset_type = np.int64 if pa.types.is_large_string(sub.type) else np.int32
    offsets = np.frombuffer(sub.buffers()[1], dtype=offset_type)[
        sub.offset : sub.offset + len(sub) + 1
    ]
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(-1, width)


def _fixed_problems(arr: npt.NDArray[np.uint8]) -> npt.NDArray[np.int8]:
    """Rules U2-U4 on 18-byte codes: one integer code per row (vectorised)."""
    vals = _LUT8[arr]
    out = np.full(len(arr), _CODE[UsccProblem.OK], dtype=np.int8)
    total = np.zeros(len(arr), dtype=np.int32)
    for j in range(17):  # column by column: 17 vector operations, not n rows
        total += np.maximum(vals[:, j], 0).astype(np.int32) * _WEIGHTS32[j]
    out[(31 - total % 31) % 31 != vals[:, 17]] = _CODE[UsccProblem.CHECK]
    out[~_PAIR_OK[arr[:, 0], arr[:, 1]]] = _CODE[UsccProblem.AUTHORITY]
    out[~_DIGIT[arr[:, 2:8]].all(axis=1)] = _CODE[UsccProblem.REGION]
    out[(vals < 0).any(axis=1)] = _CODE[UsccProblem.ALPHABET]
    return out


def _value_bytes(text: pa.Array) -> npt.NDArray[np.uint8]:
    """The bytes of the values of a string array (no copy)."""
    if len(text) == 0:
        return np.zeros(0, dtype=np.uint8)
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width)
    lo, hi = offsets[text.offset], offsets[text.offset + len(text)]
    return np.frombuffer(text.buffers()[2], dtype=np.uint8)[lo:hi]


def needs_compacting(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether rule U1 could change any value: a non-ASCII byte, a space, ``-`` or a-z.

    One pass over the bytes; ``False`` means compaction is the identity.

    >>> needs_compacting(pa.array(["91350100M000100Y43"])), needs_compacting(pa.array(["9135 0100"]))
    (False, True)
    """
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    for chunk in chunks:
        data = _value_bytes(chunk)
        if (data >= 0x80).any() or _COMPACT[data].any():
            return True
    return False


def _compact_arrow(text: pa.Array) -> pa.Array:
    """Rule U1 on an Arrow array, done only when some byte asks for it."""
    data = _value_bytes(text)
    if (data >= 0x80).any():
        # full-width digits and letters (９１３…) are common in Chinese exports
        text = pc.utf8_normalize(text, "NFKC")
        data = _value_bytes(text)
    if _COMPACT[data].any():
        text = pc.utf8_upper(pc.replace_substring_regex(text, r"[\s\-]", ""))
    return text


def check_codes(
    codes: pd.Series | npt.ArrayLike | pa.Array, *, allow_legacy: bool = False
) -> npt.NDArray[np.int8]:
    """Validate many codes at once; an integer code per value (see :data:`PROBLEMS`).

    The codes are compacted (U1) and read as fixed-width bytes: each rule is
    one numpy operation over an ``[n, 18]`` byte matrix, with no Python
    object per code. :func:`check_array` gives the same answer as text;
    ``allow_legacy`` as there.

    Examples
    --------
    >>> [PROBLEMS[k].value for k in check_codes(["91350100M000100Y43", "x"])]
    ['ok', 'length']
    """
    text = _compact_arrow(pc.fill_null(_as_arrow(codes), ""))
    length = np.asarray(pc.binary_length(text).to_numpy(zero_copy_only=False))
    fixed = length == 18
    out = np.full(len(text), _CODE[UsccProblem.LENGTH], dtype=np.int8)
    out[fixed] = _fixed_problems(_fixed_bytes(text, fixed, 18))
    # Excel keeps 15 significant digits: an all-digit code ending in 000 whose check
    # fails was almost surely truncated, as is anything in scientific notation.
    odd = np.flatnonzero(out != _CODE[UsccProblem.OK])
    mangled = odd[:0]
    if len(odd):
        sub = text.take(pa.array(odd))
        sci = pc.match_substring_regex(sub, r"^\d+(?:\.\d+)?E\+?\d+$")
        digits18 = pc.and_(
            pc.match_substring_regex(sub, r"^[0-9]{15}000$"),
            pc.equal(pc.binary_length(sub), 18),
        )
        hit = pc.or_(sci, digits18).to_numpy(zero_copy_only=False)
        mangled = odd[np.asarray(hit, dtype=bool)]
    if allow_legacy:
        legacy = length == 15
        bad_regno = _regno_problems(text, legacy)
        out[legacy & ~bad_regno] = _CODE[UsccProblem.OK]
        out[bad_regno] = _CODE[UsccProblem.REGNO_CHECK]
    out[mangled] = _CODE[UsccProblem.EXCEL_MANGLED]
    out[length == 0] = _CODE[UsccProblem.MISSING]
    return out


def check_array(
    codes: pd.Series | npt.ArrayLike, *, allow_legacy: bool = False
) -> npt.NDArray[np.object_]:
    """Validate many codes at once; return a :class:`UsccProblem` value for each.

    Codes are compacted (U1) before the checks. The checks are vectorised
    (:func:`check_codes`): a million codes take a fraction of a second. With
    ``allow_legacy=True`` a 15-digit registration number (注册号, GS 15-2006)
    with a valid ISO 7064 MOD 11,10 check digit is accepted too (``"ok"``;
    rule U6); a 15-character code that fails that check gets ``"regno_check"``.

    Examples
    --------
    >>> check_array(["91350100M000100Y43", "9.16201055811843E+17",
    ...              "916201055811843000", "", "91350100M000100Y44"]).tolist()
    ['ok', 'excel_mangled', 'excel_mangled', 'missing', 'check']
    >>> check_array(["440301103097413", "440301103097414"], allow_legacy=True).tolist()
    ['ok', 'regno_check']
    """
    names = np.array([p.value for p in PROBLEMS], dtype=object)
    result: npt.NDArray[np.object_] = names[
        check_codes(codes, allow_legacy=allow_legacy)
    ]
    return result


#: The kinds of entity identifier: a USCC, or a legacy registration number.
ID_KINDS = ("uscc", "regno")


def _mod11_10(digits: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """ISO 7064 MOD 11,10 running value after the columns of ``digits``."""
    p = np.full(len(digits), 10, dtype=np.int64)
    for j in range(digits.shape[1]):
        s = (digits[:, j] + p) % 10
        p = (np.where(s == 0, 10, s) * 2) % 11
    return p


def regno_check_digit(body: str) -> str:
    """The 15th digit of a registration number for its first 14 digits.

    ISO 7064 MOD 11,10 (GS 15-2006): ``p = 10``; for each digit ``d``,
    ``s = (d + p) mod 10`` (0 counts as 10) and ``p = 2s mod 11``; the check
    digit makes ``(p + c) mod 10 == 1``.

    Examples
    --------
    >>> regno_check_digit("44030110309741")
    '3'
    >>> is_valid_regno("440301103097413"), is_valid_regno("440301103097414")
    (True, False)
    """
    if len(body) != 14 or not body.isascii() or not body.isdigit():
        raise ValueError(
            f"The registration-number body must be 14 digits. Got {body!r} instead."
        )
    p = int(_mod11_10(np.array([[int(c) for c in body]], dtype=np.int64))[0])
    return str((11 - p) % 10)


def is_valid_regno(code: str) -> bool:
    """Whether ``code`` is a valid 15-digit registration number (after :func:`compact`).

    >>> is_valid_regno(" 440301-103097413 "), is_valid_regno("91350100M000100Y43")
    (True, False)
    """
    c = compact(code)
    return (
        len(c) == 15
        and c.isascii()
        and c.isdigit()
        and (regno_check_digit(c[:14]) == c[14])
    )


def id_kinds(codes: pd.Series | npt.ArrayLike) -> npt.NDArray[np.object_]:
    """``"regno"`` for a 15-character identifier, else ``"uscc"`` (vectorised).

    Meant for identifiers that passed validation (``check_array(...,
    allow_legacy=True)``): the length tells the two kinds apart.

    Examples
    --------
    >>> id_kinds(["91350100M000100Y43", "440301103097413"]).tolist()
    ['uscc', 'regno']
    """
    s = pd.Series(np.asarray(codes, dtype=object), dtype=object)
    legacy = s.astype("str").str.len().to_numpy() == 15
    return np.where(legacy, ID_KINDS[1], ID_KINDS[0]).astype(object)


def _regno_problems(text: Any, legacy: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Which of the 15-byte codes of ``text`` (pyarrow) fail the regno check."""
    bad = np.zeros(len(legacy), dtype=bool)
    if not legacy.any():
        return bad
    digits = _fixed_bytes(text, legacy, 15).astype(np.int64) - ord("0")
    ok = np.asarray(((digits >= 0) & (digits <= 9)).all(axis=1), dtype=bool)
    p = _mod11_10(np.where(ok[:, None], digits[:, :14], 0))
    ok &= (p + digits[:, 14]) % 10 == 1
    bad[legacy] = ~ok
    return bad


def generate(
    n: int,
    *,
    rng: np.random.Generator,
    authority_type: str | npt.ArrayLike = "91",
    region: str | npt.ArrayLike = "140902",
) -> npt.NDArray[np.object_]:
    """Generate ``n`` valid USCCs (with valid organisation codes), vectorised.

    Parameters
    ----------
    n : int
        How many codes.
    rng : numpy.random.Generator
        The random source (codes are deterministic for a given generator state).
    authority_type : str or array of str
        Positions 1-2, e.g. ``"91"`` enterprise, ``"92"`` individual business,
        ``"93"`` co-operative; one value or one per code.
    region : str or array of str
        The 6-digit division code; one value or one per code.

    Examples
    --------
    >>> codes = generate(3, rng=np.random.default_rng(0), authority_type="92")
    >>> all(is_valid(c) and c.startswith("92140902") for c in codes)
    True
    """
    at = np.broadcast_to(np.asarray(authority_type, dtype="S2"), (n,))
    rg = np.broadcast_to(np.asarray(region, dtype="S6"), (n,))
    buf = np.zeros((n, 18), dtype=np.uint8)
    buf[:, :2] = np.frombuffer(np.ascontiguousarray(at).tobytes(), np.uint8).reshape(
        n, 2
    )
    buf[:, 2:8] = np.frombuffer(np.ascontiguousarray(rg).tobytes(), np.uint8).reshape(
        n, 6
    )
    if not (buf[:, 2:8] >= ord("0")).all() or not (buf[:, 2:8] <= ord("9")).all():
        raise ValueError("region must be a 6-digit division code.")
    # Organisation-code body: 8 characters of the USCC alphabet, then its
    # GB 11714 check character (0-9 or X, both in the USCC alphabet).
    alpha_bytes = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
    org_vals = np.array([int(c) if c.isdigit() else ord(c) - 55 for c in ALPHABET])
    body_idx = rng.integers(0, len(ALPHABET), size=(n, 8))
    buf[:, 8:16] = alpha_bytes[body_idx]
    c9 = 11 - (org_vals[body_idx] * _ORG_WEIGHTS).sum(axis=1) % 11
    buf[:, 16] = np.where(c9 == 10, ord("X"), np.where(c9 == 11, ord("0"), 48 + c9))
    vals = _LUT[buf[:, :17]]
    if (vals < 0).any():
        raise ValueError("authority_type must be two USCC alphabet characters.")
    buf[:, 17] = alpha_bytes[(31 - (vals * _WEIGHTS).sum(axis=1) % 31) % 31]
    result: npt.NDArray[np.object_] = buf.view("S18").ravel().astype(str).astype(object)
    return result


def generate_regno(
    n: int, *, rng: np.random.Generator, region: str = "140902", kind: str = "0"
) -> npt.NDArray[np.object_]:
    """Generate ``n`` valid 15-digit registration numbers (GS 15-2006).

    ``kind`` is the first digit of the sequence number (``"0"``-``"3"``
    domestic enterprise, ``"4"``/``"5"`` foreign-invested, ``"6"``-``"9"``
    individual business).

    Examples
    --------
    >>> codes = generate_regno(3, rng=np.random.default_rng(0), kind="6")
    >>> all(is_valid_regno(c) and c[6] == "6" for c in codes)
    True
    """
    if len(region) != 6 or not region.isdigit() or len(kind) != 1 or not kind.isdigit():
        raise ValueError("region must be 6 digits and kind one digit.")
    digits = np.zeros((n, 15), dtype=np.int64)
    digits[:, :6] = [int(c) for c in region]
    digits[:, 6] = int(kind)
    digits[:, 7:14] = rng.integers(0, 10, size=(n, 7))
    digits[:, 14] = (11 - _mod11_10(digits[:, :14])) % 10
    text = (digits + ord("0")).astype(np.uint8)
    out: npt.NDArray[np.object_] = text.view("S15").ravel().astype(str).astype(object)
    return out
