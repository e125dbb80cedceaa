"""JSON Schemas of what creditsup writes (issue #17): they accept its files and reject wrong types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from creditsup.datasets import synthetic_tables
from creditsup.io import write_dataset
from creditsup.plan.schemas import SCHEMA_NAMES
from creditsup.policy import policy_template

jsonschema = pytest.importorskip("jsonschema")
GOLDEN = Path(__file__).parent / "golden" / "0.1.0"


def schema(name: str) -> dict[str, object]:
    """The schema as the CLI prints it (the same text a Java platform would read)."""
    res = subprocess.run(
        [sys.executable, "-m", "creditsup", "schema", name],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
        check=True,
    )
    out: dict[str, object] = json.loads(res.stdout)
    return out


@pytest.fixture(scope="module")
def schemas() -> dict[str, object]:
    return {name: schema(name) for name in SCHEMA_NAMES}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("js")
    data, plan, pub = root / "data", root / "plan", root / "pub"
    write_dataset(synthetic_tables(400, 30, seed="js", year=2026), data)
    args = ["plan", str(data), "--year", "2026", "--seed", "1 2 3", "--out", str(plan)]
    src = ["--seed-source", "福彩3D 2026-01-05", "--seed-form", "[0-9] [0-9] [0-9]"]
    subprocess.run(
        [sys.executable, "-m", "creditsup", *args, *src, "--quiet"], timeout=300
    )
    subprocess.run(
        [sys.executable, "-m", "creditsup", "publish", str(plan), "--out", str(pub)],
        timeout=300,
        check=True,
    )
    return plan, pub


def validator(s: object) -> object:
    cls = jsonschema.Draft202012Validator
    cls.check_schema(s)
    return cls(s)


@pytest.mark.parametrize("which", ["new", "golden-0.1.0"])
def test_bundle_files_validate(
    which: str, bundle: tuple[Path, Path], schemas: dict[str, object]
) -> None:
    plan = bundle[0] if which == "new" else GOLDEN / "plan"
    prov = json.loads((plan / "provenance.json").read_text("utf-8"))
    validator(schemas["provenance"]).validate(prov)  # type: ignore[attr-defined]
    validator(schemas["policy"]).validate(prov["policy"])  # type: ignore[attr-defined]
    diag = json.loads((plan / "diagnostics.json").read_text("utf-8"))
    validator(schemas["diagnostics"]).validate(diag)  # type: ignore[attr-defined]
    led = validator(schemas["ledger"])
    for line in (plan / "ledger.jsonl").read_text("utf-8").splitlines():
        led.validate(json.loads(line))  # type: ignore[attr-defined]


def test_public_files_and_policy_template_validate(
    bundle: tuple[Path, Path], schemas: dict[str, object]
) -> None:
    doc: dict[str, list[dict[str, str]]] = {}
    for f in sorted(bundle[1].glob("*.csv")):
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df.columns = [c.rsplit(" ", 1)[-1] for c in df.columns]
        doc[f.name] = df.to_dict(orient="records")
    assert set(doc) == {"plan.csv", "entities.csv", "draw.csv"}
    validator(schemas["public"]).validate(doc)  # type: ignore[attr-defined]
    template = tomllib.loads(policy_template())
    validator(schemas["policy"]).validate(  # type: ignore[attr-defined]
        json.loads(json.dumps(template, default=str))
    )


def test_wrong_types_are_rejected(
    bundle: tuple[Path, Path], schemas: dict[str, object]
) -> None:
    prov = json.loads((bundle[0] / "provenance.json").read_text("utf-8"))
    v = validator(schemas["provenance"])
    bad_year = {**prov, "year": str(prov["year"])}
    with pytest.raises(jsonschema.ValidationError, match="integer"):
        v.validate(bad_year)  # type: ignore[attr-defined]
    with pytest.raises(jsonschema.ValidationError):
        v.validate({**prov, "seed_commitment": "not a hash"})  # type: ignore[attr-defined]
    with pytest.raises(jsonschema.ValidationError):
        validator(schemas["ledger"]).validate({"stage": "x", "seq": -1})  # type: ignore[attr-defined]
    with pytest.raises(jsonschema.ValidationError):
        validator(schemas["public"]).validate(  # type: ignore[attr-defined]
            {"draw.csv": [{"year": 2026}]}
        )


def test_unknown_schema_is_one_line_exit_2() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "creditsup", "schema", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2 and res.stderr.startswith("error:")
