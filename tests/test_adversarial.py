"""The adversarial corpus (issue #11): careless and hostile use, through the real CLI.

Every case runs ``python -m creditsup`` in a subprocess, as a user would, and
checks the exit code, that the message is one clear line, that there is no
traceback, and that nothing creditsup did not write was touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from creditsup.datasets import synthetic_tables
from creditsup.io import write_dataset

YEAR = "2026"


def cli(
    *args: str | bytes, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        env=full_env,
        timeout=300,
    )


def one_error_line(res: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, no traceback, exactly one ``error:`` line naming ``words``."""
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adv")
    d = root / "data"
    write_dataset(synthetic_tables(300, 30, seed="adv", year=2026), d)
    return d


@pytest.fixture(scope="module")
def planned(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One plan bundle made by the CLI, copied by the tests that start from one."""
    bundle = tmp_path_factory.mktemp("planned") / "bundle"
    assert cli(*plan_args(data, bundle)).returncode in (0, 3)
    return bundle


def copy_of(planned: Path, dest: Path) -> Path:
    shutil.copytree(planned, dest)
    return dest


@pytest.fixture()
def user_folder(tmp_path: Path) -> Path:
    d = tmp_path / "mine"
    d.mkdir()
    (d / "thesis.docx").write_bytes(b"years of work")
    return d


def plan_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["plan", str(data), "--year", YEAR, "--seed", "s", "--out", str(out), *extra]


# ------------------------------------------------------------------ usage
@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], ("command", "--help")),
        (["bogus"], ("bogus",)),
        (["plan", "--bogus"], ("--bogus",)),
        (["plan", "somewhere"], ("--year",)),
        (["plan", "d", "--year", "abc", "--seed", "s", "--out", "o"], ("--year",)),
        (["plan", "d", "--year", "0", "--seed", "s", "--out", "o"], ("--year",)),
        (["plan", "d", "--year", "-5", "--seed", "s", "--out", "o"], ("--year",)),
        (["plan", "d", "--year", "99999999999", "--seed", "s", "--out", "o"], ()),
        (["synth", "--entities", "0", "--out", "o"], ("--entities",)),
        (["backtest", "d", "--as-of", "2013-01-01", "--out", "o", "--seeds", "0"], ()),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_usage_errors_are_one_line_exit_2(
    args: list[str], words: tuple[str, ...], tmp_path: Path
) -> None:
    one_error_line(cli(*args, cwd=tmp_path), *words)


def test_version() -> None:
    res = cli("--version")
    assert res.returncode == 0 and res.stdout.startswith("creditsup ")


def test_seed_that_is_not_utf8(data: Path, tmp_path: Path) -> None:
    bad = os.fsdecode(b"\xff\xfe lottery")
    one_error_line(
        cli(
            "plan",
            str(data),
            "--year",
            YEAR,
            "--seed",
            bad,
            "--out",
            str(tmp_path / "p"),
        ),
        "UTF-8",
    )
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------ paths
def _outputs(data: Path, target: Path) -> dict[str, list[str]]:
    """Every verb with an --out, writing to ``target``."""
    return {
        "plan": plan_args(data, target),
        "synth": [
            "synth",
            "--entities",
            "50",
            "--inspectors",
            "30",
            "--out",
            str(target),
        ],
        "demo": [
            "demo",
            "--entities",
            "300",
            "--inspectors",
            "30",
            "--out",
            str(target),
        ],
        "validate": ["validate", str(data), "--out", str(target)],
        "score": ["score", str(data), "--as-of", "2025-12-31", "--out", str(target)],
    }


@pytest.mark.parametrize("verb", ["plan", "synth", "demo"])
def test_out_never_replaces_a_user_folder(
    verb: str, data: Path, user_folder: Path
) -> None:
    one_error_line(cli(*_outputs(data, user_folder)[verb]), str(user_folder))
    assert (user_folder / "thesis.docx").read_bytes() == b"years of work"
    assert sorted(p.name for p in user_folder.iterdir()) == ["thesis.docx"]


@pytest.mark.parametrize("verb", ["plan", "synth", "demo", "validate", "score"])
def test_out_never_replaces_a_user_file(verb: str, data: Path, tmp_path: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("mine", "utf-8")
    one_error_line(cli(*_outputs(data, mine)[verb]), str(mine))
    assert mine.read_text("utf-8") == "mine"


def test_out_is_never_the_data_folder_its_parent_or_the_cwd(
    data: Path, tmp_path: Path
) -> None:
    before = sorted(p.name for p in data.iterdir())
    one_error_line(cli(*plan_args(data, data)), "input")
    one_error_line(cli(*plan_args(data, data.parent)), "input")
    work = tmp_path / "work"
    work.mkdir()
    one_error_line(cli(*plan_args(data, Path(".")), cwd=work), "current folder")
    assert sorted(p.name for p in data.iterdir()) == before


def test_publish_report_and_verify_refuse_unsafe_outputs(
    data: Path, planned: Path, tmp_path: Path, user_folder: Path
) -> None:
    bundle = copy_of(planned, tmp_path / "bundle")
    mine = tmp_path / "page.html"
    mine.write_text("<html>mine</html>", "utf-8")
    one_error_line(
        cli("publish", str(bundle), "--out", str(user_folder)), "did not write"
    )
    one_error_line(cli("publish", str(bundle), "--out", str(bundle)), "input")
    one_error_line(cli("report", str(bundle), "--out", str(mine)), "did not write")
    one_error_line(cli("report", str(bundle), "--out", str(user_folder)), "folder")
    assert mine.read_text("utf-8") == "<html>mine</html>"
    # creditsup's own outputs may be replaced
    pub, page = tmp_path / "pub", tmp_path / "r.html"
    for _ in range(2):
        assert (
            cli("publish", str(bundle), "--out", str(pub), "--no-excel").returncode == 0
        )
        assert cli("report", str(bundle), "--out", str(page)).returncode == 0
        assert cli(*plan_args(data, bundle)).returncode in (0, 3)
    assert cli("verify", str(bundle), "--data", str(data)).returncode == 0


# ------------------------------------------------------------------ policies
@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir(), ("folder",)),
        (
            lambda p: p.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe"),
            ("not a text file",),
        ),
        (lambda p: p.write_text("", "utf-8"), ("empty",)),
        (lambda p: p.write_text("# only a comment\n", "utf-8"), ("empty",)),
        (
            lambda p: p.write_text("[assignment]\nmin_team = 99999999999999999999\n"),
            ("64-bit",),
        ),
        (lambda p: p.write_text("[sampling\n"), ("not valid TOML",)),
    ],
    ids=["folder", "binary", "empty", "comment-only", "huge-int", "bad-toml"],
)
def test_bad_policy_files(
    make: Callable[[Path], object], words: tuple[str, ...], data: Path, tmp_path: Path
) -> None:
    pol = tmp_path / "policy.toml"
    make(pol)
    res = cli(*plan_args(data, tmp_path / "p", "--policy", str(pol)))
    one_error_line(res, *words)
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------ verify
def test_verify_with_malformed_provenance_exits_1(
    data: Path, planned: Path, tmp_path: Path
) -> None:
    bundle = copy_of(planned, tmp_path / "b")
    for text in ("{not json", "[]", json.dumps({"year": "x"})):
        (bundle / "provenance.json").write_text(text, "utf-8")
        res = cli("verify", str(bundle), "--data", str(data))
        assert res.returncode == 1, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        assert res.stderr.startswith("mismatch:") or "error" in res.stderr


# ------------------------------------------------------------------ inputs
def _edit(data: Path, tmp_path: Path, table: str, column: str, value: str) -> Path:
    d = tmp_path / "edited"
    shutil.copytree(data, d)
    df = pd.read_csv(d / f"{table}.csv", dtype=str, encoding="utf-8-sig")
    df.loc[2, column] = value
    df.to_csv(d / f"{table}.csv", index=False, encoding="utf-8-sig")
    return d


@pytest.mark.parametrize(
    ("table", "column", "value", "rule"),
    [
        ("entities", "name", "Acme\x00Ltd", "control_character"),
        ("entities", "name", "Acme\x1b[31mLtd", "control_character"),
        ("entities", "established", "1025-05-05", "implausible_date"),
        ("entities", "established", "1600-01-01", "implausible_date"),
        ("entities", "established", "9999-12-31", "implausible_date"),
        ("records", "date", "2999-01-01", "implausible_date"),
    ],
)
def test_bad_cells_are_reported_with_excel_rows(
    table: str, column: str, value: str, rule: str, data: Path, tmp_path: Path
) -> None:
    d = _edit(data, tmp_path, table, column, value)
    res = cli("validate", str(d))
    assert res.returncode == 1, res.stdout + res.stderr
    assert rule in res.stdout and "Traceback" not in res.stderr
    row = next(
        line for line in res.stdout.splitlines() if rule in line and table in line
    )
    assert " 4 " in row  # the third data row, as Excel numbers it
    one_error_line(cli(*plan_args(d, tmp_path / "p")), "validation failure")


def test_duplicate_header_and_big5_are_refused(data: Path, tmp_path: Path) -> None:
    d = tmp_path / "dup"
    shutil.copytree(data, d)
    text = (d / "entities.csv").read_text("utf-8-sig").splitlines()
    text[0] += ",status"
    text[1:] = [line + ",active" for line in text[1:]]
    (d / "entities.csv").write_text("\n".join(text) + "\n", "utf-8")
    one_error_line(cli("validate", str(d)), "'status' twice")
    b5 = tmp_path / "big5"
    shutil.copytree(data, b5)
    ents = pd.read_csv(b5 / "entities.csv", dtype=str, encoding="utf-8-sig")
    ents["name"] = "臺北市信義區飲料店股份有限公司"
    ents.to_csv(b5 / "entities.csv", index=False, encoding="big5", errors="replace")
    one_error_line(cli("validate", str(b5)), "Big5")


def test_numeric_uscc_cells_in_xlsx_are_excel_mangled(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    d = tmp_path / "x"
    write_dataset(synthetic_tables(60, 30, seed="xl", year=2026), d, fmt="xlsx")
    wb = openpyxl.load_workbook(d / "entities.xlsx")
    ws = wb.active
    col = [c.value for c in ws[1]].index("uscc") + 1
    ws.cell(row=2, column=col).value = 914403001922038216  # typed as a number
    wb.save(d / "entities.xlsx")
    res = cli("validate", str(d))
    assert res.returncode == 1 and "excel_mangled_uscc" in res.stdout
    assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ kill and recover
_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import creditsup.outputs as o
    n = {{"k": 0}}
    real = os.replace
    def replace(a, b):
        if os.path.isdir(a):  # the folder renames of a save, not its files
            n["k"] += 1
            if n["k"] == {at}:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(a, b)
    o.os.replace = replace
    from creditsup.cli import main
    sys.exit(main({argv!r}))
    """
)


@pytest.mark.parametrize("at", [1, 2, 3])
def test_killed_save_is_recovered_by_the_next_command(
    at: int, data: Path, planned: Path, tmp_path: Path
) -> None:
    bundle = copy_of(planned, tmp_path / "b")
    old = (bundle / "visits.csv").read_bytes()
    argv = ["plan", str(data), "--year", YEAR, "--seed", "other", "--out", str(bundle)]
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER.format(at=at, argv=argv)],
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL
    res = cli("verify", str(bundle), "--data", str(data))
    assert res.returncode == 0, res.stdout + res.stderr
    assert (bundle / "visits.csv").is_file()
    now = (bundle / "visits.csv").read_bytes()
    assert now == old or "other" in (bundle / "provenance.json").read_text("utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".b.")] == []


def test_two_writers_one_folder(data: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "creditsup", *plan_args(data, bundle, "--quiet")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [
        (p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs
    ]
    for code, stderr in results:
        assert "Traceback" not in stderr
        assert code in (0, 2, 3), stderr
        if code == 2:
            assert "Another creditsup run" in stderr
    assert cli("verify", str(bundle), "--data", str(data)).returncode == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".b.")] == []


# ------------------------------------------------------------------ payloads
PAYLOADS = [
    "=cmd|' /C calc'!A1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
]


def test_payload_names_are_inert_in_public_files(data: Path, tmp_path: Path) -> None:
    """CSV injection (OWASP): a formula-looking name is published as text, never as a formula."""
    openpyxl = pytest.importorskip("openpyxl")
    d = tmp_path / "payload"
    shutil.copytree(data, d)
    ents = pd.read_csv(d / "entities.csv", dtype=str, encoding="utf-8-sig")
    ents["name"] = [PAYLOADS[i % len(PAYLOADS)] for i in range(len(ents))]
    ents.to_csv(d / "entities.csv", index=False, encoding="utf-8-sig")
    assert cli("validate", str(d)).returncode == 0
    bundle, pub = tmp_path / "plan", tmp_path / "pub"
    assert cli(*plan_args(d, bundle)).returncode in (0, 3)
    assert cli("publish", str(bundle), "--out", str(pub)).returncode == 0
    for f in (pub / "entities.csv", bundle / "public" / "entities.csv"):
        names = pd.read_csv(f, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        col = next(c for c in names.columns if c.endswith("name"))
        assert len(names) and all(v.startswith("'") for v in names[col]), f
    wb = openpyxl.load_workbook(pub / "public.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert any(t.lstrip("'") in PAYLOADS for t in texts)
    assert cli("verify", str(bundle), "--data", str(d)).returncode == 0
