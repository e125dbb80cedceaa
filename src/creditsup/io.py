"""Reading and writing dataset folders (CSV, Parquet, XLSX).

CSV files are read as UTF-8 (with or without BOM) and fall back to GB18030,
the superset of GBK that legacy Chinese exports use. Every column is read as
text, so that a USCC or a code such as ``000123`` is never turned into a
number; :mod:`creditsup.schemas` then parses the typed columns.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd

from creditsup.exceptions import DataReadError, MissingDependencyError

__all__ = [
    "TABLE_NAMES",
    "csv_bytes",
    "fsync_dir",
    "read_dataset",
    "read_table",
    "write_atomic",
    "write_csv",
    "write_dataset",
]

logger = logging.getLogger(__name__)

#: The tables of a dataset folder (contract §1).
TABLE_NAMES = ("entities", "records", "inspectors", "conflicts", "items", "history")
_SUFFIXES = (".parquet", ".csv", ".xlsx")


def _read_csv(path: Path) -> pd.DataFrame:
    opts: dict[str, object] = {
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
    }
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **opts)  # type: ignore[call-overload,no-any-return]
    except UnicodeDecodeError:
        logger.info("%s is not UTF-8; reading it as GB18030", path)
    try:
        return pd.read_csv(path, encoding="gb18030", **opts)  # type: ignore[call-overload,no-any-return]
    except UnicodeDecodeError as exc:
        raise DataReadError(
            f"Cannot decode {str(path)!r}: it is neither UTF-8 nor GB18030 ({exc})."
        ) from None


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one table file into a frame of text columns.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet`` or ``.xlsx`` file.

    Returns
    -------
    pandas.DataFrame
        Every column as text (Parquet columns keep their types; the schema
        layer converts them).

    Raises
    ------
    DataReadError
        The file is missing, unreadable, or of an unknown format.
    """
    p = Path(path)
    if not p.is_file():
        raise DataReadError(f"The file {str(p)!r} does not exist.")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(p)
        if suffix == ".parquet":
            return pd.read_parquet(p)
        if suffix == ".xlsx":
            try:
                import openpyxl  # noqa: F401
            except ImportError:
                raise MissingDependencyError("openpyxl", "excel") from None
            return pd.read_excel(p, dtype=str, keep_default_na=False, na_values=[""])
    except (DataReadError, MissingDependencyError):
        raise
    except Exception as exc:  # pandas/pyarrow/openpyxl raise many types
        raise DataReadError(
            f"Cannot read {str(p)!r}: {type(exc).__name__}: {exc}".strip()
        ) from None
    raise DataReadError(
        f"The file {str(p)!r} has an unknown format; use .csv, .parquet or .xlsx."
    )


def _find(folder: Path, table: str) -> Path | None:
    found = [
        folder / f"{table}{s}" for s in _SUFFIXES if (folder / f"{table}{s}").is_file()
    ]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise DataReadError(
            f"The folder {str(folder)!r} holds the table '{table}' more than once "
            f"({names}); keep one file per table."
        )
    return found[0] if found else None


def read_dataset(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Read every table file of a dataset folder.

    Missing optional tables are simply absent from the result; the schema
    layer reports missing required tables.

    Raises
    ------
    DataReadError
        The folder does not exist or a file cannot be read.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataReadError(f"The dataset folder {str(root)!r} does not exist.")
    tables: dict[str, pd.DataFrame] = {}
    for table in TABLE_NAMES:
        path = _find(root, table)
        if path is not None:
            tables[table] = read_table(path)
    return tables


def _to_text_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.map({True: "true", False: "false"})
        else:
            out[col] = s
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The one CSV encoding of creditsup: UTF-8 with BOM, ``\\n`` line endings.

    Excel opens the BOM-marked file with the right encoding; identical frames
    give identical bytes.

    Examples
    --------
    >>> csv_bytes(pd.DataFrame({"a": [1], "b": ["x"]}))
    b'\\xef\\xbb\\xbfa,b\\n1,x\\n'
    """
    text = df.to_csv(index=False, lineterminator="\n")
    return "\ufeff".encode() + text.encode("utf-8")


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entry table to disk (after a rename inside it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file, fsync, rename.

    A reader sees the old file or the new one, never a half-written file, even
    if the process is killed in between.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        if tmp.exists():  # pragma: no cover - only after a failed write
            tmp.unlink()


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a frame as UTF-8-with-BOM CSV (Excel-friendly), dates as ISO text.

    The write is atomic (:func:`write_atomic`), and the output is
    byte-identical for identical frames (``\\n`` line endings).
    """
    write_atomic(path, csv_bytes(_to_text_frame(df)))


def write_dataset(
    tables: Mapping[str, pd.DataFrame],
    folder: str | Path,
    *,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
) -> Path:
    """Write tables into a dataset folder, one ``<table>.<fmt>`` file each."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        target = root / f"{name}.{fmt}"
        if fmt == "csv":
            write_csv(df, target)
        elif fmt == "parquet":
            df.to_parquet(target, index=False)
        else:
            try:
                import openpyxl  # noqa: F401
            except ImportError:
                raise MissingDependencyError("openpyxl", "excel") from None
            _to_text_frame(df).to_excel(target, index=False)
    return root
