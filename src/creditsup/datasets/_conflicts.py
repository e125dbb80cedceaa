"""The conflicts stage: the inspectors' declared conflicts of interest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from creditsup._random import stage_rng
from creditsup.datasets import _catalog as cat
from creditsup.datasets._arrays import choice, pick, to_text
from creditsup.datasets._entities import Entities

__all__ = ["build_conflicts"]


def build_conflicts(seed: str, insp: pd.DataFrame, ents: Entities) -> pd.DataFrame:
    """The ``conflicts`` table: each inspector declares about 0.5 % of the
    entities of a region (3-30), 80 % of them in their own region."""
    rng = stage_rng(seed, "synth", "conflicts")
    n, n_reg = len(ents.s), len(cat.REGIONS)
    if n == 0 or not len(insp):
        return pd.DataFrame(
            {"inspector_id": [], "uscc": [], "reason": []}, dtype=object
        )
    mu = float(np.clip(0.005 * n / n_reg, 3, 30))
    k = rng.poisson(mu, len(insp))
    ins = np.repeat(np.arange(len(insp)), k)
    codes = [r.code for r in cat.REGIONS]
    ireg = pd.Index(codes).get_indexer(pd.Index(insp["region"]))[ins]
    order = np.argsort(ents.region, kind="stable")
    cnt = np.bincount(ents.region, minlength=n_reg)
    off = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    same = (rng.random(len(ins)) < 0.8) & (cnt[ireg] > 0)
    u = rng.random(len(ins))
    ent = np.where(
        same,
        order[np.minimum(off[ireg] + np.floor(u * cnt[ireg]).astype(np.int64), n - 1)],
        np.floor(u * n).astype(np.int64),
    )
    pair = np.unique(ins.astype(np.int64) * n + ent)
    ins, ent = pair // n, pair % n
    reasons = pick(
        [r for r, _ in cat.CONFLICT_REASONS],
        choice(rng, np.array([w for _, w in cat.CONFLICT_REASONS]), len(ins)),
    )
    return pd.DataFrame(
        {
            "inspector_id": insp["inspector_id"].to_numpy(dtype=object)[ins],
            "uscc": to_text(ents.uscc_pa.take(pa.array(ent))),
            "reason": reasons,
        }
    )
