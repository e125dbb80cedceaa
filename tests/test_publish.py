"""Publication (一公开): public files, C3 redaction, Excel, and R18 deadlines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _tiny import U1, U2, U3, U4, tiny_tables
from creditsup.exceptions import ConfigError, CreditsupError, MissingDependencyError
from creditsup.plan import InspectionPlan
from creditsup.publish import (
    COLUMN_LABELS,
    PRIVATE_COLUMNS,
    PUBLIC_COLUMNS,
    WorkCalendar,
    column_header,
    due_dates,
    is_workday,
    public_tables,
    publication_deadline,
    publish_plan,
    working_days_between,
)

cc = pytest.importorskip("chinese_calendar")
openpyxl = pytest.importorskip("openpyxl")

SCORE_COLUMNS = ("score", "tier", "tier_reason", "reasons")


# ---------------------------------------------------------------- fixtures
def make_plan(**overrides: Any) -> InspectionPlan:
    """A tiny hand-built plan over the four entities of ``_tiny``.

    V1 is a joint visit (market + food) of U1 in March, V2 a market visit of
    U2 in May, V3 a food visit of U3 in December that could not be staffed;
    U4 is deregistered and excluded.
    """
    raw = tiny_tables()
    visits = pd.DataFrame(
        {
            "visit_id": ["V2026-000001", "V2026-000002", "V2026-000003"],
            "uscc": [U1, U2, U3],
            "tier": ["A", "C", "D"],
            "month": [3, 5, 12],
            "departments": ["food;market", "market", "food"],
            "items": ["F01;M01", "M01", "F01"],
            "trigger": ["random", "random", "key"],
            "joint": [True, False, False],
            "status": ["staffed", "staffed", "unfilled"],
        }
    )
    assignments = pd.DataFrame(
        {
            "visit_id": [
                "V2026-000001",
                "V2026-000001",
                "V2026-000002",
                "V2026-000002",
            ],
            "inspector_id": ["I003", "I001", "I001", "I002"],
            "department": ["food", "market", "market", "market"],
        }
    )
    exclusions = pd.DataFrame(
        {
            "uscc": [U4],
            "reason_code": ["deregistered"],
            "detail": ["status deregistered"],
        }
    )
    scores = pd.DataFrame(
        {
            "uscc": [U1, U2, U3, U4],
            "score": [12.5, 48.0, 71.25, 30.0],
            "tier": ["A", "C", "D", "B"],
            "tier_reason": ["score", "abnormal_list_override", "score", "score"],
            "reasons": [
                "penalty_recent",
                "abnormal_list;complaints",
                "penalty_severe",
                "",
            ],
        }
    )
    accounting = pd.DataFrame(
        {
            "tier": ["A", "B", "C", "D"],
            "n_input": [1, 1, 1, 1],
            "n_eligible": [1, 0, 1, 1],
            "n_excluded": [0, 1, 0, 0],
            "n_drawn": [1, 0, 1, 1],
            "n_visits": [1, 0, 1, 1],
            "target_ratio": [0.05, 0.1, 0.3, 0.8],
            "realized_ratio": [1.0, 0.0, 1.0, 1.0],
        }
    )
    tasks = pd.DataFrame(
        {
            "item_id": ["M01", "F01"],
            "department": ["market", "food"],
            "pool_size": [3, 2],
            "ratio": [0.2, 0.5],
            "expected": [0.6, 1.0],
            "drawn": [2, 2],
            "kept": [2, 2],
        }
    )
    provenance = {
        "creditsup": "0.1.0",
        "versions": {"creditsup": "0.1.0", "pandas": pd.__version__},
        "algorithm": "creditsup-draw/1",
        "year": 2026,
        "seed": "2025-12-31 lottery 07 12 19",
        "seed_commitment": "c0ffee" * 10 + "abcd",
        "inputs": {"entities": "e" * 64, "inspectors": "f" * 64},
        "policy": {
            "publication": {
                "initiating_body": "忻府区市场监督管理局",
                "department_names": {"market": "市场监管科", "food": "食品安全科"},
                "mode": "县抽县查",
            },
            "sampling": {"months": list(range(1, 13))},
        },
        "policy_hash": "9" * 64,
        "operator": "张科长",
        "created_at": "2026-01-05T08:00:00+00:00",
        "ledger_head": "a" * 64,
    }
    fields: dict[str, Any] = {
        "visits": visits,
        "assignments": assignments,
        "exclusions": exclusions,
        "scores": scores,
        "accounting": accounting,
        "tasks": tasks,
        "diagnostics": {
            "unfilled": [
                {
                    "visit_id": "V2026-000003",
                    "reason": "department food, December: needs 2 inspector-slots, has 1",
                }
            ],
            "binding": [
                {"group": "department food, December", "needed": 2, "available": 1}
            ],
        },
        "provenance": provenance,
        "ledger": [
            {"stage": "inputs", "seq": 0, "prev_hash": "0" * 64, "hash": "a" * 64}
        ],
        "items": raw["items"].assign(
            entity_types=raw["items"]["entity_types"],
            industries=raw["items"]["industries"],
        ),
        "entity_names": raw["entities"][["uscc", "name"]],
    }
    fields.update(overrides)
    return InspectionPlan(**fields)


@pytest.fixture(scope="module")
def real() -> tuple[Any, InspectionPlan]:
    """A real plan on a small synthetic district (tight capacity: unfilled visits)."""
    from creditsup.datasets import synthetic_district
    from creditsup.plan import build_plan

    ds = synthetic_district(1500, 30, seed=3)
    with warnings.catch_warnings():
        # upstream pandas deprecations are the other modules' business here
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ds, build_plan(ds, year=2026, seed="publish-test")


def _all_text(paths: list[Path]) -> str:
    """Every published byte as text: CSVs, and every XML part of the workbook."""
    parts: list[str] = []
    for p in paths:
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as zf:
                parts.extend(
                    zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                )
        else:
            parts.append(p.read_text("utf-8-sig"))
    return "\n".join(parts)


def _cells(paths: list[Path]) -> set[str]:
    cells: set[str] = set()
    for p in paths:
        if p.suffix == ".csv":
            df = pd.read_csv(p, dtype=str, encoding="utf-8-sig", keep_default_na=False)
            cells |= set(df.to_numpy().ravel().tolist())
    return cells


def _assert_c3(
    paths: list[Path], inspectors: pd.DataFrame, scores: pd.DataFrame
) -> None:
    text = _all_text(paths)
    lower = text.lower()
    for col in (*SCORE_COLUMNS, *sorted(PRIVATE_COLUMNS)):
        assert col not in lower, f"private column name {col!r} published"
    for ident in inspectors["inspector_id"].astype(str):
        assert ident not in text, f"inspector id {ident} published"
    for cert in (
        inspectors.get("certificate_no", pd.Series(dtype=str)).dropna().astype(str)
    ):
        if cert:
            assert cert not in text, f"certificate number {cert} published"
    names = inspectors["name"].astype(str)
    cells = _cells(paths)
    assert not (set(names) & cells), "an inspector name is a published cell"
    # a name may be part of an entity's registered name (个体户 often carry a
    # person's name); any other occurrence is a leak
    entity_text = " ".join(c for c in cells)
    for name in names:
        if name not in entity_text:
            assert name not in text, f"inspector name {name} published"
    for reason in set(scores["tier_reason"].astype(str)) - {"", "score"}:
        assert reason not in text, f"tier reason {reason!r} published"
    codes = {r for rs in scores["reasons"].astype(str) for r in rs.split(";") if r}
    for code in codes:
        assert code not in text, f"reason code {code!r} published"
    for s in scores["score"]:
        assert f"{float(s):.4f}" not in text


# ------------------------------------------------------------ publish_plan
def test_publish_writes_bilingual_csv_and_xlsx(tmp_path: Path) -> None:
    plan = make_plan()
    paths = publish_plan(plan, tmp_path / "pub")
    assert [p.name for p in paths] == [
        "plan.csv",
        "entities.csv",
        "draw.csv",
        "public.xlsx",
    ]
    raw = (tmp_path / "pub" / "plan.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must carry a BOM for Excel"
    plan_csv = pd.read_csv(
        paths[0], dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    assert plan_csv.columns[0] == "任务编号 task_id"
    keys = [c.rsplit(" ", 1)[-1] for c in plan_csv.columns]
    assert keys == [k for k in PUBLIC_COLUMNS["plan"] if k in keys]
    for key in ("task_id", "task_type", "legal_basis", "scope", "quantity", "ratio"):
        assert key in keys
    for key in ("start_date", "end_date", "initiating_body", "checking_body"):
        assert key in keys
    plan_csv.columns = keys
    row = plan_csv.set_index("task_id").loc["F01"]
    assert row["task_type"] == "定向"  # F01 is limited to types and industries
    assert row["scope"] == "对象类型：企业、个体工商户；行业：F52、H62"
    assert row["checking_body"] == "食品安全科"
    assert row["initiating_body"] == "忻府区市场监督管理局"
    assert plan_csv.set_index("task_id").loc["M01", "task_type"] == "不定向"

    ent = pd.read_csv(paths[1], dtype=str, encoding="utf-8-sig", keep_default_na=False)
    ent.columns = [c.rsplit(" ", 1)[-1] for c in ent.columns]
    # one row per (task, entity): V1 carries two items
    assert sorted(zip(ent["task_id"], ent["uscc"], strict=True)) == sorted(
        [("F01", U1), ("M01", U1), ("M01", U2), ("F01", U3)]
    )
    assert set(ent.loc[ent["uscc"] == U1, "joint"]) == {"是"}
    assert set(ent.loc[ent["uscc"] == U2, "joint"]) == {"否"}
    assert set(ent["checking_body"]) == {"市场监管科", "食品安全科"}


def test_publish_never_reveals_tiers_scores_or_inspectors(tmp_path: Path) -> None:
    plan = make_plan()
    paths = publish_plan(plan, tmp_path)
    _assert_c3(paths, tiny_tables()["inspectors"], plan.scores)


def test_c3_scan_detects_a_leak(tmp_path: Path) -> None:
    """Power check of the scan: a file holding a tier column fails it."""
    plan = make_plan()
    paths = publish_plan(plan, tmp_path, excel=False)
    leaky = tmp_path / "leaky.csv"
    plan.scores.to_csv(leaky, index=False)
    with pytest.raises(AssertionError):
        _assert_c3([*paths, leaky], tiny_tables()["inspectors"], plan.scores)


def test_whitelist_drops_private_columns_added_upstream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = InspectionPlan.public_view

    def leaky_view(self: InspectionPlan) -> dict[str, pd.DataFrame]:
        view = original(self)
        ent = view["entities"].merge(self.scores, on="uscc", how="left")
        return {"plan": view["plan"].assign(tier="A", score=1.0), "entities": ent}

    monkeypatch.setattr(InspectionPlan, "public_view", leaky_view)
    plan = make_plan()
    tables = public_tables(plan)
    for df in tables.values():
        assert not set(df.columns) & (PRIVATE_COLUMNS | set(SCORE_COLUMNS))
    paths = publish_plan(plan, tmp_path)
    _assert_c3(paths, tiny_tables()["inspectors"], plan.scores)


def test_refuses_to_publish_an_inspector_id(tmp_path: Path) -> None:
    names = tiny_tables()["entities"][["uscc", "name"]].copy()
    names.loc[names["uscc"] == U2, "name"] = "I002"  # an inspector id in a public cell
    plan = make_plan(entity_names=names)
    with pytest.raises(CreditsupError, match="inspector id"):
        publish_plan(plan, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_english_headers_and_values(tmp_path: Path) -> None:
    paths = publish_plan(make_plan(), tmp_path, lang="en")
    plan_csv = pd.read_csv(
        paths[0], dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    assert list(plan_csv.columns) == [
        c for c in PUBLIC_COLUMNS["plan"] if c in plan_csv.columns
    ]
    assert set(plan_csv["task_type"]) == {"targeted", "non-targeted"}
    assert set(plan_csv["item_kind"]) == {"general", "key"}
    ent = pd.read_csv(paths[1], dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert set(ent["joint"]) == {"yes", "no"}
    wb = openpyxl.load_workbook(paths[-1])
    assert wb.sheetnames == ["annual_plan", "entities", "draw_record", "columns"]
    assert wb["entities"]["A1"].value == "Task ID"


def test_excel_opens_cleanly(tmp_path: Path) -> None:
    paths = publish_plan(make_plan(), tmp_path)
    wb = openpyxl.load_workbook(paths[-1])
    assert wb.sheetnames == ["年度抽查计划", "抽查对象名单", "抽取记录", "字段说明"]
    for name in ("年度抽查计划", "抽查对象名单"):
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref is not None
        headers = [c.value for c in ws[1]]
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in headers), headers
        assert all(c.font.bold for c in ws[1])
        for i in range(1, len(headers) + 1):
            letter = openpyxl.utils.get_column_letter(i)
            assert ws.column_dimensions[letter].width >= 8
    ws = wb["抽查对象名单"]
    headers = [c.value for c in ws[1]]
    col = headers.index(COLUMN_LABELS["uscc"][0]) + 1
    uscc_cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    assert len(uscc_cells) == 4
    for cell in uscc_cells:
        assert cell.data_type == "s" and cell.number_format == "@"
        assert len(cell.value) == 18
    # the month of a visit is internal (unannounced checks): never published
    assert COLUMN_LABELS["month"][0] not in headers
    plan_ws = wb["年度抽查计划"]
    heads = [c.value for c in plan_ws[1]]
    start = plan_ws.cell(row=2, column=heads.index("开始日期") + 1)
    assert isinstance(start.value, dt.datetime) and start.value.year == 2026
    key_ws = wb["字段说明"]
    keys = {r[0].value for r in key_ws.iter_rows(min_row=2)}
    assert {"uscc", "task_id", "task_type"} <= keys


def test_missing_openpyxl_raises_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(MissingDependencyError, match=r"creditsup\[excel\]"):
        publish_plan(make_plan(), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    paths = publish_plan(make_plan(), tmp_path / "csv", excel=False)
    assert [p.name for p in paths] == ["plan.csv", "entities.csv", "draw.csv"]


def test_bad_lang() -> None:
    with pytest.raises(ConfigError, match="'lang'"):
        publish_plan(make_plan(), "unused", lang="fr")
    assert column_header("task_type") == "抽查类型 task_type"


def test_real_plan_publication(
    tmp_path: Path, real: tuple[Any, InspectionPlan]
) -> None:
    ds, plan = real
    paths = publish_plan(plan, tmp_path)
    _assert_c3(paths, ds.inspectors, plan.scores)
    ent = pd.read_csv(paths[1], dtype=str, encoding="utf-8-sig", keep_default_na=False)
    ent.columns = [c.rsplit(" ", 1)[-1] for c in ent.columns]
    # every (visit, item) of the plan is published, and nothing else
    v = plan.visits.assign(task_id=plan.visits["items"].str.split(";")).explode(
        "task_id"
    )
    expected = sorted(zip(v["task_id"], v["uscc"], strict=True))
    assert sorted(zip(ent["task_id"], ent["uscc"], strict=True)) == expected
    wb = openpyxl.load_workbook(paths[-1], read_only=True)
    ws = wb["抽查对象名单"]
    assert sum(1 for _ in ws.iter_rows(values_only=True)) == len(ent) + 1
    # round trip through the saved bundle gives the same public files
    plan.save(tmp_path / "bundle")
    from creditsup.plan import load_plan

    again = publish_plan(
        load_plan(tmp_path / "bundle"), tmp_path / "again", excel=False
    )
    for a, b in zip(paths[:3], again, strict=True):
        assert a.read_bytes() == b.read_bytes()


# -------------------------------------------------------------- deadlines
def _reference_deadline(day: dt.date, n: int) -> dt.date:
    """Naive day-by-day count on the package's own is_workday."""
    d, k = day, 0
    while k < n:
        d += dt.timedelta(days=1)
        if cc.is_workday(d):
            k += 1
    return d


def test_calendar_facts_from_the_package() -> None:
    # 调休: make-up workdays of 2024 National Day and 2025 Spring Festival
    for s in ("2024-09-29", "2024-10-12", "2025-01-26", "2025-02-08"):
        d = dt.date.fromisoformat(s)
        assert d.weekday() >= 5 and cc.is_workday(d)
        assert is_workday(d)
    for s in ("2024-10-01", "2024-10-07", "2025-01-28", "2025-02-04"):
        d = dt.date.fromisoformat(s)
        assert not cc.is_workday(d) and not is_workday(d)


def test_deadline_across_national_day_2024() -> None:
    # Counted by hand: 24-27 Sep (4), Sun 29 Sep (5), 30 Sep (6), 8-11 Oct (10),
    # Sat 12 Oct (11), 14-18 Oct (16), 21-24 Oct (20).
    assert publication_deadline("2024-09-23") == dt.date(2024, 10, 24)
    assert publication_deadline(dt.datetime(2024, 9, 23, 17, 30)) == dt.date(
        2024, 10, 24
    )


def test_deadline_across_spring_festival_2025() -> None:
    # Sun 26 Jan (1), 27 Jan (2), 28 Jan-4 Feb off, 5-7 Feb (5), Sat 8 Feb (6),
    # 10-14 Feb (11), 17-21 Feb (16), 24-27 Feb (20).
    due = publication_deadline(dt.date(2025, 1, 24))
    assert due == dt.date(2025, 2, 27)
    # power check: weekdays-only arithmetic (no 调休) gets it wrong
    weekdays = np.busday_offset(np.datetime64("2025-01-24"), 20, roll="forward")
    assert weekdays.astype(dt.date) != due


@given(st.dates(min_value=dt.date(2005, 1, 1), max_value=dt.date(2025, 11, 30)))
def test_deadline_matches_day_by_day_reference(day: dt.date) -> None:
    assert publication_deadline(day) == _reference_deadline(day, 20)


@given(
    st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2025, 6, 30)),
    st.integers(min_value=1, max_value=45),
)
def test_deadline_any_number_of_days(day: dt.date, n: int) -> None:
    assert publication_deadline(day, working_days=n) == _reference_deadline(day, n)


def test_unknown_year_needs_a_calendar() -> None:
    last = max(d.year for d in cc.holidays)
    late = dt.date(last, 12, 28)
    with pytest.raises(ConfigError, match=str(last + 1)):
        publication_deadline(late)
    # a deadline that stays inside the known year needs nothing more
    assert publication_deadline(dt.date(last, 6, 1)) == _reference_deadline(
        dt.date(last, 6, 1), 20
    )
    nxt = last + 1
    cal = WorkCalendar(holidays=[dt.date(nxt, 1, 1)], years=[nxt])
    due = publication_deadline(late, calendar=cal)
    # reference: the package for the known year, then the supplied rules
    d, k = late, 0
    while k < 20:
        d += dt.timedelta(days=1)
        work = (
            cc.is_workday(d)
            if d.year == last
            else (d.weekday() < 5 and d != dt.date(nxt, 1, 1))
        )
        k += work
    assert due == d


def test_work_calendar_overrides_a_known_year() -> None:
    # a local calendar that declares 2025-03-03..07 a holiday week
    week = [dt.date(2025, 3, 3) + dt.timedelta(days=i) for i in range(5)]
    cal = WorkCalendar(holidays=week)
    assert cal.covered_years == frozenset({2025})
    base = publication_deadline("2025-02-28")
    moved = publication_deadline("2025-02-28", calendar=cal)
    assert np.busday_count(base, moved) == 5
    # the calendar decides 2025 alone: package make-up days no longer count
    assert not is_workday("2025-01-26", calendar=cal)


def test_work_calendar_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "chinese_calendar", None)
    with pytest.raises(
        MissingDependencyError, match=r"chinesecalendar.*creditsup\[calendar\]"
    ):
        publication_deadline("2025-03-03")
    cal = WorkCalendar(years=[2030], workdays=["2030-02-09"], holidays=["2030-02-04"])
    assert publication_deadline("2030-02-01", calendar=cal, working_days=3) == dt.date(
        2030, 2, 7
    )
    assert publication_deadline("2030-02-07", calendar=cal, working_days=2) == dt.date(
        2030, 2, 9
    )
    strict = WorkCalendar(years=[2030], use_package=False)
    with pytest.raises(ConfigError, match="2031"):
        publication_deadline("2030-12-20", calendar=strict)


def test_work_calendar_validation() -> None:
    with pytest.raises(ValueError, match="Saturday or Sunday"):
        WorkCalendar(workdays=["2027-10-04"])  # a Monday
    with pytest.raises(ValueError, match="both a holiday and"):
        WorkCalendar(holidays=["2027-10-09"], workdays=["2027-10-09"])
    with pytest.raises(ValueError, match="outside its 'years'"):
        WorkCalendar(holidays=["2028-01-01"], years=[2027])
    t = pd.DataFrame({"date": ["2027-02-06", "2027-02-08"], "kind": ["班", "休"]})
    cal = WorkCalendar.from_table(t)
    assert cal.workdays == frozenset({dt.date(2027, 2, 6)})
    assert cal.holidays == frozenset({dt.date(2027, 2, 8)})
    with pytest.raises(ConfigError, match="'kind'"):
        WorkCalendar.from_table(t.assign(kind=["x", "休"]))
    with pytest.raises(ConfigError, match="'working_days'"):
        publication_deadline("2025-01-02", working_days=0)


def test_working_days_between() -> None:
    days = working_days_between("2024-09-28", "2024-10-13")
    expected = [
        d
        for d in (dt.date(2024, 9, 28) + dt.timedelta(days=i) for i in range(16))
        if cc.is_workday(d)
    ]
    assert days == expected
    assert dt.date(2024, 9, 29) in days and dt.date(2024, 10, 12) in days
    assert working_days_between("2024-10-02", "2024-10-01") == []


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2025, 10, 31)),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_due_dates_vectorised_matches_scalar(days: list[dt.date | None]) -> None:
    frame = pd.DataFrame({"date": [d.isoformat() if d else None for d in days]})
    out = due_dates(frame)
    assert list(frame.columns) == ["date"], "the input is never modified"
    for d, due in zip(days, out["due_date"], strict=True):
        if d is None:
            assert pd.isna(due)
        else:
            assert due.date() == publication_deadline(d)
    shuffled = due_dates(frame.iloc[::-1])
    pd.testing.assert_series_equal(shuffled["due_date"].sort_index(), out["due_date"])


def test_due_dates_status() -> None:
    frame = pd.DataFrame(
        {
            "date": [
                "2025-01-20",
                "2025-03-03",
                "2025-03-03",
                "2025-04-01",
                "2025-04-01",
            ],
            "published_on": ["2025-02-21", "2025-04-01", None, None, "2025-04-02"],
        }
    )
    out = due_dates(frame, published_column="published_on", as_of="2025-04-10")
    assert out["due_date"].dt.date.tolist()[:2] == [
        publication_deadline("2025-01-20"),
        publication_deadline("2025-03-03"),
    ]
    assert out["publication_status"].tolist() == [
        "on_time",
        "late",
        "overdue",
        "pending",
        "on_time",
    ]
    assert "publication_status" not in due_dates(frame).columns


def test_column_labels_and_calendar_have_one_home() -> None:
    import creditsup.publish as publish
    import creditsup.workdays as workdays
    from creditsup.labels import LABELS, check_lang, value_label

    assert list(COLUMN_LABELS)[:3] == ["task_id", "task", "task_type"]
    assert all(COLUMN_LABELS[k] == LABELS[k] for k in COLUMN_LABELS)
    for name in workdays.__all__:
        assert getattr(publish, name) is getattr(workdays, name)
    assert value_label("entity_type", "individual") == "个体工商户"
    assert value_label("joint", "true", "en") == "yes"
    with pytest.raises(ConfigError, match="Got 'fr' instead"):
        check_lang("fr")


def test_public_columns_match_the_docs() -> None:
    """docs/publication.md lists exactly the columns publish writes, in order."""
    import re

    from creditsup.publish import PUBLIC_COLUMNS

    doc = (Path(__file__).parents[1] / "docs" / "publication.md").read_text("utf-8")
    for table in ("plan", "entities", "draw"):
        para = doc.split(f"`{table}.csv`: ", 1)[1].split("\n\n", 1)[0]
        keys = [k for k in re.findall(r"`([a-z_]+)`", para)]
        assert tuple(keys) == PUBLIC_COLUMNS[table], (table, keys)


def test_the_public_plan_never_reveals_visit_months(tmp_path: Path) -> None:
    """Each task's window comes from the policy (the allowed months), not from the draw."""
    plan = make_plan()
    view = plan.public_view()
    assert set(view["plan"]["start_date"]) == {f"{plan.provenance['year']}-01-01"}
    assert set(view["plan"]["end_date"]) == {f"{plan.provenance['year']}-12-31"}
    quiet = dict(plan.provenance)
    quiet["policy"] = {
        **quiet["policy"],
        "sampling": {**quiet["policy"]["sampling"], "months": [6, 9]},
    }
    q = dataclasses.replace(plan, provenance=quiet).public_view()["plan"]
    y = plan.provenance["year"]
    assert set(q["start_date"]) == {f"{y}-06-01"} and set(q["end_date"]) == {
        f"{y}-09-30"
    }
    # the bundle's own public lists name the checking body, as publish does
    assert "checking_body" in view["entities"].columns
    assert "department" not in view["entities"].columns
