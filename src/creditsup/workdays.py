"""Working days on the official Chinese calendar, for publication deadlines (R18).

A check's result is due 20 working days after the check ends (R18), counted
on the official calendar with its make-up workdays (调休):
:func:`publication_deadline` and :func:`due_dates` read it from the maintained
``chinese_calendar`` package (PyPI ``chinesecalendar``, extra ``[calendar]``),
and a :class:`WorkCalendar` supplies years the package does not know yet.
The names are also importable from :mod:`creditsup.publish`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, model_validator

from creditsup._optional import require
from creditsup.config import FrozenModel
from creditsup.exceptions import ConfigError

__all__ = [
    "WorkCalendar",
    "due_dates",
    "is_workday",
    "publication_deadline",
    "working_days_between",
]


class WorkCalendar(FrozenModel):
    """Official holidays and make-up workdays (调休) for years you supply.

    For every year it covers, this calendar decides alone: a day is a working
    day when it is a make-up workday, or a Monday–Friday that is not a holiday.
    Other years come from the ``chinese_calendar`` package (``use_package``),
    and a year known to neither raises a :class:`ConfigError`.

    Parameters
    ----------
    holidays : set of date
        Days off (法定节假日 and the weekdays moved into the holiday).
    workdays : set of date
        Make-up workdays: Saturdays or Sundays that are working days (调休).
    years : set of int, optional
        The years this calendar covers; default: the years of the dates given.
        List a year with no holiday at all here explicitly.
    use_package : bool
        Fall back to ``chinese_calendar`` for the other years.

    Examples
    --------
    A calendar for 2027 written from the State Council's notice:

    >>> cal = WorkCalendar(
    ...     holidays=["2027-01-01", "2027-10-01", "2027-10-04"],
    ...     workdays=["2027-09-26"], use_package=False)
    >>> sorted(cal.covered_years)
    [2027]
    >>> is_workday("2027-09-26", calendar=cal), is_workday("2027-10-04", calendar=cal)
    (True, False)
    """

    holidays: frozenset[_dt.date] = Field(default_factory=frozenset)
    workdays: frozenset[_dt.date] = Field(default_factory=frozenset)
    years: frozenset[int] = Field(default_factory=frozenset)
    use_package: bool = True

    @model_validator(mode="after")
    def _check(self) -> WorkCalendar:
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(
                f"The date {both[0].isoformat()} in WorkCalendar is both a holiday and "
                "a make-up workday; list it once."
            )
        weekday = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekday:
            d = weekday[0]
            raise ValueError(
                f"The make-up workday {d.isoformat()} in WorkCalendar is a "
                f"{d.strftime('%A')}; make-up workdays (调休) fall on a Saturday or "
                "Sunday. Got a weekday instead."
            )
        if self.years:
            outside = sorted(
                d for d in self.holidays | self.workdays if d.year not in self.years
            )
            if outside:
                raise ValueError(
                    f"The date {outside[0].isoformat()} in WorkCalendar lies outside its "
                    f"'years' {sorted(self.years)}."
                )
        return self

    @property
    def covered_years(self) -> frozenset[int]:
        """The years this calendar decides (``years``, or the years of its dates)."""
        if self.years:
            return self.years
        return frozenset(d.year for d in self.holidays | self.workdays)

    @classmethod
    def from_table(
        cls, table: pd.DataFrame, *, use_package: bool = True
    ) -> WorkCalendar:
        """Build a calendar from a table with columns ``date`` and ``kind``.

        ``kind`` is ``holiday`` (or ``休``) or ``workday`` (or ``班``), the way
        the State Council's notice lists them.

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"date": ["2027-02-06", "2027-02-08"], "kind": ["班", "休"]})
        >>> WorkCalendar.from_table(t).workdays
        frozenset({datetime.date(2027, 2, 6)})
        """
        missing = {"date", "kind"} - set(table.columns)
        if missing:
            raise ConfigError(
                f"A calendar table needs the columns 'date' and 'kind'. Missing {sorted(missing)}."
            )
        dates = pd.to_datetime(table["date"], errors="coerce")
        if bool(dates.isna().any()):
            bad = table.loc[dates.isna(), "date"].iloc[0]
            raise ConfigError(
                f"The calendar 'date' must be YYYY-MM-DD. Got {bad!r} instead."
            )
        kind = table["kind"].astype("string").str.strip().str.lower()
        kind = kind.replace({"休": "holiday", "班": "workday"})
        unknown = ~kind.isin(["holiday", "workday"])
        if bool(unknown.any()):
            bad = table.loc[unknown, "kind"].iloc[0]
            raise ConfigError(
                f"The calendar 'kind' must be 'holiday' or 'workday'. Got {bad!r} instead."
            )
        days = dates.dt.date
        return cls(
            holidays=frozenset(days[kind.eq("holiday")]),
            workdays=frozenset(days[kind.eq("workday")]),
            use_package=use_package,
        )


def _as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise ConfigError(
            f"Expected a date (YYYY-MM-DD). Got {value!r} instead."
        ) from None


def _package() -> Any:
    return require("chinese_calendar", "calendar", package="chinesecalendar")


def _year_days(
    year: int, calendar: WorkCalendar | None
) -> tuple[set[_dt.date], set[_dt.date]]:
    """Holidays and make-up workdays of one year, or a clear error."""
    if calendar is not None and year in calendar.covered_years:
        return (
            {d for d in calendar.holidays if d.year == year},
            {d for d in calendar.workdays if d.year == year},
        )
    if calendar is not None and not calendar.use_package:
        raise ConfigError(
            f"No holiday calendar for {year}: the WorkCalendar covers "
            f"{sorted(calendar.covered_years)} and use_package is False. Add {year} "
            "to the WorkCalendar."
        )
    cc = _package()
    known = [d.year for d in cc.holidays]
    lo, hi = min(known), max(known)
    if not lo <= year <= hi:
        raise ConfigError(
            f"No official holiday calendar for {year}: the installed chinesecalendar "
            f"knows {lo}–{hi} and no WorkCalendar covers {year}. Pass "
            f"calendar=WorkCalendar(holidays=[...], workdays=[...]) with the State "
            f"Council's {year} holiday notice, or upgrade chinesecalendar."
        )
    return (
        {d for d in cc.holidays if d.year == year},
        {d for d in cc.workdays if d.year == year},
    )


_Days = npt.NDArray[np.datetime64]


def _working_days_of_year(
    year: int, calendar: WorkCalendar | None, start: _dt.date | None = None
) -> _Days:
    holidays, workdays = _year_days(year, calendar)
    first = max(_dt.date(year, 1, 1), start) if start else _dt.date(year, 1, 1)
    days = np.arange(
        np.datetime64(first, "D"),
        np.datetime64(_dt.date(year + 1, 1, 1), "D"),
        dtype="datetime64[D]",
    )
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
    hol = np.array(sorted(holidays), dtype="datetime64[D]")
    mk = np.array(sorted(workdays), dtype="datetime64[D]")
    work = ((weekday < 5) & ~np.isin(days, hol)) | np.isin(days, mk)
    return days[work]


def _working_days_from(
    start: _dt.date, last: _dt.date, n: int, calendar: WorkCalendar | None
) -> _Days:
    """Sorted working days from ``start`` on, holding ≥ ``n`` after ``last``.

    Years are loaded one at a time, so a year is needed (and must be known)
    only when a deadline reaches into it.
    """
    blocks: list[_Days] = []
    after = 0
    year = start.year
    limit = np.datetime64(last, "D")
    while True:
        block = _working_days_of_year(
            year, calendar, start if year == start.year else None
        )
        blocks.append(block)
        after += int((block > limit).sum())
        if after >= n and year >= last.year:
            break
        year += 1
    return np.concatenate(blocks)


def working_days_between(
    start: Any, end: Any, *, calendar: WorkCalendar | None = None
) -> list[_dt.date]:
    """The working days from ``start`` to ``end``, both included (调休 included).

    Examples
    --------
    >>> [d.isoformat() for d in working_days_between("2025-02-03", "2025-02-09")]
    ['2025-02-05', '2025-02-06', '2025-02-07', '2025-02-08']
    """
    a, b = _as_date(start), _as_date(end)
    if b < a:
        return []
    blocks = [
        _working_days_of_year(y, calendar, a if y == a.year else None)
        for y in range(a.year, b.year + 1)
    ]
    days = np.concatenate(blocks)
    days = days[days <= np.datetime64(b, "D")]
    return [d.astype(_dt.date) for d in days]


def is_workday(day: Any, *, calendar: WorkCalendar | None = None) -> bool:
    """True when ``day`` is a working day on the official calendar (调休 included).

    Examples
    --------
    >>> is_workday("2024-10-12")  # a Saturday made up for the National Day week
    True
    >>> is_workday("2024-10-07")  # a Monday inside the National Day holiday
    False
    """
    d = _as_date(day)
    days = _working_days_of_year(d.year, calendar, d)
    return bool(len(days) and days[0] == np.datetime64(d, "D"))


def publication_deadline(
    check_date: Any,
    *,
    working_days: int = 20,
    calendar: WorkCalendar | None = None,
) -> _dt.date:
    """The last day to publish a check's result: ``working_days`` after it (R18).

    The day of the check does not count: the deadline is the ``working_days``-th
    working day after ``check_date`` (自检查结束之日起 20 个工作日内), on the
    official calendar with its make-up workdays (调休).

    Parameters
    ----------
    check_date : date, datetime, str or Timestamp
        The day the check ended.
    working_days : int
        The allowed number of working days (R18: 20).
    calendar : WorkCalendar, optional
        Holidays for years ``chinese_calendar`` does not know yet (or to
        override it); see :class:`WorkCalendar`.

    Returns
    -------
    datetime.date

    Raises
    ------
    ConfigError
        A year the deadline reaches is known neither to ``calendar`` nor to
        the package.
    MissingDependencyError
        ``chinese_calendar`` is needed (a year not in ``calendar``) and missing.

    Examples
    --------
    A check ending on Monday 23 September 2024 crosses the National Day week;
    Sunday 29 September and Saturday 12 October were make-up workdays:

    >>> publication_deadline("2024-09-23")
    datetime.date(2024, 10, 24)
    """
    if (
        isinstance(working_days, bool)
        or not isinstance(working_days, int | np.integer)
        or working_days < 1
    ):
        raise ConfigError(
            f"The 'working_days' must be a positive integer. Got {working_days!r} instead."
        )
    d = _as_date(check_date)
    days = _working_days_from(d + _dt.timedelta(days=1), d, int(working_days), calendar)
    return days[int(working_days) - 1].astype(_dt.date)  # type: ignore[no-any-return]


def due_dates(
    frame: pd.DataFrame,
    *,
    date_column: str = "date",
    published_column: str | None = None,
    as_of: Any = None,
    working_days: int = 20,
    calendar: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Add the publication deadline (R18) and its status to a table of checks.

    Vectorised: one calendar per year, then a sorted search for all rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Checks, e.g. the ``history`` table or inspection results; not modified.
    date_column : str
        The day each check ended.
    published_column : str, optional
        The day each result was published (NaT when not yet).
    as_of : date, optional
        The reference day for unpublished results (``overdue`` once past due).
    working_days : int
        R18: 20.
    calendar : WorkCalendar, optional
        See :func:`publication_deadline`.

    Returns
    -------
    pandas.DataFrame
        A copy with ``due_date`` (datetime64) and, when ``published_column`` or
        ``as_of`` is given, ``publication_status``: ``on_time``, ``late``
        (published after the deadline), ``overdue`` (unpublished, deadline
        passed) or ``pending``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"date": ["2025-01-20", "2025-03-03"],
    ...                   "published_on": ["2025-02-28", None]})
    >>> out = due_dates(t, published_column="published_on", as_of="2025-04-30")
    >>> out["due_date"].dt.strftime("%Y-%m-%d").tolist()
    ['2025-02-21', '2025-03-31']
    >>> out["publication_status"].tolist()
    ['late', 'overdue']
    """
    if working_days < 1:
        raise ConfigError(
            f"The 'working_days' must be a positive integer. Got {working_days!r} instead."
        )
    if date_column not in frame.columns:
        raise ConfigError(f"The table has no column {date_column!r} (the check date).")
    out = frame.copy()
    checks = pd.to_datetime(out[date_column], errors="coerce").dt.normalize()
    due = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    valid = checks.notna()
    if bool(valid.any()):
        lo = checks[valid].min().date()
        hi = checks[valid].max().date()
        days = _working_days_from(
            lo + _dt.timedelta(days=1), hi, working_days, calendar
        )
        c = checks[valid].to_numpy().astype("datetime64[D]")
        pos = np.searchsorted(days, c, side="right") + working_days - 1
        due.loc[valid] = pd.to_datetime(days[pos]).to_numpy()
    out["due_date"] = due
    if published_column is None and as_of is None:
        return out
    published = (
        pd.to_datetime(out[published_column], errors="coerce").dt.normalize()
        if published_column is not None
        else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    )
    out["publication_status"] = _publication_status(due, published, as_of)
    return out


def _publication_status(due: pd.Series, published: pd.Series, as_of: Any) -> pd.Series:
    """``on_time``, ``late``, ``overdue`` (unpublished past ``as_of``) or ``pending``."""
    status = pd.Series("pending", index=due.index, dtype="object")
    done = published.notna()
    status[done & (published <= due)] = "on_time"
    status[done & (published > due)] = "late"
    if as_of is not None:
        ref = pd.Timestamp(_as_date(as_of))
        status[~done & due.notna() & (due < ref)] = "overdue"
    return status.astype("string")
