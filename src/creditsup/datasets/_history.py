"""The inspection-history stage: past visits, their outcomes, the two
inspectors of each visit, and the follow-up records (R20).

All draws come from one stream ``("synth", "history")``, in the order of the
sub-stages: visits, outcomes, inspectors, follow-ups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from creditsup._random import stage_rng
from creditsup.datasets import _catalog as cat
from creditsup.datasets._arrays import (
    IntArr,
    ObjArr,
    add_months,
    as_dates,
    choice,
    day_number,
    mult,
    pick,
    poisson_events,
    row_choice,
    sigmoid,
    to_text,
    to_weekday,
)
from creditsup.datasets._entities import Entities
from creditsup.datasets._records import Records, restore
from creditsup.datasets._scope import Scope
from creditsup.schemas import TRIGGERS

__all__ = ["build_history"]

_PROBLEMS = (
    "problem_corrected",
    "not_published",
    "false_info",
    "unreachable",
    "refused",
)
_PROBLEM_P = np.array([0.60, 0.12, 0.06, 0.16, 0.06])
_DEPT_IDS = [d.id for d in cat.DEPARTMENTS]

_Visits = tuple[IntArr, IntArr, IntArr, IntArr]  # entity, day, trigger, department


def _visits(
    rng: np.random.Generator,
    ents: Entities,
    scope: Scope,
    year: int,
    history_years: int,
) -> _Visits:
    """Past visits (a second department on the same day for joint ones)."""
    n, s, snap = len(ents.s), ents.s, day_number(year, 3, 31)
    rate = np.clip(
        0.05 * mult(s, 0.6) * np.where(ents.key_supervision, 2.0, 1.0), 0, 0.8
    )
    rate = rate * scope.depts[scope.combo].any(axis=1)
    start = np.maximum(ents.established + 30, day_number(year - history_years, 1, 1))
    ent, day = poisson_events(rng, rate, start, np.full(n, snap + 1, dtype=np.int64))
    day = np.minimum(to_weekday(day), snap)
    trig = choice(rng, np.array([0.84, 0.08, 0.04, 0.03, 0.01]), len(ent))
    # complaint-driven visits for entities with many complaints are more likely
    trig = np.where(
        (trig == 0) & (rng.random(len(ent)) < 0.04 * mult(s[ent], 1.0)), 1, trig
    )
    w = scope.depts[scope.combo[ent]].astype(np.float64)
    w[:, _DEPT_IDS.index("market")] *= 2.0
    dept = row_choice(rng, w)
    # some visits are joint: a second department on the same day
    joint = rng.random(len(ent)) < 0.2
    w2 = w.copy()
    w2[np.arange(len(ent)), np.maximum(dept, 0)] = 0.0
    dept2 = row_choice(rng, w2)
    joint &= dept2 >= 0
    ent = np.concatenate([ent, ent[joint]])
    day = np.concatenate([day, day[joint]])
    trig = np.concatenate([trig, trig[joint]])
    dept = np.concatenate([dept, dept2[joint]])
    ok = dept >= 0
    return ent[ok], day[ok], trig[ok], dept[ok]


def _outcomes(
    rng: np.random.Generator,
    ents: Entities,
    visits: _Visits,
    status: ObjArr,
    snap: int,
) -> ObjArr:
    """The result of each visit: the problem rate rises with the latent risk."""
    ent, day, trig, _ = visits
    m, s, dormant = len(ent), ents.s, ents.dormant
    logit = -2.3 + 1.15 * s[ent] + 0.7 * (trig > 0) + 1.5 * dormant[ent]
    problem = rng.random(m) < sigmoid(logit)
    kind = choice(rng, _PROBLEM_P, m)
    kind = np.where(dormant[ent] & (rng.random(m) < 0.6), 3, kind)  # unreachable
    result = np.where(problem, pick(_PROBLEMS, kind), "normal").astype(object)
    result = np.where(
        ~problem & dormant[ent] & (rng.random(m) < 0.7), "no_activity", result
    )
    gone = np.isin(status[ent], ["deregistered", "revoked"]) & (day > snap - 365)
    return np.asarray(
        np.where(gone & (rng.random(m) < 0.5), "deregistered", result), dtype=object
    )


def _visit_inspectors(
    rng: np.random.Generator, insp: pd.DataFrame, dept: IntArr
) -> ObjArr:
    """Two inspectors of the visiting department (``;``-list)."""
    m = len(dept)
    dcodes = insp["department"].to_numpy(dtype=object)
    ids = insp["inspector_id"].to_numpy(dtype=object)
    dstart = np.array([int(np.argmax(dcodes == d)) for d in _DEPT_IDS])
    dcount = np.array([int((dcodes == d).sum()) for d in _DEPT_IDS])
    nd = dcount[dept]
    i1 = np.floor(rng.random(m) * nd).astype(np.int64)
    i2 = (
        i1 + 1 + np.floor(rng.random(m) * np.maximum(nd - 1, 0)).astype(np.int64)
    ) % np.maximum(nd, 1)
    safe = np.where(nd > 0, dstart[dept], 0)
    one = np.where(nd > 0, ids[np.minimum(safe + i1, len(ids) - 1)], "")
    two = ids[np.minimum(safe + i2, len(ids) - 1)]
    return np.asarray(np.where(nd >= 2, one + ";" + two, one), dtype=object)


def _follow_ups(
    rng: np.random.Generator,
    visits: _Visits,
    result: ObjArr,
    dsrc: ObjArr,
    snap: int,
    rec: Records,
) -> None:
    """Problems -> ``check_problem`` (and some penalties); unreachable or false
    information -> the abnormal list (R20)."""
    ent, day = visits[0], visits[1]
    m = len(ent)
    cp = np.isin(
        result, ["problem_corrected", "not_published", "false_info", "refused"]
    )
    cday = to_weekday(day + rng.integers(5, 26, m))
    ok = cp & (cday <= snap)
    rec.add("check_problem", ent[ok], cday[ok], value=result[ok], source=dsrc[ok])
    pen = (result == "problem_corrected") & (rng.random(m) < 0.2)
    pday = day + rng.integers(30, 120, m)
    ok = pen & (pday <= snap)
    sev = np.where(rng.random(int(ok.sum())) < 0.4, 1.0, 2.0)
    pdays = pday[ok]
    rec.add(
        "penalty",
        ent[ok],
        pdays,
        end=np.where(sev == 1, add_months(pdays, 3), add_months(pdays, 36)),
        severity=sev,
        source=dsrc[ok],
    )
    ab = (result == "unreachable") | ((result == "false_info") & (rng.random(m) < 0.5))
    aday = to_weekday(day + rng.integers(7, 21, m))
    ok = ab & (aday <= snap)
    rec.add(
        "abnormal_list",
        ent[ok],
        aday[ok],
        restored=restore(rng, aday[ok], np.full(int(ok.sum()), 0.3), 30, 120, snap),
        source="market",
    )


def build_history(
    seed: str,
    ents: Entities,
    scope: Scope,
    insp: pd.DataFrame,
    status: ObjArr,
    year: int,
    history_years: int,
    rec: Records,
) -> pd.DataFrame:
    """The ``history`` table; adds the visits' follow-up records to ``rec``."""
    rng = stage_rng(seed, "synth", "history")
    snap = day_number(year, 3, 31)
    visits = _visits(rng, ents, scope, year, history_years)
    ent, day, trig, dept = visits
    result = _outcomes(rng, ents, visits, status, snap)
    inspectors = _visit_inspectors(rng, insp, dept)
    dsrc = pick(_DEPT_IDS, dept)
    _follow_ups(rng, visits, result, dsrc, snap, rec)
    return pd.DataFrame(
        {
            "uscc": to_text(ents.uscc_pa.take(pa.array(ent))),
            "date": as_dates(day),
            "department": dsrc,
            "result": result,
            "inspector_ids": inspectors.astype(object),
            "trigger": pick(TRIGGERS, trig),
        }
    )
