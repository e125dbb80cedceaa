"""The vocabularies of the data contract, each written once.

Tiers, triggers, exclusion reasons, entity types, statuses, record kinds,
inspection results (R19) and the column lists of the plan's tables.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args


class Tier(StrEnum):
    """Credit-risk tiers, low to high risk (C1); ``E`` is the optional fifth tier."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


#: Tier labels, low to high risk (E is the optional fifth tier, C1).
TIERS: tuple[str, ...] = tuple(t.value for t in Tier)


class Trigger(StrEnum):
    """Why a check happens: the random draw, or a trigger (R15)."""

    RANDOM = "random"
    COMPLAINT = "complaint"
    BIG_DATA_ALERT = "big_data_alert"
    REFERRAL = "referral"
    LEGAL_MANDATE = "legal_mandate"


TRIGGERS: tuple[str, ...] = tuple(t.value for t in Trigger)
#: Triggers that may be exempted from the annual cap (R15); the policy's
#: ``exempt_triggers`` chooses among them.
EXEMPT_TRIGGERS: tuple[str, ...] = TRIGGERS[1:]


class ExclusionReason(StrEnum):
    """Why an entity is not in the draw; in priority order (the first applies)."""

    DEREGISTERED = "deregistered"
    REVOKED = "revoked"
    NO_TIER = "no_tier"
    TRIGGER_ONLY = "trigger_only"
    OBSERVATION_PERIOD = "observation_period"
    CAP_REACHED = "cap_reached"
    OUT_OF_SCOPE = "out_of_scope"
    RECENTLY_CHECKED = "recently_checked"
    ZERO_RATIO = "zero_ratio"


#: Exclusion reason codes, in priority order (an entity gets the first that applies).
EXCLUSION_REASONS: tuple[str, ...] = tuple(r.value for r in ExclusionReason)

ENTITY_TYPES = ("enterprise", "individual", "cooperative", "other")
STATUSES = ("active", "deregistered", "revoked")
#: Kinds of credit records (contract §1).
RecordKind = Literal[
    "penalty",
    "abnormal_list",
    "serious_illegal_list",
    "complaint",
    "annual_report_late",
    "annual_report_missing",
    "check_problem",
    "tax_credit",
    "honor",
    "commitment_broken",
    "product_sampling_failed",
]
RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)
ITEM_KINDS = ("general", "key")
#: Inspection results, the publication enum (R19).
HistoryResult = Literal[
    "normal",
    "not_published",
    "false_info",
    "unreachable",
    "problem_corrected",
    "no_activity",
    "refused",
    "deregistered",
]
HISTORY_RESULTS: tuple[str, ...] = get_args(HistoryResult)
#: Results that count as "a problem was found" (everything except these).
PROBLEM_RESULTS = tuple(
    r for r in HISTORY_RESULTS if r not in ("normal", "no_activity", "deregistered")
)
TAX_LEVELS = ("A", "B", "M", "C", "D")

#: Columns of a plan's visits table (contract §3), in order.
VISIT_COLUMNS = (
    "visit_id",
    "uscc",
    "tier",
    "month",
    "departments",
    "items",
    "trigger",
    "joint",
)
#: Columns of a plan's assignments table (contract §3): one row per inspector.
ASSIGNMENT_COLUMNS = ("visit_id", "inspector_id", "department")

#: Columns of the public annual plan table (R06), in order.
PUBLIC_PLAN_COLUMNS = (
    "task_id",
    "task",
    "task_type",
    "item_kind",
    "legal_basis",
    "scope",
    "pool_size",
    "quantity",
    "ratio",
    "start_date",
    "end_date",
    "initiating_body",
    "checking_body",
    "mode",
)

#: Columns of the public results table (R17), in order.
PUBLIC_RESULT_COLUMNS = (
    "visit_id",
    "uscc",
    "name",
    "task",
    "result",
    "check_date",
    "checking_body",
    "published_on",
    "due_date",
)


#: Other names a bureau's export may use for a code, beyond the display labels
#: of :mod:`creditsup.labels` (which are accepted too).
ZH_ALIASES: dict[str, dict[str, str]] = {
    "entity_type": {
        "个体户": "individual",
        "合作社": "cooperative",
        "公司": "enterprise",
    },
    "status": {
        "在营": "active",
        "开业": "active",
        "在业": "active",
        "存续（在营、开业、在册）": "active",
        "已注销": "deregistered",
        "已吊销": "revoked",
        "吊销，未注销": "revoked",
    },
    "item_kind": {"一般": "general", "重点": "key"},
    "result": {"正常": "normal", "无问题": "normal"},
}

#: The stable rule codes of validation failures (``failure_cases["rule"]``).
RULE_CODES: tuple[str, ...] = (
    "missing_table",
    "missing_column",
    "missing_value",
    "wrong_type",
    "bad_date",
    "implausible_date",
    "duplicate_key",
    "invalid_uscc",
    "excel_mangled_uscc",
    "unknown_enum",
    "negative_value",
    "empty_legal_basis",
    "unknown_reference",
    "bad_list_value",
    "control_character",
)
