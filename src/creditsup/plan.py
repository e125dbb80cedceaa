"""The annual plan end to end: build, save, load and verify a plan bundle.

:func:`build_plan` runs the whole data flow (credit tiers → coordinated draw →
inspector assignment) from one seed string and returns an
:class:`InspectionPlan`. :meth:`InspectionPlan.save` writes the bundle of
``contract.md`` §3 atomically (a temporary folder, then a rename), and
:func:`verify_plan` re-derives a saved bundle from the inputs and the recorded
seed and checks every byte, every hash and the ledger's hash chain.

Publish-before-draw: :func:`compute_commitment` hashes the input tables and
the policy, so a bureau can publish the commitment before the seed is known
(e.g. before a public lottery result that serves as the seed).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import html
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from creditsup import _toml
from creditsup.assignment import AssignmentPolicy, assign_inspectors, redraw
from creditsup.config import FrozenModel, config_hash, load_config, parse_config
from creditsup.exceptions import CreditsupError, DataReadError, VerificationError
from creditsup.io import csv_bytes, fsync_dir, write_atomic
from creditsup.sampling import SamplingPolicy, draw_visits
from creditsup.schemas import (
    ASSIGNMENT_COLUMNS,
    PUBLIC_PLAN_COLUMNS,
    VISIT_COLUMNS,
    Dataset,
    load_dataset,
)
from creditsup.scoring import Scorecard, default_scorecard
from creditsup.tiers import TierPolicy, rate_entities

__all__ = [
    "ALGORITHM_VERSION",
    "BUNDLE_FILES",
    "InspectionPlan",
    "Policy",
    "PublicationPolicy",
    "VerifyReport",
    "build_plan",
    "compute_commitment",
    "load_plan",
    "load_policy",
    "policy_template",
    "redraw_plan",
    "verify_plan",
]

logger = logging.getLogger(__name__)

#: Bumped whenever a change alters the draw for the same inputs and seed.
ALGORITHM_VERSION = "creditsup-draw/1"

#: The CSV tables of a bundle and their columns, in order.
BUNDLE_FILES: dict[str, tuple[str, ...]] = {
    "visits.csv": (*VISIT_COLUMNS, "status"),
    "assignments.csv": ASSIGNMENT_COLUMNS,
    "exclusions.csv": ("uscc", "reason_code", "detail"),
    "scores.csv": ("uscc", "score", "tier", "tier_reason", "reasons"),
}
_GENESIS = "0" * 64


class PublicationPolicy(FrozenModel):
    """What the public plan table (R06) says about who draws and who checks."""

    initiating_body: str = Field(
        default="市场监督管理局",
        description="The body that initiates the draw (发起部门).",
    )
    department_names: dict[str, str] = Field(
        default_factory=dict,
        description="Display names of department ids, e.g. {'food': '食品安全科'}.",
    )
    mode: str = Field(default="县抽县查", description="Draw/check mode (R06).")


class Policy(FrozenModel):
    """Everything a bureau configures for one annual plan.

    Loaded from TOML with :func:`load_policy`; sections ``[scorecard]``,
    ``[tiers]``, ``[sampling]``, ``[assignment]`` and ``[publication]``.
    ``as_of`` is the scoring date (default: 31 December of the year before
    the plan year).
    """

    as_of: _dt.date | None = None
    scorecard: Scorecard = Field(default_factory=default_scorecard)
    tiers: TierPolicy = Field(default_factory=TierPolicy)
    sampling: SamplingPolicy = Field(default_factory=SamplingPolicy)
    assignment: AssignmentPolicy = Field(default_factory=AssignmentPolicy)
    publication: PublicationPolicy = Field(default_factory=PublicationPolicy)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy TOML file (``None``: the default policy)."""
    if path is None:
        return Policy()
    return load_config(path, Policy)


def policy_template() -> str:
    """The default policy as TOML text (``creditsup policy-template``).

    Examples
    --------
    >>> text = policy_template()
    >>> load_text = __import__("tomllib").loads(text)
    >>> parse_config(Policy, load_text) == Policy()
    True
    """
    header = (
        "creditsup policy: the default values. Edit and pass with --policy FILE.\n"
        "Sections: scorecard (indicators and points), tiers (cut-offs, overrides),\n"
        "sampling (ratios per tier, caps, months), assignment (teams), publication."
    )
    return _toml.dumps(Policy().model_dump(mode="json"), header=header)


def _canonical(obj: Any) -> bytes:
    return json.dumps(
        obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compute_commitment(
    dataset: Dataset, policy: Policy | None = None, *, year: int
) -> str:
    """The publish-before-draw commitment: a hash of the inputs and the policy.

    It does not depend on the seed, the row order of the tables, or the
    machine, so a bureau can publish it before the seed is known; anyone can
    later recompute it from the published inputs.
    """
    policy = policy or Policy()
    payload = {
        "commitment": ALGORITHM_VERSION,
        "year": int(year),
        "tables": dataset.table_hashes(),
        "policy": config_hash(policy),
    }
    return _sha(_canonical(payload))


def _chain(
    records: Sequence[Mapping[str, Any]], prev: str = _GENESIS
) -> list[dict[str, Any]]:
    """Hash-chain ledger records: each carries ``seq``, ``prev_hash`` and ``hash``."""
    out: list[dict[str, Any]] = []
    for rec in records:
        body = {k: v for k, v in rec.items() if k not in ("hash", "prev_hash", "seq")}
        body["seq"] = len(out) if not out else out[-1]["seq"] + 1
        body["prev_hash"] = prev
        body["hash"] = _sha(_canonical(body))
        out.append(body)
        prev = body["hash"]
    return out


def _check_chain(ledger: Sequence[Mapping[str, Any]]) -> str | None:
    prev = _GENESIS
    for i, rec in enumerate(ledger):
        if rec.get("seq") != i:
            return (
                f"ledger line {i + 1}: sequence number {rec.get('seq')!r}, expected {i}"
            )
        if rec.get("prev_hash") != prev:
            return f"ledger line {i + 1}: prev_hash does not match the line before"
        body = {k: v for k, v in rec.items() if k != "hash"}
        if _sha(_canonical(body)) != rec.get("hash"):
            return f"ledger line {i + 1}: its hash does not match its content"
        prev = str(rec["hash"])
    return None


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("creditsup", "numpy", "pandas", "pyarrow", "ortools", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "unknown"
    return out


def _frame_for(name: str, df: pd.DataFrame) -> pd.DataFrame:
    cols = BUNDLE_FILES[name]
    out = df.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = "" if c != "joint" else False
    out = out[list(cols)]
    if "joint" in out.columns:
        out["joint"] = out["joint"].map({True: "true", False: "false"})
    if "score" in out.columns:
        out["score"] = out["score"].map(lambda v: f"{float(v):.4f}")
    return out


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
        ``{"unfilled": [...], "binding": [...]}``.
    provenance : dict
        Versions, year, seed, commitment, input hashes, policy, counts.
    ledger : list of dict
        The hash-chained draw record (全程留痕).
    redraws : pandas.DataFrame
        Re-draws made after the plan (R12), in order.
    """

    visits: pd.DataFrame
    assignments: pd.DataFrame
    exclusions: pd.DataFrame
    scores: pd.DataFrame
    accounting: pd.DataFrame
    tasks: pd.DataFrame
    diagnostics: dict[str, list[dict[str, Any]]]
    provenance: dict[str, Any]
    ledger: list[dict[str, Any]]
    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    entity_names: pd.DataFrame = field(default_factory=pd.DataFrame)
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)
    strata: pd.DataFrame = field(default_factory=pd.DataFrame)
    cap_removals: pd.DataFrame = field(default_factory=pd.DataFrame)
    redraws: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["visit_id", "old_inspector_id", "new_inspector_id", "reason"]
        )
    )

    # ------------------------------------------------------------------ views
    @property
    def is_feasible(self) -> bool:
        """True when every visit is staffed."""
        return not self.diagnostics.get("unfilled")

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
            ("seed commitment", self.provenance.get("seed_commitment", "")[:16] + "…"),
        ]
        return pd.DataFrame(rows, columns=["figure", "value"])

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
        prov["outputs"] = {name: _sha(data) for name, data in sorted(files.items())}
        files["provenance.json"] = json.dumps(
            prov, indent=2, ensure_ascii=False, sort_keys=True
        ).encode("utf-8")
        return files

    def save(self, path: str | Path) -> Path:
        """Write the bundle atomically: into a temporary folder, then renamed.

        A run killed mid-write leaves either no bundle or the previous one,
        never a partial bundle.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        files = self.to_files()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a bundle is shared
        try:
            for name, data in files.items():
                write_atomic(tmp / name, data)
            fsync_dir(tmp)
            if target.exists():
                old = target.parent / f".{target.name}.old-{os.getpid()}"
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
            fsync_dir(target.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        logger.info("plan bundle written to %s", target)
        return target


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
    files["diagnostics.json"] = json.dumps(
        plan.diagnostics, indent=2, ensure_ascii=False, sort_keys=True, default=str
    ).encode("utf-8")
    files["ledger.jsonl"] = b"".join(
        json.dumps(rec, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        + b"\n"
        for rec in plan.ledger
    )
    for name, df in plan.public_view().items():
        files[f"public/{name}.csv"] = csv_bytes(df)
    return files


# --------------------------------------------------------------------- public
_TASK_TYPE = {True: "定向", False: "不定向"}


def _public_view(plan: InspectionPlan) -> dict[str, pd.DataFrame]:
    items = plan.items
    v = plan.visits
    long = v[["visit_id", "uscc", "month", "items", "joint"]].copy()
    long["item_id"] = long["items"].str.split(";")
    long = long.explode("item_id")
    long = long[long["item_id"].fillna("") != ""]
    names = plan.entity_names
    if len(names):
        long = long.merge(names[["uscc", "name"]], on="uscc", how="left")
    else:
        long["name"] = ""
    if len(items):
        long = long.merge(
            items[["item_id", "department", "name"]].rename(
                columns={"name": "item_name"}
            ),
            on="item_id",
            how="left",
        )
    else:  # pragma: no cover
        long["department"] = ""
        long["item_name"] = ""
    entities = (
        long[
            [
                "item_id",
                "item_name",
                "department",
                "uscc",
                "name",
                "joint",
                "visit_id",
            ]
        ]
        .rename(columns={"item_id": "task_id", "item_name": "task"})
        .sort_values(["task_id", "uscc"], kind="stable")
        .reset_index(drop=True)
    )
    entities["joint"] = entities["joint"].map({True: "true", False: "false"})

    pub = plan.provenance.get("policy", {}).get("publication", {})
    dept_names: dict[str, str] = pub.get("department_names", {}) or {}
    initiating = pub.get("initiating_body", "")
    mode = pub.get("mode", "")
    year = int(plan.provenance.get("year", 0))
    tasks = plan.tasks.copy()
    if not len(items):  # pragma: no cover
        return {"plan": pd.DataFrame(), "entities": entities}
    # The month of each visit is internal (checks are unannounced); the plan
    # table publishes the task's date range only.
    per_item = (
        long.rename(columns={"item_id": "task_id"})
        .groupby("task_id")
        .agg(
            quantity=("uscc", "nunique"),
            first_month=("month", "min"),
            last_month=("month", "max"),
        )
    )
    table = items[
        [
            "item_id",
            "department",
            "name",
            "legal_basis",
            "kind",
            "entity_types",
            "industries",
        ]
    ].copy()
    table = table.merge(per_item, left_on="item_id", right_index=True, how="left")
    pool = None
    if "item_id" in tasks.columns and "pool_size" in tasks.columns:
        pool = tasks.groupby("item_id")["pool_size"].max()
    table["pool_size"] = table["item_id"].map(pool) if pool is not None else np.nan
    table["quantity"] = table["quantity"].fillna(0).astype(int)
    ratio = table["quantity"] / table["pool_size"].replace(0, np.nan)
    table["ratio"] = ratio.map(lambda r: "" if pd.isna(r) else f"{100 * r:.2f}%")
    targeted = (table["entity_types"] != "*") | (table["industries"] != "*")
    table["task_type"] = targeted.map(_TASK_TYPE)
    table["scope"] = (
        "types: " + table["entity_types"] + "; industries: " + table["industries"]
    )
    fm = table["first_month"].fillna(1).astype(int)
    lm = table["last_month"].fillna(12).astype(int)
    table["start_date"] = [f"{year}-{m:02d}-01" for m in fm]
    table["end_date"] = [
        (pd.Timestamp(year=year, month=m, day=1) + pd.offsets.MonthEnd(0)).strftime(
            "%Y-%m-%d"
        )
        for m in lm
    ]
    table["initiating_body"] = initiating
    names_from_items: dict[str, str] = {}
    if "department_name" in items.columns:
        known = items.dropna(subset=["department_name"])
        names_from_items = dict(
            zip(known["department"], known["department_name"], strict=True)
        )
    table["checking_body"] = table["department"].map(
        lambda d: dept_names.get(d) or names_from_items.get(d) or d
    )
    table["mode"] = mode
    plan_table = table.rename(
        columns={"item_id": "task_id", "name": "task", "kind": "item_kind"}
    )[list(PUBLIC_PLAN_COLUMNS)]
    plan_table["pool_size"] = plan_table["pool_size"].map(
        lambda x: "" if pd.isna(x) else str(int(x))
    )
    return {"plan": plan_table.reset_index(drop=True), "entities": entities}


# ---------------------------------------------------------------------- build
ProgressFn = Callable[[str], None]


def _default_as_of(year: int) -> _dt.date:
    return _dt.date(year - 1, 12, 31)


def build_plan(
    dataset: Dataset,
    policy: Policy | None = None,
    *,
    year: int,
    seed: str,
    operator: str = "",
    created_at: str | None = None,
    progress: ProgressFn | None = None,
) -> InspectionPlan:
    """Build the annual plan: tiers, the coordinated draw and the assignment.

    Parameters
    ----------
    dataset : Dataset
        The validated inputs (:func:`creditsup.schemas.load_dataset`).
    policy : Policy, optional
        The bureau's policy; the default policy when omitted.
    year : int
        The plan year.
    seed : str
        Any string, e.g. a published lottery result. Every random stream of
        every stage derives from it; the same inputs and seed give
        byte-identical ``visits.csv`` and ``assignments.csv``.
    operator : str
        Who runs the draw (recorded in the ledger, R10).
    created_at : str, optional
        ISO timestamp to record (default: now, UTC). Verification replays it.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    InspectionPlan
    """
    policy = policy or Policy()
    if not isinstance(seed, str) or not seed:
        raise parse_config_error("seed", seed)
    step = progress or (lambda _name: None)
    created = created_at or _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    as_of = policy.as_of or _default_as_of(year)
    commitment = compute_commitment(dataset, policy, year=year)
    policy_json = policy.model_dump(mode="json")
    input_hashes = dataset.table_hashes()

    records: list[dict[str, Any]] = [
        {
            "stage": "inputs",
            "algorithm": ALGORITHM_VERSION,
            "year": year,
            "seed": seed,
            "seed_commitment": commitment,
            "tables": input_hashes,
            "policy_hash": config_hash(policy),
            "operator": operator,
            "created_at": created,
        }
    ]

    step("tiers")
    rated = rate_entities(
        dataset, as_of=as_of, scorecard=policy.scorecard, tier_policy=policy.tiers
    )
    scores = rated.table[["uscc", "score", "tier", "tier_reason", "reasons"]].copy()
    records.append(
        {
            "stage": "tiers",
            "as_of": str(as_of),
            "scores_sha256": _sha(csv_bytes(_frame_for("scores.csv", scores))),
            "tier_counts": {
                str(k): int(n)
                for k, n in scores["tier"].value_counts().sort_index().items()
            },
        }
    )

    step("draw")
    draw = draw_visits(
        dataset, scores[["uscc", "tier"]], policy.sampling, year=year, seed=seed
    )
    for rec in draw.ledger:
        records.append({"stage": "draw", **rec})

    step("assignment")
    assigned = assign_inspectors(
        draw.visits, dataset, policy.assignment, year=year, seed=seed
    )
    for rec in assigned.ledger:
        records.append({"stage": "assignment", **rec})
    visits = assigned.visits
    if "status" not in visits.columns:  # pragma: no cover - defensive
        visits = visits.assign(status="staffed")

    step("ledger")
    visits_bytes = csv_bytes(_frame_for("visits.csv", visits))
    assign_bytes = csv_bytes(_frame_for("assignments.csv", assigned.assignments))
    records.append(
        {
            "stage": "outputs",
            "visits_sha256": _sha(visits_bytes),
            "assignments_sha256": _sha(assign_bytes),
            "n_visits": len(visits),
            "n_assignments": len(assigned.assignments),
            "n_unfilled": len(assigned.diagnostics.get("unfilled", [])),
        }
    )
    ledger = _chain(records)

    accounting = draw.accounting.reset_index(drop=True)
    provenance: dict[str, Any] = {
        "creditsup": _versions()["creditsup"],
        "versions": _versions(),
        "algorithm": ALGORITHM_VERSION,
        "year": year,
        "seed": seed,
        "seed_commitment": commitment,
        "inputs": input_hashes,
        "policy": policy_json,
        "policy_hash": config_hash(policy),
        "as_of": str(as_of),
        "operator": operator,
        "created_at": created,
        "counts": _counts(accounting),
        "ledger_head": ledger[-1]["hash"],
    }
    return InspectionPlan(
        visits=visits.reset_index(drop=True),
        assignments=assigned.assignments.reset_index(drop=True),
        exclusions=draw.exclusions.reset_index(drop=True),
        scores=scores.reset_index(drop=True),
        accounting=accounting,
        tasks=draw.tasks.reset_index(drop=True),
        diagnostics={
            "unfilled": list(assigned.diagnostics.get("unfilled", [])),
            "binding": list(assigned.diagnostics.get("binding", [])),
        },
        provenance=provenance,
        ledger=ledger,
        items=dataset.items.copy(),
        entity_names=dataset.entities[["uscc", "name"]].copy(),
        capacity=draw.months.reset_index(drop=True),
        strata=draw.strata.reset_index(drop=True),
        cap_removals=draw.cap_removals.reset_index(drop=True),
    )


def parse_config_error(name: str, value: object) -> CreditsupError:
    """The error for a bad top-level argument."""
    from creditsup.exceptions import ConfigError

    return ConfigError(
        f"The '{name}' must be a non-empty string. Got {value!r} instead."
    )


def _counts(accounting: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in accounting.to_dict(orient="records"):
        tier = str(row.get("tier"))
        out[tier] = {
            k: (int(v) if isinstance(v, int | np.integer) else v)
            for k, v in row.items()
            if k != "tier" and not (isinstance(v, float) and np.isnan(v))
        }
    return out


# ----------------------------------------------------------------------- load
def load_plan(path: str | Path) -> InspectionPlan:
    """Load a saved bundle (no verification; see :func:`verify_plan`)."""
    root = Path(path)
    if not (root / "provenance.json").is_file():
        raise DataReadError(f"{str(root)!r} is not a plan bundle (no provenance.json).")

    def csv(name: str) -> pd.DataFrame:
        p = root / name
        if not p.is_file():
            return pd.DataFrame()
        return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")

    try:
        provenance = json.loads((root / "provenance.json").read_text("utf-8"))
        diagnostics = json.loads((root / "diagnostics.json").read_text("utf-8"))
        ledger = [
            json.loads(line)
            for line in (root / "ledger.jsonl").read_text("utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, json.JSONDecodeError) as exc:
        raise DataReadError(f"Cannot read the bundle {str(root)!r}: {exc}") from None
    visits = csv("visits.csv")
    if len(visits):
        visits["month"] = visits["month"].astype(int)
        visits["joint"] = visits["joint"].eq("true")
    scores = csv("scores.csv")
    if len(scores):
        scores["score"] = scores["score"].astype(float)
    accounting = csv("accounting.csv")
    for c in accounting.columns:
        if c != "tier":
            accounting[c] = pd.to_numeric(accounting[c], errors="coerce")
    tasks = csv("tasks.csv")
    for c in ("pool_size",):
        if c in tasks.columns:
            tasks[c] = pd.to_numeric(tasks[c], errors="coerce")
    items = csv("items.csv")
    pub_entities = csv("public/entities.csv")
    names = (
        pub_entities[["uscc", "name"]].drop_duplicates("uscc")
        if len(pub_entities)
        else pd.DataFrame(columns=["uscc", "name"])
    )
    return InspectionPlan(
        visits=visits,
        assignments=csv("assignments.csv"),
        exclusions=csv("exclusions.csv"),
        scores=scores,
        accounting=accounting,
        tasks=tasks,
        diagnostics=diagnostics,
        provenance=provenance,
        ledger=ledger,
        items=items,
        entity_names=names,
        redraws=csv("redraws.csv"),
        capacity=_numeric(csv("capacity.csv"), keep=("department",)),
        strata=_numeric(
            csv("strata.csv"),
            keep=("item_id", "department", "group", "kind", "method", "tier"),
        ),
        cap_removals=csv("cap_removals.csv"),
    )


def _numeric(df: pd.DataFrame, *, keep: tuple[str, ...]) -> pd.DataFrame:
    for c in df.columns:
        if c not in keep:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


# --------------------------------------------------------------------- redraw
def redraw_plan(
    plan: InspectionPlan,
    dataset: Dataset,
    *,
    visit_id: str,
    inspector_id: str,
    reason: str,
) -> InspectionPlan:
    """Replace one inspector after the draw (R12) and log it in the ledger.

    The replacement is drawn at random under the same hard rules, from a
    stream derived from the plan's seed and the re-draw's sequence number, so
    :func:`verify_plan` can replay it. When nobody qualifies, the visit becomes
    unfilled and is listed in the diagnostics (never dropped).
    """
    from creditsup.assignment import AssignmentResult

    policy = parse_config(Policy, plan.provenance["policy"])
    n = len(plan.redraws)
    seed = f"{plan.provenance['seed']}|redraw|{n}"
    current = AssignmentResult.from_tables(
        visits=plan.visits,
        assignments=plan.assignments,
        diagnostics=plan.diagnostics,
        policy=policy.assignment,
    )
    new = redraw(
        current,
        dataset,
        visit_id=visit_id,
        inspector_id=inspector_id,
        reason=reason,
        seed=seed,
        policy=policy.assignment,
    )
    last = new.redraws.iloc[-1]
    row = {
        "visit_id": visit_id,
        "old_inspector_id": inspector_id,
        "new_inspector_id": ""
        if pd.isna(last.get("new_inspector_id"))
        else str(last["new_inspector_id"]),
        "reason": reason,
    }
    body = {
        "stage": "redraw",
        "n": n,
        **row,
        "outcome": str(last.get("outcome", "")),
        "seed_label": seed,
        "seq": plan.ledger[-1]["seq"] + 1,
        "prev_hash": plan.ledger[-1]["hash"],
    }
    record = {**body, "hash": _sha(_canonical(body))}
    return dataclasses.replace(
        plan,
        visits=new.visits.reset_index(drop=True),
        assignments=new.assignments.reset_index(drop=True),
        diagnostics={
            "unfilled": list(new.diagnostics.get("unfilled", [])),
            "binding": list(new.diagnostics.get("binding", [])),
        },
        provenance={**plan.provenance, "ledger_head": record["hash"]},
        ledger=[*plan.ledger, record],
        redraws=pd.concat([plan.redraws, pd.DataFrame([row])], ignore_index=True),
    )


# --------------------------------------------------------------------- verify
@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_plan`."""

    ok: bool
    differences: list[str]
    checked: list[str]

    def summary(self) -> str:
        """One line per check or difference."""
        if self.ok:
            return f"OK: {len(self.checked)} checks passed"
        return "MISMATCH: " + self.differences[0]


def verify_plan(
    plan_dir: str | Path, data: str | Path | Dataset, *, stop_at_first: bool = True
) -> VerifyReport:
    """Re-derive a saved plan from its inputs and seed; check every byte and hash.

    Checks, in order: the ledger's hash chain; the SHA-256 of every bundle file
    against ``provenance.json``; the input tables against the recorded hashes;
    then a full recomputation from the inputs, the recorded policy, seed and
    timestamp (replaying logged re-draws), compared byte for byte with every
    file of the bundle.

    Returns
    -------
    VerifyReport
        ``ok`` is False and ``differences[0]`` names the first difference.
    """
    root = Path(plan_dir)
    diffs: list[str] = []
    checked: list[str] = []

    def fail(msg: str) -> VerifyReport | None:
        diffs.append(msg)
        if stop_at_first:
            return VerifyReport(False, diffs, checked)
        return None

    try:
        saved = load_plan(root)
    except CreditsupError as exc:
        return VerifyReport(False, [str(exc)], checked)
    except (ValueError, KeyError) as exc:
        return VerifyReport(False, [f"the bundle cannot be parsed: {exc}"], checked)

    problem = _check_chain(saved.ledger)
    if problem and (r := fail(problem)):
        return r
    checked.append("ledger hash chain")
    if saved.ledger and saved.provenance.get("ledger_head") != saved.ledger[-1].get(
        "hash"
    ):
        if r := fail(
            "provenance.json: ledger_head is not the hash of the last ledger line"
        ):
            return r

    outputs: dict[str, str] = saved.provenance.get("outputs", {})
    on_disk = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != "provenance.json"
    }
    for name in sorted(set(outputs) | on_disk):
        if name not in outputs:
            if r := fail(f"{name}: file not listed in provenance.json"):
                return r
            continue
        if name not in on_disk:
            if r := fail(f"{name}: listed in provenance.json but missing"):
                return r
            continue
        if _sha((root / name).read_bytes()) != outputs[name]:
            if r := fail(f"{name}: SHA-256 does not match provenance.json"):
                return r
    checked.append("output file hashes")

    dataset = data if isinstance(data, Dataset) else load_dataset(data)
    recorded = saved.provenance.get("inputs", {})
    for table, digest in dataset.table_hashes().items():
        if recorded.get(table) != digest:
            if r := fail(
                f"input table '{table}' differs from the one the plan was drawn from"
            ):
                return r
    checked.append("input table hashes")

    try:
        policy = parse_config(Policy, saved.provenance["policy"])
    except CreditsupError as exc:
        return VerifyReport(
            False, [*diffs, f"provenance.json: policy invalid: {exc}"], checked
        )
    first = saved.ledger[0] if saved.ledger else {}
    rebuilt = build_plan(
        dataset,
        policy,
        year=int(saved.provenance["year"]),
        seed=str(saved.provenance["seed"]),
        operator=str(first.get("operator", saved.provenance.get("operator", ""))),
        created_at=str(first.get("created_at", saved.provenance.get("created_at"))),
    )
    for rd in saved.redraws.to_dict(orient="records"):
        rebuilt = redraw_plan(
            rebuilt,
            dataset,
            visit_id=str(rd["visit_id"]),
            inspector_id=str(rd["old_inspector_id"]),
            reason=str(rd["reason"]),
        )
    expected = rebuilt.to_files()
    order = ["visits.csv", "assignments.csv", "ledger.jsonl"]
    names = order + sorted(n for n in expected if n not in order)
    for name in names:
        path = root / name
        actual = path.read_bytes() if path.is_file() else None
        if actual != expected[name]:
            detail = _first_line_diff(actual, expected[name])
            if r := fail(f"{name}: differs from the recomputed plan ({detail})"):
                return r
    checked.append("byte-identical recomputation")
    return VerifyReport(not diffs, diffs, checked)


def _first_line_diff(actual: bytes | None, expected: bytes) -> str:
    if actual is None:
        return "missing"
    a = actual.decode("utf-8", "replace").splitlines()
    e = expected.decode("utf-8", "replace").splitlines()
    for i, (x, y) in enumerate(zip(a, e, strict=False)):
        if x != y:
            return f"line {i + 1}: {x[:80]!r} != expected {y[:80]!r}"
    return f"{len(a)} lines, expected {len(e)}"


def require_verified(report: VerifyReport) -> None:
    """Raise :class:`VerificationError` naming the first difference."""
    if not report.ok:
        raise VerificationError(report.differences[0])


# ------------------------------------------------------------------ invariants
def check_invariants(plan: InspectionPlan, dataset: Dataset) -> list[str]:
    """Every invariant of ``contract.md`` §3 that can be checked on a plan.

    Returns a list of human-readable violations (empty when the plan holds).
    The assignment rules are checked by
    :func:`creditsup.assignment.audit_assignment`.
    """
    from creditsup.assignment import audit_assignment

    problems: list[str] = []
    visits = plan.visits
    unfilled = {u["visit_id"] for u in plan.diagnostics.get("unfilled", [])}
    staffed = visits[~visits["visit_id"].isin(unfilled)]
    policy = parse_config(Policy, plan.provenance["policy"])
    audit = audit_assignment(
        plan.assignments, staffed, dataset, policy=policy.assignment
    )
    problems += [
        f"assignment: {r.get('visit_id', '')} {r.get('rule', '')}: {r.get('detail', '')}"
        for r in audit.to_dict(orient="records")
    ]
    # caps: tier-A (policy) non-exempt visits per entity per year, history included
    caps = {t: c for t, c in policy.sampling.caps.items() if c is not None}
    exempt = list(policy.sampling.exempt_triggers)  # the rule the draw applied
    year = int(plan.provenance["year"])
    hist = dataset.history
    same_year = hist[(hist["date"].dt.year == year) & ~hist["trigger"].isin(exempt)]
    counted = visits[~visits["trigger"].isin(exempt)]
    n = (
        pd.concat([counted["uscc"], same_year["uscc"]])
        .value_counts()
        .rename("n")
        .to_frame()
        .join(plan.scores.set_index("uscc")["tier"])
    )
    n = n[n.index.isin(set(counted["uscc"]))]
    n["cap"] = n["tier"].map(caps)
    over = n[n["cap"].notna() & (n["n"] > n["cap"])]
    problems += [
        f"cap: {u} tier {r.tier} has {r.n} visits > cap {int(r.cap)}"
        for u, r in over.iterrows()
    ]
    # nothing lost: input = eligible + excluded per tier; drawn <= eligible
    acc = plan.accounting
    for row in acc.to_dict(orient="records"):
        if int(row["n_input"]) != int(row["n_eligible"]) + int(row["n_excluded"]):
            problems.append(
                f"accounting: tier {row['tier']}: input != eligible + excluded"
            )
        if int(row["n_drawn"]) > int(row["n_eligible"]):
            problems.append(f"accounting: tier {row['tier']}: drawn > eligible")
    if int(acc["n_input"].sum()) != len(dataset.entities):
        problems.append(
            f"accounting: {int(acc['n_input'].sum())} entities counted, "
            f"{len(dataset.entities)} in the input"
        )
    ents = dataset.entities.set_index("uscc")
    dead = ents.index[ents["status"].isin(["deregistered", "revoked"])]
    if visits["uscc"].isin(dead).any():
        problems.append("deregistered or revoked entities are visited")
    missing_dead = set(dead) - set(plan.exclusions["uscc"])
    if missing_dead:
        problems.append(
            f"{len(missing_dead)} deregistered/revoked entities not in exclusions"
        )
    unknown = set(visits["uscc"]) - set(ents.index)
    if unknown:
        problems.append(f"{len(unknown)} visited entities are not in the input")
    return problems
