"""Stage 1: what counts as an outcome, and each entity's first outcome.

The event is "a problem was found" at an inspection: the history's boolean
``problem_found`` column when it has one, else a ``result`` among the
scorecard's ``problem_results`` (R19); ``outcome=`` picks another history
column. When the outcome is a history column, :func:`recode_outcome`
re-codes the history results from it, so that calibration, scoring and
testing share one definition of "a problem".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.evaluate.options import BacktestOptions
from creditsup.exceptions import ConfigError
from creditsup.scoring import Scorecard
from creditsup.scoring._arrays import BoolArray, FloatArray

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "OUTCOME_COLUMN",
    "OutcomeDefinition",
    "define_outcome",
    "event_column",
    "first_outcomes",
    "numeric",
    "recode_outcome",
    "truthy",
]

#: History column that, when present, defines the outcome (a boolean).
OUTCOME_COLUMN = "problem_found"
_TRUE = ("true", "1", "1.0", "yes", "y", "t")


def truthy(s: pd.Series) -> BoolArray:
    """True where a column says yes: true, > 0, or text such as ``'yes'``.

    Examples
    --------
    >>> truthy(pd.Series(["yes", "0", "2", None, "T"])).tolist()
    [True, False, True, False, True]
    """
    if pd.api.types.is_bool_dtype(s):
        return np.asarray(s.fillna(False), dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        return np.asarray(s.fillna(0) > 0, dtype=bool)
    text = s.astype("str").str.strip().str.lower()
    num = pd.to_numeric(text, errors="coerce")
    return np.asarray(text.isin(_TRUE).fillna(False) | (num.fillna(0) > 0), dtype=bool)


def numeric(s: pd.Series) -> FloatArray:
    """A column as numbers; text that is not a number, and gaps, count 0."""
    return pd.to_numeric(s, errors="coerce").fillna(0).to_numpy(dtype=np.float64)


def event_column(
    hist: pd.DataFrame, outcome: str | None, problem_results: Sequence[str]
) -> tuple[str, BoolArray]:
    """The outcome's name and whether each history row is an event."""
    name = outcome
    if name is None:
        name = OUTCOME_COLUMN if OUTCOME_COLUMN in hist.columns else "result"
    if name == "result":
        return name, np.asarray(hist["result"].isin(list(problem_results)), dtype=bool)
    if name not in hist.columns:
        raise ConfigError(
            f"The 'outcome' must be 'result' or a column of history. Got {name!r} "
            "instead."
        )
    return name, truthy(hist[name])


def recode_outcome(
    dataset: Dataset,
    outcome: str,
    *,
    problem_results: Sequence[str] = ("problem_corrected",),
    keep_results: Sequence[str] = ("deregistered", "no_activity"),
) -> Dataset:
    """A copy of ``dataset`` whose history results follow an outcome column.

    Rows whose ``outcome`` column is true (or > 0) get ``problem_corrected``
    (or the first of ``problem_results`` if that is not among them), the
    others ``normal``; rows with a result in ``keep_results`` keep it. The
    re-coding is row by row, so it leaks nothing across time. The backtest
    uses it so that the scorecard is calibrated on, scored with and tested on
    one definition of "a problem" (e.g. Chicago's critical violations rather
    than any violation).

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> h = pd.DataFrame({"uscc": ["x"] * 3, "result": ["problem_corrected",
    ...     "normal", "no_activity"], "critical": ["0", "2", "1"]})
    >>> recode_outcome(Dataset(entities=pd.DataFrame(), history=h),
    ...                "critical").history["result"].tolist()
    ['normal', 'problem_corrected', 'no_activity']
    """
    hist = dataset.history
    if outcome not in hist.columns:
        raise ConfigError(
            f"The 'outcome' must be a column of history. Got {outcome!r} instead."
        )
    problem = (
        "problem_corrected"
        if "problem_corrected" in problem_results
        else str(problem_results[0])
    )
    event = truthy(hist[outcome])
    keep = np.asarray(hist["result"].isin(list(keep_results)), dtype=bool)
    result = np.where(
        keep, hist["result"].to_numpy(dtype=object), np.where(event, problem, "normal")
    )
    new = hist.assign(result=pd.Series(result, index=hist.index, dtype="str"))
    return dataclasses.replace(dataset, history=new)


@dataclass(frozen=True)
class OutcomeDefinition:
    """The outcome of a backtest.

    Attributes
    ----------
    name : str
        ``'result'`` or the history column that defines the event.
    event : ndarray of bool
        Per row of the dataset's history: whether it is an event.
    view : Dataset
        The dataset the scorecard is calibrated on and scored with (history
        results re-coded from the outcome column when asked).
    recoded : bool
        Whether ``view`` has re-coded results.
    """

    name: str
    event: BoolArray
    view: Dataset
    recoded: bool


def define_outcome(
    dataset: Dataset, options: BacktestOptions, scorecard: Scorecard
) -> OutcomeDefinition:
    """Stage: pick the outcome and, when asked, re-code the history from it.

    Raises
    ------
    ConfigError
        ``options.outcome`` is neither ``'result'`` nor a history column.
    """
    name, event = event_column(
        dataset.history, options.outcome, scorecard.problem_results
    )
    if not (options.recode_history and name != "result"):
        return OutcomeDefinition(name, event, dataset, recoded=False)
    view = recode_outcome(
        dataset,
        name,
        problem_results=scorecard.problem_results,
        keep_results=options.exclude_results,
    )
    return OutcomeDefinition(name, event, view, recoded=True)


def first_outcomes(
    hist: pd.DataFrame,
    event: BoolArray,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    triggers: Sequence[str],
    exclude_results: Sequence[str],
) -> pd.DataFrame:
    """Stage: ``uscc, first_date, y`` of each entity's first inspection in
    ``[start, end)`` (``trigger`` among ``triggers``, ``result`` not among
    ``exclude_results``; several on that day: any event counts).

    Examples
    --------
    >>> h = pd.DataFrame({"uscc": ["a", "a", "b"], "trigger": ["random"] * 3,
    ...     "result": ["normal"] * 3,
    ...     "date": pd.to_datetime(["2025-02-01", "2025-03-01", "2024-01-01"])})
    >>> first_outcomes(h, np.array([False, True, True]),
    ...     start=pd.Timestamp("2025-01-01"), end=pd.Timestamp("2026-01-01"),
    ...     triggers=["random"], exclude_results=[]).values.tolist()
    [['a', Timestamp('2025-02-01 00:00:00'), False]]
    """
    d = pd.to_datetime(hist["date"])
    m = (
        (d >= start)
        & (d < end)
        & hist["trigger"].isin(list(triggers))
        & ~hist["result"].isin(list(exclude_results))
    )
    h = pd.DataFrame(
        {"uscc": hist.loc[m, "uscc"], "date": d[m], "y": event[np.asarray(m)]}
    )
    if len(h) == 0:
        return pd.DataFrame(
            {
                "uscc": pd.Series(dtype="str"),
                "first_date": pd.Series(dtype="datetime64[us]"),
                "y": pd.Series(dtype=bool),
            }
        )
    first = h.groupby("uscc", sort=True)["date"].transform("min")
    h = h[h["date"] == first]
    out = h.groupby("uscc", sort=True).agg(first_date=("date", "min"), y=("y", "max"))
    return out.reset_index()
