"""Stage 0: the sampling policy (ratios, floors, caps, coordination, months).

Every constraint is declared on its field (``Annotated`` types below); the
only hand-written rules are the normalisation of tier keys and lists
(``"a"`` means tier ``A``, partial tables merge into the defaults, lists are
sorted and deduplicated), the mapping of the legacy ``max_visit_share`` to
``budget = "share"``, and the cross-field rules in one ``model_validator``
(C3: every tier drawn unless trigger-only; R08/R23: the legal floors, unless
waived with a reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from creditsup.config import FrozenModel
from creditsup.schemas import ENTITY_TYPES, EXEMPT_TRIGGERS, TIERS, RecordKind

__all__ = [
    "FLOOR_NAMES",
    "Floors",
    "Ratio",
    "SamplingPolicy",
    "SeparateVisit",
    "TargetedDraw",
    "TierName",
]

_DEFAULT_RATIOS = {"A": 0.05, "B": 0.10, "C": 0.30, "D": 0.70, "E": 1.0}
_DEFAULT_KEY_RATIOS = {"A": 0.05, "B": 0.10, "C": 0.30, "D": 1.0, "E": 1.0}
_DEFAULT_CAPS: dict[str, int | None] = {"A": 2, "B": 3, "C": 4, "D": 6, "E": None}
_NO_CAP_WORDS = ("none", "unlimited")
#: The legal floors a policy may waive (R08, R23).
FLOOR_NAMES = ("overall", "publicity", "key_d")
#: Tiers whose key items the ``key_d`` floor covers (R23: "D-class firms").
KEY_FLOOR_TIERS = ("D", "E")


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


def _sorted_keys(value: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(value.items()))


#: A probability: a number in [0, 1] (NaN is refused).
Ratio = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0)]
Month = Annotated[int, Field(ge=1, le=12)]
Cap = Annotated[int, Field(ge=1)] | None
if TYPE_CHECKING:
    TierName = str
    ExemptTrigger = str
    FloorName = str
    EntityType = str
else:  # the vocabularies live once, in creditsup.schemas
    TierName = Literal[TIERS]
    ExemptTrigger = Literal[EXEMPT_TRIGGERS]
    FloorName = Literal[FLOOR_NAMES]
    EntityType = Literal[ENTITY_TYPES]
TierList = Annotated[
    tuple[TierName, ...], BeforeValidator(_upper_list), AfterValidator(_sorted_unique)
]
Months = Annotated[tuple[Month, ...], AfterValidator(_sorted_unique)]
ItemList = Annotated[tuple[str, ...], AfterValidator(_sorted_unique)]


class Floors(FrozenModel):
    """The legal floors of the draw (R08, R23), configurable per locality.

    Examples
    --------
    >>> Floors().overall, Floors(publicity=0.05).publicity
    (0.05, 0.05)
    """

    overall: Ratio = Field(
        default=0.05,
        description="R08 (Zhenping): at least this share of the eligible "
        "(supervised) entities is visited in the year.",
    )
    publicity: Ratio = Field(
        default=0.03,
        description="R08 (SAIC Order No. 67; Hebei 2021): at least this share of "
        "eligible enterprises gets a publicity-information check (items with "
        "publicity = true, or listed in publicity_items).",
    )
    key_d: Ratio = Field(
        default=1.0,
        description="R23 (Hebei): key items are checked at at least this ratio "
        "for tiers D and E (1.0: every key item of every D entity).",
    )


class SeparateVisit(FrozenModel):
    """Items that stay out of the entity's one visit (e.g. another season).

    Examples
    --------
    >>> SeparateVisit(items=["fire-02", "fire-01"], months=[12, 11]).items
    ('fire-01', 'fire-02')
    """

    items: Annotated[ItemList, Field(min_length=1)] = Field(
        description="Item ids (or '@publicity') checked on this separate visit."
    )
    months: Months = Field(
        default=(),
        description="Months of this visit (within the policy's months); empty: "
        "the policy's months.",
    )


class TargetedDraw(FrozenModel):
    """An anomaly-forced, targeted draw (C2, R09): a filter, a ratio, items.

    Entities that pass *every* criterion given are drawn at ``ratio`` for the
    listed items (those that apply to them), on the same permanent random
    number as the rest of the draw, so the targeted checks ride on the
    entity's one visit. Shandong 2020: two years without an annual report
    → 20 %; 10 or more firms at one address → 10 %.

    Examples
    --------
    >>> t = TargetedDraw(name="no_report_2y", ratio=0.2, items=["@publicity"],
    ...                  record_kind="annual_report_missing", min_records=2)
    >>> t.lookback_days
    730
    >>> TargetedDraw(name="x", ratio=0.1, items=["M01"])
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: TargetedDraw: The targeted draw 'x' needs at least one filter criterion ...
    """

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Name of the targeted task (lower case, digits, '_').",
    )
    ratio: Ratio = Field(description="Share of the filtered entities drawn (R09).")
    items: Annotated[ItemList, Field(min_length=1)] = Field(
        description="Item ids checked; '@publicity' = the publicity items, "
        "'@all' = every item. An entity gets those that apply to it."
    )
    record_kind: RecordKind | None = Field(
        default=None,
        description="Credit-record kind to count (e.g. 'annual_report_missing').",
    )
    min_records: int = Field(
        default=1, ge=1, description="At least this many records of record_kind."
    )
    lookback_days: int = Field(
        default=730,
        ge=1,
        description="Records dated within this many days before 1 January of the "
        "plan year count (restored records do not).",
    )
    min_firms_at_address: int | None = Field(
        default=None,
        ge=2,
        description="At least this many active entities registered at the "
        "entity's address (cluster registration, C2).",
    )
    entity_types: tuple[EntityType, ...] = Field(
        default=(), description="Only these entity types (empty: any)."
    )
    industries: tuple[str, ...] = Field(
        default=(), description="Only these GB/T 4754 code prefixes (empty: any)."
    )
    tiers: TierList = Field(default=(), description="Only these tiers (empty: any).")
    min_capital: float | None = Field(
        default=None, ge=0, description="Registered capital at least this (yuan)."
    )
    key_supervision: bool | None = Field(
        default=None, description="Only entities on (true) or off (false) the list."
    )

    @model_validator(mode="after")
    def _v_criterion(self) -> TargetedDraw:
        given = (
            self.record_kind is not None,
            self.min_firms_at_address is not None,
            bool(self.entity_types),
            bool(self.industries),
            bool(self.tiers),
            self.min_capital is not None,
            self.key_supervision is not None,
        )
        if not any(given):
            raise ValueError(
                f"The targeted draw '{self.name}' needs at least one filter "
                "criterion (record_kind, min_firms_at_address, entity_types, "
                "industries, tiers, min_capital or key_supervision)."
            )
        return self


def _legacy_share(data: Any) -> Any:
    """``max_visit_share = x`` alone (policies before creditsup-prn-v2) means
    ``budget = "share"``: the documented mapping of the old budget."""
    if (
        isinstance(data, Mapping)
        and data.get("max_visit_share") is not None
        and "budget" not in data
    ):
        return {**data, "budget": "share"}
    return data


class SamplingPolicy(FrozenModel):
    """How the annual draw is made: what the ratios mean, and what must hold.

    A tier ratio is the share of the tier's eligible entities checked in the
    year (one permanent random number per entity across items and
    departments, ``coordination = "entity"``); item ratios keep their meaning
    per task (R07). The legal floors (R08, R23) are constraints: a policy
    below one is refused unless it waives it with a reason. All checks of an
    entity form one visit (R14) unless ``separate``. Capacity shortfalls are
    reported, or fitted with ``budget = "capacity"``. The defaults follow
    ``domain.md`` §c: the Lindian profile (A ≤5 %, B 5-20 %, C 21-60 %,
    D 61-100 %), clamped by the R15 cap (A at most 2 visits a year). Every
    field has a working default and a description
    (``creditsup policy-template`` prints them).

    Examples
    --------
    >>> p = SamplingPolicy(ratios={"D": 0.8}, caps={"B": 2})
    >>> p.ratios["D"], p.ratios["A"], p.caps["A"], p.caps["B"]
    (0.8, 0.05, 2, 2)
    >>> SamplingPolicy(ratios={"D": 1.5})
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'ratios.D' of SamplingPolicy must be <= 1. Got 1.5 instead.
    >>> SamplingPolicy(max_visit_share=0.05).budget  # an old policy's budget
    'share'
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
    coordination: Literal["entity", "mix", "positive", "negative", "independent"] = (
        Field(
            default="entity",
            description="'entity': one permanent random number per entity for every "
            "item and department, so entity-level inclusion follows the tier ratio "
            "and the items ride on one visit (default). 'positive': the same with a "
            "random common start. 'mix': same start within a joint group, spread "
            "across groups. 'negative': spread across all items (spreads the "
            "burden). 'independent': an independent PRN per item (baseline).",
        )
    )
    merge: Literal["entity", "joint_group"] = Field(
        default="entity",
        description="'entity': all random, key and targeted checks of an entity in "
        "the year form one visit, across departments (R14: 进一次门、查多项事), "
        "except the items in 'separate'. 'joint_group': one visit per joint group "
        "(or department), the behaviour before creditsup-prn-v2.",
    )
    separate: Annotated[dict[str, SeparateVisit], AfterValidator(_sorted_keys)] = Field(
        default_factory=dict,
        description="Named item groups that get a visit of their own, e.g. "
        "{ winter = { items = ['fire-02'], months = [11, 12] } }.",
    )
    max_multi_visit_share: Ratio = Field(
        default=0.02,
        description="Warn when more than this share of visited entities gets more "
        "than one visit in the year (separate groups, merge = 'joint_group').",
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
    floors: Floors = Field(
        default_factory=Floors,
        description="Legal floors (R08, R23): overall share of eligible entities "
        "visited, publicity checks of enterprises, key items for tier D. A policy "
        "below a floor is refused unless the floor is waived.",
    )
    waive: Annotated[tuple[FloorName, ...], AfterValidator(_sorted_unique)] = Field(
        default=(),
        description="Floors this locality waives explicitly ('overall', "
        "'publicity', 'key_d'); recorded in the draw ledger with waive_reason.",
    )
    waive_reason: str = Field(
        default="",
        description="Why the floors in 'waive' do not apply (required with waive).",
    )
    publicity_items: ItemList = Field(
        default=(),
        description="Item ids that count as publicity-information checks, in "
        "addition to items whose 'publicity' column is true.",
    )
    budget: Literal["none", "share", "capacity"] = Field(
        default="none",
        description="'none': draw the ratios as given; a capacity shortfall is "
        "reported (the plan exits 3). 'capacity': scale the discretionary ratios "
        "down until the roster can staff the visits, never below the floors. "
        "'share': scale them so that expected visits <= max_visit_share x "
        "eligible, never below the floors.",
    )
    max_visit_share: Annotated[float, Field(gt=0, le=1)] | None = Field(
        default=None,
        description="The share of budget = 'share'. Given alone (policies before "
        "creditsup-prn-v2) it means budget = 'share'.",
    )
    new_entity_tier: TierName = Field(
        default="B",
        description="Tier of an entity without one (registered after the scoring "
        "date, or absent from the tiers frame): 'B', normal supervision. With "
        "observation_days, C5's observation period applies to it.",
    )
    targeted: Annotated[tuple[TargetedDraw, ...], Field(max_length=62)] = Field(
        default=(),
        description="Anomaly-forced targeted draws (C2, R09), merged into the "
        "entities' visits: [[sampling.targeted]] name, ratio, items and filters.",
    )
    on_conflict: Literal["warn", "raise"] = Field(
        default="warn",
        description="When coverage or capacity cannot hold: record a warning, or "
        "raise InfeasiblePlanError.",
    )

    @model_validator(mode="before")
    @classmethod
    def _v_legacy(cls, data: Any) -> Any:
        return _legacy_share(data)

    @model_validator(mode="after")
    def _v_rules(self) -> SamplingPolicy:
        for t in TIERS:
            if self.ratios.get(t, 0.0) == 0.0 and t not in self.trigger_only_tiers:
                raise ValueError(
                    f"The 'ratio' for tier '{t}' is 0, but every tier must have a "
                    "draw probability > 0 (C3). List the tier in "
                    "'trigger_only_tiers' to switch it to trigger-based supervision."
                )
        if self.waive and not self.waive_reason.strip():
            raise ValueError(
                f"The floors {list(self.waive)} are waived without a reason: give "
                "'waive_reason' (it is recorded in the draw ledger)."
            )
        if self.budget == "share" and self.max_visit_share is None:
            raise ValueError("budget = 'share' needs 'max_visit_share'.")
        if "key_d" not in self.waive:
            for t in KEY_FLOOR_TIERS:
                got = 0.0 if t in self.trigger_only_tiers else self.key_ratios[t]
                if got < self.floors.key_d:
                    raise ValueError(
                        f"The 'key_ratios.{t}' is {got:g}, below the legal floor "
                        f"'key_d' ({self.floors.key_d:g}: key items for tier {t}, "
                        "R23). Raise it, or waive the floor: waive = ['key_d'] with "
                        "a waive_reason."
                    )
        if "overall" not in self.waive:
            drawn = [self.ratios[t] for t in TIERS if t not in self.trigger_only_tiers]
            if max(drawn, default=0.0) < self.floors.overall:
                raise ValueError(
                    f"Every tier ratio is below the legal floor 'overall' "
                    f"({self.floors.overall:g} of eligible entities a year, R08). "
                    "Raise the ratios, or waive the floor: waive = ['overall'] "
                    "with a waive_reason."
                )
        names = [t.name for t in self.targeted]
        if len(set(names)) != len(names):
            raise ValueError(
                f"The targeted draws of SamplingPolicy need distinct names. Got "
                f"{names} instead."
            )
        months = set(self.months)
        for name, sep in self.separate.items():
            if not set(sep.months) <= months:
                raise ValueError(
                    f"The months of separate visit '{name}' ({list(sep.months)}) "
                    f"must lie within the policy's months {sorted(months)}."
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
