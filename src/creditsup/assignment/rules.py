"""The one registry of hard assignment rules (R11-R14).

Each :class:`HardRule` says, once: its name, the input columns it reads, what
it prepares from the tables, its vectorised eligibility mask over candidate
(task, inspector) arcs, how the diagnosis speaks of it (English and Chinese)
and its check over an assignments frame. Candidate arcs
(:func:`eligible`), the diagnosis of unfilled visits and
:func:`~creditsup.assignment.audit_assignment` all iterate over the rules in
force; nothing else implements a rule on (task, inspector) pairs. The order
of :data:`HARD_RULES` is the order in which the diagnosis applies them.

Rules about one (task, inspector) pair live here:

==========  ===========================================  ====================
name        the inspector must                           audit rule code
==========  ===========================================  ====================
department  work in the task's department                ``wrong_department``
active      be active                                    ``inactive``
available   be available in the visit's month            ``unavailable``
expertise   hold the expertise of one of the department  ``expertise``
            's items on the visit (unless an item needs
            none)
conflict    have no conflict of interest with the entity ``conflict``
rotation    not have been on the entity's last visit     ``rotation``
            (policy ``rotation``)
==========  ===========================================  ====================

Rules that need global state stay *structural*, in the stage that holds that
state: team sizes (``min_team``/``max_team``, :mod:`.prepare`), one
inspector of each department of a joint visit (one task per department),
coverage of every item's expertise by the team (the flow's cover slots, the
chain's and CP-SAT's coverage constraints), monthly capacity (the flow's
capacities, the chain's loads), no inspector twice on a team, and the
anti-collusion pair limit (:mod:`.pairs`). The audit checks them in
:mod:`.audit`.

A new rule, e.g. "no inspector from the entity's own township", is one
:class:`HardRule` entry (added to :data:`HARD_RULES`, or for a while with
:func:`registered`) plus its input column in :mod:`creditsup.schemas`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup.assignment._arrays import B1, I64, KeySet, codes, lookup
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.exceptions import DataValidationError
from creditsup.labels import Lang
from creditsup.schemas import explode_list, unavailable_bits

if TYPE_CHECKING:
    from collections.abc import Sequence

    from creditsup.assignment.problem import Problem
    from creditsup.schemas import Dataset

__all__ = [
    "HARD_RULES",
    "Arcs",
    "AuditRows",
    "Found",
    "HardRule",
    "RuleInputs",
    "RuleText",
    "active_rules",
    "check_columns",
    "eligible",
    "last_visit_inspectors",
    "registered",
]

#: Offending rows of an assignments frame and their detail text.
Found = tuple[pd.DataFrame, "pd.Series[str] | str"]


@dataclass(frozen=True)
class RuleText:
    """How the diagnosis speaks of a rule in one language.

    ``{d}`` is the department (in Chinese its display name, e.g. 食品安全科, or
    ``<id>部门`` when it has none), ``{m}`` the month and ``{e}`` the missing
    expertise areas.

    Attributes
    ----------
    who : str
        The inspectors still counted once this rule (and those before it)
        is applied.
    no_holder : str
        An expertise the task needs has no holder left.
    nobody : str or None
        Replaces the count sentence when nobody is left.
    nobody_first : bool
        ``nobody`` wins over a missing expertise.
    """

    who: str
    no_holder: str
    nobody: str | None = None
    nobody_first: bool = False


@dataclass(frozen=True)
class RuleInputs:
    """What a rule may prepare from: the canonical tables of :mod:`.prepare`.

    ``inspectors`` and ``visits`` are sorted by id (row k is inspector or
    visit k); ``entity_ids`` numbers the visits' entities.
    """

    dataset: Dataset
    policy: AssignmentPolicy
    inspectors: pd.DataFrame
    visits: pd.DataFrame
    insp_id: npt.NDArray[np.object_]
    entity_ids: list[str]

    @property
    def n_ent(self) -> int:
        """Number of entity codes (at least 1)."""
        return max(len(self.entity_ids), 1)

    def inspector_values(self, column: str) -> npt.NDArray[np.object_]:
        """A column of the inspectors table as text, per inspector."""
        return self.inspectors[column].astype(str).to_numpy(dtype=object)

    def entity_values(self, column: str) -> npt.NDArray[np.object_]:
        """A column of the entities table as text, per visit (via ``uscc``)."""
        ent = self.dataset.entities
        s = pd.Series(ent[column].astype(str).to_numpy(), index=ent["uscc"].astype(str))
        s = s[~s.index.duplicated()]
        out = self.visits["uscc"].astype(str).map(s).fillna("")
        return out.to_numpy(dtype=object)

    def pair_keys(self, inspector_ids: pd.Series, usccs: pd.Series) -> I64:
        """Keys ``inspector * n_ent + entity`` of known (inspector, entity) pairs."""
        ii, known = lookup(self.insp_id, inspector_ids.astype(str).to_numpy())
        ee = codes(usccs.astype(str), self.entity_ids)
        ok = known & (ee >= 0)
        return np.unique(ii[ok] * self.n_ent + ee[ok])


@dataclass(frozen=True)
class Arcs:
    """(task, inspector) arcs to test, the month of each, and the rule's data."""

    problem: Problem
    task: I64
    insp: I64
    month: I64
    data: Any = None

    @property
    def visit(self) -> I64:
        """The visit of each arc."""
        return self.problem.t_visit[self.task]

    @property
    def pair_key(self) -> I64:
        """``inspector * n_ent + entity`` of each arc."""
        P = self.problem
        return self.insp * P.n_ent + P.v_entity[self.visit]


@dataclass(frozen=True)
class AuditRows:
    """What a rule's audit check reads (built by :mod:`.audit`).

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per assignment of a known visit and inspector: the
        assignment (``visit_id, inspector_id, department``), the visit
        (``uscc, month, departments``), the inspector's columns prefixed
        ``insp_`` and the entity's columns prefixed ``ent_``.
    dept_pairs : pandas.DataFrame
        ``visit_id, department``: the departments of each visit.
    visit_items : pandas.DataFrame
        ``visit_id, item_id, department, expertise``: the known items.
    held : pandas.DataFrame
        ``visit_id, inspector_id, department, expertise``: what each assigned
        inspector holds.
    dataset, policy
        The inputs and the policy audited against.
    """

    rows: pd.DataFrame
    dept_pairs: pd.DataFrame
    visit_items: pd.DataFrame
    held: pd.DataFrame
    dataset: Dataset
    policy: AssignmentPolicy


@dataclass(frozen=True)
class HardRule:
    """One hard rule of the assignment, declared once.

    Attributes
    ----------
    name : str
        Its name (also the diagnosis stage).
    columns : mapping of str to tuple of str
        Input columns it reads, by table (a dataset table or ``visits``).
        Inspector and entity columns reach :attr:`AuditRows.rows`.
    mask : callable
        ``mask(arcs) -> bool array``: which arcs keep the rule.
    audit : callable
        ``audit(rows) -> (offending rows, detail)`` over an assignments frame.
    violation : str
        Its rule code in the audit.
    en, zh : RuleText
        What the diagnosis says of it.
    prepare : callable, optional
        ``prepare(inputs) -> data`` for the mask (``Arcs.data``).
    switch : str, optional
        A boolean field of :class:`AssignmentPolicy` that turns it on.
    """

    name: str
    columns: Mapping[str, tuple[str, ...]]
    mask: Callable[[Arcs], B1]
    audit: Callable[[AuditRows], Found]
    violation: str
    en: RuleText
    zh: RuleText
    prepare: Callable[[RuleInputs], object] | None = None
    switch: str | None = None

    def __post_init__(self) -> None:
        if self.switch is not None and self.switch not in (
            AssignmentPolicy.model_fields
        ):
            raise ValueError(f"Unknown policy switch {self.switch!r}.")

    def text(self, lang: Lang) -> RuleText:
        """Its diagnosis text in ``lang``."""
        return self.zh if lang == "zh" else self.en


# ------------------------------------------------------------- the six rules
def _department_mask(a: Arcs) -> B1:
    P = a.problem
    return np.asarray(P.insp_dept[a.insp] == P.t_dept[a.task])


def _department_audit(r: AuditRows) -> Found:
    rows = r.rows
    in_dep = (
        rows.merge(
            r.dept_pairs.rename(columns={"department": "insp_department"}),
            on=["visit_id", "insp_department"],
            how="left",
            indicator=True,
        )["_merge"].to_numpy()
        == "both"
    )
    bad = rows[~in_dep]
    return bad, "department " + bad["insp_department"].astype(
        str
    ) + " is not on the visit"


def _active_mask(a: Arcs) -> B1:
    return np.asarray(a.problem.insp_active[a.insp])


def _active_audit(r: AuditRows) -> Found:
    return r.rows[~r.rows["insp_active"].astype(bool)], "the inspector is not active"


def _available_mask(a: Arcs) -> B1:
    return np.asarray(((a.problem.insp_unavail[a.insp] >> a.month) & 1) == 0)


def _available_audit(r: AuditRows) -> Found:
    rows = r.rows
    bits = unavailable_bits(rows["insp_unavailable_months"])
    month = pd.to_numeric(rows["month"], errors="coerce").fillna(0).astype(np.int64)
    unav = ((bits >> month.to_numpy()) & 1).astype(bool)
    return rows[unav], "unavailable in month " + rows["month"].astype(str)[unav]


def _expertise_mask(a: Arcs) -> B1:
    P = a.problem
    return np.asarray(P.t_open[a.task] | ((P.insp_mask[a.insp] & P.t_req[a.task]) != 0))


def _expertise_audit(r: AuditRows) -> Found:
    """Holds the expertise of one of the visit's items of his department."""
    vi = r.visit_items
    open_ = (
        vi.assign(open_=vi["expertise"] == "")
        .groupby(["visit_id", "department"])["open_"]
        .any()
        .reset_index()
    )
    need = (
        r.rows[["visit_id", "inspector_id", "insp_department"]]
        .rename(columns={"insp_department": "department"})
        .merge(open_, on=["visit_id", "department"], how="left")
    )
    qualifies = r.held.merge(
        vi[["visit_id", "department", "expertise"]],
        on=["visit_id", "department", "expertise"],
    )[["visit_id", "inspector_id"]].drop_duplicates()
    qual = (
        need[["visit_id", "inspector_id"]]
        .merge(qualifies, on=["visit_id", "inspector_id"], how="left", indicator=True)[
            "_merge"
        ]
        .to_numpy()
        == "both"
    )
    has_items = need["open_"].notna()
    is_open = need["open_"].fillna(True).astype(bool)
    bad = need[(has_items & ~is_open).to_numpy() & ~qual]
    return bad, "holds no expertise of the visit's items of department " + bad[
        "department"
    ].astype(str)


def _conflict_data(inp: RuleInputs) -> KeySet:
    conf = inp.dataset.conflicts
    if not len(conf):
        return KeySet(np.zeros(0, dtype=np.int64))
    return KeySet(inp.pair_keys(conf["inspector_id"], conf["uscc"]))


def _keyset_mask(a: Arcs) -> B1:
    keys: KeySet = a.data
    return ~keys.contains(a.pair_key)


def _conflict_audit(r: AuditRows) -> Found:
    conf = r.dataset.conflicts
    if not len(conf):
        return r.rows.iloc[:0], ""
    cf = conf[["inspector_id", "uscc"]].astype(str).drop_duplicates()
    hit = r.rows.merge(cf, on=["inspector_id", "uscc"], how="inner")
    return hit, "conflict of interest with " + hit["uscc"]


def last_visit_inspectors(history: pd.DataFrame) -> pd.DataFrame:
    """``uscc, inspector_id``: the inspectors of each entity's last visit."""
    if len(history) == 0 or "inspector_ids" not in history.columns:
        return pd.DataFrame(
            {"uscc": pd.Series(dtype=str), "inspector_id": pd.Series(dtype=str)}
        )
    h = history.copy()
    h["uscc"] = h["uscc"].astype(str)
    last = h.groupby("uscc")["date"].transform("max")
    h = h[h["date"] == last]
    ids = explode_list(h["inspector_ids"])
    return pd.DataFrame(
        {"uscc": h.loc[ids.index, "uscc"].to_numpy(), "inspector_id": ids.to_numpy()}
    ).drop_duplicates()


def _rotation_data(inp: RuleInputs) -> KeySet:
    hist = inp.dataset.history
    if not len(hist):
        return KeySet(np.zeros(0, dtype=np.int64))
    h = hist[codes(hist["uscc"].astype(str), inp.entity_ids) >= 0]
    lv = last_visit_inspectors(h)
    return KeySet(inp.pair_keys(lv["inspector_id"], lv["uscc"]))


def _rotation_audit(r: AuditRows) -> Found:
    lv = last_visit_inspectors(r.dataset.history)
    hit = r.rows.merge(lv, on=["inspector_id", "uscc"], how="inner")
    return hit, "on the entity's last visit " + hit["uscc"]


HARD_RULES: tuple[HardRule, ...] = (
    HardRule(
        name="department",
        columns={"inspectors": ("department",), "visits": ("departments",)},
        mask=_department_mask,
        audit=_department_audit,
        violation="wrong_department",
        en=RuleText(
            who="inspectors of department {d}",
            no_holder="no inspector of department {d} holds expertise {e}",
            nobody="department {d} has no inspectors",
        ),
        zh=RuleText(
            who="{d}的检查人员",
            no_holder="{d}没有检查人员具备专长{e}",
            nobody="{d}没有检查人员",
        ),
    ),
    HardRule(
        name="active",
        columns={"inspectors": ("active",)},
        mask=_active_mask,
        audit=_active_audit,
        violation="inactive",
        en=RuleText(
            who="active inspectors of department {d}",
            no_holder="no active inspector of department {d} holds expertise {e}",
        ),
        zh=RuleText(
            who="{d}在岗的检查人员",
            no_holder="{d}没有在岗检查人员具备专长{e}",
        ),
    ),
    HardRule(
        name="available",
        columns={"inspectors": ("unavailable_months",)},
        mask=_available_mask,
        audit=_available_audit,
        violation="unavailable",
        en=RuleText(
            who="active inspectors of department {d} available in {m}",
            no_holder="no inspector of department {d} holding expertise {e} "
            "is available in {m}",
        ),
        zh=RuleText(
            who="{d}{m}可安排的在岗检查人员",
            no_holder="{d}具备专长{e}的检查人员{m}均无法安排",
        ),
    ),
    HardRule(
        name="expertise",
        columns={
            "inspectors": ("expertise",),
            "items": ("item_id", "department", "expertise"),
            "visits": ("items",),
        },
        mask=_expertise_mask,
        audit=_expertise_audit,
        violation="expertise",
        en=RuleText(
            who="inspectors of department {d} available in {m} and qualified "
            "for its items",
            no_holder="no inspector of department {d} holding expertise {e} "
            "is available in {m}",
        ),
        zh=RuleText(
            who="{d}{m}可安排且具备检查事项所需专长的检查人员",
            no_holder="{d}具备专长{e}的检查人员{m}均无法安排",
        ),
    ),
    HardRule(
        name="conflict",
        columns={"conflicts": ("inspector_id", "uscc")},
        prepare=_conflict_data,
        mask=_keyset_mask,
        audit=_conflict_audit,
        violation="conflict",
        en=RuleText(
            who="qualified inspectors of department {d} without a conflict of interest",
            no_holder="every inspector of department {d} holding expertise {e} "
            "is in conflict with the entity",
            nobody="every qualified inspector is in conflict (department {d}, {m})",
            nobody_first=True,
        ),
        zh=RuleText(
            who="{d}无利益冲突的合格检查人员",
            no_holder="{d}具备专长{e}的检查人员均与该对象存在利益冲突",
            nobody="所有合格检查人员均与该对象存在利益冲突（{d}，{m}）",
            nobody_first=True,
        ),
    ),
    HardRule(
        name="rotation",
        columns={"history": ("uscc", "date", "inspector_ids")},
        prepare=_rotation_data,
        mask=_keyset_mask,
        audit=_rotation_audit,
        violation="rotation",
        switch="rotation",
        en=RuleText(
            who="qualified inspectors of department {d} left after rotation (the "
            "inspectors of the entity's last visit are excluded)",
            no_holder="the only available holders of expertise {e} in department "
            "{d} were on the entity's last visit (rotation)",
        ),
        zh=RuleText(
            who="{d}轮换回避后剩余的合格检查人员（已排除上次检查该对象的人员）",
            no_holder="{d}可安排的专长{e}持有人均参加过该对象的上次检查（轮换回避）",
        ),
    ),
)

_REGISTRY: ContextVar[tuple[HardRule, ...]] = ContextVar(
    "creditsup_hard_rules", default=HARD_RULES
)


@contextlib.contextmanager
def registered(*rules: HardRule) -> Iterator[tuple[HardRule, ...]]:
    """Add hard rules for the duration of a ``with`` block (after the others).

    Examples
    --------
    >>> from dataclasses import replace
    >>> toy = replace(HARD_RULES[1], name="toy", violation="toy")
    >>> with registered(toy):
    ...     [r.name for r in active_rules(AssignmentPolicy(rotation=False))]
    ['department', 'active', 'available', 'expertise', 'conflict', 'toy']
    >>> [r.name for r in active_rules(AssignmentPolicy())][-1]
    'rotation'
    """
    current = _REGISTRY.get()
    names = {r.name for r in current}
    for r in rules:
        if r.name in names:
            raise ValueError(f"A hard rule named {r.name!r} is already registered.")
        names.add(r.name)
    token = _REGISTRY.set((*current, *rules))
    try:
        yield _REGISTRY.get()
    finally:
        _REGISTRY.reset(token)


def active_rules(policy: AssignmentPolicy) -> tuple[HardRule, ...]:
    """The registered rules that ``policy`` turns on, in registry order."""
    return tuple(
        r
        for r in _REGISTRY.get()
        if r.switch is None or bool(getattr(policy, r.switch))
    )


def check_columns(
    rules: Sequence[HardRule], tables: Mapping[str, pd.DataFrame]
) -> None:
    """Raise :class:`DataValidationError` when a rule's column is missing.

    Empty tables are not checked (a rule reads nothing from them).
    """
    rows: list[dict[str, Any]] = []
    for rule in rules:
        for table, cols in rule.columns.items():
            df = tables.get(table)
            if df is None or not len(df):
                continue
            rows += [
                {
                    "table": table,
                    "row": -1,
                    "column": c,
                    "value": "",
                    "rule": "missing_column",
                    "message": f"The {table} table has no column '{c}' "
                    f"(read by the hard rule '{rule.name}').",
                }
                for c in cols
                if c not in df.columns
            ]
    if rows:
        raise DataValidationError.from_records(rows)


def eligible(P: Problem, t: I64, i: I64, month: I64) -> B1:
    """Whether each (task, inspector) arc keeps every rule; ``month`` per arc."""
    ok = np.zeros(len(t), dtype=bool)
    idx = np.arange(len(t))
    for rule in P.rules:
        keep = rule.mask(Arcs(P, t, i, month, P.rule_data.get(rule.name)))
        if not keep.all():
            idx, t, i, month = idx[keep], t[keep], i[keep], month[keep]
    ok[idx] = True
    return ok
