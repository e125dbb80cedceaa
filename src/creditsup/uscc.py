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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ALPHABET",
    "AUTHORITIES",
    "PROBLEMS",
    "USCCInfo",
    "UsccProblem",
    "check_array",
    "check_character",
    "check_codes",
    "compact",
    "generate",
    "is_valid",
    "needs_compacting",
    "org_code_check_character",
    "parse",
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


def _fixed_bytes(text: pa.Array, fixed: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """The codes of 18 bytes as an ``[m, 18]`` byte matrix (no copy of the strings)."""
    sub = pc.filter(text, pa.array(fixed))
    if len(sub) == 0:
        return np.zeros((0, 18), dtype=np.uint8)
    width = np.int64 if pa.types.is_large_string(sub.type) else np.int32
    offsets = np.frombuffer(sub.buffers()[1], dtype=width)[
        sub.offset : sub.offset + len(sub) + 1
    ]
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(-1, 18)


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


def check_codes(codes: pd.Series | npt.ArrayLike | pa.Array) -> npt.NDArray[np.int8]:
    """Validate many codes at once; an integer code per value (see :data:`PROBLEMS`).

    The codes are compacted (U1) and read as fixed-width bytes: each rule is
    one numpy operation over an ``[n, 18]`` byte matrix, with no Python
    object per code. :func:`check_array` gives the same answer as text.

    Examples
    --------
    >>> [PROBLEMS[k].value for k in check_codes(["91350100M000100Y43", "x"])]
    ['ok', 'length']
    """
    text = _compact_arrow(pc.fill_null(_as_arrow(codes), ""))
    length = np.asarray(pc.binary_length(text).to_numpy(zero_copy_only=False))
    fixed = length == 18
    out = np.full(len(text), _CODE[UsccProblem.LENGTH], dtype=np.int8)
    out[fixed] = _fixed_problems(_fixed_bytes(text, fixed))
    # Excel keeps 15 significant digits: an all-digit code ending in 000 whose check
    # fails was almost surely truncated, as is anything in scientific notation.
    odd = np.flatnonzero(out != _CODE[UsccProblem.OK])
    if len(odd):
        sub = text.take(pa.array(odd))
        sci = pc.match_substring_regex(sub, r"^\d+(?:\.\d+)?E\+?\d+$")
        digits18 = pc.and_(
            pc.match_substring_regex(sub, r"^[0-9]{15}000$"),
            pc.equal(pc.binary_length(sub), 18),
        )
        mangled = np.asarray(
            pc.or_(sci, digits18).to_numpy(zero_copy_only=False), dtype=bool
        )
        out[odd[mangled]] = _CODE[UsccProblem.EXCEL_MANGLED]
    out[length == 0] = _CODE[UsccProblem.MISSING]
    return out


def check_array(codes: pd.Series | npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Validate many codes at once; return a :class:`UsccProblem` value for each.

    Codes are compacted (U1) before the checks. The checks are vectorised
    (:func:`check_codes`): a million codes take a fraction of a second.

    Examples
    --------
    >>> check_array(["91350100M000100Y43", "9.16201055811843E+17",
    ...              "916201055811843000", "", "91350100M000100Y44"]).tolist()
    ['ok', 'excel_mangled', 'excel_mangled', 'missing', 'check']
    """
    names = np.array([p.value for p in PROBLEMS], dtype=object)
    result: npt.NDArray[np.object_] = names[check_codes(codes)]
    return result


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
