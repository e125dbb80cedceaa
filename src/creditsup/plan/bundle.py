"""The plan and its bundle: :class:`InspectionPlan`, its files, save and load.

A bundle is the folder of ``contract.md`` §3. :meth:`InspectionPlan.save`
writes it through :mod:`creditsup.outputs`: atomically, recoverably after a
kill, and only over a folder that is itself a bundle.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditsup.exceptions import DataReadError
from creditsup.io import csv_bytes, inert_cells
from creditsup.outputs import output_lock, recover, replace_folder
from creditsup.plan._ledger import sha256
from creditsup.plan.public import public_view as _public_view
from creditsup.schemas import ASSIGNMENT_COLUMNS, VISIT_COLUMNS

__all__ = ["BUNDLE_FILES", "InspectionPlan", "load_plan"]

logger = logging.getLogger(__name__)

#: The CSV tables of a bundle and their columns, in order.
BUNDLE_FILES: dict[str, tuple[str, ...]] = {
    "visits.csv": (*VISIT_COLUMNS, "status", "id_kind"),
    "assignments.csv": ASSIGNMENT_COLUMNS,
    "exclusions.csv": ("uscc", "reason_code", "detail", "id_kind"),
    "scores.csv": ("uscc", "score", "tier", "tier_reason", "reasons"),
}
#: Every CSV table the plan itself writes; any other top-level CSV listed in
#: ``provenance.json`` is a table of the year (:attr:`InspectionPlan.extra_tables`).
_PLAN_CSVS = frozenset(
    {
        *BUNDLE_FILES,
        "accounting.csv",
        "tasks.csv",
        "items.csv",
        "redraws.csv",
        "capacity.csv",
        "strata.csv",
        "cap_removals.csv",
        "floors.csv",
        "capacity_needs.csv",
        "assumed_tiers.csv",
    }
)


def _frame_for(name: str, df: pd.DataFrame) -> pd.DataFrame:
    cols = BUNDLE_FILES[name]
    out = df.copy(deep=False)  # copy-on-write: the caller's frame never changes
    for c in cols:
        if c not in out.columns:
            out[c] = False if c == "joint" else ("uscc" if c == "id_kind" else "")
    out = out[list(cols)]
    if "joint" in out.columns:
        out["joint"] = out["joint"].map({True: "true", False: "false"})
    if "score" in out.columns:
        out["score"] = _fixed4(out["score"])
    return out


def _fixed4(values: pd.Series) -> pd.Series:
    """``f"{float(v):.4f}"`` of each value, formatted once per distinct value.

    Scores repeat (sums of a few points), so the million-row column costs a
    few thousand Python calls; distinct means distinct bits, so ``-0.0``
    keeps its sign.

    >>> _fixed4(pd.Series([1.5, -0.0, 1.5, float("nan")])).tolist()
    ['1.5000', '-0.0000', '1.5000', 'nan']
    """
    try:
        v = np.ascontiguousarray(values.to_numpy(dtype="float64", na_value=np.nan))
    except (TypeError, ValueError):
        return values.map(lambda v: f"{float(v):.4f}")
    uniq, inverse = np.unique(v.view(np.int64), return_inverse=True)
    text = np.array([f"{x:.4f}" for x in uniq.view(np.float64)], dtype=object)
    return pd.Series(text[inverse], index=values.index, dtype="str")


@dataclass(frozen=True)
class InspectionPlan:
    """An annual inspection plan: its tables, diagnostics, provenance and ledger.

    Attributes
    ----------
    visits, assignments, exclusions, scores : pandas.DataFrame
        The bundle tables (``contract.md`` §3).
    accounting : pandas.DataFrame
        Counts per tier: input = eligible + excluded; drawn ≤ eligible.
    tasks : pandas.DataFrame
        Per (department, item) pool size, ratio and drawn count.
    diagnostics : dict
        ``unfilled`` and ``binding`` (the assignment), ``capacity`` (the
        (department, month) inspector-slot shortfalls of the draw), ``budget``,
        ``floors`` and ``waivers`` (see
        :func:`creditsup.plan.build.policy_diagnostics`).
    provenance : dict
        Versions, year, seed, commitment, input hashes, policy, counts.
    ledger : list of dict
        The hash-chained draw record (全程留痕).
    redraws : pandas.DataFrame
        Re-draws made after the plan (R12), in order.
    extra_tables : mapping of str to pandas.DataFrame
        Tables the steps of the year add to the bundle after the plan (e.g.
        ``results.csv``, written by :mod:`creditsup.year`), as text columns;
        empty for a plan as drawn, which then writes exactly the plan's files.
    """

    visits: pd.DataFrame
    assignments: pd.DataFrame
    exclusions: pd.DataFrame
    scores: pd.DataFrame
    accounting: pd.DataFrame
    tasks: pd.DataFrame
    diagnostics: dict[str, Any]
    provenance: dict[str, Any]
    ledger: list[dict[str, Any]]
    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    entity_names: pd.DataFrame = field(default_factory=pd.DataFrame)
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)
    strata: pd.DataFrame = field(default_factory=pd.DataFrame)
    cap_removals: pd.DataFrame = field(default_factory=pd.DataFrame)
    floors: pd.DataFrame = field(default_factory=pd.DataFrame)
    capacity_needs: pd.DataFrame = field(default_factory=pd.DataFrame)
    assumed_tiers: pd.DataFrame = field(default_factory=pd.DataFrame)
    redraws: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["visit_id", "old_inspector_id", "new_inspector_id", "reason"]
        )
    )
    extra_tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    # ------------------------------------------------------------------ views
    def diagnosis(self, lang: str = "en") -> dict[str, list[dict[str, Any]]]:
        """The diagnosis of unfilled visits as shown in ``lang``.

        :attr:`diagnostics` (and ``diagnostics.json``) hold each reason in
        both languages (``reason``/``reason_zh``, ``group``/``group_zh``): each
        visit named once at the start of its reason, departments by name,
        months as 1月…12月, with the stable fields ``department``, ``month`` and
        ``visit_id`` on each binding group. A plan read from its bundle shows
        them in either language too.

        Examples
        --------
        >>> from creditsup.datasets import synthetic_tables
        >>> from creditsup.plan import build_plan
        >>> from creditsup.schemas import validate_dataset
        >>> ds = validate_dataset(synthetic_tables(300, 4, seed="d", year=2026))
        >>> plan = build_plan(ds, year=2026, seed="s")
        >>> u = plan.diagnosis("zh")["unfilled"][0]
        >>> u["visit_id"] == plan.diagnostics["unfilled"][0]["visit_id"]
        True
        >>> u["reason"].startswith("检查" + u["visit_id"])
        True
        """
        detail = self.diagnostics
        reason, group = (
            ("reason_zh", "group_zh") if lang == "zh" else ("reason", "group")
        )
        return {
            "unfilled": [
                {**u, "reason": u.get(reason, u.get("reason"))}
                for u in detail.get("unfilled", [])
            ],
            "binding": [
                {**b, "group": b.get(group, b.get("group"))}
                for b in detail.get("binding", [])
            ],
        }

    @property
    def is_feasible(self) -> bool:
        """True when every visit is staffed and the roster covers the draw.

        A capacity shortfall (``diagnostics["capacity"]``) makes a plan
        infeasible even when the assignment happened to staff every visit.
        """
        return not self.diagnostics.get("unfilled") and not self.diagnostics.get(
            "capacity"
        )

    def summary(self) -> pd.DataFrame:
        """Key figures of the plan, one row per figure."""
        v = self.visits
        joint_share = float(v["joint"].mean()) if len(v) else 0.0
        rows = [
            ("year", self.provenance.get("year")),
            ("seed", self.provenance.get("seed")),
            (
                "entities",
                int(self.accounting["n_input"].sum()) if len(self.accounting) else 0,
            ),
            ("excluded entities", int(self.exclusions["uscc"].nunique())),
            ("visits", len(v)),
            ("joint visits share", round(joint_share, 4)),
            ("assignments", len(self.assignments)),
            ("inspectors used", int(self.assignments["inspector_id"].nunique())),
            ("unfilled visits", len(self.diagnostics.get("unfilled", []))),
            (
                "inspector-slots short",
                sum(
                    int(c.get("shortfall", 0))
                    for c in self.diagnostics.get("capacity", [])
                ),
            ),
            ("seed commitment", self.provenance.get("seed_commitment", "")[:16] + "…"),
        ]
        return pd.DataFrame(rows, columns=["figure", "value"])

    def __repr__(self) -> str:
        prov = self.provenance
        return (
            f"InspectionPlan(year={prov.get('year')}, visits={len(self.visits):,}, "
            f"assignments={len(self.assignments):,}, "
            f"unfilled={len(self.diagnostics.get('unfilled', []))}, "
            f"seed={prov.get('seed')!r})"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(f))}</th>"
            f"<td>{html.escape(str(v))}</td></tr>"
            for f, v in s.itertuples(index=False)
        )
        tiers = self.visits.groupby("tier").size().to_frame("visits").T.to_html()
        return f"<b>InspectionPlan</b><table>{body}</table>{tiers}"

    def public_view(self) -> dict[str, pd.DataFrame]:
        """The publication tables (一公开): no scores, tiers or inspector data (C3).

        Returns ``plan`` (the R06 annual plan table, one row per task) and
        ``entities`` (the per-task list of entities to inspect).
        """
        return _public_view(self)

    # ------------------------------------------------------------- bundle io
    def to_files(self) -> dict[str, bytes]:
        """Every file of the bundle as bytes (paths relative to the bundle)."""
        files = _content_files(self)
        prov = dict(self.provenance)
        prov["outputs"] = {name: sha256(data) for name, data in sorted(files.items())}
        files["provenance.json"] = json.dumps(
            prov, indent=2, ensure_ascii=False, sort_keys=True
        ).encode("utf-8")
        return files

    def save(self, path: str | Path, *, protect: Sequence[str | Path] = ()) -> Path:
        """Write the bundle atomically, never over a folder creditsup did not write.

        The folder ``path`` must be new, empty, or a plan bundle. A run killed
        mid-write leaves the previous bundle or the new one (put back by the
        next command on that path), never a partial bundle.

        Parameters
        ----------
        path : path-like
            The bundle folder.
        protect : sequence of path-like
            Inputs (e.g. the data folder) that must not be replaced.
        """
        return replace_folder(
            path, self.to_files(), kind="plan", protect=protect, marker=False
        )


def _content_files(plan: InspectionPlan) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    files["visits.csv"] = csv_bytes(_frame_for("visits.csv", plan.visits))
    files["assignments.csv"] = csv_bytes(
        _frame_for("assignments.csv", plan.assignments)
    )
    files["exclusions.csv"] = csv_bytes(_frame_for("exclusions.csv", plan.exclusions))
    files["scores.csv"] = csv_bytes(_frame_for("scores.csv", plan.scores))
    files["accounting.csv"] = csv_bytes(plan.accounting)
    files["tasks.csv"] = csv_bytes(plan.tasks)
    files["items.csv"] = csv_bytes(plan.items)
    files["redraws.csv"] = csv_bytes(plan.redraws)
    files["capacity.csv"] = csv_bytes(plan.capacity)
    files["strata.csv"] = csv_bytes(plan.strata)
    files["cap_removals.csv"] = csv_bytes(plan.cap_removals)
    files["floors.csv"] = csv_bytes(plan.floors)
    files["capacity_needs.csv"] = csv_bytes(plan.capacity_needs)
    files["assumed_tiers.csv"] = csv_bytes(plan.assumed_tiers)
    for name in sorted(plan.extra_tables):
        files[name] = csv_bytes(plan.extra_tables[name])
    files["diagnostics.json"] = json.dumps(
        plan.diagnostics, indent=2, ensure_ascii=False, sort_keys=True, default=str
    ).encode("utf-8")
    files["ledger.jsonl"] = b"".join(
        json.dumps(rec, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        + b"\n"
        for rec in plan.ledger
    )
    for name, df in plan.public_view().items():
        files[f"public/{name}.csv"] = csv_bytes(inert_cells(df))
    return files


# ----------------------------------------------------------------------- load
def _read_csv(root: Path, name: str) -> pd.DataFrame:
    p = root / name
    if not p.is_file():
        return pd.DataFrame()
    return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _read_json_parts(root: Path) -> tuple[Any, Any, list[Any]]:
    try:
        provenance = json.loads((root / "provenance.json").read_text("utf-8"))
        diagnostics = json.loads((root / "diagnostics.json").read_text("utf-8"))
        ledger = [
            json.loads(line)
            for line in (root / "ledger.jsonl").read_text("utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, ValueError) as exc:
        raise DataReadError(f"Cannot read the bundle {str(root)!r}: {exc}") from None
    if not isinstance(provenance, dict) or not isinstance(diagnostics, dict):
        raise DataReadError(
            f"Cannot read the bundle {str(root)!r}: provenance.json and "
            "diagnostics.json must each hold a JSON object."
        )
    return provenance, diagnostics, ledger


def load_plan(path: str | Path) -> InspectionPlan:
    """Load a saved bundle (no verification; see :func:`verify_plan`).

    A bundle left aside by a killed write is first put back (see
    :func:`creditsup.outputs.recover`).
    """
    root = Path(path)
    if any(root.parent.glob(f".{root.name}.creditsup-*")):  # a killed write
        with output_lock(root):
            recover(root)
    if not (root / "provenance.json").is_file():
        raise DataReadError(f"{str(root)!r} is not a plan bundle (no provenance.json).")
    provenance, diagnostics, ledger = _read_json_parts(root)
    visits = _read_csv(root, "visits.csv")
    if len(visits):
        visits["month"] = visits["month"].astype(int)
        visits["joint"] = visits["joint"].eq("true")
    scores = _read_csv(root, "scores.csv")
    if len(scores):
        scores["score"] = scores["score"].astype(float)
    tasks = _read_csv(root, "tasks.csv")
    if "pool_size" in tasks.columns:
        tasks["pool_size"] = pd.to_numeric(tasks["pool_size"], errors="coerce")
    pub_entities = _read_csv(root, "public/entities.csv")
    names = (
        pub_entities[["uscc", "name"]].drop_duplicates("uscc")
        if {"uscc", "name"} <= set(pub_entities.columns)
        else pd.DataFrame(columns=["uscc", "name"])
    )
    return InspectionPlan(
        visits=visits,
        assignments=_read_csv(root, "assignments.csv"),
        exclusions=_read_csv(root, "exclusions.csv"),
        scores=scores,
        accounting=_numeric(_read_csv(root, "accounting.csv"), keep=("tier",)),
        tasks=tasks,
        diagnostics=diagnostics,
        provenance=provenance,
        ledger=ledger,
        items=_read_csv(root, "items.csv"),
        entity_names=names,
        redraws=_read_csv(root, "redraws.csv"),
        capacity=_numeric(_read_csv(root, "capacity.csv"), keep=("department",)),
        strata=_numeric(
            _read_csv(root, "strata.csv"),
            keep=("item_id", "department", "group", "kind", "method", "tier"),
        ),
        cap_removals=_read_csv(root, "cap_removals.csv"),
        floors=_numeric(
            _read_csv(root, "floors.csv"), keep=("floor", "status", "detail")
        ),
        capacity_needs=_numeric(
            _read_csv(root, "capacity_needs.csv"), keep=("department",)
        ),
        assumed_tiers=_read_csv(root, "assumed_tiers.csv"),
        extra_tables=_extra_tables(root, provenance),
    )


def _extra_tables(root: Path, provenance: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The year's tables: top-level CSVs of the bundle that the plan does not write."""
    listed = provenance.get("outputs", {})
    names = sorted(
        n
        for n in (listed if isinstance(listed, dict) else {})
        if n.endswith(".csv") and "/" not in n and n not in _PLAN_CSVS
    )
    return {n: _read_csv(root, n) for n in names if (root / n).is_file()}


def _numeric(df: pd.DataFrame, *, keep: tuple[str, ...]) -> pd.DataFrame:
    for c in df.columns:
        if c not in keep:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df
