"""Tests of the Chicago food-inspection importer (creditsup.chicago)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditsup import uscc
from creditsup.chicago import (
    LICENCE_FLAGS,
    STAND_IN_PREFIX,
    STAND_IN_REGION,
    facility_industry,
    import_chicago,
    import_chicago_to,
    licence_from_stand_in,
    stand_in_uscc,
)
from creditsup.exceptions import DataReadError
from creditsup.schemas import load_dataset, validate_dataset

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "chicago"
INSPECTIONS = SHARED / "food_inspections_2011_2013.csv"
LICENSES = SHARED / "business_licenses_2011_2013.csv"

# ----------------------------------------------------------------- tiny files

_INSP_COLS = [
    "Inspection_ID",
    "DBA_Name",
    "AKA_Name",
    "License",
    "Facility_Type",
    "Risk",
    "Address",
    "Zip",
    "Inspection_Date",
    "Inspection_Type",
    "Results",
    "criticalCount",
    "seriousCount",
    "minorCount",
]


def _inspections() -> pd.DataFrame:
    rows = [
        # id, dba, aka, licence, facility, risk, address, zip, date, type, result, c, s, m
        (1.0, "SEVEN STAR", "", 30790.0, "Grocery Store", "Risk 3 (Low)",
         "3352 N BROADWAY", 60657.0, "2012-01-31", "Canvass", "Pass", 0, 0, 2),
        (2.0, "SEVEN STAR", "", 30790.0, "Grocery Store", "Risk 3 (Low)",
         "3352 N BROADWAY", 60657.0, "2013-02-10", "Canvass", "Fail", 1, 2, 0),
        (3.0, "PANERA", "", 1475890.0, "Restaurant", "Risk 1 (High)",
         "6059 N LINCOLN", 60659.0, "2011-10-18", "Canvass", "Pass", 1, 0, 3),
        (4.0, "PANERA", "", 1475890.0, "Restaurant", "Risk 1 (High)",
         "6059 N LINCOLN", 60659.0, "2012-11-02", "Complaint",
         "Pass w/ Conditions", 0, 1, 0),
        (5.0, "LITTLE SCHOOL", "", 2.0, "Daycare (2 - 6 Years)", "Risk 2 (Medium)",
         "1 MAIN ST", None, "2012-05-05", "License", "Out of Business", 0, 0, 0),
        (6.0, "", "AKA ONLY", 44.0, None, "Risk 1 (High)", "2 MAIN ST", 60601.0,
         "03/15/2013", "Canvass", "Fail", 0, 0, 0),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=_INSP_COLS)


def _licences() -> pd.DataFrame:
    rows = [
        (1.0, "VIRGINIA DELA ROSA", "2002-02-16", 1.0, 0.0),
        (2.0, "VIRGINIA DELA ROSA", "2002-02-16", 1.0, 0.0),
        (3.0, "PANERA, LLC", "2012-12-01", 0.0, 1.0),  # minDate after 1st inspection
        (4.0, "PANERA, LLC", "2012-12-01", 0.0, 1.0),
        (5.0, None, None, 0.0, 0.0),
        (6.0, "JOHN SMITH", "1999-01-01", 0.0, 0.0),
    ]
    return pd.DataFrame(
        rows, columns=["Inspection_ID", "LEGAL_NAME", "minDate", "tobacco", "tavern"]
    )


def _write(tmp: Path, insp: pd.DataFrame, lic: pd.DataFrame) -> tuple[Path, Path]:
    a, b = tmp / "insp.csv", tmp / "lic.csv"
    insp.to_csv(a, index=False)
    lic.to_csv(b, index=False)
    return a, b


def _by_licence(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return tables["entities"].set_index("source_id")


# ----------------------------------------------------------------- stand-in codes


@given(st.lists(st.integers(0, 99_999_999), min_size=1, max_size=30, unique=True))
def test_stand_in_codes_are_valid_distinct_and_readable(licences: list[int]) -> None:
    codes = stand_in_uscc(licences)
    assert (uscc.check_array(codes) == "ok").all()
    assert len(set(codes)) == len(licences)
    assert licence_from_stand_in(codes).tolist() == licences
    for code in codes:
        assert code.startswith(STAND_IN_PREFIX + STAND_IN_REGION)
        assert uscc.check_character(code[:17]) == code[17]
        assert uscc.org_code_check_character(code[8:16]) == code[16]


def test_stand_in_code_depends_only_on_the_licence() -> None:
    a = stand_in_uscc([5, 30790, 1475890])
    b = stand_in_uscc([1475890, 5, 30790])
    assert dict(zip([5, 30790, 1475890], a, strict=True)) == dict(
        zip([1475890, 5, 30790], b, strict=True)
    )


@pytest.mark.parametrize("bad", [-1, 100_000_000, 12.5, float("nan"), "x"])
def test_stand_in_rejects_bad_licence_numbers(bad: object) -> None:
    with pytest.raises(DataReadError, match="licence number"):
        stand_in_uscc([1, bad])


def test_facility_industry_mapping() -> None:
    got = facility_industry(
        pd.Series(
            [
                "Restaurant",
                "Grocery Store",
                "School",
                "Daycare Above and Under 2 Years",
                "Hospital",
                "Long Term Care",
                "Bakery",
                "Catering",
                "Liquor",
                "GAS STATION",
                "something new",
                None,
            ]
        )
    )
    assert got.tolist() == [
        "H6210",
        "F5212",
        "P8321",
        "P8310",
        "Q8411",
        "Q8512",
        "F5222",
        "H6241",
        "F5226",
        "F5265",
        "F5299",
        "F5299",
    ]


# ----------------------------------------------------------------- the mapping


def test_import_maps_every_table(tmp_path: Path) -> None:
    tables = import_chicago(*_write(tmp_path, _inspections(), _licences()))
    ds = validate_dataset(tables)  # validates
    assert len(ds.entities) == 4 and len(ds.history) == 6
    ent = _by_licence(tables)
    assert ent.loc["30790", "uscc"] == stand_in_uscc([30790])[0]
    assert ent.loc["30790", "region"] == "060657"
    assert ent.loc["2", "region"] == "000000"  # no ZIP
    assert ent.loc["30790", "city_risk"] == "3"
    assert ent.loc["1475890", "city_risk"] == "1"
    # established: the licence's minDate, or the first inspection when earlier
    assert ent.loc["30790", "established"] == "2002-02-16"
    assert ent.loc["1475890", "established"] == "2011-10-18"
    assert ent.loc["2", "established"] == "2012-05-05"  # no licence date
    # entity type: institutions by facility, else the legal name
    assert ent.loc["2", "entity_type"] == "other"
    assert ent.loc["1475890", "entity_type"] == "enterprise"
    assert ent.loc["30790", "entity_type"] == "individual"
    assert ent.loc["44", "name"] == "AKA ONLY"
    assert ent.loc["44", "industry"] == "F5299"
    assert bool(ent["uscc_is_stand_in"].all())
    assert (ent["status"] == "active").all()
    assert ent.loc["30790", "tobacco"] and not ent.loc["30790", "tavern"]
    assert ent.loc["1475890", "legal_rep"] == "PANERA, LLC"

    hist = tables["history"].set_index("inspection_id")
    assert hist.loc["1", "result"] == "normal"
    assert hist.loc["2", "result"] == "problem_corrected"  # Fail
    assert hist.loc["3", "result"] == "problem_corrected"  # Pass with a critical
    assert hist.loc["4", "result"] == "problem_corrected"  # Pass w/ Conditions
    assert hist.loc["5", "result"] == "no_activity"  # Out of Business
    assert hist.loc["6", "date"] == "2013-03-15"  # US date format accepted
    assert hist.loc["4", "trigger"] == "complaint"
    assert hist.loc["5", "trigger"] == "legal_mandate"
    assert hist.loc["1", "trigger"] == "random"
    ids = ["1", "2", "3", "4", "5", "6"]
    assert hist.loc[ids, "problem_found"].tolist() == [0, 1, 1, 0, 0, 0]
    assert hist.loc[ids, "failed"].tolist() == [0, 1, 0, 0, 0, 1]
    assert (hist["department"] == "food").all()

    rec = tables["records"].set_index("source")
    assert set(rec.index) == {"chicago:2", "chicago:3", "chicago:4", "chicago:6"}
    assert (rec["kind"] == "check_problem").all()
    assert rec.loc["chicago:2", "severity"] == 2 * 1 + 2
    assert rec.loc["chicago:6", "severity"] == 1  # a Fail without counts
    assert len(tables["items"]) == 1 and len(tables["inspectors"]) == 2


def test_import_does_not_depend_on_row_order(tmp_path: Path) -> None:
    insp, lic = _inspections(), _licences()
    a = import_chicago(*_write(tmp_path, insp, lic))
    rng = np.random.default_rng(0)
    (tmp_path / "shuffled").mkdir()
    b = import_chicago(
        *_write(
            tmp_path / "shuffled",
            insp.iloc[rng.permutation(len(insp))],
            lic.iloc[rng.permutation(len(lic))],
        )
    )
    for name in a:
        pd.testing.assert_frame_equal(
            a[name].sort_values(list(a[name].columns[:2])).reset_index(drop=True),
            b[name].sort_values(list(b[name].columns[:2])).reset_index(drop=True),
        )


def test_later_rows_do_not_change_known_entities(tmp_path: Path) -> None:
    insp, lic = _inspections(), _licences()
    base = import_chicago(*_write(tmp_path, insp, lic))
    later = insp.copy()
    later["Inspection_ID"] = later["Inspection_ID"] + 100
    later["Inspection_Date"] = "2016-06-01"
    later["Facility_Type"] = "Liquor"  # later rows must not rewrite attributes
    new = insp.iloc[[0]].assign(Inspection_ID=999.0, License=7777777.0)
    more = pd.concat([insp, later, new], ignore_index=True)
    more_lic = pd.concat(
        [lic, lic.assign(Inspection_ID=lic["Inspection_ID"] + 100)], ignore_index=True
    )
    (tmp_path / "more").mkdir()
    grown = import_chicago(*_write(tmp_path / "more", more, more_lic))
    validate_dataset(grown)
    old = _by_licence(base)
    now = _by_licence(grown)
    assert len(now) == len(old) + 1
    pd.testing.assert_frame_equal(now.loc[old.index], old)
    assert len(grown["history"]) == 2 * len(insp) + 1


def test_import_without_licence_file(tmp_path: Path) -> None:
    a, _ = _write(tmp_path, _inspections(), _licences())
    tables = import_chicago(a, None)
    validate_dataset(tables)
    assert tables["entities"]["legal_rep"].isna().all()


def test_import_reports_missing_columns_and_files(tmp_path: Path) -> None:
    insp = _inspections().drop(columns=["Results", "License"])
    a, b = _write(tmp_path, insp, _licences())
    with pytest.raises(DataReadError, match=r"Results|License"):
        import_chicago(a, b)
    with pytest.raises(DataReadError, match="does not exist"):
        import_chicago(tmp_path / "nope.csv", b)


def test_import_to_writes_a_loadable_folder(tmp_path: Path) -> None:
    a, b = _write(tmp_path, _inspections(), _licences())
    out = import_chicago_to(a, b, tmp_path / "ds")
    ds = load_dataset(out)
    assert sorted(p.stem for p in out.glob("*.csv")) == [
        "entities",
        "history",
        "inspectors",
        "items",
        "records",
    ]
    assert ds.entities["uscc"].str.startswith("91990000").all()


# ----------------------------------------------------------------- the real data


@pytest.mark.skipif(not INSPECTIONS.is_file(), reason="shared Chicago data absent")
def test_real_chicago_files_import_and_validate(tmp_path: Path) -> None:
    raw = pd.read_csv(INSPECTIONS, usecols=["License", "Results"])
    out = import_chicago_to(INSPECTIONS, LICENSES, tmp_path / "chi")
    ds = load_dataset(out)
    assert len(ds.entities) == raw["License"].nunique()
    assert len(ds.history) == len(raw)
    assert set(ds.entities["source_id"].astype(int)) == set(raw["License"].astype(int))
    assert (ds.history["result"] == "problem_corrected").sum() >= (
        raw["Results"] != "Pass"
    ).sum()
    assert all(f in ds.entities.columns for f in LICENCE_FLAGS)
