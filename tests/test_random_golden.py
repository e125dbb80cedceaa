"""Golden values of the keyed hash and the PRN helpers (issue #10).

Every past plan replays only if these functions return exactly what they
returned when the plan was drawn. A change here is a change of algorithm id,
never a silent edit: if one of these assertions fails, the draw changed.
"""

from __future__ import annotations

from creditsup._random import derive_key, keyed_uint64, keyed_uniform, stage_rng
from creditsup.sampling._prn import start_points

IDS = [
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
    "91110000600037341L",
    "121200004013590816",
]


def test_derive_key_is_pinned() -> None:
    assert derive_key("golden", 2026, "prn") == "rX8-XQD72xFN6pAQ"
    assert derive_key("福彩3D 2026001", 2027, "assignment", "priority") == (
        "eAQH_OtOORRYtrXS"
    )


def test_keyed_hash_is_pinned() -> None:
    key = derive_key("golden", 2026, "prn")
    assert [int(x) for x in keyed_uint64(IDS, key)] == [
        7752878351876505524,
        15917563348862683899,
        17598369198244587372,
        17782155961872217073,
        8754625478659977236,
    ]


def test_keyed_uniform_is_pinned() -> None:
    key = derive_key("golden", 2026, "prn")
    assert [float(x) for x in keyed_uniform(IDS, key)] == [
        0.42028437760601717,
        0.8628928381756282,
        0.9540095058469382,
        0.9639726062668961,
        0.4745891981630049,
    ]


def test_start_points_are_pinned() -> None:
    assert start_points(["g1", "g2", "g3"], seed="golden", year=2026, spread=True) == {
        "g1": 15074630062267999597,
        "g2": 2776800679794965186,
        "g3": 8925715371031482391,
    }


def test_stage_stream_is_pinned() -> None:
    assert stage_rng("golden", "assignment").integers(0, 2**32, 4).tolist() == [
        3280399817,
        3468213041,
        2111223317,
        3297689069,
    ]
