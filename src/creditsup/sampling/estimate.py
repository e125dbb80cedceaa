"""Stage 8: Monte Carlo inclusion probabilities of the draw.

Caps and minimum coverage change the inclusion probabilities that the
ratios set, so :func:`estimate_inclusion` re-runs the seed-dependent stages
(:func:`~creditsup.sampling.pipeline.draw_once`) under many keys on one
prepared :class:`~creditsup.sampling.pipeline.Design`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from creditsup.sampling._arrays import F64, id_texts
from creditsup.sampling.budget import final_draw
from creditsup.sampling.floors import entity_pi
from creditsup.sampling.pipeline import Design, prepare
from creditsup.sampling.policy import SamplingPolicy
from creditsup.sampling.visits import Draw
from creditsup.schemas import TIERS, Dataset

__all__ = ["estimate", "estimate_inclusion"]


class _Tally:
    """Counts over keys: per (item, tier), per entity, per (item, entity) pair."""

    def __init__(self, design: Design, per_entity: bool) -> None:
        pools, nt = design.pools, len(TIERS)
        n_items, n = len(pools.pools), len(pools.uscc)
        self.pools, self.per_entity = pools, per_entity
        self.offsets = np.r_[0, np.cumsum([len(p) for p in pools.pools])]
        self.pair_drawn = np.zeros(int(self.offsets[-1]), dtype=np.int64)
        self.pair_final = np.zeros(int(self.offsets[-1]), dtype=np.int64)
        self.pos_in_pool = np.full(n if per_entity else 0, -1, dtype=np.int64)
        self.s_drawn = np.zeros((n_items, nt), dtype=np.int64)
        self.s_final = np.zeros((n_items, nt), dtype=np.int64)
        self.s_final_sq = np.zeros((n_items, nt), dtype=np.float64)
        self.a_final_sq = np.zeros(nt, dtype=np.float64)
        self.any_final = np.zeros(n, dtype=np.int64)

    def add(self, d: Draw) -> None:
        chk, pools = d.checks, self.pools
        t = pools.tier[chk.ent].astype(np.int64)
        keep = d.keep[d.visits.chk_visit]
        rnd = ~chk.cov
        np.add.at(self.s_drawn, (chk.item[rnd], t[rnd]), 1)
        one = np.zeros_like(self.s_final)
        np.add.at(one, (chk.item[keep], t[keep]), 1)
        self.s_final += one
        self.s_final_sq += one.astype(np.float64) ** 2
        vis_ent = np.unique(chk.ent[keep])
        self.any_final[vis_ent] += 1
        nt = len(TIERS)
        self.a_final_sq += np.bincount(pools.tier[vis_ent], minlength=nt)[:nt] ** 2.0
        if self.per_entity:
            # position of each check in the concatenated (item, pool) pairs
            pair = np.empty(len(chk.ent), dtype=np.int64)
            for i in np.unique(chk.item):
                m = chk.item == i
                self.pos_in_pool[pools.pools[i]] = np.arange(len(pools.pools[i]))
                pair[m] = self.offsets[i] + self.pos_in_pool[chk.ent[m]]
            np.add.at(self.pair_drawn, pair[rnd], 1)
            np.add.at(self.pair_final, pair[keep], 1)


def _mean_se(total: float, total_sq: float, n_keys: int, size: int) -> float:
    """Standard error of the mean per-key stratum share (from per-key counts)."""
    if n_keys < 2 or size == 0:
        return float("nan")
    mean = total / n_keys
    var = max(total_sq / n_keys - mean**2, 0.0) * n_keys / (n_keys - 1)
    return float(math.sqrt(var / n_keys) / size)


def _target_pi(design: Design, i: int) -> F64:
    """Item ``i``'s inclusion probability per pool member (SRSWOR: n_h / N_h)."""
    alloc = design.alloc.stratum_n[i]
    if alloc is None:
        return design.alloc.pool_pi[i]
    strat = design.pools.pool_stratum[i].astype(np.int64)
    sizes = np.bincount(strat, minlength=len(alloc))
    with np.errstate(invalid="ignore", divide="ignore"):
        pi = np.where(sizes > 0, alloc / np.maximum(sizes, 1), 0.0)
    out: F64 = pi[strat].astype(np.float64)
    return out


def _entity_frame(design: Design, tally: _Tally, n_keys: int) -> pd.DataFrame:
    pools, ctx = design.pools, design.ctx
    tiers = np.array(TIERS, dtype=object)
    rows = []
    for i, p in enumerate(pools.pools):
        sl = slice(int(tally.offsets[i]), int(tally.offsets[i + 1]))
        rows.append(
            pd.DataFrame(
                {
                    "uscc": id_texts(pools.uscc[p]),
                    "item_id": str(ctx.item_ids[i]),
                    "tier": tiers[pools.tier[p]],
                    "target_pi": _target_pi(design, i),
                    "pi_drawn": tally.pair_drawn[sl] / n_keys,
                    "pi_final": tally.pair_final[sl] / n_keys,
                }
            )
        )
    e = np.flatnonzero(pools.reason < 0)
    rows.append(
        pd.DataFrame(
            {
                "uscc": id_texts(pools.uscc[e]),
                "item_id": "(any)",
                "tier": tiers[pools.tier[e]],
                "target_pi": entity_pi(pools, design.alloc.pool_pi)[e],
                "pi_drawn": np.nan,
                "pi_final": tally.any_final[e] / n_keys,
            }
        )
    )
    out = pd.concat(rows, ignore_index=True)
    out["n_keys"] = n_keys
    return out


def _stratum_frame(design: Design, tally: _Tally, n_keys: int) -> pd.DataFrame:
    pools, ctx, nt = design.pools, design.ctx, len(TIERS)
    recs: list[dict[str, Any]] = []
    for i, p in enumerate(pools.pools):
        t_idx = pools.tier[p].astype(np.int64)
        pool = np.bincount(t_idx, minlength=nt)[:nt]
        sum_pi = np.bincount(t_idx, weights=_target_pi(design, i), minlength=nt)[:nt]
        for j in np.flatnonzero(pool):
            denom = pool[j] * n_keys
            s_final, sq = tally.s_final[i, j], tally.s_final_sq[i, j]
            recs.append(
                {
                    "item_id": str(ctx.item_ids[i]),
                    "department": ctx.departments[ctx.item_dept[i]],
                    "tier": TIERS[j],
                    "pool_size": int(pool[j]),
                    "target_pi": float(sum_pi[j] / pool[j]),
                    "pi_drawn": float(tally.s_drawn[i, j] / denom),
                    "pi_final": float(s_final / denom),
                    "se_final": _mean_se(s_final, sq, n_keys, int(pool[j])),
                    "n_keys": n_keys,
                }
            )
    elig = pools.reason < 0
    r = entity_pi(pools, design.alloc.pool_pi)
    for jt in range(nt):
        m = elig & (pools.tier == jt)
        if not m.any():
            continue
        total, size = int(tally.any_final[m].sum()), int(m.sum())
        recs.append(
            {
                "item_id": "(any)",
                "department": "(any)",
                "tier": TIERS[jt],
                "pool_size": size,
                "target_pi": float(r[m].mean()),
                "pi_drawn": np.nan,
                "pi_final": float(tally.any_final[m].mean() / n_keys),
                "se_final": _mean_se(total, tally.a_final_sq[jt], n_keys, size),
                "n_keys": n_keys,
            }
        )
    return pd.DataFrame(recs)


def estimate(
    design: Design, *, n_keys: int, seed: str, by: str = "stratum"
) -> pd.DataFrame:
    """Inclusion frequencies of ``design`` over keys ``f"{seed}#{k}"``."""
    tally = _Tally(design, per_entity=by == "entity")
    for k in range(n_keys):
        tally.add(final_draw(design, f"{seed}#{k}", diagnose=False)[0])
    if by == "entity":
        return _entity_frame(design, tally, n_keys)
    return _stratum_frame(design, tally, n_keys)


def estimate_inclusion(
    dataset: Dataset,
    tiers: pd.DataFrame,
    policy: SamplingPolicy | None = None,
    *,
    year: int,
    n_keys: int = 200,
    seed: str = "creditsup-inclusion",
    by: Literal["stratum", "entity"] = "stratum",
) -> pd.DataFrame:
    """Monte Carlo inclusion probabilities of the draw, after caps and coverage.

    Caps and minimum coverage change the inclusion probabilities that the
    ratios set, so they are estimated by re-running the draw under
    ``n_keys`` independent seeds ``f"{seed}#{k}"``. The preparation (pools,
    eligibility) is done once.

    Parameters
    ----------
    by : {"stratum", "entity"}
        ``"stratum"``: one row per (item, tier) with ``pool_size``,
        ``target_pi`` (mean nominal probability), ``pi_drawn`` (before the cap),
        ``pi_final`` (after cap and coverage) and ``se_final``; plus rows with
        ``item_id == "(any)"``: the probability that an eligible entity of the
        tier is visited at all, against ``target_pi`` = the mean of each
        entity's largest item probability (the tier ratio under the default
        policy, mandates included). ``"entity"``: the same per (entity, item)
        pair and per entity (for small pools).

    Examples
    --------
    >>> from creditsup.schemas import validate_dataset
    >>> from creditsup.uscc import generate
    >>> ids = generate(40, rng=np.random.default_rng(2))
    >>> ds = validate_dataset({
    ...     "entities": pd.DataFrame({"uscc": ids, "name": "e",
    ...         "entity_type": "enterprise", "industry": "F5211",
    ...         "region": "140902", "established": "2010-01-01", "status": "active"}),
    ...     "items": pd.DataFrame({"item_id": ["M1"], "department": ["market"],
    ...         "name": ["m"], "legal_basis": ["law"], "kind": "general"}),
    ...     "inspectors": pd.DataFrame({"inspector_id": ["i1"], "name": ["x"],
    ...         "department": ["market"], "region": "140902", "expertise": "general",
    ...         "monthly_capacity": 9})})
    >>> inc = estimate_inclusion(ds, pd.DataFrame({"uscc": ids, "tier": "B"}),
    ...                          SamplingPolicy(),
    ...                          year=2027, n_keys=50)
    >>> row = inc[inc["item_id"] == "M1"].iloc[0]
    >>> round(float(row["target_pi"]), 6), bool(abs(row["pi_final"] - 0.1) < 0.05)
    (0.1, True)
    """
    policy = policy if policy is not None else SamplingPolicy()
    design = prepare(dataset, tiers, policy, int(year))
    return estimate(design, n_keys=n_keys, seed=seed, by=by)
