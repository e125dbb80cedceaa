"""The inspectors stage: a pool sized to the expected workload.

Every (department, expertise) pair required by an item has at least two
active inspectors who are never on leave (a "core" per department); the rest
of the pool is drawn in proportion to each department's workload.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from creditsup._random import stage_rng
from creditsup.datasets import _catalog as cat
from creditsup.datasets._arrays import (
    BoolArr,
    FloatArr,
    IntArr,
    ObjArr,
    choice,
    largest_remainder,
    pick,
    to_text,
)
from creditsup.datasets._entities import Entities
from creditsup.datasets._naming import person_names
from creditsup.datasets._scope import Scope, dept_fields

__all__ = ["build_inspectors", "workload"]

logger = logging.getLogger(__name__)

#: Tier mix used to turn per-item tier ratios into an expected ratio.
_TIER_MIX = np.array([0.20, 0.60, 0.15, 0.05])
_MONTHS = np.array([str(i) for i in range(13)], dtype=object)
_DEPT_IDS = [d.id for d in cat.DEPARTMENTS]


def workload(
    scope: Scope, active: BoolArr, draw_ratio: float
) -> tuple[FloatArr, dict[tuple[str, str], float]]:
    """Expected department checks per year, and per (department, field).

    One door per entity (R14): a drawn entity is checked on every item that
    applies to it, so a department checks an entity with the largest ratio of
    its items that apply. Items without a ratio override have ratio
    ``draw_ratio`` (the expected share of entities visited); the overrides
    (e.g. 100 % of school canteens) are mixed over a typical tier mix.
    """
    counts = np.bincount(scope.combo[active], minlength=scope.items.shape[1]).astype(
        float
    )
    rows = {
        dep: [k for k, it in enumerate(cat.ITEMS) if it.department == dep]
        for dep in _DEPT_IDS
    }
    ratios = np.asarray(
        [
            float(
                np.dot(_TIER_MIX, [draw_ratio if r is None else r for r in it.ratios])
            )
            for it in cat.ITEMS
        ],
        dtype=np.float64,
    )
    r_item = scope.items * ratios[:, None]
    checks = np.array(
        [float(np.dot(counts, r_item[rows[d]].max(axis=0))) for d in _DEPT_IDS]
    )
    fields: dict[tuple[str, str], float] = {}
    for dep in _DEPT_IDS:
        for f in cat.EXPERTISE[dep]:
            frows = [k for k in rows[dep] if cat.ITEMS[k].expertise == f]
            if frows:
                fields[(dep, f)] = float(np.dot(counts, r_item[frows].max(axis=0)))
    return checks, fields


def inspector_slots(checks: FloatArr, fields: dict[tuple[str, str], float]) -> FloatArr:
    """Inspector-slots per department: one per expertise field a visit needs
    (as the assignment staffs it), plus a quarter of the checks for the
    top-up of small visits to ``min_team`` (R11)."""
    per_field = np.array(
        [sum(v for (d, _f), v in fields.items() if d == dep) for dep in _DEPT_IDS]
    )
    out: FloatArr = np.maximum(per_field, checks) + 0.25 * checks
    return out


def _department_sizes(n_insp: int, core: IntArr, slots: FloatArr) -> IntArr:
    """Inspectors per department: the cores first, the rest by workload."""
    if n_insp >= core.sum():
        return core + largest_remainder(n_insp - int(core.sum()), slots + 1e-9)
    # a deliberately tight pool: no coverage guarantee
    logger.warning(
        "n_inspectors=%d < %d: some departments cannot cover every item's "
        "expertise with two inspectors",
        n_insp,
        int(core.sum()),
    )
    one = min(n_insp, len(_DEPT_IDS))  # one each (busiest first), then cores
    first = np.zeros(len(_DEPT_IDS), dtype=np.int64)
    first[np.argsort(-slots, kind="stable")[:one]] = 1
    rest = (core - first).astype(np.float64)
    return first + largest_remainder(n_insp - one, rest)


def _expertise(
    rng: np.random.Generator, nd: int, kd: int, fd: list[str], fw: FloatArr
) -> ObjArr:
    """1-2 fields per inspector: the core covers every field twice."""
    f1 = np.zeros(nd, dtype=np.int64)
    f2 = np.full(nd, -1, dtype=np.int64)
    if len(fd) >= 2:
        f1[:kd] = np.arange(kd) % len(fd)
        f2[:kd] = (np.arange(kd) + 1) % len(fd)
    extra = nd - kd
    if extra and fd:
        f1[kd:] = choice(rng, fw, extra)
        if len(fd) >= 2:
            second = rng.random(extra) < 0.35
            shift = 1 + np.floor(rng.random(extra) * (len(fd) - 1)).astype(np.int64)
            f2[kd:] = np.where(second, (f1[kd:] + shift) % len(fd), -1)
    ftab = np.array([*fd, ""], dtype=object)
    lo, hi = np.minimum(f1, np.where(f2 < 0, f1, f2)), np.maximum(f1, f2)
    out = (
        np.where(f2 < 0, ftab[f1], ftab[lo] + ";" + ftab[hi])
        if fd
        else np.full(nd, "", object)
    )
    return np.asarray(out, dtype=object)


def _leave(
    rng: np.random.Generator, is_core: BoolArr
) -> tuple[BoolArr, ObjArr, IntArr]:
    """Who is active, their leave months (``;``-list) and how many."""
    nd = len(is_core)
    act = is_core | (rng.random(nd) >= 0.05)
    u = rng.random(nd)
    m1 = rng.integers(1, 13, nd)
    n_leave = np.where(is_core, 0, np.where(u < 0.55, 0, np.where(u < 0.85, 1, 2)))
    m1 = np.where((n_leave == 2) & (m1 == 12), 11, m1)
    leave = np.where(
        n_leave == 0,
        "",
        np.where(
            n_leave == 1,
            _MONTHS[m1],
            _MONTHS[m1] + ";" + _MONTHS[np.minimum(m1 + 1, 12)],
        ),
    ).astype(object)
    return act, leave, n_leave


def _department_pool(
    rng: np.random.Generator,
    d: int,
    sizes: tuple[int, int],
    fload: dict[tuple[str, str], float],
    slots: float,
    reg_w: FloatArr,
    capacity_slack: float,
) -> pd.DataFrame:
    """The ``nd`` inspectors of department ``d`` (the first ``kd`` its core)."""
    nd, kd = sizes
    dep = _DEPT_IDS[d]
    fd = dept_fields()[dep]
    fw = np.array([fload.get((dep, f), 0.0) for f in fd]) + 1e-6
    expertise = _expertise(rng, nd, kd, fd, fw)
    act, leave, n_leave = _leave(rng, np.arange(nd) < kd)
    months = (12 - n_leave)[act].sum()
    per_month = capacity_slack * slots / max(int(months), 1)
    cap = np.maximum(2, np.round(per_month * rng.uniform(0.75, 1.25, nd))).astype(
        np.int64
    )
    seat = rng.random(nd) < (0.0 if dep == "market" else 0.4)
    region = np.where(seat, 0, choice(rng, reg_w, nd))
    return pd.DataFrame(
        {
            "department": dep,
            "region": pick([r.code for r in cat.REGIONS], region),
            "expertise": expertise,
            "monthly_capacity": cap,
            "unavailable_months": leave,
            "active": act,
            "_code": cat.DEPARTMENTS[d].code,
        }
    )


def build_inspectors(
    seed: str,
    n_insp: int,
    scope: Scope,
    ents: Entities,
    active: BoolArr,
    *,
    draw_ratio: float,
    capacity_slack: float,
) -> pd.DataFrame:
    """The ``inspectors`` table: ``n_insp`` inspectors over the departments."""
    rng = stage_rng(seed, "synth", "inspectors")
    fields = dept_fields()
    checks, fload = workload(scope, active, draw_ratio)
    slots = inspector_slots(checks, fload)
    core = np.array([max(2, len(fields[d])) for d in _DEPT_IDS], dtype=np.int64)
    n_dept = _department_sizes(n_insp, core, slots)
    reg_w = np.bincount(ents.region, minlength=len(cat.REGIONS)).astype(float) + 1.0
    df = pd.concat(
        [
            _department_pool(
                rng,
                d,
                (nd, min(int(core[d]), nd)),
                fload,
                slots[d],
                reg_w,
                capacity_slack,
            )
            for d, nd in enumerate(int(x) for x in n_dept)
            if nd
        ],
        ignore_index=True,
    )
    k = np.arange(len(df))
    ids = "INS" + pd.Series(k + 1).astype(str).str.zfill(5)
    cert = (
        "1409"
        + df["_code"].astype(str).str.zfill(2)
        + pd.Series(rng.integers(10, 25, len(df))).astype(str)
        + pd.Series(k + 1).astype(str).str.zfill(4)
    )
    return pd.DataFrame(
        {
            "inspector_id": ids.to_numpy(dtype=object),
            "name": to_text(person_names(rng, len(df))),
            "department": df["department"].to_numpy(dtype=object),
            "region": df["region"].to_numpy(dtype=object),
            "expertise": df["expertise"].to_numpy(dtype=object),
            "monthly_capacity": df["monthly_capacity"].to_numpy(dtype=np.int64),
            "unavailable_months": df["unavailable_months"].to_numpy(dtype=object),
            "certificate_no": cert.to_numpy(dtype=object),
            "active": df["active"].to_numpy(dtype=bool),
        }
    )
