"""The measuring child of ``benchmarks/run.py``: one plan, timed stage by stage.

Run in a fresh interpreter for each measurement, so that its peak RSS is the
plan's own (``ru_maxrss`` is a high-water mark of the whole process). It uses
only the public API that every release since 0.2.0 has (``load_dataset``,
``build_plan(progress=...)``, ``InspectionPlan.save``),
so the same file measures an older source tree (``run.py --before``) too.

Stages, in the order ``creditsup plan`` runs them:

``load``        the CSV files read, checked and typed (:func:`creditsup.schemas.load_dataset`,
                what ``creditsup plan`` calls)
``hashing``     table hashes and the commitment (``build_plan`` up to ``tiers``)
``scoring``     scores, tiers and the scores hash (``tiers`` stage)
``draw``        the coordinated draw (``draw`` stage)
``assignment``  inspectors (``assignment`` stage)
``ledger``      output hashes, hash chain, provenance (``ledger`` stage)
``bundle``      the bundle's bytes and the atomic write (``InspectionPlan.save``)

It also records the candidate arcs of the first flow round (from the
ledger) and the share of cross-region slots (from the tables, so that any
version reports it).

Usage (internal; ``POLICY`` is an optional policy TOML file, e.g. to compare
values of ``same_region_candidates``)::

    python benchmarks/_stages.py DATA_DIR OUT_JSON [POLICY]
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: The stages of a ``nation`` run (``_nation.py``), here because ``run.py``
#: must not import creditsup.
NATION_STAGES = (
    "generate",
    "read",
    "eligible pools",
    "merge/allocate",
    "select",
    "merge/visits",
)
STAGES = (
    "load",
    "hashing",
    "scoring",
    "draw",
    "assignment",
    "ledger",
    "bundle",
)
#: Fixed, so that the whole bundle is reproducible and before/after can be compared.
CREATED_AT = "2026-01-01T00:00:00+00:00"
_PROGRESS = {"tiers": "scoring", "draw": "draw", "assignment": "assignment"}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Clock:
    """Wall time, CPU time (all threads) and the RSS high-water mark per stage."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}
        self._name: str | None = None
        self._t = self._c = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self._name = name
        self._t, self._c = time.perf_counter(), time.process_time()

    def stop(self) -> None:
        if self._name is None:
            return
        self.rows[self._name] = {
            "wall_s": time.perf_counter() - self._t,
            "cpu_s": time.process_time() - self._c,
            "peak_rss_mib": _peak_mib(),
        }
        self._name = None


def _bundle_digest(folder: Path) -> str:
    """One SHA-256 over every file of the bundle (names and bytes, sorted)."""
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _assignment_facts(plan: Any, ds: Any) -> dict[str, Any]:
    """Candidate arcs (first round) and the share of cross-region slots."""
    arcs = [
        r.get("n_arcs")
        for r in plan.ledger
        if r.get("stage") == "assignment" and r.get("step") == "candidates"
    ]
    region = ds.entities.set_index("uscc")["region"].astype(str)
    v = plan.visits.set_index("visit_id")["uscc"].map(region)
    a = plan.assignments
    i_reg = a["inspector_id"].map(
        ds.inspectors.set_index("inspector_id")["region"].astype(str)
    )
    cross = i_reg.to_numpy() != a["visit_id"].map(v).to_numpy()
    return {
        "algorithm": (getattr(plan, "provenance", None) or {}).get("algorithm"),
        "candidate_arcs": arcs[0] if arcs else None,
        "cross_region_share": round(float(cross.mean()), 6) if len(a) else 0.0,
    }


def measure(
    data: Path, *, year: int = 2026, seed: str = "bench", policy: Path | None = None
) -> dict[str, Any]:
    """Run the plan on ``data`` and return the figures of each stage."""
    from creditsup.plan import build_plan
    from creditsup.schemas import load_dataset

    pol = None
    if policy is not None:
        from creditsup.policy import load_policy

        pol = load_policy(policy)

    clock = _Clock()
    rss0 = _peak_mib()
    t0 = time.perf_counter()
    clock.start("load")
    ds = load_dataset(data)
    clock.start("hashing")

    def progress(name: str) -> None:
        clock.start(_PROGRESS.get(name, name))

    plan = build_plan(
        ds, pol, year=year, seed=seed, progress=progress, created_at=CREATED_AT
    )
    with tempfile.TemporaryDirectory() as tmp:
        clock.start("bundle")
        plan.save(Path(tmp) / "plan")
        clock.stop()
        end = time.perf_counter()
        digest = _bundle_digest(Path(tmp) / "plan")
    return {
        "stages": clock.rows,
        "end_to_end_s": end - t0,
        "peak_rss_mib": _peak_mib(),
        "import_rss_mib": rss0,
        "entities": len(ds.entities),
        "inspectors": len(ds.inspectors),
        "visits": len(plan.visits),
        "assignments": len(plan.assignments),
        "unfilled": len(plan.diagnostics["unfilled"]),
        "bundle_sha256": digest,
        **_assignment_facts(plan, ds),
    }


def main() -> int:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    policy = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    out.write_text(json.dumps(measure(data, policy=policy), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
