"""Chinese first on the command line (issue #15): help, diagnosis, every line a
Chinese analyst reads, through the real entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from creditsup.i18n import ERRORS, HELP, LOGS, error_text, help_text

pytest.importorskip("typer")


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "CREDITSUP_LANG", "COLUMNS")
    }
    return subprocess.run(
        [sys.executable, "-m", "creditsup", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=600,
    )


ZH = {"LANG": "zh_CN.UTF-8"}

# ---------------------------------------------------------------- the heuristic
#: What may stay ASCII in a Chinese line: paths, options, ids, codes, numbers.
_KEEP = re.compile(
    r"""(?:[\w.~-]*/[^\s'"“”，。；：（）]*)   # a path
      | --?[a-z][\w-]*                        # an option
      | \b[A-Z][\w-]*\d[\w-]*\b               # an id such as V2026-000001
      | \b\w+_\w+\b                           # a snake_case code
      | \b[0-9a-f]{12,}\b                     # a hash
      | `[^`]*`                               # code in markdown
      | \bYYYY-MM-DD\b                        # a date format
    """,
    re.X,
)
#: Three English words in a row is a sentence left untranslated.
_ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ ,;:'()-]+[A-Za-z]{2,}){2,}\b")


def english_runs(text: str) -> list[str]:
    """The runs of 3+ English words of ``text`` outside paths, ids and codes."""
    found = []
    for line in text.splitlines():
        rest = _KEEP.sub(" ", line)
        found += [f"{m}  <<  {line.strip()}" for m in _ENGLISH.findall(rest)]
    return found


def _width(line: str) -> int:
    """Terminal columns of ``line`` (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_heuristic_catches_english_and_spares_paths() -> None:
    assert english_runs("error: the dataset folder does not exist")
    assert english_runs("错误：1 qualified inspectors of department ads left")
    assert not english_runs("计划包：/tmp/some folder/plan bundle/x")
    assert not english_runs(
        "检查V2026-000001：食品安全科没有检查人员具备专长“catering”"
    )
    assert not english_runs("核验命令：creditsup verify /tmp/p --data /tmp/d")
    assert not english_runs("按规则统计：检查对象名录库/bad_date: 1，invalid_uscc: 2")


# ------------------------------------------------------------------------- help
def test_help_speaks_the_language_of_the_run() -> None:
    zh = cli("--lang", "zh", "plan", "--help", COLUMNS="200")
    assert zh.returncode == 0, zh.stderr
    assert "生成年度抽查计划包" in zh.stdout and "随机种子" in zh.stdout
    assert "显示本帮助并退出" in zh.stdout and "选项" in zh.stdout
    assert "Build the annual plan" not in zh.stdout
    # --lang after the verb, as users type it
    after = cli("plan", "--help", "--lang", "zh", COLUMNS="200")
    assert after.stdout == zh.stdout
    locale = cli("--help", COLUMNS="200", **ZH)
    assert "信用分类“双随机、一公开”监管" in locale.stdout
    assert "生成年度抽查计划包" in locale.stdout  # the verbs' short help too
    env = cli("validate", "--help", COLUMNS="200", CREDITSUP_LANG="zh", LANG="C")
    assert "按数据规范检查每张表" in env.stdout
    en = cli("--lang", "en", "plan", "--help", COLUMNS="200", **ZH)
    assert "Build the annual plan bundle" in en.stdout
    assert "The seed: any string" in en.stdout and "随机种子" not in en.stdout
    # typer's own words too: the usage line, [required], [default: ...]
    assert "用法：creditsup plan [选项]" in zh.stdout
    assert "[必填]" in zh.stdout and "[默认：text]" in zh.stdout
    for word in ("Usage:", "[required]", "[default:", "[OPTIONS]"):
        assert word not in zh.stdout, word
    for word in ("Usage: creditsup plan [OPTIONS]", "[required]", "[default: text]"):
        assert word in en.stdout, word
    assert not english_runs(
        "\n".join(
            line
            for line in zh.stdout.splitlines()
            if "Usage:" not in line  # typer's own word
        )
    )


def test_every_help_key_is_in_the_catalogue_in_both_languages() -> None:
    from creditsup._cli._help import help_keys

    needed = help_keys()
    missing = [
        key
        for keys in needed.values()
        for key in keys
        if not help_text(key, "zh") or not help_text(key, "en")
    ]
    assert not missing, f"add these keys to creditsup.i18n.HELP: {missing}"
    used = {k for keys in needed.values() for k in keys}
    shared = {"*." + k.rsplit(".", 1)[1] for k in used if "." in k}
    unused = set(HELP) - used - shared
    assert not unused, f"HELP keys no command uses: {sorted(unused)}"
    for zh, en in HELP.values():
        assert re.search(r"[\u4e00-\u9fff]", zh) and en


def test_docs_cli_reference_in_both_languages() -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "docs" / "_tools" / "hooks.py"
    spec = importlib.util.spec_from_file_location("docs_hooks_lang", path)
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    en, zh = hooks.cli_reference("en"), hooks.cli_reference_zh()
    assert "Show this message and exit." in en and "显示本帮助并退出" not in en
    assert "显示本帮助并退出" in zh and "## `creditsup plan`" in zh


# ------------------------------------------------------------------ the verbs
@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A district with too few inspectors, planned under a Chinese locale."""
    root = tmp_path_factory.mktemp("zh")
    data, plan = root / "d", root / "p"
    runs = {
        "synth": cli(
            "synth", "--out", str(data), "--entities", "600", "--inspectors", "6",
            "--seed", "zh", **ZH,
        ),
        "plan": cli(
            "plan", str(data), "--year", "2026", "--seed", "s", "--out", str(plan),
            COLUMNS="80", **ZH,
        ),
    }  # fmt: skip
    return {"root": root, "data": data, "plan": plan, "runs": runs}


def test_infeasible_plan_speaks_chinese_once_per_visit(
    short_run: dict[str, object],
) -> None:
    run = short_run["runs"]["plan"]  # type: ignore[index]
    plan = short_run["plan"]
    assert isinstance(run, subprocess.CompletedProcess) and isinstance(plan, Path)
    assert run.returncode == 3, run.stderr
    err = run.stderr
    assert "无法完成：" in err and "户次检查无法派员" in err and "详见" in err
    assert "指标" in run.stdout and "未能派员的检查" in run.stdout
    assert "计划包：" in run.stdout
    diag = json.loads((plan / "diagnostics.json").read_text("utf-8"))
    shown = [line.strip() for line in err.splitlines() if line.startswith("    检查")]
    assert shown, err
    ids = [re.match(r"检查(\S+?)：", s).group(1) for s in shown]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids)) == min(10, len(diag["unfilled"]))
    for vid in ids:  # each visit named once in the whole message
        assert err.count(vid) == 1, vid
    # not hard-wrapped at 80 columns when stderr is not a terminal
    assert max(_width(line) for line in err.splitlines()) > 80
    assert all(line.startswith(("  ", "无法完成", "警告")) for line in err.splitlines())
    assert not english_runs(run.stdout + run.stderr)
    # departments by name (synthetic items carry names), never by code
    items = (Path(str(short_run["data"])) / "items.csv").read_text("utf-8-sig")
    names = set(re.findall(r"市场监督管理局（[^）]+）|[\u4e00-\u9fff]+局", items))
    assert any(name in err for name in names)
    assert not re.search(r"[a-z]+部门", err)
    # diagnostics.json holds both languages and stable fields for programs
    for u in diag["unfilled"]:
        assert set(u) == {"visit_id", "reason", "reason_zh"} and u["reason"]
    assert any(u["reason_zh"] in err for u in diag["unfilled"])  # as the CLI says it
    for b in diag["binding"]:
        assert {"group", "group_zh", "needed", "available", "department"} <= set(b)
        assert set(b) <= {"group", "group_zh", "needed", "available", "department",
                          "month", "visit_id"}  # fmt: skip
    # the same bundle bytes whatever the language
    en_plan = plan.parent / "p_en"
    en = cli(
        "plan", str(short_run["data"]), "--year", "2026", "--seed", "s",
        "--out", str(en_plan), "--lang", "en", **ZH,
    )  # fmt: skip
    assert en.returncode == 3
    assert "infeasible: " in en.stderr and "unfilled visits (" in en.stderr
    for name in ("diagnostics.json", "visits.csv", "assignments.csv"):
        assert (plan / name).read_bytes() == (en_plan / name).read_bytes(), name


def test_zh_run_of_every_main_verb_prints_no_english_sentence(
    short_run: dict[str, object],
) -> None:
    root, data, plan = short_run["root"], short_run["data"], short_run["plan"]
    assert isinstance(root, Path)
    runs = dict(short_run["runs"])  # type: ignore[call-overload]
    bad = root / "bad"
    bad.mkdir()
    for f in Path(str(data)).iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    ent = (bad / "entities.csv").read_text("utf-8-sig").splitlines()
    cells = ent[2].split(",")
    cells[0] = "123"
    ent[2] = ",".join(cells)
    (bad / "entities.csv").write_text("\n".join(ent) + "\n", encoding="utf-8-sig")
    runs |= {
        "validate": cli("validate", str(data), **ZH),
        "validate-bad": cli("validate", str(bad), COLUMNS="200", **ZH),
        "score": cli(
            "score", str(data), "--as-of", "2026-01-01",
            "--out", str(root / "s.csv"), **ZH,
        ),
        "commit": cli("commit", str(data), "--year", "2026", **ZH),
        "verify": cli("verify", str(plan), "--data", str(data), **ZH),
        "publish": cli("publish", str(plan), "--out", str(root / "pub"), **ZH),
        "report": cli("report", str(plan), "--out", str(root / "r.html"), **ZH),
        "missing": cli("validate", str(root / "nope"), **ZH),
        "refused": cli("synth", "--out", str(root), **ZH),
        "bad-value": cli("plan", str(data), "--year", "3000", "--seed", "s",
                         "--out", str(root / "x"), **ZH),
        "bad-date": cli("score", str(data), "--as-of", "01/02/2026",
                        "--out", str(root / "t.csv"), **ZH),
    }  # fmt: skip
    codes = {k: r.returncode for k, r in runs.items()}
    assert codes == {
        "synth": 0,
        "plan": 3,
        "validate": 0,
        "validate-bad": 1,
        "score": 0,
        "commit": 0,
        "verify": 0,
        "publish": 0,
        "report": 0,
        "missing": 2,
        "refused": 2,
        "bad-value": 2,
        "bad-date": 2,
    }, {k: r.stderr for k, r in runs.items()}
    english = {
        k: english_runs(r.stdout + r.stderr)
        for k, r in runs.items()
        if english_runs(r.stdout + r.stderr)
    }
    assert not english, english
    assert runs["verify"].stdout.startswith("验证通过：抽取记录哈希链")
    assert "不是有效的统一社会信用代码" in runs["validate-bad"].stdout
    assert runs["missing"].stderr.startswith("错误：数据集文件夹")
    assert "--year 的取值无效（不能大于 2200）" in runs["bad-value"].stderr
    # a tampered bundle: the difference in Chinese
    import shutil

    tampered = root / "tampered"
    shutil.copytree(Path(str(plan)), tampered)
    visits = tampered / "visits.csv"
    visits.write_bytes(visits.read_bytes().replace(b"V2026-", b"X2026-", 1))
    bad_verify = cli("verify", str(tampered), "--data", str(data), **ZH)
    assert bad_verify.returncode == 1
    assert bad_verify.stderr.startswith("不一致：visits.csv 的 SHA-256 哈希值")
    # the same verbs in English stay English
    en = cli("validate", str(root / "nope"), "--lang", "en", **ZH)
    assert en.stderr.startswith("error: The dataset folder")


def test_error_catalogue_patterns_compile_and_keep_their_fields() -> None:
    for pattern, zh in ERRORS:
        names = set(re.compile(pattern).groupindex)
        fields = set(re.findall(r"\{(\w+)\}", zh))
        assert fields <= names, (pattern, zh)
    assert (
        error_text("The file 'a.csv' does not exist.", "zh") == "文件 'a.csv' 不存在。"
    )
    assert error_text("The file 'a.csv' does not exist.", "en").startswith("The file")
    for template, zh in LOGS.items():
        assert template.count("%") == zh.count("%"), template
