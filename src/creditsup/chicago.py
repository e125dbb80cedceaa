"""Import the City of Chicago's public food-inspection data as a creditsup dataset.

The data (``shared/data/chicago/``; City of Chicago, MIT-style licence) come
from the city's food-inspection forecasting project: one CSV of inspections
(``Inspection_ID, License, DBA_Name, Facility_Type, Risk, Zip,
Inspection_Date, Inspection_Type, Results, criticalCount, seriousCount,
minorCount, ...``) and one CSV of the business licence in force at each
inspection (``Inspection_ID, LEGAL_NAME, minDate, tobacco, ...``), joined on
``Inspection_ID``. :func:`import_chicago` maps them onto the six tables of the
data contract (``contract.md`` §1); :func:`import_chicago_to` also writes the
dataset folder (``creditsup import-chicago``).

Nothing is hard-coded about the number of rows or the dates: a later or larger
export in the same format imports the same way. Columns the mapping needs are
checked up front and reported all at once.

The mapping
-----------
**Entities** (one per licence number, attributes from the licence's earliest
inspection row, so adding later rows never changes them):

* ``uscc``: a **synthetic stand-in**, *not a real USCC* (Chicago has none).
  It is a pure function of the licence number: ``91`` (authority 9, type 1) +
  the fake division ``990000`` (``99`` is no province) + the licence number
  zero-padded to 8 digits as the organisation-code body + its GB 11714 check
  character + the GB 32100 check character. It validates, is stable across
  imports, and can be read back: positions 9-16 are the licence number. Every
  entity row says so in ``uscc_is_stand_in = true``; the licence number itself
  is kept in ``source_id``.
* ``name``: ``DBA_Name``; ``address``: ``Address``; ``legal_rep``: the
  licence's ``LEGAL_NAME`` (Chicago has no legal representative; the licence
  holder is the closest notion, so entities of one owner are related).
* ``entity_type``: ``other`` for schools, day care, hospitals, care homes and
  shelters (by facility type); otherwise ``enterprise`` when the licence
  holder's legal name has a company word (INC, LLC, CORP, LTD, CO, ...) or is
  unknown, and ``individual`` (a sole proprietor, 个体工商户) when it does not.
* ``industry``: a GB/T 4754-2017 class from the facility type, e.g.
  restaurant → ``H6210`` (正餐服务), grocery store → ``F5212``, bakery →
  ``F5222``, school → ``P8321``, day care → ``P8310``, hospital → ``Q8411``,
  long-term care → ``Q8512`` (see :data:`FACILITY_INDUSTRIES`; unknown types
  → ``F5299``).
* ``region``: the ZIP code zero-padded to 6 digits (``60657`` →
  ``060657``); ``000000`` when unknown.
* ``established``: the licence's ``minDate`` (first licence start), or the
  first inspection date when that is earlier or ``minDate`` is missing (an
  inspected business existed on the day of its inspection).
* ``status``: ``active`` (the data hold no dated closures).
* extra columns kept: ``source_id``, ``uscc_is_stand_in``, ``facility_type``,
  ``city_risk`` (Chicago's own category: ``1`` high, ``2`` medium, ``3``
  low; used as a baseline by :mod:`creditsup.evaluate`) and the twelve
  secondary-licence flags (``tobacco``, ``tavern``, ...; ``true``/``false``).

**History** (one row per inspection): ``department = food``;
``trigger``: canvass → ``random``, complaint or suspected food poisoning →
``complaint``, any other type (licence, re-inspection, ...) →
``legal_mandate``. ``result`` (R19): ``Fail`` and ``Pass w/ Conditions``
(violations corrected on site) → ``problem_corrected``, as is a ``Pass`` with
a critical or serious violation; a clean ``Pass`` → ``normal``; ``Out of
Business`` / ``Not Ready`` → ``no_activity``; ``No Entry`` / ``Business Not
Located`` → ``unreachable``. Extra columns: ``inspection_id``,
``chicago_result``, ``critical_count``, ``serious_count``, ``minor_count``,
``failed`` (the city's ``Fail``) and ``problem_found`` = ``critical_count >
0``, the outcome Chicago's own model predicts and the one
:func:`creditsup.evaluate.backtest` uses when the column is present.
``inspector_ids`` is empty (the data name no inspector).

**Records**: one ``check_problem`` per inspection that found a critical or
serious violation or failed, dated on the inspection, with ``severity = 2 ·
critical + serious`` (at least 1 for a failed inspection), ``value`` = the
city's result and ``source = chicago:<Inspection_ID>``.

**Placeholders** (so that the dataset validates; they carry no information):
one check item ``CHI-FOOD`` (department ``food``, kind ``general``, legal
basis "Chicago Municipal Code ch. 7-38 (placeholder)") and two stub
inspectors ``CHI-STUB-1``/``CHI-STUB-2`` with capacity 0. No conflicts.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup import uscc as _uscc
from creditsup.exceptions import DataReadError
from creditsup.io import write_dataset

__all__ = [
    "FACILITY_INDUSTRIES",
    "LICENCE_FLAGS",
    "STAND_IN_PREFIX",
    "STAND_IN_REGION",
    "facility_industry",
    "import_chicago",
    "import_chicago_to",
    "licence_from_stand_in",
    "stand_in_uscc",
]

logger = logging.getLogger(__name__)

#: Positions 1-2 of every stand-in code (authority 9 market regulation, type 1).
STAND_IN_PREFIX = "91"
#: Positions 3-8 of every stand-in code: a division code that does not exist.
STAND_IN_REGION = "990000"

#: Facility-type patterns (lower case, first match wins) → GB/T 4754-2017 class.
FACILITY_INDUSTRIES: tuple[tuple[str, str], ...] = (
    (r"day ?care|children|childern|1023|after school|before and after", "P8310"),
    (r"culinary|pastry school|cooking school|chef training", "P8391"),
    (r"college|universit", "P8341"),
    (r"school|shcool", "P8321"),
    (r"hospital", "Q8411"),
    (r"long.?term|nursing|assisted|supporting living|senior day", "Q8512"),
    (r"rehab|drug treatment", "Q8513"),
    (r"shelter|homeless|soup kitchen|charity", "Q8519"),
    (r"golden diner", "Q8521"),
    (r"cater", "H6241"),
    (
        r"restaurant|restuarant|rest/|cafeteria|banquet|diner|taqueria|grill|"
        r"hot dog|fast food|smokehouse|kitchen|room service",
        "H6210",
    ),
    (r"coffee|cafe|juice|ice cream|gelato|paleteria|donut|shake", "H6239"),
    (r"tavern|bar\b|lounge|night club|wine tasting", "H6233"),
    (r"bakery|pastry", "F5222"),
    (r"butcher|meat|fish|poultry", "F5224"),
    (r"liquor", "F5226"),
    (r"gas station", "F5265"),
    (r"drug|pharmacy", "F5251"),
    (r"herb", "F5252"),
    (r"convenience|convnience|mini mart", "F5213"),
    (r"grocery|store|deli|candy|snack", "F5212"),
    (r"wholesale|warehouse|storage|repackaging|commissary|packing|plant", "F5129"),
    (r"stadium|roof ?tops?|wrigley", "R8921"),
    (r"fitness|gym|spa\b", "R8930"),
    (r"theater|theatre", "R8720"),
    (r"mobile|kiosk|cart|special event|navy pier", "H6299"),
)
_DEFAULT_INDUSTRY = "F5299"
_INSTITUTION_PREFIXES = ("P", "Q")

#: Secondary-licence flags of the licence file kept as boolean entity columns.
LICENCE_FLAGS = (
    "consumption_on_premises_incidental_activity",
    "tobacco",
    "package_goods",
    "outdoor_patio",
    "public_place_of_amusement",
    "limited_business_license",
    "childrens_services_facility_license",
    "tavern",
    "regulated_business_license",
    "filling_station",
    "caterers_liquor_license",
    "mobile_food_license",
)

_REQUIRED_INSPECTION_COLUMNS = (
    "Inspection_ID",
    "License",
    "Inspection_Date",
    "Results",
)
_COMPANY = re.compile(
    r"\b(?:INC|INCORPORATED|LLC|L\s?L\s?C|LTD|LIMITED|CORP|CORPORATION|CO|COMPANY|"
    r"LP|LLP|PLLC|ENTERPRISES?|GROUP|HOLDINGS?|PARTNERS(?:HIP)?|ASSOCIATES|TRUST|"
    r"FOUNDATION|UNIVERSITY|COLLEGE|SCHOOLS?|CHURCH|CITY|BOARD|DISTRICT|SOCIETY|"
    r"CENTER|CENTRE|HOSPITAL|ASSOCIATION|CLUB|VENTURES?|MANAGEMENT|SERVICES?|"
    r"FOODS?|RESTAURANTS?|STORES?|MARKETS?)\b"
)
_RESULTS: dict[str, str] = {
    "pass": "normal",
    "pass w/ conditions": "problem_corrected",
    "fail": "problem_corrected",
    "out of business": "no_activity",
    "not ready": "no_activity",
    "no entry": "unreachable",
    "business not located": "unreachable",
}
_STUB_INSPECTORS = ("CHI-STUB-1", "CHI-STUB-2")
_ITEM_ID = "CHI-FOOD"
_DEPARTMENT = "food"

_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)


# --------------------------------------------------------------------------- codes


def stand_in_uscc(licence: pd.Series | npt.ArrayLike) -> npt.NDArray[np.object_]:
    """The synthetic stand-in USCC of each Chicago licence number (vectorised).

    **Not a real USCC.** ``91`` + ``990000`` + the licence number padded to 8
    digits + the GB 11714 check of those 8 digits + the GB 32100 check
    character. It is a pure function of the licence number, so imports of
    different exports agree.

    Parameters
    ----------
    licence : array-like of int
        Licence numbers, ``0 <= licence < 10**8``.

    Raises
    ------
    DataReadError
        A licence number is negative, not an integer or has more than 8 digits.

    Examples
    --------
    >>> stand_in_uscc([30790, 1475890]).tolist()
    ['9199000000030790XC', '919900000147589042']
    >>> from creditsup.uscc import is_valid
    >>> all(is_valid(c) for c in stand_in_uscc([2, 3283641, 99999999]))
    True
    """
    num = pd.to_numeric(pd.Series(np.asarray(licence, dtype=object)), errors="coerce")
    arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr >= 1e8) | (arr % 1 != 0)
    if bad.any():
        first = np.asarray(licence, dtype=object)[np.flatnonzero(bad)[:5]].tolist()
        raise DataReadError(
            "A Chicago licence number must be an integer in [0, 99999999] to derive "
            f"a stand-in USCC. Got {first} instead."
        )
    n = len(arr)
    digits = np.zeros((n, 8), dtype=np.int64)
    v = arr.astype(np.int64)
    for j in range(7, -1, -1):  # 8 fixed digit positions, vectorised over rows
        digits[:, j] = v % 10
        v //= 10
    c9 = 11 - (digits * _ORG_WEIGHTS).sum(axis=1) % 11
    org_check = np.where(c9 == 10, 33, np.where(c9 == 11, 0, c9))  # 'X' = 33 → below
    alphabet = np.array(list(_uscc.ALPHABET), dtype=object)
    values = np.zeros((n, 17), dtype=np.int64)
    head = [int(_uscc.ALPHABET.index(c)) for c in STAND_IN_PREFIX + STAND_IN_REGION]
    values[:, :8] = head
    values[:, 8:16] = digits
    # 'X' has value 29 in the USCC alphabet; digits are their own values.
    values[:, 16] = np.where(org_check == 33, _uscc.ALPHABET.index("X"), org_check)
    check = (31 - (values * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
    chars = alphabet[np.column_stack([values, check])]
    out: npt.NDArray[np.object_] = np.asarray(
        ["".join(r) for r in chars.tolist()], dtype=object
    )
    return out


def licence_from_stand_in(codes: pd.Series | npt.ArrayLike) -> pd.Series:
    """The licence numbers encoded in stand-in USCCs (positions 9-16).

    Examples
    --------
    >>> licence_from_stand_in(["9199000000030790XC"]).tolist()
    [30790]
    """
    s = pd.Series(np.asarray(codes, dtype=object)).astype(str)
    return s.str.slice(8, 16).astype("int64")


def facility_industry(facility_type: pd.Series) -> pd.Series:
    """GB/T 4754-2017 class of each Chicago facility type (see
    :data:`FACILITY_INDUSTRIES`).

    Examples
    --------
    >>> facility_industry(pd.Series(["Restaurant", "Grocery Store", "School",
    ...                              "Daycare (2 - 6 Years)", None])).tolist()
    ['H6210', 'F5212', 'P8321', 'P8310', 'F5299']
    """
    text = facility_type.astype("str").str.strip().str.lower().fillna("")
    out = pd.Series(_DEFAULT_INDUSTRY, index=facility_type.index, dtype="str")
    done = np.zeros(len(text), dtype=bool)
    for pattern, code in FACILITY_INDUSTRIES:
        m = text.str.contains(pattern, regex=True).to_numpy(dtype=bool) & ~done
        out[m] = code
        done |= m
    return out


# --------------------------------------------------------------------------- reading


def _read(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise DataReadError(f"The file {str(p)!r} does not exist.")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas raises many types
        raise DataReadError(
            f"Cannot read {str(p)!r}: {type(exc).__name__}: {exc}"
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype("float64")


def _date(s: pd.Series) -> pd.Series:
    iso = pd.to_datetime(s, format="ISO8601", errors="coerce")
    if iso.isna().any() and s.notna().any():
        us = pd.to_datetime(s, format="%m/%d/%Y", errors="coerce")
        iso = iso.fillna(us)
    return iso.astype("datetime64[us]")


def _flag(s: pd.Series) -> pd.Series:
    num = _number(s)
    text = s.astype("str").str.strip().str.lower()
    return (num.fillna(0) > 0) | text.isin(["true", "yes", "y", "t"]).fillna(False)


def _text(s: pd.Series) -> pd.Series:
    t = s.astype("str").str.strip().str.replace(r"\s+", " ", regex=True)
    return t.where(t.notna() & (t != ""), None).astype("str")


def _load(inspections_csv: str | Path, licenses_csv: str | Path | None) -> pd.DataFrame:
    insp = _read(inspections_csv)
    missing = [c for c in _REQUIRED_INSPECTION_COLUMNS if c not in insp.columns]
    if missing:
        raise DataReadError(
            f"The inspections file {str(inspections_csv)!r} lacks the column(s) "
            f"{missing}; expected the format of shared/data/chicago (README.md)."
        )
    if licenses_csv is not None:
        lic = _read(licenses_csv)
        if "Inspection_ID" not in lic.columns:
            raise DataReadError(
                f"The licences file {str(licenses_csv)!r} lacks the column "
                "'Inspection_ID' (it is joined to the inspections on it)."
            )
        keep = [
            c
            for c in ("Inspection_ID", "LEGAL_NAME", "minDate", *LICENCE_FLAGS)
            if c in lic.columns
        ]
        lic = lic[keep].copy()
        lic["_iid"] = _number(lic["Inspection_ID"])
        lic = lic.drop(columns="Inspection_ID").drop_duplicates("_iid", keep="first")
    else:
        lic = pd.DataFrame({"_iid": pd.Series(dtype="float64")})
    df = insp.copy()
    df["_iid"] = _number(df["Inspection_ID"])
    df = df.merge(lic, on="_iid", how="left", sort=False)
    df["_licence"] = _number(df["License"])
    df["_date"] = _date(df["Inspection_Date"])
    bad = df["_licence"].isna() | df["_date"].isna() | df["_iid"].isna()
    if bad.any():
        logger.warning(
            "Skipping %d inspection row(s) without a licence number, inspection id "
            "or a parseable date.",
            int(bad.sum()),
        )
        df = df[~bad]
    df = df.drop_duplicates("_iid", keep="first")
    df["_licence"] = df["_licence"].astype("int64")
    df["_iid"] = df["_iid"].astype("int64")
    return df.sort_values(["_licence", "_date", "_iid"], kind="stable").reset_index(
        drop=True
    )


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([None] * len(df), index=df.index, dtype="str")


# --------------------------------------------------------------------------- tables


def _entities(df: pd.DataFrame, codes: pd.Series) -> pd.DataFrame:
    first = df.drop_duplicates("_licence", keep="first")  # earliest inspection row
    grouped = df.groupby("_licence", sort=True)
    min_date = _date(_col(df, "minDate")).groupby(df["_licence"]).min()
    first_insp = grouped["_date"].min()
    established = pd.concat([min_date, first_insp], axis=1).min(axis=1)
    legal = _text(_col(df, "LEGAL_NAME"))
    first_legal = legal.groupby(df["_licence"]).first()  # first non-null
    lic = first["_licence"].to_numpy()
    industry = facility_industry(_text(_col(first, "Facility_Type")))
    legal_first = first_legal.reindex(lic)
    company = legal_first.isna().to_numpy() | legal_first.fillna(
        ""
    ).str.upper().str.contains(_COMPANY, regex=True).to_numpy(dtype=bool)
    institution = industry.str.startswith(_INSTITUTION_PREFIXES).to_numpy(dtype=bool)
    etype = np.where(
        institution, "other", np.where(company, "enterprise", "individual")
    )
    zip_num = _number(_col(first, "Zip"))
    region = (
        zip_num.fillna(0)
        .astype("int64")
        .astype("str")
        .str.zfill(6)
        .where(zip_num.between(0, 999999), "000000")
    )
    risk = _col(first, "Risk").astype("str").str.extract(r"(\d)", expand=False)
    name = _text(_col(first, "DBA_Name")).fillna(_text(_col(first, "AKA_Name")))
    name = name.fillna("licence " + first["_licence"].astype("str"))
    ent = pd.DataFrame(
        {
            "uscc": codes.reindex(lic).to_numpy(),
            "name": name.to_numpy(),
            "entity_type": etype,
            "industry": industry.to_numpy(),
            "region": region.to_numpy(),
            "established": established.reindex(lic).dt.strftime("%Y-%m-%d").to_numpy(),
            "status": "active",
            "address": _text(_col(first, "Address")).to_numpy(),
            "legal_rep": legal_first.to_numpy(),
            "source_id": first["_licence"].astype("str").to_numpy(),
            "uscc_is_stand_in": True,
            "facility_type": _text(_col(first, "Facility_Type")).to_numpy(),
            "city_risk": risk.fillna("").to_numpy(),
        }
    )
    for flag in LICENCE_FLAGS:
        if flag in df.columns:
            ent[flag] = (
                _flag(df[flag]).groupby(df["_licence"]).first().reindex(lic).to_numpy()
            )
    return ent


def _trigger(kind: pd.Series) -> pd.Series:
    text = kind.astype("str").str.strip().str.lower().fillna("canvass")
    out = np.where(
        text.str.startswith("canvass").to_numpy(dtype=bool),
        "random",
        np.where(
            text.str.contains("complaint|poisoning", regex=True).to_numpy(dtype=bool),
            "complaint",
            "legal_mandate",
        ),
    )
    return pd.Series(out, index=kind.index, dtype="str")


def _history_and_records(
    df: pd.DataFrame, codes: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    crit = _number(_col(df, "criticalCount")).fillna(0).astype("int64")
    ser = _number(_col(df, "seriousCount")).fillna(0).astype("int64")
    minor = _number(_col(df, "minorCount")).fillna(0).astype("int64")
    raw = _text(df["Results"]).fillna("")
    key = raw.str.lower()
    unknown = sorted(set(key) - set(_RESULTS))
    if unknown:
        logger.warning("Unknown Chicago result(s) %s mapped to 'normal'.", unknown)
    result = key.map(_RESULTS).fillna("normal").astype("str")
    result = result.where(
        ~((result == "normal") & ((crit + ser) > 0)), "problem_corrected"
    )
    failed = (key == "fail").to_numpy(dtype=bool)
    uscc = codes.reindex(df["_licence"].to_numpy()).to_numpy()
    date = df["_date"].dt.strftime("%Y-%m-%d").to_numpy()
    history = pd.DataFrame(
        {
            "uscc": uscc,
            "date": date,
            "department": _DEPARTMENT,
            "result": result.to_numpy(),
            "inspector_ids": "",
            "trigger": _trigger(_col(df, "Inspection_Type")).to_numpy(),
            "inspection_id": df["_iid"].astype("str").to_numpy(),
            "chicago_result": raw.to_numpy(),
            "critical_count": crit.to_numpy(),
            "serious_count": ser.to_numpy(),
            "minor_count": minor.to_numpy(),
            "failed": failed,
            "problem_found": (crit > 0).to_numpy(),
        }
    )
    has = ((crit + ser) > 0).to_numpy(dtype=bool) | failed
    severity = np.maximum(2 * crit.to_numpy() + ser.to_numpy(), failed.astype(np.int64))
    records = pd.DataFrame(
        {
            "uscc": uscc[has],
            "kind": "check_problem",
            "date": date[has],
            "severity": severity[has].astype(np.float64),
            "value": raw.to_numpy()[has],
            "source": ("chicago:" + df["_iid"].astype("str")).to_numpy()[has],
            "critical_count": crit.to_numpy()[has],
            "serious_count": ser.to_numpy()[has],
        }
    )
    return history, records


def _placeholders() -> tuple[pd.DataFrame, pd.DataFrame]:
    inspectors = pd.DataFrame(
        {
            "inspector_id": list(_STUB_INSPECTORS),
            "name": [f"placeholder inspector {i + 1}" for i in range(2)],
            "department": _DEPARTMENT,
            "region": STAND_IN_REGION,
            "expertise": "food_safety",
            "monthly_capacity": 0,
            "certificate_no": None,
            "active": True,
        }
    )
    items = pd.DataFrame(
        {
            "item_id": [_ITEM_ID],
            "department": [_DEPARTMENT],
            "name": ["Routine food establishment inspection (canvass)"],
            "legal_basis": [
                "Chicago Municipal Code ch. 7-38 (placeholder; not a PRC legal basis)"
            ],
            "kind": ["general"],
            "entity_types": ["*"],
            "industries": ["*"],
            "expertise": ["food_safety"],
        }
    )
    return inspectors, items


def import_chicago(
    inspections_csv: str | Path, licenses_csv: str | Path | None
) -> dict[str, pd.DataFrame]:
    """Map Chicago's inspections and licences onto the raw contract tables.

    See the module docstring for the mapping. The result validates with
    :func:`creditsup.schemas.validate_dataset`.

    Parameters
    ----------
    inspections_csv : str or Path
        ``food_inspections_*.csv`` (one row per inspection).
    licenses_csv : str or Path or None
        ``business_licenses_*.csv`` (the licence in force at each inspection,
        joined on ``Inspection_ID``); ``None`` to import without it (no legal
        names, licence dates or flags).

    Returns
    -------
    dict of str to DataFrame
        Raw tables ``entities``, ``records``, ``inspectors``, ``items``,
        ``history`` (no ``conflicts``).

    Raises
    ------
    DataReadError
        A file is missing or lacks a required column, or a licence number
        cannot be turned into a stand-in USCC.
    """
    df = _load(inspections_csv, licenses_csv)
    licences = np.unique(df["_licence"].to_numpy())
    codes = pd.Series(stand_in_uscc(licences), index=licences)
    entities = _entities(df, codes)
    history, records = _history_and_records(df, codes)
    inspectors, items = _placeholders()
    logger.info(
        "Chicago import: %d licences, %d inspections, %d problem records.",
        len(entities),
        len(history),
        len(records),
    )
    return {
        "entities": entities,
        "records": records,
        "inspectors": inspectors,
        "items": items,
        "history": history,
    }


def import_chicago_to(
    inspections_csv: str | Path,
    licenses_csv: str | Path | None,
    out_dir: str | Path,
    *,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
) -> Path:
    """Import the Chicago files, validate them and write a dataset folder.

    This is ``creditsup import-chicago INSPECTIONS.csv LICENSES.csv --out DIR``.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    DataReadError
        An input file is missing or malformed.
    DataValidationError
        The mapped tables break the contract (a bug: please report it).
    """
    from creditsup.schemas import validate_dataset

    tables = import_chicago(inspections_csv, licenses_csv)
    validate_dataset(tables)
    return write_dataset(tables, out_dir, fmt=fmt)
