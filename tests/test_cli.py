"""The command line: exit codes and messages (contract §2)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from creditsup.cli import main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("d") / "D"
    assert (
        main(
            [
                "synth",
                "--entities",
                "2000",
                "--inspectors",
                "30",
                "--seed",
                "1",
                "--out",
                str(d),
            ]
        )
        == 0
    )
    return d


def test_synth_then_validate_ok(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(data_dir)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_lists_every_seeded_defect(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    d = tmp_path / "bad"
    shutil.copytree(data_dir, d)
    ents = pd.read_csv(d / "entities.csv", dtype=str, encoding="utf-8-sig")
    ents.loc[5, "uscc"] = ents.loc[5, "uscc"][:-1] + (
        "0" if ents.loc[5, "uscc"][-1] != "0" else "1"
    )
    ents = pd.concat([ents, ents.iloc[[7]]], ignore_index=True)  # duplicate
    ents.to_csv(d / "entities.csv", index=False, encoding="utf-8-sig")
    ins = pd.read_csv(d / "inspectors.csv", dtype=str, encoding="utf-8-sig")
    ins.loc[2, "monthly_capacity"] = "-4"
    ins.drop(columns=["region"]).to_csv(
        d / "inspectors.csv", index=False, encoding="utf-8-sig"
    )
    conf = pd.read_csv(d / "conflicts.csv", dtype=str, encoding="utf-8-sig")
    conf = pd.concat(
        [conf, pd.DataFrame([{"inspector_id": "NOBODY", "uscc": ents.loc[0, "uscc"]}])]
    )
    conf.to_csv(d / "conflicts.csv", index=False, encoding="utf-8-sig")
    failures = tmp_path / "failures.csv"
    assert main(["validate", str(d), "--out", str(failures)]) == 1
    out = capsys.readouterr().out
    fc = pd.read_csv(failures, dtype=str, encoding="utf-8-sig")
    got = set(zip(fc["table"], fc["column"], fc["rule"], strict=True))
    assert ("entities", "uscc", "invalid_uscc") in got
    assert ("entities", "uscc", "duplicate_key") in got
    assert ("inspectors", "region", "missing_column") in got
    assert ("inspectors", "monthly_capacity", "negative_value") in got
    assert ("conflicts", "inspector_id", "unknown_reference") in got
    # the third data row, as Excel shows it (the header is row 1)
    assert fc.loc[fc["rule"] == "negative_value", "row"].tolist() == ["4"]
    for rule in (
        "invalid_uscc",
        "duplicate_key",
        "missing_column",
        "negative_value",
        "unknown_reference",
    ):
        assert rule in out


def test_unreadable_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "entities.parquet").write_bytes(b"garbage")
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "Cannot read" in err and "Traceback" not in err


def test_missing_folder_exits_2(tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "nope")]) == 2


def test_bad_policy_exits_2(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text("[sampling]\nnot_a_field = 1\n", "utf-8")
    code = main(
        [
            "plan",
            str(data_dir),
            "--year",
            "2026",
            "--seed",
            "x",
            "--out",
            str(tmp_path / "P"),
            "--policy",
            str(pol),
            "--quiet",
        ]
    )
    assert code == 2
    assert "not_a_field" in capsys.readouterr().err


def test_plan_verify_commit_score(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "P"
    code = main(
        [
            "plan",
            str(data_dir),
            "--year",
            "2026",
            "--seed",
            "7",
            "--out",
            str(plan),
            "--quiet",
        ]
    )
    assert code in (0, 3)
    assert (plan / "visits.csv").is_file()
    assert main(["verify", str(plan), "--data", str(data_dir)]) == 0
    capsys.readouterr()
    assert main(["commit", str(data_dir), "--year", "2026"]) == 0
    assert len(capsys.readouterr().out.strip()) == 64
    scores = tmp_path / "scores.csv"
    assert (
        main(["score", str(data_dir), "--as-of", "2026-12-31", "--out", str(scores)])
        == 0
    )
    df = pd.read_csv(scores, dtype=str, encoding="utf-8-sig")
    assert list(df.columns) == ["uscc", "score", "tier", "tier_reason", "reasons"]
    assert len(df) == 2000


def test_policy_template_prints_toml(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    assert main(["policy-template"]) == 0
    assert "sampling" in tomllib.loads(capsys.readouterr().out)
