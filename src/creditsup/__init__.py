"""creditsup: credit-tiered "double random, one public" (双随机、一公开) supervision.

The data flow, one module per step::

    io / schemas  ->  scoring / tiers  ->  sampling  ->  assignment  ->  plan
    (read, check)     (credit tiers)       (draw)        (inspectors)    (bundle)
                                                                          |
                                                          publish / report / evaluate

Examples
--------
>>> import creditsup as cs
>>> ds = cs.synthetic_district(2000, 30, seed=1)
>>> plan = cs.build_plan(ds, year=2026, seed="lottery 07-12-33")
>>> bool(len(plan.visits) > 0)
True
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from creditsup._calibration import CalibrationResult, calibrate_scorecard
    from creditsup.assignment import (
        AssignmentPolicy,
        AssignmentResult,
        assign_inspectors,
        audit_assignment,
        redraw,
    )
    from creditsup.config import load_config
    from creditsup.datasets import synthetic_district, synthetic_tables
    from creditsup.exceptions import (
        ConfigError,
        CreditsupError,
        CreditsupWarning,
        DataReadError,
        DataValidationError,
        InfeasiblePlanError,
        VerificationError,
    )
    from creditsup.fit import FitOptions, FitResult, fit_scorecard
    from creditsup.io import read_dataset, read_table, write_dataset
    from creditsup.plan import (
        InspectionPlan,
        build_plan,
        compute_commitment,
        load_plan,
        redraw_plan,
        verify_plan,
    )
    from creditsup.policy import Policy, load_policy, policy_template
    from creditsup.sampling import (
        DrawResult,
        SamplingPolicy,
        draw_visits,
        estimate_inclusion,
    )
    from creditsup.schemas import (
        Dataset,
        load_dataset,
        validate_dataset,
        validate_table,
    )
    from creditsup.scoring import (
        Scorecard,
        ScoreResult,
        default_scorecard,
        score_entities,
        scorecard_profiles,
    )
    from creditsup.tiers import TierPolicy, TierResult, assign_tiers, rate_entities

_LAZY: dict[str, str] = {
    "AssignmentPolicy": "creditsup.assignment",
    "AssignmentResult": "creditsup.assignment",
    "CalibrationResult": "creditsup._calibration",
    "ConfigError": "creditsup.exceptions",
    "CreditsupError": "creditsup.exceptions",
    "CreditsupWarning": "creditsup.exceptions",
    "DataReadError": "creditsup.exceptions",
    "DataValidationError": "creditsup.exceptions",
    "Dataset": "creditsup.schemas",
    "DrawResult": "creditsup.sampling",
    "FitOptions": "creditsup.fit",
    "FitResult": "creditsup.fit",
    "InfeasiblePlanError": "creditsup.exceptions",
    "InspectionPlan": "creditsup.plan",
    "Policy": "creditsup.policy",
    "SamplingPolicy": "creditsup.sampling",
    "ScoreResult": "creditsup.scoring",
    "Scorecard": "creditsup.scoring",
    "TierPolicy": "creditsup.tiers",
    "TierResult": "creditsup.tiers",
    "VerificationError": "creditsup.exceptions",
    "assign_inspectors": "creditsup.assignment",
    "assign_tiers": "creditsup.tiers",
    "audit_assignment": "creditsup.assignment",
    "build_plan": "creditsup.plan",
    "calibrate_scorecard": "creditsup._calibration",
    "compute_commitment": "creditsup.plan",
    "default_scorecard": "creditsup.scoring",
    "draw_visits": "creditsup.sampling",
    "estimate_inclusion": "creditsup.sampling",
    "fit_scorecard": "creditsup.fit",
    "load_config": "creditsup.config",
    "load_dataset": "creditsup.schemas",
    "load_plan": "creditsup.plan",
    "load_policy": "creditsup.policy",
    "policy_template": "creditsup.policy",
    "rate_entities": "creditsup.tiers",
    "read_dataset": "creditsup.io",
    "read_table": "creditsup.io",
    "redraw": "creditsup.assignment",
    "redraw_plan": "creditsup.plan",
    "score_entities": "creditsup.scoring",
    "scorecard_profiles": "creditsup.scoring",
    "synthetic_district": "creditsup.datasets",
    "synthetic_tables": "creditsup.datasets",
    "validate_dataset": "creditsup.schemas",
    "validate_table": "creditsup.schemas",
    "verify_plan": "creditsup.plan",
    "write_dataset": "creditsup.io",
}


def __getattr__(name: str) -> Any:
    """Import the public API lazily, so ``import creditsup`` stays fast."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'creditsup' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__version__ = "0.4.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AssignmentPolicy",
    "AssignmentResult",
    "CalibrationResult",
    "ConfigError",
    "CreditsupError",
    "CreditsupWarning",
    "DataReadError",
    "DataValidationError",
    "Dataset",
    "DrawResult",
    "FitOptions",
    "FitResult",
    "InfeasiblePlanError",
    "InspectionPlan",
    "Policy",
    "SamplingPolicy",
    "ScoreResult",
    "Scorecard",
    "TierPolicy",
    "TierResult",
    "VerificationError",
    "__version__",
    "assign_inspectors",
    "assign_tiers",
    "audit_assignment",
    "build_plan",
    "calibrate_scorecard",
    "compute_commitment",
    "default_scorecard",
    "draw_visits",
    "estimate_inclusion",
    "fit_scorecard",
    "load_config",
    "load_dataset",
    "load_plan",
    "load_policy",
    "policy_template",
    "rate_entities",
    "read_dataset",
    "read_table",
    "redraw",
    "redraw_plan",
    "score_entities",
    "scorecard_profiles",
    "synthetic_district",
    "synthetic_tables",
    "validate_dataset",
    "validate_table",
    "verify_plan",
    "write_dataset",
]
