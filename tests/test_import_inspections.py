"""The generic inspection importer: mapping, stand-in codes, errors, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from creditsup.chicago import import_chicago
from creditsup.exceptions import ConfigError, DataReadError
from creditsup.importer import (
    InspectionMapping,
    import_inspections,
    load_mapping,
    stand_in_codes,
)
from creditsup.schemas import load_dataset, validate_dataset
from creditsup.uscc import check_array

ROOT = Path(__file__).resolve().parents[1]
CHICAGO = ROOT.parent.parent / "shared" / "data" / "chicago"
CHICAGO_MAP = ROOT / "examples" / "chicago_inspections_map.toml"

_EXPORT = """编号,名称,检查日期,检查结果,检查类型,风险等级,严重问题数
A-001,甲餐馆,2024/03/01,合格,双随机,高,0
A-001,甲餐馆,2024/09/15,不合格,投诉,高,2
B-17,乙超市,2024/05/20,合格,双随机,低,0
C-9,丙药店,2025/01/08,责令整改,双随机,中,1
"""

_MAP = """date_formats = ["%Y/%m/%d"]
[columns]
entity_id = "编号"
name = "名称"
date = "检查日期"
result = "检查结果"
trigger = "检查类型"
[entity_columns]
city_risk = "风险等级"
[history_columns]
serious_count = "严重问题数"
[results]
"合格" = "normal"
"不合格" = "problem_corrected"
"责令整改" = "problem_corrected"
[triggers]
"双随机" = "random"
"投诉" = "complaint"
[constants]
department = "market"
industry = "F5211"
region = "140902"
"""


@pytest.fixture
def export(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "export.csv"
    src.write_text(_EXPORT, encoding="gb18030")  # a legacy Chinese export
    mp = tmp_path / "map.toml"
    mp.write_text(_MAP, encoding="utf-8")
    return src, mp


def test_a_chinese_export_becomes_a_valid_dataset(export: tuple[Path, Path]) -> None:
    src, mp = export
    tables = import_inspections(src, load_mapping(mp))
    ds = validate_dataset(tables)
    ent = ds.entities.set_index("source_id")
    assert list(ent.index) == sorted(ent.index) or len(ent) == 3
    assert ent.loc["A-001", "name"] == "甲餐馆"
    assert ent.loc["A-001", "city_risk"] == "高"
    assert str(ent.loc["A-001", "established"].date()) == "2024-03-01"
    h = ds.history.sort_values(["date"]).reset_index(drop=True)
    assert h["result"].tolist() == [
        "normal",
        "normal",
        "problem_corrected",
        "problem_corrected",
    ]
    assert h["trigger"].tolist() == ["random", "random", "complaint", "random"]
    assert set(h["department"]) == {"market"}
    assert h["serious_count"].tolist() == ["0", "0", "2", "1"]
    assert (check_array(ds.entities["uscc"]) == "ok").all()
    assert (ds.entities["uscc_is_stand_in"] == "true").all()


def test_stand_in_codes_are_valid_distinct_and_stable() -> None:
    ids = pd.Series([f"X-{i}" for i in range(20_000)] + ["30790", "2.0"])
    codes = stand_in_codes(ids)
    assert len(set(codes)) == len(ids)
    assert (check_array(pd.Series(codes)) == "ok").all()
    assert codes[-2] == "9199000000030790XC"  # the Chicago encoding
    assert (stand_in_codes(ids[::-1].reset_index(drop=True))[::-1] == codes).all()


def test_every_problem_is_reported_at_once(export: tuple[Path, Path]) -> None:
    src, mp = export
    text = _EXPORT.replace("2024/05/20", "20 May 2024").replace("责令整改", "移送")
    src.write_text(text, encoding="gb18030")
    with pytest.raises(DataReadError) as err:
        import_inspections(src, load_mapping(mp))
    msg = str(err.value)
    assert "20 May 2024" in msg and "移送" in msg


def test_a_missing_column_is_named(export: tuple[Path, Path]) -> None:
    src, _ = export
    m = InspectionMapping(
        columns={"entity_id": "编号", "date": "日期", "result": "检查结果"},
        results={"合格": "normal"},
    )
    with pytest.raises(DataReadError, match="日期"):
        import_inspections(src, m)


def test_bad_mappings_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'columns' must name"):
        InspectionMapping(columns={"entity_id": "a"}, results={})
    with pytest.raises(ConfigError):
        InspectionMapping(
            columns={"entity_id": "a", "date": "d", "result": "r"},
            results={"ok": "fine"},
        )
    bad = tmp_path / "m.toml"
    bad.write_text("columns = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping file"):
        load_mapping(bad)


@pytest.mark.skipif(not CHICAGO.is_dir(), reason="shared Chicago data not present")
def test_the_chicago_export_maps_like_the_dedicated_importer() -> None:
    src = CHICAGO / "food_inspections_2011_2013.csv"
    generic = import_inspections(src, load_mapping(CHICAGO_MAP))
    special = import_chicago(src, None)
    g = generic["history"].sort_values(["uscc", "date", "source_result"])
    s = special["history"].sort_values(["uscc", "date", "chicago_result"])
    assert len(g) == len(s)
    assert (g["uscc"].to_numpy() == s["uscc"].to_numpy()).all()
    assert (g["date"].to_numpy() == s["date"].astype(str).to_numpy()).all()
    fail = g["source_result"].isin(["Fail", "Pass w/ Conditions"]).to_numpy()
    assert (g["result"].to_numpy()[fail] == "problem_corrected").all()
    assert set(generic["entities"]["uscc"]) == set(special["entities"]["uscc"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args], capture_output=True, text=True
    )


def test_the_cli_writes_a_dataset_and_refuses_bad_input(
    export: tuple[Path, Path], tmp_path: Path
) -> None:
    src, mp = export
    out = tmp_path / "data"
    proc = _cli("import-inspections", str(src), "--map", str(mp), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "history 4" in proc.stdout
    ds = load_dataset(out)
    assert len(ds.entities) == 3 and len(ds.history) == 4
    # a second run replaces the folder it wrote; a foreign folder is refused
    assert (
        _cli(
            "import-inspections",
            str(src),
            "--map",
            str(mp),
            "--out",
            str(out),
            "--quiet",
        ).returncode
        == 0
    )
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x", encoding="utf-8")
    for args in (
        ("--map", str(mp), "--out", str(foreign)),
        ("--map", str(tmp_path / "none.toml"), "--out", str(tmp_path / "d2")),
    ):
        proc = _cli("import-inspections", str(src), *args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1
    assert (foreign / "keep.txt").read_text(encoding="utf-8") == "x"
    src.write_text(
        _EXPORT.replace("合格,双随机,低", "待定,双随机,低"), encoding="gb18030"
    )
    proc = _cli(
        "import-inspections", str(src), "--map", str(mp), "--out", str(tmp_path / "d3")
    )
    assert (
        proc.returncode == 2
        and "待定" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    assert not (tmp_path / "d3").exists()
