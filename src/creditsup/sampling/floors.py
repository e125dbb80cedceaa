"""The legal floors of a draw (R08, R23), checked on the pools (global, no seed).

Three floors, each configurable per locality (``SamplingPolicy.floors``) and
each waivable only explicitly (``waive`` with a ``waive_reason``):

* ``overall`` -- at least 5 % of the eligible (supervised) entities visited in
  the year. With one permanent random number per entity, entity ``k`` is
  visited with probability ``R_k = max_i pi_ik`` over its items (exact under
  ``coordination = 'entity'``, a lower bound otherwise), so the planned share
  is ``sum(R_k) / n_eligible``.
* ``publicity`` -- at least 3 % of eligible enterprises get a
  publicity-information check: the same with the publicity items only.
* ``key_d`` -- key items checked at 100 % for tiers D and E (R23): every such
  pool member's probability must reach the floor.

A floor the policy's ratios miss raises :class:`ConfigError` naming it;
a waived floor is recorded instead. :func:`floor_scale` is the smallest
factor on the discretionary ratios that still meets the floors: budgets
(``budget = 'share'`` or ``'capacity'``) never scale below it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from creditsup.exceptions import ConfigError
from creditsup.sampling._arrays import F64, B
from creditsup.sampling.context import DrawContext
from creditsup.sampling.eligibility import EntityPools
from creditsup.sampling.policy import KEY_FLOOR_TIERS
from creditsup.schemas import TIERS

__all__ = [
    "FloorCheck",
    "check_floors",
    "entity_pi",
    "floor_scale",
    "scaled_pi",
    "split_pi",
]

_TEXT = {
    "overall": "share of eligible entities visited in the year (R08)",
    "publicity": "share of eligible enterprises with a publicity-information "
    "check (R08)",
    "key_d": "ratio of key items for tiers D and E (R23)",
}


def scaled_pi(pools: EntityPools, scale: float) -> Sequence[F64]:
    """Each pool's probability after the budget factor (mandates unscaled)."""
    if not scale < 1.0:
        return pools.pool_pi
    return [
        np.where(u, p, np.minimum(1.0, p * scale))
        for p, u in zip(pools.pool_pi, pools.pool_unscaled, strict=True)
    ]


def entity_pi(
    pools: EntityPools, pool_pi: Sequence[F64], items: B | None = None
) -> F64:
    """``R_k``: the largest probability of each entity over its (selected) items.

    Examples
    --------
    >>> from creditsup.sampling._examples import tiny_context
    >>> from creditsup.sampling.eligibility import eligible_pools
    >>> ds, _, ctx = tiny_context()
    >>> p = eligible_pools(ds.entities, ctx)
    >>> entity_pi(p, p.pool_pi).tolist()  # tier D at 0.7; the first is deregistered
    [0.0, 0.7, 0.7, 0.7, 0.7, 0.7]
    """
    r = np.zeros(len(pools.uscc), dtype=np.float64)
    for i, (idx, p) in enumerate(zip(pools.pools, pool_pi, strict=True)):
        if items is None or items[i]:
            r[idx] = np.maximum(r[idx], p)
    return r


@dataclass(frozen=True)
class FloorCheck:
    """The floors on the policy's ratios: one record per floor.

    Each record: ``floor``, ``required``, ``planned`` (expected share, or the
    lowest key ratio for ``key_d``), ``base`` (entities it applies to),
    ``status`` (``ok``, ``waived``, ``unchecked``) and ``detail``.
    """

    records: list[dict[str, Any]]
    waivers: list[dict[str, Any]]
    warnings: list[dict[str, Any]]

    def required(self, name: str) -> float | None:
        """The floor to keep when scaling (``None``: waived or not applicable)."""
        for r in self.records:
            if r["floor"] == name and r["status"] == "ok":
                return float(r["required"])
        return None


def split_pi(pools: EntityPools, items: B | None = None) -> tuple[F64, F64]:
    """Per entity, the largest mandate probability and the largest
    discretionary one (over the selected items): at budget factor ``s`` the
    entity's chance is ``max(mandate, min(1, s * free))``."""
    mandate = np.zeros(len(pools.uscc), dtype=np.float64)
    free = np.zeros(len(pools.uscc), dtype=np.float64)
    for i, (idx, p, u) in enumerate(
        zip(pools.pools, pools.pool_pi, pools.pool_unscaled, strict=True)
    ):
        if items is None or items[i]:
            mandate[idx[u]] = np.maximum(mandate[idx[u]], p[u])
            free[idx[~u]] = np.maximum(free[idx[~u]], p[~u])
    return mandate, free


def _share_fn(pools: EntityPools, base: B, items: B | None) -> Callable[[float], float]:
    """The planned share over ``base`` as a function of the budget factor."""
    n = int(base.sum())
    mandate, free = (a[base] for a in split_pi(pools, items))

    def share(scale: float) -> float:
        if not n:
            return 0.0
        return float(np.maximum(mandate, np.minimum(1.0, scale * free)).sum() / n)

    return share


def _key_d(pools: EntityPools, ctx: DrawContext) -> tuple[float, int]:
    """The lowest key-item probability of a tier D/E pool member, and how many."""
    hi = np.array([TIERS.index(t) for t in KEY_FLOOR_TIERS])
    low, n = 1.0, 0
    for i in np.flatnonzero(ctx.item_key).tolist():
        t = pools.tier[pools.pools[i]]
        p = pools.pool_pi[i][np.isin(t, hi)]
        n += len(p)
        if len(p):
            low = min(low, float(p.min()))
    return low, n


def check_floors(pools: EntityPools, ctx: DrawContext) -> FloorCheck:
    """Check the policy's ratios against the legal floors; refuse or record.

    Raises
    ------
    ConfigError
        A floor that is not waived is missed by the policy's ratios.
    """
    policy, floors = ctx.policy, ctx.policy.floors
    elig = pools.eligible
    ent = elig & pools.enterprise
    overall = _share_fn(pools, elig, None)(1.0)
    publicity = _share_fn(pools, ent, ctx.item_publicity)(1.0)
    key_low, key_n = _key_d(pools, ctx)
    rows = [
        ("overall", floors.overall, overall, int(elig.sum())),
        ("publicity", floors.publicity, publicity, int(ent.sum())),
        ("key_d", floors.key_d, key_low, key_n),
    ]
    records, waivers, warnings = [], [], []
    for name, required, planned, base in rows:
        status, detail = "ok", ""
        if name == "publicity" and base and not ctx.item_publicity.any():
            status = "unchecked"
            detail = "no item is flagged as a publicity-information check"
            warnings.append(
                {
                    "code": "publicity_floor_unchecked",
                    "message": "No check item is flagged as a publicity-information "
                    "check (items.publicity or publicity_items): the floor of "
                    f"{required:.0%} of enterprises (R08) cannot be checked.",
                }
            )
        elif base == 0:
            status, detail = "unchecked", "no entity it applies to"
        elif name in policy.waive:
            status, detail = "waived", policy.waive_reason
            waivers.append(
                {
                    "floor": name,
                    "required": required,
                    "planned": round(planned, 6),
                    "reason": policy.waive_reason,
                }
            )
        elif planned < required - 1e-12:
            raise ConfigError(
                f"The sampling policy misses the legal floor '{name}': the "
                f"{_TEXT[name]} is {planned:.2%} against {required:.0%}. Raise the "
                f"ratios, or waive the floor explicitly: waive = ['{name}'] with a "
                "waive_reason."
            )
        records.append(
            {
                "floor": name,
                "required": required,
                "planned": round(planned, 6),
                "base": base,
                "status": status,
                "detail": detail,
            }
        )
    return FloorCheck(records, waivers, warnings)


def floor_scale(pools: EntityPools, ctx: DrawContext, check: FloorCheck) -> float:
    """The smallest factor on the discretionary ratios that meets the floors.

    By bisection on the planned shares (they grow with the factor); 0 when
    the mandates alone meet every floor that applies.
    """
    tests: list[tuple[Callable[[float], float], float]] = []
    for name, items, base in (
        ("overall", None, pools.eligible),
        ("publicity", ctx.item_publicity, pools.eligible & pools.enterprise),
    ):
        need = check.required(name)
        if need is not None:
            tests.append((_share_fn(pools, base, items), need))

    def meets(s: float) -> bool:
        return all(fn(s) >= need - 1e-12 for fn, need in tests)

    if meets(0.0):
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return hi
