"""The scorecard configuration: indicators, publicity rules, built-in profiles.

A :class:`Scorecard` is a frozen list of :class:`Indicator` objects plus the
default publicity periods of record kinds (:class:`PublicityRule`, R21). The
defaults are the built-in ``national`` profile; :func:`default_scorecard`
loads any built-in profile (:func:`scorecard_profiles` lists them) and
:func:`creditsup.config.load_config` loads a scorecard from a TOML file.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from creditsup.config import FrozenModel, parse_config
from creditsup.exceptions import ConfigError
from creditsup.schemas import HistoryResult, RecordKind
from creditsup.scoring._arrays import FloatArray
from creditsup.scoring._profiles import DEFAULT_PROFILE, profile_data, profile_names

__all__ = [
    "AGGREGATES",
    "RELATIONSHIP_COLUMNS",
    "Indicator",
    "PublicityRule",
    "Scorecard",
    "default_scorecard",
    "scorecard_profiles",
]

Dimension = Literal["basic", "dynamic", "supervision", "relationship", "social"]
Source = Literal["records", "history", "entities", "relationship"]
Statistic = Literal[
    "count",
    "severity_sum",
    "severity_max",
    "latest_value",
    "value",
    "age_years",
    "share",
    "days_since",
    "sum",
    "mean",
    "max",
    "last",
    "age_days",
]
Monotone = Literal["increasing", "decreasing", "none"]
#: A finite bin edge (no inf, no NaN).
Edge = Annotated[float, Field(allow_inf_nan=False)]

#: Statistics that aggregate a numeric column of the records or history rows.
AGGREGATES = ("sum", "mean", "max", "last")
_ROWS = ("count", "share", "days_since", *AGGREGATES)
#: Statistics each source offers.
_STATISTICS: dict[str, tuple[str, ...]] = {
    "records": (*_ROWS, "severity_sum", "severity_max", "latest_value"),
    "history": _ROWS,
    "entities": ("value", "age_years", "age_days"),
    "relationship": ("count",),
}
#: Record statistics that a further record can only raise.
_ADDITIVE = ("count", "severity_sum", "severity_max")
#: Entity columns a relationship indicator can group by.
RELATIONSHIP_COLUMNS = ("address", "legal_rep")


def _profile_default(key: str) -> Any:
    return profile_data(DEFAULT_PROFILE)[key]


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

    kind: RecordKind = Field(
        description="The record kind this publicity period applies to."
    )
    months: int | None = Field(
        default=36,
        ge=0,
        description="Months a record of this kind counts after it ends (R21 publicity "
        "period); none: for ever.",
    )
    minor_months: int | None = Field(
        default=None,
        ge=0,
        description="Shorter period for minor records (severity <= minor_max_severity).",
    )
    minor_max_severity: float | None = Field(
        default=None, description="Highest severity that counts as minor."
    )

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
        ``history``: ``count`` (inspections whose result is a problem, or is
        in ``results``); both sources also offer ``share`` (the rows counted
        over all rows of the source in the window; missing when there are
        none), ``days_since`` (days since the latest row counted; missing when
        none) and the aggregates ``sum``, ``mean``, ``max`` and ``last`` (the
        value on the latest day) of the numeric ``column`` over the rows
        counted (for history without ``results``: every inspection; ``sum`` is
        0 and the others missing when there is no row);
        ``entities``: ``value`` (the column itself), ``age_years`` or
        ``age_days`` (years or days since the date in ``column``);
        ``relationship``: ``count`` (other entities sharing the non-empty
        ``column`` value).
    kinds : tuple of str
        Record kinds counted (``records`` only).
    results : tuple of str
        ``history`` only: the results counted (empty: the scorecard's
        ``problem_results``, or every result for an aggregate).
    column : str or None
        Entity column (``entities`` and ``relationship``), or the numeric
        column of the records or history that an aggregate reads.
    lookback_days : int or None
        Only records or inspections dated within this many days count.
    prior_rows, prior_value : float
        Shrinkage of a ``share`` or a ``mean``: ``prior_rows`` pseudo-rows of
        value ``prior_value`` are added, so ``(counted + prior_rows *
        prior_value) / (rows + prior_rows)`` (one inspection says little;
        still missing when there is no row). Default 0: no shrinkage.
    half_life_days : float or None
        A ``count`` or ``sum`` of history or records where a row ``d`` days old
        weighs ``0.5 ** (d / half_life_days)`` (recent rows count more).
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

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="Indicator id (reason code, C4)."
    )
    dimension: Dimension = Field(description="SAMR dimension the indicator belongs to.")
    source: Source = Field(description="Table it reads: entities, records or history.")
    statistic: Statistic = Field(
        "count", description="What it computes from its rows (count, share, value...)."
    )
    kinds: tuple[RecordKind, ...] = Field(
        (), description="Record kinds it counts (source = records)."
    )
    results: tuple[HistoryResult, ...] = Field(default=(), exclude_if=lambda v: not v)
    column: str | None = Field(None, description="Column it reads, if any.")
    lookback_days: int | None = Field(
        default=None, gt=0, description="Window before the scoring date; none: all."
    )
    prior_rows: float = Field(
        default=0.0, ge=0, allow_inf_nan=False, exclude_if=lambda v: v == 0
    )
    prior_value: float = Field(
        default=0.0, allow_inf_nan=False, exclude_if=lambda v: v == 0
    )
    half_life_days: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, exclude_if=lambda v: v is None
    )
    edges: tuple[Edge, ...] = Field((), description="Bin edges of a numeric statistic.")
    points: tuple[float, ...] = Field(
        (0.0,), description="Risk points per bin (one more than edges)."
    )
    categories: dict[str, float] = Field(
        default_factory=dict, description="Risk points per category value."
    )
    match: Literal["exact", "prefix"] = Field(
        "exact", description="Categories match the value exactly or as a prefix."
    )
    other_points: float = Field(0.0, description="Points of a category not listed.")
    missing_points: float = Field(0.0, description="Points when the value is missing.")
    monotone: Monotone = Field(
        "none", description="Required trend of the points (checked on load)."
    )
    description: str = Field("", description="What the indicator means (reports).")
    reference: str = Field("", description="Where the indicator comes from.")

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        problem = self._first_problem()
        if problem is not None:
            raise ValueError(problem)
        return self

    def _first_problem(self) -> str | None:
        """The first cross-field rule this indicator breaks (None: all hold)."""
        who = f"indicator '{self.name}'"
        allowed = _STATISTICS[self.source]
        cats = bool(self.categories)
        ordered = list(self.categories.values()) if cats else list(self.points)
        step = np.diff(np.asarray(ordered, dtype=float))
        n_points = len(self.edges) + 1
        rules = (
            (
                self.statistic not in allowed,
                f"The 'statistic' of {who} must be one of {list(allowed)} for "
                f"source '{self.source}'. Got {self.statistic!r} instead.",
            ),
            (
                self.source == "records" and not self.kinds,
                f"The 'kinds' of {who} must list at least one record kind. "
                "Got () instead.",
            ),
            (
                self.source in ("entities", "relationship") and not self.column,
                f"The 'column' of {who} must name an entity column. Got None instead.",
            ),
            (
                self.statistic in AGGREGATES and not self.column,
                f"The 'column' of {who} must name a numeric {self.source} column "
                f"for statistic '{self.statistic}'. Got None instead.",
            ),
            (
                bool(self.results) and self.source != "history",
                f"The 'results' of {who} apply to source 'history' only. Got "
                f"{list(self.results)} for source '{self.source}' instead.",
            ),
            (
                self.source == "relationship"
                and self.column not in RELATIONSHIP_COLUMNS,
                f"The 'column' of {who} must be one of {list(RELATIONSHIP_COLUMNS)}. "
                f"Got {self.column!r} instead.",
            ),
            (
                self.prior_rows > 0 and self.statistic not in ("share", "mean"),
                f"The 'prior_rows' of {who} apply to statistics 'share' and 'mean' "
                f"only. Got statistic {self.statistic!r} instead.",
            ),
            (
                self.half_life_days is not None
                and (
                    self.statistic not in ("count", "sum")
                    or self.source not in ("history", "records")
                ),
                f"The 'half_life_days' of {who} apply to statistics 'count' and "
                f"'sum' of history or records only. Got statistic "
                f"{self.statistic!r} of source '{self.source}' instead.",
            ),
            (
                self.statistic == "latest_value" and not cats,
                f"The 'categories' of {who} must be set for statistic "
                "'latest_value'. Got {} instead.",
            ),
            (
                cats and bool(self.edges),
                f"The 'edges' of {who} must be empty when 'categories' is set. "
                f"Got {list(self.edges)} instead.",
            ),
            (
                not cats and bool((np.diff(self.edges) <= 0).any()),
                f"The 'edges' of {who} must be strictly increasing. "
                f"Got {list(self.edges)} instead.",
            ),
            (
                not cats and len(self.points) != n_points,
                f"The 'points' of {who} must have len(edges) + 1 = {n_points} "
                f"values. Got {len(self.points)} instead.",
            ),
            (
                (self.monotone == "increasing" and bool((step < 0).any()))
                or (self.monotone == "decreasing" and bool((step > 0).any())),
                f"The points of {who} must be {self.monotone} along its bins. "
                f"Got {ordered} instead.",
            ),
        )
        return next((text for broken, text in rules if broken), None)

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

    name: str = Field(
        default_factory=lambda: str(_profile_default("name")),
        description="Scorecard name (recorded in plans and reports).",
    )
    version: str = Field(
        default_factory=lambda: str(_profile_default("version")),
        description="Scorecard version.",
    )
    base_points: float = Field(0.0, description="Points every entity starts with.")
    problem_results: tuple[HistoryResult, ...] = Field(
        default_factory=lambda: tuple(_profile_default("problem_results")),
        description="history.result values that count as a problem found (R19).",
    )
    publicity: tuple[PublicityRule, ...] = Field(
        default_factory=lambda: tuple(
            PublicityRule.model_validate(p) for p in _profile_default("publicity")
        ),
        description="Publicity period per record kind (R21): how long a record counts.",
    )
    indicators: tuple[Indicator, ...] = Field(
        default_factory=lambda: tuple(
            Indicator.model_validate(i) for i in _profile_default("indicators")
        ),
        description="The indicators and their points; a tier's reasons name them (C4).",
    )

    @model_validator(mode="after")
    def _check(self) -> Scorecard:
        names = [i.name for i in self.indicators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(
                f"The indicator names of a Scorecard must be unique. Got duplicates "
                f"{dup} instead."
            )
        kinds = [p.kind for p in self.publicity]
        if len(set(kinds)) != len(kinds):
            raise ValueError(
                f"The publicity rules of a Scorecard must name each kind once. Got "
                f"{kinds} instead."
            )
        return self

    def indicator(self, name: str) -> Indicator:
        """The indicator called ``name``."""
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)

    def negative_kinds(self) -> frozenset[str]:
        """Record kinds that can only add risk points.

        A kind is negative when every indicator that reads it counts records
        or sums or maxes severities and has ``monotone='increasing'`` points, so adding such a
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
            good = ind.monotone == "increasing" and ind.statistic in _ADDITIVE
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
def default_scorecard(profile: str = DEFAULT_PROFILE) -> Scorecard:
    """A built-in scorecard profile (``profiles/<profile>.toml``).

    Parameters
    ----------
    profile : str, default 'national'
        One of :func:`scorecard_profiles`.

    Raises
    ------
    ConfigError
        ``profile`` is not a built-in profile; the message lists them.

    Examples
    --------
    >>> default_scorecard() == Scorecard()
    True
    >>> default_scorecard("nowhere")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'profile' must be one of the built-in scorecard profiles [...'national'...]. Got 'nowhere' instead.
    """
    return parse_config(Scorecard, profile_data(profile))


def scorecard_profiles() -> tuple[str, ...]:
    """The names of the built-in scorecard profiles, sorted.

    Examples
    --------
    >>> "national" in scorecard_profiles()
    True
    """
    return profile_names()
