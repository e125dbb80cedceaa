"""cProfile of the assignment stage of one ``creditsup plan`` (CPU-time timer).

The profiler runs from the plan's ``assignment`` progress step to the next
one; the figures of the assignment (CPU, arcs, cross-region share, the flow's
and the chain's ledger records) come first, as JSON, then the profile sorted
by cumulative time. Heavy sizes: run it under the memory lock.

Run::

    PYTHONPATH=src python benchmarks/profile_assignment.py DATA_DIR OUT.txt [POLICY.toml]
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stages import CREATED_AT, _assignment_facts


def main() -> int:
    from creditsup.plan import build_plan
    from creditsup.policy import load_policy
    from creditsup.schemas import load_dataset

    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    policy = load_policy(sys.argv[3]) if len(sys.argv) > 3 else None
    t0 = time.perf_counter()
    ds = load_dataset(data)
    prof = cProfile.Profile(time.process_time)
    clock: dict[str, float] = {}

    def progress(name: str) -> None:
        if name == "assignment":
            clock["c"], clock["w"] = time.process_time(), time.perf_counter()
            prof.enable()
        elif "c" in clock and "cpu" not in clock:
            prof.disable()
            clock["cpu"] = time.process_time() - clock["c"]
            clock["wall"] = time.perf_counter() - clock["w"]

    plan = build_plan(
        ds, policy, year=2026, seed="bench", progress=progress, created_at=CREATED_AT
    )
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(45)
    facts: dict[str, Any] = {
        "assign_cpu_s": clock.get("cpu"),
        "assign_wall_s": clock.get("wall"),
        "end_to_end_s": time.perf_counter() - t0,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "unfilled": len(plan.diagnostics["unfilled"]),
        "visits": len(plan.visits),
        "assignments": len(plan.assignments),
        **_assignment_facts(plan, ds),
    }
    for r in plan.ledger:
        if r.get("stage") == "assignment" and r.get("step") in (
            "candidates",
            "flow",
            "metropolis",
        ):
            facts[r["step"]] = {
                k: v for k, v in r.items() if k not in ("hash", "prev_hash", "seq")
            }
    out.write_text(json.dumps(facts, indent=1, default=str) + "\n\n" + text.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
