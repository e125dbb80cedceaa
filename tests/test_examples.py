"""Every example runs from a copy of ``examples/`` with nothing beside it.

Each script of ``examples/`` (and the code cells of each notebook) runs as a
subprocess in a temporary copy of the folder, as it would in a clean clone: no
``shared/`` data, no repository files next to it. Sizes are small; a new script
runs with no arguments unless it is listed in ``SMALL``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))

#: Small sizes for the scripts that take them (``{out}``: a fresh folder).
SMALL: dict[str, list[str]] = {
    "annual_plan.py": ["--entities", "600", "--inspectors", "60", "--out", "{out}"],
    "chicago_backtest.py": ["--seeds", "20", "--out", "{out}"],
    "score_tiers_outcomes.py": ["--entities", "3000", "--out", "{out}"],
}
#: What each script leaves in its output folder.
WRITES: dict[str, list[str]] = {
    "annual_plan.py": [
        "scores.csv",
        "plan/visits.csv",
        "plan/provenance.json",
        "public/plan.csv",
        "report.html",
    ],
    "chicago_backtest.py": ["data/entities.csv", "chicago/metrics.json"],
    "score_tiers_outcomes.py": ["scores.csv"],
}


@pytest.fixture
def clean_copy(tmp_path: Path) -> Path:
    """``examples/`` copied alone into an empty folder (no repository around it)."""
    dest = tmp_path / "clone" / "examples"
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    if env.get("PYTHONPATH"):  # a relative entry (PYTHONPATH=src) must survive cwd
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p
        )
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_example_is_covered() -> None:
    assert {"annual_plan.py", "chicago_backtest.py"} <= set(SCRIPTS)
    assert set(SMALL) <= set(SCRIPTS) and set(WRITES) <= set(SCRIPTS)
    for name in [*SCRIPTS, *NOTEBOOKS]:
        text = (EXAMPLES / name).read_text("utf-8")
        assert "shared/data" not in text and "../" not in text, name


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_script_runs_from_a_clean_copy(
    script: str, clean_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = [a.replace("{out}", str(out)) for a in SMALL.get(script, [])]
    proc = _run([script, *args], clean_copy)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for rel in WRITES.get(script, []):
        assert (out / rel).is_file(), rel
    if script == "annual_plan.py":
        assert "verify: OK" in proc.stdout
        html = (out / "report.html").read_text("utf-8")
        assert "食品安全监督管理科" in html  # the bureau's department names
    if script == "chicago_backtest.py":
        assert "imported 1,804 licences" in proc.stdout


def test_annual_plan_reports_bad_data_in_one_message(
    clean_copy: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "entities.csv").write_text("uscc,name\n123,x\n", "utf-8")
    proc = _run(
        ["annual_plan.py", "--data", str(data), "--out", str(tmp_path / "o")],
        clean_copy,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_example_notebook_runs_from_a_clean_copy(
    notebook: str, clean_copy: Path
) -> None:
    cells = json.loads((clean_copy / notebook).read_text("utf-8"))["cells"]
    code = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    script = clean_copy / f"_{Path(notebook).stem}_cells.py"
    script.write_text(code, "utf-8")
    proc = _run([script.name], clean_copy)
    assert proc.returncode == 0, proc.stderr[-3000:]


# ---------------------------------------------------------------- packaging
#: Import name -> distribution name, where they differ.
_DISTRIBUTIONS = {"chinese_calendar": "chinesecalendar"}


def _requirements() -> tuple[set[str], dict[str, set[str]]]:
    import tomllib

    project = tomllib.loads((EXAMPLES.parent / "pyproject.toml").read_text("utf-8"))
    project = project["project"]

    def names(reqs: list[str]) -> set[str]:
        return {re.split(r"[<>=\[ ;!~]", r, maxsplit=1)[0].lower() for r in reqs}

    extras = {k: names(v) for k, v in project["optional-dependencies"].items()}
    return names(project["dependencies"]), extras


def test_every_runtime_import_is_declared() -> None:
    """A third-party module imported by the package is a base dependency, or an
    optional one loaded through ``require(module, extra)`` naming an extra that
    lists it (so a missing one says ``pip install 'creditsup[extra]'``)."""
    import ast

    base, extras = _requirements()
    src = EXAMPLES.parent / "src" / "creditsup"
    imported: dict[str, set[str]] = {}
    required: dict[str, set[str]] = {}
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            mods: list[str] = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "require"
                and len(node.args) >= 2
                and all(isinstance(a, ast.Constant) for a in node.args[:2])
            ):
                module, extra = (a.value for a in node.args[:2])
                required.setdefault(str(module).split(".")[0], set()).add(str(extra))
            for m in mods:
                top = m.split(".")[0]
                if top not in sys.stdlib_module_names and top != "creditsup":
                    imported.setdefault(top, set()).add(path.name)
    assert {"scipy", "ortools", "pandas"} <= set(imported)
    for module in sorted(set(imported) | set(required)):
        files = imported.get(module, {"require()"})
        dist = _DISTRIBUTIONS.get(module, module).lower()
        if dist in base:
            continue
        owners = {e for e, names in extras.items() if dist in names and e != "dev"}
        assert owners, f"{module} (imported by {sorted(files)}) is in no extra"
        for extra in required.get(module, set()):
            assert dist in extras.get(extra, set()), f"require({module!r}, {extra!r})"
    # fit and backtest import scipy at run time: it is a base dependency now
    assert "scipy" in base and "scipy" not in extras["dev"]


def test_base_install_imports_every_core_module() -> None:
    """With every optional package hidden, the library (scoring, calibration,
    planning, verification, backtest) still imports."""
    code = (
        "import sys\n"
        "for m in ('matplotlib', 'jinja2', 'typer', 'rich', 'openpyxl', 'dask',"
        " 'chinese_calendar'):\n"
        "    sys.modules[m] = None\n"
        "import creditsup, creditsup.plan, creditsup.evaluate, creditsup._calibration\n"
        "import creditsup.publish, creditsup.report, creditsup.schemas\n"
        "print('ok')\n"
    )
    proc = _run(["-c", code], EXAMPLES.parent)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
