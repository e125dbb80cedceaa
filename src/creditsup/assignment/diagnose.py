"""Stage 7, diagnosis: why each unfilled visit could not be staffed.

For each failing task, the hard rules in force (:mod:`.rules`) are applied
one after the other, in registry order, to the inspectors of its department;
the first rule that leaves fewer inspectors than the team needs, or no holder
of a required expertise, explains the task in that rule's words. When every
rule leaves enough, the reason is capacity: the (department, month) group's
demand against its supply, then per expertise, then the capacity left after
the other visits. A visit is explained by its specific tasks first, and each
reason names a *binding group* (``group, needed, available``).

The text is English by default; ``lang="zh"`` speaks Chinese, with the
departments by their display names (``names``; ``<id>部门`` otherwise) and the
months as 1月…12月. Each binding group also carries its stable fields:
``department`` (id), ``month`` (1-12, or ``None``) and ``visit_id`` (the visit
it is about, or ``None`` for a whole department-month).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from creditsup.assignment._arrays import I64, U64, bits, expand, month_name
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.problem import Problem, State, prefailed, tasks_of
from creditsup.assignment.rules import Arcs, HardRule
from creditsup.labels import Lang, month_label, parse_table

__all__ = ["diagnose", "diagnose_bilingual"]

Reason = tuple[str, dict[str, Any] | None]


#: The sentences of the diagnosis around the rules' own words:
#: ``key -> (Chinese, English)`` (the format of :mod:`creditsup.labels`).
_TEXT = parse_table("""
reason | 检查{v}：{text} | visit {v}: {text}
count | {who}{n}名，检查组需要{need}名 | {n} {who}, the team needs {need}
holders | 检查{v}：具备专长{e}的人员（{who}） | visit {v}: holders of expertise {e} ({who})
who_group | 检查{v}：{who} | visit {v}: {who}
expertise | “{e}” | '{e}'
group | {d}，{m} | department {d}, {m}
slots | {g}：需要{need}个检查人次，现有{have}个 | {g}: needs {need} inspector-slots, has {have}
group_expertise | {d}，{m}，专长“{e}” | department {d}, {m}, expertise '{e}'
capacity | 检查{v}：{d}{q}名合格检查人员中，{m}在安排其他检查后仅{n}名尚有余力，检查组需要{need}名 | visit {v}: {n} of the {q} qualified inspectors of department {d} have capacity left in {m} after the other visits, the team needs {need}
capacity_group | 检查{v}，{d}，{m}：合格检查人员的余力 | visit {v}, department {d}, {m}: capacity of qualified inspectors
no_room | ；其他月份也没有余力 | ; no other month had room either
failed | 检查{v}：无法安排检查人员 | visit {v}: could not be staffed
""")
#: Separators between expertise names, and between the reasons of a visit.
_SEP: dict[str, tuple[str, str]] = {"zh": ("、", "；"), "en": (", ", "; ")}


class _Say:
    """The diagnosis's sentences in one language."""

    def __init__(self, lang: Lang, names: Mapping[str, str] | None = None) -> None:
        self.lang = lang
        self.sep, self.join = _SEP[lang]
        self.names = names or {}

    def dept(self, code: str) -> str:
        """A department as the sentences name it (its id in English)."""
        if self.lang != "zh":
            return code
        return self.names.get(code) or f"{code}部门"

    def __call__(self, key: str, **values: object) -> str:
        return _TEXT[key][0 if self.lang == "zh" else 1].format(**values)

    def month(self, m: int) -> str:
        return month_label(m, "zh") if self.lang == "zh" else month_name(m)


def stage_reason(
    rule: HardRule, n: int, need: int, missing: str, where: dict[str, Any], lang: Lang
) -> tuple[str, dict[str, Any]]:
    """Reason and binding group when ``rule`` leaves too few inspectors.

    ``where`` holds the visit ``v``, department ``d`` and month ``m`` as the
    sentences name them, and the stable ``fields`` of the binding group.
    """
    say, text = _Say(lang), rule.text(lang)
    vid, d, m = where["v"], where["d"], where["m"]
    fields = where.get("fields", {})
    who = text.who.format(d=d, m=m)
    nobody = text.nobody if n == 0 else None
    if missing and not (nobody and text.nobody_first):
        txt = say("reason", v=vid, text=text.no_holder.format(d=d, m=m, e=missing))
        group = say("holders", v=vid, e=missing, who=who)
        return txt, {"group": group, "needed": 1, "available": 0, "_at": fields}
    if nobody:
        txt = say("reason", v=vid, text=nobody.format(d=d, m=m))
    else:
        txt = say("reason", v=vid, text=say("count", n=n, who=who, need=need))
    return txt, {
        "group": say("who_group", v=vid, who=who),
        "needed": need,
        "available": n,
        "_at": fields,
    }


@dataclass(frozen=True)
class _Supply:
    """Per (department, month): slots needed by valid tasks and capacity there."""

    valid_t: np.ndarray[Any, np.dtype[np.bool_]]
    avail: np.ndarray[Any, np.dtype[np.bool_]]  # [n_insp, 13]
    demand: I64
    supply: I64


def _supply(P: Problem, t_month0: I64) -> _Supply:
    valid_t = ~prefailed(P)[P.t_visit]
    n_d = len(P.dept_names)
    demand = np.zeros((n_d, 13), dtype=np.int64)
    np.add.at(demand, (P.t_dept[valid_t], t_month0[valid_t]), P.t_size[valid_t])
    avail = np.zeros((len(P.insp_id), 13), dtype=bool)
    for m in range(1, 13):
        avail[:, m] = P.insp_active & (((P.insp_unavail >> m) & 1) == 0)
    supply = np.zeros((n_d, 13), dtype=np.int64)
    for m in range(1, 13):
        np.add.at(supply[:, m], P.insp_dept[avail[:, m]], P.insp_cap[avail[:, m]])
    return _Supply(valid_t, avail, demand, supply)


@dataclass(frozen=True)
class _Counts:
    """Per failing task and rule: inspectors left and the expertise they hold."""

    counts: list[I64]
    unions: list[U64]
    n_cap: I64  # fully eligible inspectors with capacity left


def _rule_counts(P: Problem, S: State, fail_t: I64, t_month0: I64) -> _Counts:
    """Apply the rules one after the other to each task's department."""
    td = P.t_dept[fail_t]
    r, pos = expand(P.d_lo[td], P.d_hi[td] - P.d_lo[td])
    t = fail_t[r]
    i = P.by_d[pos]
    mo = t_month0[t]
    cum = np.ones(len(t), dtype=bool)
    counts: list[I64] = []
    unions: list[U64] = []
    for rule in P.rules:
        cum = cum & rule.mask(Arcs(P, t, i, mo, P.rule_data.get(rule.name)))
        counts.append(np.bincount(r[cum], minlength=len(fail_t)).astype(np.int64))
        un = np.zeros(len(fail_t), dtype=np.uint64)
        np.bitwise_or.at(un, r[cum], P.insp_mask[i[cum]])
        unions.append(un)
    res = np.maximum(P.insp_cap[i] - S.load[i, mo], 0) * cum
    n_cap = np.bincount(r, weights=res > 0, minlength=len(fail_t)).astype(np.int64)
    return _Counts(counts, unions, n_cap)


def _group_reason(
    P: Problem, tt: int, t_month0: I64, sup: _Supply, say: _Say, mon: str
) -> Reason | None:
    """The (department, month) group, or one of its expertise areas, is short."""
    d, mm = int(P.t_dept[tt]), int(t_month0[tt])
    dname = say.dept(P.dept_names[d])
    fields = {"department": P.dept_names[d], "month": mm, "visit_id": None}
    if sup.demand[d, mm] > sup.supply[d, mm]:
        g = say("group", d=dname, m=mon)
        need, have = int(sup.demand[d, mm]), int(sup.supply[d, mm])
        return say("slots", g=g, need=need, have=have), {
            "group": g,
            "needed": need,
            "available": have,
            "_at": fields,
        }
    for b in bits(int(P.t_req[tt])):
        in_g = sup.valid_t & (P.t_dept == d) & (t_month0 == mm)
        need_b = int((in_g & (((P.t_req >> np.uint64(b)) & np.uint64(1)) == 1)).sum())
        holders = (
            (P.insp_dept == d)
            & sup.avail[:, mm]
            & (((P.insp_mask >> np.uint64(b)) & np.uint64(1)) == 1)
        )
        have_b = int(P.insp_cap[holders].sum())
        if need_b > have_b:
            g = say("group_expertise", d=dname, m=mon, e=P.vocab[d][b])
            return say("slots", g=g, need=need_b, have=have_b), {
                "group": g,
                "needed": need_b,
                "available": have_b,
                "_at": fields,
            }
    return None


@dataclass
class _TaskReasons:
    reasons: dict[int, Reason]
    generic: set[int]  # only reason: competition for capacity
    capacity: set[int]  # failed for lack of capacity


def _task_reasons(
    P: Problem, S: State, fail_t: I64, t_month0: I64, say: _Say
) -> _TaskReasons:
    out = _TaskReasons({}, set(), set())
    if not len(fail_t):
        return out
    sup = _supply(P, t_month0)
    c = _rule_counts(P, S, fail_t, t_month0)
    for j, tt in enumerate(int(x) for x in fail_t):
        d = int(P.t_dept[tt])
        m = int(t_month0[tt])
        mon = say.month(m)
        vid = str(P.v_id[int(P.t_visit[tt])])
        fields = {"department": P.dept_names[d], "month": m, "visit_id": vid}
        where = {"v": vid, "d": say.dept(P.dept_names[d]), "m": mon, "fields": fields}
        need, req = int(P.t_size[tt]), int(P.t_req[tt])
        reason: Reason | None = None
        for k, rule in enumerate(P.rules):
            n = int(c.counts[k][j])
            missing = req & ~int(c.unions[k][j])
            if n >= need and not missing:
                continue
            names = say.sep.join(
                say("expertise", e=P.vocab[d][b]) for b in bits(missing)
            )
            reason = stage_reason(rule, n, need, names, where, say.lang)
            break
        if reason is None:
            reason = _group_reason(P, tt, t_month0, sup, say, mon)
            if reason is None:
                out.generic.add(tt)
                v, dn = where["v"], where["d"]
                reason = (
                    say(
                        "capacity",
                        v=v,
                        n=int(c.n_cap[j]),
                        q=int(c.counts[-1][j]),
                        d=dn,
                        m=mon,
                        need=need,
                    ),
                    {
                        "group": say("capacity_group", v=v, d=dn, m=mon),
                        "needed": need,
                        "available": int(c.n_cap[j]),
                        "_at": fields,
                    },
                )
            out.capacity.add(tt)
        out.reasons[tt] = reason
    return out


def _visit_reasons(P: Problem, S: State, v: int, tr: _TaskReasons) -> list[Reason]:
    """A task that cannot be staffed on its own explains the visit; the generic
    "capacity taken by other visits" only when no such task exists."""
    ts = [int(t) for t in P.visit_tasks[v] if t >= 0 and int(t) in tr.reasons]
    return (
        [tr.reasons[t] for t in ts if t not in tr.generic]
        or [tr.reasons[t] for t in ts if not S.filled[t]]
        or [tr.reasons[t] for t in ts]
    )


#: ``(visit id, reason as saved, reason as shown, binding groups)`` per visit.
Explained = list[tuple[str, str, str, list[dict[str, Any]]]]


def _prefail_group(bind: dict[str, Any] | None, lang: Lang) -> dict[str, Any] | None:
    """A prefailed visit's binding group, its ``group`` in ``lang``."""
    if bind is None:
        return None
    if lang == "zh":
        return {**bind, "group": bind.get("_zh") or bind["group"]}
    return bind


def _shown(parts: list[str], prefix: str, join: str) -> str:
    """The reasons of one visit with the visit named once, at the start."""
    inner = [p[len(prefix) :] if p.startswith(prefix) else p for p in parts]
    return prefix + join.join(dict.fromkeys(inner))


def _explain(
    P: Problem,
    S: State,
    failed: I64,
    orig_month: I64,
    policy: AssignmentPolicy,
    say: _Say,
) -> Explained:
    """The reasons and binding groups of each failed visit, in visit order."""
    if len(failed) == 0:
        return []
    pre = prefailed(P)
    tr = _task_reasons(
        P, S, tasks_of(P, failed[~pre[failed]]), orig_month[P.t_visit], say
    )
    out: Explained = []
    for v in (int(x) for x in np.sort(failed)):
        vid = str(P.v_id[v])
        prefix = say("reason", v=vid, text="")
        if v in P.v_prefail:
            en, bind, zh = P.v_prefail[v]
            txt = zh if say.lang == "zh" else en
            rs: list[Reason] = [(txt, _prefail_group(bind, say.lang))]
            shown = txt
        else:
            rs = _visit_reasons(P, S, v, tr)
            parts = list(dict.fromkeys(r[0] for r in rs))
            txt = say.join.join(parts) or say("failed", v=vid)
            shown = _shown(parts, prefix, say.join) if parts else txt
            ts = P.visit_tasks[v]
            if policy.repair and any(int(t) in tr.capacity for t in ts[ts >= 0]):
                txt += say("no_room")
                shown += say("no_room")
        out.append((vid, txt, shown, [bind for _, bind in rs if bind is not None]))
    return out


def _saved(bind: dict[str, Any]) -> dict[str, Any]:
    """A binding group as ``diagnostics.json`` holds it (no display fields)."""
    return {k: v for k, v in bind.items() if not k.startswith("_")}


def _records(main: Explained) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The diagnostics records (the format of ``diagnostics.json``)."""
    unfilled = [{"visit_id": vid, "reason": txt} for vid, txt, _, _ in main]
    binding: dict[str, dict[str, Any]] = {}
    for _, _, _, binds in main:
        for bind in binds:
            binding.setdefault(bind["group"], _saved(bind))
    return unfilled, [binding[k] for k in sorted(binding)]


def _detail(en: Explained, zh: Explained) -> dict[str, list[dict[str, Any]]]:
    """Both languages side by side, each visit named once, with stable fields."""
    unfilled: list[dict[str, Any]] = []
    binding: dict[str, dict[str, Any]] = {}
    for (vid, _, shown, binds), (_, _, shown_zh, binds_zh) in zip(en, zh, strict=True):
        unfilled.append({"visit_id": vid, "reason": shown, "reason_zh": shown_zh})
        for bind, z in zip(binds, binds_zh, strict=True):
            at = {"department": bind.get("department"), "month": None, "visit_id": vid}
            at.update(bind.get("_at", {}))
            binding.setdefault(
                bind["group"], {**_saved(bind), "group_zh": z["group"], **at}
            )
    return {"unfilled": unfilled, "binding": [binding[k] for k in sorted(binding)]}


def diagnose(
    P: Problem,
    S: State,
    failed: I64,
    orig_month: I64,
    policy: AssignmentPolicy,
    *,
    lang: Lang = "en",
    names: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Reasons for unfilled visits and the binding groups (sorted by group).

    ``failed`` are visit numbers; ``orig_month`` the visits' months before any
    repair (the diagnosis speaks of those). ``names`` are the departments'
    display names in Chinese (``department id -> name``).
    """
    return _records(_explain(P, S, failed, orig_month, policy, _Say(lang, names)))


def diagnose_bilingual(
    P: Problem,
    S: State,
    failed: I64,
    orig_month: I64,
    policy: AssignmentPolicy,
    *,
    names: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The English diagnosis of :func:`diagnose`, and the detail to show it in
    either language.

    The detail (``{"unfilled": [{"visit_id", "reason", "reason_zh"}],
    "binding": [{"group", "group_zh", "needed", "available", "department",
    "month", "visit_id"}]}``) names each visit once at the start of its
    reason, departments by their Chinese ``names``; ``department``, ``month``
    (1-12 or ``None``) and ``visit_id`` (``None`` for a whole department-month)
    are stable fields for programs. The assignment saves the detail as its
    diagnostics (``diagnostics.json``).
    """
    en = _explain(P, S, failed, orig_month, policy, _Say("en"))
    zh = _explain(P, S, failed, orig_month, policy, _Say("zh", names))
    unfilled, binding = _records(en)
    return unfilled, binding, _detail(en, zh)
