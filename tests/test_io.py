from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from _tiny import tiny_tables
from creditsup.exceptions import DataReadError
from creditsup.io import read_dataset, read_table, write_dataset
from creditsup.schemas import load_dataset


def test_gb18030_csv_with_chinese_names(tmp_path: Path) -> None:
    t = tiny_tables()
    t["entities"].to_csv(tmp_path / "entities.csv", index=False, encoding="gb18030")
    df = read_table(tmp_path / "entities.csv")
    assert df["name"].tolist() == t["entities"]["name"].tolist()


def test_utf8_bom_and_plain(tmp_path: Path) -> None:
    t = tiny_tables()["inspectors"]
    t.to_csv(tmp_path / "a.csv", index=False, encoding="utf-8-sig")
    t.to_csv(tmp_path / "b.csv", index=False, encoding="utf-8")
    a, b = read_table(tmp_path / "a.csv"), read_table(tmp_path / "b.csv")
    assert list(a.columns) == list(t.columns) == list(b.columns)
    assert a["name"].tolist() == ["张三", "李四", "王五"]


def test_ids_stay_text(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("code,n\n000123,1\n", encoding="utf-8")
    assert read_table(tmp_path / "x.csv")["code"].tolist() == ["000123"]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_roundtrip_formats(tmp_path: Path, fmt: str) -> None:
    write_dataset(tiny_tables(), tmp_path, fmt=fmt)  # type: ignore[arg-type]
    ds = load_dataset(tmp_path)
    assert len(ds.entities) == 4
    assert ds.entities["uscc"].iloc[0] == "91110000600037341L"


def test_unreadable_and_missing(tmp_path: Path) -> None:
    with pytest.raises(DataReadError, match="does not exist"):
        read_dataset(tmp_path / "nope")
    (tmp_path / "entities.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataReadError, match="Cannot read"):
        read_dataset(tmp_path)
    (tmp_path / "bad.txt").write_text("x")
    with pytest.raises(DataReadError, match="unknown format"):
        read_table(tmp_path / "bad.txt")


def test_duplicate_table_files(tmp_path: Path) -> None:
    tiny_tables()["items"].to_csv(tmp_path / "items.csv", index=False)
    tiny_tables()["items"].to_parquet(tmp_path / "items.parquet")
    with pytest.raises(DataReadError, match="more than once"):
        read_dataset(tmp_path)


def test_written_csv_is_bom_utf8(tmp_path: Path) -> None:
    write_dataset({"entities": tiny_tables()["entities"]}, tmp_path)
    raw = (tmp_path / "entities.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert (
        pd.read_csv(tmp_path / "entities.csv", dtype=str)["uscc"].str.len().eq(18).all()
    )
