"""Stage 0, policy: the assignment's rules and preferences, and its result type.

:class:`AssignmentPolicy` declares every bound on the field itself
(``Field(ge=..., le=...)``); the one cross-field rule (``max_team >=
min_team``) is a ``model_validator``. Solver effort knobs are bounded so
that no policy can make a run take hours.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field, model_validator

from creditsup.config import FrozenModel
from creditsup.schemas import ASSIGNMENT_COLUMNS

__all__ = [
    "REDRAW_COLUMNS",
    "VIOLATION_COLUMNS",
    "AssignmentPolicy",
    "AssignmentResult",
    "empty_redraws",
]

#: Columns of :func:`~creditsup.assignment.audit_assignment`'s result.
VIOLATION_COLUMNS = ("visit_id", "inspector_id", "rule", "detail")
#: Columns of :attr:`AssignmentResult.redraws`.
REDRAW_COLUMNS = (
    "visit_id",
    "old_inspector_id",
    "new_inspector_id",
    "reason",
    "department",
    "n_candidates",
    "outcome",
)

Month = Annotated[int, Field(ge=1, le=12)]


def _sorted_months(months: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(set(months)))


class AssignmentPolicy(FrozenModel):
    """Rules and preferences of the inspector assignment.

    Each field says what it does in its ``description`` (also the comment of
    ``creditsup policy-template``). The bounds are declared on the fields;
    solver effort is bounded so that no policy can make a run take hours.

    Examples
    --------
    >>> AssignmentPolicy().min_team
    2
    >>> AssignmentPolicy(min_team=3, max_team=4).max_team
    4
    >>> AssignmentPolicy(min_team=1)
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'min_team' of AssignmentPolicy must be >= 2. Got 1 instead.
    """

    min_team: int = Field(
        2,
        ge=2,
        le=20,
        description="Minimum number of inspectors on a visit (R11: never fewer "
        "than two, by law); 2 to 20.",
    )
    max_team: int = Field(
        6,
        ge=2,
        le=20,
        description="Largest team of one department on a visit (R14: each "
        "department sends its own inspectors to a joint visit): a department whose "
        "items need more expertise areas grows its team up to this size (at most "
        "20); beyond it, the visit is reported unfilled.",
    )
    rotation: bool = Field(
        True,
        description="Exclude the inspectors of the entity's last visit (R13).",
    )
    same_region_first: bool = Field(
        True,
        description="Prefer inspectors of the entity's region: fewest cross-region "
        "slots first, candidates pruned to same_region_candidates of the region "
        "plus cross_region_candidates.",
    )
    same_region_candidates: int = Field(
        32,
        ge=0,
        le=10_000,
        description="Random same-region candidates kept per task when pruning: a "
        "uniformly random subset of this size of the eligible inspectors of the "
        "entity's region (all of them when fewer; 0: all, which grows as visits "
        "x inspectors); a task they cannot staff is retried with every "
        "candidate; 0 to 10000.",
    )
    cross_region_candidates: int = Field(
        10,
        ge=0,
        le=100,
        description="Random cross-region candidates kept per task when pruning "
        "(0 to 100).",
    )
    metropolis_sweeps: int = Field(
        10,
        ge=0,
        le=100,
        description="Proposals of the randomising chain per filled slot (0 keeps "
        "the flow's random-cost optimum, which is not uniform); 0 to 100.",
    )
    pair_limit: Annotated[int, Field(ge=1)] | None = Field(
        None,
        description="Most visits the same two inspectors may share in the year "
        "(anti-collusion). None: no limit.",
    )
    max_deterministic_time: float = Field(
        10.0,
        gt=0,
        le=60,
        description="Deterministic time limit of each CP-SAT model (never a "
        "wall-clock limit: results do not depend on the machine); at most 60.",
    )
    repair: bool = Field(
        True,
        description="Move a visit that cannot be staffed in its month to the "
        "nearest month of repair_months with room; otherwise report it unfilled.",
    )
    repair_months: Annotated[tuple[Month, ...], AfterValidator(_sorted_months)] = Field(
        tuple(range(1, 13)),
        description="Months a repaired visit may move to.",
    )

    @model_validator(mode="after")
    def _team_bounds(self) -> AssignmentPolicy:
        if self.max_team < self.min_team:
            raise ValueError(
                "The 'max_team' of AssignmentPolicy must be >= 'min_team' "
                f"({self.min_team}). Got {self.max_team} instead."
            )
        return self


def empty_redraws() -> pd.DataFrame:
    """An empty re-draw table (:data:`REDRAW_COLUMNS`)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REDRAW_COLUMNS})


@dataclass(frozen=True)
class AssignmentResult:
    """The outcome of :func:`~creditsup.assignment.assign_inspectors`.

    Attributes
    ----------
    assignments : pandas.DataFrame
        ``visit_id, inspector_id, department``: one row per inspector on a
        visit, sorted by ``visit_id`` then ``inspector_id``.
    visits : pandas.DataFrame
        The visits sorted by ``visit_id``, with ``month`` possibly moved by the
        repair, ``original_month`` and ``status`` (``staffed``/``unfilled``).
    diagnostics : dict
        ``{"unfilled": [{"visit_id", "reason"}], "binding": [{"group",
        "needed", "available"}]}`` (``contract.md`` §3).
    metrics : dict
        Audit metrics: team sizes, pair co-assignment counts, load per
        inspector against capacity, cross-region share, chain statistics.
    ledger : list of dict
        JSON-able record of each step (for the plan's hash-chained ledger).
    redraws : pandas.DataFrame
        Replacements made after the draw (R12), in order.
    policy : AssignmentPolicy
        The policy used.
    """

    assignments: pd.DataFrame
    visits: pd.DataFrame
    diagnostics: dict[str, list[dict[str, Any]]]
    metrics: dict[str, Any] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    redraws: pd.DataFrame = field(default_factory=empty_redraws)
    policy: AssignmentPolicy = field(default_factory=AssignmentPolicy)

    @classmethod
    def from_tables(
        cls,
        *,
        visits: pd.DataFrame,
        assignments: pd.DataFrame,
        diagnostics: dict[str, list[dict[str, Any]]] | None = None,
        policy: AssignmentPolicy | None = None,
        redraws: pd.DataFrame | None = None,
    ) -> AssignmentResult:
        """Rebuild a result from saved tables (e.g. a plan bundle)."""
        diag = diagnostics or {"unfilled": [], "binding": []}
        v = visits.copy()
        unfilled = {str(u["visit_id"]) for u in diag.get("unfilled", [])}
        if "status" not in v.columns:
            v["status"] = np.where(
                v["visit_id"].astype(str).isin(unfilled), "unfilled", "staffed"
            )
        if "original_month" not in v.columns:
            v["original_month"] = v["month"]
        return cls(
            assignments=assignments[list(ASSIGNMENT_COLUMNS)].copy(),
            visits=v,
            diagnostics={
                "unfilled": list(diag.get("unfilled", [])),
                "binding": list(diag.get("binding", [])),
            },
            policy=policy or AssignmentPolicy(),
            redraws=empty_redraws() if redraws is None else redraws.copy(),
        )

    @property
    def is_feasible(self) -> bool:
        """True when every visit is staffed."""
        return not self.diagnostics["unfilled"]

    def summary(self) -> str:
        """A short human-readable account of the assignment."""
        n_v = len(self.visits)
        n_un = len(self.diagnostics["unfilled"])
        lines = [
            f"AssignmentResult: {n_v} visits, {n_v - n_un} staffed, {n_un} unfilled, "
            f"{len(self.assignments)} assignments",
            *_metric_lines(self.metrics),
        ]
        for u in self.diagnostics["unfilled"][:5]:
            lines.append(f"  unfilled {u['visit_id']}: {u['reason']}")
        if n_un > 5:
            lines.append(f"  ... and {n_un - 5} more unfilled")
        if len(self.redraws):
            lines.append(f"  re-draws: {len(self.redraws)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>"


def _metric_lines(m: dict[str, Any]) -> list[str]:
    """The metrics part of :meth:`AssignmentResult.summary`."""
    if not m:
        return []
    lines = [
        f"  load per inspector: min {m.get('load_min')}, median "
        f"{m.get('load_median')}, max {m.get('load_max')} "
        f"(max monthly utilisation {m.get('utilisation_max')})",
        f"  cross-region share {m.get('cross_region_share')}, max pair "
        f"co-assignments {m.get('pair_max')}, prior max P(inspector, entity) "
        f"{m.get('max_p_inspector_entity_prior')}",
    ]
    ch = m.get("metropolis", {})
    if ch:
        lines.append(
            f"  Metropolis: {ch.get('proposals')} proposals, acceptance "
            f"{ch.get('acceptance_rate')}, {ch.get('changed_share')} of slots changed"
        )
    if m.get("moved_by_repair"):
        lines.append(f"  moved to another month by repair: {m['moved_by_repair']}")
    return lines
