"""The validated dataset and its order-independent table hashes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from creditsup.schemas.lists import _isin


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: six typed tables (see ``contract.md`` §1).

    Build it with :func:`validate_dataset` or :func:`load_dataset`; the
    constructor does not validate.
    """

    entities: pd.DataFrame
    records: pd.DataFrame = field(default_factory=pd.DataFrame)
    inspectors: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflicts: pd.DataFrame = field(default_factory=pd.DataFrame)
    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def table_hashes(self) -> dict[str, str]:
        """SHA-256 of the canonical form of each table (order independent)."""
        return {name: table_hash(df) for name, df in self.tables().items()}

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={len(v):,}" for k, v in self.tables().items())
        return f"Dataset({rows})"

    def _repr_html_(self) -> str:
        return "<b>Dataset</b>" + self.summary().to_html(index=False)

    def summary(self) -> pd.DataFrame:
        """Row counts per table."""
        return pd.DataFrame(
            {
                "table": list(self.tables()),
                "rows": [len(t) for t in self.tables().values()],
            }
        )

    def cut(self, as_of: object) -> Dataset:
        """The dataset as it was known at ``as_of`` (rows dated after it dropped).

        Records and history after ``as_of`` are removed, as are entities
        established after it; end and restoration dates after ``as_of`` are
        blanked because they were not yet known.
        """
        t = pd.Timestamp(as_of)  # type: ignore[arg-type]
        rec = self.records[self.records["date"] <= t].copy()
        for col in ("end_date", "restored_on"):
            rec.loc[rec[col] > t, col] = pd.NaT
        ent = self.entities[self.entities["established"] <= t].reset_index(drop=True)
        keep = set(ent["uscc"])
        return Dataset(
            entities=ent,
            records=rec[_isin(rec["uscc"], keep)].reset_index(drop=True),
            inspectors=self.inspectors,
            conflicts=self.conflicts[self.conflicts["uscc"].isin(keep)].reset_index(
                drop=True
            ),
            items=self.items,
            history=self.history[
                (self.history["date"] <= t) & self.history["uscc"].isin(keep)
            ].reset_index(drop=True),
        )


def table_hash(df: pd.DataFrame) -> str:
    """A SHA-256 of a table that does not depend on its row order.

    Rows are hashed with :func:`pandas.util.hash_pandas_object` (no index),
    sorted, and digested together with the column names.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode("utf-8"))
    if len(df):
        rows = pd.util.hash_pandas_object(df, index=False).to_numpy(dtype=np.uint64)
        h.update(np.sort(rows).tobytes())
    return h.hexdigest()
