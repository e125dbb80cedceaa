"""Reading and writing dataset folders (CSV, Parquet, XLSX).

CSV files are read as UTF-8 (with or without BOM) and fall back to GB18030,
the superset of GBK that legacy Chinese exports use. Every column is read as
text, so that a USCC or a code such as ``000123`` is never turned into a
number; :mod:`creditsup.schemas` then parses the typed columns.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from creditsup.exceptions import DataReadError, MissingDependencyError
from creditsup.outputs import replace_folder, write_atomic

__all__ = [
    "PARTITIONED_TABLES",
    "TABLE_NAMES",
    "csv_bytes",
    "csv_text_options",
    "dataset_files",
    "dataset_paths",
    "inert_cells",
    "read_dataset",
    "read_table",
    "table_parts",
    "write_atomic",
    "write_csv",
    "write_dataset",
]

logger = logging.getLogger(__name__)

#: The tables of a dataset folder (contract §1).
TABLE_NAMES = ("entities", "records", "inspectors", "conflicts", "items", "history")
_SUFFIXES = (".parquet", ".csv", ".xlsx")


def _gb2312_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that GB2312 can encode."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    ok = sum(1 for c in wide if c.encode("gb2312", errors="ignore"))
    return ok / len(wide)


def _check_not_big5(path: Path) -> None:
    """Refuse a Big5 (Traditional Chinese) file that GB18030 would turn to mojibake.

    GB18030 decodes almost any byte string, so a Big5 file "succeeds" as
    garbage. Real GB text is almost all GB2312 characters; Big5 bytes read as
    GB18030 are not (about half are rare or non-Chinese characters).
    """
    head = path.read_bytes()[:65536]
    text = head.decode("gb18030", errors="replace")
    wide = sum(1 for c in text if ord(c) > 0x7F)
    if wide < 4 or _gb2312_share(text) >= 0.7:
        return
    try:
        head.decode("big5")
    except UnicodeDecodeError:
        return
    raise DataReadError(
        f"The file {str(path)!r} looks like Big5 (Traditional Chinese), not GB18030; "
        "save it as UTF-8 (in Excel: Save As, 'CSV UTF-8')."
    )


def csv_text_options(
    names: list[str], columns: list[str] | None = None
) -> tuple[object, object]:
    """pyarrow's CSV options for a table read as text, as the loader reads it.

    Every column a ``large_string``, only empty cells missing, quoted newlines
    allowed; ``columns`` keeps only those (all when ``None``). Returns the
    ``(ParseOptions, ConvertOptions)`` pair.

    Examples
    --------
    >>> parse, convert = csv_text_options(["uscc", "name"])
    >>> convert.null_values
    ['']
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.large_string() for n in names},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
        include_columns=columns or [],
    )
    return parse, convert


def _read_csv_arrow(path: Path, header: list[str]) -> pd.DataFrame | None:
    """A clean UTF-8 CSV read by pyarrow's reader, as Arrow-backed text columns.

    Every column is text, only empty cells are missing (as with pandas and
    ``keep_default_na=False``). ``None`` when the file needs pandas' own rules
    (not UTF-8, a ragged row, a blank or repeated header, a single column), so
    that such files are read, or refused, exactly as before.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [str(h) for h in header]
    if len(names) < 2 or len(set(names)) < len(names) or not all(names):
        return None
    try:
        parse, convert = csv_text_options(names)
        table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
        # the header as UTF-8 must give the names that were asked for (a GB18030
        # file does not), and every column must have been read as text
        if table.column_names != names or any(
            t != pa.large_string() for t in table.schema.types
        ):
            return None
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True)
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    fast = _read_csv_arrow(path, _raw_header(path, ".csv"))
    if fast is not None:
        return fast
    opts: dict[str, object] = {
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
    }
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **opts)  # type: ignore[call-overload,no-any-return]
    except UnicodeDecodeError:
        logger.info("%s is not UTF-8; reading it as GB18030", path)
    _check_not_big5(path)
    try:
        return pd.read_csv(path, encoding="gb18030", **opts)  # type: ignore[call-overload,no-any-return]
    except UnicodeDecodeError as exc:
        raise DataReadError(
            f"Cannot decode {str(path)!r}: it is neither UTF-8 nor GB18030 ({exc})."
        ) from None


def _check_headers(path: Path, df: pd.DataFrame, header: list[str]) -> pd.DataFrame:
    """Refuse a table whose header names a column twice (pandas would rename one)."""
    names = [str(h).strip() for h in header]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise DataReadError(
                f"The file {str(path)!r} has the column '{name}' twice (columns "
                f"{seen[name] + 1} and {i + 1}); keep one."
            )
        seen[name] = i
    return df


def _cell_text(v: object) -> object:
    """A spreadsheet cell as text; a number of 15+ digits as Excel shows it.

    Excel keeps 15 significant digits: a USCC typed into a number cell is
    already truncated, so it is shown in scientific notation, which the USCC
    check reports as Excel-mangled instead of as a wrong check character.
    """
    if v is None or isinstance(v, str) or isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        if v != v:  # NaN: an empty cell
            return None
        if abs(v) >= 1e15:
            return f"{float(v):.14E}"
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, _dt.datetime | _dt.date):
        return v.strftime("%Y-%m-%d")
    return str(v)


def _xlsx_text(df: pd.DataFrame) -> pd.DataFrame:
    """Every column of a sheet read with cell types, as text."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        out[col] = df[col].map(_cell_text).astype(object)
    return out


def _raw_header(path: Path, suffix: str) -> list[str]:
    if suffix == ".csv":
        for enc in ("utf-8-sig", "gb18030"):
            try:
                with path.open(encoding=enc, newline="") as fh:
                    return next(csv.reader(fh), [])
            except UnicodeDecodeError:
                continue
        return []
    if suffix == ".xlsx":
        head = pd.read_excel(path, header=None, nrows=1, dtype=str)
        return [str(v) for v in head.iloc[0].tolist()] if len(head) else []
    return []


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one table file into a frame of text columns.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet`` or ``.xlsx`` file, or a folder of ``.parquet``
        part files read in name order (:func:`table_parts`).

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
    if p.is_dir() and (parts := table_parts(p)):
        frames = [read_table(q) for q in parts]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if not p.is_file():
        raise DataReadError(f"The file {str(p)!r} does not exist.")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return _check_headers(p, _read_csv(p), _raw_header(p, suffix))
        if suffix == ".parquet":
            return pd.read_parquet(p)
        if suffix == ".xlsx":
            try:
                import openpyxl  # noqa: F401
            except ImportError:
                raise MissingDependencyError("openpyxl", "excel") from None
            df = pd.read_excel(p, dtype=object, keep_default_na=False, na_values=[""])
            return _check_headers(p, _xlsx_text(df), _raw_header(p, suffix))
    except (DataReadError, MissingDependencyError):
        raise
    except Exception as exc:  # pandas/pyarrow/openpyxl raise many types
        raise DataReadError(
            f"Cannot read {str(p)!r}: {type(exc).__name__}: {exc}".strip()
        ) from None
    raise DataReadError(
        f"The file {str(p)!r} has an unknown format; use .csv, .parquet or .xlsx."
    )


#: The tables a partitioned Parquet dataset may split into part files.
PARTITIONED_TABLES = ("entities", "records", "history", "conflicts")


def table_parts(path: str | Path) -> list[Path]:
    """The files of a table: the file itself, or a folder's ``*.parquet`` parts
    in name order (a partitioned table, e.g. ``entities/part-00000.parquet``)."""
    p = Path(path)
    if p.is_dir():
        return sorted(q for q in p.glob("*.parquet") if q.is_file())
    return [p]


def _find(folder: Path, table: str) -> Path | None:
    found = [
        folder / f"{table}{s}" for s in _SUFFIXES if (folder / f"{table}{s}").is_file()
    ]
    if (folder / table).is_dir() and table_parts(folder / table):
        found.append(folder / table)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise DataReadError(
            f"The folder {str(folder)!r} holds the table '{table}' more than once "
            f"({names}); keep one file per table."
        )
    return found[0] if found else None


def dataset_paths(folder: str | Path) -> dict[str, Path]:
    """The table files of a dataset folder, by table name (nothing read yet).

    Raises
    ------
    DataReadError
        The folder does not exist or holds a table more than once.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataReadError(f"The dataset folder {str(root)!r} does not exist.")
    found = {table: _find(root, table) for table in TABLE_NAMES}
    return {table: path for table, path in found.items() if path is not None}


def read_dataset(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Read every table file of a dataset folder.

    Missing optional tables are simply absent from the result; the schema
    layer reports missing required tables.

    Raises
    ------
    DataReadError
        The folder does not exist or a file cannot be read.
    """
    return {table: read_table(path) for table, path in dataset_paths(folder).items()}


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


_FORMULA_START = r"^[=+\-@\t\r]"


def inert_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, made inert (OWASP).

    A cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    gets a leading ``'``, so that Excel or WPS shows it as text instead of
    evaluating it (CSV injection). Returns a new frame; numbers are untouched.

    Examples
    --------
    >>> inert_cells(pd.DataFrame({"name": ["=cmd|' /C calc'!A1", "ok"], "n": [-1, 2]}))
                      name  n
    0  '=cmd|' /C calc'!A1 -1
    1                   ok  2
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        text = s.astype("string")
        hit = text.str.contains(_FORMULA_START, regex=True).fillna(False).astype(bool)
        if bool(hit.any()):
            out[col] = s.where(~hit, "'" + text)
    return out


def _arrow_column(s: pd.Series) -> object | None:
    """A column pyarrow writes exactly as pandas does (text, or integers), else None."""
    import pyarrow as pa

    dtype = s.dtype
    col: object | None = None
    if isinstance(dtype, pd.StringDtype):
        col = pa.array(s, from_pandas=True)
    elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
        col = pa.array(s.to_numpy())
    if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(
        s, skipna=True
    ) in ("string", "empty"):
        col = pa.array(s.to_numpy(), type=pa.string(), from_pandas=True)
    return col


def _arrow_csv_body(df: pd.DataFrame) -> bytes | None:
    """The rows of ``df`` as pandas would write them, by pyarrow's CSV writer.

    Only when pyarrow writes the same bytes: two or more columns, each text or
    integers, and no value that needs quoting (pyarrow refuses those; pandas
    then writes the frame). ``None`` otherwise.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(df) == 0 or df.shape[1] < 2 or not df.columns.is_unique:
        return None
    cols = []
    for name in df.columns:
        col = _arrow_column(df[name])
        if col is None:
            return None
        cols.append(col)
    table = pa.Table.from_arrays(cols, names=[f"c{i}" for i in range(len(cols))])
    buf = io.BytesIO()
    try:
        pacsv.write_csv(
            table,
            buf,
            pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )
    except pa.ArrowInvalid:  # a delimiter, quote or line break: pandas quotes it
        return None
    return buf.getvalue()


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The one CSV encoding of creditsup: UTF-8 with BOM, ``\\n`` line endings.

    Excel opens the BOM-marked file with the right encoding; identical frames
    give identical bytes. The bytes are pandas' ``to_csv``; rows that pyarrow
    writes identically (text and integer columns, nothing to quote) are
    written by pyarrow's CSV writer, several times faster.

    Examples
    --------
    >>> csv_bytes(pd.DataFrame({"a": [1], "b": ["x"]}))
    b'\\xef\\xbb\\xbfa,b\\n1,x\\n'
    """
    body = _arrow_csv_body(df)
    if body is None:
        text = df.to_csv(index=False, lineterminator="\n")
        return "\ufeff".encode() + text.encode("utf-8")
    head = df.iloc[:0].to_csv(index=False, lineterminator="\n")
    return "\ufeff".encode() + head.encode("utf-8") + body


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a frame as UTF-8-with-BOM CSV (Excel-friendly), dates as ISO text.

    The write is atomic (:func:`write_atomic`), and the output is
    byte-identical for identical frames (``\\n`` line endings).
    """
    write_atomic(path, csv_bytes(_to_text_frame(df)))


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def dataset_files(
    tables: Mapping[str, pd.DataFrame],
    *,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
    partitions: int = 1,
) -> dict[str, bytes]:
    """The files of a dataset folder as bytes, one ``<table>.<fmt>`` each.

    With ``fmt="parquet"`` and ``partitions > 1``, each table of
    :data:`PARTITIONED_TABLES` is split into that many part files of
    consecutive rows, ``<table>/part-00000.parquet`` … (a partitioned
    Parquet dataset, read part by part by ``build_plan(engine="dask")``).
    """
    files: dict[str, bytes] = {}
    for name, df in tables.items():
        if fmt == "csv":
            files[f"{name}.csv"] = csv_bytes(_to_text_frame(df))
            continue
        if fmt == "parquet" and partitions > 1 and name in PARTITIONED_TABLES:
            bounds = np.linspace(0, len(df), partitions + 1).astype(np.int64)
            for k in range(partitions):
                part = df.iloc[bounds[k] : bounds[k + 1]]
                files[f"{name}/part-{k:05d}.parquet"] = _parquet_bytes(part)
            continue
        buf = io.BytesIO()
        if fmt == "parquet":
            df.to_parquet(buf, index=False)
        else:
            try:
                import openpyxl  # noqa: F401
            except ImportError:
                raise MissingDependencyError("openpyxl", "excel") from None
            _to_text_frame(df).to_excel(buf, index=False)
        files[f"{name}.{fmt}"] = buf.getvalue()
    return files


def write_dataset(
    tables: Mapping[str, pd.DataFrame],
    folder: str | Path,
    *,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
    partitions: int = 1,
) -> Path:
    """Write tables as a dataset folder, one ``<table>.<fmt>`` file each
    (or part files, see :func:`dataset_files`).

    The folder is written atomically and only over a new or empty folder or a
    dataset folder creditsup wrote (see :mod:`creditsup.outputs`).
    """
    files = dataset_files(tables, fmt=fmt, partitions=partitions)
    return replace_folder(folder, files, kind="dataset")
