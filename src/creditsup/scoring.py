"""Credit risk scoring: a declarative, explainable, restoration-aware scorecard.

A :class:`Scorecard` is a frozen list of :class:`Indicator` objects. Each
indicator measures one statistic of an entity *as of a date* (a count of
records of some kinds in a look-back window, the gravest severity, the latest
tax credit level, the entity's age, how many other entities share its
address, ...), puts it in a bin and gives the bin its points. The score is
``base_points`` plus the sum of the indicators' points: **higher means riskier**
(tier D is the top tier). Every point is explainable: :func:`score_entities`
returns one ``pts_<indicator>`` column per indicator (domain.md §c, C4).

As-of semantics (no leakage from the future)
--------------------------------------------
A record counts as of ``T`` when all of these hold:

* ``date <= T`` and, when the indicator has a look-back window of ``L`` days,
  ``date > T - L``;
* it has not ended: ``not (end <= T)``, where ``end`` is the earlier of
  ``end_date`` and the default publicity end of its kind (R21: 3 months for a
  minor penalty, 3 years otherwise; 3 years for the serious-illegal list). The
  default period is an upper bound because an ``end_date`` later than ``T``
  is not yet known at ``T``;
* it has not been restored (信用修复): ``not (restored_on <= T)``.

History (past inspections) counts when ``date <= T``; entities count when
``established <= T``. Entities established after ``T`` are not scored. So
scoring as of ``T`` a dataset that also holds later rows gives exactly the
result of scoring :meth:`creditsup.schemas.Dataset.cut` at ``T``.

The default national profile lives in ``creditsup/profiles/national.toml`` and
is documented indicator by indicator in ``docs/scorecard.md``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator, model_validator

from creditsup.config import FrozenModel, parse_config
from creditsup.exceptions import ConfigError
from creditsup.schemas import HistoryResult, RecordKind

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "Indicator",
    "PublicityRule",
    "ScoreResult",
    "Scorecard",
    "default_scorecard",
    "labels_from_codes",
    "reason_codes",
    "score_entities",
]

logger = logging.getLogger(__name__)

Dimension = Literal["basic", "dynamic", "supervision", "relationship", "social"]
Source = Literal["records", "history", "entities", "relationship"]
Statistic = Literal[
    "count", "severity_sum", "severity_max", "latest_value", "value", "age_years"
]
Monotone = Literal["increasing", "decreasing", "none"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Day number used for "never" (no end, no restoration).
_NEVER = np.int64(2**62)
#: Day number used for "always" (a missing date sorts first).
_ALWAYS = np.int64(-(2**62))

_RECORD_STATS = ("count", "severity_sum", "severity_max", "latest_value")
_ENTITY_STATS = ("value", "age_years")
_RELATIONSHIP_COLUMNS = ("address", "legal_rep")
#: Optional contract columns: absent = every value missing.
_OPTIONAL_ENTITY_COLUMNS = (
    "key_supervision",
    "registered_capital",
    *_RELATIONSHIP_COLUMNS,
)
_PROFILE = "national.toml"
#: Arrow string types -> pandas' default "str" dtype (zero-copy).
_STR_TYPES = {
    t: pd.StringDtype("pyarrow", na_value=np.nan)
    for t in (pa.string(), pa.large_string())
}


@functools.cache
def _profile_data() -> dict[str, Any]:
    text = (
        resources.files("creditsup").joinpath("profiles", _PROFILE).read_text("utf-8")
    )
    return tomllib.loads(text)


def _profile_default(key: str) -> Any:
    return _profile_data()[key]


class PublicityRule(FrozenModel):
    """Default publicity period of a record kind when it has no ``end_date`` (R21).

    Parameters
    ----------
    kind : str
        Record kind (``penalty``, ``serious_illegal_list``, ...).
    months : int or None
        Publicity period in calendar months; ``None`` = until ``end_date`` or
        restoration.
    minor_months : int or None
        Shorter period for minor records (``severity <= minor_max_severity``).
    minor_max_severity : float or None
        Highest severity that counts as minor (R21: circulated criticism or a low
        fine).

    Examples
    --------
    >>> rule = PublicityRule(kind="penalty", months=36, minor_months=3,
    ...                      minor_max_severity=1.0)
    >>> rule.minor_months
    3
    """

    kind: RecordKind
    months: int | None = Field(default=36, ge=0)
    minor_months: int | None = Field(default=None, ge=0)
    minor_max_severity: float | None = None

    @model_validator(mode="after")
    def _check(self) -> PublicityRule:
        if self.minor_months is not None and self.minor_max_severity is None:
            raise ValueError(
                f"The 'minor_max_severity' of the publicity rule for '{self.kind}' must "
                "be set when 'minor_months' is. Got None instead."
            )
        return self


class Indicator(FrozenModel):
    """One scorecard indicator: a statistic as of a date, its bins and points.

    Parameters
    ----------
    name : str
        snake_case name; the score table gets a ``pts_<name>`` column and the
        name is the indicator's reason code.
    dimension : {'basic', 'dynamic', 'supervision', 'relationship', 'social'}
        The SAMR model dimension (domain.md §c).
    source : {'records', 'history', 'entities', 'relationship'}
        Table the statistic comes from.
    statistic : str
        ``records``: ``count``, ``severity_sum``, ``severity_max`` or
        ``latest_value`` (the ``value`` of the latest record, e.g. tax level);
        ``history``: ``count`` (inspections whose result is a problem);
        ``entities``: ``value`` (the column itself) or ``age_years`` (years
        since the date in ``column``); ``relationship``: ``count`` (other
        entities sharing the non-empty ``column`` value).
    kinds : tuple of str
        Record kinds counted (``records`` only).
    column : str or None
        Entity column (``entities`` and ``relationship``).
    lookback_days : int or None
        Only records or inspections dated within this many days count.
    edges, points : tuple of float
        Numeric bins: ``x`` falls in bin ``i`` when
        ``edges[i-1] <= x < edges[i]``; ``len(points) == len(edges) + 1``.
    categories : dict of str to float
        Categorical bins (ordered): value → points. With ``match='prefix'`` a
        value matches the longest listed prefix (industry codes).
    other_points, missing_points : float
        Points of an unlisted category, and of a missing value (no record,
        empty cell).
    monotone : {'increasing', 'decreasing', 'none'}
        Required direction of the points along the ordered bins (numeric bins,
        or categories in the listed order). Calibration keeps it.

    Examples
    --------
    >>> ind = Indicator(name="penalties", dimension="supervision", source="records",
    ...                 kinds=("penalty",), edges=(1, 2), points=(0, 10, 15),
    ...                 monotone="increasing")
    >>> ind.bin_points().tolist()
    [0.0, 10.0, 15.0, 0.0]
    >>> ind.bin_labels()
    ['< 1', '[1, 2)', '>= 2', '(missing)']
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    dimension: Dimension
    source: Source
    statistic: Statistic = "count"
    kinds: tuple[RecordKind, ...] = ()
    column: str | None = None
    lookback_days: int | None = Field(default=None, gt=0)
    edges: tuple[float, ...] = ()
    points: tuple[float, ...] = (0.0,)
    categories: dict[str, float] = Field(default_factory=dict)
    match: Literal["exact", "prefix"] = "exact"
    other_points: float = 0.0
    missing_points: float = 0.0
    monotone: Monotone = "none"
    description: str = ""
    reference: str = ""

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        who = f"indicator '{self.name}'"
        allowed = {
            "records": _RECORD_STATS,
            "history": ("count",),
            "entities": _ENTITY_STATS,
            "relationship": ("count",),
        }[self.source]
        if self.statistic not in allowed:
            raise ValueError(
                f"The 'statistic' of {who} must be one of {list(allowed)} for source "
                f"'{self.source}'. Got {self.statistic!r} instead."
            )
        if self.source == "records" and not self.kinds:
            raise ValueError(
                f"The 'kinds' of {who} must list at least one record kind. Got () "
                "instead."
            )
        if self.source in ("entities", "relationship") and not self.column:
            raise ValueError(
                f"The 'column' of {who} must name an entity column. Got None instead."
            )
        if self.source == "relationship" and self.column not in _RELATIONSHIP_COLUMNS:
            raise ValueError(
                f"The 'column' of {who} must be one of {list(_RELATIONSHIP_COLUMNS)}. "
                f"Got {self.column!r} instead."
            )
        if self.statistic == "latest_value" and not self.categories:
            raise ValueError(
                f"The 'categories' of {who} must be set for statistic 'latest_value'. "
                "Got {} instead."
            )
        if self.categories:
            if self.edges:
                raise ValueError(
                    f"The 'edges' of {who} must be empty when 'categories' is set. "
                    f"Got {list(self.edges)} instead."
                )
            ordered = list(self.categories.values())
        else:
            e = np.asarray(self.edges, dtype=float)
            if len(e) and not (np.isfinite(e).all() and (np.diff(e) > 0).all()):
                raise ValueError(
                    f"The 'edges' of {who} must be finite and strictly increasing. "
                    f"Got {list(self.edges)} instead."
                )
            if len(self.points) != len(self.edges) + 1:
                raise ValueError(
                    f"The 'points' of {who} must have len(edges) + 1 = "
                    f"{len(self.edges) + 1} values. Got {len(self.points)} instead."
                )
            ordered = list(self.points)
        d = np.diff(np.asarray(ordered, dtype=float))
        if (self.monotone == "increasing" and (d < 0).any()) or (
            self.monotone == "decreasing" and (d > 0).any()
        ):
            raise ValueError(
                f"The points of {who} must be {self.monotone} along its bins. "
                f"Got {ordered} instead."
            )
        return self

    @property
    def categorical(self) -> bool:
        """Whether the bins are categories (else numeric edges)."""
        return bool(self.categories)

    @property
    def n_ordered(self) -> int:
        """Number of ordered bins (numeric bins or listed categories)."""
        return len(self.categories) if self.categorical else len(self.edges) + 1

    def bin_points(self) -> FloatArray:
        """Points of every bin: the ordered bins, then (categorical) *other*, then
        *missing*."""
        if self.categorical:
            vals = [*self.categories.values(), self.other_points, self.missing_points]
        else:
            vals = [*self.points, self.missing_points]
        return np.asarray(vals, dtype=np.float64)

    def bin_labels(self) -> list[str]:
        """Human-readable label of every bin (same order as :meth:`bin_points`)."""
        if self.categorical:
            return [*self.categories, "(other)", "(missing)"]
        e = [f"{x:g}" for x in self.edges]
        if not e:
            return ["all", "(missing)"]
        mid = [f"[{a}, {b})" for a, b in itertools.pairwise(e)]
        return [f"< {e[0]}", *mid, f">= {e[-1]}", "(missing)"]

    def with_bin_points(self, pts: Sequence[float]) -> Indicator:
        """A copy with new points for every bin (as ordered by :meth:`bin_points`)."""
        p = [float(x) for x in pts]
        if len(p) != len(self.bin_points()):
            raise ConfigError(
                f"The points of indicator '{self.name}' must have "
                f"{len(self.bin_points())} values. Got {len(p)} instead."
            )
        if self.categorical:
            cats = dict(zip(self.categories, p[: len(self.categories)], strict=True))
            upd: dict[str, Any] = {
                "categories": cats,
                "other_points": p[-2],
                "missing_points": p[-1],
            }
        else:
            upd = {"points": tuple(p[:-1]), "missing_points": p[-1]}
        return Indicator.model_validate({**self.model_dump(), **upd})


class Scorecard(FrozenModel):
    """A declarative credit risk scorecard (higher score = higher risk).

    The defaults are the national profile (``profiles/national.toml``,
    documented in ``docs/scorecard.md``). Load another one with
    ``creditsup.config.load_config(path, Scorecard)``.

    Parameters
    ----------
    name, version : str
        Identify the scorecard in plans and reports.
    base_points : float
        Added to every score.
    problem_results : tuple of str
        ``history.result`` values that count as "a problem was found" (R19).
    publicity : tuple of PublicityRule
        Default publicity periods per record kind (R21).
    indicators : tuple of Indicator
        The indicators, in reporting order (ties between reason codes go to the
        earlier indicator).

    Examples
    --------
    >>> sc = Scorecard()
    >>> sc.name, len(sc.indicators) > 10
    ('national', True)
    >>> sorted({i.dimension for i in sc.indicators})
    ['basic', 'dynamic', 'relationship', 'social', 'supervision']
    """

    name: str = Field(default_factory=lambda: str(_profile_default("name")))
    version: str = Field(default_factory=lambda: str(_profile_default("version")))
    base_points: float = 0.0
    problem_results: tuple[HistoryResult, ...] = Field(
        default_factory=lambda: tuple(_profile_default("problem_results"))
    )
    publicity: tuple[PublicityRule, ...] = Field(
        default_factory=lambda: tuple(
            PublicityRule.model_validate(p) for p in _profile_default("publicity")
        )
    )
    indicators: tuple[Indicator, ...] = Field(
        default_factory=lambda: tuple(
            Indicator.model_validate(i) for i in _profile_default("indicators")
        )
    )

    @field_validator("indicators")
    @classmethod
    def _unique(cls, v: tuple[Indicator, ...]) -> tuple[Indicator, ...]:
        names = [i.name for i in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(
                f"The indicator names of a Scorecard must be unique. Got duplicates "
                f"{dup} instead."
            )
        return v

    @field_validator("publicity")
    @classmethod
    def _unique_kinds(cls, v: tuple[PublicityRule, ...]) -> tuple[PublicityRule, ...]:
        kinds = [p.kind for p in v]
        if len(set(kinds)) != len(kinds):
            raise ValueError(
                f"The publicity rules of a Scorecard must name each kind once. Got "
                f"{kinds} instead."
            )
        return v

    def indicator(self, name: str) -> Indicator:
        """The indicator called ``name``."""
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)

    def negative_kinds(self) -> frozenset[str]:
        """Record kinds that can only add risk points.

        A kind is negative when every indicator that reads it counts or sums
        severities and has ``monotone='increasing'`` points, so adding such a
        record never lowers the score and restoring one never raises it.

        Examples
        --------
        >>> "penalty" in Scorecard().negative_kinds()
        True
        >>> "tax_credit" in Scorecard().negative_kinds()
        False
        """
        ok: dict[str, bool] = {}
        for ind in self.indicators:
            if ind.source != "records":
                continue
            good = ind.monotone == "increasing" and ind.statistic != "latest_value"
            for k in ind.kinds:
                ok[k] = ok.get(k, True) and good
        return frozenset(k for k, v in ok.items() if v)

    def with_points(self, points: Mapping[str, Sequence[float]]) -> Scorecard:
        """A copy whose named indicators get new bin points (see
        :meth:`Indicator.bin_points` for the order)."""
        inds = tuple(
            i.with_bin_points(points[i.name]) if i.name in points else i
            for i in self.indicators
        )
        return Scorecard.model_validate({**self.model_dump(), "indicators": inds})


@functools.cache
def default_scorecard() -> Scorecard:
    """The default national scorecard (``profiles/national.toml``).

    Examples
    --------
    >>> default_scorecard() == Scorecard()
    True
    """
    return parse_config(Scorecard, _profile_data())


# --------------------------------------------------------------------------- engine


def as_of_timestamp(value: date | str | pd.Timestamp) -> pd.Timestamp:
    """Parse an ``as_of`` date (midnight), raising :class:`ConfigError` if invalid.

    Examples
    --------
    >>> as_of_timestamp("2026-12-31")
    Timestamp('2026-12-31 00:00:00')
    """
    try:
        ts = pd.Timestamp(value)
        bad = bool(pd.isna(ts))
    except (TypeError, ValueError):
        bad = True
    if bad:
        raise ConfigError(
            f"The 'as_of' date must be a valid date. Got {value!r} instead."
        )
    return ts.normalize()


def to_day(value: date | str | pd.Timestamp) -> np.int64:
    """Day number (days since 1970-01-01) of a date-like value.

    Examples
    --------
    >>> int(to_day("1970-01-02"))
    1
    """
    ts = as_of_timestamp(value)
    return np.int64(np.datetime64(ts.date(), "D").astype(np.int64))


def _days(s: pd.Series | None, n: int, fill: np.int64) -> IntArray:
    """Day numbers of a datetime column; NaT (or a missing column) → ``fill``."""
    if s is None:
        return np.full(n, fill, dtype=np.int64)
    a = np.asarray(pd.to_datetime(s).to_numpy(dtype="datetime64[ns]"))
    out = a.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(a)] = fill
    return out


def _add_months(day: IntArray, months: IntArray) -> IntArray:
    """Calendar-month arithmetic on day numbers (clipped to the month's end)."""
    d = day.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = d - m.astype("datetime64[D]")
    target = m + months.astype("timedelta64[M]")
    last = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(
        1, "D"
    )
    res = np.minimum(target.astype("datetime64[D]") + dom, last)
    return np.asarray(res.astype(np.int64), dtype=np.int64)


_KEY_DTYPE = np.dtype([("a", "<u8"), ("b", "<u8"), ("c", "<u2")])


def _fixed_keys(s: pd.Series) -> npt.NDArray[np.void] | None:
    """18-byte USCCs as a packed structured array, or None if not all 18 bytes."""
    try:
        arr = pa.array(s.array) if hasattr(s.array, "__arrow_array__") else pa.array(s)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        fb = pc.cast(arr, pa.binary(18))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if fb.null_count:
        return None
    buf = fb.buffers()[1]
    if buf is None:
        return np.zeros(0, dtype=_KEY_DTYPE)
    return np.frombuffer(buf, dtype=_KEY_DTYPE, count=len(fb), offset=fb.offset * 18)


def _mix(k: npt.NDArray[np.void]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        h = k["a"] * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
        h += k["b"] * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
        h += k["c"].astype(np.uint64) * np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(32)
    return np.asarray(h, dtype=np.uint64)


def lookup(keys: pd.Series, values: pd.Series) -> IntArray:
    """Row of ``keys`` holding each of ``values`` (-1 when absent); vectorised.

    ``keys`` must be unique. USCCs (18 bytes) go through a fast 64-bit hash join
    verified byte for byte; anything else through :meth:`pandas.Index.get_indexer`.

    Examples
    --------
    >>> lookup(pd.Series(["a", "b"]), pd.Series(["b", "c", "a"])).tolist()
    [1, -1, 0]
    """
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    kk, vk = _fixed_keys(keys), _fixed_keys(values)
    if kk is not None and vk is not None:
        # sorted tables repeat each USCC in runs: look up each run once
        head = np.ones(len(vk), dtype=bool)
        head[1:] = (
            (vk["a"][1:] != vk["a"][:-1])
            | (vk["b"][1:] != vk["b"][:-1])
            | (vk["c"][1:] != vk["c"][:-1])
        )
        run = np.cumsum(head) - 1
        vk = vk[head]
        hk, hv = _mix(kk), _mix(vk)
        index = pd.Index(hk)
        if index.is_unique:
            pos = np.asarray(index.get_indexer(pd.Index(hv)), dtype=np.int64)
            hit = pos >= 0
            p = np.where(hit, pos, 0)
            same = (
                (kk["a"][p] == vk["a"])
                & (kk["b"][p] == vk["b"])
                & (kk["c"][p] == vk["c"])
            )
            found = np.where(hit & same, pos, -1).astype(np.int64)
            return np.asarray(found[run], dtype=np.int64)
    return np.asarray(
        pd.Index(keys.astype(object)).get_indexer(values.astype(object)), dtype=np.int64
    )


def _pairs(
    unit_ent: IntArray, n_ent: int, row_ent: IntArray
) -> tuple[IntArray, IntArray]:
    """All (row, unit) pairs where the row's entity is the unit's entity."""
    if len(unit_ent) < 2 or bool((unit_ent[1:] > unit_ent[:-1]).all()):
        order = np.arange(len(unit_ent), dtype=np.int64)  # already sorted, unique
    else:
        order = np.argsort(unit_ent, kind="stable")
    counts = np.bincount(unit_ent, minlength=n_ent).astype(np.int64)
    starts = np.cumsum(counts) - counts
    ok = row_ent >= 0
    rows_all = np.flatnonzero(ok)
    c = counts[row_ent[ok]]
    rows = np.repeat(rows_all, c)
    first = np.repeat(np.cumsum(c) - c, c)
    offs = np.arange(len(rows), dtype=np.int64) - first
    units = order[np.repeat(starts[row_ent[ok]], c) + offs]
    return rows.astype(np.int64), units.astype(np.int64)


def _col(df: pd.DataFrame, name: str) -> pd.Series | None:
    return df[name] if name in df.columns else None


def _effective_end(
    scorecard: Scorecard,
    kind: IntArray,
    kind_names: Sequence[str],
    day: IntArray,
    end: IntArray,
    severity: FloatArray,
) -> IntArray:
    """End day of each record: the earlier of ``end_date`` and its default
    publicity end (R21); ``_NEVER`` when neither applies."""
    end = end.copy()
    for rule in scorecard.publicity:
        if rule.kind not in kind_names:
            continue
        m = kind == list(kind_names).index(rule.kind)
        months = np.full(int(m.sum()), -1, dtype=np.int64)
        if rule.months is not None:
            months[:] = rule.months
        if rule.minor_months is not None and rule.minor_max_severity is not None:
            minor = severity[m] <= rule.minor_max_severity
            months[minor] = rule.minor_months
        has = months >= 0
        default_end = np.full(len(months), _NEVER, dtype=np.int64)
        default_end[has] = _add_months(day[m][has], months[has])
        end[m] = np.minimum(end[m], default_end)
    return end


@dataclass(frozen=True)
class _RecordArrays:
    """Records as arrays: entity row, kind code, days (as-of rules applied)."""

    ent: IntArray  # entity row, -1 = unknown entity
    kind: IntArray  # code into kind_names
    kind_names: tuple[str, ...]
    day: IntArray
    end: IntArray  # effective end (end_date or R21 default, the earlier)
    restored: IntArray
    severity: FloatArray
    value_codes: IntArray  # code into value_uniques, -1 = missing
    value_uniques: pd.Series


def _record_arrays(
    entities: pd.DataFrame, rec: pd.DataFrame, scorecard: Scorecard
) -> _RecordArrays:
    n = len(rec)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return _RecordArrays(
            z, z, (), z, z, z, np.zeros(0), z, pd.Series([], dtype="str")
        )
    ent = lookup(entities["uscc"], rec["uscc"])
    unknown = int((ent < 0).sum())
    if unknown:
        logger.warning("Ignoring %d record(s) of unknown entities.", unknown)
    kind, names = _factorize(rec["kind"])
    kind_names = tuple(str(k) for k in names)
    ent[kind < 0] = -1  # a record without a kind is ignored
    day = _days(rec["date"], n, _NEVER)
    severity = _severity(rec)
    end = _effective_end(
        scorecard,
        kind,
        kind_names,
        day,
        _days(_col(rec, "end_date"), n, _NEVER),
        severity,
    )
    val = _col(rec, "value")
    if val is None:
        vcodes, vuniq = np.full(n, -1, dtype=np.int64), pd.Series([], dtype="str")
    else:
        vcodes, vuniq = _factorize(val)
    return _RecordArrays(
        ent=ent,
        kind=kind,
        kind_names=kind_names,
        day=day,
        end=end,
        restored=_days(_col(rec, "restored_on"), n, _NEVER),
        severity=severity,
        value_codes=vcodes,
        value_uniques=vuniq,
    )


def _severity(rec: pd.DataFrame) -> FloatArray:
    col = _col(rec, "severity")
    if col is None:
        return np.full(len(rec), np.nan)
    return np.array(pd.to_numeric(col, errors="coerce"), dtype=np.float64)


def active_flags(
    dataset: Dataset,
    *,
    kinds: Sequence[str],
    unit_ent: IntArray,
    unit_day: IntArray,
    scorecard: Scorecard | None = None,
    min_days: int = 0,
) -> npt.NDArray[np.bool_]:
    """Whether each unit (entity row, as-of day) has a live record of ``kinds``.

    A record is live under the same rules as in scoring (not ended, not
    restored, R21 default periods) but without a look-back window; with
    ``min_days`` it must also have been listed for at least that many days.
    Used for the tier overrides (C2).
    """
    sc = scorecard if scorecard is not None else default_scorecard()
    rec = dataset.records
    out = np.zeros(len(unit_ent), dtype=bool)
    if len(rec) == 0 or len(unit_ent) == 0:
        return out
    ra = _record_arrays(
        dataset.entities, rec[np.array(rec["kind"].isin(list(kinds)), dtype=bool)], sc
    )
    r, u = _pairs(unit_ent, len(dataset.entities), ra.ent)
    ad = unit_day[u]
    live = (ra.day[r] <= ad - min_days) & (ra.end[r] > ad) & (ra.restored[r] > ad)
    out[u[live]] = True
    return out


@dataclass(frozen=True)
class _Prepared:
    """Per-dataset arrays shared by every scoring call (days, joins, codes)."""

    n_ent: int
    est_day: IntArray
    rec: _RecordArrays
    hist_ent: IntArray
    hist_day: IntArray
    hist_result: IntArray  # code into hist_results
    hist_results: tuple[str, ...]


def _prepare(dataset: Dataset, scorecard: Scorecard) -> _Prepared:
    ent = dataset.entities
    hist = dataset.history
    if len(hist):
        hist_ent = lookup(ent["uscc"], hist["uscc"])
        hist_day = _days(hist["date"], len(hist), _NEVER)
        res, names = _factorize(hist["result"])
    else:
        hist_ent = hist_day = res = np.zeros(0, dtype=np.int64)
        names = pd.Series([], dtype="str")
    return _Prepared(
        n_ent=len(ent),
        est_day=_days(ent["established"], len(ent), _ALWAYS),
        rec=_record_arrays(ent, dataset.records, scorecard),
        hist_ent=hist_ent,
        hist_day=hist_day,
        hist_result=res,
        hist_results=tuple(str(x) for x in names),
    )


def _factorize(values: pd.Series) -> tuple[IntArray, pd.Series]:
    """Codes (-1 = missing) and the distinct values, as text (Arrow hashing)."""
    text = values if values.dtype == "str" else values.astype("str")
    arr = pa.array(text.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = arr.dictionary_encode()
    codes = np.asarray(
        enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    uniq = pd.Series(enc.dictionary.to_pandas(types_mapper=_STR_TYPES.get))
    return codes, uniq


def labels_from_codes(codes: npt.ArrayLike, names: Sequence[str]) -> pd.Series:
    """A text column ``names[codes]`` built in Arrow (fast for millions of rows).

    Examples
    --------
    >>> labels_from_codes([1, 0, 1], ["A", "B"]).tolist()
    ['B', 'A', 'B']
    """
    idx = pa.array(np.asarray(codes, dtype=np.int32))
    dictionary = pa.array(list(names), type=pa.large_string())
    arr = pa.DictionaryArray.from_arrays(idx, dictionary).cast(pa.large_string())
    return pd.Series(arr.to_pandas(types_mapper=_STR_TYPES.get))


def _category_map(ind: Indicator, uniq: pd.Series) -> IntArray:
    """Bin of each distinct value, plus a last slot for missing (code -1).

    Bins: a listed category, K = other, K+1 = missing. Index the result with
    the codes of :func:`_factorize`.
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
    codes, uniq = _factorize(values)
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


def _relationship_counts(
    ind: Indicator,
    ent: pd.DataFrame,
    prep: _Prepared,
    unit_ent: IntArray,
    unit_day: IntArray,
) -> FloatArray | None:
    """Other entities established by each unit's date sharing the column value."""
    col = ind.column or ""
    if col not in ent.columns:
        return None
    codes, uniq = _factorize(ent[col])
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(uniq.array)))
    norm = pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.large_string()), norm)
    ucodes, _ = _factorize(pd.Series(pd.arrays.ArrowStringArray(norm), dtype="str"))
    group = np.append(ucodes, -1)[codes]  # entity -> group (-1 = no value)
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
class _Evaluation:
    values: dict[str, FloatArray]
    bins: dict[str, IntArray]
    inactive: tuple[str, ...]


def _evaluate(
    dataset: Dataset,
    scorecard: Scorecard,
    prep: _Prepared,
    unit_ent: IntArray,
    unit_day: IntArray,
) -> _Evaluation:
    """Statistic and bin of every indicator for every unit (entity, as-of day)."""
    n = len(unit_ent)
    ent = dataset.entities
    values: dict[str, FloatArray] = {}
    bins: dict[str, IntArray] = {}
    inactive: list[str] = []
    rec_inds = [i for i in scorecard.indicators if i.source == "records"]
    ra = prep.rec
    # live (record, unit) pairs, grouped by kind so that each indicator only
    # touches the records of its own kinds
    if rec_inds and len(ra.day):
        r, u = _pairs(unit_ent, prep.n_ent, ra.ent)
        ad = unit_day[u]
        live = (ra.day[r] <= ad) & (ra.end[r] > ad) & (ra.restored[r] > ad)
        r = r[live]
        by_kind = np.argsort(ra.kind[r].astype(np.int16), kind="stable")  # radix
        r, u, ad = r[by_kind], u[live][by_kind], ad[live][by_kind]
        rday = ra.day[r]
        counts = np.bincount(ra.kind[r], minlength=len(ra.kind_names))
        ends = np.cumsum(counts)
        kind_range = {
            k: (int(ends[i] - counts[i]), int(ends[i]))
            for i, k in enumerate(ra.kind_names)
        }
    else:
        r = u = ad = rday = np.zeros(0, dtype=np.int64)
        kind_range = {}
    if len(prep.hist_day) and any(i.source == "history" for i in scorecard.indicators):
        hr, hu = _pairs(unit_ent, prep.n_ent, prep.hist_ent)
        had = unit_day[hu]
        hday = prep.hist_day[hr]
        hlive = hday <= had
        hr, hu, had, hday = hr[hlive], hu[hlive], had[hlive], hday[hlive]
    else:
        hr = hu = had = hday = np.zeros(0, dtype=np.int64)

    for ind in scorecard.indicators:
        x: FloatArray
        b: IntArray
        if ind.source == "records":
            sel_idx = np.concatenate(
                [np.zeros(0, dtype=np.int64)]
                + [np.arange(*kind_range[k]) for k in ind.kinds if k in kind_range]
            ).astype(np.int64)
            if ind.lookback_days is not None:
                sel_idx = sel_idx[rday[sel_idx] > ad[sel_idx] - ind.lookback_days]
            m = sel_idx  # positions in the live pairs
            mu = u[m]
            if ind.statistic == "count":
                x = np.bincount(mu, minlength=n).astype(np.float64)
            elif ind.statistic in ("severity_sum", "severity_max"):
                sev = np.nan_to_num(ra.severity[r[m]], nan=1.0)
                if ind.statistic == "severity_sum":
                    x = np.bincount(mu, weights=sev, minlength=n).astype(np.float64)
                else:
                    x = np.zeros(n, dtype=np.float64)
                    np.maximum.at(x, mu, sev)
            else:  # latest_value
                rr = r[m]
                vmap = _category_map(ind, ra.value_uniques)
                vcode = vmap[ra.value_codes[rr]]
                order = np.lexsort((vcode, rday[m], mu))
                last = np.ones(len(order), dtype=bool)
                last[:-1] = mu[order][1:] != mu[order][:-1]
                sel = order[last]
                b = np.full(n, len(ind.categories) + 1, dtype=np.int64)
                b[mu[sel]] = vcode[sel]
                x = b.astype(np.float64)
                values[ind.name] = x
                bins[ind.name] = b
                continue
            b = _numeric_bins(ind, x)
        elif ind.source == "history":
            probs = [
                i
                for i, res in enumerate(prep.hist_results)
                if res in scorecard.problem_results
            ]
            hm = np.isin(prep.hist_result[hr], np.asarray(probs, dtype=np.int64))
            if ind.lookback_days is not None:
                hm &= hday > had - ind.lookback_days
            x = np.bincount(hu[hm], minlength=n).astype(np.float64)
            b = _numeric_bins(ind, x)
        elif ind.source == "entities":
            if ind.statistic == "age_years":
                if ind.column == "established":
                    est = prep.est_day
                else:
                    s = _entity_value(ind, ent)
                    est = _days(s, len(ent), _ALWAYS)
                e = est[unit_ent]
                x = np.where(e == _ALWAYS, np.nan, (unit_day - e) / 365.25)
                x = np.where(np.isnan(x), x, np.maximum(x, 0.0))
                b = _numeric_bins(ind, x)
            elif ind.categorical:
                codes_e = _category_codes(ind, _entity_value(ind, ent))
                b = codes_e[unit_ent]
                x = b.astype(np.float64)
            else:
                s = pd.to_numeric(_entity_value(ind, ent), errors="coerce")
                x = s.to_numpy(dtype=np.float64, na_value=np.nan)[unit_ent]
                b = _numeric_bins(ind, x)
        else:  # relationship
            cnt = _relationship_counts(ind, ent, prep, unit_ent, unit_day)
            if cnt is None:
                inactive.append(ind.name)
                x = np.zeros(n, dtype=np.float64)
            else:
                x = cnt
            b = _numeric_bins(ind, x)
        values[ind.name] = x
        bins[ind.name] = b
    return _Evaluation(values=values, bins=bins, inactive=tuple(inactive))


def _points_matrix(scorecard: Scorecard, ev: _Evaluation, n: int) -> FloatArray:
    """Points of every unit, shape (n_indicators, n_units)."""
    out = np.zeros((len(scorecard.indicators), n), dtype=np.float64)
    for j, ind in enumerate(scorecard.indicators):
        if ind.name not in ev.inactive:
            out[j] = ind.bin_points()[ev.bins[ind.name]]
    return out


# --------------------------------------------------------------------------- public


@dataclass(frozen=True)
class ScoreResult:
    """Scores as of a date, with per-indicator contributions.

    Attributes
    ----------
    table : DataFrame
        ``uscc``, ``score`` and one ``pts_<indicator>`` column per indicator,
        sorted by ``uscc``: one row per entity established on or before
        ``as_of``.
    details : DataFrame
        ``uscc`` and the raw statistic of each indicator (count, severity,
        age in years, category code ...), same rows as ``table``.
    as_of : Timestamp
    scorecard : Scorecard
    inactive : tuple of str
        Indicators skipped because their column has no data (scored 0).
    n_not_established : int
        Entities established after ``as_of`` (not scored).
    """

    table: pd.DataFrame
    details: pd.DataFrame
    as_of: pd.Timestamp
    scorecard: Scorecard
    inactive: tuple[str, ...] = ()
    n_not_established: int = 0

    def summary(self) -> pd.DataFrame:
        """Per indicator: dimension, active, share of entities with non-zero points,
        mean, min and max points; plus a ``score`` row."""
        rows = []
        for ind in self.scorecard.indicators:
            p = self.table[f"pts_{ind.name}"]
            rows.append(
                {
                    "indicator": ind.name,
                    "dimension": ind.dimension,
                    "active": ind.name not in self.inactive,
                    "share_nonzero": float((p != 0).mean()) if len(p) else 0.0,
                    "mean": float(p.mean()) if len(p) else 0.0,
                    "min": float(p.min()) if len(p) else 0.0,
                    "max": float(p.max()) if len(p) else 0.0,
                }
            )
        s = self.table["score"]
        rows.append(
            {
                "indicator": "score",
                "dimension": "",
                "active": True,
                "share_nonzero": float((s != 0).mean()) if len(s) else 0.0,
                "mean": float(s.mean()) if len(s) else 0.0,
                "min": float(s.min()) if len(s) else 0.0,
                "max": float(s.max()) if len(s) else 0.0,
            }
        )
        return pd.DataFrame(rows)


def score_entities(
    dataset: Dataset,
    scorecard: Scorecard | None = None,
    *,
    as_of: date | str | pd.Timestamp,
) -> ScoreResult:
    """Score every entity established on or before ``as_of``.

    Vectorised over entities and records (no per-entity Python loop).

    Parameters
    ----------
    dataset : Dataset
        A validated dataset (:func:`creditsup.schemas.validate_dataset`).
    scorecard : Scorecard, optional
        Defaults to :func:`default_scorecard`.
    as_of : date, str or Timestamp
        Only what was known on this day counts (see the module docstring).

    Returns
    -------
    ScoreResult
        ``table`` with ``uscc``, ``score`` and ``pts_<indicator>``.

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ent = pd.DataFrame({"uscc": ["914403001922038216", "91330100716105852F"],
    ...     "entity_type": ["enterprise", "individual"], "industry": ["F5211", "H6210"],
    ...     "established": pd.to_datetime(["2010-05-01", "2018-01-31"])})
    >>> rec = pd.DataFrame({"uscc": ["914403001922038216"], "kind": ["penalty"],
    ...     "date": pd.to_datetime(["2024-03-01"]), "severity": [3.0]})
    >>> res = score_entities(Dataset(entities=ent, records=rec), as_of="2025-01-01")
    >>> res.table[["uscc", "score", "pts_penalties"]].values.tolist()
    [['91330100716105852F', 8.0, 0.0], ['914403001922038216', 29.0, 12.0]]
    """
    sc = scorecard if scorecard is not None else default_scorecard()
    ts = as_of_timestamp(as_of)
    day = to_day(ts)
    prep = _prepare(dataset, sc)
    exists = prep.est_day <= day
    ids = dataset.entities["uscc"]
    if ids.is_monotonic_increasing:
        unit_ent = np.flatnonzero(exists).astype(np.int64)
    else:
        order = np.argsort(ids.to_numpy(dtype=object), kind="stable").astype(np.int64)
        unit_ent = order[exists[order]]
    unit_day = np.full(len(unit_ent), day, dtype=np.int64)
    ev = _evaluate(dataset, sc, prep, unit_ent, unit_day)
    pts = _points_matrix(sc, ev, len(unit_ent))
    uscc = ids.iloc[unit_ent].reset_index(drop=True)
    names = [i.name for i in sc.indicators]
    table = pd.DataFrame(pts.T, columns=[f"pts_{n}" for n in names], copy=False)
    table.insert(0, "uscc", uscc)
    table.insert(1, "score", np.round(sc.base_points + pts.sum(axis=0), 6))
    vals = np.zeros((len(names), len(unit_ent)), dtype=np.float64)
    for j, name in enumerate(names):
        vals[j] = ev.values[name]
    details = pd.DataFrame(vals.T, columns=names, copy=False)
    details.insert(0, "uscc", uscc)
    n_new = int((~exists).sum())
    if n_new:
        logger.info(
            "%d entities established after %s are not scored.", n_new, ts.date()
        )
    return ScoreResult(
        table=table,
        details=details,
        as_of=ts,
        scorecard=sc,
        inactive=ev.inactive,
        n_not_established=n_new,
    )


def reason_codes(scores: ScoreResult, *, top: int = 3) -> pd.Series:
    """The ``top`` indicators that cost each entity the most points, ';'-joined.

    Only indicators with positive points are named; ties go to the earlier
    indicator of the scorecard. Vectorised (the distinct combinations are
    joined once).

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ent = pd.DataFrame({"uscc": ["914403001922038216"], "entity_type": ["other"],
    ...     "industry": ["A0111"], "established": pd.to_datetime(["2000-01-01"])})
    >>> res = score_entities(Dataset(entities=ent), as_of="2025-01-01")
    >>> reason_codes(res).tolist()
    ['entity_type;industry;registered_capital']
    """
    names = np.asarray(
        [i.name for i in scores.scorecard.indicators] + [""], dtype=object
    )
    k = len(names) - 1
    tab = scores.table
    if k == 0 or len(tab) == 0:
        return pd.Series([""] * len(tab), index=tab.index, dtype="str", name="reasons")
    pts = tab[[f"pts_{n}" for n in names[:-1]]].to_numpy(dtype=np.float64, copy=True)
    rows = np.arange(len(tab))
    picks = []
    for _ in range(min(top, k)):  # argmax takes the first maximum: earlier wins
        j = np.argmax(pts, axis=1)
        best = pts[rows, j]
        picks.append(np.where(best > 0, j, k))
        pts[rows, j] = -np.inf
    order = np.column_stack(picks)
    base = k + 1
    code = np.zeros(len(tab), dtype=np.int64)
    for j in range(order.shape[1]):
        code = code * base + order[:, j]
    inv, uniq = pd.factorize(code, sort=True)
    labels = []
    for c in np.asarray(uniq).tolist():  # one label per distinct combination
        parts = []
        for _ in range(order.shape[1]):
            parts.append(names[c % base])
            c //= base
        labels.append(";".join(p for p in reversed(parts) if p))
    out = labels_from_codes(inv, labels).rename("reasons")
    out.index = tab.index
    return out
