from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _tiny import U1, U2, tiny_tables
from creditsup.exceptions import DataValidationError
from creditsup.schemas import explode_list, table_hash, validate_dataset
from creditsup.uscc import generate


def test_tiny_dataset_is_valid_and_typed() -> None:
    ds = validate_dataset(tiny_tables())
    assert ds.entities["established"].dtype.kind == "M"
    assert ds.inspectors["monthly_capacity"].dtype == "int64"
    assert ds.inspectors["active"].all()
    assert ds.entities["key_supervision"].dtype == bool
    assert sorted(ds.history["trigger"]) == ["complaint", "random"]
    assert ds.items.loc[ds.items["item_id"] == "F01", "industries"].item() == "F52;H62"
    assert ds.entities["uscc"].is_monotonic_increasing


def _failures(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    with pytest.raises(DataValidationError) as info:
        validate_dataset(tables)
    return info.value.failure_cases


def test_every_seeded_defect_reported_at_once() -> None:
    t = tiny_tables()
    t["entities"].loc[1, "uscc"] = "91330100716105852G"  # bad check char
    t["entities"].loc[2, "uscc"] = "9.16201055811843E+17"  # Excel-mangled
    t["entities"].loc[3, "status"] = "closed"  # unknown enum
    t["entities"].loc[0, "established"] = "2010-13-45"  # bad date
    t["inspectors"].loc[2, "inspector_id"] = "I001"  # duplicate key
    t["inspectors"].loc[1, "monthly_capacity"] = "-3"  # negative capacity
    t["inspectors"].loc[0, "monthly_capacity"] = "many"  # wrong type
    t["items"].loc[1, "legal_basis"] = "  "  # R02
    t["conflicts"].loc[0, "inspector_id"] = "I999"  # unknown inspector
    t["history"] = t["history"].drop(columns=["result"])  # missing column
    t["records"].loc[0, "uscc"] = "91110000600037341L"  # fine
    t["records"].loc[1, "kind"] = "parking_ticket"  # unknown kind
    fc = _failures(t)
    got = set(zip(fc["table"], fc["row"], fc["column"], fc["rule"], strict=True))
    expected = {
        ("entities", 1, "uscc", "invalid_uscc"),
        ("entities", 2, "uscc", "excel_mangled_uscc"),
        ("entities", 3, "status", "unknown_enum"),
        ("entities", 0, "established", "bad_date"),
        ("inspectors", 2, "inspector_id", "duplicate_key"),
        ("inspectors", 1, "monthly_capacity", "negative_value"),
        ("inspectors", 0, "monthly_capacity", "wrong_type"),
        ("items", 1, "legal_basis", "empty_legal_basis"),
        ("items", 1, "legal_basis", "missing_value"),
        ("conflicts", 0, "inspector_id", "unknown_reference"),
        ("history", -1, "result", "missing_column"),
        ("records", 1, "kind", "unknown_enum"),
    }
    assert expected <= got
    # references to the now-invalid USCC of row 1 are reported too
    assert ("records", 1, "uscc", "unknown_reference") in got
    assert set(fc.columns) == {"table", "row", "column", "value", "rule", "message"}
    assert (fc["message"].str.len() > 0).all()


def test_unknown_entities_in_history_and_records() -> None:
    t = tiny_tables()
    t["history"].loc[0, "uscc"] = "91110000600037341L"  # valid code, not an entity
    t["entities"] = t["entities"][t["entities"]["uscc"] != "91110000600037341L"]
    t["history"].loc[1, "inspector_ids"] = "I003;I404"
    fc = _failures(t)
    got = set(zip(fc["table"], fc["row"], fc["column"], fc["rule"], strict=True))
    assert ("history", 0, "uscc", "unknown_reference") in got
    assert ("history", 1, "inspector_ids", "unknown_reference") in got
    assert fc.loc[fc["column"] == "inspector_ids", "value"].tolist() == ["I404"]


def test_missing_required_table_and_bad_months() -> None:
    t = tiny_tables()
    del t["items"]
    t["inspectors"].loc[0, "unavailable_months"] = "7;13"
    fc = _failures(t)
    assert ("items", "missing_table") in set(zip(fc["table"], fc["rule"], strict=True))
    assert ("inspectors", "bad_list_value") in set(
        zip(fc["table"], fc["rule"], strict=True)
    )


def test_optional_tables_may_be_absent() -> None:
    t = tiny_tables()
    for name in ("records", "conflicts", "history"):
        del t[name]
    ds = validate_dataset(t)
    assert len(ds.history) == 0 and "trigger" in ds.history.columns
    assert len(ds.records) == 0 and "restored_on" in ds.records.columns


def test_input_not_mutated_and_extra_columns_kept() -> None:
    t = tiny_tables()
    t["entities"]["phone"] = ["1", "2", "3", "4"]
    before = t["entities"].copy()
    ds = validate_dataset(t)
    pd.testing.assert_frame_equal(t["entities"], before)
    assert "phone" in ds.entities.columns


def test_cut_drops_future_rows() -> None:
    ds = validate_dataset(tiny_tables())
    cut = ds.cut("2024-06-30")
    assert cut.history.empty
    assert set(cut.records["kind"]) == {"penalty", "abnormal_list"}
    # the restoration of 2024-01-10 was known by then; the 2027 end date is future
    assert cut.records["end_date"].isna().all()
    assert cut.records["restored_on"].notna().sum() == 1
    assert U1 in set(cut.entities["uscc"]) and U2 in set(cut.entities["uscc"])


@given(st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rnd: object) -> None:
    t = tiny_tables()
    shuffled = {}
    for name, df in t.items():
        idx = list(df.index)
        rnd.shuffle(idx)  # type: ignore[attr-defined]
        shuffled[name] = df.loc[idx]
    a, b = validate_dataset(t), validate_dataset(shuffled)
    for name in t:
        pd.testing.assert_frame_equal(a.tables()[name], b.tables()[name])
        # the hash of a table does not depend on its row order, raw or typed
        assert table_hash(t[name]) == table_hash(shuffled[name])
        assert table_hash(a.tables()[name]) == table_hash(b.tables()[name])
    assert a.table_hashes() == b.table_hashes()


def test_table_hash_sees_a_changed_cell() -> None:
    t = tiny_tables()["entities"]
    edited = t.copy()
    edited.iloc[0, 1] = str(edited.iloc[0, 1]) + "x"
    assert table_hash(t) != table_hash(edited)
    assert table_hash(t) != table_hash(t.iloc[1:])


def test_explode_list_strips() -> None:
    assert explode_list(pd.Series([" a ; b", None])).tolist() == ["a", "b"]


def test_legacy_regno_accepted_as_entity_id_and_flagged() -> None:
    """U6: an entity without a USCC yet is known by its 15-digit 注册号."""
    from creditsup.sampling import SamplingPolicy, draw_visits
    from strategies import YEAR, build_tables

    raw = build_tables(60, seed=4, history_per_entity=0.0, dereg=0.0)
    ent = raw["entities"]
    ent.loc[:4, "uscc"] = ["440301103097413", "440301103448669", "330100400015575",
                           "110000410302346", "4403-0110-3448669"]  # fmt: skip
    with pytest.raises(DataValidationError) as err:  # the duplicate after compaction
        validate_dataset(raw)
    assert set(err.value.failure_cases["rule"]) == {"duplicate_key"}
    ent.loc[4, "uscc"] = "44030110344866X"  # a wrong check digit
    with pytest.raises(DataValidationError) as err:
        validate_dataset(raw)
    fc = err.value.failure_cases
    assert fc["rule"].tolist() == ["invalid_uscc"] and "MOD 11,10" in fc["message"][0]
    ent.loc[4, "uscc"] = generate(1, rng=np.random.default_rng(0))[0]
    ds = validate_dataset(raw)
    tiers = pd.DataFrame({"uscc": ds.entities["uscc"], "tier": "D"})
    res = draw_visits(ds, tiers, SamplingPolicy(), year=YEAR, seed="regno")
    kinds = res.visits.set_index("uscc")["id_kind"]
    legacy = {
        "440301103097413",
        "440301103448669",
        "330100400015575",
        "110000410302346",
    }
    assert set(kinds[kinds == "regno"].index) == legacy & set(kinds.index)
    assert set(kinds[kinds == "uscc"].index).isdisjoint(legacy)
    assert int(res.accounting["n_legacy_id"].sum()) == 4
    # the hash keys are the identifiers themselves: stable under row order
    again = draw_visits(
        dataclasses.replace(ds, entities=ds.entities.iloc[::-1]),
        tiers.iloc[::-1],
        SamplingPolicy(),
        year=YEAR,
        seed="regno",
    )
    pd.testing.assert_frame_equal(res.visits, again.visits)
