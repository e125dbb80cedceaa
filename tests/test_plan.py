"""End-to-end plan: contract §3 invariants, determinism, verification, crash safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditsup.datasets import synthetic_tables
from creditsup.io import write_dataset
from creditsup.plan import (
    InspectionPlan,
    Policy,
    build_plan,
    check_invariants,
    compute_commitment,
    load_plan,
    policy_template,
    redraw_plan,
    verify_plan,
)
from creditsup.schemas import Dataset, validate_dataset

YEAR = 2026
CREATED = "2026-01-05T09:00:00+00:00"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    tables = synthetic_tables(2500, 40, seed=11, year=YEAR)
    folder = tmp_path_factory.mktemp("data")
    write_dataset(tables, folder)
    return folder, validate_dataset(tables)


@pytest.fixture(scope="module")
def bundle(
    district: tuple[Path, Dataset], tmp_path_factory: pytest.TempPathFactory
) -> tuple[InspectionPlan, Path]:
    _, ds = district
    plan = build_plan(ds, year=YEAR, seed="lottery 2026-01-03 #07", created_at=CREATED)
    path = tmp_path_factory.mktemp("plans") / "plan"
    plan.save(path)
    return plan, path


def test_bundle_files_and_invariants(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset]
) -> None:
    plan, path = bundle
    for name in (
        "visits.csv",
        "assignments.csv",
        "exclusions.csv",
        "scores.csv",
        "diagnostics.json",
        "provenance.json",
        "ledger.jsonl",
        "public/plan.csv",
        "public/entities.csv",
    ):
        assert (path / name).is_file(), name
    assert (path / "visits.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(plan.visits) > 50
    assert check_invariants(plan, district[1]) == []
    prov = json.loads((path / "provenance.json").read_text("utf-8"))
    for key in (
        "creditsup",
        "year",
        "seed",
        "seed_commitment",
        "inputs",
        "policy",
        "created_at",
        "outputs",
        "counts",
    ):
        assert key in prov
    diag = json.loads((path / "diagnostics.json").read_text("utf-8"))
    assert set(diag) == {
        "unfilled",
        "binding",
        "capacity",
        "budget",
        "floors",
        "waivers",
    }


def test_loaded_plan_round_trips(bundle: tuple[InspectionPlan, Path]) -> None:
    plan, path = bundle
    again = load_plan(path)
    assert again.to_files() == plan.to_files()


def test_same_seed_same_bytes_any_row_order(
    district: tuple[Path, Dataset], bundle: tuple[InspectionPlan, Path]
) -> None:
    plan, _ = bundle
    tables = synthetic_tables(2500, 40, seed=11, year=YEAR)
    rng = np.random.default_rng(5)
    shuffled = {k: v.iloc[rng.permutation(len(v))] for k, v in tables.items()}
    other = build_plan(
        validate_dataset(shuffled),
        year=YEAR,
        seed="lottery 2026-01-03 #07",
        created_at=CREATED,
    )
    a, b = plan.to_files(), other.to_files()
    assert a["visits.csv"] == b["visits.csv"]
    assert a["assignments.csv"] == b["assignments.csv"]
    assert a == b


def test_different_seed_different_draw(
    district: tuple[Path, Dataset], bundle: tuple[InspectionPlan, Path]
) -> None:
    plan, _ = bundle
    other = build_plan(district[1], year=YEAR, seed="another seed", created_at=CREATED)
    assert set(other.visits["uscc"]) != set(plan.visits["uscc"])


def test_commitment_is_seed_free_and_order_free(district: tuple[Path, Dataset]) -> None:
    _, ds = district
    c = compute_commitment(ds, year=YEAR)
    tables = synthetic_tables(2500, 40, seed=11, year=YEAR)
    rev = {k: v.iloc[::-1] for k, v in tables.items()}
    assert compute_commitment(validate_dataset(rev), year=YEAR) == c
    assert compute_commitment(ds, year=YEAR + 1) != c
    tweaked = Policy.model_validate({"sampling": {"caps": {"A": 1}}})
    assert compute_commitment(ds, tweaked, year=YEAR) != c


def test_verify_untouched_passes(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset]
) -> None:
    report = verify_plan(bundle[1], district[0])
    assert report.ok, report.differences


def _copy(src: Path, tmp: Path) -> Path:
    dst = tmp / "copy"
    shutil.copytree(src, dst)
    return dst


def test_verify_fails_on_edited_visits_cell(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    p = _copy(bundle[1], tmp_path)
    df = pd.read_csv(p / "visits.csv", dtype=str, encoding="utf-8-sig")
    df.loc[0, "month"] = str(int(df.loc[0, "month"]) % 12 + 1)
    df.to_csv(p / "visits.csv", index=False, encoding="utf-8-sig", lineterminator="\n")
    report = verify_plan(p, district[0])
    assert not report.ok and "visits.csv" in report.differences[0]


def test_verify_fails_on_removed_ledger_line(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    p = _copy(bundle[1], tmp_path)
    lines = (p / "ledger.jsonl").read_text("utf-8").splitlines(keepends=True)
    (p / "ledger.jsonl").write_text("".join(lines[:1] + lines[2:]), "utf-8")
    report = verify_plan(p, district[0])
    assert not report.ok and "ledger" in report.differences[0]


def test_verify_fails_on_changed_input(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(district[0], data)
    ents = pd.read_csv(data / "entities.csv", dtype=str, encoding="utf-8-sig")
    ents.loc[3, "name"] = ents.loc[3, "name"] + "（变更）"
    ents.to_csv(data / "entities.csv", index=False, encoding="utf-8-sig")
    report = verify_plan(bundle[1], data)
    assert not report.ok and "entities" in report.differences[0]


def test_verify_fails_on_different_seed(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    _, ds = district
    other = build_plan(ds, year=YEAR, seed="a different seed", created_at=CREATED)
    p = tmp_path / "other"
    other.save(p)
    # a bundle drawn with another seed, presented as the original draw
    prov = json.loads((p / "provenance.json").read_text("utf-8"))
    prov["seed"] = "lottery 2026-01-03 #07"
    (p / "provenance.json").write_text(json.dumps(prov), "utf-8")
    report = verify_plan(p, district[0])
    assert not report.ok


def test_verify_fails_on_any_byte_edit(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    src = bundle[1]
    files = sorted(q.relative_to(src).as_posix() for q in src.rglob("*") if q.is_file())
    assert len(files) >= 9
    for i, name in enumerate(files):
        p = tmp_path / f"b{i}"
        shutil.copytree(src, p)
        raw = bytearray((p / name).read_bytes())
        pos = len(raw) // 2
        raw[pos] = ord("#") if raw[pos] != ord("#") else ord("$")
        (p / name).write_bytes(bytes(raw))
        assert not verify_plan(p, district[1]).ok, name


def test_tight_capacity_reports_unfilled(tmp_path: Path) -> None:
    tables = synthetic_tables(3000, 12, seed=3, year=YEAR)
    ins = tables["inspectors"].copy()
    ins["monthly_capacity"] = "1"
    tables["inspectors"] = ins
    ds = validate_dataset(tables)
    plan = build_plan(ds, year=YEAR, seed="tight", created_at=CREATED)
    assert not plan.is_feasible
    assert plan.diagnostics["binding"], "a binding group must be named"
    b = plan.diagnostics["binding"][0]
    assert {"group", "needed", "available"} <= set(b)
    unfilled = {u["visit_id"] for u in plan.diagnostics["unfilled"]}
    assert unfilled <= set(plan.visits["visit_id"])  # nothing dropped
    assert check_invariants(plan, ds) == []
    plan.save(tmp_path / "p")
    assert verify_plan(tmp_path / "p", ds).ok


def test_redraw_is_logged_and_verifiable(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    plan, _ = bundle
    _, ds = district
    row = plan.assignments.iloc[0]
    new = redraw_plan(
        plan,
        ds,
        visit_id=row["visit_id"],
        inspector_id=row["inspector_id"],
        reason="illness",
    )
    assert len(new.ledger) == len(plan.ledger) + 1
    assert new.ledger[-1]["stage"] == "redraw"
    on_visit = new.assignments[new.assignments["visit_id"] == row["visit_id"]]
    assert row["inspector_id"] not in set(on_visit["inspector_id"])
    assert check_invariants(new, ds) == []
    new.save(tmp_path / "r")
    assert verify_plan(tmp_path / "r", ds).ok


def test_policy_template_round_trips() -> None:
    import tomllib

    assert Policy.model_validate(tomllib.loads(policy_template())) == Policy()


def test_policy_template_comments_every_key_and_table() -> None:
    """Written with tomlkit: a comment above every key and at the top of every
    table (a list of tables is commented once, on its first entry)."""
    import tomlkit

    doc = tomlkit.parse(policy_template())
    seen: set[str] = set()
    uncommented: list[str] = []

    def walk(box: object, path: str) -> None:
        doc_like = isinstance(box, tomlkit.TOMLDocument)
        body = box.body if doc_like else box.value.body  # type: ignore[attr-defined]
        last_comment = False
        for key, item in body:
            if key is None:
                last_comment = isinstance(item, tomlkit.items.Comment) or (
                    last_comment and isinstance(item, tomlkit.items.Whitespace)
                )
                continue
            name = f"{path}.{key.key}" if path else key.key
            if isinstance(item, tomlkit.items.AoT):
                first = True
                for entry in item.body:
                    if first and name not in seen:
                        walk_table(entry, name)
                    first = False
                seen.add(name)
            elif isinstance(item, tomlkit.items.Table):
                walk_table(item, name)
            elif not last_comment and name not in seen:
                uncommented.append(name)
            seen.add(name)
            last_comment = False

    def walk_table(table: tomlkit.items.Table, name: str) -> None:
        first = next((it for k, it in table.value.body if k is None), None)
        if not isinstance(first, tomlkit.items.Comment):
            uncommented.append(f"[{name}]")
        walk(table, name)

    walk(doc, "")
    assert uncommented == []
    assert len(seen) > 60


def test_public_view_has_no_internal_data(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset]
) -> None:
    _, path = bundle
    inspectors = district[1].inspectors
    for f in (path / "public").rglob("*.csv"):
        text = f.read_text("utf-8-sig")
        header = text.splitlines()[0]
        for col in ("score", "tier", "reasons", "inspector"):
            assert col not in header, (f.name, col)
        assert not any(i in text for i in inspectors["inspector_id"].head(50))


def test_killed_save_leaves_no_partial_bundle(
    bundle: tuple[InspectionPlan, Path], district: tuple[Path, Dataset], tmp_path: Path
) -> None:
    """Kill a plan run part-way through writing: no bundle or the previous one."""
    data, _ = district
    target = tmp_path / "plan"
    script = textwrap.dedent(
        f"""
        import sys, time
        import creditsup.outputs as p
        orig = p.write_atomic
        def slow(path, data):
            orig(path, data)
            print("wrote", path.name, flush=True)
            time.sleep(0.3)
        p.write_atomic = slow
        from creditsup.cli import main
        sys.exit(main(["plan", {str(data)!r}, "--year", "{YEAR}", "--seed", "s",
                       "--out", {str(target)!r}, "--quiet"]))
        """
    )
    for previous in (False, True):
        if previous:
            bundle[0].save(target)
            before = {q.name: q.read_bytes() for q in target.rglob("*") if q.is_file()}
        proc = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        seen = 0
        for line in proc.stdout:
            if line.startswith("wrote"):
                seen += 1
                if seen == 3:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
        proc.wait(timeout=60)
        assert seen == 3, "the run did not reach the write stage"
        if previous:
            after = {q.name: q.read_bytes() for q in target.rglob("*") if q.is_file()}
            assert after == before
        else:
            assert not target.exists()
        time.sleep(0.05)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(400, 1500),
    inspectors=st.integers(25, 45),
    capacity=st.sampled_from([None, "1", "2"]),
    cap_a=st.integers(1, 2),
)
def test_invariants_hold_on_generated_districts(
    seed: int, n: int, inspectors: int, capacity: str | None, cap_a: int
) -> None:
    """Every contract §3 invariant, on random districts, tight capacity included."""
    tables = synthetic_tables(n, inspectors, seed=seed, year=YEAR)
    if capacity is not None:
        tables["inspectors"] = tables["inspectors"].assign(monthly_capacity=capacity)
    ds = validate_dataset(tables)
    policy = Policy.model_validate({"sampling": {"caps": {"A": cap_a}}})
    plan = build_plan(ds, policy, year=YEAR, seed=f"s{seed}", created_at=CREATED)
    assert check_invariants(plan, ds) == []
    # nothing dropped: unfilled visits stay in visits.csv
    unfilled = {u["visit_id"] for u in plan.diagnostics["unfilled"]}
    assert unfilled <= set(plan.visits["visit_id"])
    assert (
        set(plan.visits.loc[plan.visits["status"] == "unfilled", "visit_id"])
        == unfilled
    )
    # the same inputs shuffled give the same bytes
    rng = np.random.default_rng(seed)
    shuffled = {k: v.iloc[rng.permutation(len(v))] for k, v in tables.items()}
    again = build_plan(
        validate_dataset(shuffled),
        policy,
        year=YEAR,
        seed=f"s{seed}",
        created_at=CREATED,
    )
    a, b = plan.to_files(), again.to_files()
    assert a["visits.csv"] == b["visits.csv"]
    assert a["assignments.csv"] == b["assignments.csv"]
