"""The creditsup error tree.

Every error the library raises on purpose derives from :class:`CreditsupError`
and carries a stable ``code`` that a CLI or a user interface can translate::

    CreditsupError
     ├── ConfigError             (ValueError)    code="config"
     ├── DataValidationError     (ValueError)    code="data_validation"
     ├── DataReadError           (ValueError)    code="data_read"
     ├── UnsafeOutputError       (ValueError)    code="unsafe_output"
     ├── OutputBusyError         (RuntimeError)  code="output_busy"
     ├── InfeasiblePlanError     (RuntimeError)  code="infeasible"
     ├── SolverError             (RuntimeError)  code="solver"
     ├── VerificationError       (RuntimeError)  code="verification"
     └── MissingDependencyError  (ImportError)   code="missing_dependency"

Warnings derive from :class:`CreditsupWarning` (a ``UserWarning``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pandas is imported when a failure table is built, not before
    import pandas as pd

__all__ = [
    "FAILURE_COLUMNS",
    "ConfigError",
    "CreditsupError",
    "CreditsupWarning",
    "DataReadError",
    "DataValidationError",
    "InfeasiblePlanError",
    "MissingDependencyError",
    "OutputBusyError",
    "SolverError",
    "UnsafeOutputError",
    "VerificationError",
]

#: Columns of :attr:`DataValidationError.failure_cases`.
FAILURE_COLUMNS = ("table", "row", "column", "value", "rule", "message")


class CreditsupError(Exception):
    """Base class of every error raised on purpose by creditsup."""

    code: ClassVar[str] = "creditsup"


class ConfigError(CreditsupError, ValueError):
    """A policy or configuration value is invalid."""

    code = "config"


class DataReadError(CreditsupError, ValueError):
    """A dataset file cannot be found, opened or parsed."""

    code = "data_read"


class UnsafeOutputError(CreditsupError, ValueError):
    """An output path would replace something creditsup did not write."""

    code = "unsafe_output"


class OutputBusyError(CreditsupError, RuntimeError):
    """Another creditsup run is writing the same output."""

    code = "output_busy"


def _excel_row(row: object) -> str:
    """A 0-based data row as Excel shows it (the header is row 1)."""
    try:
        n = int(str(row))
    except ValueError:
        return str(row)
    return "-" if n < 0 else str(n + 2)


class DataValidationError(CreditsupError, ValueError):
    """One or more rows of the input tables break the data contract.

    Parameters
    ----------
    failure_cases : pandas.DataFrame
        One row per failure with the columns ``table``, ``row`` (0-based data
        row, or ``-1`` for a table-level failure), ``column``, ``value``,
        ``rule`` (a stable rule code) and ``message``.

    Examples
    --------
    >>> import pandas as pd
    >>> err = DataValidationError(pd.DataFrame([{
    ...     "table": "entities", "row": 3, "column": "uscc", "value": "X",
    ...     "rule": "invalid_uscc", "message": "bad"}]))
    >>> err.failure_cases.shape
    (1, 6)
    >>> err.code
    'data_validation'
    """

    code = "data_validation"

    def __init__(self, failure_cases: pd.DataFrame) -> None:
        self.failure_cases = failure_cases.reset_index(drop=True)
        n = len(self.failure_cases)
        counts = self.failure_cases.groupby("rule").size().sort_index()
        summary = ", ".join(f"{rule}: {k}" for rule, k in counts.items())
        head = self.failure_cases.head(10)
        lines = [
            f"- {r.table} row {_excel_row(r.row)}, column '{r.column}': {r.message}"
            for r in head.itertuples(index=False)
        ]
        more = f"\n... and {n - len(head)} more" if n > len(head) else ""
        super().__init__(
            f"{n} validation failure(s) ({summary}):\n" + "\n".join(lines) + more
        )

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]]) -> DataValidationError:
        """Build the error from a list of failure dictionaries."""
        import pandas as pd

        return cls(pd.DataFrame(list(records), columns=list(FAILURE_COLUMNS)))


class InfeasiblePlanError(CreditsupError, RuntimeError):
    """The policy cannot be met; ``binding`` names the constraint groups.

    Parameters
    ----------
    message : str
        What cannot be satisfied.
    binding : sequence of mapping, optional
        Constraint groups that bind, e.g.
        ``{"group": "department X, March", "needed": 340, "available": 120}``.
    """

    code = "infeasible"

    def __init__(self, message: str, binding: Sequence[Mapping[str, Any]] = ()) -> None:
        self.binding = [dict(b) for b in binding]
        super().__init__(message)


class SolverError(CreditsupError, RuntimeError):
    """The OR-Tools solver returned an unexpected status."""

    code = "solver"


class VerificationError(CreditsupError, RuntimeError):
    """A plan bundle does not match what its inputs and seed produce."""

    code = "verification"


class MissingDependencyError(CreditsupError, ImportError):
    """An optional dependency (an extra) is not installed."""

    code = "missing_dependency"

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"This feature needs the optional package '{package}'. Install it with "
            f"pip install 'creditsup[{extra}]'."
        )


class CreditsupWarning(UserWarning):
    """Base class of creditsup warnings."""
