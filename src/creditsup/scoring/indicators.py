"""Indicator evaluation: the statistic and bin of every indicator per unit.

A *unit* is an (entity row, as-of day) pair: :func:`score_entities` scores
every entity on one day, calibration scores each past inspection on the day
before it. :func:`evaluate_indicators` finds the records and inspections live
for each unit once, then computes each indicator's statistic by its source
(records, history, entities, relationship) and puts it in a bin;
:func:`points_matrix` turns bins into points.

Bins of an indicator: its ordered bins (numeric edges or listed categories),
then, when categorical, *other*, then *missing*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from creditsup.exceptions import ConfigError
from creditsup.scoring._arrays import (
    ALWAYS,
    FloatArray,
    IntArray,
    day_numbers,
    factorize,
    numeric_values,
    pairs,
)
from creditsup.scoring.records import PreparedArrays, RecordArrays
from creditsup.scoring.scorecard import (
    AGGREGATES,
    RELATIONSHIP_COLUMNS,
    Indicator,
    Scorecard,
)

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "Evaluation",
    "GroupCounts",
    "evaluate_indicators",
    "group_counts",
    "points_matrix",
]

#: Optional contract columns: absent = every value missing.
_OPTIONAL_ENTITY_COLUMNS = (
    "key_supervision",
    "registered_capital",
    *RELATIONSHIP_COLUMNS,
)
_EMPTY = np.zeros(0, dtype=np.int64)


def _category_map(ind: Indicator, uniq: pd.Series) -> IntArray:
    """Bin of each distinct value, plus a last slot for missing (code -1).

    Bins: a listed category, K = other, K+1 = missing. Index the result with
    the codes of :func:`factorize`.
    """
    k = len(ind.categories)
    text = uniq.str.strip()
    cats = list(ind.categories)
    out = np.full(len(uniq) + 1, k + 1, dtype=np.int64)  # last slot: missing
    if ind.match == "exact":
        c = pd.Index(cats, dtype=object).get_indexer(pd.Index(text, dtype=object))
        out[:-1] = np.where(c >= 0, c, k)
    else:
        u = np.full(len(uniq), k, dtype=np.int64)
        best = np.full(len(uniq), -1, dtype=np.int64)
        for i, cat in enumerate(cats):
            m = np.array(text.str.startswith(cat).fillna(False), dtype=bool)
            m &= len(cat) > best
            u[m] = i
            best[m] = len(cat)
        out[:-1] = u
    blank = np.array(text.isna() | (text == ""), dtype=bool)
    out[:-1][blank] = k + 1
    return out


def _category_codes(ind: Indicator, values: pd.Series) -> IntArray:
    """Bin of each value of a categorical indicator (computed per distinct value)."""
    codes, uniq = factorize(values)
    return _category_map(ind, uniq)[codes]


def _numeric_bins(ind: Indicator, x: FloatArray) -> IntArray:
    b = np.searchsorted(np.asarray(ind.edges, dtype=np.float64), x, side="right")
    b = b.astype(np.int64)
    b[np.isnan(x)] = len(ind.edges) + 1
    return b


def _entity_value(ind: Indicator, ent: pd.DataFrame) -> pd.Series:
    col = ind.column or ""
    if col not in ent.columns and col in _OPTIONAL_ENTITY_COLUMNS:
        return pd.Series([pd.NA] * len(ent), index=ent.index, dtype="str")
    if col not in ent.columns:
        raise ConfigError(
            f"The 'column' of indicator '{ind.name}' must be a column of the entities "
            f"table. Got {col!r} instead."
        )
    s = ent[col]
    if s.dtype == bool:
        return s.map({True: "true", False: "false"}).astype("str")
    return s


def _normalised_groups(values: pd.Series) -> tuple[IntArray, pd.Series]:
    """Each row's group (-1 = no value) and the groups' normalised values.

    Values are compared trimmed and lower-cased; a blank value is no value.
    """
    codes, uniq = factorize(values)
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(uniq.array)))
    norm = pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.large_string()), norm)
    ucodes, names = factorize(pd.Series(pd.arrays.ArrowStringArray(norm), dtype="str"))
    return np.append(ucodes, -1)[codes], pd.Series(names, dtype="str")


@dataclass(frozen=True)
class GroupCounts:
    """Per relationship indicator, the entities sharing each value, on one day.

    What one slice of the entities contributes (:func:`group_counts`); the
    sum over the slices (:meth:`plus`) lets each slice be scored alone with
    the whole population's counts (``score_entities(..., shared=...)``).
    ``counts[name]`` maps a normalised value to the number of entities
    established by ``day`` holding it; ``any_value[name]`` counts the
    entities with a value at all (the indicator is active when it is > 0).
    """

    day: int
    counts: dict[str, pd.Series]
    any_value: dict[str, int]

    def plus(self, other: GroupCounts) -> GroupCounts:
        """The counts of both slices."""
        if other.day != self.day:
            raise ValueError("Group counts of different days cannot be added.")
        counts = {
            k: pd.concat([v, other.counts[k]]).groupby(level=0, sort=True).sum()
            for k, v in self.counts.items()
        }
        any_value = {k: v + other.any_value[k] for k, v in self.any_value.items()}
        return GroupCounts(self.day, counts, any_value)


def group_counts(
    entities: pd.DataFrame, scorecard: Scorecard, est_day: IntArray, day: int
) -> GroupCounts:
    """What a slice of ``entities`` contributes to its relationship indicators.

    ``est_day`` is each entity's establishment day number.
    """
    counts: dict[str, pd.Series] = {}
    any_value: dict[str, int] = {}
    for ind in scorecard.indicators:
        if ind.source != "relationship":
            continue
        col = ind.column or ""
        if col not in entities.columns:
            counts[ind.name] = pd.Series(dtype=np.int64)
            any_value[ind.name] = 0
            continue
        group, names = _normalised_groups(entities[col])
        has = group >= 0
        alive = has & (est_day <= day)
        per = np.bincount(group[alive], minlength=len(names))
        keep = per > 0
        counts[ind.name] = pd.Series(
            per[keep].astype(np.int64), index=names.to_numpy()[keep]
        ).sort_index()
        any_value[ind.name] = int(has.sum())
    return GroupCounts(day, counts, any_value)


def _shared_counts(
    ind: Indicator,
    ent: pd.DataFrame,
    shared: GroupCounts,
    unit_ent: IntArray,
    unit_day: IntArray,
) -> FloatArray | None:
    """:func:`_relationship_counts` from the whole population's counts."""
    if not shared.any_value.get(ind.name, 0):
        return None
    if len(unit_day) and (unit_day != shared.day).any():
        raise ValueError("Shared group counts hold one scoring day only.")
    col = ind.column or ""
    if col not in ent.columns:
        return np.zeros(len(unit_ent), dtype=np.float64)
    group, names = _normalised_groups(ent[col])
    per = shared.counts[ind.name].reindex(names.to_numpy(), fill_value=0)
    per_group = np.append(per.to_numpy(dtype=np.int64), 0)
    ug = group[unit_ent]
    cnt = np.where(ug >= 0, per_group[ug] - 1, 0)
    return np.maximum(cnt, 0).astype(np.float64)


def _relationship_counts(
    ind: Indicator,
    ent: pd.DataFrame,
    prep: PreparedArrays,
    unit_ent: IntArray,
    unit_day: IntArray,
) -> FloatArray | None:
    """Other entities established by each unit's date sharing the column value."""
    col = ind.column or ""
    if col not in ent.columns:
        return None
    group, _names = _normalised_groups(ent[col])
    if (group < 0).all():
        return None
    has = group >= 0
    n_groups = int(group.max()) + 1
    if len(unit_day) and (unit_day == unit_day[0]).all():
        # one date: count the group's entities established by then
        alive = has & (prep.est_day <= unit_day[0])
        per_group = np.bincount(group[alive], minlength=n_groups)
        ug = group[unit_ent]
        cnt = np.where(ug >= 0, per_group[np.maximum(ug, 0)] - 1, 0)
        return np.maximum(cnt, 0).astype(np.float64)
    # several dates: sorted composite keys (group, established day)
    off = np.int64(1) << np.int64(40)
    half = off // 2
    dd = np.clip(prep.est_day[has], -half + 1, half - 1) + half
    keys = np.sort(group[has] * off + dd)
    ug = group[unit_ent]
    ud = np.clip(unit_day, -half + 1, half - 1) + half
    uh = ug >= 0
    out = np.zeros(len(unit_ent), dtype=np.float64)
    hi = np.searchsorted(keys, ug[uh] * off + ud[uh], side="right")
    lo = np.searchsorted(keys, ug[uh] * off, side="left")
    out[uh] = np.maximum(hi - lo - 1, 0)
    return out


@dataclass(frozen=True)
class _LiveRecords:
    """Live (record, unit) pairs, grouped by record kind.

    ``rows`` are record rows, ``units`` unit positions, ``as_of`` the units'
    days and ``day`` the records' dates; the pairs of kind ``k`` are the
    positions ``range(*kind_range[k])``.
    """

    rows: IntArray = field(default_factory=lambda: _EMPTY)
    units: IntArray = field(default_factory=lambda: _EMPTY)
    as_of: IntArray = field(default_factory=lambda: _EMPTY)
    day: IntArray = field(default_factory=lambda: _EMPTY)
    kind_range: dict[str, tuple[int, int]] = field(default_factory=dict)


def _live_records(
    prep: PreparedArrays, unit_ent: IntArray, unit_day: IntArray
) -> _LiveRecords:
    """Records dated by the unit's day, not ended and not restored by then."""
    ra = prep.rec
    r, u = pairs(unit_ent, prep.n_ent, ra.ent)
    ad = unit_day[u]
    live = (ra.day[r] <= ad) & (ra.end[r] > ad) & (ra.restored[r] > ad)
    r = r[live]
    by_kind = np.argsort(ra.kind[r].astype(np.int16), kind="stable")  # radix
    r, u, ad = r[by_kind], u[live][by_kind], ad[live][by_kind]
    counts = np.bincount(ra.kind[r], minlength=len(ra.kind_names))
    ends = np.cumsum(counts)
    kind_range = {
        k: (int(ends[i] - counts[i]), int(ends[i])) for i, k in enumerate(ra.kind_names)
    }
    return _LiveRecords(r, u, ad, ra.day[r], kind_range)


def _live_history(
    prep: PreparedArrays, unit_ent: IntArray, unit_day: IntArray
) -> _LiveRecords:
    """Inspections dated by the unit's day (``kind_range`` unused)."""
    hr, hu = pairs(unit_ent, prep.n_ent, prep.hist_ent)
    had = unit_day[hu]
    hday = prep.hist_day[hr]
    hlive = hday <= had
    return _LiveRecords(hr[hlive], hu[hlive], had[hlive], hday[hlive])


def _latest_bins(
    ind: Indicator, ra: RecordArrays, live: _LiveRecords, sel: IntArray, n: int
) -> IntArray:
    """Category bin of the latest live record of each unit (missing if none)."""
    mu = live.units[sel]
    vcode = _category_map(ind, ra.value_uniques)[ra.value_codes[live.rows[sel]]]
    order = np.lexsort((vcode, live.day[sel], mu))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = mu[order][1:] != mu[order][:-1]
    pick = order[last]
    b = np.full(n, len(ind.categories) + 1, dtype=np.int64)
    b[mu[pick]] = vcode[pick]
    return b


class _Cache:
    """Arrays shared by several indicators of one evaluation: parsed numeric
    columns and per-window row counts (the denominators of shares)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.columns: dict[tuple[str, str], FloatArray] = {}
        self.totals: dict[tuple[str, int | None], FloatArray] = {}

    def column(self, ind: Indicator, table: str) -> FloatArray:
        """The numeric column an aggregate reads, parsed once."""
        col = ind.column or ""
        key = (table, col)
        if key not in self.columns:
            frame = getattr(self.dataset, table)
            if col not in frame.columns:
                raise ConfigError(
                    f"The 'column' of indicator '{ind.name}' must be a column of "
                    f"the {table} table. Got {col!r} instead."
                )
            self.columns[key] = numeric_values(frame[col])
        return self.columns[key]

    def total(
        self, table: str, live: _LiveRecords, lookback: int | None, n: int
    ) -> FloatArray:
        """Rows of ``table`` per unit in the look-back window (every kind)."""
        key = (table, lookback)
        if key not in self.totals:
            m = np.ones(len(live.units), dtype=bool)
            if lookback is not None:
                m = live.day > live.as_of - lookback
            self.totals[key] = np.bincount(live.units[m], minlength=n).astype(
                np.float64
            )
        return self.totals[key]


def _last_per_unit(mu: IntArray, day: IntArray, v: FloatArray, n: int) -> FloatArray:
    """The value on each unit's latest day (the largest on ties); NaN if none."""
    out = np.full(n, np.nan, dtype=np.float64)
    if len(mu) == 0:
        return out
    order = np.lexsort((v, day, mu))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = mu[order][1:] != mu[order][:-1]
    pick = order[last]
    out[mu[pick]] = v[pick]
    return out


def _decay(ind: Indicator, live: _LiveRecords, sel: Any) -> FloatArray | None:
    """Weight of each selected row, ``0.5 ** (age / half_life_days)`` (None: 1)."""
    if ind.half_life_days is None:
        return None
    age = (live.as_of[sel] - live.day[sel]).astype(np.float64)
    return np.asarray(np.exp2(-age / ind.half_life_days), dtype=np.float64)


def _row_statistic(
    stat: str,
    mu: IntArray,
    day: IntArray,
    unit_day: IntArray,
    n: int,
    values: FloatArray | None,
    total: FloatArray | None,
    *,
    prior: tuple[float, float] = (0.0, 0.0),
    weight: FloatArray | None = None,
) -> FloatArray:
    """``share``, ``days_since`` or an aggregate of the selected rows per unit.

    ``mu`` and ``day`` are the units and dates of the selected rows, ``values``
    their numeric column (aggregates), ``total`` the rows of the source per
    unit in the window (shares), ``prior`` the pseudo-rows and their value
    that shrink a share or a mean, ``weight`` each row's weight in a sum.
    """
    a, m = prior
    if stat == "share":
        cnt = np.bincount(mu, minlength=n).astype(np.float64)
        tot = total if total is not None else cnt
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(tot > 0, (cnt + a * m) / (tot + a), np.nan)
    if stat == "days_since":
        latest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(latest, mu, day)
        seen = latest > np.iinfo(np.int64).min
        return np.where(seen, (unit_day - latest).astype(np.float64), np.nan)
    v = values if values is not None else np.zeros(len(mu))
    ok = ~np.isnan(v)
    mu, day, v = mu[ok], day[ok], v[ok]
    if stat == "sum":
        w = v if weight is None else v * weight[ok]
        return np.bincount(mu, weights=w, minlength=n).astype(np.float64)
    if stat == "mean":
        cnt = np.bincount(mu, minlength=n).astype(np.float64)
        tot = np.asarray(np.bincount(mu, weights=v, minlength=n), dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, (tot + a * m) / (cnt + a), np.nan)
    if stat == "max":
        out = np.full(n, -np.inf, dtype=np.float64)
        np.maximum.at(out, mu, v)
        return np.where(np.isneginf(out), np.nan, out)
    return _last_per_unit(mu, day, v, n)  # "last"


def _record_statistic(
    ind: Indicator,
    ra: RecordArrays,
    live: _LiveRecords,
    n: int,
    unit_day: IntArray,
    cache: _Cache,
) -> tuple[FloatArray, IntArray]:
    """Count, severity sum or maximum, latest value, share, recency or an
    aggregate of a numeric column of the live records."""
    sel = np.concatenate(
        [_EMPTY]
        + [np.arange(*live.kind_range[k]) for k in ind.kinds if k in live.kind_range]
    ).astype(np.int64)
    if ind.lookback_days is not None:
        sel = sel[live.day[sel] > live.as_of[sel] - ind.lookback_days]
    if ind.statistic == "latest_value":
        b = _latest_bins(ind, ra, live, sel, n)
        return b.astype(np.float64), b
    mu = live.units[sel]
    if ind.statistic == "count":
        w = _decay(ind, live, sel)
        x = np.bincount(mu, weights=w, minlength=n).astype(np.float64)
    elif ind.statistic in ("severity_sum", "severity_max"):
        sev = np.nan_to_num(ra.severity[live.rows[sel]], nan=1.0)
        if ind.statistic == "severity_sum":
            x = np.bincount(mu, weights=sev, minlength=n).astype(np.float64)
        else:
            x = np.zeros(n, dtype=np.float64)
            np.maximum.at(x, mu, sev)
    else:
        x = _source_statistic(ind, "records", live, sel, unit_day, n, cache)
    return x, _numeric_bins(ind, x)


def _history_statistic(
    ind: Indicator,
    scorecard: Scorecard,
    prep: PreparedArrays,
    live: _LiveRecords,
    n: int,
    unit_day: IntArray,
    cache: _Cache,
) -> tuple[FloatArray, IntArray]:
    """Past inspections: those with a result in ``results`` (default: the
    scorecard's ``problem_results``; every inspection for an aggregate),
    counted, as a share, by recency, or aggregated."""
    wanted = ind.results or scorecard.problem_results
    if ind.statistic in AGGREGATES and not ind.results:
        hm = np.ones(len(live.rows), dtype=bool)
    else:
        codes = [i for i, res in enumerate(prep.hist_results) if res in wanted]
        hm = np.isin(prep.hist_result[live.rows], np.asarray(codes, dtype=np.int64))
    if ind.lookback_days is not None:
        hm &= live.day > live.as_of - ind.lookback_days
    mu = live.units[hm]
    if ind.statistic == "count":
        w = _decay(ind, live, hm)
        x = np.bincount(mu, weights=w, minlength=n).astype(np.float64)
    else:
        x = _source_statistic(ind, "history", live, hm, unit_day, n, cache)
    return x, _numeric_bins(ind, x)


def _source_statistic(
    ind: Indicator,
    source: str,
    live: _LiveRecords,
    sel: Any,
    unit_day: IntArray,
    n: int,
    cache: _Cache,
) -> FloatArray:
    """A share, a recency or an aggregate of the selected rows of ``source``."""
    values = None
    if ind.statistic in AGGREGATES:
        values = cache.column(ind, source)[live.rows[sel]]
    total = None
    if ind.statistic == "share":
        total = cache.total(source, live, ind.lookback_days, n)
    mu = live.units[sel]
    return _row_statistic(
        ind.statistic,
        mu,
        live.day[sel],
        unit_day,
        n,
        values,
        total,
        prior=(ind.prior_rows, ind.prior_value),
        weight=_decay(ind, live, sel),
    )


def _entity_statistic(
    ind: Indicator,
    ent: pd.DataFrame,
    prep: PreparedArrays,
    unit_ent: IntArray,
    unit_day: IntArray,
) -> tuple[FloatArray, IntArray]:
    """An entity column: its value (numeric or categorical) or its age in years
    or days."""
    if ind.statistic in ("age_years", "age_days"):
        if ind.column == "established":
            est = prep.est_day
        else:
            est = day_numbers(_entity_value(ind, ent), len(ent), ALWAYS)
        e = est[unit_ent]
        per = 365.25 if ind.statistic == "age_years" else 1.0
        x = np.where(e == ALWAYS, np.nan, (unit_day - e) / per)
        x = np.where(np.isnan(x), x, np.maximum(x, 0.0))
        return x, _numeric_bins(ind, x)
    if ind.categorical:
        b = _category_codes(ind, _entity_value(ind, ent))[unit_ent]
        return b.astype(np.float64), b
    s = pd.to_numeric(_entity_value(ind, ent), errors="coerce")
    x = s.to_numpy(dtype=np.float64, na_value=np.nan)[unit_ent]
    return x, _numeric_bins(ind, x)


@dataclass(frozen=True)
class Evaluation:
    """Statistic (``values``) and bin (``bins``) of every indicator per unit.

    ``inactive`` names the indicators whose column has no data (scored 0).
    """

    values: dict[str, FloatArray]
    bins: dict[str, IntArray]
    inactive: tuple[str, ...]


def evaluate_indicators(
    dataset: Dataset,
    scorecard: Scorecard,
    prep: PreparedArrays,
    unit_ent: IntArray,
    unit_day: IntArray,
    *,
    shared: GroupCounts | None = None,
) -> Evaluation:
    """Statistic and bin of every indicator for every unit (entity, as-of day).

    ``shared`` (one scoring day) gives the relationship indicators the
    counts of the whole population when ``dataset`` is one slice of it.

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> from creditsup.scoring import default_scorecard
    >>> from creditsup.scoring.records import prepare_arrays
    >>> ds = Dataset(entities=pd.DataFrame({"uscc": ["914403001922038216"],
    ...     "entity_type": ["enterprise"], "industry": ["C1310"],
    ...     "established": pd.to_datetime(["2015-01-01"])}))
    >>> sc = default_scorecard()
    >>> ev = evaluate_indicators(ds, sc, prepare_arrays(ds, sc),
    ...                          np.array([0]), np.array([20089]))  # 2025-01-01
    >>> round(float(ev.values["entity_age"][0]), 2), "shared_address" in ev.inactive
    (10.0, True)
    >>> int(ev.bins["industry"][0]), float(points_matrix(sc, ev, 1)[1, 0])  # C13
    (0, 5.0)
    """
    n = len(unit_ent)
    sources = {i.source for i in scorecard.indicators}
    live_rec = _LiveRecords()
    if "records" in sources and len(prep.rec.day):
        live_rec = _live_records(prep, unit_ent, unit_day)
    live_hist = _LiveRecords()
    if "history" in sources and len(prep.hist_day):
        live_hist = _live_history(prep, unit_ent, unit_day)
    values: dict[str, FloatArray] = {}
    bins: dict[str, IntArray] = {}
    inactive: list[str] = []
    cache = _Cache(dataset)
    for ind in scorecard.indicators:
        if ind.source == "records":
            x, b = _record_statistic(ind, prep.rec, live_rec, n, unit_day, cache)
        elif ind.source == "history":
            x, b = _history_statistic(
                ind, scorecard, prep, live_hist, n, unit_day, cache
            )
        elif ind.source == "entities":
            x, b = _entity_statistic(ind, dataset.entities, prep, unit_ent, unit_day)
        else:  # relationship
            cnt = (
                _relationship_counts(ind, dataset.entities, prep, unit_ent, unit_day)
                if shared is None
                else _shared_counts(ind, dataset.entities, shared, unit_ent, unit_day)
            )
            if cnt is None:
                inactive.append(ind.name)
                cnt = np.zeros(n, dtype=np.float64)
            x, b = cnt, _numeric_bins(ind, cnt)
        values[ind.name] = x
        bins[ind.name] = b
    return Evaluation(values=values, bins=bins, inactive=tuple(inactive))


def points_matrix(scorecard: Scorecard, ev: Evaluation, n: int) -> FloatArray:
    """Points of every unit, shape (n_indicators, n_units)."""
    out = np.zeros((len(scorecard.indicators), n), dtype=np.float64)
    for j, ind in enumerate(scorecard.indicators):
        if ind.name not in ev.inactive:
            out[j] = ind.bin_points()[ev.bins[ind.name]]
    return out
