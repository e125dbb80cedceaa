"""The supervision year: results, follow-ups (API and CLI), verified after every step."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from creditsup.datasets import synthetic_tables
from creditsup.io import write_dataset
from creditsup.plan import InspectionPlan, build_plan, load_plan, verify_plan
from creditsup.publish import publication_deadline
from creditsup.schemas import Dataset, validate_dataset
from creditsup.year import close_followups, record_results

YEAR = 2025
CREATED = "2025-01-06T09:00:00+00:00"
AT = "2025-12-31T00:00:00+00:00"


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "CREDITSUP_LANG": "en"}
    if env.get("PYTHONPATH"):  # a relative entry (PYTHONPATH=src) must survive cwd
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p
        )
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    tables = synthetic_tables(2500, 40, seed=11, year=YEAR)
    folder = tmp_path_factory.mktemp("data") / "data"
    write_dataset(tables, folder)
    return folder, validate_dataset(tables)


@pytest.fixture(scope="module")
def drawn(
    district: tuple[Path, Dataset], tmp_path_factory: pytest.TempPathFactory
) -> tuple[InspectionPlan, Path]:
    plan = build_plan(district[1], year=YEAR, seed="2025 lottery", created_at=CREATED)
    path = tmp_path_factory.mktemp("plans") / "plan"
    plan.save(path)
    return plan, path


@pytest.fixture
def bundle(drawn: tuple[InspectionPlan, Path], tmp_path: Path) -> Path:
    dst = tmp_path / "plan"
    shutil.copytree(drawn[1], dst)
    return dst


RESULTS = ["normal", "unreachable", "发现问题已责令改正", "refused", "no_activity"]


def results_frame(plan: InspectionPlan, n: int = 20) -> pd.DataFrame:
    v = plan.visits[plan.visits["status"].eq("staffed")].head(n)
    team = plan.assignments.groupby("visit_id")["inspector_id"].agg(";".join)
    return pd.DataFrame(
        {
            "visit_id": v["visit_id"].to_numpy(),
            "uscc": v["uscc"].to_numpy(),
            "date": [
                f"{YEAR}-{m:02d}-{10 + i % 15:02d}" for i, m in enumerate(v["month"])
            ],
            "result": [RESULTS[i % len(RESULTS)] for i in range(len(v))],
            "inspector_ids": v["visit_id"].map(team).to_numpy(),
        }
    )


def spoil(df: pd.DataFrame) -> pd.DataFrame:
    """Five bad rows, one per check, at data rows 1..5 (Excel rows 3..7)."""
    bad = df.copy()
    bad.loc[1, "uscc"] = "91350100M000100Y43"
    bad.loc[2, "date"] = f"{YEAR - 1}-06-01"
    bad.loc[3, "result"] = "很好"
    bad.loc[4, "inspector_ids"] = "INS99999;" + bad.loc[4, "inspector_ids"]
    bad.loc[5, "visit_id"] = "V-NOPE"
    return bad


# ------------------------------------------------------------------- the API
def test_record_results_keeps_good_rows_and_lists_every_bad_one(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset]
) -> None:
    plan, _ = drawn
    df = spoil(results_frame(plan))
    out = record_results(plan, df, recorded_at=AT)
    rules = out.failures.set_index("row")["rule"].to_dict()
    assert rules == {
        1: "uscc_mismatch",
        2: "date_outside_year",
        3: "unknown_result",
        4: "inspector_not_assigned",
        5: "unknown_visit",
    }
    assert len(out.accepted) == len(df) - 5
    assert set(out.accepted["result"]) <= {"normal", "unreachable",
                                           "problem_corrected", "refused",
                                           "no_activity"}  # fmt: skip
    # Chinese label → code; due date = 20 working days (R18)
    row = out.accepted[out.accepted["visit_id"].eq(df.loc[7, "visit_id"])].iloc[0]
    assert row["result"] == "problem_corrected"
    assert row["due_date"] == publication_deadline(row["date"]).isoformat()
    assert out.plan.ledger[-1]["stage"] == "results"
    assert out.plan.ledger[-1]["prev_hash"] == plan.ledger[-1]["hash"]


def test_dates_before_the_visit_month_and_small_teams_are_refused(
    drawn: tuple[InspectionPlan, Path],
) -> None:
    plan, _ = drawn
    df = results_frame(plan, 40)
    late = df[plan.visits.set_index("visit_id").loc[df["visit_id"], "month"].gt(1)
              .to_numpy()].head(2).copy()  # fmt: skip
    late.iloc[0, late.columns.get_loc("date")] = f"{YEAR}-01-01"
    late.iloc[1, late.columns.get_loc("inspector_ids")] = late.iloc[1][
        "inspector_ids"
    ].split(";")[0]
    out = record_results(plan, late.reset_index(drop=True), recorded_at=AT)
    assert out.failures["rule"].tolist() == ["date_before_visit_month",
                                             "team_too_small"]  # fmt: skip
    assert len(out.accepted) == 0
    assert out.plan is plan


def test_recording_twice_changes_nothing_and_conflicts_are_named(
    drawn: tuple[InspectionPlan, Path],
) -> None:
    plan, _ = drawn
    df = results_frame(plan, 6)
    first = record_results(plan, df, recorded_at=AT)
    again = record_results(
        first.plan, df.sample(frac=1, random_state=1), recorded_at=AT
    )
    assert not again.changed and again.unchanged == len(df)
    assert again.plan.to_files() == first.plan.to_files()
    other = df.copy()
    other.loc[0, "result"] = "refused" if df.loc[0, "result"] != "refused" else "normal"
    clash = record_results(first.plan, other.head(1), recorded_at=AT)
    assert clash.failures["rule"].tolist() == ["already_recorded"]


def test_followups_kinds_and_working_day_due_dates(
    drawn: tuple[InspectionPlan, Path],
) -> None:
    plan, _ = drawn
    df = results_frame(plan, 10)
    df["transfer_to"] = ["", "", "", "", "生态环境局", "", "", "", "", ""]
    out = record_results(plan, df, recorded_at=AT)
    f = out.plan.extra_tables["followups.csv"]
    by_visit = f.groupby("visit_id")["kind"].agg(lambda k: sorted(k)).to_dict()
    res = out.accepted.set_index("visit_id")["result"]
    for vid, result in res.items():
        kinds = by_visit.get(vid, [])
        if result == "unreachable":
            assert kinds == ["abnormal_list"]
        elif result in ("problem_corrected", "refused"):
            assert {"case", "reinspection"} <= set(kinds)
    transfer = f[f["kind"].eq("transfer")].iloc[0]
    assert transfer["department"] == "生态环境局"
    ab = f[f["kind"].eq("abnormal_list")].iloc[0]
    assert (
        ab["due_date"]
        == publication_deadline(ab["opened_on"], working_days=10).isoformat()
    )
    assert set(f["status"]) == {"open"}


def test_verify_replays_results_and_closings(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    plan, _ = drawn
    out = record_results(plan, results_frame(plan), recorded_at=AT).plan
    f = out.extra_tables["followups.csv"]
    closing = pd.DataFrame(
        {"followup_id": f["followup_id"].head(2), "closed_on": f"{YEAR}-12-30",
         "outcome": ["penalty" if k == "case" else "listed" if k == "abnormal_list"
                     else "corrected" for k in f["kind"].head(2)]}
    )  # fmt: skip
    closed = close_followups(out, closing, recorded_at=AT)
    assert closed.failures.empty and len(closed.closed) == 2
    path = tmp_path / "plan"
    closed.plan.save(path)
    assert verify_plan(path, district[1]).ok
    assert load_plan(path).to_files() == closed.plan.to_files()
    # an edited result (its file hash re-stamped) no longer replays
    res = path / "results.csv"
    text = res.read_text("utf-8-sig")
    res.write_text(text.replace(",normal,", ",refused,", 1), "utf-8-sig")
    prov = json.loads((path / "provenance.json").read_text("utf-8"))
    prov["outputs"]["results.csv"] = hashlib.sha256(res.read_bytes()).hexdigest()
    (path / "provenance.json").write_text(json.dumps(prov), "utf-8")
    report = verify_plan(path, district[1])
    assert not report.ok
    assert "ledger.jsonl" in report.differences[0] or "results" in report.differences[0]


# ------------------------------------------------------------------- the CLI
def test_cli_results_lists_bad_rows_keeps_good_ones_and_verifies(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], bundle: Path
) -> None:
    plan, _ = drawn
    src = bundle.parent / "results.csv"
    spoil(results_frame(plan)).to_csv(src, index=False)
    r = cli("results", bundle, src)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    for excel_row, rule in ((3, "uscc_mismatch"), (4, "date_outside_year"),
                            (5, "unknown_result"), (6, "inspector_not_assigned"),
                            (7, "unknown_visit")):  # fmt: skip
        line = next(x for x in r.stdout.splitlines() if rule in x)
        assert f"│ {excel_row} " in line, line
    assert "recorded 15 result(s); 0 already recorded; 5 bad row(s)" in r.stdout
    saved = pd.read_csv(bundle / "results.csv", dtype=str, encoding="utf-8-sig")
    assert len(saved) == 15
    v = cli("verify", bundle, "--data", district[0])
    assert v.returncode == 0, v.stderr + v.stdout
    before = digest(bundle)
    again = cli("results", bundle, src)
    assert again.returncode == 1
    assert "recorded 0 result(s); 15 already recorded; 5 bad row(s)" in again.stdout
    assert digest(bundle) == before


def test_cli_results_chinese_headers_and_json(
    drawn: tuple[InspectionPlan, Path], bundle: Path
) -> None:
    plan, _ = drawn
    df = results_frame(plan, 4).rename(
        columns={"visit_id": "检查编号", "uscc": "统一社会信用代码", "date": "检查日期",
                 "result": "检查结果", "inspector_ids": "检查人员"}
    )  # fmt: skip
    src = bundle.parent / "结果.csv"
    df.to_csv(src, index=False, encoding="utf-8-sig")
    r = cli("results", bundle, src, "--format", "json")
    assert r.returncode == 0, r.stderr
    payload = json.loads(r.stdout)
    assert payload["accepted"] == 4 and payload["failures"] == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("missing.csv",), "does not exist"),
        (("nocols.csv",), "Missing ['uscc', 'date', 'result', 'inspector_ids']"),
    ],
)
def test_cli_results_bad_usage_exits_2(
    bundle: Path, args: tuple[str, ...], needle: str
) -> None:
    (bundle.parent / "nocols.csv").write_text("visit_id\nV1\n", "utf-8")
    r = cli("results", bundle, *(bundle.parent / a for a in args))
    assert r.returncode == 2, r.stdout + r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_results_refuses_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("visit_id\n", "utf-8")
    r = cli("results", tmp_path, tmp_path / "r.csv")
    assert r.returncode == 2 and "not a plan bundle" in r.stderr


def test_cli_followups_close_and_list_overdue(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], bundle: Path
) -> None:
    plan, _ = drawn
    src = bundle.parent / "results.csv"
    results_frame(plan).to_csv(src, index=False)
    assert cli("results", bundle, src).returncode == 0
    f = pd.read_csv(bundle / "followups.csv", dtype=str, encoding="utf-8-sig")
    case = f[f["kind"].eq("case")]["followup_id"].iloc[0]
    closing = pd.DataFrame(
        {
            "followup_id": [case, "F-NOPE", case],
            "closed_on": [f"{YEAR}-12-20", f"{YEAR}-12-20", "someday"],
            "outcome": ["penalty", "penalty", "listed"],
            "severity": ["2", "", ""],
        }
    )
    closing.to_csv(bundle.parent / "close.csv", index=False)
    r = cli("followups", bundle, bundle.parent / "close.csv", "--as-of", "2025-12-31")
    assert r.returncode == 1, r.stderr
    assert "unknown_followup" in r.stdout and "bad_date" in r.stdout
    assert "unknown_outcome" in r.stdout
    assert "closed 1 follow-up(s); 0 already closed; 2 bad row(s)" in r.stdout
    late = f["due_date"].lt("2025-12-31") & f["followup_id"].ne(case)
    n_open = len(f) - 1 - int(late.sum())
    assert f"follow-ups: {n_open} open, {int(late.sum())} overdue, 1 closed" in r.stdout
    after = pd.read_csv(bundle / "followups.csv", dtype=str, encoding="utf-8-sig")
    row = after.set_index("followup_id").loc[case]
    assert (row["status"], row["outcome"], row["severity"]) == (
        "closed",
        "penalty",
        "2",
    )
    assert cli("verify", bundle, "--data", district[0]).returncode == 0
    bad = cli("followups", bundle, "--as-of", "31/12/2025")
    assert bad.returncode == 2 and "--as-of" in bad.stderr


def test_every_rule_of_the_year_has_both_texts() -> None:
    from creditsup.i18n import RULES, YEAR_RULES, rule_text
    from creditsup.year import RULE_CODES

    assert set(YEAR_RULES) == set(RULE_CODES)
    assert not set(YEAR_RULES) & set(RULES)
    for code in RULE_CODES:
        assert rule_text(code, "zh", column="列") != code


# --------------------------------------------------------------- publication
def test_publish_without_results_is_the_plan_publication(
    drawn: tuple[InspectionPlan, Path], bundle: Path, tmp_path: Path
) -> None:
    from creditsup.publish import publish_plan

    r = cli("publish", bundle, "--out", tmp_path / "pub", "--no-excel")
    assert r.returncode == 0, r.stderr
    publish_plan(drawn[0], tmp_path / "api", excel=False)
    assert digest(tmp_path / "pub") == digest(tmp_path / "api")
    assert not (tmp_path / "pub" / "results.csv").exists()
    bad = cli("publish", bundle, "--out", tmp_path / "p2", "--as-of", "2025-12-31")
    assert bad.returncode == 2 and "has none" in bad.stderr


def test_publish_includes_results_in_chinese_and_lists_overdue(
    drawn: tuple[InspectionPlan, Path], bundle: Path, tmp_path: Path
) -> None:
    plan, _ = drawn
    src = bundle.parent / "results.csv"
    results_frame(plan).to_csv(src, index=False)
    assert cli("results", bundle, src).returncode == 0
    pub = tmp_path / "pub"
    r = cli("publish", bundle, "--out", pub, "--as-of", f"{YEAR}-12-31")
    assert r.returncode == 0, r.stderr
    text = (pub / "results.csv").read_text("utf-8-sig")
    head = text.splitlines()[0]
    for col in ("市场主体名称 name", "统一社会信用代码 uscc", "检查结果 result",
                "检查日期 check_date", "检查实施部门 checking_body",
                "公示日期 published_on"):  # fmt: skip
        assert col in head
    got = pd.read_csv(pub / "results.csv", dtype=str, encoding="utf-8-sig")
    assert len(got) == 20
    assert set(got["检查结果 result"]) == {
        "未发现问题", "通过登记的住所（经营场所）无法联系", "发现问题已责令改正",
        "不配合检查情节严重", "未发现开展本次抽查涉及的经营活动",
    }  # fmt: skip
    assert got["市场主体名称 name"].str.len().gt(0).all()
    assert set(got["公示日期 published_on"]) == {f"{YEAR}-12-31"}
    # never tiers, scores or inspectors (C3)
    tiers = set(plan.scores["tier"]) | {f"{s:.4f}" for s in plan.scores["score"]}
    ids = set(plan.assignments["inspector_id"])
    for cell in got.to_numpy().ravel():
        assert cell not in ids and cell not in tiers
    assert "tier" not in text and "score" not in text
    res = pd.read_csv(bundle / "results.csv", dtype=str, encoding="utf-8-sig")
    late = res[res["due_date"] < f"{YEAR}-12-31"]
    assert f"{len(late)} result(s) past the publication deadline" in r.stderr
    for vid in late["visit_id"]:
        assert vid in r.stderr


# ------------------------------------------------------------ closing a year
TIER_ORDER = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}


def test_two_years_tiers_follow_the_recorded_results(tmp_path: Path) -> None:
    """Year 1 is played through the CLI; year 2's tiers move with year 1's results."""
    import numpy as np

    data, plan1 = tmp_path / "data", tmp_path / "plan2025"
    assert cli("synth", "--entities", "3000", "--inspectors", "40", "--seed", "5",
               "--year", YEAR, "--out", data, "--quiet").returncode == 0  # fmt: skip
    r = cli("plan", data, "--year", YEAR, "--seed", "y1", "--out", plan1, "--quiet")
    assert r.returncode in (0, 3), r.stderr
    p1 = load_plan(plan1)
    v = p1.visits[p1.visits["status"].eq("staffed")]
    team = p1.assignments.groupby("visit_id")["inspector_id"].agg(";".join)
    found = np.random.default_rng(0).random(len(v)) < 0.5
    results = pd.DataFrame(
        {
            "visit_id": v["visit_id"],
            "uscc": v["uscc"],
            "date": [f"{YEAR}-{m:02d}-20" for m in v["month"]],
            "result": np.where(found, "发现问题已责令改正", "未发现问题"),
            "inspector_ids": v["visit_id"].map(team),
        }
    )
    results.to_csv(tmp_path / "results.csv", index=False)
    assert cli("results", plan1, tmp_path / "results.csv").returncode == 0
    f = pd.read_csv(plan1 / "followups.csv", dtype=str, encoding="utf-8-sig")
    cases = f[f["kind"].eq("case")].head(5)
    pd.DataFrame(
        {"followup_id": cases["followup_id"], "closed_on": f"{YEAR}-12-30",
         "outcome": "penalty", "severity": "2"}
    ).to_csv(tmp_path / "close.csv", index=False)  # fmt: skip
    assert cli("followups", plan1, tmp_path / "close.csv").returncode == 0
    assert cli("verify", plan1, "--data", data).returncode == 0
    before = digest(data)
    data2 = tmp_path / "data2026"
    c = cli("close-year", plan1, "--data", data, "--out", data2)
    assert c.returncode == 0, c.stderr
    n_rows = int(v["departments"].str.split(";").str.len().sum())  # one per department
    assert f"{n_rows} history row(s) and 5 record(s) added" in c.stdout
    assert digest(data) == before  # DIR is never edited
    assert cli("validate", data2).returncode == 0
    hist = pd.read_csv(data2 / "history.csv", dtype=str, encoding="utf-8-sig")
    old = pd.read_csv(data / "history.csv", dtype=str, encoding="utf-8-sig")
    assert len(hist) == len(old) + n_rows
    recs = pd.read_csv(data2 / "records.csv", dtype=str, encoding="utf-8-sig")
    assert recs["source"].fillna("").str.startswith("creditsup:").sum() == 5
    plan2 = tmp_path / "plan2026"
    r2 = cli("plan", data2, "--year", YEAR + 1, "--seed", "y2", "--out", plan2,
             "--quiet")  # fmt: skip
    assert r2.returncode in (0, 3), r2.stderr
    t1 = p1.scores.set_index("uscc")["tier"].map(TIER_ORDER)
    t2 = load_plan(plan2).scores.set_index("uscc")["tier"].map(TIER_ORDER)
    by = results.drop_duplicates("uscc").set_index("uscc")["result"]
    rise = (t2 - t1).reindex(by.index)
    problem, normal = rise[by.eq("发现问题已责令改正")], rise[by.eq("未发现问题")]
    assert len(problem) > 30 and len(normal) > 30
    assert problem.mean() > normal.mean() + 0.3
    assert (problem > 0).mean() > (normal > 0).mean()
    # against next year's tiers without this year's results (the same data):
    # the checked entities move with their results, the others stay put
    from creditsup.schemas import load_dataset
    from creditsup.tiers import rate_entities

    base = rate_entities(load_dataset(data), as_of=f"{YEAR}-12-31").table
    t0 = base.set_index("uscc")["tier"].map(TIER_ORDER)
    effect = (t2 - t0).reindex(by.index)
    assert (effect[by.eq("发现问题已责令改正")] > 0).mean() > 0.5
    assert (effect[by.eq("未发现问题")] > 0).mean() < 0.1
    others = (t2 - t0).drop(by.index, errors="ignore")
    assert (others == 0).mean() > 0.9


def test_close_year_refuses_other_data_and_never_writes_over_inputs(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], bundle: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    other = tmp_path / "other"
    write_dataset(synthetic_tables(500, 20, seed=2, year=YEAR), other)
    r = cli("close-year", bundle, "--data", other, "--out", tmp_path / "n")
    assert r.returncode == 2 and "not the one the plan was drawn from" in r.stderr
    r = cli("close-year", bundle, "--data", district[0], "--out", district[0])
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cli("close-year", bundle, "--data", district[0], "--out", bundle)
    assert r.returncode == 2


def test_restorations_end_records_early(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset]
) -> None:
    from creditsup.year import close_year

    plan, _ = drawn
    rec = district[1].records
    ab = rec[rec["kind"].eq("abnormal_list") & rec["restored_on"].isna()].head(3)
    restorations = pd.DataFrame(
        {"uscc": ab["uscc"], "kind": "abnormal_list", "restored_on": f"{YEAR}-12-01"}
    )
    done = close_year(plan, district[0], restorations=restorations)
    new = done.tables["records"]
    hit = new[new["uscc"].isin(set(ab["uscc"])) & new["kind"].eq("abnormal_list")]
    assert set(hit["restored_on"]) == {f"{YEAR}-12-01"}
    assert done.restored == len(hit) >= 3
    ds2 = validate_dataset(done.tables)
    live = ds2.records[ds2.records["uscc"].isin(set(ab["uscc"]))]
    assert live["restored_on"].notna().any()


# ------------------------------------------------------------ mid-year change
def _busiest_after(plan: InspectionPlan, month: int) -> str:
    a = plan.assignments.merge(plan.visits[["visit_id", "month"]], on="visit_id")
    return str(a[a["month"] >= month]["inspector_id"].value_counts().index[0])


def test_cli_replan_redraws_only_the_leavers_visits_and_verifies(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], bundle: Path
) -> None:
    plan, _ = drawn
    # a result recorded in July with her on the team: it stays, and stays valid
    who = _busiest_after(plan, 7)
    a = plan.assignments.merge(plan.visits, on="visit_id")
    done_v = a[(a["inspector_id"] == who) & (a["month"] >= 7)].iloc[0]
    team = ";".join(plan.assignments.query("visit_id == @done_v.visit_id").inspector_id)
    pd.DataFrame(
        {"visit_id": [done_v["visit_id"]], "uscc": [done_v["uscc"]],
         "date": [f"{YEAR}-{done_v['month']:02d}-05"], "result": ["normal"],
         "inspector_ids": [team]}
    ).to_csv(bundle.parent / "r.csv", index=False)  # fmt: skip
    assert cli("results", bundle, bundle.parent / "r.csv").returncode == 0
    before = pd.read_csv(bundle / "assignments.csv", dtype=str, encoding="utf-8-sig")
    changes = bundle.parent / "changes.csv"
    changes.write_text(
        "kind,id,from_date,reason\n"
        f"inspector_left,{who},{YEAR}-07-01,调离\n"
        f"inspector_left,INS-NOBODY,{YEAR}-07-01,\n"
        f"retired,{who},{YEAR}-07-01,\n",
        "utf-8",
    )
    r = cli("replan", bundle, "--data", district[0], "--changes", changes)
    assert r.returncode == 1, r.stderr
    assert "unknown_inspector" in r.stdout and "unknown_change" in r.stdout
    after = pd.read_csv(bundle / "assignments.csv", dtype=str, encoding="utf-8-sig")
    visits = pd.read_csv(bundle / "visits.csv", dtype=str, encoding="utf-8-sig")
    month = visits.set_index("visit_id")["month"].astype(int)
    log = pd.read_csv(bundle / "replans.csv", dtype=str, encoding="utf-8-sig")
    moved = set(log["visit_id"].dropna())
    expected = set(
        before[(before["inspector_id"] == who) & (before["visit_id"].map(month) >= 7)][
            "visit_id"
        ]
    ) - {done_v["visit_id"]}
    assert moved == expected and len(moved) >= 2
    # she is off every July+ visit except the one already done
    still = after[(after["inspector_id"] == who) & (after["visit_id"].map(month) >= 7)]
    assert set(still["visit_id"]) == {done_v["visit_id"]}
    # untouched rows are byte-identical, in the same order
    kept = after[~after["visit_id"].isin(moved)]
    assert kept.reset_index(drop=True).equals(
        before[~before["visit_id"].isin(moved)].reset_index(drop=True)
    )
    assert set(log["reason"].dropna()) >= {"调离"}
    v = cli("verify", bundle, "--data", district[0])
    assert v.returncode == 0, v.stdout + v.stderr
    # a result naming her on a re-drawn visit is now refused; the new team passes
    vid = sorted(moved)[0]
    new_team = ";".join(after[after["visit_id"] == vid]["inspector_id"])
    row = visits.set_index("visit_id").loc[vid]
    pd.DataFrame(
        {"visit_id": [vid, vid], "uscc": [row["uscc"]] * 2,
         "date": [f"{YEAR}-{int(row['month']):02d}-25"] * 2,
         "result": ["normal", "normal"], "inspector_ids": [new_team, new_team]}
    ).to_csv(bundle.parent / "r2.csv", index=False)  # fmt: skip
    r2 = cli("results", bundle, bundle.parent / "r2.csv")
    assert r2.returncode == 1 and "duplicate_visit" in r2.stdout
    assert cli("verify", bundle, "--data", district[0]).returncode == 0


def test_replan_entity_closed_and_capacity_changed(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    from creditsup.year import replan

    plan, _ = drawn
    late = plan.visits[
        (plan.visits["month"] >= 8) & plan.visits["status"].eq("staffed")
    ]
    ent = str(late["uscc"].iloc[0])
    who = _busiest_after(plan, 9)
    changes = pd.DataFrame(
        {"kind": ["entity_closed", "capacity_changed", "inspector_joined"],
         "id": [ent, who, "INS00003"],
         "from_date": [f"{YEAR}-08-01", f"{YEAR}-09-01", f"{YEAR}-07-01"],
         "value": ["", "0", ""]}
    )  # fmt: skip
    out = replan(plan, district[1], changes, recorded_at=AT)
    assert out.failures.empty
    cancelled = out.plan.visits[out.plan.visits["status"].eq("cancelled")]
    assert set(cancelled["uscc"]) == {ent}
    assert not out.plan.assignments["visit_id"].isin(set(cancelled["visit_id"])).any()
    a = out.plan.assignments.merge(out.plan.visits[["visit_id", "month"]])
    assert not ((a["inspector_id"] == who) & (a["month"] >= 9)).any()
    assert out.counts()["changes"] == 3
    from creditsup.plan import check_invariants

    assert check_invariants(out.plan, district[1]) == []
    path = tmp_path / "plan"
    out.plan.save(path)
    assert verify_plan(path, district[1]).ok
    # the same changes again are a new batch, and nothing is left to move
    again = replan(out.plan, district[1], changes.head(2), recorded_at=AT)
    assert set(again.log["outcome"]) == {"none"}


# ----------------------------------------------------------- triggered checks
def test_cli_triggers_add_visits_that_verify_publish_and_close(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], bundle: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    plan, _ = drawn
    ds = district[1]
    ent, items = ds.entities, ds.items
    active = ent[ent["status"].eq("active")]["uscc"].tolist()
    dead = ent[ent["status"].ne("active")]["uscc"].iloc[0]
    # a tier-A entity at its cap still gets a complaint-triggered check (R15)
    tier_a = plan.scores[plan.scores["tier"].eq("A")]["uscc"].iloc[0]
    i0, i1 = items["item_id"].iloc[0], items["item_id"].iloc[1]
    src = tmp_path / "triggers.csv"
    pd.DataFrame(
        {"uscc": [tier_a, active[5], active[6], dead, active[7]],
         "date": [f"{YEAR}-08-12", f"{YEAR}-09-03", f"{YEAR}-10-20",
                  f"{YEAR}-10-20", f"{YEAR}-11-05"],
         "trigger": ["投诉举报", "big_data_alert", "patrol", "referral", "referral"],
         "items": [i0, f"{i0};{i1}", i0, i0, "NOPE"],
         "reference": ["12315-001", "BD-77", "", "", ""]}
    ).to_csv(src, index=False)  # fmt: skip
    r = cli("triggers", bundle, src, "--data", district[0])
    assert r.returncode == 1, r.stderr
    assert "unknown_trigger" in r.stdout and "entity_inactive" in r.stdout
    assert "unknown_item" in r.stdout
    assert "added 2 triggered visit(s)" in r.stdout
    saved = load_plan(bundle)
    new = saved.visits[saved.visits["visit_id"].str.startswith("T")]
    assert sorted(new["trigger"]) == ["big_data_alert", "complaint"]
    assert set(new["status"]) == {"staffed"}
    teams = saved.assignments[saved.assignments["visit_id"].isin(new["visit_id"])]
    assert teams.groupby("visit_id").size().min() >= 2
    # capacity: nobody over monthly_capacity in any month
    a = saved.assignments.merge(saved.visits[["visit_id", "month"]], on="visit_id")
    load = a.groupby(["inspector_id", "month"]).size().rename("n").reset_index()
    cap = ds.inspectors.set_index("inspector_id")["monthly_capacity"]
    assert (load["n"] <= load["inspector_id"].map(cap)).all()
    # untouched assignments unchanged; the draw's public lists do not list them
    old = plan.assignments.reset_index(drop=True)
    kept = saved.assignments[~saved.assignments["visit_id"].str.startswith("T")]
    assert kept.reset_index(drop=True).equals(old)
    pub = (bundle / "public" / "entities.csv").read_text("utf-8-sig")
    assert "T2025-" not in pub
    assert cli("verify", bundle, "--data", district[0]).returncode == 0
    before = digest(bundle)
    again = cli("triggers", bundle, src, "--data", district[0])
    assert "added 0 triggered visit(s) (0 unfilled); 2 already recorded" in again.stdout
    assert digest(bundle) == before
    # a result of a triggered visit is published with the entity's name
    t = new.iloc[0]
    team = ";".join(teams[teams["visit_id"] == t["visit_id"]]["inspector_id"])
    pd.DataFrame(
        {"visit_id": [t["visit_id"]], "uscc": [t["uscc"]],
         "date": [f"{YEAR}-{t['month']:02d}-25"], "result": ["false_info"],
         "inspector_ids": [team]}
    ).to_csv(tmp_path / "r.csv", index=False)  # fmt: skip
    assert cli("results", bundle, tmp_path / "r.csv").returncode == 0
    assert cli("publish", bundle, "--out", tmp_path / "pub", "--as-of",
               f"{YEAR}-12-31", "--no-excel").returncode == 0  # fmt: skip
    got = pd.read_csv(tmp_path / "pub" / "results.csv", dtype=str, encoding="utf-8-sig")
    assert (
        got["市场主体名称 name"].iloc[0] == ent.set_index("uscc").loc[t["uscc"], "name"]
    )
    assert cli("verify", bundle, "--data", district[0]).returncode == 0
    # next year's history keeps the trigger, so it never counts against the cap
    c = cli("close-year", bundle, "--data", district[0], "--out", tmp_path / "d2")
    assert c.returncode == 0, c.stderr
    hist = pd.read_csv(tmp_path / "d2" / "history.csv", dtype=str, encoding="utf-8-sig")
    assert t["trigger"] in set(
        hist[hist["date"].eq(f"{YEAR}-{t['month']:02d}-25")]["trigger"]
    )


def test_results_in_a_year_the_calendar_package_does_not_know(tmp_path: Path) -> None:
    """2027: refused with a clear message, then done with --calendar; verify replays."""
    tables = synthetic_tables(1200, 30, seed=4, year=2027)
    data = tmp_path / "data"
    write_dataset(tables, data)
    plan = build_plan(validate_dataset(tables), year=2027, seed="s", created_at=CREATED)
    path = tmp_path / "plan"
    plan.save(path)
    v = plan.visits[plan.visits["status"].eq("staffed")].head(3)
    team = plan.assignments.groupby("visit_id")["inspector_id"].agg(";".join)
    pd.DataFrame(
        {"visit_id": v["visit_id"], "uscc": v["uscc"],
         "date": [f"2027-{m:02d}-15" for m in v["month"]], "result": "normal",
         "inspector_ids": v["visit_id"].map(team)}
    ).to_csv(tmp_path / "r.csv", index=False)  # fmt: skip
    r = cli("results", path, tmp_path / "r.csv")
    assert r.returncode == 2 and "2027" in r.stderr and "Traceback" not in r.stderr
    assert not (path / "results.csv").exists()
    holidays = ["2027-01-01", "2027-10-01", "2027-10-04", "2027-10-05", "2028-01-03"]
    cal = pd.DataFrame({"date": holidays, "kind": "休"})
    cal.to_csv(tmp_path / "cal.csv", index=False)
    ok = cli("results", path, tmp_path / "r.csv", "--calendar", tmp_path / "cal.csv")
    assert ok.returncode == 0, ok.stderr
    saved = pd.read_csv(path / "results.csv", dtype=str, encoding="utf-8-sig")
    from creditsup.workdays import WorkCalendar

    wc = WorkCalendar(holidays=holidays, use_package=False, years={2027, 2028})
    for d, due in zip(saved["date"], saved["due_date"], strict=True):
        assert due == publication_deadline(d, calendar=wc).isoformat()
    assert cli("verify", path, "--data", data).returncode == 0


# --------------------------------------------------------------- batch draws
def test_cli_draw_batch_from_that_days_roster_is_committed_and_verified(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], bundle: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    from creditsup.io import read_dataset

    plan, _ = drawn
    month = plan.visits["month"]
    a = plan.assignments.merge(plan.visits[["visit_id", "month"]], on="visit_id")
    gone = str(a[a["month"].between(7, 9)]["inspector_id"].value_counts().index[0])
    tables = read_dataset(district[0])
    ins = tables["inspectors"].copy()
    ins.loc[ins["inspector_id"] == gone, "active"] = "false"
    tables["inspectors"] = ins
    day = tmp_path / "roster-2025-06-30"
    write_dataset(tables, day)
    src = ("--seed-source", "福彩3D 2025-06-30", "--seed-form", "[0-9] [0-9] [0-9]")
    c = cli("draw-batch", bundle, "--batch", "7-9", "--data", day, *src, "--commit")
    assert c.returncode == 0, c.stderr
    commitment = c.stdout.strip()
    assert len(commitment) == 64
    bad = cli("draw-batch", bundle, "--batch", "7-9", "--data", day, *src,
              "--seed", "hello")  # fmt: skip
    assert bad.returncode == 2 and "does not have the form" in bad.stderr
    assert cli("draw-batch", bundle, "--batch", "13", "--data", day, "--seed",
               "1").returncode == 2  # fmt: skip
    r = cli("draw-batch", bundle, "--batch", "7-9", "--data", day, *src,
            "--seed", "4 1 8")  # fmt: skip
    assert r.returncode in (0, 3), r.stderr
    assert commitment[:16] in r.stdout
    after = load_plan(bundle)
    in_batch = set(plan.visits.loc[month.between(7, 9), "visit_id"])
    old_out = plan.assignments[~plan.assignments["visit_id"].isin(in_batch)]
    new_out = after.assignments[~after.assignments["visit_id"].isin(in_batch)]
    assert new_out.reset_index(drop=True).equals(old_out.reset_index(drop=True))
    new_in = after.assignments[after.assignments["visit_id"].isin(in_batch)]
    assert gone not in set(new_in["inspector_id"])
    old_in = plan.assignments[plan.assignments["visit_id"].isin(in_batch)]
    assert not new_in.reset_index(drop=True).equals(old_in.reset_index(drop=True))
    rec = after.ledger[-1]
    assert (rec["stage"], rec["seed"], rec["seed_commitment"]) == ("batch", "4 1 8",
                                                                   commitment)  # fmt: skip
    v = cli("verify", bundle, "--data", district[0])
    assert v.returncode == 0, v.stdout + v.stderr
    # an edited roster in the bundle no longer replays
    snap = bundle / "batch-7-9-inspectors.csv"
    text = snap.read_text("utf-8-sig").replace(",false", ",true")
    snap.write_text(text, "utf-8-sig")
    prov = json.loads((bundle / "provenance.json").read_text("utf-8"))
    prov["outputs"][snap.name] = hashlib.sha256(snap.read_bytes()).hexdigest()
    (bundle / "provenance.json").write_text(json.dumps(prov), "utf-8")
    assert cli("verify", bundle, "--data", district[0]).returncode == 1


def test_close_year_from_a_dataset_object_writes_iso_dates(
    drawn: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    from creditsup.schemas import load_dataset
    from creditsup.year import close_year

    plan, _ = drawn
    with_results = record_results(plan, results_frame(plan, 8), recorded_at=AT).plan
    from_obj = close_year(with_results, district[1])
    from_dir = close_year(with_results, district[0])
    from_obj.save(tmp_path / "a")
    from_dir.save(tmp_path / "b")
    hist = (tmp_path / "a" / "history.csv").read_text("utf-8-sig")
    assert " 00:00:00" not in hist
    a, b = load_dataset(tmp_path / "a"), load_dataset(tmp_path / "b")
    assert a.table_hashes() == b.table_hashes()
    assert len(a.history) == len(district[1].history) + len(from_obj.history_added)


def test_a_plan_as_drawn_has_no_year_tables(drawn: tuple[InspectionPlan, Path]) -> None:
    """Every CSV the plan writes is known to the bundle: none is taken for a year table."""
    plan, path = drawn
    assert dict(load_plan(path).extra_tables) == {}
    assert load_plan(path).to_files() == plan.to_files()


def test_a_joining_inspector_staffs_the_unfilled_visits_of_her_department(
    tmp_path: Path,
) -> None:
    """A department short of staff: its visits are unfilled until someone joins."""
    from creditsup.year import replan

    tables = synthetic_tables(1500, 40, seed=12, year=YEAR)
    insp = tables["inspectors"].copy()
    dept = str(insp["department"].value_counts().index[0])
    mine = insp.index[insp["department"].eq(dept)]
    # one active inspector: a team of two cannot be formed; the others join later
    insp.loc[mine[1:], "active"] = False
    tables["inspectors"] = insp
    ds = validate_dataset(tables)
    plan = build_plan(ds, year=YEAR, seed="short", created_at=CREATED)
    v = plan.visits
    short = v["status"].eq("unfilled") & v["departments"].str.contains(dept)
    assert short.sum() > 5
    joiner = str(insp.loc[mine[1], "inspector_id"])
    other = str(insp.loc[mine[2], "inspector_id"])
    changes = pd.DataFrame(
        {"kind": ["inspector_joined", "inspector_joined"], "id": [joiner, other],
         "from_date": [f"{YEAR}-07-01", f"{YEAR}-07-01"], "value": ["", ""]}
    )  # fmt: skip
    out = replan(plan, ds, changes, recorded_at=AT)
    assert out.failures.empty
    nv = out.plan.visits
    late = short & v["month"].ge(7)
    early = short & v["month"].lt(7)
    # visits from July on can be staffed now; earlier ones stay unfilled
    assert nv.loc[late, "status"].eq("staffed").sum() > 0
    assert nv.loc[early, "status"].eq("unfilled").all()
    # no staffed visit moved
    before = plan.assignments[
        plan.assignments["visit_id"].isin(v.loc[~short, "visit_id"])
    ]
    after = out.plan.assignments[
        out.plan.assignments["visit_id"].isin(before["visit_id"])
    ]
    pd.testing.assert_frame_equal(
        before.reset_index(drop=True), after.reset_index(drop=True)
    )
    staffed_ids = set(out.log.loc[out.log["outcome"].eq("staffed"), "visit_id"])
    assert staffed_ids == set(nv.loc[late & nv["status"].eq("staffed"), "visit_id"])
    unfilled_ids = {str(u["visit_id"]) for u in out.plan.diagnostics["unfilled"]}
    assert not unfilled_ids & staffed_ids
    assert out.counts()["staffed"] == len(staffed_ids)
    from creditsup.plan import check_invariants

    assert check_invariants(out.plan, roster_so_far_of(out.plan, ds)) == []
    path = tmp_path / "plan"
    out.plan.save(path)
    assert verify_plan(path, ds).ok


def roster_so_far_of(plan: InspectionPlan, ds: Dataset) -> Dataset:
    from creditsup.year.replan import roster_so_far

    return roster_so_far(plan, ds)
