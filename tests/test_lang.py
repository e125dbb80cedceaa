"""Chinese first (issue #15): messages in Chinese for a Chinese locale, Chinese inputs accepted."""

from __future__ import annotations

import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from creditsup.datasets import synthetic_tables
from creditsup.i18n import MESSAGES, RULES, current_lang
from creditsup.io import write_dataset
from creditsup.labels import value_label
from creditsup.schemas import RULE_CODES


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "CREDITSUP_LANG")
    }
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        env={**base, "COLUMNS": "250", **env},
        timeout=300,
    )


@pytest.fixture(scope="module")
def chinese_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset as a Chinese bureau exports it: Chinese headers and Chinese enum values."""
    t = synthetic_tables(200, 30, seed="zh", year=2026)
    e = t["entities"]
    e["entity_type"] = e["entity_type"].map(lambda c: value_label("entity_type", c))
    e["status"] = e["status"].map(lambda c: value_label("status", c))
    t["entities"] = e.rename(
        columns={
            "uscc": "统一社会信用代码",
            "name": "市场主体名称",
            "entity_type": "主体类型",
            "status": "登记状态",
            "established": "成立日期",
        }
    )
    h = t["history"]
    h["result"] = h["result"].map(lambda c: value_label("result", c))
    t["history"] = h.rename(columns={"result": "检查结果"})
    r = t["records"]
    r["kind"] = r["kind"].map(lambda c: value_label("record_kind", c))
    t["records"] = r
    d = tmp_path_factory.mktemp("zh") / "data"
    write_dataset(t, d)
    return d


def test_chinese_headers_and_values_validate(chinese_data: Path) -> None:
    text = (chinese_data / "entities.csv").read_text("utf-8-sig")
    assert "个体工商户" in text and "统一社会信用代码" in text
    res = cli("validate", str(chinese_data), LANG="zh_CN.UTF-8")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("数据有效")


def test_chinese_locale_gives_chinese_messages_with_excel_rows(
    chinese_data: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(chinese_data, bad)
    ents = pd.read_csv(bad / "entities.csv", dtype=str, encoding="utf-8-sig")
    ents.loc[2, "主体类型"] = "外星企业"
    ents.to_csv(bad / "entities.csv", index=False, encoding="utf-8-sig")
    res = cli("validate", str(bad), LANG="zh_CN.UTF-8")
    assert res.returncode == 1
    row = next(line for line in res.stdout.splitlines() if "外星企业" in line)
    assert "检查对象名录库" in row and " 4 " in row  # the third data row in Excel
    assert "主体类型的取值不在允许的范围内" in row
    assert "处数据问题" in res.stdout
    # the same data, English
    en = cli("validate", str(bad), "--lang", "en", LANG="zh_CN.UTF-8")
    assert "validation failure(s)" in en.stdout
    # errors too, and CREDITSUP_LANG wins over the locale
    gone = cli("validate", str(tmp_path / "nope"), CREDITSUP_LANG="zh", LANG="C")
    assert gone.returncode == 2 and gone.stderr.startswith("错误：")
    assert cli("validate", str(tmp_path / "nope"), LANG="C").stderr.startswith("error:")


def test_current_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CREDITSUP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert current_lang() == "en"
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    assert current_lang() == "zh"
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")
    assert current_lang() == "en"
    monkeypatch.setenv("CREDITSUP_LANG", "zh")
    assert current_lang() == "zh" and current_lang("en") == "en"


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogue_is_complete() -> None:
    for key, (zh, en) in {**MESSAGES, **RULES}.items():
        assert zh and en, key
        assert {f.split("!")[0] for f in _fields(zh)} == {
            f.split("!")[0] for f in _fields(en)
        }, key
    # every rule code has its text; validate refuses to emit a code without one
    assert set(RULES) == set(RULE_CODES)
