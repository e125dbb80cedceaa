"""Stage 0: the sampling policy (ratios, caps, coordination, coverage, months).

Every constraint is declared on its field (``Annotated`` types below); the
only hand-written rules are the normalisation of tier keys and lists
(``"a"`` means tier ``A``, partial tables merge into the defaults, lists are
sorted and deduplicated) and the cross-field rule C3 in one
``model_validator``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from creditsup.config import FrozenModel
from creditsup.schemas import EXEMPT_TRIGGERS, TIERS

__all__ = ["Ratio", "SamplingPolicy", "TierName"]

_DEFAULT_RATIOS = {"A": 0.05, "B": 0.10, "C": 0.30, "D": 0.70, "E": 1.0}
_DEFAULT_KEY_RATIOS = {"A": 0.05, "B": 0.10, "C": 0.30, "D": 1.0, "E": 1.0}
_DEFAULT_CAPS: dict[str, int | None] = {"A": 2, "B": 3, "C": 4, "D": 6, "E": None}
_NO_CAP_WORDS = ("none", "unlimited")


def _tier_table(defaults: Mapping[str, Any]) -> BeforeValidator:
    """Normalise a per-tier table: upper-case keys, merged into ``defaults``."""

    def merge(value: object) -> object:
        if value is None:
            return dict(defaults)
        if not isinstance(value, Mapping):
            return value
        given = {str(k).strip().upper(): v for k, v in value.items()}
        if not defaults:
            return dict(sorted(given.items()))
        return {**defaults, **given}

    return BeforeValidator(merge)


def _no_cap_words(value: object) -> object:
    if isinstance(value, Mapping):
        return {
            k: None if isinstance(v, str) and v.strip().lower() in _NO_CAP_WORDS else v
            for k, v in value.items()
        }
    return value


def _upper_list(value: object) -> object:
    if isinstance(value, list | tuple):
        return [str(t).strip().upper() for t in value]
    return value


def _sorted_unique(value: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(sorted(set(value)))


def _sorted_keys(value: dict[str, int]) -> dict[str, int]:
    return dict(sorted(value.items()))


#: A probability: a number in [0, 1] (NaN is refused).
Ratio = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0)]
Month = Annotated[int, Field(ge=1, le=12)]
Cap = Annotated[int, Field(ge=1)] | None
if TYPE_CHECKING:
    TierName = str
    ExemptTrigger = str
else:  # the vocabularies live once, in creditsup.schemas
    TierName = Literal[TIERS]
    ExemptTrigger = Literal[EXEMPT_TRIGGERS]
TierList = Annotated[
    tuple[TierName, ...], BeforeValidator(_upper_list), AfterValidator(_sorted_unique)
]


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
    creditsup.exceptions.ConfigError: The 'ratios.D' of SamplingPolicy must be <= 1. Got 1.5 instead.
    """

    ratios: Annotated[dict[TierName, Ratio], _tier_table(_DEFAULT_RATIOS)] = Field(
        default_factory=lambda: dict(_DEFAULT_RATIOS),
        description="Sampling ratio per tier for general items (share of the pool).",
    )
    key_ratios: Annotated[dict[TierName, Ratio], _tier_table(_DEFAULT_KEY_RATIOS)] = (
        Field(
            default_factory=lambda: dict(_DEFAULT_KEY_RATIOS),
            description="Ratio per tier for key items (R03/R23: D covers all key items).",
        )
    )
    ratio_ceiling: Annotated[dict[TierName, Ratio], _tier_table({})] = Field(
        default_factory=dict,
        description="Upper bound per tier on general-item ratios, including item "
        "overrides (e.g. Shangrao: A <= 0.03). Key items and key-supervision "
        "entities bypass it (R23). Empty: no ceiling.",
    )
    key_supervision_ratio: Ratio | None = Field(
        default=None,
        description="Raise the ratio of key-supervision entities to at least this "
        "value for every item (R23; 1.0 checks them all). None: tier ratio.",
    )
    caps: Annotated[
        dict[TierName, Cap], _tier_table(_DEFAULT_CAPS), BeforeValidator(_no_cap_words)
    ] = Field(
        default_factory=lambda: dict(_DEFAULT_CAPS),
        description="At most this many visits per entity and year, by tier, across "
        "all departments (R15). None or 'none': no cap. Use trigger_only_tiers "
        "for no random visits at all.",
    )
    exempt_triggers: Annotated[
        tuple[ExemptTrigger, ...], AfterValidator(_sorted_unique)
    ] = Field(
        default=tuple(sorted(EXEMPT_TRIGGERS)),
        description="History triggers that do not count toward the cap (R15).",
    )
    trigger_only_tiers: TierList = Field(
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
    fixed_counts: Annotated[dict[str, Days], AfterValidator(_sorted_keys)] = Field(
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
    coverage_tiers: TierList = Field(
        default=(),
        description="Every eligible entity of these tiers is visited at least once "
        "(e.g. ['D']).",
    )
    cover_key_supervision: bool = Field(
        default=False,
        description="Every eligible key-supervision entity is visited at least once.",
    )
    months: Annotated[
        tuple[Month, ...], Field(min_length=1), AfterValidator(_sorted_unique)
    ] = Field(
        default=tuple(range(1, 13)),
        description="Months in which checks may take place (R16 quiet periods).",
    )
    recent_check_days: Days = Field(
        default=0,
        description="Exclude an entity from a department's items when that "
        "department checked it within this many days before 1 January (and "
        "earlier in the plan year). 0: off.",
    )
    recent_check_days_by_department: Annotated[
        dict[str, Days], AfterValidator(_sorted_keys)
    ] = Field(
        default_factory=dict,
        description="Per-department override of recent_check_days.",
    )
    observation_days: Days = Field(
        default=0,
        description="C5: entities established fewer than this many days before "
        "1 January of the plan year, in observation_tiers, are excluded "
        "('observation_period'). 0: off.",
    )
    observation_tiers: TierList = Field(
        default=("A", "B"), description="Tiers the observation period applies to."
    )
    team_size: int = Field(
        default=2, ge=1, description="Inspectors per visit, for the month balance."
    )
    max_visit_share: Annotated[float, Field(gt=0, le=1)] | None = Field(
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
