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
