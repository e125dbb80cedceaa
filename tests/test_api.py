"""The public API: every name in __all__ resolves; hygiene of the package."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

import creditsup


def test_every_public_name_resolves() -> None:
    for name in creditsup.__all__:
        assert getattr(creditsup, name) is not None, name


def test_library_logs_through_a_null_handler() -> None:
    handlers = logging.getLogger("creditsup").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_no_print_in_library_code() -> None:
    src = Path(creditsup.__file__).parent
    offenders = [
        p.name
        for p in src.rglob("*.py")
        if p.name != "cli.py" and p.parent.name != "_cli" and "print(" in _code_lines(p)
    ]
    assert offenders == []


def _code_lines(path: Path) -> str:
    # drop docstring/doctest lines (">>> print(...)" is fine in examples)
    return "\n".join(
        line
        for line in path.read_text("utf-8").splitlines()
        if not line.lstrip().startswith((">>>", "...", "#"))
    )


def test_import_is_light() -> None:
    code = "import sys, creditsup; print('ortools' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def _imported(*args: str) -> set[str]:
    """The top-level packages ``python -m creditsup *args`` imports."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "creditsup", *args],
        capture_output=True,
        text=True,
    )
    lines = [x for x in res.stderr.splitlines() if x.startswith("import time:")]
    assert lines, res.stderr
    return {x.rsplit("|", 1)[1].strip().split(".")[0] for x in lines}


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["plan", "--bogus"]])
def test_help_and_usage_errors_import_no_data_stack(args: list[str]) -> None:
    """``--help`` and a usage error answer at once: no pandas, numpy, solver or plots."""
    heavy = {"pandas", "numpy", "pyarrow", "ortools", "scipy", "matplotlib"}
    assert not _imported(*args) & heavy


def test_a_verb_that_solves_nothing_does_not_import_the_solver(tmp_path: Path) -> None:
    """ortools is imported when a team is drawn, not by every verb."""
    from _tiny import tiny_tables
    from creditsup.io import write_dataset

    write_dataset(tiny_tables(), tmp_path / "d")
    args = ["score", str(tmp_path / "d"), "--as-of", "2026-01-01"]
    assert "ortools" not in _imported(*args, "--out", str(tmp_path / "s.csv"))
    assert (tmp_path / "s.csv").is_file()


def test_py_typed_marker_ships() -> None:
    assert (Path(creditsup.__file__).parent / "py.typed").is_file()
