"""The annual plan end to end: build, save, load and verify a plan bundle.

Stages (modules):

- :mod:`~creditsup.plan.build`: :func:`build_plan` runs tiers → coordinated draw
  → inspector assignment from one seed string; :func:`redraw_plan` (R12).
- :mod:`~creditsup.plan._ledger`: canonical JSON, the hash-chained draw record
  and the publish-before-draw :func:`compute_commitment`.
- :mod:`~creditsup.plan.bundle`: :class:`InspectionPlan`, its files,
  atomic and safe :meth:`~InspectionPlan.save`, :func:`load_plan`.
- :mod:`~creditsup.plan.public`: the public view (一公开).
- :mod:`~creditsup.plan.verify`: :func:`verify_plan` re-derives a bundle.
- :mod:`~creditsup.plan.invariants`: :func:`check_invariants` (contract §3).

The policy lives in :mod:`creditsup.policy`; its names are re-exported here.
"""

from creditsup.plan._ledger import ALGORITHM_VERSION, SeedSource, compute_commitment
from creditsup.plan.build import ProgressFn, build_plan, parse_config_error, redraw_plan
from creditsup.plan.bundle import BUNDLE_FILES, InspectionPlan, load_plan
from creditsup.plan.invariants import check_invariants
from creditsup.plan.verify import VerifyReport, require_verified, verify_plan
from creditsup.policy import Policy, PublicationPolicy, load_policy, policy_template

__all__ = [
    "ALGORITHM_VERSION",
    "BUNDLE_FILES",
    "InspectionPlan",
    "Policy",
    "ProgressFn",
    "PublicationPolicy",
    "SeedSource",
    "VerifyReport",
    "build_plan",
    "check_invariants",
    "compute_commitment",
    "load_plan",
    "load_policy",
    "parse_config_error",
    "policy_template",
    "redraw_plan",
    "require_verified",
    "verify_plan",
]
