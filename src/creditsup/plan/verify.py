"""Third-party verification: re-derive a saved plan and compare every byte.

:func:`verify_plan` checks, in order: the ledger's hash chain; the SHA-256 of
every bundle file against ``provenance.json``; the input tables against the
recorded hashes; the law the plan must obey (R11: teams of at least two);
then a full recomputation from the inputs, the recorded policy, seed and
timestamp (replaying logged re-draws), compared byte for byte.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from creditsup.config import parse_config
from creditsup.exceptions import CreditsupError, VerificationError
from creditsup.plan._ledger import ALGORITHM_VERSION, SeedSource, check_chain, sha256
from creditsup.plan.build import build_plan, redraw_plan
from creditsup.plan.bundle import InspectionPlan, load_plan
from creditsup.policy import Policy
from creditsup.schemas import Dataset, load_dataset

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "Replay",
    "VerifyReport",
    "register_replay",
    "require_verified",
    "verify_plan",
]


#: The draw algorithms this version of creditsup can replay. A bundle made by
#: another one is checked for integrity (ledger chain, file and input hashes)
#: and then refused, naming the release that can replay it.
SUPPORTED_ALGORITHMS: frozenset[str] = frozenset({ALGORITHM_VERSION})


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_plan`.

    ``refused`` is set when the bundle is intact but was drawn by an algorithm
    this version cannot replay; ``differences[0]`` then says which release can.
    """

    ok: bool
    differences: list[str]
    checked: list[str]
    refused: bool = False

    def summary(self) -> str:
        """One line per check or difference."""
        if self.ok:
            return f"OK: {len(self.checked)} checks passed"
        return "MISMATCH: " + self.differences[0]


#: Replays a ledger step recorded after the plan: ``(rebuilt plan so far, dataset,
#: ledger record, saved plan) -> rebuilt plan``.
Replay = Callable[
    [InspectionPlan, Dataset, Mapping[str, Any], InspectionPlan], InspectionPlan
]
_REPLAYS: dict[str, Replay] = {}
#: The packages whose steps append to the ledger after the plan; they are
#: imported (and so register their replays) only when a bundle holds such a
#: step. This is the one place where ``plan`` names a later step.
_REPLAY_PACKAGES = ("creditsup.year",)


def register_replay(stage: str, replay: Replay) -> None:
    """Let :func:`verify_plan` replay the ledger steps of ``stage`` (in order)."""
    _REPLAYS[stage] = replay


def _replay_for(stage: str, line: int) -> Replay:
    if stage not in _REPLAYS:
        for name in _REPLAY_PACKAGES:
            importlib.import_module(name)
    if stage not in _REPLAYS:
        raise VerificationError(
            f"ledger line {line}: the step {stage!r} cannot be replayed by this "
            "version of creditsup"
        )
    return _REPLAYS[stage]


class _Stop(Exception):
    """Raised to stop at the first difference."""


Check = Callable[[InspectionPlan, Path, Dataset | None], list[str]]


def _chain_check(saved: InspectionPlan, root: Path, _: Dataset | None) -> list[str]:
    problem = check_chain(saved.ledger)
    if problem:
        return [problem]
    head = saved.provenance.get("ledger_head")
    if saved.ledger and head != saved.ledger[-1].get("hash"):
        return ["provenance.json: ledger_head is not the hash of the last ledger line"]
    return []


def _file_check(saved: InspectionPlan, root: Path, _: Dataset | None) -> list[str]:
    outputs = saved.provenance.get("outputs", {})
    if not isinstance(outputs, dict):
        return ["provenance.json: 'outputs' must be a JSON object"]
    on_disk = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != "provenance.json"
    }
    diffs = []
    for name in sorted(set(outputs) | on_disk):
        if name not in outputs:
            diffs.append(f"{name}: file not listed in provenance.json")
        elif name not in on_disk:
            diffs.append(f"{name}: listed in provenance.json but missing")
        elif sha256((root / name).read_bytes()) != outputs[name]:
            diffs.append(f"{name}: SHA-256 does not match provenance.json")
    return diffs


def _input_check(saved: InspectionPlan, root: Path, ds: Dataset | None) -> list[str]:
    assert ds is not None
    recorded = saved.provenance.get("inputs", {})
    return [
        f"input table '{table}' differs from the one the plan was drawn from"
        for table, digest in ds.table_hashes().items()
        if recorded.get(table) != digest
    ]


def _law_check(saved: InspectionPlan, root: Path, _: Dataset | None) -> list[str]:
    """R11: every staffed visit has at least two inspectors, whatever the policy."""
    unfilled = [str(u.get("visit_id")) for u in saved.diagnostics.get("unfilled", [])]
    ids = saved.visits["visit_id"].astype(str)
    sizes = saved.assignments.get("visit_id", pd.Series(dtype=str)).value_counts()
    n = ids.map(sizes).fillna(0).astype(int)
    status = saved.visits.get("status", pd.Series("", index=ids.index)).astype(str)
    bad = (n < 2) & ~ids.isin(unfilled) & status.ne("cancelled")
    return [
        f"visit {vid}: {k} inspector(s); the law requires at least two (R11)"
        for vid, k in zip(ids[bad].head(20), n[bad].head(20), strict=True)
    ]


def _months_check(saved: InspectionPlan, root: Path, _: Dataset | None) -> list[str]:
    """Quiet months (R16): every visit lies in a month the policy allows."""
    allowed = saved.provenance.get("policy", {}).get("sampling", {}).get("months")
    if not allowed or not len(saved.visits):
        return []
    months = pd.to_numeric(saved.visits["month"], errors="coerce")
    bad = saved.visits[~months.isin([int(m) for m in allowed])]
    return [
        f"visit {v}: month {m} is outside the months the policy allows {allowed} (R16)"
        for v, m in zip(bad["visit_id"].head(20), bad["month"].head(20), strict=True)
    ]


def _seed_check(saved: InspectionPlan, root: Path, _: Dataset | None) -> list[str]:
    """The seed has the form the declared seed source gave, if it gave one."""
    source = SeedSource.from_json(saved.provenance.get("seed_source"))
    if source is None:
        return []
    problem = source.check(str(saved.provenance.get("seed", "")))
    return [f"provenance.json: {problem}"] if problem else []


def _refusal(saved: InspectionPlan) -> str | None:
    algorithm = str(saved.provenance.get("algorithm", ""))
    if algorithm in SUPPORTED_ALGORITHMS:
        return None
    made_by = str(saved.provenance.get("creditsup", "unknown"))
    return (
        f"made by creditsup {made_by} ({algorithm}); this is creditsup "
        f"{_version()}, which replays {', '.join(sorted(SUPPORTED_ALGORITHMS))}. "
        f"Install creditsup=={made_by} to verify (docs/verifying-old-plans.md)."
    )


def _version() -> str:
    from creditsup import __version__

    return __version__


def _rebuild(saved: InspectionPlan, dataset: Dataset) -> dict[str, bytes]:
    policy = parse_config(Policy, saved.provenance["policy"])
    first = saved.ledger[0] if saved.ledger else {}
    rebuilt = build_plan(
        dataset,
        policy,
        year=int(saved.provenance["year"]),
        seed=str(saved.provenance["seed"]),
        operator=str(first.get("operator", saved.provenance.get("operator", ""))),
        created_at=str(first.get("created_at", saved.provenance.get("created_at"))),
        seed_source=SeedSource.from_json(saved.provenance.get("seed_source")),
    )
    redraws = iter(saved.redraws.to_dict(orient="records"))
    base = len(rebuilt.ledger)
    for line, record in enumerate(saved.ledger[base:], base + 1):
        stage = str(record.get("stage", ""))
        if stage != "redraw":
            rebuilt = _replay_for(stage, line)(rebuilt, dataset, record, saved)
            continue
        rd = next(redraws, None)
        if rd is None:
            raise VerificationError(f"ledger line {line}: re-draw not in redraws.csv")
        rebuilt = redraw_plan(
            rebuilt,
            dataset,
            visit_id=str(rd["visit_id"]),
            inspector_id=str(rd["old_inspector_id"]),
            reason=str(rd["reason"]),
        )
    return rebuilt.to_files()


def _replay_check(saved: InspectionPlan, root: Path, ds: Dataset | None) -> list[str]:
    assert ds is not None
    try:
        expected = _rebuild(saved, ds)
    except CreditsupError as exc:
        return [f"provenance.json: the recorded plan cannot be replayed: {exc}"]
    order = ["visits.csv", "assignments.csv", "ledger.jsonl"]
    diffs = []
    for name in order + sorted(n for n in expected if n not in order):
        path = root / name
        actual = path.read_bytes() if path.is_file() else None
        if actual != expected[name]:
            detail = _first_line_diff(actual, expected[name])
            diffs.append(f"{name}: differs from the recomputed plan ({detail})")
    return diffs


_CHECKS: tuple[tuple[str, Check], ...] = (
    ("ledger hash chain", _chain_check),
    ("output file hashes", _file_check),
    ("input table hashes", _input_check),
    ("teams of at least two (R11)", _law_check),
    ("quiet months (R16)", _months_check),
    ("seed has the declared form", _seed_check),
    ("byte-identical recomputation", _replay_check),
)


def verify_plan(
    plan_dir: str | Path, data: str | Path | Dataset, *, stop_at_first: bool = True
) -> VerifyReport:
    """Re-derive a saved plan from its inputs and seed; check every byte and hash.

    Returns
    -------
    VerifyReport
        ``ok`` is False and ``differences[0]`` names the first difference.
    """
    if not isinstance(data, str | Path | Dataset):
        raise TypeError(
            "The 'data' must be the dataset folder or a creditsup Dataset. Got "
            f"{type(data).__name__} instead."
        )
    root = Path(plan_dir)
    try:
        saved = load_plan(root)
    except CreditsupError as exc:
        return VerifyReport(False, [str(exc)], [])
    except (ValueError, KeyError) as exc:
        return VerifyReport(False, [f"the bundle cannot be parsed: {exc}"], [])
    diffs: list[str] = []
    checked: list[str] = []
    dataset: Dataset | None = None
    for name, check in _CHECKS:
        if name == "byte-identical recomputation" and not diffs:
            refusal = _refusal(saved)
            if refusal is not None:
                return VerifyReport(False, [refusal], checked, refused=True)
        if name == "input table hashes":
            dataset = data if isinstance(data, Dataset) else load_dataset(data)
        try:
            found = check(saved, root, dataset)
        except (KeyError, ValueError, TypeError) as exc:
            found = [f"provenance.json: {name} cannot be checked: {exc!r}"]
        diffs += found
        if found and stop_at_first:
            return VerifyReport(False, diffs, checked)
        checked.append(name)
    return VerifyReport(not diffs, diffs, checked)


def _first_line_diff(actual: bytes | None, expected: bytes) -> str:
    if actual is None:
        return "missing"
    a = actual.decode("utf-8", "replace").splitlines()
    e = expected.decode("utf-8", "replace").splitlines()
    for i, (x, y) in enumerate(zip(a, e, strict=False)):
        if x != y:
            return f"line {i + 1}: {x[:80]!r} != expected {y[:80]!r}"
    return f"{len(a)} lines, expected {len(e)}"


def require_verified(report: VerifyReport) -> None:
    """Raise :class:`VerificationError` naming the first difference."""
    if not report.ok:
        raise VerificationError(report.differences[0])
