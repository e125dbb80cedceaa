"""The invariants of a plan bundle (``contract.md`` §3), checked on a plan.

Each check reads the policy the plan was drawn under (from its provenance), so
that it tests the rule the draw applied, not a default.
"""

from __future__ import annotations

import pandas as pd

from creditsup.assignment import audit_assignment
from creditsup.config import parse_config
from creditsup.plan.bundle import InspectionPlan
from creditsup.policy import Policy
from creditsup.schemas import Dataset

__all__ = ["check_invariants"]


def check_invariants(plan: InspectionPlan, dataset: Dataset) -> list[str]:
    """Every invariant of ``contract.md`` §3 that can be checked on a plan.

    Returns a list of human-readable violations (empty when the plan holds).
    The assignment rules are checked by
    :func:`creditsup.assignment.audit_assignment`.
    """
    problems: list[str] = []
    visits = plan.visits
    unfilled = {u["visit_id"] for u in plan.diagnostics.get("unfilled", [])}
    if "status" in visits.columns:  # visits cancelled mid-year (creditsup.year)
        unfilled |= set(visits.loc[visits["status"].eq("cancelled"), "visit_id"])
    staffed = visits[~visits["visit_id"].isin(unfilled)]
    policy = parse_config(Policy, plan.provenance["policy"])
    audit = audit_assignment(
        plan.assignments, staffed, dataset, policy=policy.assignment
    )
    problems += [
        f"assignment: {r.get('visit_id', '')} {r.get('rule', '')}: {r.get('detail', '')}"
        for r in audit.to_dict(orient="records")
    ]
    # caps: tier-A (policy) non-exempt visits per entity per year, history included
    caps = {t: c for t, c in policy.sampling.caps.items() if c is not None}
    exempt = list(policy.sampling.exempt_triggers)  # the rule the draw applied
    year = int(plan.provenance["year"])
    hist = dataset.history
    same_year = hist[(hist["date"].dt.year == year) & ~hist["trigger"].isin(exempt)]
    counted = visits[~visits["trigger"].isin(exempt)]
    n = (
        pd.concat([counted["uscc"], same_year["uscc"]])
        .value_counts()
        .rename("n")
        .to_frame()
        .join(plan.scores.set_index("uscc")["tier"])
    )
    n = n[n.index.isin(set(counted["uscc"]))]
    n["cap"] = n["tier"].map(caps)
    over = n[n["cap"].notna() & (n["n"] > n["cap"])]
    problems += [
        f"cap: {u} tier {r.tier} has {r.n} visits > cap {int(r.cap)}"
        for u, r in over.iterrows()
    ]
    # quiet months (R16): every visit in a month the policy allows, repair included
    outside = visits[~visits["month"].astype(int).isin(policy.sampling.months)]
    problems += [
        f"months: visit {v} in month {m}, outside {list(policy.sampling.months)}"
        for v, m in zip(outside["visit_id"], outside["month"], strict=True)
    ]
    # nothing lost: input = eligible + excluded per tier; drawn <= eligible
    acc = plan.accounting
    for row in acc.to_dict(orient="records"):
        if int(row["n_input"]) != int(row["n_eligible"]) + int(row["n_excluded"]):
            problems.append(
                f"accounting: tier {row['tier']}: input != eligible + excluded"
            )
        if int(row["n_drawn"]) > int(row["n_eligible"]):
            problems.append(f"accounting: tier {row['tier']}: drawn > eligible")
    if int(acc["n_input"].sum()) != len(dataset.entities):
        problems.append(
            f"accounting: {int(acc['n_input'].sum())} entities counted, "
            f"{len(dataset.entities)} in the input"
        )
    ents = dataset.entities.set_index("uscc")
    dead = ents.index[ents["status"].isin(["deregistered", "revoked"])]
    if visits["uscc"].isin(dead).any():
        problems.append("deregistered or revoked entities are visited")
    missing_dead = set(dead) - set(plan.exclusions["uscc"])
    if missing_dead:
        problems.append(
            f"{len(missing_dead)} deregistered/revoked entities not in exclusions"
        )
    unknown = set(visits["uscc"]) - set(ents.index)
    if unknown:
        problems.append(f"{len(unknown)} visited entities are not in the input")
    return problems
