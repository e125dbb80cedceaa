from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditsup import uscc

VALID = [
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
    "91110000600037341L",
    "91310115MA1K3BTP2B",
    "121200004013590816",
    "91350100M000100Y43",
]


@pytest.mark.parametrize("code", VALID)
def test_domain_vectors_valid(code: str) -> None:
    assert uscc.is_valid(code)
    assert uscc.check_character(code[:17]) == code[17]


def test_worked_example_sum() -> None:
    # domain.md §d: the weighted sum of 91350100M000100Y4 is 1640 -> check 3.
    assert uscc.check_character("91350100M000100Y4") == "3"
    assert not uscc.is_valid("91350100M000100Y4Z")
    assert uscc.org_code_check_character("M000100Y") == "4"
    assert uscc.parse("91350100M000100Y43").org_code_valid


@pytest.mark.parametrize("code", ["916201055811843000", "916201055811872000"])
def test_excel_truncated_codes_rejected(code: str) -> None:
    assert not uscc.is_valid(code)
    assert uscc.check_array([code])[0] == "excel_mangled"


def test_scientific_notation_is_mangled() -> None:
    assert uscc.check_array(["9.16201055811843E+17"])[0] == "excel_mangled"


def test_a_n_y_authorities_accepted() -> None:
    # python-stdnum wrongly rejects these; we generate and validate them.
    rng = np.random.default_rng(3)
    for at in ("N1", "N2", "A1", "Y1", "51", "31"):
        codes = uscc.generate(5, rng=rng, authority_type=at)
        assert all(uscc.is_valid(c) for c in codes)
        assert uscc.parse(codes[0]).authority == at[0]


def test_parse_fields() -> None:
    info = uscc.parse("92140902TKF891203L")
    assert info.authority_name == "工商/市场监管"
    assert info.entity_type_name == "个体工商户"
    assert info.region == "140902"


def test_problem_codes() -> None:
    got = uscc.check_array(
        [
            "",
            None,
            "123",
            "9144030019220382I6",
            "91AB03001922038216",
            "X14403001922038216",
        ]
    ).tolist()
    assert got == ["missing", "missing", "length", "alphabet", "region", "authority"]


def test_compact_and_validate_message() -> None:
    assert uscc.validate(" 9135-0100m000100y43") == "91350100M000100Y43"
    with pytest.raises(ValueError, match="check character"):
        uscc.validate("91350100M000100Y44")


@given(
    seed=st.integers(0, 2**32 - 1),
    at=st.sampled_from(["91", "92", "93", "11", "N2", "Y1"]),
)
def test_generated_codes_validate(seed: int, at: str) -> None:
    codes = uscc.generate(50, rng=np.random.default_rng(seed), authority_type=at)
    assert (uscc.check_array(codes) == "ok").all()
    assert all(uscc.parse(c).org_code_valid for c in codes[:5])


@given(
    seed=st.integers(0, 2**32 - 1),
    pos=st.integers(0, 17),
    repl=st.sampled_from(list(uscc.ALPHABET + "IOZSV")),
)
def test_any_single_change_is_caught(seed: int, pos: int, repl: str) -> None:
    code = uscc.generate(1, rng=np.random.default_rng(seed))[0]
    if code[pos] == repl:
        return
    changed = code[:pos] + repl + code[pos + 1 :]
    assert not uscc.is_valid(changed)


# ------------------------------------------- legacy registration numbers (U6)
#: Public 15-digit registration numbers (注册号) of well-known companies, as
#: shown on their old business licences; each passes ISO 7064 MOD 11,10.
REGNOS = ["440301103097413", "440301103448669", "330100400015575", "110000410302346"]


def _mod11_10_reference(code: str) -> bool:
    """ISO 7064 MOD 11,10 written as the standard states it (independent of
    the vectorised implementation)."""
    p = 10
    for ch in code[:14]:
        s = (int(ch) + p) % 10 or 10
        p = (2 * s) % 11
    return (p + int(code[14])) % 10 == 1


@pytest.mark.parametrize("code", REGNOS)
def test_legacy_regno_vectors(code: str) -> None:
    assert _mod11_10_reference(code)
    assert uscc.is_valid_regno(code)
    assert uscc.regno_check_digit(code[:14]) == code[14]
    assert not uscc.is_valid(code)  # not a USCC
    assert uscc.check_array([code])[0] == "length"
    assert uscc.check_array([code], allow_legacy=True)[0] == "ok"
    assert uscc.id_kinds([code]).tolist() == ["regno"]


@given(st.integers(0, 10**14 - 1), st.integers(0, 13), st.integers(1, 9))
def test_regno_check_catches_every_single_digit_error(
    body: int, pos: int, delta: int
) -> None:
    code = f"{body:014d}"
    code += uscc.regno_check_digit(code)
    assert uscc.is_valid_regno(code) and _mod11_10_reference(code)
    wrong = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1 :]
    assert not uscc.is_valid_regno(wrong)
    assert uscc.check_array([wrong], allow_legacy=True)[0] == "regno_check"


def test_regno_array_check_and_generation() -> None:
    codes = uscc.generate_regno(500, rng=np.random.default_rng(1), kind="6")
    assert all(_mod11_10_reference(c) and c[6] == "6" for c in codes)
    mixed = [
        *codes[:3],
        "44030110309741X",
        "９１３５0100M000100Y43",
        " 4403-0110 3097413",
    ]
    got = uscc.check_array(mixed, allow_legacy=True).tolist()
    assert got == ["ok", "ok", "ok", "regno_check", "ok", "ok"]
    assert (uscc.check_array(codes, allow_legacy=True) == "ok").all()
    with pytest.raises(ValueError, match="14 digits"):
        uscc.regno_check_digit("12345")
