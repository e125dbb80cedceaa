"""Type checks at the public boundary: clear errors naming the parameter.

Inside the library everything is typed; these catch what a caller passes from
a notebook or a script (a string year, a DataFrame for a Dataset, a date in a
local format) before it becomes an arithmetic error deep in a stage.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import pandas as pd

from creditsup.exceptions import ConfigError

__all__ = ["require_dataset", "require_iso_date", "require_year"]

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def require_dataset(value: Any, name: str = "dataset") -> None:
    """A :class:`~creditsup.schemas.Dataset`, or a ``TypeError`` saying how to get one.

    Examples
    --------
    >>> require_dataset(pd.DataFrame())
    Traceback (most recent call last):
    ...
    TypeError: The 'dataset' must be a creditsup Dataset (from creditsup.load_dataset(folder) or creditsup.validate_dataset(tables)). Got DataFrame instead.
    """
    from creditsup.schemas import Dataset

    if not isinstance(value, Dataset):
        raise TypeError(
            f"The '{name}' must be a creditsup Dataset (from "
            "creditsup.load_dataset(folder) or creditsup.validate_dataset(tables)). "
            f"Got {type(value).__name__} instead."
        )


def require_year(value: Any, name: str = "year") -> int:
    """A plan year: an ``int`` in 1950..2200.

    Examples
    --------
    >>> require_year("2026")
    Traceback (most recent call last):
    ...
    TypeError: The 'year' must be an integer such as 2026. Got str '2026' instead.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"The '{name}' must be an integer such as 2026. Got "
            f"{type(value).__name__} {value!r} instead."
        )
    if not 1950 <= value <= 2200:
        raise ConfigError(f"The '{name}' must be in [1950, 2200]. Got {value} instead.")
    return int(value)


def require_iso_date(value: Any, name: str) -> pd.Timestamp:
    """A date given as ``date``, ``Timestamp`` or ISO text ``YYYY-MM-DD``, nothing else.

    Local formats such as ``01/02/2025`` are ambiguous (January or February?),
    so they are refused rather than guessed.

    Examples
    --------
    >>> require_iso_date("2025-02-01", "as_of")
    Timestamp('2025-02-01 00:00:00')
    >>> require_iso_date("01/02/2025", "as_of")
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: The 'as_of' must be an ISO date YYYY-MM-DD. Got '01/02/2025' instead.
    """
    if isinstance(value, str):
        if not _ISO.match(value.strip()):
            raise ConfigError(
                f"The '{name}' must be an ISO date YYYY-MM-DD. Got {value!r} instead."
            )
        value = value.strip()
    elif not isinstance(value, _dt.date | pd.Timestamp):
        raise TypeError(
            f"The '{name}' must be a date or ISO text YYYY-MM-DD. Got "
            f"{type(value).__name__} {value!r} instead."
        )
    try:
        ts = pd.Timestamp(value)
    except ValueError:
        raise ConfigError(
            f"The '{name}' is not a valid date. Got {value!r} instead."
        ) from None
    return ts.normalize()
