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
ALGORITHM = "creditsup-prn-v2"


@dataclass(frozen=True)
class DrawResult:
    """The outcome of :func:`draw_visits`.

    Attributes
    ----------
    visits : pandas.DataFrame
        ``visit_id, uscc, tier, month, departments, items, trigger, joint``
        (``contract.md`` §3), sorted by ``visit_id``, and ``id_kind``
        (``uscc``, or ``regno`` for a legacy 15-digit registration number).
        By default one visit per entity and year (R14).
    exclusions : pandas.DataFrame
        ``uscc, reason_code, detail, id_kind``: every entity eligible for no task, one
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
        department, group, kind, source, task`` (source ``random``,
        ``targeted`` with the targeted draw's name in ``task``, or
        ``coverage``).
    cap_removals : pandas.DataFrame
        One row per drawn visit that the cap removed (``reason_code ==
        "cap_trimmed"``): ``uscc, tier, group, departments, items,
        reason_code, detail``. The entity keeps its other visits.
    months : pandas.DataFrame
        Per (department, month): inspector-slot capacity, demand and visits.
    capacity_needs : pandas.DataFrame
        The capacity check, per department and allowed month: ``needed``
        inspector-slots against ``available`` ones, ``shortfall`` (0 when the
        roster suffices), ``visits`` and ``extra_inspectors`` (how many more
        inspectors of the department's median capacity would cover the
        shortfall). A shortfall is what the plan stage exits 3 on.
    floors : pandas.DataFrame
        One row per legal floor (R08, R23): ``floor, required, planned,
        realized, base, status, detail``; status ``ok``, ``waived`` (with the
        policy's reason) or ``unchecked``.
    waivers : list of dict
        The floors the policy waives: ``floor, required, planned, reason``
        (also in the ledger's ``floors`` step); the plan stage prints them.
    budget : dict
        How the draw meets the roster: ``budget`` (the policy's mode),
        ``scale`` (the factor applied to the discretionary ratios, 1: none),
        ``fit_scale`` (the factor that would fit a shortfall, or ``None``),
        ``floor_scale``, ``shortfall_slots``, ``shortfall_at_floors``.
    assumed_tiers : pandas.DataFrame
        Entities that got the policy's ``new_entity_tier``: ``uscc, tier,
        reason_code`` (``new_entity``: established after the scoring date;
        ``untiered``: absent from the tiers frame)``, detail, eligible,
        id_kind``.
    targeted : pandas.DataFrame
        Per targeted draw (C2, R09): ``task, ratio, items, n_matched``
        (eligible entities that pass the filter), ``n_raised``, ``n_checks``,
        ``n_entities_drawn``, ``n_matched_visited``.
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
    capacity_needs: pd.DataFrame
    floors: pd.DataFrame
    waivers: list[dict[str, Any]]
    budget: dict[str, Any]
    assumed_tiers: pd.DataFrame
    targeted: pd.DataFrame
    ledger: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    year: int
    seed: str
    policy: SamplingPolicy
    inclusion: pd.DataFrame | None = None

    def summary(self) -> str:
        """A short plain-text report: per-tier accounting, floors, one door,
        capacity, waivers and warnings."""
        acc = self.accounting
        cols = [
            "tier",
            "n_input",
            "n_excluded",
            "n_eligible",
            "n_drawn",
            "n_visits",
            "tier_ratio",
            "entity_target",
            "drawn_share",
        ]
        n_checks = len(self.checks)
        n_visits = len(self.visits)
        n_joint = int(self.visits["joint"].sum()) if n_visits else 0
        n_multi = int(acc["n_multi_visit"].sum())
        n_ent = int(acc["n_drawn"].sum())
        short = int(self.capacity_needs["shortfall"].sum())
        lines = [
            f"Draw {self.year} ({ALGORITHM}, coordination={self.policy.coordination},"
            f" merge={self.policy.merge}, ratio_mode={self.policy.ratio_mode},"
            f" budget={self.policy.budget})",
            acc[cols].to_string(index=False, float_format=lambda x: f"{x:.4f}"),
            f"checks {n_checks}, visits {n_visits} ({n_joint} joint); "
            f"merging saved {n_checks - n_visits} visits; "
            f"{n_multi} of {n_ent} visited entities have more than one visit; "
            f"cap removed {int(acc['n_visits_removed'].sum())} visits.",
            "floors: "
            + "; ".join(
                f"{r.floor} {r.realized:.2%} (required {r.required:.0%}, {r.status})"
                for r in self.floors.itertuples(index=False)
            ),
            f"capacity: {int(self.capacity_needs['needed'].sum())} inspector-slots "
            f"needed, {int(self.capacity_needs['available'].sum())} available, "
            f"shortfall {short}; scale {self.budget.get('scale', 1.0):.4f}.",
        ]
        for w in self.waivers:
            lines.append(f"WAIVED floor {w['floor']}: {w['reason']}")
        if len(self.assumed_tiers):
            counts = self.assumed_tiers["reason_code"].value_counts().sort_index()
            lines.append(
                f"tier {self.policy.new_entity_tier} assumed: "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
            )
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
