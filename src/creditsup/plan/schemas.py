"""Machine-readable descriptions of what creditsup writes: JSON Schemas (Draft 2020-12).

The platforms bureaus run (mostly Java) read a bundle without Python. These
schemas are generated from pydantic models: the policy from
:class:`~creditsup.policy.Policy` itself, and the bundle files from the models
below, which describe (and are tested against) what :mod:`creditsup.plan`
writes. ``creditsup schema NAME`` prints one.

Examples
--------
>>> s = json_schema("provenance")
>>> s["$schema"], s["properties"]["year"]["type"]
('https://json-schema.org/draft/2020-12/schema', 'integer')
>>> sorted(SCHEMA_NAMES)
['diagnostics', 'ledger', 'policy', 'provenance', 'public']
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from creditsup.exceptions import ConfigError
from creditsup.policy import Policy

__all__ = ["SCHEMA_NAMES", "json_schema"]

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_DRAFT = "https://json-schema.org/draft/2020-12/schema"


class _Open(BaseModel):
    """A record that may carry more keys than listed (forward compatible)."""

    model_config = ConfigDict(extra="allow", strict=True)


class SeedSourceRecord(_Open):
    """The declared seed source (issue #17)."""

    text: StrictStr
    form: StrictStr | None = None


class Provenance(_Open):
    """``provenance.json``: versions, inputs, policy, seed and the hash of every file."""

    creditsup: StrictStr
    versions: dict[str, StrictStr]
    algorithm: Annotated[str, Field(pattern=r"^creditsup-draw/[0-9]+$")]
    algorithms: dict[str, StrictStr] | None = None
    year: StrictInt
    seed: StrictStr
    seed_commitment: Sha256
    seed_source: SeedSourceRecord | None = None
    inputs: dict[str, Sha256]
    policy: dict[str, Any]
    policy_hash: Sha256
    as_of: StrictStr
    operator: StrictStr
    created_at: StrictStr
    counts: dict[str, dict[str, Any]]
    ledger_head: Sha256
    outputs: dict[str, Sha256]


class Unfilled(_Open):
    """A visit that cannot be staffed, and why."""

    visit_id: StrictStr
    reason: StrictStr
    reason_zh: StrictStr | None = None


class Binding(_Open):
    """A constraint group that binds: what is needed against what is available."""

    group: StrictStr
    group_zh: StrictStr | None = None
    needed: int | float | None = None
    available: int | float | None = None
    department: StrictStr | None = None
    month: int | None = None
    visit_id: StrictStr | None = None


class Diagnostics(_Open):
    """``diagnostics.json``: empty lists when every visit is staffed."""

    unfilled: list[Unfilled]
    binding: list[Binding]
    capacity: list[dict[str, Any]] | None = None


class LedgerRecord(_Open):
    """One line of ``ledger.jsonl``: a hash-chained step of the draw record."""

    stage: StrictStr
    seq: Annotated[StrictInt, Field(ge=0)]
    prev_hash: Sha256
    hash: Sha256


def _rows(columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {c: {"type": "string"} for c in columns},
        "required": list(columns),
        "additionalProperties": False,
    }


def _public() -> dict[str, Any]:
    from creditsup.publish import PUBLIC_COLUMNS

    return {
        "$schema": _DRAFT,
        "title": "creditsup public files (一公开)",
        "description": (
            "One row of each public CSV file, by file name; every cell is text. "
            "CSV headers read '中文名 key' (zh) or 'key' (en)."
        ),
        "type": "object",
        "properties": {
            f"{name}.csv": {"type": "array", "items": _rows(cols)}
            for name, cols in PUBLIC_COLUMNS.items()
        },
    }


_MODELS: dict[str, type[BaseModel]] = {
    "provenance": Provenance,
    "diagnostics": Diagnostics,
    "ledger": LedgerRecord,
    "policy": Policy,
}
#: The schemas ``creditsup schema`` can print.
SCHEMA_NAMES = (*_MODELS, "public")


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of one kind of file creditsup writes.

    Parameters
    ----------
    name : {"provenance", "diagnostics", "ledger", "policy", "public"}
        ``ledger`` describes one line of ``ledger.jsonl``; ``public`` the rows
        of the public CSV files.

    Raises
    ------
    ConfigError
        An unknown name.
    """
    if name == "public":
        return _public()
    model = _MODELS.get(name)
    if model is None:
        raise ConfigError(
            f"The schema must be one of {', '.join(SCHEMA_NAMES)}. Got {name!r} instead."
        )
    schema = model.model_json_schema()
    return {"$schema": _DRAFT, **schema}
