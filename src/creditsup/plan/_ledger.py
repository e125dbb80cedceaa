"""The draw record (全程留痕): canonical JSON, hash chain and the commitment."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from creditsup.config import config_hash
from creditsup.exceptions import ConfigError
from creditsup.policy import Policy
from creditsup.schemas import Dataset

__all__ = [
    "ALGORITHM_VERSION",
    "GENESIS",
    "PUBLIC_ALGORITHM",
    "SeedSource",
    "canonical",
    "chain",
    "check_chain",
    "commitment_of",
    "compute_commitment",
    "sha256",
]

#: Bumped whenever a change alters the draw for the same inputs and seed.
#: 1: creditsup 0.1.0. 2: creditsup 0.2.0 (public plan window from the policy,
#: checking bodies in the public lists). 3: creditsup 0.3.0 (issue #12: tier
#: ratios as entity-level inclusion with one PRN per entity, one door per
#: entity, legal floors, capacity check, new entities tiered, targeted draws,
#: team limits per department, ``id_kind`` in visits and exclusions). 4:
#: creditsup 0.4.0 (issue #14: the same-region candidate arcs of each task
#: capped to a keyed random subset, ``same_region_candidates``).
ALGORITHM_VERSION = "creditsup-draw/4"
#: The algorithm of each stage whose output a replay depends on (provenance).
PUBLIC_ALGORITHM = "creditsup-public/2"
GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces) of ``obj``."""
    return json.dumps(
        obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SeedSource:
    """Where the seed will come from, declared before it is known.

    Parameters
    ----------
    text : str
        The source, e.g. ``"福彩3D, draw of 2027-01-05"``.
    form : str, optional
        A regular expression the seed must match in full, e.g.
        ``"[0-9] [0-9] [0-9]"`` for a 3D lottery result. ``verify`` checks it.

    Examples
    --------
    >>> src = SeedSource("福彩3D 2027-01-05", "[0-9] [0-9] [0-9]")
    >>> src.check("3 0 7") is None
    True
    >>> src.check("hello")
    "the seed 'hello' does not have the form the seed source declared ([0-9] [0-9] [0-9])"
    """

    text: str
    form: str | None = None

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ConfigError("The 'seed source' must not be empty.")
        if self.form is not None:
            try:
                re.compile(self.form)
            except re.error as exc:
                raise ConfigError(
                    f"The 'seed form' must be a regular expression. Got "
                    f"{self.form!r} instead ({exc})."
                ) from None

    def as_json(self) -> dict[str, str]:
        """The record written into the commitment, provenance and ledger."""
        out = {"text": self.text}
        if self.form is not None:
            out["form"] = self.form
        return out

    def check(self, seed: str) -> str | None:
        """``None`` when ``seed`` has the declared form, else the problem."""
        if self.form is None or re.fullmatch(self.form, seed):
            return None
        return (
            f"the seed {seed!r} does not have the form the seed source declared "
            f"({self.form})"
        )

    @classmethod
    def from_json(cls, data: object) -> SeedSource | None:
        """The source recorded in a bundle (``None`` when none was declared)."""
        if not isinstance(data, dict) or "text" not in data:
            return None
        form = data.get("form")
        return cls(str(data["text"]), None if form is None else str(form))


def compute_commitment(
    dataset: Dataset,
    policy: Policy | None = None,
    *,
    year: int,
    seed_source: SeedSource | None = None,
) -> str:
    """The publish-before-draw commitment: a hash of the inputs and the policy.

    It does not depend on the seed, the row order of the tables, or the
    machine, so a bureau can publish it before the seed is known; anyone can
    later recompute it from the published inputs. With ``seed_source``, it
    also binds where the seed will come from, so that the source cannot be
    chosen after the fact.
    """
    return commitment_of(
        dataset.table_hashes(), policy, year=year, seed_source=seed_source
    )


def commitment_of(
    table_hashes: Mapping[str, str],
    policy: Policy | None = None,
    *,
    year: int,
    seed_source: SeedSource | None = None,
) -> str:
    """:func:`compute_commitment` from table hashes already computed.

    ``build_plan`` hashes each input table once and uses the hashes both
    here and in the ledger.
    """
    policy = policy or Policy()
    payload: dict[str, Any] = {
        "commitment": ALGORITHM_VERSION,
        "year": int(year),
        "tables": dict(table_hashes),
        "policy": config_hash(policy),
    }
    if seed_source is not None:
        payload["seed_source"] = seed_source.as_json()
    return sha256(canonical(payload))


def chain(
    records: Sequence[Mapping[str, Any]], prev: str = GENESIS
) -> list[dict[str, Any]]:
    """Hash-chain ledger records: each carries ``seq``, ``prev_hash`` and ``hash``."""
    out: list[dict[str, Any]] = []
    for rec in records:
        body = {k: v for k, v in rec.items() if k not in ("hash", "prev_hash", "seq")}
        body["seq"] = len(out) if not out else out[-1]["seq"] + 1
        body["prev_hash"] = prev
        body["hash"] = sha256(canonical(body))
        out.append(body)
        prev = body["hash"]
    return out


def check_chain(ledger: Sequence[Mapping[str, Any]]) -> str | None:
    prev = GENESIS
    for i, rec in enumerate(ledger):
        if rec.get("seq") != i:
            return (
                f"ledger line {i + 1}: sequence number {rec.get('seq')!r}, expected {i}"
            )
        if rec.get("prev_hash") != prev:
            return f"ledger line {i + 1}: prev_hash does not match the line before"
        body = {k: v for k, v in rec.items() if k != "hash"}
        if sha256(canonical(body)) != rec.get("hash"):
            return f"ledger line {i + 1}: its hash does not match its content"
        prev = str(rec["hash"])
    return None
