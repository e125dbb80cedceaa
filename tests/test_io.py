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


_CELLS = ["a", "", " b ", "张三", "x,y", 'say "hi"', "two\nlines", "cr\rx", "=1+2", "-"]


@pytest.mark.parametrize("seed", range(12))
def test_csv_bytes_are_pandas_bytes(seed: int) -> None:
    """The pyarrow fast path of csv_bytes writes exactly what pandas writes."""
    import numpy as np

    from creditsup.io import _arrow_csv_body, csv_bytes

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    cells = _CELLS if seed % 3 else _CELLS[:4]  # some frames need no quoting at all
    text = [cells[i] for i in rng.integers(0, len(cells), n)]
    nulls = rng.random(n) < 0.2
    frame = pd.DataFrame(
        {
            "id": [f"V{i:05d}" for i in range(n)],
            "text": pd.Series(text, dtype="str").where(~nulls),
            "obj": pd.Series(text, dtype=object).where(~nulls, None),
            "n": rng.integers(-5, 10**12, n),
            "u": rng.integers(0, 9, n).astype("uint8"),
        }
    )
    for cols in (["id", "text", "n"], ["id", "obj", "u"], ["text", "n"], ["id"]):
        df = frame[cols]
        want = "\ufeff".encode() + df.to_csv(index=False, lineterminator="\n").encode()
        assert csv_bytes(df) == want
    clean = frame[["id", "n"]]
    assert _arrow_csv_body(clean) is not None  # the fast path is taken


def test_csv_bytes_leave_other_dtypes_to_pandas() -> None:
    from creditsup.io import _arrow_csv_body, csv_bytes

    df = pd.DataFrame(
        {"f": [1.0, 2.5], "b": [True, False], "d": pd.to_datetime(["2026-01-01"] * 2)}
    )
    for col in df.columns:
        two = df[[col]].assign(k="x")
        assert _arrow_csv_body(two) is None
        assert (
            csv_bytes(two)
            == "\ufeff".encode() + two.to_csv(index=False, lineterminator="\n").encode()
        )


def test_gb18030_with_chinese_headers_reads_as_pandas(tmp_path: Path) -> None:
    """A legacy export with Chinese headers leaves pyarrow's reader for pandas."""
    p = tmp_path / "export.csv"
    p.write_bytes(
        "企业名称,检查日期\n张三商店,2024-01-01\n,2024-02-01\n".encode("gb18030")
    )
    got = read_table(p)
    assert list(got.columns) == ["企业名称", "检查日期"]
    assert (
        got["企业名称"].tolist()[0] == "张三商店" and got["企业名称"].isna().tolist()[1]
    )
