"""The coordinated, tier-stratified random draw (the first "random" of 双随机).

:func:`draw_visits` decides which entities are inspected in a year, by which
departments, for which check items, and in which month:

1. **Tasks.** Every check item is a task. Its pool is the set of eligible
   entities in its scope (``entity_types``, ``industries``) at plan time (R07);
   its ratio per tier comes from :class:`SamplingPolicy` (``ratios`` for general
   items, ``key_ratios`` for key items), unless the item overrides it
   (``ratio_A`` ... ``ratio_E``). General items are clamped by
   ``ratio_ceiling``; key items and key-supervision entities are not (R03, R23).
2. **Permanent random numbers.** Each entity gets
   ``u = keyed_uniform(uscc, derive_key(seed, year, "prn"))``: a keyed SipHash of
   the USCC, so the draw depends only on the seed string, the year and the
   entity, never on row order or partitioning.
3. **Coordination by start points.** Items of one joint group (or, without a
   group, of one department) share a start point ``s_g``; different groups get
   evenly spaced start points. Unit ``k`` is drawn for an item of group ``g``
   iff ``frac(u_k + s_g) < pi`` (Poisson-PRN, for ratios), or when
   ``frac(u_k + s_g)`` is among the ``n`` smallest of its stratum (sequential
   SRSWOR-PRN, for fixed counts). The same start within a group merges the
   departments' checks into one visit (R14); spread starts across groups
   spread the burden.
4. **Merge and cap.** A visit is one (entity, group) pair. Visits beyond the
   tier's annual cap (R15; earlier non-exempt visits of the same year count)
   are removed in the order of a second PRN, general visits before key ones.
5. **Coverage and months.** Optional minimum coverage (every D entity, every
   key-supervision entity); months are balanced against each department's
   inspector capacity.

See ``docs/sampling.md`` for which method is used where, and why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, field_validator, model_validator

from creditsup._prn import (
    align,
    largest_remainder,
    prn_key,
    smallest_n,
    start_points,
)
from creditsup._random import keyed_uint64, to_uniform
from creditsup.config import FrozenModel, config_hash
from creditsup.exceptions import DataValidationError, InfeasiblePlanError
from creditsup.schemas import (
    EXCLUSION_REASONS,
    EXEMPT_TRIGGERS,
    TIERS,
    Dataset,
    available_in,
    table_hash,
    unavailable_bits,
)

__all__ = [
    "CAP_TRIMMED",
    "EXCLUSION_REASONS",
    "TIERS",
    "DrawResult",
    "SamplingPolicy",
    "draw_visits",
    "estimate_inclusion",
    "industry_matches",
    "normalize_industry",
]

logger = logging.getLogger(__name__)

#: Reason code of a visit removed by the cap (stage ``cap``).
CAP_TRIMMED = "cap_trimmed"
ALGORITHM = "creditsup-prn-v1"

_EXEMPTABLE = EXEMPT_TRIGGERS
_DEFAULT_RATIOS = {"A": 0.05, "B": 0.10, "C": 0.30, "D": 0.70, "E": 1.0}
_DEFAULT_KEY_RATIOS = {"A": 0.05, "B": 0.10, "C": 0.30, "D": 1.0, "E": 1.0}
_DEFAULT_CAPS: dict[str, int | None] = {"A": 2, "B": 3, "C": 4, "D": 6, "E": None}
_NO_CAP = 1 << 40
_ALIGN_KEY = "creditsup-align1"
_MONTHS = np.arange(1, 13)
# GB/T 4754-2017: first division of each section, so that "5211" -> "F5211".
_SECTION_STARTS = (
    (1, "A"), (6, "B"), (13, "C"), (44, "D"), (47, "E"), (51, "F"), (53, "G"),
    (61, "H"), (63, "I"), (66, "J"), (70, "K"), (71, "L"), (73, "M"), (76, "N"),
    (80, "O"), (83, "P"), (84, "Q"), (86, "R"), (91, "S"), (97, "T"),
)  # fmt: skip

Array = npt.NDArray[Any]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


# --------------------------------------------------------------------- policy
def _merge_tiers(value: object, defaults: Mapping[str, Any], what: str) -> object:
    if value is None:
        return dict(defaults)
    if not isinstance(value, Mapping):
        return value
    out = dict(defaults)
    for k, v in value.items():
        t = str(k).strip().upper()
        if t not in TIERS:
            raise ValueError(
                f"The {what} tier must be one of {', '.join(TIERS)}. Got {k!r} instead."
            )
        out[t] = v
    return out


def _check_ratio(name: str, tier: str, v: float) -> None:
    if not (0.0 <= v <= 1.0) or math.isnan(v):
        raise ValueError(
            f"The '{name}' for tier '{tier}' must be in [0, 1]. Got {v} instead."
        )


def _check_tier_list(name: str, tiers: Iterable[str]) -> tuple[str, ...]:
    out = []
    for t in tiers:
        tt = str(t).strip().upper()
        if tt not in TIERS:
            raise ValueError(
                f"The '{name}' entries must be tiers {', '.join(TIERS)}. "
                f"Got {t!r} instead."
            )
        out.append(tt)
    return tuple(sorted(set(out)))


class SamplingPolicy(FrozenModel):
    """How the annual draw is made: ratios, caps, coordination, coverage, months.

    The defaults follow ``domain.md`` §c: the Lindian profile (A ≤5 %,
    B 5-20 %, C 21-60 %, D 61-100 %), clamped by the R15 cap (A at most 2
    visits a year). Every field has a working default.

    Examples
    --------
    >>> p = SamplingPolicy(ratios={"D": 0.8}, caps={"B": 2})
    >>> p.ratios["D"], p.ratios["A"], p.caps["A"], p.caps["B"]
    (0.8, 0.05, 2, 2)
    >>> SamplingPolicy(ratios={"D": 1.5})
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: SamplingPolicy: The 'ratio' for tier 'D' must be in [0, 1]. Got 1.5 instead.
    """

    ratios: dict[str, float] = Field(
        default_factory=lambda: dict(_DEFAULT_RATIOS),
        description="Sampling ratio per tier for general items (share of the pool).",
    )
    key_ratios: dict[str, float] = Field(
        default_factory=lambda: dict(_DEFAULT_KEY_RATIOS),
        description="Ratio per tier for key items (R03/R23: D covers all key items).",
    )
    ratio_ceiling: dict[str, float] = Field(
        default_factory=dict,
        description="Upper bound per tier on general-item ratios, including item "
        "overrides (e.g. Shangrao: A <= 0.03). Key items and key-supervision "
        "entities bypass it (R23). Empty: no ceiling.",
    )
    key_supervision_ratio: float | None = Field(
        default=None,
        description="Raise the ratio of key-supervision entities to at least this "
        "value for every item (R23; 1.0 checks them all). None: tier ratio.",
    )
    caps: dict[str, int | None] = Field(
        default_factory=lambda: dict(_DEFAULT_CAPS),
        description="At most this many visits per entity and year, by tier, across "
        "all departments (R15). None or 'none': no cap.",
    )
    exempt_triggers: tuple[str, ...] = Field(
        default=tuple(sorted(_EXEMPTABLE)),
        description="History triggers that do not count toward the cap (R15).",
    )
    trigger_only_tiers: tuple[str, ...] = Field(
        default=(),
        description="Tiers in trigger-based supervision: no random draw at all "
        "(C3, C5). Their entities are excluded with reason 'trigger_only'.",
    )
    ratio_mode: Literal["poisson", "fixed"] = Field(
        default="poisson",
        description="'poisson': Poisson-PRN, exact inclusion probability = ratio, "
        "random size. 'fixed': sequential SRSWOR-PRN of ceil(ratio x pool) per "
        "(item, tier) stratum (R07).",
    )
    fixed_counts: dict[str, int] = Field(
        default_factory=dict,
        description="item_id -> number of entities to draw (SRSWOR-PRN), split over "
        "tiers in proportion to ratio x pool.",
    )
    coordination: Literal["mix", "positive", "negative", "independent"] = Field(
        default="mix",
        description="'mix': same start point within a joint group, spread across "
        "groups (recommended). 'positive': one start for all. 'negative': spread "
        "across all items. 'independent': an independent PRN per item (baseline).",
    )
    coverage_tiers: tuple[str, ...] = Field(
        default=(),
        description="Every eligible entity of these tiers is visited at least once "
        "(e.g. ['D']).",
    )
    cover_key_supervision: bool = Field(
        default=False,
        description="Every eligible key-supervision entity is visited at least once.",
    )
    months: tuple[int, ...] = Field(
        default=tuple(range(1, 13)),
        description="Months in which checks may take place (R16 quiet periods).",
    )
    recent_check_days: int = Field(
        default=0,
        description="Exclude an entity from a department's items when that "
        "department checked it within this many days before 1 January (and "
        "earlier in the plan year). 0: off.",
    )
    recent_check_days_by_department: dict[str, int] = Field(
        default_factory=dict,
        description="Per-department override of recent_check_days.",
    )
    observation_days: int = Field(
        default=0,
        description="C5: entities established fewer than this many days before "
        "1 January of the plan year, in observation_tiers, are excluded "
        "('observation_period'). 0: off.",
    )
    observation_tiers: tuple[str, ...] = Field(
        default=("A", "B"), description="Tiers the observation period applies to."
    )
    team_size: int = Field(
        default=2, description="Inspectors per visit, for the month capacity balance."
    )
    max_visit_share: float | None = Field(
        default=0.05,
        description="Budget (R08: about 5 % of supervised entities a year): when the "
        "ratios ask for more expected visits than this share of the eligible "
        "entities, every ratio below 1 is scaled down by one common factor, so "
        "the tiers keep their relative weights. Full coverage (ratio 1, e.g. key "
        "items for tier D, R23) and key_supervision_ratio are never scaled. "
        "None: apply the ratios as given.",
    )
    on_conflict: Literal["warn", "raise"] = Field(
        default="warn",
        description="When coverage or capacity cannot hold: record a warning, or "
        "raise InfeasiblePlanError.",
    )

    @field_validator("ratios", mode="before")
    @classmethod
    def _v_ratios(cls, v: object) -> object:
        return _merge_tiers(v, _DEFAULT_RATIOS, "ratios")

    @field_validator("key_ratios", mode="before")
    @classmethod
    def _v_key_ratios(cls, v: object) -> object:
        return _merge_tiers(v, _DEFAULT_KEY_RATIOS, "key_ratios")

    @field_validator("ratio_ceiling", mode="before")
    @classmethod
    def _v_ceiling(cls, v: object) -> object:
        return _merge_tiers(v, {}, "ratio_ceiling")

    @field_validator("caps", mode="before")
    @classmethod
    def _v_caps(cls, v: object) -> object:
        merged = _merge_tiers(v, _DEFAULT_CAPS, "caps")
        if isinstance(merged, dict):
            for k, x in merged.items():
                if isinstance(x, str) and x.strip().lower() in ("none", "unlimited"):
                    merged[k] = None
        return merged

    @field_validator("ratios", "key_ratios", "ratio_ceiling")
    @classmethod
    def _v_ratio_ranges(cls, v: dict[str, float]) -> dict[str, float]:
        for t, r in v.items():
            _check_ratio("ratio", t, float(r))
        return dict(sorted(v.items()))

    @field_validator("caps")
    @classmethod
    def _v_cap_ranges(cls, v: dict[str, int | None]) -> dict[str, int | None]:
        for t, c in v.items():
            if c is not None and c < 1:
                raise ValueError(
                    f"The 'cap' for tier '{t}' must be at least 1 (or none). "
                    f"Got {c} instead. Use trigger_only_tiers for no random visits."
                )
        return dict(sorted(v.items()))

    @field_validator("key_supervision_ratio")
    @classmethod
    def _v_ks(cls, v: float | None) -> float | None:
        if v is not None:
            _check_ratio("key_supervision_ratio", "*", v)
        return v

    @field_validator("exempt_triggers")
    @classmethod
    def _v_exempt(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            if t not in _EXEMPTABLE:
                raise ValueError(
                    f"The 'exempt_triggers' entries must be among "
                    f"{', '.join(_EXEMPTABLE)}. Got {t!r} instead."
                )
        return tuple(sorted(set(v)))

    @field_validator("trigger_only_tiers", "coverage_tiers", "observation_tiers")
    @classmethod
    def _v_tier_lists(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _check_tier_list("tiers", v)

    @field_validator("fixed_counts")
    @classmethod
    def _v_fixed(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if n < 0:
                raise ValueError(
                    f"The 'fixed_counts' for item {k!r} must be >= 0. Got {n} instead."
                )
        return dict(sorted(v.items()))

    @field_validator("months")
    @classmethod
    def _v_months(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v:
            raise ValueError(
                "The 'months' must list at least one month. Got () instead."
            )
        for m in v:
            if not 1 <= m <= 12:
                raise ValueError(f"The 'months' must be in 1-12. Got {m} instead.")
        return tuple(sorted(set(v)))

    @field_validator("recent_check_days", "observation_days")
    @classmethod
    def _v_days(cls, v: int) -> int:
        if v < 0:
            raise ValueError(f"The number of days must be >= 0. Got {v} instead.")
        return v

    @field_validator("recent_check_days_by_department")
    @classmethod
    def _v_days_by(cls, v: dict[str, int]) -> dict[str, int]:
        for k, d in v.items():
            if d < 0:
                raise ValueError(
                    f"The 'recent_check_days' for department {k!r} must be >= 0. "
                    f"Got {d} instead."
                )
        return dict(sorted(v.items()))

    @field_validator("team_size")
    @classmethod
    def _v_team(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"The 'team_size' must be >= 1. Got {v} instead.")
        return v

    @model_validator(mode="after")
    def _v_c3(self) -> SamplingPolicy:
        for t in TIERS:
            if self.ratios.get(t, 0.0) == 0.0 and t not in self.trigger_only_tiers:
                raise ValueError(
                    f"The 'ratio' for tier '{t}' is 0, but every tier must have a "
                    "draw probability > 0 (C3). List the tier in "
                    "'trigger_only_tiers' to switch it to trigger-based supervision."
                )
        return self

    def cap_of(self, tier: str) -> int | None:
        """The annual visit cap of ``tier`` (``None``: no cap)."""
        return self.caps.get(tier)

    def recent_days(self, department: str) -> int:
        """The recent-check exclusion window of ``department`` in days."""
        return self.recent_check_days_by_department.get(
            department, self.recent_check_days
        )


# ------------------------------------------------------------------- industry
def normalize_industry(code: str) -> str:
    """Normalise a GB/T 4754 code to section letter + digits.

    ``"5211"`` becomes ``"F5211"``; ``"F5211"`` and ``"F"`` stay as they are.

    Examples
    --------
    >>> normalize_industry("5211"), normalize_industry("f52"), normalize_industry("C")
    ('F5211', 'F52', 'C')
    """
    c = str(code).strip().upper()
    if len(c) >= 2 and c[:2].isdigit():
        div = int(c[:2])
        letter = ""
        for start, sec in _SECTION_STARTS:
            if div >= start:
                letter = sec
        return letter + c
    return c


def industry_matches(industry: str, prefixes: str) -> bool:
    """Whether an entity's industry falls under an item's ``industries`` list.

    ``prefixes`` is ``*`` or a ``;`` list of code prefixes; codes with and
    without the section letter are compared in normalised form.

    Examples
    --------
    >>> industry_matches("5211", "F52;H62"), industry_matches("F5211", "H")
    (True, False)
    >>> industry_matches("C1391", "*")
    True
    """
    pref = [p.strip() for p in str(prefixes).split(";") if p.strip()]
    if not pref or "*" in pref:
        return True
    ind = normalize_industry(industry)
    return any(ind.startswith(normalize_industry(p)) for p in pref)


# --------------------------------------------------------------------- result
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


# ---------------------------------------------------------------- preparation
@dataclass(frozen=True)
class _Prepared:
    """Everything about a draw that does not depend on the seed."""

    year: int
    policy: SamplingPolicy
    uscc: npt.NDArray[np.object_]
    rank: I64
    is_sorted: bool
    tier: npt.NDArray[np.int8]
    ks: B
    reason: npt.NDArray[np.int8]
    used: I64
    remaining: I64
    hist_any: B
    items: pd.DataFrame
    item_group: I64
    item_dept: I64
    item_key: B
    groups: list[str]
    departments: list[str]
    pools: list[I64]
    pool_pi: list[F64]
    pool_stratum: list[npt.NDArray[np.int8]]
    stratum_n: list[I64 | None]
    scope_counts: npt.NDArray[np.int64]
    recent_counts: npt.NDArray[np.int64]
    eligible: B
    required: B
    capacity: npt.NDArray[np.int64]
    hash_key: str
    ent_hash: U64 | None
    prep_warnings: list[dict[str, Any]] = field(default_factory=list)
    prep_ledger: list[dict[str, Any]] = field(default_factory=list)


def _as_object(s: pd.Series) -> npt.NDArray[np.object_]:
    return np.asarray(s.to_numpy(dtype=object, na_value=""), dtype=object)


def _codes(values: pd.Series, vocab: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Position of each value in ``vocab`` (-1 when absent), via factorize."""
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    lut = np.array(
        [vocab.index(u) if (u := str(x)) in vocab else -1 for x in uniq] + [-1],
        dtype=np.int64,
    )
    return lut[codes]


def _tier_codes(values: pd.Series) -> npt.NDArray[np.int8]:
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    lut = np.array(
        [TIERS.index(t) if (t := str(u).strip().upper()) in TIERS else -2 for u in uniq]
        + [-1],
        dtype=np.int8,
    )
    return lut[codes]


class _EntityHash:
    """The entities' USCC hashes under one key, computed at most once.

    Used to join other tables to the entities (exactly: matches are verified
    on the strings). ``draw_visits`` passes the PRN key, so the same hash
    serves as the PRN and for the joins.
    """

    def __init__(self, uscc: npt.NDArray[np.object_], key: str = _ALIGN_KEY) -> None:
        self.uscc = uscc
        self.key = key
        self._h: U64 | None = None

    def __call__(self) -> U64:
        if self._h is None:
            self._h = keyed_uint64(self.uscc, self.key)
        return self._h

    def lookup(self, ids: npt.NDArray[np.object_]) -> I64:
        return align(self.uscc, self(), ids, keyed_uint64(ids, self.key))


def _align_tiers(
    dataset: Dataset, tiers: pd.DataFrame, ent_hash: _EntityHash
) -> tuple[npt.NDArray[np.int8], int]:
    missing = [c for c in ("uscc", "tier") if c not in tiers.columns]
    if missing:
        raise DataValidationError.from_records(
            [
                {
                    "table": "tiers",
                    "row": -1,
                    "column": c,
                    "value": "",
                    "rule": "missing_column",
                    "message": f"The tiers frame needs a '{c}' column.",
                }
                for c in missing
            ]
        )
    t_uscc = tiers["uscc"].reset_index(drop=True)
    codes = _tier_codes(tiers["tier"].reset_index(drop=True))
    bad = codes == -2
    if bool(bad.any()):
        rows = np.flatnonzero(bad)
        raise DataValidationError.from_records(
            [
                {
                    "table": "tiers",
                    "row": int(r),
                    "column": "tier",
                    "value": str(tiers["tier"].iloc[r]),
                    "rule": "unknown_enum",
                    "message": f"A tier must be one of {', '.join(TIERS)}.",
                }
                for r in rows[:1000]
            ]
        )
    ent_uscc = dataset.entities["uscc"].reset_index(drop=True)
    if len(t_uscc) == len(ent_uscc) and t_uscc.astype(str).equals(ent_uscc.astype(str)):
        return np.maximum(codes, -1), 0
    dup = t_uscc.duplicated(keep=False)
    if bool(dup.any()):
        rows = np.flatnonzero(dup.to_numpy())
        raise DataValidationError.from_records(
            [
                {
                    "table": "tiers",
                    "row": int(r),
                    "column": "uscc",
                    "value": str(t_uscc.iloc[r]),
                    "rule": "duplicate_key",
                    "message": "An entity appears more than once in the tiers frame.",
                }
                for r in rows[:1000]
            ]
        )
    codes = np.maximum(codes, -1)
    pos = ent_hash.lookup(_as_object(t_uscc))
    out = np.full(len(ent_hash.uscc), -1, dtype=np.int8)
    hit = pos >= 0
    out[pos[hit]] = codes[hit]
    return out, int((~hit).sum())


def _item_ratios(
    items: pd.DataFrame, policy: SamplingPolicy
) -> tuple[F64, F64, list[dict[str, Any]]]:
    """Nominal ratio per (item, tier) for ordinary and key-supervision entities."""
    n_items = len(items)
    base = np.zeros((n_items, len(TIERS)))
    ks = np.zeros((n_items, len(TIERS)))
    clamped: list[dict[str, Any]] = []
    is_key = (items["kind"] == "key").to_numpy()
    for j, t in enumerate(TIERS):
        default = np.where(is_key, policy.key_ratios[t], policy.ratios[t])
        col = f"ratio_{t}"
        if col in items.columns:
            over = pd.to_numeric(items[col], errors="coerce").to_numpy(dtype=float)
        else:
            over = np.full(n_items, np.nan)
        r = np.where(np.isnan(over), default, over)
        bad = (r < 0) | (r > 1)
        if bool(bad.any()):
            i = int(np.flatnonzero(bad)[0])
            raise DataValidationError.from_records(
                [
                    {
                        "table": "items",
                        "row": i,
                        "column": col,
                        "value": str(r[i]),
                        "rule": "bad_ratio",
                        "message": f"The 'ratio' for tier '{t}' must be in [0, 1]. "
                        f"Got {r[i]} instead.",
                    }
                ]
            )
        ks[:, j] = r
        if t in policy.ratio_ceiling:
            ceil = policy.ratio_ceiling[t]
            hit = (~is_key) & (r > ceil)
            for k in np.flatnonzero(hit).tolist():
                clamped.append(
                    {
                        "item_id": str(items["item_id"].iloc[k]),
                        "tier": t,
                        "ratio": float(r[k]),
                        "ceiling": ceil,
                    }
                )
            r = np.where(hit, ceil, r)
        base[:, j] = r
    if policy.key_supervision_ratio is not None:
        ks = np.maximum(ks, policy.key_supervision_ratio)
    for j, t in enumerate(TIERS):
        if t in policy.trigger_only_tiers:
            base[:, j] = 0.0
            ks[:, j] = 0.0
    return base, ks, clamped


def _budget_scale(
    pools: list[I64],
    pool_pi: list[F64],
    pool_unscaled: list[npt.NDArray[np.bool_]],
    item_group: I64,
    n_groups: int,
    n: int,
    *,
    share: float | None,
    n_eligible: int,
) -> float:
    """Common factor s <= 1 on general ratios so expected visits <= share x eligible.

    With the same start point within a joint group, an entity's chance of a
    visit from group g is the largest ratio among g's items that apply to it;
    visits of different groups add up. Mandates (``pool_unscaled``: full
    coverage, key-supervision ratio) keep their ratio. ``s`` is found by
    bisection on the exact expectation.
    """
    if share is None or n_eligible == 0 or not pools:
        return 1.0
    gen_parts: list[F64] = []
    key_parts: list[F64] = []
    for g in range(max(n_groups, 1)):
        members = [i for i in range(len(pools)) if int(item_group[i]) == g]
        if not members:
            continue
        gen_g = np.zeros(n)
        key_g = np.zeros(n)
        touched = np.zeros(n, dtype=bool)
        for i in members:  # a pool lists each entity once: plain fancy indexing
            idx, p, fixed = pools[i], pool_pi[i], pool_unscaled[i]
            gi, ki = idx[~fixed], idx[fixed]
            gen_g[gi] = np.maximum(gen_g[gi], p[~fixed])
            key_g[ki] = np.maximum(key_g[ki], p[fixed])
            touched[idx] = True
        t = np.flatnonzero(touched)
        gen_parts.append(gen_g[t])
        key_parts.append(key_g[t])
    if not gen_parts:
        return 1.0
    gen = np.concatenate(gen_parts)
    key = np.concatenate(key_parts)
    target = share * n_eligible

    def expected(s: float) -> float:
        return float(np.maximum(np.minimum(1.0, s * gen), key).sum())

    if expected(1.0) <= target:
        return 1.0
    if expected(0.0) >= target:
        # Key items alone exceed the budget: scaling general items towards zero
        # would take every entity's chance of a draw away (C3); leave them.
        return float("nan")
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if expected(mid) > target:
            hi = mid
        else:
            lo = mid
    return lo


def _capped_split(total: int, weights: F64, sizes: I64) -> I64:
    """Split ``total`` proportionally to ``weights`` with at most ``sizes`` each."""
    alloc = np.zeros(len(sizes), dtype=np.int64)
    free = sizes > 0
    left = int(min(total, sizes.sum()))
    while left > 0 and free.any():
        w = np.where(free, weights, 0.0)
        if not (w > 0).any():
            w = free.astype(np.float64)
        part = largest_remainder(left, w)
        room = sizes - alloc
        take = np.minimum(part, room)
        alloc += take
        left -= int(take.sum())
        free = (sizes - alloc) > 0
        if not (part > room).any():
            break
    return alloc


def _scope_masks(
    entities: pd.DataFrame, items: pd.DataFrame
) -> tuple[list[B], list[str]]:
    et_codes, et_uniq = pd.factorize(entities["entity_type"].astype(str), sort=True)
    in_codes, in_uniq = pd.factorize(entities["industry"].astype(str), sort=True)
    et_vals = [str(x) for x in et_uniq]
    in_norm = [normalize_industry(str(x)) for x in in_uniq]
    masks: list[B] = []
    cache: dict[tuple[str, str], B] = {}
    for types, inds in zip(
        items["entity_types"].fillna("*").astype(str),
        items["industries"].fillna("*").astype(str),
        strict=True,
    ):
        if (types, inds) in cache:
            masks.append(cache[(types, inds)])
            continue
        tl = {t.strip() for t in types.split(";") if t.strip()}
        if not tl or "*" in tl:
            t_ok = np.ones(len(et_vals) + 1, dtype=bool)
        else:
            t_ok = np.array([v in tl for v in et_vals] + [False], dtype=bool)
        pl = [normalize_industry(p) for p in inds.split(";") if p.strip()]
        if not pl or "*" in pl:
            i_ok = np.ones(len(in_norm) + 1, dtype=bool)
        else:
            pref = tuple(pl)
            i_ok = np.array([v.startswith(pref) for v in in_norm] + [False], bool)
        cache[(types, inds)] = t_ok[et_codes] & i_ok[in_codes]
        masks.append(cache[(types, inds)])
    return masks, in_norm


def _capacity(
    inspectors: pd.DataFrame, departments: list[str], months: tuple[int, ...]
) -> npt.NDArray[np.int64]:
    cap = np.zeros((len(departments), 12), dtype=np.int64)
    if not len(inspectors):
        return cap
    ins = inspectors
    if "active" in ins.columns:
        ins = ins[ins["active"].fillna(True).astype(bool)]
    dpos = {d: i for i, d in enumerate(departments)}
    dcode = ins["department"].astype(str).map(dpos)
    keep = dcode.notna().to_numpy()
    ins = ins[keep]
    dcode_a = dcode[keep].to_numpy(dtype=np.int64)
    mc = ins["monthly_capacity"].fillna(0).to_numpy(dtype=np.int64)
    if "unavailable_months" in ins.columns:
        un = unavailable_bits(ins["unavailable_months"])
    else:
        un = np.zeros(len(ins), dtype=np.int64)
    allowed = set(months)
    for m in range(1, 13):
        if m not in allowed:
            continue
        avail = available_in(un, m)
        np.add.at(cap[:, m - 1], dcode_a[avail], mc[avail])
    return cap


def _prepare(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy,
    year: int,
    *,
    hash_key: str = _ALIGN_KEY,
) -> _Prepared:
    ent = dataset.entities
    n = len(ent)
    uscc = _as_object(ent["uscc"])
    warnings: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []

    # Canonical order: by USCC (the validated dataset is already sorted).
    is_sorted = n <= 1 or bool((uscc[1:] > uscc[:-1]).all())
    if not is_sorted:
        by_rank = np.argsort(uscc.astype(str), kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[by_rank] = np.arange(n)
    else:
        rank = np.arange(n, dtype=np.int64)

    ent_hash = _EntityHash(uscc, hash_key)
    tier, n_unknown = _align_tiers(dataset, tiers, ent_hash)
    if n_unknown:
        warnings.append(
            {
                "code": "unknown_tier_rows",
                "message": f"{n_unknown} row(s) of the tiers frame name no entity of "
                "the dataset; they are ignored.",
                "count": n_unknown,
            }
        )
    ks = ent["key_supervision"].fillna(False).to_numpy(dtype=bool)
    active = (ent["status"] == "active").to_numpy(dtype=bool)
    status = np.zeros(n, dtype=np.int64)
    if not active.all():
        off = np.flatnonzero(~active)
        status[off] = _codes(
            ent["status"].iloc[off], ("active", "deregistered", "revoked")
        )
    year_start = pd.Timestamp(year=year, month=1, day=1)

    # History: visits earlier in the plan year, and recent checks per department.
    items = dataset.items.sort_values("item_id", kind="stable").reset_index(drop=True)
    departments = sorted({str(d) for d in items["department"]})
    dpos = {d: i for i, d in enumerate(departments)}
    used = np.zeros(n, dtype=np.int64)
    hist_any = np.zeros(n, dtype=bool)
    recent: dict[int, B] = {}
    hist = dataset.history
    if len(hist) and n:
        h_ent = ent_hash.lookup(_as_object(hist["uscc"]))
        found = h_ent >= 0
        day = hist["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        y0 = int(np.datetime64(f"{year}-01-01", "D").astype(np.int64))
        y1 = int(np.datetime64(f"{year + 1}-01-01", "D").astype(np.int64))
        in_year = (day >= y0) & (day < y1) & found
        trig = _codes(hist["trigger"].fillna("random"), policy.exempt_triggers)
        counted = in_year & (trig < 0)
        if counted.any():
            key = np.sort((h_ent[counted] << 24) | (day[counted] - y0))
            distinct = key[np.r_[True, key[1:] != key[:-1]]]
            visits_ent = distinct >> 24
            used = np.bincount(visits_ent, minlength=n).astype(np.int64)
        hist_any[h_ent[in_year]] = True
        hd = _codes(hist["department"], tuple(departments))
        for d, name in enumerate(departments):
            days = policy.recent_days(name)
            if days <= 0:
                continue
            sel = found & (hd == d) & (day >= y0 - days)
            mask = np.zeros(n, dtype=bool)
            mask[h_ent[sel]] = True
            recent[d] = mask

    cap_by_code = np.array(
        [
            _NO_CAP if policy.cap_of(t) is None else int(policy.cap_of(t) or 0)
            for t in TIERS
        ]
        + [_NO_CAP],
        dtype=np.int64,
    )
    remaining = cap_by_code[tier] - used

    # Entity-level exclusions (in priority order).
    reason = np.full(n, -1, dtype=np.int8)

    def mark(mask: B, code: str) -> None:
        reason[(reason < 0) & mask] = EXCLUSION_REASONS.index(code)

    mark(status == 1, "deregistered")
    mark(status == 2, "revoked")
    mark(status < 0, "deregistered")
    mark(tier < 0, "no_tier")
    trig_only = np.isin(tier, [TIERS.index(t) for t in policy.trigger_only_tiers])
    mark(trig_only, "trigger_only")
    if policy.observation_days > 0:
        cutoff = (
            year_start - pd.Timedelta(days=policy.observation_days)
        ).to_datetime64()
        new = ent["established"].to_numpy() > cutoff
        obs_t = np.isin(tier, [TIERS.index(t) for t in policy.observation_tiers])
        mark(new & obs_t, "observation_period")
    mark(remaining <= 0, "cap_reached")
    base_ok = reason < 0

    # Tasks: scope, recent checks, ratios -> pools.
    scopes, _ = _scope_masks(ent, items) if len(items) else ([], [])
    base_pi, ks_pi, clamped = _item_ratios(items, policy)
    if clamped:
        ledger.append({"step": "ceiling", "clamped": clamped})
    groups_of_item = [
        f"dept:{d}" if (pd.isna(g) or str(g).strip() == "") else str(g).strip()
        for d, g in zip(items["department"], items["joint_group"], strict=True)
    ]
    groups = sorted(set(groups_of_item))
    gpos = {g: i for i, g in enumerate(groups)}
    item_group = np.array([gpos[g] for g in groups_of_item], dtype=np.int64)
    item_dept = np.array([dpos[str(d)] for d in items["department"]], dtype=np.int64)
    item_key = (items["kind"] == "key").to_numpy(dtype=bool)
    unknown_fixed = sorted(set(policy.fixed_counts) - set(items["item_id"].astype(str)))
    if unknown_fixed:
        warnings.append(
            {
                "code": "unknown_fixed_count_item",
                "message": "fixed_counts names unknown item(s): "
                + ", ".join(unknown_fixed),
            }
        )
    tier_safe = np.where(tier < 0, 0, tier).astype(np.int64)
    any_fresh = np.zeros(n, dtype=bool)
    eligible = np.zeros(n, dtype=bool)
    pools: list[I64] = []
    pool_pi: list[F64] = []
    pool_stratum: list[npt.NDArray[np.int8]] = []
    stratum_n: list[I64 | None] = []
    n_items = len(items)
    scope_counts = np.zeros((n_items, len(TIERS)), dtype=np.int64)
    recent_counts = np.zeros((n_items, len(TIERS)), dtype=np.int64)
    use_ks_strata = policy.key_supervision_ratio is not None
    pool_unscaled: list[npt.NDArray[np.bool_]] = []
    pending: list[tuple[int, str, bool, I64, npt.NDArray[np.int8]]] = []
    cand_cache: dict[int, I64] = {}
    any_scope_idx: list[I64] = []
    for i in range(n_items):
        item_id = str(items["item_id"].iloc[i])
        skey = id(scopes[i])
        if skey not in cand_cache:
            cand_cache[skey] = np.flatnonzero(scopes[i] & base_ok).astype(np.int64)
            any_scope_idx.append(cand_cache[skey])
        cand = cand_cache[skey]
        rec_mask = recent.get(int(item_dept[i]))
        fresh = cand if rec_mask is None else cand[~rec_mask[cand]]
        t_cand = tier_safe[cand]
        t_fresh = tier_safe[fresh]
        scope_counts[i] = np.bincount(t_cand, minlength=len(TIERS))[: len(TIERS)]
        recent_counts[i] = (
            scope_counts[i] - np.bincount(t_fresh, minlength=len(TIERS))[: len(TIERS)]
        )
        any_fresh[fresh] = True
        ks_f = ks[fresh]
        pi_f = np.where(ks_f, ks_pi[i][t_fresh], base_pi[i][t_fresh])
        fixed = item_id in policy.fixed_counts
        if fixed:
            idx, t_idx, pis, ks_i = fresh, t_fresh, pi_f, ks_f
        else:
            pos = pi_f > 0
            idx, t_idx, pis, ks_i = fresh[pos], t_fresh[pos], pi_f[pos], ks_f[pos]
        eligible[idx] = True
        strat = (t_idx * 2 + (ks_i & use_ks_strata)).astype(np.int8)
        pools.append(idx)
        pool_pi.append(pis)
        pool_stratum.append(strat)
        # Full coverage (ratio 1, e.g. every key item for tier D, R23) and the
        # key-supervision list's own ratio are mandates, never scaled by the budget.
        pool_unscaled.append((pis >= 1.0) | (ks_i & use_ks_strata))
        pending.append((i, item_id, fixed, idx, strat))

    scale = _budget_scale(
        pools,
        pool_pi,
        pool_unscaled,
        item_group,
        len(groups),
        n,
        share=policy.max_visit_share,
        n_eligible=int(eligible.sum()),
    )
    if np.isnan(scale):
        warnings.append(
            {
                "code": "budget_unattainable",
                "message": f"Full-coverage mandates (ratio 1) alone exceed "
                f"max_visit_share={policy.max_visit_share:.1%}; ratios applied as given.",
            }
        )
        scale = 1.0
    if scale < 1.0:
        pool_pi = [
            np.where(u, p, np.minimum(1.0, p * scale))
            for p, u in zip(pool_pi, pool_unscaled, strict=True)
        ]
        ledger.append(
            {
                "step": "budget",
                "max_visit_share": policy.max_visit_share,
                "scale": round(scale, 9),
            }
        )
        warnings.append(
            {
                "code": "ratios_scaled",
                "message": f"The ratios ask for more than {policy.max_visit_share:.1%} "
                f"of eligible entities to be visited; general-item ratios were scaled "
                f"by {scale:.4f} (max_visit_share).",
            }
        )
    for i, item_id, fixed, idx, strat in pending:
        pis = pool_pi[i]
        if fixed or policy.ratio_mode == "fixed":
            sizes = np.bincount(strat, minlength=2 * len(TIERS))
            if fixed:
                w = np.bincount(strat, weights=pis, minlength=2 * len(TIERS))
                total = policy.fixed_counts[item_id]
                if total > len(idx):
                    warnings.append(
                        {
                            "code": "fixed_count_exceeds_pool",
                            "message": f"Item {item_id}: fixed count {total} exceeds "
                            f"its pool of {len(idx)}; the whole pool is drawn.",
                            "item_id": item_id,
                        }
                    )
                weights = np.asarray(w if w.sum() > 0 else sizes, dtype=np.float64)
                alloc = _capped_split(min(total, len(idx)), weights, sizes)
            else:
                mean_pi = np.bincount(strat, weights=pis, minlength=2 * len(TIERS))
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio = np.where(sizes > 0, mean_pi / np.maximum(sizes, 1), 0.0)
                alloc = np.ceil(ratio * sizes - 1e-9).astype(np.int64)
                alloc = np.minimum(alloc, sizes)
            stratum_n.append(alloc.astype(np.int64))
        else:
            stratum_n.append(None)

    any_scope = np.zeros(n, dtype=bool)
    for c in any_scope_idx:
        any_scope[c] = True
    mark(~any_scope, "out_of_scope")
    mark(~any_fresh, "recently_checked")
    mark(~eligible, "zero_ratio")

    req = np.isin(tier, [TIERS.index(t) for t in policy.coverage_tiers])
    if policy.cover_key_supervision:
        req |= ks
    capacity = _capacity(dataset.inspectors, departments, policy.months)
    return _Prepared(
        year=year,
        policy=policy,
        uscc=uscc,
        rank=rank,
        is_sorted=is_sorted,
        tier=tier,
        ks=ks,
        reason=reason,
        used=used,
        remaining=remaining,
        hist_any=hist_any,
        items=items,
        item_group=item_group,
        item_dept=item_dept,
        item_key=item_key,
        groups=groups,
        departments=departments,
        pools=pools,
        pool_pi=pool_pi,
        pool_stratum=pool_stratum,
        stratum_n=stratum_n,
        scope_counts=scope_counts,
        recent_counts=recent_counts,
        eligible=eligible,
        required=req,
        capacity=capacity,
        hash_key=hash_key,
        ent_hash=ent_hash._h,
        prep_warnings=warnings,
        prep_ledger=ledger,
    )


# ----------------------------------------------------------------- the draw
@dataclass(frozen=True)
class _Draw:
    """Seed-dependent outcome as arrays (internal)."""

    chk_ent: I64  # one row per drawn check (before the cap)
    chk_item: I64
    chk_cov: B
    vis_ent: I64  # one row per visit before the cap, canonical order
    vis_group: I64
    chk_visit: I64
    vis_keep: B
    vis_key: B
    starts: dict[str, int]
    cov_unmet: I64


def _item_starts(prep: _Prepared, seed: str) -> tuple[list[int], dict[str, int]]:
    mode = prep.policy.coordination
    year = prep.year
    items = prep.items
    if mode == "negative":
        labels = [str(x) for x in items["item_id"]]
        s = start_points(labels, seed=seed, year=year, spread=True)
        return [s[x] for x in labels], s
    s = start_points(prep.groups, seed=seed, year=year, spread=(mode != "positive"))
    return [s[prep.groups[g]] for g in prep.item_group], s


def _draw(prep: _Prepared, seed: str) -> _Draw:
    policy = prep.policy
    n = len(prep.uscc)
    n_items = len(prep.items)
    independent = policy.coordination == "independent"
    h = np.zeros(n, dtype=np.uint64)
    if not independent:
        key = prn_key(seed, prep.year, "prn")
        if prep.ent_hash is not None and prep.hash_key == key:
            h = prep.ent_hash  # the joins already hashed every USCC under this key
        else:
            elig_idx = np.flatnonzero(prep.eligible)
            h[elig_idx] = keyed_uint64(prep.uscc[elig_idx], key)
    starts, start_map = _item_starts(prep, seed)
    ent_parts: list[I64] = []
    item_parts: list[I64] = []
    for i in range(n_items):
        idx = prep.pools[i]
        if independent:
            item_id = str(prep.items["item_id"].iloc[i])
            hv = keyed_uint64(prep.uscc[idx], prn_key(seed, prep.year, "prn", item_id))
        else:
            hv = h[idx]
        v = hv + np.uint64(starts[i])
        alloc = prep.stratum_n[i]
        if alloc is None:
            sel = idx[to_uniform(v) < prep.pool_pi[i]]
        else:
            strat = prep.pool_stratum[i]
            chosen: list[I64] = []
            for s in np.flatnonzero(alloc):
                pos = np.flatnonzero(strat == s)
                pick = smallest_n(v[pos], prep.rank[idx[pos]], int(alloc[s]))
                chosen.append(pos[pick])
            sel = idx[np.sort(np.concatenate(chosen))] if chosen else idx[:0]
        ent_parts.append(sel)
        item_parts.append(np.full(len(sel), i, dtype=np.int64))
    chk_ent = np.concatenate(ent_parts) if ent_parts else np.zeros(0, np.int64)
    chk_item = np.concatenate(item_parts) if item_parts else np.zeros(0, np.int64)
    chk_cov = np.zeros(len(chk_ent), dtype=bool)

    # Minimum coverage: an uncovered required entity gets its applicable item
    # with the smallest shifted PRN (the one "closest" to drawing it).
    has = np.zeros(n, dtype=bool)
    has[chk_ent] = True
    need = prep.required & ~has & ~prep.hist_any
    cov_unmet = np.flatnonzero(need & ~prep.eligible).astype(np.int64)
    need &= prep.eligible
    if need.any():
        best_v = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
        best_i = np.full(n, -1, dtype=np.int64)
        for i in range(n_items):
            idx = prep.pools[i]
            idx = idx[need[idx]]
            if not len(idx):
                continue
            if independent:
                item_id = str(prep.items["item_id"].iloc[i])
                hv = keyed_uint64(
                    prep.uscc[idx], prn_key(seed, prep.year, "prn", item_id)
                )
            else:
                hv = h[idx]
            v = hv + np.uint64(starts[i])
            better = (best_i[idx] < 0) | (v < best_v[idx])
            best_v[idx[better]] = v[better]
            best_i[idx[better]] = i
        add = np.flatnonzero(need & (best_i >= 0)).astype(np.int64)
        chk_ent = np.concatenate([chk_ent, add])
        chk_item = np.concatenate([chk_item, best_i[add]])
        chk_cov = np.concatenate([chk_cov, np.ones(len(add), dtype=bool)])

    # Merge into visits: one per (entity, group), in canonical order.
    n_groups = max(len(prep.groups), 1)
    vkey = prep.rank[chk_ent] * n_groups + prep.item_group[chk_item]
    uk, first, chk_visit = np.unique(vkey, return_index=True, return_inverse=True)
    chk_visit = chk_visit.astype(np.int64).ravel()
    vis_ent = chk_ent[first]
    vis_group = (uk % n_groups).astype(np.int64)
    nv = len(uk)
    prio = np.zeros(nv, dtype=np.int64)
    np.maximum.at(prio, chk_visit, np.where(chk_cov, 2, prep.item_key[chk_item] * 1))
    vis_key = np.zeros(nv, dtype=bool)
    np.logical_or.at(vis_key, chk_visit, prep.item_key[chk_item])
    vis_key |= prep.ks[vis_ent]

    # Cap: keep the first `remaining` visits of each entity in the order
    # (priority desc, second PRN asc); general visits go before key visits.
    vis_keep = np.ones(nv, dtype=bool)
    if nv:
        counts = np.bincount(vis_ent, minlength=n)
        over = counts[vis_ent] > prep.remaining[vis_ent]
        if over.any():
            ov = np.flatnonzero(over)
            labels = _visit_labels(prep, vis_ent[ov], vis_group[ov])
            prn2 = keyed_uint64(labels, prn_key(seed, prep.year, "cap"))
            order = np.lexsort((prn2, -prio[ov], prep.rank[vis_ent[ov]]))
            ents = vis_ent[ov][order]
            start = np.r_[True, ents[1:] != ents[:-1]]
            grp_start = np.maximum.accumulate(np.where(start, np.arange(len(ents)), 0))
            pos = np.arange(len(ents)) - grp_start
            drop = pos >= prep.remaining[ents]
            vis_keep[ov[order[drop]]] = False
    return _Draw(
        chk_ent=chk_ent,
        chk_item=chk_item,
        chk_cov=chk_cov,
        vis_ent=vis_ent,
        vis_group=vis_group,
        chk_visit=chk_visit,
        vis_keep=vis_keep,
        vis_key=vis_key,
        starts=start_map,
        cov_unmet=cov_unmet,
    )


def _visit_labels(prep: _Prepared, ent: I64, group: I64) -> npt.NDArray[np.object_]:
    g = np.array(["|" + x for x in prep.groups], dtype=object)
    out: npt.NDArray[np.object_] = prep.uscc[ent] + g[group]
    return out


# -------------------------------------------------------------------- months
def _waterfill(n: int, util: F64, inc: F64) -> I64:
    """Integer counts per month that equalise the bottleneck utilisation."""
    m = len(util)
    if n <= 0 or m == 0:
        return np.zeros(m, dtype=np.int64)
    lo = float(util.min())
    hi = float((util + n * inc).max())
    for _ in range(100):
        mid = (lo + hi) / 2
        if float(np.maximum(0.0, (mid - util) / inc).sum()) < n:
            lo = mid
        else:
            hi = mid
    x = np.maximum(0.0, (hi - util) / inc)
    return largest_remainder(n, x) if x.sum() > 0 else largest_remainder(n, np.ones(m))


def _assign_months(
    prep: _Prepared,
    seed: str,
    vis_ent: I64,
    vis_group: I64,
    vis_depts: list[tuple[int, ...]],
    vis_sig: I64,
) -> tuple[I64, npt.NDArray[np.int64], npt.NDArray[np.int64], list[dict[str, Any]]]:
    """Month per kept visit, balanced against department capacity."""
    policy = prep.policy
    nd = len(prep.departments)
    cap = prep.capacity.astype(np.float64)
    allowed = np.zeros(12, dtype=bool)
    allowed[np.array(policy.months) - 1] = True
    load = np.zeros((nd, 12), dtype=np.float64)
    nvis = np.zeros((nd, 12), dtype=np.int64)
    month = np.zeros(len(vis_ent), dtype=np.int64)
    warnings: list[dict[str, Any]] = []
    if not len(vis_ent):
        return month, load.astype(np.int64), nvis, warnings
    labels = _visit_labels(prep, vis_ent, vis_group)
    mprn = keyed_uint64(labels, prn_key(seed, prep.year, "month"))
    sig_sizes = np.bincount(vis_sig, minlength=len(vis_depts))
    order = sorted(
        range(len(vis_depts)),
        key=lambda s: (-len(vis_depts[s]), -int(sig_sizes[s]), vis_depts[s]),
    )
    no_cap: set[str] = set()
    for s in order:
        depts = list(vis_depts[s])
        members = np.flatnonzero(vis_sig == s)
        if not len(members):
            continue
        q = max(1, math.ceil(policy.team_size / len(depts)))
        c = cap[depts]
        feasible = allowed & (c > 0).all(axis=0)
        if not feasible.any():
            no_cap.update(
                prep.departments[dd] for dd in depts if not (cap[dd][allowed] > 0).any()
            )
            feasible = allowed.copy()
            counts = np.zeros(12, dtype=np.int64)
            counts[feasible] = largest_remainder(len(members), np.ones(feasible.sum()))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                util = (load[depts] / c).max(axis=0)
                inc = (q / c).max(axis=0)
            counts = np.zeros(12, dtype=np.int64)
            counts[feasible] = _waterfill(len(members), util[feasible], inc[feasible])
        members = members[np.lexsort((prep.rank[vis_ent[members]], mprn[members]))]
        month[members] = np.repeat(_MONTHS, counts)
        rows = np.array(depts, dtype=np.int64)
        load[rows] += q * counts[None, :]
        nvis[rows] += counts[None, :]
    if no_cap:
        warnings.append(
            {
                "code": "no_capacity",
                "message": "No active inspector capacity in the allowed months for "
                "department(s) " + ", ".join(sorted(no_cap)) + "; their visits are "
                "spread evenly over the allowed months.",
                "departments": sorted(no_cap),
            }
        )
    over = np.argwhere(load > cap)
    if len(over):
        binding = [
            {
                "group": f"department {prep.departments[d]}, month {m + 1}",
                "needed": int(load[d, m]),
                "available": int(cap[d, m]),
            }
            for d, m in over
        ]
        warnings.append(
            {
                "code": "capacity_exceeded",
                "message": f"Demand exceeds inspector capacity in {len(binding)} "
                "department-month(s) (inspector-slots: team of "
                f"{policy.team_size}); assignment will report unfilled visits.",
                "binding": binding,
            }
        )
    return month, load.astype(np.int64), nvis, warnings


# ------------------------------------------------------------------- outputs
def _sha_lines(values: Iterable[str]) -> str:
    h = hashlib.sha256()
    h.update("\n".join(values).encode("utf-8"))
    return h.hexdigest()


def _set_codes(
    owner: I64, member: I64, n_owner: int, n_member: int
) -> tuple[I64, list[tuple[int, ...]]]:
    """Encode the set of members of each owner; return codes and the sets."""
    w = max(1, (n_member + 63) // 64)
    bits = np.zeros((n_owner, w), dtype=np.uint64)
    word = member // 64
    bit = np.left_shift(np.uint64(1), (member % 64).astype(np.uint64))
    np.bitwise_or.at(bits, (owner, word), bit)
    uniq, inv = np.unique(bits, axis=0, return_inverse=True)
    sets = []
    for row in uniq:
        members = [
            int(k * 64 + b) for k in range(w) for b in range(64) if int(row[k]) >> b & 1
        ]
        sets.append(tuple(members))
    return np.asarray(inv, dtype=np.int64).ravel(), sets


def _jsonable(x: object) -> object:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


_DETAILS = {
    "deregistered": "The entity is deregistered (or not active).",
    "revoked": "The entity's business licence is revoked.",
    "no_tier": "The entity has no credit tier in the tiers frame.",
    "trigger_only": "The entity's tier is in trigger-based supervision (no random draw).",
    "observation_period": "New entity in its observation period (C5).",
    "cap_reached": "The tier's annual visit cap (R15) is already reached by visits "
    "earlier in the year.",
    "out_of_scope": "No check item applies to the entity's type and industry.",
    "recently_checked": "Every department with an applicable item checked the entity "
    "within its recent-check window.",
    "zero_ratio": "Every applicable item has ratio 0 for the entity's tier.",
}


def _cap_removals(
    prep: _Prepared, d: _Draw, removed: I64, item_ids: npt.NDArray[np.object_]
) -> pd.DataFrame:
    """One row per visit the cap removed (the entity keeps its other visits)."""
    cols = ["uscc", "tier", "group", "departments", "items", "reason_code", "detail"]
    if not len(removed):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
    n = len(prep.uscc)
    rank_of = np.full(len(d.vis_keep), -1, dtype=np.int64)
    rank_of[removed] = np.arange(len(removed))
    in_removed = rank_of[d.chk_visit] >= 0
    owner = rank_of[d.chk_visit[in_removed]]
    member = d.chk_item[in_removed]
    dcode, dsets = _set_codes(
        owner, prep.item_dept[member], len(removed), len(prep.departments)
    )
    icode, isets = _set_codes(owner, member, len(removed), max(len(item_ids), 1))
    dtxt = np.array(
        [";".join(prep.departments[x] for x in st) for st in dsets], dtype=object
    )
    itxt = np.array([";".join(item_ids[x] for x in st) for st in isets], dtype=object)
    ent = d.vis_ent[removed]
    n_rem = np.bincount(ent, minlength=n)[ent]
    n_tot = np.bincount(d.vis_ent, minlength=n)[ent]
    used = prep.used[ent]
    cap = prep.remaining[ent] + used
    tier_txt = np.array([*TIERS, ""], dtype=object)[prep.tier[ent]]
    detail = [
        f"{r} of {t} drawn visit(s) removed by the tier-{tr} cap of {c} visit(s) "
        f"a year ({u} earlier in {prep.year}), in the order of a second PRN."
        for r, t, tr, c, u in zip(n_rem, n_tot, tier_txt, cap, used, strict=True)
    ]
    out = pd.DataFrame(
        {
            "uscc": prep.uscc[ent],
            "tier": tier_txt,
            "group": np.array(prep.groups, dtype=object)[d.vis_group[removed]],
            "departments": dtxt[dcode],
            "items": itxt[icode],
            "reason_code": CAP_TRIMMED,
            "detail": np.array(detail, dtype=object),
        }
    ).astype(dict.fromkeys(cols, "str"))
    return out  # removed is in canonical (uscc, group) order already


def _build(prep: _Prepared, d: _Draw, seed: str) -> DrawResult:
    policy = prep.policy
    year = prep.year
    n = len(prep.uscc)
    items = prep.items
    item_ids = items["item_id"].astype(str).to_numpy(dtype=object)
    n_items = len(items)
    warnings = list(prep.prep_warnings)
    ledger: list[dict[str, Any]] = [
        {
            "step": "policy",
            "algorithm": ALGORITHM,
            "year": year,
            "policy_hash": config_hash(policy),
            "coordination": policy.coordination,
            "ratio_mode": policy.ratio_mode,
        }
    ]
    ledger.extend(prep.prep_ledger)

    # ---- eligibility snapshot
    reason = prep.reason
    elig = reason < 0
    if prep.is_sorted:
        elig_sorted = np.flatnonzero(elig)
        exc_idx = np.flatnonzero(~elig)
    else:
        order_all = np.argsort(prep.rank, kind="stable")
        elig_sorted = order_all[elig[order_all]]
        exc_idx = order_all[~elig[order_all]]
    tier_txt = np.array([*list(TIERS), ""], dtype=object)
    pool_hash = hashlib.sha256()
    pool_hash.update("\n".join(prep.uscc[elig_sorted].tolist()).encode("utf-8"))
    pool_hash.update(b"\x00" + prep.tier[elig_sorted].tobytes())
    pool_hash.update(b"\x00" + prep.ks[elig_sorted].tobytes())
    exc_counts = {
        code: int((reason == k).sum())
        for k, code in enumerate(EXCLUSION_REASONS)
        if (reason == k).any()
    }
    ledger.append(
        {
            "step": "pool",
            "n_entities": n,
            "n_eligible": int(elig.sum()),
            "pool_sha256": pool_hash.hexdigest(),
            "excluded": exc_counts,
        }
    )
    ledger.append(
        {
            "step": "starts",
            "coordination": policy.coordination,
            "prn_stream": "derive_key(seed, year, 'prn')",
            "starts": {k: f"{v:016x}" for k, v in sorted(d.starts.items())},
        }
    )

    # ---- checks, visits (kept after the cap)
    keep_chk = d.vis_keep[d.chk_visit]
    kept_vis = np.flatnonzero(d.vis_keep)
    new_id = np.full(len(d.vis_keep), -1, dtype=np.int64)
    new_id[kept_vis] = np.arange(len(kept_vis))
    k_ent = d.vis_ent[kept_vis]
    k_group = d.vis_group[kept_vis]
    ck = np.flatnonzero(keep_chk)
    c_vis = new_id[d.chk_visit[ck]]
    c_item = d.chk_item[ck]
    nk = len(kept_vis)
    if nk:
        dept_code, dept_sets = _set_codes(
            c_vis, prep.item_dept[c_item], nk, len(prep.departments)
        )
        item_code, item_sets = _set_codes(c_vis, c_item, nk, n_items)
    else:
        dept_code, item_code = np.zeros(0, np.int64), np.zeros(0, np.int64)
        dept_sets, item_sets = [], []
    dept_txt = np.array(
        [";".join(prep.departments[x] for x in s) for s in dept_sets], dtype=object
    )
    item_txt = np.array(
        [";".join(item_ids[x] for x in s) for s in item_sets], dtype=object
    )
    joint_sig = np.array([len(s) > 1 for s in dept_sets], dtype=bool)

    month, load, nvis, mwarn = _assign_months(
        prep, seed, k_ent, k_group, dept_sets, dept_code
    )
    warnings.extend(mwarn)
    width = max(6, len(str(nk)))
    visit_ids = np.array(
        [f"V{year}-{k:0{width}d}" for k in range(1, nk + 1)], dtype=object
    )
    visits = pd.DataFrame(
        {
            "visit_id": pd.array(visit_ids, dtype="str"),
            "uscc": pd.array(prep.uscc[k_ent], dtype="str"),
            "tier": pd.array(tier_txt[prep.tier[k_ent]], dtype="str"),
            "month": month.astype(np.int64),
            "departments": pd.array(
                dept_txt[dept_code] if nk else np.zeros(0, object), dtype="str"
            ),
            "items": pd.array(
                item_txt[item_code] if nk else np.zeros(0, object), dtype="str"
            ),
            "trigger": pd.array(
                np.where(d.vis_key[kept_vis], "key", "random").astype(object),
                dtype="str",
            ),
            "joint": joint_sig[dept_code] if nk else np.zeros(0, bool),
        }
    )
    groups_arr = np.array(prep.groups, dtype=object)
    co = np.lexsort((c_item, c_vis))
    checks = pd.DataFrame(
        {
            "visit_id": pd.array(visit_ids[c_vis[co]], dtype="str"),
            "uscc": pd.array(prep.uscc[d.chk_ent[ck][co]], dtype="str"),
            "item_id": pd.array(item_ids[c_item[co]], dtype="str"),
            "department": pd.array(
                np.array(prep.departments, dtype=object)[prep.item_dept[c_item[co]]]
                if len(co)
                else np.zeros(0, object),
                dtype="str",
            ),
            "group": pd.array(
                groups_arr[prep.item_group[c_item[co]]]
                if len(co)
                else np.zeros(0, object),
                dtype="str",
            ),
            "kind": pd.array(
                np.where(prep.item_key[c_item[co]], "key", "general").astype(object),
                dtype="str",
            ),
            "source": pd.array(
                np.where(d.chk_cov[ck][co], "coverage", "random").astype(object),
                dtype="str",
            ),
        }
    )

    # ---- per-task ledger and tables
    tier_of_chk = prep.tier[d.chk_ent].astype(np.int64)
    nt = len(TIERS)
    drawn = np.zeros((n_items, nt), dtype=np.int64)
    np.add.at(drawn, (d.chk_item[~d.chk_cov], tier_of_chk[~d.chk_cov]), 1)
    cov = np.zeros((n_items, nt), dtype=np.int64)
    np.add.at(cov, (d.chk_item[d.chk_cov], tier_of_chk[d.chk_cov]), 1)
    kept = np.zeros((n_items, nt), dtype=np.int64)
    np.add.at(kept, (d.chk_item[keep_chk], tier_of_chk[keep_chk]), 1)
    pool = np.zeros((n_items, nt), dtype=np.int64)
    expected = np.zeros((n_items, nt), dtype=np.float64)
    nominal = np.zeros((n_items, nt), dtype=np.float64)
    r07 = np.zeros((n_items, nt), dtype=np.int64)
    for i in range(n_items):
        t_idx = prep.tier[prep.pools[i]].astype(np.int64)
        pool[i] = np.bincount(t_idx, minlength=nt)[:nt]
        pis = prep.pool_pi[i]
        sum_pi = np.bincount(t_idx, weights=pis, minlength=nt)[:nt]
        with np.errstate(invalid="ignore", divide="ignore"):
            nominal[i] = np.where(pool[i] > 0, sum_pi / np.maximum(pool[i], 1), 0.0)
        r07[i] = np.ceil(sum_pi - 1e-9).astype(np.int64)
        alloc = prep.stratum_n[i]
        if alloc is None:
            expected[i] = sum_pi
        else:
            # SRSWOR draws exactly the allocation: ceil(ratio x pool) per
            # stratum (R07), or the split of a fixed count.
            expected[i] = alloc.reshape(nt, 2).sum(axis=1)
            r07[i] = expected[i].astype(np.int64)
        sel = d.chk_ent[(d.chk_item == i) & ~d.chk_cov]
        sel = sel[np.argsort(prep.rank[sel], kind="stable")]
        ledger.append(
            {
                "step": "task",
                "item_id": str(item_ids[i]),
                "department": prep.departments[prep.item_dept[i]],
                "group": prep.groups[prep.item_group[i]],
                "method": "srswor" if alloc is not None else "poisson",
                "pool": {t: int(pool[i, j]) for j, t in enumerate(TIERS) if pool[i, j]},
                "expected": round(float(expected[i].sum()), 6),
                "drawn": {
                    t: int(drawn[i, j]) for j, t in enumerate(TIERS) if drawn[i, j]
                },
                "drawn_sha256": _sha_lines(prep.uscc[sel].tolist()),
            }
        )
    method = np.array(
        ["srswor" if a is not None else "poisson" for a in prep.stratum_n], dtype=object
    )
    base_cols = {
        "item_id": item_ids,
        "department": np.array(prep.departments, dtype=object)[prep.item_dept]
        if n_items
        else np.zeros(0, object),
        "group": groups_arr[prep.item_group] if n_items else np.zeros(0, object),
        "kind": np.where(prep.item_key, "key", "general").astype(object),
        "method": method,
    }
    tot_pool = pool.sum(axis=1)
    tasks = pd.DataFrame(
        {
            **base_cols,
            "pool_size": tot_pool,
            "ratio": np.where(
                tot_pool > 0,
                (nominal * pool).sum(axis=1) / np.maximum(tot_pool, 1),
                0.0,
            ),
            "expected": expected.sum(axis=1),
            "r07_count": r07.sum(axis=1),
            "drawn": drawn.sum(axis=1),
            "coverage": cov.sum(axis=1),
            "kept": kept.sum(axis=1),
            "removed_by_cap": (drawn + cov - kept).sum(axis=1),
        }
    )
    strata = pd.DataFrame(
        {
            **{k: np.repeat(v, nt) for k, v in base_cols.items()},
            "tier": np.tile(np.array(TIERS, dtype=object), n_items),
            "n_scope": prep.scope_counts.ravel(),
            "n_recently_checked": prep.recent_counts.ravel(),
            "pool_size": pool.ravel(),
            "ratio": nominal.ravel(),
            "expected": expected.ravel(),
            "r07_count": r07.ravel(),
            "drawn": drawn.ravel(),
            "coverage": cov.ravel(),
            "kept": kept.ravel(),
        }
    )
    strata = strata[strata["n_scope"] > 0].reset_index(drop=True)

    # ---- coverage
    if prep.required.any():
        unmet_reason = reason[d.cov_unmet]
        unmet_by_reason = {
            EXCLUSION_REASONS[k]: int((unmet_reason == k).sum())
            for k in sorted(set(unmet_reason.tolist()))
            if k >= 0
        }
        ledger.append(
            {
                "step": "coverage",
                "required": int(prep.required.sum()),
                "added": int(d.chk_cov.sum()),
                "unmet": len(d.cov_unmet),
                "unmet_by_reason": unmet_by_reason,
            }
        )
        if len(d.cov_unmet):
            warnings.append(
                {
                    "code": "coverage_unmet",
                    "message": f"{len(d.cov_unmet)} entity(ies) required by the "
                    "minimum-coverage rule cannot be visited: "
                    + ", ".join(f"{k} {v}" for k, v in unmet_by_reason.items()),
                    "count": len(d.cov_unmet),
                }
            )

    # ---- merge and cap records
    nv_all = len(d.vis_keep)
    removed = np.flatnonzero(~d.vis_keep)
    rem_labels = _visit_labels(prep, d.vis_ent[removed], d.vis_group[removed])
    ledger.append(
        {
            "step": "merge",
            "n_checks": len(d.chk_ent),
            "n_visits": nv_all,
            "n_joint_visits": int(
                (np.bincount(d.chk_visit, minlength=nv_all) > 1).sum()
            )
            if nv_all
            else 0,
        }
    )
    ledger.append(
        {
            "step": "cap",
            "caps": {t: policy.cap_of(t) for t in TIERS},
            "exempt_triggers": list(policy.exempt_triggers),
            "n_visits_removed": len(removed),
            "n_entities_trimmed": len(np.unique(d.vis_ent[removed])),
            "removed_sha256": _sha_lines(sorted(rem_labels.tolist())),
        }
    )
    months_df = pd.DataFrame(
        {
            "department": np.repeat(np.array(prep.departments, dtype=object), 12),
            "month": np.tile(_MONTHS, len(prep.departments)),
            "capacity_slots": prep.capacity.ravel(),
            "demand_slots": load.ravel(),
            "visits": nvis.ravel(),
        }
    )
    ledger.append(
        {
            "step": "months",
            "months": list(policy.months),
            "team_size": policy.team_size,
            "demand_slots": {
                dep: int(load[k].sum()) for k, dep in enumerate(prep.departments)
            },
            "capacity_slots": {
                dep: int(prep.capacity[k].sum())
                for k, dep in enumerate(prep.departments)
            },
            "overloaded": [
                w["binding"] for w in mwarn if w["code"] == "capacity_exceeded"
            ],
        }
    )

    # ---- exclusions (entities eligible for no task) and cap removals (visits)
    codes = np.array(EXCLUSION_REASONS, dtype=object)
    det = np.array([_DETAILS[c] for c in EXCLUSION_REASONS], dtype=object)
    exclusions = pd.DataFrame(
        {
            "uscc": pd.array(prep.uscc[exc_idx], dtype="str"),
            "reason_code": pd.array(codes[reason[exc_idx]], dtype="str"),
            "detail": pd.array(det[reason[exc_idx]], dtype="str"),
        }
    )
    cap_removals = _cap_removals(prep, d, removed, item_ids)
    trim_ents = np.unique(d.vis_ent[removed])

    # ---- accounting per tier
    tcode = np.where(prep.tier < 0, nt, prep.tier).astype(np.int64)
    nr = len(EXCLUSION_REASONS) + 1
    joint_counts = np.bincount(
        tcode * nr + (reason.astype(np.int64) + 1), minlength=(nt + 1) * nr
    ).reshape(nt + 1, nr)
    n_input = joint_counts.sum(axis=1)
    n_elig = joint_counts[:, 0]
    by_reason = {
        code: joint_counts[:, k + 1] for k, code in enumerate(EXCLUSION_REASONS)
    }
    n_drawn = np.bincount(tcode[np.unique(k_ent)], minlength=nt + 1)
    n_vis = np.bincount(tcode[k_ent], minlength=nt + 1)
    n_chk = np.bincount(tcode[d.chk_ent[keep_chk]], minlength=nt + 1)
    n_trim = np.bincount(tcode[trim_ents], minlength=nt + 1)
    n_removed = np.bincount(tcode[d.vis_ent[removed]], minlength=nt + 1)
    pool_t = np.r_[pool.sum(axis=0), 0]
    exp_t = np.r_[(nominal * pool).sum(axis=0), 0.0]
    with np.errstate(invalid="ignore", divide="ignore"):
        target = np.where(pool_t > 0, exp_t / np.maximum(pool_t, 1), np.nan)
        realized = np.where(pool_t > 0, n_chk / np.maximum(pool_t, 1), np.nan)
        share = np.where(n_elig > 0, n_drawn / np.maximum(n_elig, 1), np.nan)
    labels = [*TIERS, "none"]
    acc = pd.DataFrame(
        {
            "tier": labels,
            "n_input": n_input,
            "n_eligible": n_elig,
            "n_excluded": n_input - n_elig,
            **{f"excluded_{c}": v for c, v in by_reason.items()},
            "n_drawn": n_drawn,
            "n_visits": n_vis,
            "n_checks": n_chk,
            "n_cap_trimmed": n_trim,
            "n_visits_removed": n_removed,
            "target_ratio": target,
            "realized_ratio": realized,
            "drawn_share": share,
        }
    )
    acc = acc[(acc["n_input"] > 0) | acc["tier"].isin(["A", "B", "C", "D"])]
    acc = acc.reset_index(drop=True)

    ledger.append(
        {
            "step": "result",
            "n_visits": nk,
            "n_joint_visits": int(visits["joint"].sum()),
            "n_checks": len(checks),
            "visits_table_hash": table_hash(visits),
        }
    )
    if warnings:
        ledger.append({"step": "warnings", "warnings": warnings})
    for w in warnings:
        level = logging.INFO if w["code"] == "ratios_scaled" else logging.WARNING
        logger.log(level, "draw %s: %s", w["code"], w["message"])
    ledger = [_jsonable(r) for r in ledger]  # type: ignore[misc]
    return DrawResult(
        visits=visits,
        exclusions=exclusions,
        accounting=acc,
        tasks=tasks,
        strata=strata,
        checks=checks,
        cap_removals=cap_removals,
        months=months_df,
        ledger=ledger,
        warnings=[_jsonable(w) for w in warnings],  # type: ignore[misc]
        year=year,
        seed=seed,
        policy=policy,
    )


# ------------------------------------------------------------------ public API
def draw_visits(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy | None = None,
    *,
    year: int,
    seed: str,
    inclusion_keys: int = 0,
) -> DrawResult:
    """Draw the year's visits: coordinated, tier-stratified, capped, by month.

    Parameters
    ----------
    dataset : Dataset
        The validated dataset (entities, items, history, inspectors are used).
    tiers : pandas.DataFrame
        At least ``uscc, tier`` (``A``-``E``), e.g. ``rate_entities(...).table``.
        Entities missing from it are excluded with reason ``no_tier``.
    policy : SamplingPolicy, optional
        Defaults to ``SamplingPolicy()``.
    year : int
        The plan year (keys the PRNs; history of this year counts toward caps).
    seed : str
        Any string, e.g. a published lottery result. All randomness derives
        from it: ``derive_key(seed, year, "prn" | "start" | "cap" | "month")``.
    inclusion_keys : int, default 0
        When positive, also estimate inclusion probabilities per stratum by
        Monte Carlo over this many keys (:func:`estimate_inclusion`).

    Returns
    -------
    DrawResult

    Raises
    ------
    DataValidationError
        The tiers frame lacks a column, repeats an entity or has an unknown tier.
    InfeasiblePlanError
        Only with ``policy.on_conflict == "raise"``: coverage or capacity fails.

    Examples
    --------
    >>> from creditsup.schemas import validate_dataset
    >>> from creditsup.uscc import generate
    >>> ids = generate(6, rng=np.random.default_rng(1))
    >>> ds = validate_dataset({
    ...     "entities": pd.DataFrame({"uscc": ids, "name": list("abcdef"),
    ...         "entity_type": "enterprise", "industry": "F5211",
    ...         "region": "140902", "established": "2010-01-01",
    ...         "status": ["active"] * 5 + ["deregistered"]}),
    ...     "items": pd.DataFrame({"item_id": ["M1", "F1"],
    ...         "department": ["market", "food"], "name": ["m", "f"],
    ...         "legal_basis": ["law 1", "law 2"], "kind": "general",
    ...         "joint_group": ["G", "G"]}),
    ...     "inspectors": pd.DataFrame({"inspector_id": ["i1", "i2"],
    ...         "name": ["x", "y"], "department": ["market", "food"],
    ...         "region": "140902", "expertise": "general", "monthly_capacity": 4})})
    >>> tiers = pd.DataFrame({"uscc": ids, "tier": "D"})
    >>> res = draw_visits(ds, tiers, SamplingPolicy(ratios={"D": 1.0}),
    ...                   year=2027, seed="demo")
    >>> len(res.visits), bool(res.visits["joint"].all())
    (5, True)
    >>> res.visits["departments"].iloc[0]
    'food;market'
    >>> res.exclusions["reason_code"].tolist()
    ['deregistered']
    """
    policy = policy if policy is not None else SamplingPolicy()
    prep = _prepare(
        dataset, tiers, policy, int(year), hash_key=prn_key(seed, int(year), "prn")
    )
    result = _build(prep, _draw(prep, seed), seed)
    if policy.on_conflict == "raise":
        bad = [
            w
            for w in result.warnings
            if w["code"] in ("coverage_unmet", "capacity_exceeded")
        ]
        if bad:
            binding = [b for w in bad for b in w.get("binding", [])]
            raise InfeasiblePlanError(
                "; ".join(str(w["message"]) for w in bad), binding=binding
            )
    if inclusion_keys > 0:
        inc = _estimate(prep, n_keys=inclusion_keys, seed=f"{seed}/inclusion")
        result = dataclasses.replace(result, inclusion=inc)
    return result


def _estimate(
    prep: _Prepared, *, n_keys: int, seed: str, by: str = "stratum"
) -> pd.DataFrame:
    n_items = len(prep.items)
    nt = len(TIERS)
    n = len(prep.uscc)
    per_entity = by == "entity"
    sizes = np.array([len(p) for p in prep.pools], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)]
    pair_drawn = np.zeros(int(offsets[-1]), dtype=np.int64)
    pair_final = np.zeros(int(offsets[-1]), dtype=np.int64)
    pos_in_pool = np.full(n if per_entity else 0, -1, dtype=np.int64)
    s_drawn = np.zeros((n_items, nt), dtype=np.int64)
    s_final = np.zeros((n_items, nt), dtype=np.int64)
    s_final_sq = np.zeros((n_items, nt), dtype=np.float64)
    a_final_sq = np.zeros(nt, dtype=np.float64)
    any_final = np.zeros(n, dtype=np.int64)
    for k in range(n_keys):
        d = _draw(prep, f"{seed}#{k}")
        t = prep.tier[d.chk_ent].astype(np.int64)
        keep = d.vis_keep[d.chk_visit]
        rnd = ~d.chk_cov
        np.add.at(s_drawn, (d.chk_item[rnd], t[rnd]), 1)
        one = np.zeros((n_items, nt), dtype=np.int64)
        np.add.at(one, (d.chk_item[keep], t[keep]), 1)
        s_final += one
        s_final_sq += one.astype(np.float64) ** 2
        vis_ent = np.unique(d.chk_ent[keep])
        any_final[vis_ent] += 1
        a_final_sq += np.bincount(prep.tier[vis_ent], minlength=nt)[:nt] ** 2.0
        if per_entity:
            # position of each check in the concatenated (item, pool) pairs
            pair = np.empty(len(d.chk_ent), dtype=np.int64)
            for i in np.unique(d.chk_item):
                m = d.chk_item == i
                pos_in_pool[prep.pools[i]] = np.arange(len(prep.pools[i]))
                pair[m] = offsets[i] + pos_in_pool[d.chk_ent[m]]
            np.add.at(pair_drawn, pair[rnd], 1)
            np.add.at(pair_final, pair[keep], 1)
    elig = prep.reason < 0
    if per_entity:
        rows = []
        for i in range(n_items):
            p = prep.pools[i]
            sl = slice(int(offsets[i]), int(offsets[i + 1]))
            rows.append(
                pd.DataFrame(
                    {
                        "uscc": prep.uscc[p],
                        "item_id": str(prep.items["item_id"].iloc[i]),
                        "tier": np.array(TIERS, dtype=object)[prep.tier[p]],
                        "target_pi": prep.pool_pi[i]
                        if prep.stratum_n[i] is None
                        else _srswor_pi(prep, i),
                        "pi_drawn": pair_drawn[sl] / n_keys,
                        "pi_final": pair_final[sl] / n_keys,
                    }
                )
            )
        e = np.flatnonzero(elig)
        rows.append(
            pd.DataFrame(
                {
                    "uscc": prep.uscc[e],
                    "item_id": "(any)",
                    "tier": np.array(TIERS, dtype=object)[prep.tier[e]],
                    "target_pi": np.nan,
                    "pi_drawn": np.nan,
                    "pi_final": any_final[e] / n_keys,
                }
            )
        )
        out = pd.concat(rows, ignore_index=True)
        out["n_keys"] = n_keys
        return out
    recs = []
    for i in range(n_items):
        p = prep.pools[i]
        t_idx = prep.tier[p].astype(np.int64)
        pool = np.bincount(t_idx, minlength=nt)[:nt]
        tpi = prep.pool_pi[i] if prep.stratum_n[i] is None else _srswor_pi(prep, i)
        sum_pi = np.bincount(t_idx, weights=tpi, minlength=nt)[:nt]
        for j in np.flatnonzero(pool):
            denom = pool[j] * n_keys
            pf = s_final[i, j] / denom
            se = _mean_se(s_final[i, j], s_final_sq[i, j], n_keys, int(pool[j]))
            recs.append(
                {
                    "item_id": str(prep.items["item_id"].iloc[i]),
                    "department": prep.departments[prep.item_dept[i]],
                    "tier": TIERS[j],
                    "pool_size": int(pool[j]),
                    "target_pi": float(sum_pi[j] / pool[j]),
                    "pi_drawn": float(s_drawn[i, j] / denom),
                    "pi_final": float(pf),
                    "se_final": se,
                    "n_keys": n_keys,
                }
            )
    for jt in range(nt):
        m = elig & (prep.tier == jt)
        if not m.any():
            continue
        pf = float(any_final[m].mean() / n_keys)
        se = _mean_se(int(any_final[m].sum()), a_final_sq[jt], n_keys, int(m.sum()))
        recs.append(
            {
                "item_id": "(any)",
                "department": "(any)",
                "tier": TIERS[jt],
                "pool_size": int(m.sum()),
                "target_pi": np.nan,
                "pi_drawn": np.nan,
                "pi_final": pf,
                "se_final": se,
                "n_keys": n_keys,
            }
        )
    return pd.DataFrame(recs)


def _mean_se(total: float, total_sq: float, n_keys: int, size: int) -> float:
    """Standard error of the mean per-key stratum share (from per-key counts)."""
    if n_keys < 2 or size == 0:
        return float("nan")
    mean = total / n_keys
    var = max(total_sq / n_keys - mean**2, 0.0) * n_keys / (n_keys - 1)
    return float(math.sqrt(var / n_keys) / size)


def _srswor_pi(prep: _Prepared, i: int) -> F64:
    alloc = prep.stratum_n[i]
    assert alloc is not None
    strat = prep.pool_stratum[i].astype(np.int64)
    sizes = np.bincount(strat, minlength=len(alloc))
    with np.errstate(invalid="ignore", divide="ignore"):
        pi = np.where(sizes > 0, alloc / np.maximum(sizes, 1), 0.0)
    out: F64 = pi[strat].astype(np.float64)
    return out


def estimate_inclusion(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy | None = None,
    *,
    year: int,
    n_keys: int = 200,
    seed: str = "creditsup-inclusion",
    by: Literal["stratum", "entity"] = "stratum",
) -> pd.DataFrame:
    """Monte Carlo inclusion probabilities of the draw, after caps and coverage.

    Caps and minimum coverage change the inclusion probabilities that the
    ratios set, so they are estimated by re-running the draw under
    ``n_keys`` independent seeds ``f"{seed}#{k}"``. The preparation (pools,
    eligibility) is done once.

    Parameters
    ----------
    by : {"stratum", "entity"}
        ``"stratum"``: one row per (item, tier) with ``pool_size``,
        ``target_pi`` (mean nominal probability), ``pi_drawn`` (before the cap),
        ``pi_final`` (after cap and coverage) and ``se_final``; plus rows with
        ``item_id == "(any)"``: the probability that an eligible entity of the
        tier is visited at all. ``"entity"``: the same per (entity, item)
        pair (for small pools).

    Examples
    --------
    >>> from creditsup.schemas import validate_dataset
    >>> from creditsup.uscc import generate
    >>> ids = generate(40, rng=np.random.default_rng(2))
    >>> ds = validate_dataset({
    ...     "entities": pd.DataFrame({"uscc": ids, "name": "e",
    ...         "entity_type": "enterprise", "industry": "F5211",
    ...         "region": "140902", "established": "2010-01-01", "status": "active"}),
    ...     "items": pd.DataFrame({"item_id": ["M1"], "department": ["market"],
    ...         "name": ["m"], "legal_basis": ["law"], "kind": "general"}),
    ...     "inspectors": pd.DataFrame({"inspector_id": ["i1"], "name": ["x"],
    ...         "department": ["market"], "region": "140902", "expertise": "general",
    ...         "monthly_capacity": 9})})
    >>> inc = estimate_inclusion(ds, pd.DataFrame({"uscc": ids, "tier": "B"}),
    ...                          SamplingPolicy(max_visit_share=None),
    ...                          year=2027, n_keys=50)
    >>> row = inc[inc["item_id"] == "M1"].iloc[0]
    >>> round(float(row["target_pi"]), 6), bool(abs(row["pi_final"] - 0.1) < 0.05)
    (0.1, True)
    """
    policy = policy if policy is not None else SamplingPolicy()
    prep = _prepare(dataset, tiers, policy, int(year))
    return _estimate(prep, n_keys=n_keys, seed=seed, by=by)
