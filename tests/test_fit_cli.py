"""`creditsup fit` and `creditsup backtest --fit` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from _backtest_toy import toy_dataset
from creditsup.io import write_dataset


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _one_clear_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fitcli") / "data"
    write_dataset(toy_dataset(500, seed=5).tables(), folder)
    return folder


def test_fit_writes_a_policy_that_score_uses(data: Path, tmp_path: Path) -> None:
    card, report = tmp_path / "scorecard.toml", tmp_path / "fit.md"
    args = ["fit", str(data), "--as-of", "2022-01-01", "--horizon-days", "365"]
    proc = _cli(*args, "--out", str(card), "--folds", "1", "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    assert "scorecard:" in proc.stdout
    text = card.read_text(encoding="utf-8")
    assert text.startswith("# creditsup fitted scorecard")
    body = tomllib.loads(text)
    assert body["tiers"]["method"] == "cutoff" and body["scorecard"]["indicators"]
    assert "## Held-out window" in report.read_text(encoding="utf-8")
    scores = tmp_path / "scores.csv"
    proc = _cli(
        "score",
        str(data),
        "--as-of",
        "2021-12-31",
        "--policy",
        str(card),
        "--out",
        str(scores),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(scores, dtype=str, keep_default_na=False)
    assert set(table["tier"]) <= {"A", "B", "C", "D"} and len(set(table["tier"])) == 4
    assert (table.loc[table["tier"] == "D", "reasons"] != "").all()
    # a second run replaces its own file
    again = _cli(
        *args, "--out", str(card), "--folds", "1", "--holdout-days", "0", "--quiet"
    )
    assert again.returncode == 0 and again.stdout == ""


def test_fit_refuses_a_file_it_did_not_write(data: Path, tmp_path: Path) -> None:
    mine = tmp_path / "notes.toml"
    mine.write_text("# my notes\n", encoding="utf-8")
    line = _one_clear_line(
        _cli("fit", str(data), "--as-of", "2022-01-01", "--out", str(mine))
    )
    assert "did not write" in line
    assert mine.read_text(encoding="utf-8") == "# my notes\n"


def test_fit_bad_input_is_one_line(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.toml"
    line = _one_clear_line(
        _cli("fit", str(data), "--as-of", "2022-13-45", "--out", str(out))
    )
    assert "as_of" in line
    line = _one_clear_line(
        _cli(
            "fit",
            str(data),
            "--as-of",
            "2019-01-15",
            "--out",
            str(out),
            "--holdout-days",
            "0",
        )
    )
    assert "needs at least" in line
    line = _one_clear_line(
        _cli(
            "fit",
            str(data),
            "--as-of",
            "2022-01-01",
            "--out",
            str(out),
            "--outcome",
            "no_such_column",
        )
    )
    assert "outcome" in line
    assert not out.exists()


def test_backtest_fit_writes_the_scorecard_beside_the_metrics(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bt"
    proc = _cli(
        "backtest",
        str(data),
        "--as-of",
        "2022-01-01",
        "--horizon-days",
        "365",
        "--fit",
        "--seeds",
        "10",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert {"scores.csv", "metrics.json", "scorecard.toml", "fit.md"} <= {
        p.name for p in out.iterdir()
    }
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    methods = {m["method"]: m for m in metrics["methods"]}
    assert {"scorecard", "uniform", "history_rule", "previous"} <= set(methods)
    assert metrics["calibrated"] is False
    assert metrics["scorecard"]["name"] == "fitted"
    assert methods["scorecard"]["auc"] > 0.5
