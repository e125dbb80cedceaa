"""The outcome of a draw: :class:`DrawResult`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from creditsup.sampling.policy import SamplingPolicy

__all__ = ["ALGORITHM", "CAP_TRIMMED", "DrawResult"]

#: Reason code of a visit removed by the cap (stage ``cap``).
CAP_TRIMMED = "cap_trimmed"
#: Name and version of the draw algorithm (recorded in the ledger).
ALGORITHM = "creditsup-prn-v1"


@dataclass(frozen=True)
class DrawResult:
    """The outcome of :func:`draw_visits`.

    Attributes
    ----------
    visits : pandas.DataFrame
        ``visit_id, uscc, tier, month, departments, items, trigger, joint``
        (``contract.md`` §3), sorted by ``visit_id``.
    exclusions : pandas.DataFrame
        ``uscc, reason_code, detail``: every entity eligible for no task, one
        row each, with the first reason of :data:`EXCLUSION_REASONS` that
        applies (``cap_reached`` when earlier visits of the year already use
        up the tier's cap). These are exactly the entities that cannot be
        planned.
    accounting : pandas.DataFrame
        Per tier: ``n_input = n_eligible + n_excluded``, counts by reason,
        ``n_drawn <= n_eligible``, visits, checks, target and realised ratios.
    tasks : pandas.DataFrame
        Per item: department, group, method, pool size at plan time, ratio,
        expected, ``r07_count`` (= sum of ceil(ratio x pool) over tiers), drawn,
        coverage additions, kept after the cap.
    strata : pandas.DataFrame
        The same per (item, tier) stratum.
    checks : pandas.DataFrame
        Long form: one row per (visit, item): ``visit_id, uscc, item_id,
        department, group, kind, source`` (``random`` or ``coverage``).
    cap_removals : pandas.DataFrame
        One row per drawn visit that the cap removed (``reason_code ==
        "cap_trimmed"``): ``uscc, tier, group, departments, items,
        reason_code, detail``. The entity keeps its other visits.
    months : pandas.DataFrame
        Per (department, month): inspector-slot capacity, demand and visits.
    inclusion : pandas.DataFrame or None
        Monte Carlo inclusion probabilities per stratum (see
        :func:`estimate_inclusion`), when requested.
    ledger : list of dict
        JSON-able draw record, one dict per step (``step`` names it).
    warnings : list of dict
        Conditions that could not all hold (``code``, ``message``, ...).
    """

    visits: pd.DataFrame
    exclusions: pd.DataFrame
    accounting: pd.DataFrame
    tasks: pd.DataFrame
    strata: pd.DataFrame
    checks: pd.DataFrame
    cap_removals: pd.DataFrame
    months: pd.DataFrame
    ledger: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    year: int
    seed: str
    policy: SamplingPolicy
    inclusion: pd.DataFrame | None = None

    def summary(self) -> str:
        """A short plain-text report: per-tier accounting, merging, warnings."""
        acc = self.accounting
        cols = [
            "tier",
            "n_input",
            "n_excluded",
            "n_eligible",
            "n_drawn",
            "n_visits",
            "target_ratio",
            "realized_ratio",
        ]
        n_checks = len(self.checks)
        n_visits = len(self.visits)
        n_joint = int(self.visits["joint"].sum()) if n_visits else 0
        lines = [
            f"Draw {self.year} ({ALGORITHM}, coordination={self.policy.coordination},"
            f" ratio_mode={self.policy.ratio_mode})",
            acc[cols].to_string(index=False, float_format=lambda x: f"{x:.4f}"),
            f"checks {n_checks}, visits {n_visits} ({n_joint} joint); "
            f"merging saved {n_checks - n_visits} visits; "
            f"cap removed {int(acc['n_visits_removed'].sum())} visits.",
        ]
        if len(self.exclusions):
            counts = self.exclusions["reason_code"].value_counts().sort_index()
            lines.append(
                "exclusions: " + ", ".join(f"{k} {v}" for k, v in counts.items())
            )
        for w in self.warnings:
            lines.append(f"WARNING [{w['code']}]: {w['message']}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
