"""Random assignment of inspectors to visits (the second "random" of 双随机).

Every visit gets a team of inspectors drawn at random among the assignments
that keep every hard rule (R11-R14):

* at least ``min_team`` inspectors (two by law), and on a joint visit at
  least one from each participating department;
* each inspector works in one of the visit's departments, is active and
  available that month, has no conflict with the entity (the ``conflicts``
  table, plus rotation: the inspectors of the entity's last visit are
  excluded) and holds the expertise of at least one of the visit's items of
  his department; every item is covered by an inspector of its department
  holding its expertise (an empty expertise means anyone of the department);
* no inspector exceeds ``monthly_capacity`` in any month.

The rules on one (task, inspector) pair are declared once, in
:mod:`creditsup.assignment.rules`; candidate arcs, the diagnosis and the
audit iterate over that registry.

Algorithm (``shared/research/scheduling.md`` §2, "Assignment"), one module
per stage:

====================  =======================================================
module                stage
====================  =======================================================
``policy``            :class:`AssignmentPolicy` and :class:`AssignmentResult`
``prepare``           the input tables as arrays: tasks (one per visit and
                      department), expertise bits, team sizes, priorities
``rules``             the registry of hard rules: masks, diagnosis text, audit
``candidates``        candidate (task, inspector) arcs, pruned to the region,
                      and their keyed random costs
``flow``              min-cost flow of one (department, month) group
``rounds``            the groups of a round on residual capacity, solved
                      through a ``mapper`` (serial, threads, Dask); retries
``cover``             CP-SAT for teams the flow cannot model (one inspector
                      covering several expertise areas)
``repair``            failed visits moved to the nearest month with room
``diagnose``          why a visit is unfilled, and the binding groups
``chain``             Metropolis chain that makes the draw uniform
``pairs``             the anti-collusion pair limit, repaired with CP-SAT
``outputs``           result tables and metrics
``audit``             :func:`audit_assignment`
``replacement``       :func:`redraw`: replace an inspector after the draw (R12)
``assign``            :func:`assign_inspectors`, the orchestrator;
                      :func:`estimate_exposure`
====================  =======================================================

All randomness derives from the seed string (keyed hashes of ids and
per-stage generators), so the result does not depend on input row order,
nor on the ``mapper`` that solves the groups of a round.
"""

from creditsup.assignment.assign import assign_inspectors, estimate_exposure
from creditsup.assignment.audit import audit_assignment
from creditsup.assignment.policy import (
    VIOLATION_COLUMNS,
    AssignmentPolicy,
    AssignmentResult,
)
from creditsup.assignment.replacement import redraw

__all__ = [
    "VIOLATION_COLUMNS",
    "AssignmentPolicy",
    "AssignmentResult",
    "assign_inspectors",
    "audit_assignment",
    "estimate_exposure",
    "redraw",
]
