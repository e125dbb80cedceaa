"""Random assignment of inspectors to visits (the second "random" of 双随机).

Every visit gets a team of inspectors drawn at random among the assignments
that keep every hard rule (R11-R14):

* at least ``min_team`` inspectors (2 by default), and on a joint visit at
  least one from each participating department;
* each inspector works in one of the visit's departments, is active and
  available that month, has no conflict with the entity (the ``conflicts``
  table, plus rotation: the inspectors of the entity's last visit are
  excluded) and holds the expertise of at least one of the visit's items of
  his department; every item is covered by an inspector of its department
  holding its expertise (an empty expertise means anyone of the department);
* no inspector exceeds ``monthly_capacity`` in any month.

Algorithm (``shared/research/scheduling.md`` §2, "Assignment"):

1. **Tasks and candidate arcs.** A visit is split into one task per
   department. The hard rules are filters on (task, inspector) arcs. With
   ``same_region_first`` the arcs are pruned to all same-region candidates
   plus ``cross_region_candidates`` random cross-region ones.
2. **Min-cost flow per (department, month)** with OR-Tools
   ``SimpleMinCostFlow`` and lexicographic costs: unfilled slots (an arc to
   the sink with a huge cost, so a shortage is reported, never raised), then
   cross-region slots, then keyed random integers.
3. **Retry and repair.** Visits left unstaffed are retried with every
   candidate, then with CP-SAT where the flow's coverage model is too strict
   (one inspector may cover several expertise areas), then, with ``repair``,
   in another month with spare capacity. What still fails is reported with
   its binding group in ``diagnostics``.
4. **Metropolis chain** of symmetric replace/exchange moves that keep every
   hard rule and the cross-region level: the flow's optimum is a random
   assignment but not a uniform one; the chain makes it uniform in the limit.

All randomness derives from the seed string (keyed hashes of ids and
per-stage generators), so the result does not depend on input row order.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import field_validator, model_validator

from creditsup._flow import (
    CROSS_WEIGHT,
    RANDOM_COST_RANGE,
    GroupProblem,
    lexicographic_costs,
    solve_cpsat,
    solve_mcf,
)
from creditsup._metropolis import ChainInput, run_chain
from creditsup._random import derive_key, keyed_uint64, keyed_uniform, seed_sequence
from creditsup._random import stage_rng as _stage_rng
from creditsup.config import FrozenModel, config_hash
from creditsup.exceptions import ConfigError, DataValidationError
from creditsup.schemas import (
    ASSIGNMENT_COLUMNS,
    TIERS,
    VISIT_COLUMNS,
    unavailable_bits,
)

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "VIOLATION_COLUMNS",
    "AssignmentPolicy",
    "AssignmentResult",
    "assign_inspectors",
    "audit_assignment",
    "estimate_exposure",
    "redraw",
]

logger = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B1 = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]

#: Columns of :func:`audit_assignment`'s result.
VIOLATION_COLUMNS = ("visit_id", "inspector_id", "rule", "detail")
REDRAW_COLUMNS = (
    "visit_id",
    "old_inspector_id",
    "new_inspector_id",
    "reason",
    "department",
    "n_candidates",
    "outcome",
)
_TIER_RANK = {t: i for i, t in enumerate(TIERS)}
_MAX_BITS = 64


def _month_name(m: int) -> str:
    return calendar.month_name[int(m)]


# ---------------------------------------------------------------------- policy
class AssignmentPolicy(FrozenModel):
    """Rules and preferences of the inspector assignment.

    Parameters
    ----------
    min_team : int, default 2
        Minimum number of inspectors on a visit (R11: never fewer than two by
        law; 1 is accepted for testing).
    max_team : int, default 6
        Largest team the assigner may form. A visit whose items need more
        distinct expertise areas than ``min_team`` grows its team up to this
        size; beyond it the visit is reported unfilled.
    rotation : bool, default True
        Exclude the inspectors of the entity's last visit (history) (R13).
    same_region_first : bool, default True
        Prefer inspectors of the entity's region: the number of cross-region
        slots is minimised before the random choice, and candidates are
        pruned to all same-region inspectors plus ``cross_region_candidates``
        random others.
    cross_region_candidates : int, default 10
        Random cross-region candidates kept per task when pruning.
    metropolis_sweeps : int, default 10
        Proposals of the randomising chain, per filled slot. 0 keeps the
        flow's random-cost optimum (not uniform).
    pair_limit : int or None, default None
        Largest number of visits the same pair of inspectors may share in the
        year (anti-collusion). ``None`` disables the rule.
    max_deterministic_time : float, default 10.0
        Deterministic time limit of each CP-SAT model (never a wall-clock
        limit, so results do not depend on the machine).
    repair : bool, default True
        Move a visit that cannot be staffed in its month to the nearest month
        in ``repair_months`` with capacity; otherwise report it unfilled.
    repair_months : tuple of int, default 1..12
        Months a repaired visit may move to.

    Examples
    --------
    >>> AssignmentPolicy().min_team
    2
    >>> AssignmentPolicy(min_team=3, max_team=4).max_team
    4
    """

    min_team: int = 2
    max_team: int = 6
    rotation: bool = True
    same_region_first: bool = True
    cross_region_candidates: int = 10
    metropolis_sweeps: int = 10
    pair_limit: int | None = None
    max_deterministic_time: float = 10.0
    repair: bool = True
    repair_months: tuple[int, ...] = tuple(range(1, 13))

    @field_validator("min_team", "max_team")
    @classmethod
    def _positive_team(cls, v: int, info: Any) -> int:
        if v < 1:
            raise ValueError(
                f"The '{info.field_name}' of AssignmentPolicy must be >= 1. "
                f"Got {v} instead."
            )
        return v

    @field_validator("cross_region_candidates", "metropolis_sweeps")
    @classmethod
    def _non_negative(cls, v: int, info: Any) -> int:
        if v < 0:
            raise ValueError(
                f"The '{info.field_name}' of AssignmentPolicy must be >= 0. "
                f"Got {v} instead."
            )
        return v

    @field_validator("pair_limit")
    @classmethod
    def _pair_limit(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(
                f"The 'pair_limit' of AssignmentPolicy must be >= 1 or None. "
                f"Got {v} instead."
            )
        return v

    @field_validator("max_deterministic_time")
    @classmethod
    def _det_time(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(
                "The 'max_deterministic_time' of AssignmentPolicy must be > 0. "
                f"Got {v} instead."
            )
        return v

    @field_validator("repair_months")
    @classmethod
    def _months(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        bad = [m for m in v if not 1 <= m <= 12]
        if bad:
            raise ValueError(
                "The 'repair_months' of AssignmentPolicy must be months in [1, 12]. "
                f"Got {bad[0]} instead."
            )
        return tuple(sorted(set(v)))

    @model_validator(mode="after")
    def _team_bounds(self) -> AssignmentPolicy:
        if self.max_team < self.min_team:
            raise ValueError(
                "The 'max_team' of AssignmentPolicy must be >= 'min_team' "
                f"({self.min_team}). Got {self.max_team} instead."
            )
        return self


# ---------------------------------------------------------------------- result
def _empty_redraws() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REDRAW_COLUMNS})


@dataclass(frozen=True)
class AssignmentResult:
    """The outcome of :func:`assign_inspectors`.

    Attributes
    ----------
    assignments : pandas.DataFrame
        ``visit_id, inspector_id, department``: one row per inspector on a
        visit, sorted by ``visit_id`` then ``inspector_id``.
    visits : pandas.DataFrame
        The visits sorted by ``visit_id``, with ``month`` possibly moved by the
        repair, ``original_month`` and ``status`` (``staffed``/``unfilled``).
    diagnostics : dict
        ``{"unfilled": [{"visit_id", "reason"}], "binding": [{"group",
        "needed", "available"}]}`` (``contract.md`` §3).
    metrics : dict
        Audit metrics: team sizes, pair co-assignment counts, load per
        inspector against capacity, cross-region share, chain statistics.
    ledger : list of dict
        JSON-able record of each step (for the plan's hash-chained ledger).
    redraws : pandas.DataFrame
        Replacements made after the draw (R12), in order.
    policy : AssignmentPolicy
        The policy used.
    """

    assignments: pd.DataFrame
    visits: pd.DataFrame
    diagnostics: dict[str, list[dict[str, Any]]]
    metrics: dict[str, Any] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    redraws: pd.DataFrame = field(default_factory=_empty_redraws)
    policy: AssignmentPolicy = field(default_factory=AssignmentPolicy)

    @classmethod
    def from_tables(
        cls,
        *,
        visits: pd.DataFrame,
        assignments: pd.DataFrame,
        diagnostics: dict[str, list[dict[str, Any]]] | None = None,
        policy: AssignmentPolicy | None = None,
        redraws: pd.DataFrame | None = None,
    ) -> AssignmentResult:
        """Rebuild a result from saved tables (e.g. a plan bundle)."""
        diag = diagnostics or {"unfilled": [], "binding": []}
        v = visits.copy()
        unfilled = {str(u["visit_id"]) for u in diag.get("unfilled", [])}
        if "status" not in v.columns:
            v["status"] = np.where(
                v["visit_id"].astype(str).isin(unfilled), "unfilled", "staffed"
            )
        if "original_month" not in v.columns:
            v["original_month"] = v["month"]
        return cls(
            assignments=assignments[list(ASSIGNMENT_COLUMNS)].copy(),
            visits=v,
            diagnostics={
                "unfilled": list(diag.get("unfilled", [])),
                "binding": list(diag.get("binding", [])),
            },
            policy=policy or AssignmentPolicy(),
            redraws=_empty_redraws() if redraws is None else redraws.copy(),
        )

    @property
    def is_feasible(self) -> bool:
        """True when every visit is staffed."""
        return not self.diagnostics["unfilled"]

    def summary(self) -> str:
        """A short human-readable account of the assignment."""
        m = self.metrics
        n_v = len(self.visits)
        n_un = len(self.diagnostics["unfilled"])
        lines = [
            f"AssignmentResult: {n_v} visits, {n_v - n_un} staffed, {n_un} unfilled, "
            f"{len(self.assignments)} assignments",
        ]
        if m:
            lines.append(
                f"  load per inspector: min {m.get('load_min')}, median "
                f"{m.get('load_median')}, max {m.get('load_max')} "
                f"(max monthly utilisation {m.get('utilisation_max')})"
            )
            lines.append(
                f"  cross-region share {m.get('cross_region_share')}, max pair "
                f"co-assignments {m.get('pair_max')}, prior max P(inspector, entity) "
                f"{m.get('max_p_inspector_entity_prior')}"
            )
            ch = m.get("metropolis", {})
            if ch:
                lines.append(
                    f"  Metropolis: {ch.get('proposals')} proposals, acceptance "
                    f"{ch.get('acceptance_rate')}, {ch.get('changed_share')} of slots changed"
                )
            if m.get("moved_by_repair"):
                lines.append(
                    f"  moved to another month by repair: {m['moved_by_repair']}"
                )
        for u in self.diagnostics["unfilled"][:5]:
            lines.append(f"  unfilled {u['visit_id']}: {u['reason']}")
        if n_un > 5:
            lines.append(f"  ... and {n_un - 5} more unfilled")
        if len(self.redraws):
            lines.append(f"  re-draws: {len(self.redraws)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>"


# ------------------------------------------------------------------ internals
@dataclass
class _Problem:
    """Canonical numpy view of the inputs (inspectors by id, visits by id)."""

    # inspectors
    insp_id: npt.NDArray[np.object_]
    insp_dept: I64
    insp_region: I64
    insp_mask: U64
    insp_cap: I64
    insp_unavail: I64
    insp_active: B1
    dept_names: list[str]
    vocab: list[list[str]]  # per department: expertise by bit
    # visits
    visits: pd.DataFrame
    v_id: npt.NDArray[np.object_]
    v_month: I64
    v_entity: I64
    v_region: I64
    v_rank: I64  # priority rank, 0 = lowest
    v_prefail: dict[int, tuple[str, dict[str, Any] | None]]
    # tasks
    t_visit: I64
    t_dept: I64
    t_req: U64
    t_open: B1
    t_size: I64
    t_month: I64
    visit_tasks: I64  # [n_visits, max_tasks] padded -1
    # forbidden (inspector, entity) pairs: sorted keys insp * n_ent + ent
    n_ent: int
    conflict_keys: _KeySet
    rotation_keys: _KeySet
    # pruning orders
    by_dr: I64
    by_dr_key: I64
    by_d: I64
    d_lo: I64
    d_hi: I64
    n_regions: int


def _codes(values: pd.Series | npt.NDArray[Any], categories: Sequence[str]) -> I64:
    idx = pd.Index(list(categories), dtype=object)
    return np.asarray(
        idx.get_indexer(pd.Index(np.asarray(values, dtype=object), dtype=object)),
        dtype=np.int64,
    )


class _KeySet:
    """Fast membership of int64 keys: a hashed bitset, then an exact check."""

    def __init__(self, keys: I64) -> None:
        self.keys = np.unique(keys.astype(np.int64))
        bits = max(16, int(np.ceil(np.log2(max(len(self.keys), 1) * 32))))
        self.shift = np.uint64(64 - bits)
        self.table = np.zeros((1 << bits) // 8 + 1, dtype=np.uint8)
        h = self._hash(self.keys)
        np.bitwise_or.at(
            self.table,
            h >> np.uint64(3),
            np.uint8(1) << (h & np.uint64(7)).astype(np.uint8),
        )

    def _hash(self, keys: I64) -> U64:
        x = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return x >> self.shift

    def contains(self, keys: I64) -> B1:
        """Whether each key is in the set."""
        out = np.zeros(len(keys), dtype=bool)
        if len(self.keys) == 0 or len(keys) == 0:
            return out
        h = self._hash(keys)
        maybe = (
            self.table[h >> np.uint64(3)] >> (h & np.uint64(7)).astype(np.uint8)
        ) & 1
        idx = np.flatnonzero(maybe)
        if len(idx):
            out[idx] = _isin_sorted(self.keys, keys[idx])
        return out


def _isin_sorted(sorted_keys: I64, keys: I64) -> B1:
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return np.asarray(sorted_keys[pos] == keys)


def _expand(starts: I64, counts: I64) -> tuple[I64, I64]:
    """Expand ranges ``[starts[i], starts[i] + counts[i])``: (row, value)."""
    counts = np.maximum(counts, 0)
    rows = np.repeat(np.arange(len(starts), dtype=np.int64), counts)
    if len(rows) == 0:
        return rows, rows.copy()
    offs = np.arange(len(rows), dtype=np.int64) - np.repeat(
        np.cumsum(counts) - counts, counts
    )
    return rows, starts[rows] + offs


def _mix64(x: U64) -> U64:
    """SplitMix64 finaliser (vectorised, wrapping uint64 arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _check_visits(visits: pd.DataFrame) -> None:
    missing = [c for c in VISIT_COLUMNS if c not in visits.columns]
    rows: list[dict[str, Any]] = []
    for c in missing:
        rows.append(
            {
                "table": "visits",
                "row": -1,
                "column": c,
                "value": "",
                "rule": "missing_column",
                "message": f"The visits table has no column '{c}'.",
            }
        )
    if not missing and len(visits):
        vid = visits["visit_id"].astype(str)
        dup = vid.duplicated(keep=False).to_numpy()
        for r in np.flatnonzero(dup)[:50]:
            rows.append(
                {
                    "table": "visits",
                    "row": int(r),
                    "column": "visit_id",
                    "value": str(vid.iloc[r]),
                    "rule": "duplicate_key",
                    "message": "visit_id must be unique.",
                }
            )
        month = pd.to_numeric(visits["month"], errors="coerce")
        bad = (~month.between(1, 12) | month.isna() | (month % 1 != 0)).to_numpy()
        for r in np.flatnonzero(bad)[:50]:
            rows.append(
                {
                    "table": "visits",
                    "row": int(r),
                    "column": "month",
                    "value": str(visits["month"].iloc[r]),
                    "rule": "bad_month",
                    "message": "month must be an integer in [1, 12].",
                }
            )
    if rows:
        raise DataValidationError.from_records(rows)


def _split(series: pd.Series) -> pd.Series:
    """``;``-list column to long form, keeping the index (empty lists dropped)."""
    arr = pa.array(
        series.fillna("").astype(str).to_numpy(dtype=object), type=pa.string()
    )
    lists = pc.split_pattern(arr, ";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    vals = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=object)
    keep = vals != ""
    return pd.Series(vals[keep], index=series.index[parent[keep]], dtype=str)


def _prepare(
    visits: pd.DataFrame,
    dataset: Dataset,
    policy: AssignmentPolicy,
    *,
    year: int,
    seed: str,
) -> _Problem:
    _check_visits(visits)
    vis = visits.copy()
    vis["visit_id"] = vis["visit_id"].astype(str)
    vis = vis.sort_values("visit_id", kind="stable").reset_index(drop=True)
    vis["month"] = pd.to_numeric(vis["month"]).astype(np.int64)
    n_v = len(vis)
    v_id = vis["visit_id"].to_numpy(dtype=object)

    # ---------------- inspectors
    ins = dataset.inspectors.copy()
    ins["inspector_id"] = ins["inspector_id"].astype(str)
    ins = ins.sort_values("inspector_id", kind="stable").reset_index(drop=True)
    insp_id = ins["inspector_id"].to_numpy(dtype=object)
    items = dataset.items.copy()
    items["item_id"] = items["item_id"].astype(str)
    items["department"] = items["department"].astype(str)
    items["expertise"] = items["expertise"].fillna("").astype(str).str.strip()

    v_depts = _split(vis["departments"])
    v_items = _split(vis["items"])
    dept_names = sorted(
        set(ins["department"].astype(str)) | set(v_depts) | set(items["department"])
    )
    insp_dept = _codes(ins["department"].astype(str), dept_names)

    ent = dataset.entities
    ent_region = pd.Series(
        ent["region"].astype(str).to_numpy(), index=ent["uscc"].astype(str).to_numpy()
    )
    ent_region = ent_region[~ent_region.index.duplicated()]
    v_uscc = vis["uscc"].astype(str)
    v_reg_str = v_uscc.map(ent_region).fillna("")
    regions = sorted(set(ins["region"].astype(str)) | set(v_reg_str) - {""})
    insp_region = _codes(ins["region"].astype(str), regions)
    v_region = np.where(v_reg_str.to_numpy() == "", -1, _codes(v_reg_str, regions))
    v_region = np.asarray(v_region, dtype=np.int64)

    # expertise vocabularies per department: bit b of department d
    exp_long = _split(ins["expertise"])
    exp_dept = insp_dept[exp_long.index.to_numpy()]
    it_has = (items["expertise"] != "").to_numpy()
    it_dept = _codes(items["department"], dept_names)
    all_words = sorted(set(exp_long.to_numpy()) | set(items["expertise"][it_has]))
    n_words = max(len(all_words), 1)
    keys = np.unique(
        np.concatenate(
            [
                exp_dept * n_words + _codes(exp_long.to_numpy(), all_words),
                it_dept[it_has] * n_words
                + _codes(items["expertise"].to_numpy()[it_has], all_words),
            ]
        )
    )
    key_dept = keys // n_words
    key_bit = np.arange(len(keys)) - np.searchsorted(key_dept, key_dept)
    if len(keys) and key_bit.max() >= _MAX_BITS:
        name = dept_names[int(key_dept[int(np.argmax(key_bit))])]
        raise DataValidationError.from_records(
            [
                {
                    "table": "inspectors",
                    "row": -1,
                    "column": "expertise",
                    "value": name,
                    "rule": "too_many_expertise",
                    "message": f"Department '{name}' uses more than {_MAX_BITS} "
                    "expertise areas; the assigner supports at most "
                    f"{_MAX_BITS}.",
                }
            ]
        )
    words_arr = np.asarray(all_words, dtype=object)
    cuts = np.searchsorted(key_dept, np.arange(len(dept_names) + 1))
    vocab: list[list[str]] = [
        list(words_arr[keys[cuts[d] : cuts[d + 1]] % n_words])
        for d in range(len(dept_names))
    ]

    def bits_of(d: I64, words: npt.NDArray[Any]) -> U64:
        k = d * n_words + _codes(words, all_words)
        b = np.searchsorted(keys, k) - cuts[d]
        return np.asarray(np.uint64(1) << b.astype(np.uint64), dtype=np.uint64)

    insp_mask = np.zeros(len(ins), dtype=np.uint64)
    if len(exp_long):
        np.bitwise_or.at(
            insp_mask, exp_long.index.to_numpy(), bits_of(exp_dept, exp_long.to_numpy())
        )
    insp_unavail = unavailable_bits(ins["unavailable_months"])
    insp_cap = np.asarray(ins["monthly_capacity"].to_numpy(), dtype=np.int64)
    insp_active = ins["active"].astype(bool).to_numpy()

    # ---------------- tasks (one per visit x department)
    dep_df = pd.DataFrame(
        {"v": v_depts.index.to_numpy(dtype=np.int64), "dept": v_depts.to_numpy()}
    ).drop_duplicates()
    dep_df["pos"] = dep_df.groupby("v").cumcount()
    dep_df["d"] = _codes(dep_df["dept"], dept_names)
    it_df = pd.DataFrame(
        {"v": v_items.index.to_numpy(dtype=np.int64), "item_id": v_items.to_numpy()}
    ).drop_duplicates()
    it_df = it_df.merge(
        items[["item_id", "department", "expertise"]], on="item_id", how="left"
    )
    prefail: dict[int, tuple[str, dict[str, Any] | None]] = {}
    unknown = it_df[it_df["department"].isna()]
    for v in np.unique(unknown["v"].to_numpy(dtype=np.int64)):
        names = ", ".join(sorted(unknown.loc[unknown["v"] == v, "item_id"].astype(str)))
        prefail[int(v)] = (f"visit {v_id[int(v)]}: unknown check item(s) {names}", None)
    it_df = it_df[it_df["department"].notna()].copy()
    it_df["d"] = _codes(it_df["department"], dept_names)
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
        )
    no_dept = np.setdiff1d(np.arange(n_v), dep_df["v"].to_numpy())
    for v in no_dept:
        prefail.setdefault(
            int(v), (f"visit {v_id[int(v)]}: the visit lists no department", None)
        )

    dep_df = dep_df.sort_values(["v", "d"], kind="stable").reset_index(drop=True)
    n_t = len(dep_df)
    t_visit = dep_df["v"].to_numpy(dtype=np.int64)
    t_dept = dep_df["d"].to_numpy(dtype=np.int64)
    t_pos = dep_df["pos"].to_numpy(dtype=np.int64)
    tkey = t_visit * len(dept_names) + t_dept
    t_req = np.zeros(n_t, dtype=np.uint64)
    t_open = np.ones(n_t, dtype=bool)
    ok_items = it_df.merge(dep_df[["v", "d"]], on=["v", "d"], how="inner")
    if len(ok_items):
        ik = ok_items["v"].to_numpy(dtype=np.int64) * len(dept_names) + ok_items[
            "d"
        ].to_numpy(dtype=np.int64)
        ti = np.searchsorted(tkey, ik)
        has_exp = ok_items["expertise"].to_numpy() != ""
        # a task is "open" (anyone qualifies) iff it has an item without expertise
        # requirement, or no item at all
        n_items = np.bincount(ti, minlength=n_t)
        n_open = np.bincount(ti[~has_exp], minlength=n_t)
        t_open = (n_items == 0) | (n_open > 0)
        e_bits = bits_of(
            ok_items["d"].to_numpy(dtype=np.int64)[has_exp],
            ok_items["expertise"].to_numpy()[has_exp],
        )
        np.bitwise_or.at(t_req, ti[has_exp], e_bits)
    pc = np.bitwise_count(t_req).astype(np.int64)
    t_size = np.maximum(1, pc)
    per_visit = np.bincount(t_visit, weights=t_size, minlength=n_v).astype(np.int64)
    n_dept_v = np.bincount(t_visit, minlength=n_v).astype(np.int64)
    deficit = np.maximum(0, policy.min_team - per_visit)
    k = np.maximum(n_dept_v[t_visit], 1)
    dv = deficit[t_visit]
    t_size = t_size + dv // k + (t_pos < dv % k).astype(np.int64)
    total = np.bincount(t_visit, weights=t_size, minlength=n_v).astype(np.int64)
    for v in np.flatnonzero(total > policy.max_team):
        if int(v) in prefail:
            continue
        tasks_v = np.flatnonzero(t_visit == v)
        exp_list = "; ".join(
            f"{dept_names[int(t_dept[t])]}: "
            + ", ".join(
                vocab[int(t_dept[t])][b]
                for b in range(_MAX_BITS)
                if (int(t_req[t]) >> b) & 1
            )
            for t in tasks_v
            if int(t_req[t])
        )
        prefail[int(v)] = (
            f"visit {v_id[int(v)]}: needs {int(total[v])} inspectors to cover expertise "
            f"({exp_list}), more than max_team ({policy.max_team})",
            {
                "group": f"visit {v_id[int(v)]}: team size",
                "needed": int(total[v]),
                "available": int(policy.max_team),
            },
        )
    max_tasks = int(n_dept_v.max(initial=1)) if n_v else 1
    visit_tasks = np.full((n_v, max(max_tasks, 1)), -1, dtype=np.int64)
    if n_t:
        first = np.searchsorted(t_visit, np.arange(n_v))
        col = np.arange(n_t) - first[t_visit]
        visit_tasks[t_visit, col] = np.arange(n_t)

    # ---------------- entities, conflicts, rotation
    ent_names = sorted(set(v_uscc))
    n_ent = max(len(ent_names), 1)
    v_entity = _codes(v_uscc, ent_names)
    conf = dataset.conflicts
    conflict_keys = np.zeros(0, dtype=np.int64)
    if len(conf):
        ci = np.searchsorted(
            insp_id, conf["inspector_id"].astype(str).to_numpy(dtype=object)
        )
        ci = np.minimum(ci, max(len(insp_id) - 1, 0))
        known = (len(insp_id) > 0) & (
            insp_id[ci] == conf["inspector_id"].astype(str).to_numpy()
        )
        ce = _codes(conf["uscc"].astype(str), ent_names)
        ok = known & (ce >= 0)
        conflict_keys = np.unique(ci[ok] * n_ent + ce[ok])
    rotation_keys = np.zeros(0, dtype=np.int64)
    hist = dataset.history
    if policy.rotation and len(hist):
        h = hist[_codes(hist["uscc"].astype(str), ent_names) >= 0]
        if len(h):
            last = h.groupby("uscc")["date"].transform("max")
            h = h[h["date"] == last]
            hid = _split(h["inspector_ids"])
            if len(hid):
                ii = np.searchsorted(insp_id, hid.to_numpy(dtype=object))
                ii = np.minimum(ii, max(len(insp_id) - 1, 0))
                known = (len(insp_id) > 0) & (insp_id[ii] == hid.to_numpy())
                he = _codes(h["uscc"].astype(str).loc[hid.index], ent_names)
                ok = known & (he >= 0)
                rotation_keys = np.unique(ii[ok] * n_ent + he[ok])

    # ---------------- priority: triggered/key visits, then higher tiers first
    tier_rank = (
        vis["tier"].astype(str).map(_TIER_RANK).fillna(1).to_numpy(dtype=np.int64)
    )
    trig = vis["trigger"].astype(str).to_numpy()
    prio = tier_rank + 10 * (trig != "random")
    u = keyed_uniform(v_id, derive_key(seed, year, "assignment", "priority"))
    order = np.lexsort((u, prio))
    v_rank = np.empty(n_v, dtype=np.int64)
    v_rank[order] = np.arange(n_v)

    # ---------------- inspector orders for candidate pruning
    n_regions = len(regions) + 1
    by_dr = np.lexsort((np.arange(len(ins)), insp_region, insp_dept)).astype(np.int64)
    by_dr_key = (insp_dept * n_regions + insp_region)[by_dr]
    w = keyed_uniform(insp_id, derive_key(seed, year, "assignment", "window"))
    by_d = np.lexsort((w, insp_dept)).astype(np.int64)
    d_sorted = insp_dept[by_d]
    d_lo = np.searchsorted(d_sorted, np.arange(len(dept_names))).astype(np.int64)
    d_hi = np.searchsorted(d_sorted, np.arange(len(dept_names)), side="right").astype(
        np.int64
    )

    return _Problem(
        insp_id=insp_id,
        insp_dept=insp_dept,
        insp_region=insp_region,
        insp_mask=insp_mask,
        insp_cap=insp_cap,
        insp_unavail=insp_unavail,
        insp_active=insp_active,
        dept_names=dept_names,
        vocab=vocab,
        visits=vis,
        v_id=v_id,
        v_month=vis["month"].to_numpy(dtype=np.int64),
        v_entity=v_entity,
        v_region=v_region,
        v_rank=v_rank,
        v_prefail=prefail,
        t_visit=t_visit,
        t_dept=t_dept,
        t_req=t_req,
        t_open=t_open,
        t_size=t_size.astype(np.int64),
        t_month=vis["month"].to_numpy(dtype=np.int64)[t_visit],
        visit_tasks=visit_tasks,
        n_ent=n_ent,
        conflict_keys=_KeySet(conflict_keys),
        rotation_keys=_KeySet(rotation_keys),
        by_dr=by_dr,
        by_dr_key=by_dr_key,
        by_d=by_d,
        d_lo=d_lo,
        d_hi=d_hi,
        n_regions=n_regions,
    )


def _eligible(P: _Problem, t: I64, i: I64, month: I64) -> B1:
    """Hard-rule filter on (task, inspector) pairs; ``month`` per pair."""
    ok = P.insp_active[i] & (P.insp_dept[i] == P.t_dept[t])
    ok &= ((P.insp_unavail[i] >> month) & 1) == 0
    ok &= P.t_open[t] | ((P.insp_mask[i] & P.t_req[t]) != 0)
    idx = np.flatnonzero(ok)
    key = i[idx] * P.n_ent + P.v_entity[P.t_visit[t[idx]]]
    bad = P.conflict_keys.contains(key) | P.rotation_keys.contains(key)
    ok[idx[bad]] = False
    return np.asarray(ok)


def _candidate_arcs(
    P: _Problem,
    tasks: I64,
    months: I64,
    *,
    prune: bool,
    k_cross: int,
    seed: str,
    year: int,
) -> tuple[I64, I64]:
    """Candidate arcs (task, inspector) of ``tasks``, sorted by (task, inspector)."""
    if len(tasks) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy()
    t_dept = P.t_dept[tasks]
    t_reg = P.v_region[P.t_visit[tasks]]
    n_d = P.d_hi[t_dept] - P.d_lo[t_dept]
    if prune:
        key = t_dept * P.n_regions + np.where(t_reg >= 0, t_reg, P.n_regions - 1)
        lo = np.searchsorted(P.by_dr_key, key)
        hi = np.searchsorted(P.by_dr_key, key, side="right")
        r_s, pos_s = _expand(lo, hi - lo)
        same_t = tasks[r_s]
        same_i = P.by_dr[pos_s]
        ok = _eligible(P, same_t, same_i, months[r_s])
        same_t, same_i = same_t[ok], same_i[ok]
        # window of the department in a keyed random order, from a keyed start
        # ~3K draws give K eligible cross-region candidates at typical
        # eligibility rates; same-region inspectors in the window are skipped
        n_same = hi - lo
        want = (3 * k_cross + 8) * np.maximum(n_d, 1) // np.maximum(n_d - n_same, 1) + 1
        width = np.where(k_cross > 0, np.minimum(n_d, want), 0)
        hv = keyed_uint64(
            P.v_id[P.t_visit[tasks]],
            derive_key(seed, year, "assignment", "window-start"),
        )
        start = (
            _mix64(hv ^ t_dept.astype(np.uint64)) % np.maximum(n_d, 1).astype(np.uint64)
        ).astype(np.int64)
        r_c, off = _expand(np.zeros(len(tasks), dtype=np.int64), width)
        pos = P.d_lo[t_dept[r_c]] + (start[r_c] + off) % np.maximum(n_d[r_c], 1)
        cross_i = P.by_d[pos]
        ok = P.insp_region[cross_i] != t_reg[r_c]
        r_c, cross_i = r_c[ok], cross_i[ok]
        cross_t = tasks[r_c]
        ok = _eligible(P, cross_t, cross_i, months[r_c])
        r_c, cross_t, cross_i = r_c[ok], cross_t[ok], cross_i[ok]
        if len(r_c):
            first = np.searchsorted(r_c, np.arange(len(tasks)))
            rank = np.arange(len(r_c)) - first[r_c]
            keep = rank < k_cross
            cross_t, cross_i = cross_t[keep], cross_i[keep]
        a_t = np.concatenate([same_t, cross_t])
        a_i = np.concatenate([same_i, cross_i])
    else:
        r, pos = _expand(P.d_lo[t_dept], n_d)
        a_t = tasks[r]
        a_i = P.by_d[pos]
        ok = _eligible(P, a_t, a_i, months[r])
        a_t, a_i = a_t[ok], a_i[ok]
    n_i = max(len(P.insp_id), 1)
    key = np.sort(a_t * n_i + a_i)
    return key // n_i, key % n_i


def _arc_costs(P: _Problem, a_t: I64, a_i: I64, key: str) -> I64:
    hv = keyed_uint64(P.v_id, key)
    hi = keyed_uint64(P.insp_id, key)
    x = _mix64(hv[P.t_visit[a_t]] ^ _mix64(hi[a_i] + np.uint64(0x9E3779B97F4A7C15)))
    return (x % np.uint64(RANDOM_COST_RANGE)).astype(np.int64)


@dataclass
class _State:
    team: I64  # [n_tasks, width]
    load: I64  # [n_insp, 13]
    month: I64  # per task (current)
    filled: B1  # per task (last attempt)
    staffed_v: B1  # per visit
    arc_t: I64  # candidate arcs used for the chain (per staffed task)
    arc_i: I64
    n_groups: int = 0
    n_cpsat: int = 0
    cpsat_status: dict[str, int] = field(default_factory=dict)


def _solve_round(
    P: _Problem,
    S: _State,
    tasks: I64,
    a_t: I64,
    a_i: I64,
    *,
    policy: AssignmentPolicy,
    cost_key: str,
    use_cpsat: bool = False,
    seed: str = "",
    year: int = 0,
) -> None:
    """Solve the given tasks per (department, month) on residual capacity.

    Commits the teams of fully staffed tasks into ``S`` (visit-level release
    is done by the caller).
    """
    if len(tasks) == 0:
        return
    month = S.month[tasks]
    grp = P.t_dept[tasks] * 13 + month
    order = np.lexsort((tasks, grp))
    tasks, grp = tasks[order], grp[order]
    cost_all = _arc_costs(P, a_t, a_i, cost_key)
    cross_all = P.insp_region[a_i] != P.v_region[P.t_visit[a_t]]
    if not policy.same_region_first:
        cross_all = np.zeros(len(a_t), dtype=bool)
    bounds = np.flatnonzero(np.diff(grp)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(tasks)]])
    for s, e in zip(starts, ends, strict=True):
        g_tasks = tasks[s:e]
        m = int(S.month[g_tasks[0]])
        lo = np.searchsorted(a_t, g_tasks)
        hi = np.searchsorted(a_t, g_tasks, side="right")
        r, pos = _expand(lo, hi - lo)
        g_ai = a_i[pos]
        rank_v = P.v_rank[P.t_visit[g_tasks]]
        prank = np.empty(len(g_tasks), dtype=np.int64)
        prank[np.argsort(rank_v, kind="stable")] = np.arange(len(g_tasks))
        arc_cost, penalty = lexicographic_costs(
            cost_all[pos], cross_all[pos], r, P.t_size[g_tasks], prank
        )
        cap = P.insp_cap - S.load[:, m]
        gp = GroupProblem(
            size=P.t_size[g_tasks],
            req=P.t_req[g_tasks],
            open_=P.t_open[g_tasks],
            penalty=penalty,
            arc_task=r,
            arc_insp=g_ai,
            arc_cost=arc_cost,
            insp_mask=P.insp_mask,
            capacity=cap,
        )
        S.n_groups += 1
        if use_cpsat:
            rs = int(
                seed_sequence(
                    seed, year, "assignment", "cpsat", m, int(P.t_dept[g_tasks[0]])
                ).generate_state(1)[0]
            )
            sol = solve_cpsat(
                gp, random_seed=rs, max_deterministic_time=policy.max_deterministic_time
            )
            S.n_cpsat += 1
            S.cpsat_status[sol.status] = S.cpsat_status.get(sol.status, 0) + 1
        else:
            sol = solve_mcf(gp)
        chosen = sol.chosen & sol.filled[r]
        ct = g_tasks[r[chosen]]
        ci = g_ai[chosen]
        _commit(S, ct, ci, m)
        S.filled[g_tasks] = sol.filled


def _commit(S: _State, ct: I64, ci: I64, month: int) -> None:
    if len(ct) == 0:
        return
    order = np.lexsort((ci, ct))
    ct, ci = ct[order], ci[order]
    first = np.searchsorted(ct, ct)
    col = np.arange(len(ct)) - first
    S.team[ct, col] = ci
    np.add.at(S.load, (ci, np.full(len(ci), month)), 1)


def _release_failed(P: _Problem, S: _State, visits: I64) -> I64:
    """Mark visits staffed iff all their tasks are filled; release the others.

    Returns the visits (among ``visits``) that failed.
    """
    vt = P.visit_tasks[visits]
    ok = np.where(vt >= 0, S.filled[np.maximum(vt, 0)], True).all(axis=1)
    ok &= (vt >= 0).any(axis=1)
    S.staffed_v[visits] = ok
    failed = visits[~ok]
    ft = P.visit_tasks[failed].ravel()
    ft = ft[ft >= 0]
    if len(ft):
        rows = S.team[ft]
        has = rows >= 0
        ti = np.repeat(ft, has.sum(axis=1))
        ii = rows[has]
        np.add.at(S.load, (ii, S.month[ti]), -1)
        S.team[ft] = -1
    return failed


def _tasks_of(P: _Problem, visits: I64) -> I64:
    t = P.visit_tasks[visits].ravel()
    return np.sort(t[t >= 0])


def _merge_arcs(
    keep_t: I64, keep_i: I64, keep_mask: B1, new_t: I64, new_i: I64
) -> tuple[I64, I64]:
    a_t = np.concatenate([keep_t[keep_mask], new_t])
    a_i = np.concatenate([keep_i[keep_mask], new_i])
    order = np.lexsort((a_i, a_t))
    return a_t[order], a_i[order]


# ----------------------------------------------------------------- diagnostics
def _diagnose(
    P: _Problem,
    S: _State,
    failed: I64,
    orig_month: I64,
    policy: AssignmentPolicy,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Reasons for unfilled visits and the binding groups."""
    unfilled: list[dict[str, Any]] = []
    binding: dict[str, dict[str, Any]] = {}
    if len(failed) == 0:
        return unfilled, []
    # group-level demand and supply (original months)
    t_month0 = orig_month[P.t_visit]
    pre = np.zeros(len(P.v_id), dtype=bool)
    pre[list(P.v_prefail)] = True
    valid_t = ~pre[P.t_visit]
    n_d = len(P.dept_names)
    demand = np.zeros((n_d, 13), dtype=np.int64)
    np.add.at(demand, (P.t_dept[valid_t], t_month0[valid_t]), P.t_size[valid_t])
    avail = np.zeros((len(P.insp_id), 13), dtype=bool)
    for m in range(1, 13):
        avail[:, m] = P.insp_active & (((P.insp_unavail >> m) & 1) == 0)
    supply = np.zeros((n_d, 13), dtype=np.int64)
    for m in range(1, 13):
        np.add.at(supply[:, m], P.insp_dept[avail[:, m]], P.insp_cap[avail[:, m]])

    fail_t = _tasks_of(P, failed[~pre[failed]])
    # stage-wise candidate counts for the failing tasks (all inspectors of the dept)
    reasons_t: dict[int, tuple[str, dict[str, Any] | None]] = {}
    generic_t: set[int] = set()  # tasks whose only reason is competition for capacity
    capacity_t: set[int] = set()  # tasks that failed for lack of capacity
    if len(fail_t):
        td = P.t_dept[fail_t]
        r, pos = _expand(P.d_lo[td], P.d_hi[td] - P.d_lo[td])
        t = fail_t[r]
        i = P.by_d[pos]
        mo = t_month0[t]
        key = i * P.n_ent + P.v_entity[P.t_visit[t]]
        stages = [
            ("dept", np.ones(len(t), dtype=bool)),
            ("active", P.insp_active[i]),
            ("available", ((P.insp_unavail[i] >> mo) & 1) == 0),
            ("expertise", P.t_open[t] | ((P.insp_mask[i] & P.t_req[t]) != 0)),
            ("conflict", ~P.conflict_keys.contains(key)),
            ("rotation", ~P.rotation_keys.contains(key)),
        ]
        cum = np.ones(len(t), dtype=bool)
        counts: list[I64] = []
        unions: list[U64] = []
        for _, s in stages:
            cum = cum & s
            counts.append(np.bincount(r[cum], minlength=len(fail_t)).astype(np.int64))
            un = np.zeros(len(fail_t), dtype=np.uint64)
            np.bitwise_or.at(un, r[cum], P.insp_mask[i[cum]])
            unions.append(un)
        # residual capacity of fully eligible candidates in the original month
        res = np.maximum(P.insp_cap[i] - S.load[i, mo], 0) * cum
        n_cap = np.bincount(r, weights=res > 0, minlength=len(fail_t)).astype(np.int64)
        for j, tt in enumerate(fail_t):
            v = int(P.t_visit[tt])
            vid = P.v_id[v]
            dname = P.dept_names[int(P.t_dept[tt])]
            mon = _month_name(int(t_month0[tt]))
            need = int(P.t_size[tt])
            req = int(P.t_req[tt])
            reason: tuple[str, dict[str, Any] | None] | None = None
            for k, (stage, _) in enumerate(stages):
                n = int(counts[k][j])
                missing = req & ~int(unions[k][j])
                if n >= need and not missing:
                    continue
                names = ", ".join(
                    f"'{P.vocab[int(P.t_dept[tt])][b]}'"
                    for b in range(_MAX_BITS)
                    if (missing >> b) & 1
                )
                reason = _stage_reason(stage, n, need, names, str(vid), dname, mon)
                break
            if reason is None:
                d = int(P.t_dept[tt])
                mm = int(t_month0[tt])
                if demand[d, mm] > supply[d, mm]:
                    g = f"department {dname}, {mon}"
                    reason = (
                        f"{g}: needs {int(demand[d, mm])} inspector-slots, has {int(supply[d, mm])}",
                        {
                            "group": g,
                            "needed": int(demand[d, mm]),
                            "available": int(supply[d, mm]),
                        },
                    )
                else:
                    for b in range(_MAX_BITS):
                        if not (req >> b) & 1:
                            continue
                        in_g = valid_t & (P.t_dept == d) & (t_month0 == mm)
                        need_b = int(
                            (
                                in_g & (((P.t_req >> np.uint64(b)) & np.uint64(1)) == 1)
                            ).sum()
                        )
                        holders = (
                            (P.insp_dept == d)
                            & avail[:, mm]
                            & (((P.insp_mask >> np.uint64(b)) & np.uint64(1)) == 1)
                        )
                        have_b = int(P.insp_cap[holders].sum())
                        if need_b > have_b:
                            g = f"department {dname}, {mon}, expertise '{P.vocab[d][b]}'"
                            reason = (
                                f"{g}: needs {need_b} inspector-slots, has {have_b}",
                                {"group": g, "needed": need_b, "available": have_b},
                            )
                            break
                if reason is None:
                    generic_t.add(int(tt))
                    g = f"visit {vid}, department {dname}, {mon}: capacity of qualified inspectors"
                    reason = (
                        f"visit {vid}: {int(n_cap[j])} of the {int(counts[-1][j])} "
                        f"qualified inspectors of department {dname} have capacity left "
                        f"in {mon} after the other visits, the team needs {need}",
                        {"group": g, "needed": need, "available": int(n_cap[j])},
                    )
                capacity_t.add(int(tt))
            reasons_t[int(tt)] = reason
    for v in np.sort(failed):
        v = int(v)
        vid = str(P.v_id[v])
        if v in P.v_prefail:
            txt, bind = P.v_prefail[v]
            unfilled.append({"visit_id": vid, "reason": txt})
            if bind is not None:
                binding.setdefault(bind["group"], bind)
            continue
        ts = P.visit_tasks[v]
        ts = ts[ts >= 0]
        # a task that cannot be staffed on its own explains the visit; the
        # generic "capacity taken by other visits" only when no such task exists
        specific = [
            reasons_t[int(t)]
            for t in ts
            if int(t) in reasons_t and int(t) not in generic_t
        ]
        rs = (
            specific
            or [
                reasons_t[int(t)]
                for t in ts
                if int(t) in reasons_t and not S.filled[int(t)]
            ]
            or [reasons_t[int(t)] for t in ts if int(t) in reasons_t]
        )
        txt = (
            "; ".join(dict.fromkeys(r[0] for r in rs))
            or f"visit {vid}: could not be staffed"
        )
        if policy.repair and any(int(t) in capacity_t for t in ts):
            txt += "; no other month had room either"
        unfilled.append({"visit_id": vid, "reason": txt})
        for _, bind in rs:
            if bind is not None:
                binding.setdefault(bind["group"], bind)
    return unfilled, [binding[k] for k in sorted(binding)]


_STAGE_TEXT = {
    # stage: (who is counted, text when an expertise has no holder left)
    "dept": (
        "inspectors of department {d}",
        "no inspector of department {d} holds expertise {e}",
    ),
    "active": (
        "active inspectors of department {d}",
        "no active inspector of department {d} holds expertise {e}",
    ),
    "available": (
        "active inspectors of department {d} available in {m}",
        "no inspector of department {d} holding expertise {e} is available in {m}",
    ),
    "expertise": (
        "inspectors of department {d} available in {m} and qualified for its items",
        "no inspector of department {d} holding expertise {e} is available in {m}",
    ),
    "conflict": (
        "qualified inspectors of department {d} without a conflict of interest",
        "every inspector of department {d} holding expertise {e} is in conflict "
        "with the entity",
    ),
    "rotation": (
        "qualified inspectors of department {d} left after rotation (the inspectors "
        "of the entity's last visit are excluded)",
        "the only available holders of expertise {e} in department {d} were on the "
        "entity's last visit (rotation)",
    ),
}


def _stage_reason(
    stage: str, n: int, need: int, missing: str, vid: str, dname: str, mon: str
) -> tuple[str, dict[str, Any]]:
    """Reason and binding group when a hard-rule filter leaves too few inspectors."""
    who, none_text = _STAGE_TEXT[stage]
    who = who.format(d=dname, m=mon)
    if missing and not (stage == "conflict" and n == 0):
        txt = f"visit {vid}: " + none_text.format(d=dname, m=mon, e=missing)
        return txt, {
            "group": f"visit {vid}: holders of expertise {missing} ({who})",
            "needed": 1,
            "available": 0,
        }
    if stage == "conflict" and n == 0:
        txt = f"visit {vid}: every qualified inspector is in conflict (department {dname}, {mon})"
    elif n == 0 and stage == "dept":
        txt = f"visit {vid}: department {dname} has no inspectors"
    else:
        txt = f"visit {vid}: {n} {who}, the team needs {need}"
    return txt, {"group": f"visit {vid}: {who}", "needed": need, "available": n}


# --------------------------------------------------------------------- metrics
def _metrics(
    P: _Problem,
    S: _State,
    assignments: pd.DataFrame,
    chain: dict[str, Any],
    moved: int,
) -> dict[str, Any]:
    n_staffed = int(S.staffed_v.sum())
    out: dict[str, Any] = {
        "visits": len(P.v_id),
        "staffed": n_staffed,
        "unfilled": len(P.v_id) - n_staffed,
        "moved_by_repair": moved,
        "assignments": len(assignments),
    }
    staffed_t = np.flatnonzero(S.staffed_v[P.t_visit])
    if len(staffed_t):
        deg = np.bincount(S.arc_t, minlength=len(P.t_visit))[staffed_t]
        prior = P.t_size[staffed_t] / np.maximum(deg, 1)
        out["max_p_inspector_entity_prior"] = round(float(prior.max()), 6)
        out["median_candidates_per_task"] = float(np.median(deg))
    else:
        out["max_p_inspector_entity_prior"] = None
        out["median_candidates_per_task"] = None
    out["max_p_inspector_entity"] = None
    # pairs within visits
    a = assignments[["visit_id", "inspector_id"]]
    pairs = a.merge(a, on="visit_id")
    pairs = pairs[pairs["inspector_id_x"] < pairs["inspector_id_y"]]
    pc = pairs.groupby(["inspector_id_x", "inspector_id_y"]).size()
    out["pairs"] = len(pc)
    out["pair_max"] = int(pc.max()) if len(pc) else 0
    out["pairs_repeated"] = int((pc >= 2).sum())
    top = pc.sort_values(ascending=False, kind="stable").head(5)
    out["pair_top"] = [
        {"inspectors": [str(x), str(y)], "visits": int(c)}
        for x, y, c in zip(
            top.index.get_level_values(0),
            top.index.get_level_values(1),
            top,
            strict=True,
        )
    ]
    # load per active inspector vs capacity
    act = P.insp_active
    annual = S.load.sum(axis=1)[act]
    avail_months = np.array(
        [
            sum(1 for m in range(1, 13) if not (int(u) >> m) & 1)
            for u in P.insp_unavail[act]
        ],
        dtype=np.int64,
    )
    annual_cap = P.insp_cap[act] * avail_months
    if act.any():
        out["load_min"] = int(annual.min())
        out["load_median"] = float(np.median(annual))
        out["load_max"] = int(annual.max())
        out["capacity_annual_median"] = float(np.median(annual_cap))
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(annual_cap > 0, annual / np.maximum(annual_cap, 1), 0.0)
            mu = np.where(
                P.insp_cap[:, None] > 0,
                S.load[:, 1:] / np.maximum(P.insp_cap[:, None], 1),
                0.0,
            )[act]
        out["utilisation_median"] = round(float(np.median(util)), 4)
        out["utilisation_max"] = round(float(mu.max(initial=0.0)), 4)
    else:
        out.update(load_min=0, load_median=0.0, load_max=0, capacity_annual_median=0.0)
        out.update(utilisation_median=0.0, utilisation_max=0.0)
    # cross-region share
    rows = S.team >= 0
    if rows.any():
        tt = np.repeat(np.arange(len(S.team)), rows.sum(axis=1))
        ii = S.team[rows]
        cross = P.insp_region[ii] != P.v_region[P.t_visit[tt]]
        out["cross_region_share"] = round(float(cross.mean()), 6)
        out["cross_region_slots"] = int(cross.sum())
    else:
        out["cross_region_share"] = 0.0
        out["cross_region_slots"] = 0
    sizes = assignments.groupby("visit_id").size()
    out["team_size_mean"] = round(float(sizes.mean()), 4) if len(sizes) else 0.0
    out["team_size_max"] = int(sizes.max()) if len(sizes) else 0
    out["metropolis"] = chain
    out["flow_subproblems"] = S.n_groups - S.n_cpsat
    out["cpsat_models"] = S.n_cpsat
    return out


def _sha_frame(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return hashlib.sha256(buf.getvalue().encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ main entry
def assign_inspectors(
    visits: pd.DataFrame,
    dataset: Dataset,
    policy: AssignmentPolicy | None = None,
    *,
    year: int,
    seed: str,
) -> AssignmentResult:
    """Assign a random team of inspectors to every visit under the hard rules.

    Parameters
    ----------
    visits : pandas.DataFrame
        ``visit_id, uscc, tier, month, departments, items, trigger, joint``
        (``contract.md`` §3); ``departments`` and ``items`` are ``;`` lists.
        Items map to a department and an expertise through ``dataset.items``.
    dataset : Dataset
        The validated dataset (inspectors, conflicts, items, history,
        entities for the entity's region).
    policy : AssignmentPolicy, optional
        Team sizes, rotation, region preference, chain length, repair.
    year : int
        Plan year (part of every random stream's label).
    seed : str
        The seed string; all randomness derives from it.

    Returns
    -------
    AssignmentResult
        Assignments, visits with ``status``, diagnostics (never raises for an
        infeasible visit: it is listed under ``unfilled`` with its reason),
        metrics and ledger records.

    Raises
    ------
    DataValidationError
        The visits table lacks a column, repeats a ``visit_id`` or has a
        month outside 1-12.

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ds = Dataset(
    ...     entities=pd.DataFrame({"uscc": ["914403001922038216"], "region": ["140902"]}),
    ...     inspectors=pd.DataFrame({
    ...         "inspector_id": ["I1", "I2", "I3"], "department": "market",
    ...         "region": "140902", "expertise": "licensing", "monthly_capacity": 2,
    ...         "unavailable_months": "", "active": True}),
    ...     conflicts=pd.DataFrame(columns=["inspector_id", "uscc"]),
    ...     items=pd.DataFrame({"item_id": ["M01"], "department": ["market"],
    ...                         "expertise": ["licensing"]}),
    ...     history=pd.DataFrame(columns=["uscc", "date", "inspector_ids"]),
    ... )
    >>> visits = pd.DataFrame({
    ...     "visit_id": ["V1"], "uscc": ["914403001922038216"], "tier": ["B"],
    ...     "month": [3], "departments": ["market"], "items": ["M01"],
    ...     "trigger": ["random"], "joint": [False]})
    >>> res = assign_inspectors(visits, ds, year=2027, seed="demo")
    >>> len(res.assignments), res.visits["status"].tolist()
    (2, ['staffed'])
    >>> audit_assignment(res.assignments, res.visits, ds).empty
    True
    """
    policy = policy or AssignmentPolicy()
    P = _prepare(visits, dataset, policy, year=year, seed=seed)
    n_t = len(P.t_visit)
    n_v = len(P.v_id)
    width = max(int(P.t_size.max(initial=1)), 1)
    S = _State(
        team=np.full((n_t, width), -1, dtype=np.int64),
        load=np.zeros((len(P.insp_id), 13), dtype=np.int64),
        month=P.t_month.copy(),
        filled=np.zeros(n_t, dtype=bool),
        staffed_v=np.zeros(n_v, dtype=bool),
        arc_t=np.zeros(0, dtype=np.int64),
        arc_i=np.zeros(0, dtype=np.int64),
    )
    cost_key = derive_key(seed, year, "assignment", "cost")
    ledger: list[dict[str, Any]] = [
        {
            "step": "inputs",
            "n_visits": n_v,
            "n_tasks": n_t,
            "n_inspectors": len(P.insp_id),
            "n_prefailed": len(P.v_prefail),
            "policy": policy.model_dump(mode="json"),
            "policy_hash": config_hash(policy),
        }
    ]
    is_pre = np.zeros(n_v, dtype=bool)
    is_pre[list(P.v_prefail)] = True
    live = np.flatnonzero(~is_pre).astype(np.int64)
    tasks = _tasks_of(P, live)
    arc_t, arc_i = _candidate_arcs(
        P,
        tasks,
        S.month[tasks],
        prune=policy.same_region_first,
        k_cross=policy.cross_region_candidates,
        seed=seed,
        year=year,
    )
    ledger.append(
        {
            "step": "candidates",
            "n_arcs": len(arc_t),
            "pruned": policy.same_region_first,
            "cross_region_candidates": policy.cross_region_candidates,
        }
    )
    # ---- round 1: min-cost flow per (department, month)
    _solve_round(P, S, tasks, arc_t, arc_i, policy=policy, cost_key=cost_key)
    failed = _release_failed(P, S, live)
    n_first_failed = len(failed)
    # ---- round 2+: unpruned candidates for failed visits, freed capacity
    rounds = 1
    while len(failed) and rounds < 3:
        rounds += 1
        ft = _tasks_of(P, failed)
        nt, ni = _candidate_arcs(
            P, ft, S.month[ft], prune=False, k_cross=0, seed=seed, year=year
        )
        arc_t, arc_i = _merge_arcs(arc_t, arc_i, ~np.isin(arc_t, ft), nt, ni)
        _solve_round(P, S, ft, nt, ni, policy=policy, cost_key=cost_key)
        new_failed = _release_failed(P, S, failed)
        progress = len(new_failed) < len(failed)
        failed = new_failed
        if not progress:
            break
    ledger.append(
        {
            "step": "flow",
            "solver": "ortools.SimpleMinCostFlow",
            "subproblems": S.n_groups,
            "rounds": rounds,
            "failed_after_first_round": n_first_failed,
            "failed": len(failed),
        }
    )
    # ---- CP-SAT where the flow's coverage model (distinct cover slots) is too strict
    if len(failed):
        cand = _cpsat_candidates(P, S, failed, arc_t, arc_i)
        if len(cand):
            ct = _tasks_of(P, cand)
            lo = np.isin(arc_t, ct)
            _solve_round(
                P,
                S,
                ct,
                arc_t[lo],
                arc_i[lo],
                policy=policy,
                cost_key=cost_key,
                use_cpsat=True,
                seed=seed,
                year=year,
            )
            still = _release_failed(P, S, cand)
            failed = np.union1d(np.setdiff1d(failed, cand), still)
            ledger.append(
                {
                    "step": "cpsat",
                    "visits": len(cand),
                    "staffed": len(cand) - len(still),
                    "models": S.n_cpsat,
                    "status": dict(sorted(S.cpsat_status.items())),
                    "num_workers": 1,
                    "max_deterministic_time": policy.max_deterministic_time,
                }
            )
    # ---- repair: move still-failing visits to the nearest month with room
    orig_month = P.v_month.copy()
    moved: list[dict[str, Any]] = []
    if policy.repair and len(failed):
        failed, moved, arc_t, arc_i = _repair(
            P,
            S,
            failed,
            arc_t,
            arc_i,
            policy=policy,
            cost_key=cost_key,
            seed=seed,
            year=year,
        )
        ledger.append({"step": "repair", "moved": moved, "still_unfilled": len(failed)})
    pre = np.array(sorted(P.v_prefail), dtype=np.int64)
    unfilled, binding = _diagnose(P, S, np.union1d(failed, pre), orig_month, policy)

    # ---- Metropolis chain
    staffed_tasks = np.flatnonzero(S.staffed_v[P.t_visit])
    keep = np.isin(arc_t, staffed_tasks)
    S.arc_t, S.arc_i = arc_t[keep], arc_i[keep]
    chain_stats = _run_chain(P, S, policy, seed=seed, year=year)
    ledger.append({"step": "metropolis", **chain_stats})

    assignments = _assignments_frame(P, S)
    vis_out = P.visits.copy()
    vis_out["original_month"] = orig_month
    first_t = P.visit_tasks[:, 0]
    cur_month = orig_month.copy()
    cur_month[first_t >= 0] = S.month[first_t[first_t >= 0]]
    vis_out["month"] = np.where(S.staffed_v, cur_month, orig_month).astype(np.int64)
    vis_out["status"] = np.where(S.staffed_v, "staffed", "unfilled")
    metrics = _metrics(P, S, assignments, chain_stats, len(moved))
    ledger.append(
        {
            "step": "result",
            "staffed": int(S.staffed_v.sum()),
            "unfilled": len(unfilled),
            "assignments": len(assignments),
            "assignments_sha256": _sha_frame(assignments),
        }
    )
    logger.info(
        "assigned %d visits (%d unfilled), %d assignments",
        n_v,
        len(unfilled),
        len(assignments),
    )
    return AssignmentResult(
        assignments=assignments,
        visits=vis_out,
        diagnostics={"unfilled": unfilled, "binding": binding},
        metrics=metrics,
        ledger=ledger,
        policy=policy,
    )


def _cpsat_candidates(
    P: _Problem, S: _State, failed: I64, arc_t: I64, arc_i: I64
) -> I64:
    """Failed visits with a task the flow cannot model but CP-SAT might staff.

    The flow fills one *cover* slot per required expertise with distinct
    holders (a system of distinct representatives). A task with several
    required expertise areas whose candidates with capacity left cover them
    all, but only thanks to an inspector holding several (Hall's condition
    fails), can still be staffed with a set-cover team: that is what CP-SAT
    is for. Tasks that failed for capacity or eligibility are not sent.
    """
    ft = _tasks_of(P, failed)
    if len(ft) == 0:
        return np.zeros(0, dtype=np.int64)
    req = P.t_req[ft]
    pc = np.bitwise_count(req).astype(np.int64)
    sel = np.isin(arc_t, ft)
    t, i = arc_t[sel], arc_i[sel]
    has_cap = P.insp_cap[i] - S.load[i, S.month[t]] > 0
    pos = np.searchsorted(ft, t[has_cap])
    c = P.insp_mask[i[has_cap]] & req[pos]
    n_ok = np.bincount(pos, minlength=len(ft))
    un = np.zeros(len(ft), dtype=np.uint64)
    np.bitwise_or.at(un, pos, c)
    coverable = (pc >= 2) & (n_ok >= P.t_size[ft]) & (un == req)
    # Hall's condition per distinct requirement, over its sub-masks
    hall = np.ones(len(ft), dtype=bool)
    for r in np.unique(req[coverable]):
        tasks_r = coverable & (req == r)
        arcs_r = tasks_r[pos]
        bits = [b for b in range(_MAX_BITS) if (int(r) >> b) & 1]
        for sub in range(1, 1 << len(bits)):
            m = np.uint64(sum(1 << bits[k] for k in range(len(bits)) if (sub >> k) & 1))
            hit = arcs_r & ((c & m) != 0)
            n_hit = np.bincount(pos[hit], minlength=len(ft))
            hall &= ~tasks_r | (n_hit >= int(sub).bit_count())
    good_t = ft[coverable & ~hall]
    return np.unique(P.t_visit[good_t])


def _repair(
    P: _Problem,
    S: _State,
    failed: I64,
    arc_t: I64,
    arc_i: I64,
    *,
    policy: AssignmentPolicy,
    cost_key: str,
    seed: str,
    year: int,
) -> tuple[I64, list[dict[str, Any]], I64, I64]:
    months = np.array(policy.repair_months, dtype=np.int64)
    moved: list[dict[str, Any]] = []
    orig = P.v_month[failed]
    # alternative months per failed visit: nearest first, earlier on ties
    dist = np.abs(months[None, :] - orig[:, None]) * 2 + (
        months[None, :] > orig[:, None]
    )
    dist = np.where(months[None, :] == orig[:, None], 10**6, dist)
    alt = months[np.argsort(dist, axis=1, kind="stable")]
    n_alt = int((months[None, :] != orig[:, None]).sum(axis=1).max(initial=0))
    remaining = failed.copy()
    idx_of = {int(v): k for k, v in enumerate(failed)}
    for r in range(n_alt):
        if len(remaining) == 0:
            break
        rows = np.array([idx_of[int(v)] for v in remaining], dtype=np.int64)
        new_m = alt[rows, r]
        ok_m = new_m != orig[rows]
        try_v = remaining[ok_m]
        if len(try_v) == 0:
            continue
        tt = _tasks_of(P, try_v)
        S.month[tt] = _month_for_tasks(P, try_v, new_m[ok_m], tt)
        nt, ni = _candidate_arcs(
            P, tt, S.month[tt], prune=False, k_cross=0, seed=seed, year=year
        )
        _solve_round(P, S, tt, nt, ni, policy=policy, cost_key=cost_key)
        still = _release_failed(P, S, try_v)
        done = np.setdiff1d(try_v, still)
        if len(done):
            dt = _tasks_of(P, done)
            arc_t, arc_i = _merge_arcs(
                arc_t,
                arc_i,
                ~np.isin(arc_t, dt),
                nt[np.isin(nt, dt)],
                ni[np.isin(nt, dt)],
            )
            for v in done:
                moved.append(
                    {
                        "visit_id": str(P.v_id[int(v)]),
                        "from": int(P.v_month[int(v)]),
                        "to": int(S.month[P.visit_tasks[int(v), 0]]),
                    }
                )
        remaining = np.setdiff1d(remaining, done)
    # failed visits go back to their original month
    ft = _tasks_of(P, remaining)
    S.month[ft] = P.t_month[ft]
    moved.sort(key=lambda d: d["visit_id"])
    return remaining, moved, arc_t, arc_i


def _month_for_tasks(P: _Problem, vis: I64, months: I64, tasks: I64) -> I64:
    lookup = np.zeros(len(P.v_id), dtype=np.int64)
    lookup[vis] = months
    return lookup[P.t_visit[tasks]]


def _run_chain(
    P: _Problem, S: _State, policy: AssignmentPolicy, *, seed: str, year: int
) -> dict[str, Any]:
    n_t = len(P.t_visit)
    cand_ptr = np.searchsorted(S.arc_t, np.arange(n_t + 1)).astype(np.int64)
    pair: npt.NDArray[np.int16] | None = None
    if policy.pair_limit is not None:
        pair = _pair_matrix(P, S)
    ci = ChainInput(
        size=P.t_size,
        req=P.t_req,
        month=S.month,
        group=(P.t_dept * 13 + S.month) * (P.n_regions + 1)
        + (P.v_region[P.t_visit] + 1) * int(policy.same_region_first),
        visit=P.t_visit,
        task_region=P.v_region[P.t_visit],
        cand_ptr=cand_ptr,
        cand_insp=S.arc_i,
        insp_mask=P.insp_mask,
        insp_region=P.insp_region,
        capacity=P.insp_cap,
        same_region=policy.same_region_first,
        pair_limit=policy.pair_limit,
        visit_tasks=P.visit_tasks,
    )
    rng = _stage_rng(seed, year, "assignment", "metropolis")
    before_excess = _pair_excess(pair, policy.pair_limit)
    team, load, st = run_chain(
        ci, S.team, S.load, rng, sweeps=policy.metropolis_sweeps, pair=pair
    )
    S.team = team
    S.load = load
    out: dict[str, Any] = {
        "sweeps": policy.metropolis_sweeps,
        "slots": st.slots,
        "proposals": st.proposals,
        "kept": st.kept,
        "accepted": st.accepted,
        "rounds": st.rounds,
        "acceptance_rate": round(st.accepted / st.proposals, 4)
        if st.proposals
        else 0.0,
        "changed_share": round(st.changed_slots / st.slots, 4) if st.slots else 0.0,
    }
    if policy.pair_limit is not None:
        out["pair_excess_before"] = before_excess
        out["pair_excess_after"] = _pair_excess(pair, policy.pair_limit)
        if out["pair_excess_after"]:
            _fix_pairs_cpsat(P, S, policy, seed=seed, year=year)
            out["pair_excess_final"] = _pair_excess(
                _pair_matrix(P, S), policy.pair_limit
            )
    return out


def _pair_matrix(P: _Problem, S: _State) -> npt.NDArray[np.int16]:
    n = len(P.insp_id)
    pair = np.zeros((n, n), dtype=np.int16)
    vt = P.visit_tasks
    rows = np.where(vt[:, :, None] >= 0, S.team[np.maximum(vt, 0)], -1).reshape(
        len(vt), -1
    )
    w = rows.shape[1]
    for a in range(w):
        for b in range(w):
            if a == b:
                continue
            ok = (rows[:, a] >= 0) & (rows[:, b] >= 0)
            np.add.at(pair, (rows[ok, a], rows[ok, b]), 1)
    return pair


def _pair_excess(pair: npt.NDArray[np.int16] | None, limit: int | None) -> int:
    if pair is None or limit is None:
        return 0
    return int(np.maximum(pair.astype(np.int64) - limit, 0).sum() // 2)


def _fix_pairs_cpsat(
    P: _Problem, S: _State, policy: AssignmentPolicy, *, seed: str, year: int
) -> None:
    """Re-solve with CP-SAT the (department, month) groups holding over-limit pairs.

    Given the co-assignment counts of the rest of the year, pairs already at
    the limit may not meet on a task of the group, and pairs that would exceed
    it within the group get a cap on their co-assignments (added lazily, at
    most three rounds). A new solution replaces the group's teams only if it
    lowers the year's total excess, so the fix never makes things worse.
    """
    from ortools.sat.python import cp_model

    limit = int(policy.pair_limit or 0)
    pair = _pair_matrix(P, S)
    excess = _pair_excess(pair, limit)
    if excess == 0:
        return
    t_group = P.t_dept * 13 + S.month
    over = np.argwhere(np.triu(pair > limit))
    groups: set[int] = set()
    for a, b in over:
        ta = np.flatnonzero((S.team == a).any(axis=1) & (S.team == b).any(axis=1))
        groups.update(int(g) for g in t_group[ta])
    for g in sorted(groups):
        tasks = np.flatnonzero((t_group == g) & S.staffed_v[P.t_visit])
        if len(tasks) == 0:
            continue
        m = int(S.month[tasks[0]])
        sel = np.isin(S.arc_t, tasks)
        a_t, a_i = S.arc_t[sel], S.arc_i[sel]
        old = S.team[tasks].copy()
        S.team[tasks] = -1
        base = _pair_matrix(P, S).astype(np.int64)
        S.team[tasks] = old
        by_t = {int(t): np.flatnonzero(a_t == t) for t in tasks}
        cap_left = P.insp_cap - S.load[:, m]
        used = np.bincount(old[old >= 0], minlength=len(P.insp_id))
        cost = _arc_costs(
            P, a_t, a_i, derive_key(seed, year, "assignment", "pair-cost")
        )
        if policy.same_region_first:  # keep the region preference below the limit
            cross = P.insp_region[a_i] != P.v_region[P.t_visit[a_t]]
            cost = cost + CROSS_WEIGHT * RANDOM_COST_RANGE * cross.astype(np.int64)
        capped: set[tuple[int, int]] = set()
        best: B1 | None = None
        for _ in range(3):
            model = cp_model.CpModel()
            x = [model.new_bool_var(f"x{k}") for k in range(len(a_t))]
            for t in tasks:
                ks = by_t[int(t)]
                model.add(sum(x[int(k)] for k in ks) == int(P.t_size[t]))
                req = int(P.t_req[t])
                for b in range(_MAX_BITS):
                    if (req >> b) & 1:
                        hold = [
                            int(k) for k in ks if (int(P.insp_mask[a_i[k]]) >> b) & 1
                        ]
                        model.add(sum(x[k] for k in hold) >= 1)
            for i in np.unique(a_i):
                arcs_i = np.flatnonzero(a_i == i)
                model.add(sum(x[int(k)] for k in arcs_i) <= int(cap_left[i] + used[i]))
            together: dict[tuple[int, int], list[Any]] = {}
            for t in tasks:
                ks = by_t[int(t)]
                for p_ in range(len(ks)):
                    for q_ in range(p_ + 1, len(ks)):
                        k1, k2 = int(ks[p_]), int(ks[q_])
                        i1, i2 = sorted((int(a_i[k1]), int(a_i[k2])))
                        if base[i1, i2] >= limit:
                            model.add(x[k1] + x[k2] <= 1)
                        elif (i1, i2) in capped:
                            y = model.new_bool_var("")
                            model.add(y >= x[k1] + x[k2] - 1)
                            together.setdefault((i1, i2), []).append(y)
            for (i1, i2), ys in together.items():
                model.add(sum(ys) <= limit - int(base[i1, i2]))
            model.minimize(sum(int(cost[k]) * x[k] for k in range(len(a_t))))
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            solver.parameters.random_seed = (
                int(
                    seed_sequence(seed, year, "assignment", "pairs", g).generate_state(
                        1
                    )[0]
                )
                & 0x7FFFFFFF
            )
            solver.parameters.max_deterministic_time = policy.max_deterministic_time
            status = solver.solve(model)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                break
            chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
            best = chosen
            # pairs the group's new teams push over the limit: cap them next round
            cnt: dict[tuple[int, int], int] = {}
            for t in tasks:
                mem = sorted(int(i) for i in a_i[by_t[int(t)][chosen[by_t[int(t)]]]])
                for p_ in range(len(mem)):
                    for q_ in range(p_ + 1, len(mem)):
                        key = (mem[p_], mem[q_])
                        cnt[key] = cnt.get(key, 0) + 1
            new = {k for k, c in cnt.items() if base[k] + c > limit} - capped
            if not new:
                break
            capped |= new
        if best is None:
            logger.warning("pair limit: group %d could not be re-solved", g)
            continue
        # commit only if the year's excess goes down
        has = old >= 0
        np.add.at(S.load, (old[has], np.full(int(has.sum()), m)), -1)
        S.team[tasks] = -1
        _commit(S, a_t[best], a_i[best], m)
        new_excess = _pair_excess(_pair_matrix(P, S), limit)
        if new_excess < excess:
            excess = new_excess
        else:
            now = S.team[tasks]
            np.add.at(S.load, (now[now >= 0], np.full(int((now >= 0).sum()), m)), -1)
            S.team[tasks] = old
            np.add.at(S.load, (old[has], np.full(int(has.sum()), m)), 1)
        if excess == 0:
            return


def _assignments_frame(P: _Problem, S: _State) -> pd.DataFrame:
    rows = S.team >= 0
    tt = np.repeat(np.arange(len(S.team)), rows.sum(axis=1))
    ii = S.team[rows]
    df = pd.DataFrame(
        {
            "visit_id": P.v_id[P.t_visit[tt]].astype(str),
            "inspector_id": P.insp_id[ii].astype(str),
            "department": np.asarray(P.dept_names, dtype=object)[P.t_dept[tt]].astype(
                str
            ),
        }
    )
    df = df.sort_values(["visit_id", "inspector_id"], kind="stable").reset_index(
        drop=True
    )
    for c in ASSIGNMENT_COLUMNS:
        df[c] = df[c].astype(str)
    return df


# ------------------------------------------------------------------------ audit
def _last_visit_inspectors(history: pd.DataFrame) -> pd.DataFrame:
    if len(history) == 0 or "inspector_ids" not in history.columns:
        return pd.DataFrame(
            {"uscc": pd.Series(dtype=str), "inspector_id": pd.Series(dtype=str)}
        )
    h = history.copy()
    h["uscc"] = h["uscc"].astype(str)
    last = h.groupby("uscc")["date"].transform("max")
    h = h[h["date"] == last]
    ids = _split(h["inspector_ids"])
    return pd.DataFrame(
        {"uscc": h.loc[ids.index, "uscc"].to_numpy(), "inspector_id": ids.to_numpy()}
    ).drop_duplicates()


def audit_assignment(
    assignments: pd.DataFrame,
    visits: pd.DataFrame,
    dataset: Dataset,
    *,
    policy: AssignmentPolicy | None = None,
) -> pd.DataFrame:
    """Check every hard rule of ``contract.md`` §3 on an assignment.

    Parameters
    ----------
    assignments : pandas.DataFrame
        ``visit_id, inspector_id, department``.
    visits : pandas.DataFrame
        The visits (contract columns). Visits with ``status == 'unfilled'``
        are exempt from the team rules but must have no assignment.
    dataset : Dataset
        Inspectors, conflicts, items and history.
    policy : AssignmentPolicy, optional
        ``min_team`` and ``rotation`` (defaults: 2 and on).

    Returns
    -------
    pandas.DataFrame
        ``visit_id, inspector_id, rule, detail``: one row per violation,
        empty when every rule holds. Rules: ``unknown_visit``,
        ``assigned_unfilled``, ``duplicate``, ``unknown_inspector``,
        ``inactive``, ``wrong_department``, ``department_label``,
        ``unavailable``, ``conflict``, ``rotation``, ``expertise``,
        ``team_size``, ``department_missing``, ``coverage``, ``capacity``.
    """
    policy = policy or AssignmentPolicy()
    out: list[pd.DataFrame] = []

    def add(df: pd.DataFrame, rule: str, detail: pd.Series | str) -> None:
        if len(df) == 0:
            return
        det = (
            detail
            if isinstance(detail, pd.Series)
            else pd.Series(detail, index=df.index)
        )
        out.append(
            pd.DataFrame(
                {
                    "visit_id": df["visit_id"].astype(str).to_numpy(),
                    "inspector_id": (
                        df["inspector_id"].astype(str).to_numpy()
                        if "inspector_id" in df.columns
                        else ""
                    ),
                    "rule": rule,
                    "detail": det.astype(str).to_numpy(),
                }
            )
        )

    a = (
        assignments[["visit_id", "inspector_id", "department"]]
        .astype(str)
        .reset_index(drop=True)
    )
    v = visits.copy()
    v["visit_id"] = v["visit_id"].astype(str)
    v["uscc"] = v["uscc"].astype(str)
    v["month"] = pd.to_numeric(v["month"]).astype(np.int64)
    status = (
        v["status"].astype(str)
        if "status" in v.columns
        else pd.Series("staffed", index=v.index)
    )
    unfilled_ids = set(v.loc[status == "unfilled", "visit_id"])
    v_staffed = v[status != "unfilled"]

    av = a.merge(
        v[["visit_id", "uscc", "month", "departments"]], on="visit_id", how="left"
    )
    add(av[av["uscc"].isna()], "unknown_visit", "the visit is not in the visits table")
    add(
        av[av["visit_id"].isin(unfilled_ids)],
        "assigned_unfilled",
        "the visit is reported unfilled",
    )
    av = av[av["uscc"].notna()].copy()
    dup = av.duplicated(["visit_id", "inspector_id"], keep="first")
    add(av[dup], "duplicate", "the inspector appears twice on the visit")

    ins = dataset.inspectors.copy()
    ins["inspector_id"] = ins["inspector_id"].astype(str)
    ai = av.merge(
        ins[
            [
                "inspector_id",
                "department",
                "region",
                "expertise",
                "monthly_capacity",
                "unavailable_months",
                "active",
            ]
        ].rename(columns={"department": "insp_department"}),
        on="inspector_id",
        how="left",
    )
    add(
        ai[ai["insp_department"].isna()],
        "unknown_inspector",
        "not in the inspectors table",
    )
    ai = ai[ai["insp_department"].notna()].reset_index(drop=True)
    add(ai[~ai["active"].astype(bool)], "inactive", "the inspector is not active")
    dep_long = _split(v["departments"])
    dep_pairs = pd.DataFrame(
        {
            "visit_id": v.loc[dep_long.index, "visit_id"].to_numpy(),
            "department": dep_long.to_numpy(),
        }
    ).drop_duplicates()
    in_dep = (
        ai.merge(
            dep_pairs.rename(columns={"department": "insp_department"}),
            on=["visit_id", "insp_department"],
            how="left",
            indicator=True,
        )["_merge"].to_numpy()
        == "both"
    )
    add(
        ai[~in_dep],
        "wrong_department",
        "department "
        + ai.loc[~in_dep, "insp_department"].astype(str)
        + " is not on the visit",
    )
    lab = ai["department"].astype(str) != ai["insp_department"].astype(str)
    add(
        ai[lab], "department_label", "the row's department differs from the inspector's"
    )
    month_s = ai["month"].astype(str)
    bits = unavailable_bits(ai["unavailable_months"])
    month_n = pd.to_numeric(ai["month"], errors="coerce").fillna(0).astype(np.int64)
    unav = ((bits >> month_n.to_numpy()) & 1).astype(bool)
    add(ai[unav], "unavailable", "unavailable in month " + month_s[unav])
    conf = dataset.conflicts
    if len(conf):
        cf = conf[["inspector_id", "uscc"]].astype(str).drop_duplicates()
        hit = ai.merge(cf, on=["inspector_id", "uscc"], how="inner")
        add(hit, "conflict", "conflict of interest with " + hit["uscc"])
    if policy.rotation:
        lv = _last_visit_inspectors(dataset.history)
        hit = ai.merge(lv, on=["inspector_id", "uscc"], how="inner")
        add(hit, "rotation", "on the entity's last visit " + hit["uscc"])
    # expertise: holds the expertise of at least one item of its department
    items = dataset.items[["item_id", "department", "expertise"]].copy()
    for c in ("item_id", "department", "expertise"):
        items[c] = items[c].fillna("").astype(str).str.strip()
    it_long = _split(v["items"])
    vi = pd.DataFrame(
        {
            "visit_id": v.loc[it_long.index, "visit_id"].to_numpy(),
            "item_id": it_long.to_numpy(),
        }
    ).merge(items, on="item_id", how="left")
    vi = vi[vi["department"].notna()]
    exp_long = _split(ai["expertise"])
    held = pd.DataFrame(
        {
            "visit_id": ai.loc[exp_long.index, "visit_id"].to_numpy(),
            "inspector_id": ai.loc[exp_long.index, "inspector_id"].to_numpy(),
            "department": ai.loc[exp_long.index, "insp_department"].to_numpy(),
            "expertise": exp_long.to_numpy(),
        }
    ).drop_duplicates()
    dept_items = (
        vi.assign(open_=vi["expertise"] == "")
        .groupby(["visit_id", "department"])["open_"]
        .any()
        .reset_index()
    )
    need = (
        ai[["visit_id", "inspector_id", "insp_department"]]
        .rename(columns={"insp_department": "department"})
        .merge(dept_items, on=["visit_id", "department"], how="left")
    )
    qualifies = held.merge(
        vi[["visit_id", "department", "expertise"]],
        on=["visit_id", "department", "expertise"],
    )
    q_pairs = qualifies[["visit_id", "inspector_id"]].drop_duplicates()
    qual = (
        need[["visit_id", "inspector_id"]]
        .merge(q_pairs, on=["visit_id", "inspector_id"], how="left", indicator=True)[
            "_merge"
        ]
        .to_numpy()
        == "both"
    )
    has_items = need["open_"].notna()
    is_open = need["open_"].fillna(True).astype(bool)
    bad = (has_items & ~is_open).to_numpy() & ~qual
    add(
        need[bad],
        "expertise",
        "holds no expertise of the visit's items of department "
        + need.loc[bad, "department"].astype(str),
    )
    # team size and department presence (staffed visits)
    size = a.groupby("visit_id").size()
    vs = v_staffed[["visit_id"]].copy()
    vs["n"] = vs["visit_id"].map(size).fillna(0).astype(int)
    small = vs[vs["n"] < policy.min_team]
    add(
        small,
        "team_size",
        small["n"].astype(str) + f" inspector(s), needs {policy.min_team}",
    )
    sent = (
        ai[["visit_id", "insp_department"]]
        .drop_duplicates()
        .rename(columns={"insp_department": "department"})
    )
    dp = dep_pairs[dep_pairs["visit_id"].isin(set(v_staffed["visit_id"]))]
    miss = dp.merge(sent, on=["visit_id", "department"], how="left", indicator=True)
    miss = miss[miss["_merge"] == "left_only"]
    add(
        miss,
        "department_missing",
        "no inspector of department " + miss["department"].astype(str),
    )
    # coverage: each item covered by an inspector of its department holding its expertise
    vi_s = vi[vi["visit_id"].isin(set(v_staffed["visit_id"]))]
    need_cov = vi_s[vi_s["expertise"] != ""]
    cov = need_cov.merge(
        held, on=["visit_id", "department", "expertise"], how="left", indicator=True
    )
    cov = cov[cov["_merge"] == "left_only"].drop_duplicates(["visit_id", "item_id"])
    add(
        cov.drop(columns=["inspector_id"]),
        "coverage",
        "item "
        + cov["item_id"].astype(str)
        + " ("
        + cov["expertise"].astype(str)
        + ") is not covered",
    )
    open_items = vi_s[vi_s["expertise"] == ""]
    oc = open_items.merge(
        sent, on=["visit_id", "department"], how="left", indicator=True
    )
    oc = oc[oc["_merge"] == "left_only"].drop_duplicates(["visit_id", "item_id"])
    add(
        oc,
        "coverage",
        "item "
        + oc["item_id"].astype(str)
        + " has no inspector of department "
        + oc["department"].astype(str),
    )
    # capacity
    load = ai.groupby(["inspector_id", "month"]).agg(
        n=("visit_id", "size"), cap=("monthly_capacity", "first")
    )
    over = load[load["n"] > load["cap"].astype(np.int64)].reset_index()
    over["visit_id"] = ""
    add(
        over,
        "capacity",
        over["n"].astype(str)
        + " visits in month "
        + over["month"].astype(str)
        + ", capacity "
        + over["cap"].astype(str),
    )
    if not out:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in VIOLATION_COLUMNS})
    res = pd.concat(out, ignore_index=True)
    return res.sort_values(
        ["rule", "visit_id", "inspector_id"], kind="stable"
    ).reset_index(drop=True)


# ----------------------------------------------------------------------- redraw
def redraw(
    result: AssignmentResult,
    dataset: Dataset,
    *,
    visit_id: str,
    inspector_id: str,
    reason: str,
    seed: str,
    policy: AssignmentPolicy | None = None,
    on_infeasible: Literal["unfill", "raise"] = "unfill",
) -> AssignmentResult:
    """Replace one inspector of a visit at random, under the same rules (R12).

    The replacement is drawn uniformly among the inspectors who keep every
    hard rule: same department, active, available that month, no conflict,
    not rotated out, capacity left that month, not already on the visit,
    not the replaced inspector, and the team still covers every item. The
    replacement and its reason are appended to ``redraws`` and the ledger.

    If nobody qualifies, the inspector is removed when the team still meets
    every rule without him; otherwise the visit becomes ``unfilled`` (listed
    in diagnostics with the reason) or, with ``on_infeasible="raise"``,
    :class:`~creditsup.exceptions.InfeasiblePlanError` is raised.

    Raises
    ------
    ConfigError
        ``visit_id`` is not in the result, or ``inspector_id`` is not on it.
    """
    from creditsup.exceptions import InfeasiblePlanError

    policy = policy or result.policy
    vis = result.visits.copy()
    vis["visit_id"] = vis["visit_id"].astype(str)
    row = vis[vis["visit_id"] == str(visit_id)]
    if len(row) == 0:
        raise ConfigError(f"The visit {visit_id!r} is not in the plan.")
    asg = result.assignments.copy()
    on_visit = asg[asg["visit_id"].astype(str) == str(visit_id)]
    if str(inspector_id) not in set(on_visit["inspector_id"].astype(str)):
        raise ConfigError(
            f"The inspector {inspector_id!r} is not on visit {visit_id!r}."
        )
    # one-visit problem at the visit's (current) month
    P = _prepare(row[list(VISIT_COLUMNS)], dataset, policy, year=0, seed=seed)
    ti = int(np.searchsorted(P.insp_id, str(inspector_id)))
    if ti >= len(P.insp_id) or P.insp_id[ti] != str(inspector_id):
        raise ConfigError(
            f"The inspector {inspector_id!r} is not in the inspectors table."
        )
    d = int(P.insp_dept[ti])
    tasks = np.flatnonzero(P.t_dept == d)
    month = int(P.v_month[0])
    dname = P.dept_names[d]
    if len(tasks) == 0:
        raise ConfigError(f"The department {dname!r} is not on visit {visit_id!r}.")
    t = tasks[:1]
    _a_t, a_i = _candidate_arcs(
        P, t, np.array([month]), prune=False, k_cross=0, seed=seed, year=0
    )
    # loads in this month from all assignments
    months = vis.set_index("visit_id")["month"].astype(np.int64)
    am = asg.assign(month=asg["visit_id"].astype(str).map(months))
    load = am[am["month"] == month].groupby("inspector_id").size()
    cur_load = pd.Series(P.insp_id).map(load).fillna(0).astype(np.int64).to_numpy()
    team_ids = set(on_visit["inspector_id"].astype(str))
    team_idx = np.searchsorted(P.insp_id, np.array(sorted(team_ids), dtype=object))
    dept_team = [
        int(i) for i in team_idx if int(P.insp_dept[int(i)]) == d and int(i) != ti
    ]
    cur_mask = np.uint64(0)
    for i in dept_team:
        cur_mask |= P.insp_mask[i]
    req = P.t_req[t[0]]
    cand = a_i[
        (P.insp_cap[a_i] - cur_load[a_i] > 0)
        & ~np.isin(a_i, team_idx)
        & (((P.insp_mask[a_i] | cur_mask) & req) == req)
    ]
    cand = np.sort(cand)
    rng = _stage_rng(seed, "redraw", str(visit_id), str(inspector_id))
    new_id: str | None = None
    outcome = "replaced"
    diag = {
        "unfilled": list(result.diagnostics["unfilled"]),
        "binding": list(result.diagnostics["binding"]),
    }
    keep_rows = ~(
        (asg["visit_id"].astype(str) == str(visit_id))
        & (asg["inspector_id"].astype(str) == str(inspector_id))
    )
    if len(cand):
        pick = int(cand[int(rng.integers(0, len(cand)))])
        new_id = str(P.insp_id[pick])
        asg = pd.concat(
            [
                asg[keep_rows],
                pd.DataFrame(
                    {
                        "visit_id": [str(visit_id)],
                        "inspector_id": [new_id],
                        "department": [dname],
                    }
                ),
            ],
            ignore_index=True,
        )
    else:
        remaining = on_visit[on_visit["inspector_id"].astype(str) != str(inspector_id)]
        still_ok = (
            len(remaining) >= policy.min_team
            and len(dept_team) >= 1
            and (cur_mask & req) == req
        )
        if still_ok:
            outcome = "removed"
            asg = asg[keep_rows]
        else:
            msg = (
                f"visit {visit_id}: re-draw after '{reason}': no eligible replacement for "
                f"{inspector_id} in department {dname}, {_month_name(month)}"
            )
            if on_infeasible == "raise":
                raise InfeasiblePlanError(
                    msg,
                    [
                        {
                            "group": f"visit {visit_id}, department {dname}: replacements",
                            "needed": 1,
                            "available": 0,
                        }
                    ],
                )
            outcome = "unfilled"
            asg = asg[asg["visit_id"].astype(str) != str(visit_id)]
            vis.loc[vis["visit_id"] == str(visit_id), "status"] = "unfilled"
            diag["unfilled"] = sorted(
                [*diag["unfilled"], {"visit_id": str(visit_id), "reason": msg}],
                key=lambda u: u["visit_id"],
            )
    asg = asg[list(ASSIGNMENT_COLUMNS)].astype(str)
    asg = asg.sort_values(["visit_id", "inspector_id"], kind="stable").reset_index(
        drop=True
    )
    rec = {
        "visit_id": str(visit_id),
        "old_inspector_id": str(inspector_id),
        "new_inspector_id": new_id,
        "reason": str(reason),
        "department": dname,
        "n_candidates": len(cand),
        "outcome": outcome,
    }
    redraws = (
        pd.concat(
            [result.redraws, pd.DataFrame([rec], columns=list(REDRAW_COLUMNS))],
            ignore_index=True,
        )
        if len(result.redraws)
        else pd.DataFrame([rec], columns=list(REDRAW_COLUMNS))
    )
    ledger = [*result.ledger, {"step": "redraw", **rec}]
    return replace(
        result,
        assignments=asg,
        visits=vis,
        diagnostics=diag,
        ledger=ledger,
        redraws=redraws,
        policy=policy,
    )


# --------------------------------------------------------------------- exposure
def estimate_exposure(
    visits: pd.DataFrame,
    dataset: Dataset,
    policy: AssignmentPolicy | None = None,
    *,
    year: int,
    seeds: Sequence[str],
) -> pd.DataFrame:
    """Monte Carlo P(inspector, entity) over keys: run the assignment per seed.

    Returns one row per (inspector_id, uscc) seen, with ``p`` the share of
    seeds in which the inspector visits the entity; ``p.max()`` is the
    audit's "maximum P(inspector, entity) over keys".
    """
    counts: dict[tuple[str, str], int] = {}
    vmap = (
        visits.assign(visit_id=visits["visit_id"].astype(str))
        .set_index("visit_id")["uscc"]
        .astype(str)
    )
    for s in seeds:
        res = assign_inspectors(visits, dataset, policy, year=year, seed=s)
        pairs = set(
            zip(
                res.assignments["inspector_id"],
                res.assignments["visit_id"].map(vmap),
                strict=True,
            )
        )
        for p in pairs:
            counts[p] = counts.get(p, 0) + 1
    n = max(len(seeds), 1)
    df = pd.DataFrame(
        [(i, u, c / n) for (i, u), c in counts.items()],
        columns=["inspector_id", "uscc", "p"],
    )
    return df.sort_values(
        ["p", "inspector_id", "uscc"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
