"""The draw record (全程留痕): canonical JSON, hash chain and the commitment."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from creditsup.config import config_hash
from creditsup.policy import Policy
from creditsup.schemas import Dataset

__all__ = [
    "ALGORITHM_VERSION",
    "GENESIS",
    "canonical",
    "chain",
    "check_chain",
    "compute_commitment",
    "sha256",
]

#: Bumped whenever a change alters the draw for the same inputs and seed.
ALGORITHM_VERSION = "creditsup-draw/1"
GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces) of ``obj``."""
    return json.dumps(
        obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
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
