"""A six-entity district for the docstring examples of the sampling stages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditsup.schemas import Dataset, validate_dataset
from creditsup.uscc import generate

if TYPE_CHECKING:
    from creditsup.sampling.context import DrawContext
    from creditsup.sampling.policy import SamplingPolicy

__all__ = ["tiny_context", "tiny_draw_inputs"]


def tiny_draw_inputs() -> tuple[Dataset, pd.DataFrame]:
    """Six entities (one deregistered), two items of one joint group, tier D.

    Examples
    --------
    >>> ds, tiers = tiny_draw_inputs()
    >>> len(ds.entities), sorted(ds.items["item_id"]), set(tiers["tier"])
    (6, ['F1', 'M1'], {'D'})
    """
    ids = generate(6, rng=np.random.default_rng(1))
    ds = validate_dataset(
        {
            "entities": pd.DataFrame(
                {
                    "uscc": ids,
                    "name": list("abcdef"),
                    "entity_type": "enterprise",
                    "industry": "F5211",
                    "region": "140902",
                    "established": "2010-01-01",
                    "status": ["active"] * 5 + ["deregistered"],
                }
            ),
            "items": pd.DataFrame(
                {
                    "item_id": ["M1", "F1"],
                    "department": ["market", "food"],
                    "name": ["m", "f"],
                    "legal_basis": ["law 1", "law 2"],
                    "kind": "general",
                    "joint_group": ["G", "G"],
                }
            ),
            "inspectors": pd.DataFrame(
                {
                    "inspector_id": ["i1", "i2"],
                    "name": ["x", "y"],
                    "department": ["market", "food"],
                    "region": "140902",
                    "expertise": "general",
                    "monthly_capacity": 4,
                }
            ),
        }
    )
    return ds, pd.DataFrame({"uscc": ds.entities["uscc"], "tier": "D"})


def tiny_context(
    policy: SamplingPolicy | None = None,
) -> tuple[Dataset, pd.DataFrame, DrawContext]:
    """:func:`tiny_draw_inputs` and their draw context for 2027.

    Examples
    --------
    >>> ds, tiers, ctx = tiny_context()
    >>> ctx.year, ctx.groups
    (2027, ['G'])
    """
    from creditsup.sampling.context import build_context
    from creditsup.sampling.policy import SamplingPolicy

    ds, tiers = tiny_draw_inputs()
    return ds, tiers, build_context(ds, tiers, policy or SamplingPolicy(), 2027)
