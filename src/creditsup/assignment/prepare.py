"""Stage 1, prepare: the input tables as the arrays of a :class:`.Problem`.

:func:`prepare` checks the visits table, numbers inspectors and visits by
id, encodes each department's expertise areas as bits, splits each visit into
one task per department with its required expertise and team size, lets
every hard rule in force prepare its data (:mod:`.rules`), ranks the visits
by priority and orders the inspectors for candidate pruning. A visit that
cannot be staffed whatever the inspectors (unknown item, no department, a
department's team larger than ``max_team``) is recorded in ``v_prefail``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from creditsup._random import derive_key, keyed_uniform
from creditsup.assignment._arrays import B1, I64, MAX_BITS, U64, bits, codes
from creditsup.assignment.policy import AssignmentPolicy
from creditsup.assignment.problem import Prefail, Problem
from creditsup.assignment.rules import RuleInputs, active_rules, check_columns
from creditsup.exceptions import FAILURE_COLUMNS, DataValidationError
from creditsup.schemas import TIERS, VISIT_COLUMNS, explode_list, unavailable_bits

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = ["check_visits", "prepare"]

_TIER_RANK = {t: i for i, t in enumerate(TIERS)}


def _failure(*values: object) -> dict[str, Any]:
    """A failure record: table, row, column, value, rule, message."""
    return dict(zip(FAILURE_COLUMNS, values, strict=True))


def check_visits(visits: pd.DataFrame) -> None:
    """Raise :class:`DataValidationError` on a malformed visits table.

    Missing columns, a repeated ``visit_id`` or a month outside 1-12.
    """
    missing = [c for c in VISIT_COLUMNS if c not in visits.columns]
    rows = [
        _failure(
            "visits",
            -1,
            c,
            "",
            "missing_column",
            f"The visits table has no column '{c}'.",
        )
        for c in missing
    ]
    if not missing and len(visits):
        vid = visits["visit_id"].astype(str)
        dup = vid.duplicated(keep=False).to_numpy()
        rows += [
            _failure(
                "visits",
                int(r),
                "visit_id",
                str(vid.iloc[r]),
                "duplicate_key",
                "visit_id must be unique.",
            )
            for r in np.flatnonzero(dup)[:50]
        ]
        month = pd.to_numeric(visits["month"], errors="coerce")
        bad = (~month.between(1, 12) | month.isna() | (month % 1 != 0)).to_numpy()
        rows += [
            _failure(
                "visits",
                int(r),
                "month",
                str(visits["month"].iloc[r]),
                "bad_month",
                "month must be an integer in [1, 12].",
            )
            for r in np.flatnonzero(bad)[:50]
        ]
    if rows:
        raise DataValidationError.from_records(rows)


# ------------------------------------------------------------------ expertise
@dataclass(frozen=True)
class _Vocabulary:
    """Expertise areas as bits: bit b of department d (at most 64 per department)."""

    words: list[str]
    keys: I64  # sorted codes department * n_words + word
    cuts: I64  # [n_departments + 1]: each department's range in ``keys``

    @property
    def n_words(self) -> int:
        return max(len(self.words), 1)

    def bits_of(self, d: I64, words: npt.NDArray[Any]) -> U64:
        """The bit of each (department, expertise) pair."""
        k = d * self.n_words + codes(words, self.words)
        b = np.searchsorted(self.keys, k) - self.cuts[d]
        return np.asarray(np.uint64(1) << b.astype(np.uint64), dtype=np.uint64)

    def by_department(self) -> list[list[str]]:
        """Per department, its expertise names by bit."""
        words = np.asarray(self.words, dtype=object)
        return [
            list(words[self.keys[self.cuts[d] : self.cuts[d + 1]] % self.n_words])
            for d in range(len(self.cuts) - 1)
        ]


def _vocabulary(
    exp_long: pd.Series, exp_dept: I64, items: pd.DataFrame, dept_names: list[str]
) -> _Vocabulary:
    it_has = (items["expertise"] != "").to_numpy()
    it_dept = codes(items["department"], dept_names)
    words = sorted(
        set(pd.unique(exp_long.to_numpy())) | set(items["expertise"][it_has])
    )
    n_words = max(len(words), 1)
    keys = np.unique(
        np.concatenate(
            [
                exp_dept * n_words + codes(exp_long.to_numpy(), words),
                it_dept[it_has] * n_words
                + codes(items["expertise"].to_numpy()[it_has], words),
            ]
        )
    )
    key_dept = keys // n_words
    key_bit = np.arange(len(keys)) - np.searchsorted(key_dept, key_dept)
    if len(keys) and key_bit.max() >= MAX_BITS:
        name = dept_names[int(key_dept[int(np.argmax(key_bit))])]
        raise DataValidationError.from_records(
            [
                _failure(
                    "inspectors",
                    -1,
                    "expertise",
                    name,
                    "too_many_expertise",
                    f"Department '{name}' uses more than {MAX_BITS} expertise areas; "
                    f"the assigner supports at most {MAX_BITS}.",
                )
            ]
        )
    cuts = np.searchsorted(key_dept, np.arange(len(dept_names) + 1))
    return _Vocabulary(words, keys, cuts)


def _expertise(
    ins: pd.DataFrame, insp_dept: I64, items: pd.DataFrame, dept_names: list[str]
) -> tuple[_Vocabulary, U64]:
    """The expertise vocabulary and each inspector's expertise bitmask."""
    exp_long = explode_list(ins["expertise"])
    exp_dept = insp_dept[exp_long.index.to_numpy()]
    vocab = _vocabulary(exp_long, exp_dept, items, dept_names)
    insp_mask = np.zeros(len(ins), dtype=np.uint64)
    if len(exp_long):
        np.bitwise_or.at(
            insp_mask,
            exp_long.index.to_numpy(),
            vocab.bits_of(exp_dept, exp_long.to_numpy()),
        )
    return vocab, insp_mask


# ---------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class _Tasks:
    visit: I64
    dept: I64
    pos: I64  # position of the department in the visit's list
    req: U64
    open_: B1


def _item_rows(
    v_items: pd.Series,
    items: pd.DataFrame,
    dep_df: pd.DataFrame,
    v_id: npt.NDArray[np.object_],
    prefail: dict[int, Prefail],
    dept_names: list[str],
) -> pd.DataFrame:
    """``v, item_id, department, expertise, d`` of known items; prefails the rest."""
    it_df = pd.DataFrame(
        {"v": v_items.index.to_numpy(dtype=np.int64), "item_id": v_items.to_numpy()}
    ).drop_duplicates()
    it_df = it_df.merge(
        items[["item_id", "department", "expertise"]], on="item_id", how="left"
    )
    unknown = it_df[it_df["department"].isna()]
    for v in np.unique(unknown["v"].to_numpy(dtype=np.int64)):
        names = ", ".join(sorted(unknown.loc[unknown["v"] == v, "item_id"].astype(str)))
        prefail[int(v)] = (
            f"visit {v_id[int(v)]}: unknown check item(s) {names}",
            None,
            f"检查{v_id[int(v)]}：检查事项 {names} 不在抽查事项清单中",
        )
    it_df = it_df[it_df["department"].notna()].copy()
    it_df["d"] = codes(it_df["department"], dept_names)
    in_visit = it_df.merge(
        dep_df[["v", "d"]], on=["v", "d"], how="left", indicator=True
    )
    stray = in_visit[in_visit["_merge"] == "left_only"]
    for v in np.unique(stray["v"].to_numpy(dtype=np.int64)):
        if int(v) in prefail:
            continue
        grp = stray[stray["v"] == v]
        parts = ", ".join(
            f"{i} ({d})" for i, d in zip(grp["item_id"], grp["department"], strict=True)
        )
        prefail[int(v)] = (
            f"visit {v_id[int(v)]}: item(s) {parts} belong to a department that is "
            "not among the visit's departments",
            None,
            f"检查{v_id[int(v)]}：检查事项 {parts} 所属的部门不在该次检查的部门中",
        )
    for v in np.setdiff1d(np.arange(len(v_id)), dep_df["v"].to_numpy()):
        prefail.setdefault(
            int(v),
            (
                f"visit {v_id[int(v)]}: the visit lists no department",
                None,
                f"检查{v_id[int(v)]}：该次检查没有列出部门",
            ),
        )
    return it_df


def _tasks(
    dep_df: pd.DataFrame, it_df: pd.DataFrame, n_depts: int, vocab: _Vocabulary
) -> _Tasks:
    """One task per (visit, department): required expertise bits and openness."""
    dep_df = dep_df.sort_values(["v", "d"], kind="stable").reset_index(drop=True)
    n_t = len(dep_df)
    t_visit = dep_df["v"].to_numpy(dtype=np.int64)
    t_dept = dep_df["d"].to_numpy(dtype=np.int64)
    tkey = t_visit * n_depts + t_dept
    t_req = np.zeros(n_t, dtype=np.uint64)
    t_open = np.ones(n_t, dtype=bool)
    ok_items = it_df.merge(dep_df[["v", "d"]], on=["v", "d"], how="inner")
    if len(ok_items):
        ik = ok_items["v"].to_numpy(dtype=np.int64) * n_depts + ok_items["d"].to_numpy(
            dtype=np.int64
        )
        ti = np.searchsorted(tkey, ik)
        has_exp = ok_items["expertise"].to_numpy() != ""
        # a task is "open" (anyone qualifies) iff it has an item without expertise
        # requirement, or no item at all
        n_items = np.bincount(ti, minlength=n_t)
        n_open = np.bincount(ti[~has_exp], minlength=n_t)
        t_open = (n_items == 0) | (n_open > 0)
        e_bits = vocab.bits_of(
            ok_items["d"].to_numpy(dtype=np.int64)[has_exp],
            ok_items["expertise"].to_numpy()[has_exp],
        )
        np.bitwise_or.at(t_req, ti[has_exp], e_bits)
    return _Tasks(
        t_visit, t_dept, dep_df["pos"].to_numpy(dtype=np.int64), t_req, t_open
    )


def _team_sizes(tk: _Tasks, n_v: int, min_team: int) -> I64:
    """One inspector per required expertise (at least 1), topped up to ``min_team``.

    The missing slots of a visit are spread over its departments in list order.
    """
    t_size = np.maximum(1, np.bitwise_count(tk.req).astype(np.int64))
    per_visit = np.bincount(tk.visit, weights=t_size, minlength=n_v).astype(np.int64)
    n_dept_v = np.bincount(tk.visit, minlength=n_v).astype(np.int64)
    deficit = np.maximum(0, min_team - per_visit)
    k = np.maximum(n_dept_v[tk.visit], 1)
    dv = deficit[tk.visit]
    return np.asarray(
        t_size + dv // k + (tk.pos < dv % k).astype(np.int64), dtype=np.int64
    )


def _prefail_big_teams(
    tk: _Tasks,
    t_size: I64,
    v_id: npt.NDArray[np.object_],
    names: tuple[list[str], list[list[str]]],
    max_team: int,
    prefail: dict[int, Prefail],
) -> None:
    """Visits with a department whose expertise needs more than ``max_team``.

    The limit holds per department (R14: each department sends its own
    inspectors to a joint visit), so a visit of many departments is never
    unstaffable by construction; only one department's own items can be.
    """
    dept_names, vocab = names
    for t in np.flatnonzero(t_size > max_team):
        v = int(tk.visit[t])
        if v in prefail:
            continue
        d = int(tk.dept[t])
        exp_list = ", ".join(vocab[d][b] for b in bits(int(tk.req[t])))
        vid = v_id[v]
        prefail[v] = (
            f"visit {vid}: department {dept_names[d]} needs {int(t_size[t])} "
            f"inspectors to cover its expertise ({exp_list}), more than max_team "
            f"({max_team}) per department",
            {
                "group": f"visit {vid}: team size of {dept_names[d]}",
                "department": dept_names[d],
                "needed": int(t_size[t]),
                "available": int(max_team),
                "_zh": f"检查{vid}：{dept_names[d]}部门的检查组人数",  # not saved
            },
            f"检查{vid}：{dept_names[d]}部门覆盖其所需专长（{exp_list}）需要 "
            f"{int(t_size[t])} 名检查人员，超过每个部门检查组人数上限 max_team"
            f"（{max_team}）",
        )


def _visit_tasks(t_visit: I64, n_v: int) -> I64:
    """``[n_visits, max_tasks]`` task numbers per visit, padded with ``-1``."""
    n_dept_v = np.bincount(t_visit, minlength=n_v)
    max_tasks = int(n_dept_v.max(initial=1)) if n_v else 1
    visit_tasks = np.full((n_v, max(max_tasks, 1)), -1, dtype=np.int64)
    if len(t_visit):
        first = np.searchsorted(t_visit, np.arange(n_v))
        col = np.arange(len(t_visit)) - first[t_visit]
        visit_tasks[t_visit, col] = np.arange(len(t_visit))
    return visit_tasks


# -------------------------------------------------------- visits, inspectors
def _tables(
    visits: pd.DataFrame, dataset: Dataset
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Visits and inspectors sorted by id, items with clean text."""
    vis = visits.copy()
    vis["visit_id"] = vis["visit_id"].astype(str)
    vis = vis.sort_values("visit_id", kind="stable").reset_index(drop=True)
    vis["month"] = pd.to_numeric(vis["month"]).astype(np.int64)
    ins = dataset.inspectors.copy()
    ins["inspector_id"] = ins["inspector_id"].astype(str)
    ins = ins.sort_values("inspector_id", kind="stable").reset_index(drop=True)
    items = dataset.items.copy()
    items["item_id"] = items["item_id"].astype(str)
    items["department"] = items["department"].astype(str)
    items["expertise"] = items["expertise"].fillna("").astype(str).str.strip()
    return vis, ins, items


def _regions(
    vis: pd.DataFrame, ins: pd.DataFrame, entities: pd.DataFrame
) -> tuple[int, I64, I64]:
    """Number of region codes and the region of each inspector and visit."""
    ent_region = pd.Series(
        entities["region"].astype(str).to_numpy(),
        index=entities["uscc"].astype(str).to_numpy(),
    )
    ent_region = ent_region[~ent_region.index.duplicated()]
    v_reg_str = vis["uscc"].astype(str).map(ent_region).fillna("")
    regions = sorted(set(ins["region"].astype(str)) | set(v_reg_str.unique()) - {""})
    insp_region = codes(ins["region"].astype(str), regions)
    v_region = np.where(v_reg_str.to_numpy() == "", -1, codes(v_reg_str, regions))
    return len(regions), insp_region, np.asarray(v_region, dtype=np.int64)


def _priority(v_id: npt.NDArray[np.object_], vis: pd.DataFrame, key: str) -> I64:
    """Rank of each visit: triggered visits, then higher tiers, then keyed random."""
    tier_rank = (
        vis["tier"].astype(str).map(_TIER_RANK).fillna(1).to_numpy(dtype=np.int64)
    )
    prio = tier_rank + 10 * (vis["trigger"].astype(str).to_numpy() != "random")
    order = np.lexsort((keyed_uniform(v_id, key), prio))
    v_rank = np.empty(len(v_id), dtype=np.int64)
    v_rank[order] = np.arange(len(v_id))
    return v_rank


@dataclass(frozen=True)
class _Orders:
    """Inspectors by (department, region), and by department in keyed random order."""

    by_dr: I64
    by_dr_key: I64
    by_d: I64
    d_lo: I64
    d_hi: I64


def _pruning_orders(
    insp_id: npt.NDArray[np.object_],
    insp_dept: I64,
    insp_region: I64,
    n: tuple[int, int],
    key: str,
) -> _Orders:
    n_depts, n_regions = n
    by_dr = np.lexsort((np.arange(len(insp_id)), insp_region, insp_dept)).astype(
        np.int64
    )
    by_d = np.lexsort((keyed_uniform(insp_id, key), insp_dept)).astype(np.int64)
    d_sorted = insp_dept[by_d]
    return _Orders(
        by_dr=by_dr,
        by_dr_key=(insp_dept * n_regions + insp_region)[by_dr],
        by_d=by_d,
        d_lo=np.searchsorted(d_sorted, np.arange(n_depts)).astype(np.int64),
        d_hi=np.searchsorted(d_sorted, np.arange(n_depts), side="right").astype(
            np.int64
        ),
    )


def prepare(
    visits: pd.DataFrame,
    dataset: Dataset,
    policy: AssignmentPolicy,
    *,
    year: int,
    seed: str,
) -> Problem:
    """Build the :class:`.Problem` of an assignment (inputs are not modified).

    Raises
    ------
    DataValidationError
        The visits table is malformed (:func:`check_visits`), a hard rule's
        input column is missing, or a department has more than 64 expertise
        areas.
    """
    check_visits(visits)
    rules = active_rules(policy)
    check_columns(rules, {**dataset.tables(), "visits": visits})
    vis, ins, items = _tables(visits, dataset)
    v_id = vis["visit_id"].to_numpy(dtype=object)
    insp_id = ins["inspector_id"].to_numpy(dtype=object)
    v_depts = explode_list(vis["departments"])
    dept_names = sorted(
        set(ins["department"].astype(str))
        | set(v_depts.unique())
        | set(items["department"])
    )
    insp_dept = codes(ins["department"].astype(str), dept_names)
    n_reg, insp_region, v_region = _regions(vis, ins, dataset.entities)
    vocab, insp_mask = _expertise(ins, insp_dept, items, dept_names)
    dep_df = pd.DataFrame(
        {"v": v_depts.index.to_numpy(dtype=np.int64), "dept": v_depts.to_numpy()}
    ).drop_duplicates()
    dep_df["pos"] = dep_df.groupby("v").cumcount()
    dep_df["d"] = codes(dep_df["dept"], dept_names)
    prefail: dict[int, Prefail] = {}
    it_df = _item_rows(
        explode_list(vis["items"]), items, dep_df, v_id, prefail, dept_names
    )
    tk = _tasks(dep_df, it_df, len(dept_names), vocab)
    t_size = _team_sizes(tk, len(v_id), policy.min_team)
    names = (dept_names, vocab.by_department())
    _prefail_big_teams(tk, t_size, v_id, names, policy.max_team, prefail)
    inputs = RuleInputs(
        dataset, policy, ins, vis, insp_id, sorted(set(vis["uscc"].astype(str)))
    )
    return Problem(
        insp_id=insp_id,
        insp_dept=insp_dept,
        insp_region=insp_region,
        insp_mask=insp_mask,
        insp_cap=np.asarray(ins["monthly_capacity"].to_numpy(), dtype=np.int64),
        insp_unavail=unavailable_bits(ins["unavailable_months"]),
        insp_active=ins["active"].astype(bool).to_numpy(),
        dept_names=dept_names,
        vocab=names[1],
        visits=vis,
        v_id=v_id,
        v_month=vis["month"].to_numpy(dtype=np.int64),
        v_entity=codes(vis["uscc"].astype(str), inputs.entity_ids),
        v_region=v_region,
        v_rank=_priority(v_id, vis, derive_key(seed, year, "assignment", "priority")),
        v_prefail=prefail,
        t_visit=tk.visit,
        t_dept=tk.dept,
        t_req=tk.req,
        t_open=tk.open_,
        t_size=t_size,
        t_month=vis["month"].to_numpy(dtype=np.int64)[tk.visit],
        visit_tasks=_visit_tasks(tk.visit, len(v_id)),
        n_ent=inputs.n_ent,
        rules=rules,
        rule_data={r.name: r.prepare(inputs) for r in rules if r.prepare is not None},
        n_regions=n_reg + 1,
        **vars(
            _pruning_orders(
                insp_id,
                insp_dept,
                insp_region,
                (len(dept_names), n_reg + 1),
                derive_key(seed, year, "assignment", "window"),
            )
        ),
    )
