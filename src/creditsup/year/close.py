"""Stage 5 of the year: close it into next year's dataset.

:func:`close_year` returns a new dataset: the plan's inputs plus the year's
results as ``history`` rows (one per department of the visit) and the
follow-up records that were done (closed follow-ups): an abnormal listing
(``abnormal_list``), a penalty from a case (``penalty``; a warning alone is not
published, R21), a re-inspection that found the problem still there
(``check_problem``). Restorations (信用修复) end records early: a closing's
``restored_on``, or a ``restorations`` table for records already in the data.
The input folder is never edited: :meth:`ClosedYear.save` writes a new one.
Next year's plan on that folder scores the year's findings, so entities found
with problems move up in tier.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from creditsup.exceptions import ConfigError
from creditsup.io import dataset_files, read_dataset
from creditsup.outputs import replace_folder
from creditsup.plan import InspectionPlan
from creditsup.schemas import Dataset, validate_dataset
from creditsup.schemas.vocab import TRIGGERS
from creditsup.year._bundle import table
from creditsup.year._checks import as_text_table, parse_dates, text_frame

__all__ = ["ClosedYear", "close_year"]

logger = logging.getLogger(__name__)

HISTORY_COLUMNS = ("uscc", "date", "department", "result", "inspector_ids", "trigger")
RECORD_COLUMNS = ("uscc", "kind", "date", "restored_on", "severity", "source")
#: (follow-up kind, outcome) → the record kind it leaves in the data.
_RECORD_OF: dict[tuple[str, str], str] = {
    ("abnormal_list", "listed"): "abnormal_list",
    ("case", "penalty"): "penalty",
    ("reinspection", "not_corrected"): "check_problem",
}


@dataclass(frozen=True)
class ClosedYear:
    """Next year's dataset, and what closing the year added to it.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Every table of the new dataset.
    history_added, records_added : pandas.DataFrame
        The rows the year added.
    restored : int
        Records of the input data that a restoration ended early.
    """

    tables: dict[str, pd.DataFrame]
    history_added: pd.DataFrame
    records_added: pd.DataFrame
    restored: int

    def save(self, path: str | Path, *, protect: Sequence[str | Path] = ()) -> Path:
        """Write the dataset folder (new, empty, or a dataset creditsup wrote)."""
        return replace_folder(
            path, dataset_files(self.tables), kind="dataset", protect=protect
        )


def _raw_tables(
    data: str | Path | Mapping[str, pd.DataFrame] | Dataset,
) -> dict[str, pd.DataFrame]:
    if isinstance(data, Dataset):
        return {
            k: as_text_table(v, k) for k, v in data.tables().items() if len(v.columns)
        }
    if isinstance(data, str | Path):
        return read_dataset(data)
    if isinstance(data, Mapping):
        return dict(data)
    raise TypeError(
        "The 'data' must be the dataset folder, its tables or a Dataset. Got "
        f"{type(data).__name__} instead."
    )


def _history_rows(plan: InspectionPlan) -> pd.DataFrame:
    res = table(plan, "results.csv")
    trig = plan.visits.set_index(plan.visits["visit_id"].astype(str))["trigger"]
    rows = res.assign(
        department=res["departments"].str.split(";"),
        trigger=res["visit_id"].map(trig).astype(str),
    ).explode("department")
    rows["trigger"] = rows["trigger"].where(rows["trigger"].isin(TRIGGERS), "random")
    rows = rows[rows["department"].fillna("").ne("")]
    out = rows[list(HISTORY_COLUMNS)].sort_values(["uscc", "date", "department"])
    return out.reset_index(drop=True)


def _record_rows(plan: InspectionPlan) -> pd.DataFrame:
    f = table(plan, "followups.csv")
    f = f[f["status"].eq("closed")]
    rules = pd.DataFrame(
        [(k, o, r) for (k, o), r in _RECORD_OF.items()],
        columns=["kind", "outcome", "record_kind"],
    )
    done = f.merge(rules, on=["kind", "outcome"], how="inner")
    out = pd.DataFrame(
        {
            "uscc": done["uscc"],
            "kind": done["record_kind"],
            "date": done["closed_on"],
            "restored_on": done["restored_on"],
            "severity": done["severity"],
            "source": "creditsup:" + done["followup_id"],
        },
        columns=list(RECORD_COLUMNS),
    )
    return out.sort_values(["uscc", "kind", "date"]).reset_index(drop=True)


def _restore(
    records: pd.DataFrame, restorations: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """Set ``restored_on`` on the records a restoration names (uscc, kind[, date])."""
    r = text_frame(restorations, table="restorations",
                   required=("uscc", "kind", "restored_on"), optional=("date",))  # fmt: skip
    if parse_dates(r["restored_on"]).isna().any():
        bad = r.loc[parse_dates(r["restored_on"]).isna(), "restored_on"].iloc[0]
        raise ConfigError(
            f"A restoration's 'restored_on' must be YYYY-MM-DD. Got {bad!r}."
        )
    rec = records.copy()
    if "restored_on" not in rec.columns:
        rec["restored_on"] = ""
    key = rec["uscc"].astype(str) + "|" + rec["kind"].astype(str)
    date_key = (
        key
        + "|"
        + pd.to_datetime(rec["date"], errors="coerce")
        .dt.strftime("%Y-%m-%d")
        .fillna("")
    )
    by_kind = r[r["date"].eq("")]
    by_date = r[r["date"].ne("")]
    whole = dict(zip(by_kind["uscc"] + "|" + by_kind["kind"],
                     by_kind["restored_on"], strict=True))  # fmt: skip
    one = dict(zip(by_date["uscc"] + "|" + by_date["kind"] + "|" + by_date["date"],
                   by_date["restored_on"], strict=True))  # fmt: skip
    a = key.map(whole).astype(object)
    b = date_key.map(one).astype(object)
    when = a.where(a.notna(), b)
    hit = when.notna()
    rec["restored_on"] = rec["restored_on"].astype(object)
    rec.loc[hit, "restored_on"] = when[hit]
    return rec, int(hit.sum())


def close_year(
    plan: InspectionPlan,
    data: str | Path | Mapping[str, pd.DataFrame] | Dataset,
    *,
    restorations: pd.DataFrame | None = None,
) -> ClosedYear:
    """Next year's dataset: ``data`` plus the year's results and follow-up records.

    Parameters
    ----------
    plan : InspectionPlan
        The year's plan with its results and follow-ups.
    data : path, mapping of tables or Dataset
        The dataset the plan was drawn from (checked against its recorded
        hashes). It is not modified.
    restorations : pandas.DataFrame, optional
        Credit restorations (信用修复) of records already in ``data``: columns
        ``uscc``, ``kind``, ``restored_on`` and optionally ``date`` (one record;
        without it, every record of that kind of the entity).

    Raises
    ------
    ConfigError
        ``data`` is not the dataset the plan was drawn from.
    """
    raw = _raw_tables(data)
    ds = data if isinstance(data, Dataset) else validate_dataset(raw)
    recorded = plan.provenance.get("inputs", {})
    differ = [t for t, h in ds.table_hashes().items() if recorded.get(t) != h]
    if differ:
        raise ConfigError(
            f"The dataset is not the one the plan was drawn from: the tables "
            f"{differ} differ from the hashes in provenance.json."
        )
    history = _history_rows(plan)
    records = _record_rows(plan)
    tables = dict(raw)
    old_records = tables.get("records", pd.DataFrame(columns=list(RECORD_COLUMNS)))
    restored = 0
    if restorations is not None:
        old_records, restored = _restore(old_records, restorations)
    tables["records"] = pd.concat([old_records, records], ignore_index=True)
    old_history = tables.get("history", pd.DataFrame(columns=list(HISTORY_COLUMNS)))
    tables["history"] = pd.concat([old_history, history], ignore_index=True)
    logger.info(
        "closed the year: %d history rows, %d records", len(history), len(records)
    )
    return ClosedYear(tables, history, records, restored)
