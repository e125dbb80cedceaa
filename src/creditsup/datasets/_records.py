"""The credit-records stage: penalties, complaints, honours, broken
commitments, failed product sampling, annual reports and the abnormal and
serious-illegal lists, tax credit levels; and the entities' final status.

Each record kind draws from its own stream ``("synth", "records", kind)``.
:class:`Records` collects the parts as arrays; the inspection-history stage
adds its follow-up records to the same collector before the frame is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from creditsup._random import stage_rng
from creditsup.datasets import _catalog as cat
from creditsup.datasets._arrays import (
    NAT,
    FloatArr,
    IntArr,
    ObjArr,
    add_months,
    as_dates,
    const_text,
    day_number,
    mult,
    pick,
    poisson_events,
    row_choice,
    take,
    to_text,
    to_weekday,
)
from creditsup.datasets._entities import Entities
from creditsup.datasets._scope import Scope

__all__ = ["Records", "credit_records", "dept_source", "restore", "status"]

_FOOD_PREFIXES = ("A03", "C13", "C14", "C15", "F51", "F521", "F522")


class Records:
    """Collects record parts as arrays and builds the frame once."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(
        self,
        kind: str,
        ent: IntArr,
        date: IntArr,
        *,
        end: IntArr | None = None,
        restored: IntArr | None = None,
        severity: FloatArr | None = None,
        value: Any = None,
        source: Any = None,
    ) -> None:
        """Add ``len(ent)`` records; ``value``/``source`` are a str, None or an
        array (numpy object or Arrow) of strings."""
        m = len(ent)
        if m == 0:
            return
        nat = np.full(m, NAT, dtype=np.int64)
        self.parts.append(
            {
                "ent": np.asarray(ent, dtype=np.int64),
                "kind": kind,
                "date": np.asarray(date, dtype=np.int64),
                "end": nat if end is None else end,
                "restored": nat if restored is None else restored,
                "severity": np.full(m, np.nan) if severity is None else severity,
                "value": const_text(value, m),
                "source": const_text(source, m),
            }
        )

    def _days(self, key: str) -> Any:
        return as_dates(
            np.concatenate([np.zeros(0, np.int64), *(p[key] for p in self.parts)])
        )

    def _text(self, key: str) -> pd.Series:
        empty = pa.array([], type=pa.large_string())
        return to_text(pa.concat_arrays([empty, *(p[key] for p in self.parts)]))

    def frame(self, uscc_pa: Any) -> pd.DataFrame:
        """The ``records`` table (contract §1)."""
        sizes = [len(p["ent"]) for p in self.parts]
        ent = np.concatenate([np.zeros(0, np.int64), *(p["ent"] for p in self.parts)])
        kinds = [p["kind"] for p in self.parts]
        kind_idx = np.repeat(np.arange(len(kinds)), sizes).astype(np.int64)
        return pd.DataFrame(
            {
                "uscc": to_text(uscc_pa.take(pa.array(ent))),
                "kind": to_text(take(kinds, kind_idx)),
                "date": self._days("date"),
                "end_date": self._days("end"),
                "restored_on": self._days("restored"),
                "severity": np.concatenate(
                    [np.zeros(0), *(p["severity"] for p in self.parts)]
                ),
                "value": self._text("value"),
                "source": self._text("source"),
            }
        )


def restore(
    rng: np.random.Generator,
    date: IntArr,
    p: FloatArr,
    delay: float,
    mean: float,
    snap: int,
) -> IntArr:
    """Restoration dates (NaT when not restored by the snapshot)."""
    m = len(date)
    when = date + int(delay) + np.floor(rng.exponential(mean, m)).astype(np.int64)
    ok = (rng.random(m) < p) & (when <= snap)
    return np.where(ok, when, NAT)


def dept_source(
    rng: np.random.Generator, ent: IntArr, scope: Scope, market: float
) -> ObjArr:
    """A plausible issuing department for records of ``ent``."""
    ids = [d.id for d in cat.DEPARTMENTS]
    w = scope.depts[scope.combo[ent]].astype(np.float64)
    w[:, ids.index("market")] += market  # the market department issues most
    w[:, ids.index("tax")] *= 0.3  # fewer tax-department decisions
    idx = row_choice(rng, w)
    return pick([d.id for d in cat.DEPARTMENTS], np.maximum(idx, 0))


@dataclass(frozen=True)
class _Window:
    """The days records may fall on: per entity ``[start, end)``."""

    year: int
    span: int  # years of records before ``year``
    snap: int  # 31 March of ``year``
    first: int  # 1 January of ``year - span``
    start: IntArr  # establishment or ``first``
    end: IntArr  # the day after the snapshot


def _rng(seed: str, kind: str) -> np.random.Generator:
    return stage_rng(seed, "synth", "records", kind)


def _penalties(
    seed: str, ents: Entities, scope: Scope, win: _Window, rec: Records
) -> tuple[IntArr, IntArr]:
    """Penalties (R21: minor ones publicised 3 months, others 3 years); returns
    the serious ones as ``(entity, day)``."""
    rng = _rng(seed, "penalty")
    s = ents.s
    rate = (
        0.018
        * np.array([0.8, 1.3, 0.5, 0.3])[ents.etype]
        * mult(s, 1.3)
        * np.where(ents.dormant, 0.3, 1.0)
    )
    ent, day = poisson_events(rng, rate, win.start, win.end)
    u = rng.random(len(ent))
    p1 = np.clip(0.45 - 0.1 * s[ent], 0.15, 0.7)
    sev = np.where(
        u < p1, 1.0, np.where(u < 0.9 + 0.01 * np.clip(s[ent], -2, 5), 2.0, 3.0)
    )
    pend = np.where(sev == 1, add_months(day, 3), add_months(day, 36))
    restored = restore(rng, day, np.where(sev == 2, 0.2, 0.0), 365, 200, win.snap)
    restored = np.where(restored < pend, restored, NAT)
    rec.add(
        "penalty",
        ent,
        day,
        end=pend,
        restored=restored,
        severity=sev,
        source=dept_source(rng, ent, scope, 2.0),
    )
    serious = sev == 3
    return ent[serious], day[serious]


def _event_records(
    seed: str, ents: Entities, scope: Scope, win: _Window, rec: Records
) -> None:
    """Complaints (12315), honours, broken commitments, failed product sampling."""
    s, etype, inds = ents.s, ents.etype, cat.INDUSTRIES
    rng = _rng(seed, "complaint")
    cm = np.array([i.complaints for i in inds])[ents.ind]
    rate = 0.045 * cm * np.array([1.0, 1.2, 0.3, 0.5])[etype] * mult(s, 1.0)
    ent, day = poisson_events(rng, rate, win.start, win.end)
    rec.add("complaint", ent, day, source="12315")

    rng = _rng(seed, "honor")  # low risk only
    rate = np.array([0.004, 0.012, 0.006, 0.0])[etype] * mult(s, -1.8) * ~ents.dormant
    ent, day = poisson_events(rng, rate, win.start, win.end)
    hon = np.where(
        etype[ent] == cat.ENT,
        cat.HONORS[0],
        pick(cat.HONORS[1:], rng.integers(0, len(cat.HONORS) - 1, len(ent))),
    ).astype(object)
    rec.add("honor", ent, day, end=add_months(day, 24), value=hon, source="market")

    rng = _rng(seed, "commitment")
    ent, day = poisson_events(rng, 0.002 * mult(s, 1.6), win.start, win.end)
    rec.add("commitment_broken", ent, day, source=dept_source(rng, ent, scope, 1.0))

    rng = _rng(seed, "sampling")
    sampled = np.array([i.sampled for i in inds])[ents.ind]
    ent, day = poisson_events(rng, 0.012 * sampled * mult(s, 1.0), win.start, win.end)
    food = np.array(
        [str(c).startswith(_FOOD_PREFIXES) for c in np.array([i.code for i in inds])]
    )
    src = np.where(food[ents.ind[ent]], "food", "quality").astype(object)
    rec.add("product_sampling_failed", ent, day, value=None, source=src)


def _annual_reports(
    rng: np.random.Generator, ents: Entities, win: _Window, rec: Records
) -> tuple[IntArr, IntArr, IntArr, Any]:
    """Missing and late annual reports (due 30 June for the previous year) and
    the abnormal list; returns the listings ``(entity, day, restored, kept)``."""
    s, etype, dormant, snap = ents.s, ents.etype, ents.dormant, win.snap
    years = np.arange(win.year - win.span - 1, win.year - 1)
    due = np.array([day_number(int(y) + 1, 6, 30) for y in years])
    year_end = np.array([day_number(int(y), 12, 31) for y in years])
    must = (ents.established[:, None] <= year_end[None, :]) & (etype != cat.OTHER)[
        :, None
    ]
    p_miss = np.clip(np.array([0.085, 0.065, 0.15, 0.0])[etype] * mult(s, 1.4), 0, 0.7)
    p_miss = np.where(dormant, 0.85, p_miss)
    p_late = np.clip(0.08 * mult(s, 0.9), 0, 0.4)
    u = rng.random(must.shape)
    missing = must & (u < p_miss[:, None])
    late = must & ~missing & (u < (p_miss + p_late)[:, None])
    ent, yi = np.nonzero(missing)
    ent = ent.astype(np.int64)
    year_text = years.astype(str).astype(object)
    rec.add(
        "annual_report_missing", ent, due[yi] + 1, value=year_text[yi], source="market"
    )
    lent, lyi = np.nonzero(late)
    lday = due[lyi] + 1 + rng.integers(1, 180, len(lent))
    keep = lday <= snap
    rec.add(
        "annual_report_late",
        lent[keep].astype(np.int64),
        lday[keep],
        value=year_text[lyi[keep]],
        source="market",
    )
    listed = rng.random(len(ent)) < np.where(etype[ent] == cat.IND, 0.75, 0.9)
    aent = ent[listed]
    aday = to_weekday(due[yi[listed]] + 1 + rng.integers(0, 45, len(aent)))
    p_rest = np.clip(0.6 * np.exp(-0.6 * s[aent]), 0, 0.95) * ~dormant[aent]
    arest = restore(rng, aday, p_rest, 15, 150, snap)
    keep = aday <= snap
    rec.add(
        "abnormal_list", aent[keep], aday[keep], restored=arest[keep], source="market"
    )
    return aent, aday, arest, keep


def _serious_illegal(
    rng: np.random.Generator,
    ents: Entities,
    listed: tuple[IntArr, IntArr, IntArr, Any],
    serious: tuple[IntArr, IntArr],
    snap: int,
    rec: Records,
) -> None:
    """Three unrestored years on the abnormal list (enterprises) or a serious
    penalty -> the serious-illegal list (R21)."""
    aent, aday, arest, keep = listed
    sday = add_months(aday, 36)
    moved = (
        keep
        & (sday <= snap)
        & ((arest == NAT) | (arest > sday))
        & (ents.etype[aent] != cat.IND)
        & (rng.random(len(aent)) < 0.6)
    )
    sent = np.concatenate([aent[moved], serious[0]])
    sday = np.concatenate(
        [sday[moved], serious[1] + rng.integers(10, 60, len(serious[0]))]
    )
    via_penalty = np.arange(len(sent)) >= int(moved.sum())
    chosen = ~via_penalty | (rng.random(len(sent)) < 0.2)
    sent, sday = sent[chosen], sday[chosen]
    keep = sday <= snap
    sent, sday = sent[keep], sday[keep]
    order = np.lexsort((sday, sent))  # once listed, an entity is not listed again
    first = np.unique(sent[order], return_index=True)[1]
    sent, sday = sent[order][first], sday[order][first]
    rec.add(
        "serious_illegal_list",
        sent,
        sday,
        end=add_months(sday, 36),
        restored=restore(rng, sday, np.full(len(sent), 0.25), 365, 120, snap),
        source="market",
    )


def _tax_credit(seed: str, ents: Entities, win: _Window, rec: Records) -> None:
    """Tax credit levels, published each April for the previous tax year."""
    rng = _rng(seed, "tax_credit")
    n, s = len(ents.s), ents.s
    rated = rng.random(n) < np.array([0.15, 1.0, 0.6, 0.0])[ents.etype]
    e_noise = 0.5 * rng.standard_normal(n)
    cuts = np.array([-0.74, 0.88, 1.645]) * np.sqrt(1 + 0.25 + 0.16)
    for k in (3, 2, 1):
        pub = day_number(win.year - k, 4, 20) + int(rng.integers(0, 10))
        if pub < win.first:
            continue
        tax_year_start = day_number(win.year - k - 1, 1, 1)
        idx = np.flatnonzero(rated & (ents.established < pub))
        t = s[idx] + e_noise[idx] + 0.4 * rng.standard_normal(len(idx))
        lvl = np.array(["A", "B", "C", "D"], dtype=object)[np.searchsorted(cuts, t)]
        new = (ents.established[idx] >= tax_year_start) | ents.dormant[idx]
        lvl = np.where(new, "M", lvl).astype(object)
        day = np.full(len(idx), pub, dtype=np.int64)
        rec.add(
            "tax_credit",
            idx.astype(np.int64),
            day,
            end=add_months(day, 12),
            value=lvl,
            source="tax",
        )


def credit_records(
    seed: str, ents: Entities, scope: Scope, year: int, span: int, rec: Records
) -> None:
    """Add ``span`` years of credit records before 31 March of ``year`` to ``rec``."""
    snap = day_number(year, 3, 31)
    first = day_number(year - span, 1, 1)
    win = _Window(
        year,
        span,
        snap,
        first,
        np.maximum(ents.established, first),
        np.full(len(ents.s), snap + 1, dtype=np.int64),
    )
    serious = _penalties(seed, ents, scope, win, rec)
    _event_records(seed, ents, scope, win, rec)
    rng = _rng(seed, "annual_report")
    listed = _annual_reports(rng, ents, win, rec)
    _serious_illegal(rng, ents, listed, serious, snap, rec)
    _tax_credit(seed, ents, win, rec)


def status(seed: str, ents: Entities, rec: Records, year: int) -> ObjArr:
    """Deregistered and revoked entities (zombies and long-abnormal ones)."""
    rng = stage_rng(seed, "synth", "status")
    n = len(ents.s)
    snap = day_number(year, 3, 31)
    age_y = (snap - ents.established) / 365.25
    long_abn = np.zeros(n, dtype=bool)
    for p in rec.parts:
        if p["kind"] == "abnormal_list":
            old = (p["restored"] == NAT) & (p["date"] < snap - 2 * 365)
            long_abn[p["ent"][old]] = True
    p_dereg = (
        0.035
        * np.array([1.3, 0.8, 1.0, 0.1])[ents.etype]
        * np.where(age_y > 5, 1.5, 0.6)
        + 0.3 * ents.dormant
    )
    p_rev = 0.004 * mult(ents.s, 0.8) + 0.2 * ents.dormant + 0.2 * long_abn
    u = rng.random(n)
    return np.where(
        u < np.clip(p_rev, 0, 0.9),
        "revoked",
        np.where(u < np.clip(p_rev + p_dereg, 0, 0.95), "deregistered", "active"),
    ).astype(object)
