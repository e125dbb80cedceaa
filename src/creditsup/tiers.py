"""Credit risk tiers A–D (optional E) from scores, with hard overrides.

Rules C1–C3 of ``domain.md`` §c: tiers run from A (low risk) to D (high risk),
optionally E; the score → tier mapping is by cut-offs or by quantiles (no
national cut-offs are published); overrides lift an entity to at least a given
tier: serious-illegal list → top tier, abnormal list → at least C.

Every entity gets ``tier_reason`` (``'score'`` or the override that set its
tier) and ``reasons``: the top three reason codes (the indicators that cost it
the most points, see :func:`creditsup.scoring.reason_codes`). Tiers are
internal (C3): never publish them.

Quantile mapping
----------------
Entities with equal scores always get the same tier. For each boundary the
cut-off is the score value whose share of entities strictly below it is
nearest the target cumulative share (ties go to the lower value). Because an
entity's tier only depends on its score and on these cut-offs, raising one
entity's score never lowers its tier, and lowering it never raises its tier
(tested with hypothesis).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, model_validator

from creditsup.config import FrozenModel
from creditsup.exceptions import ConfigError
from creditsup.io import write_csv
from creditsup.schemas import TIERS, RecordKind
from creditsup.scoring import (
    Scorecard,
    ScoreResult,
    active_flags,
    labels_from_codes,
    lookup,
    reason_codes,
    score_entities,
    to_day,
)
from creditsup.scoring._arrays import BoolArray, IntArray

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "SCORES_COLUMNS",
    "TierOverride",
    "TierPolicy",
    "TierResult",
    "apply_overrides",
    "assign_tiers",
    "override_flags",
    "rate_entities",
    "tier_cutoffs",
    "tier_scores",
    "write_scores",
]

logger = logging.getLogger(__name__)

#: A share of the entities (a tier's target share).
Share = Annotated[float, Field(ge=0, le=1)]
_DEFAULT_SHARES = {4: (0.20, 0.60, 0.15, 0.05), 5: (0.20, 0.55, 0.15, 0.07, 0.03)}
#: Columns of ``scores.csv`` (contract.md §3).
SCORES_COLUMNS = ("uscc", "score", "tier", "tier_reason", "reasons")


class TierOverride(FrozenModel):
    """A hard override: a live record of ``kinds`` lifts the entity to ``min_tier``.

    Parameters
    ----------
    name : str
        Written to ``tier_reason`` when the override sets the tier.
    kinds : tuple of str
        Record kinds whose live record (not ended, not restored) triggers it.
    min_tier : str
        A tier label, or ``'top'`` for the highest tier of the policy.
    min_listed_days : int
        Only records listed for at least this many days as of the date (e.g.
        ``1096`` with ``min_tier='top'`` for "three years on the abnormal list").
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Override id (reason).")
    kinds: tuple[RecordKind, ...] = Field(
        min_length=1, description="Live records of these kinds trigger the override."
    )
    min_tier: str = Field(
        "top", description="Lowest tier the entity can get ('top': the riskiest)."
    )
    min_listed_days: int = Field(
        default=0, ge=0, description="Days a record must be live before it counts."
    )


def _default_overrides() -> tuple[TierOverride, ...]:
    return (
        TierOverride(
            name="serious_illegal", kinds=("serious_illegal_list",), min_tier="top"
        ),
        TierOverride(name="abnormal", kinds=("abnormal_list",), min_tier="C"),
    )


class TierPolicy(FrozenModel):
    """How scores become tiers (C1, C2).

    Parameters
    ----------
    tiers : tuple of str
        ``('A', 'B', 'C', 'D')`` or ``('A', 'B', 'C', 'D', 'E')``; A is the
        lowest risk.
    method : {'quantile', 'cutoff'}
        Quantiles of the score distribution (``shares``), or fixed ``cutoffs``.
    shares : tuple of float
        Target share of each tier (sums to 1). Defaults to 20/60/15/5 %
        (20/55/15/7/3 % with five tiers).
    cutoffs : tuple of float
        ``len(tiers) - 1`` non-decreasing scores: a score ``>= cutoffs[k]`` is
        at least tier ``k + 1``.
    overrides : tuple of TierOverride
        Default: ``serious_illegal`` → top tier, ``abnormal`` → at least C.

    Examples
    --------
    >>> TierPolicy().shares
    (0.2, 0.6, 0.15, 0.05)
    >>> TierPolicy(tiers=("A", "B", "C", "D", "E")).top
    'E'
    >>> TierPolicy(shares=(0.5, 0.5, 0.5, 0.5))
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: TierPolicy: The 'shares' ... must sum to 1. ...
    """

    tiers: tuple[str, ...] = Field(
        ("A", "B", "C", "D"), description="Tier names, lowest risk first."
    )
    method: Literal["quantile", "cutoff"] = Field(
        "quantile", description="Cut scores at population shares or at fixed scores."
    )
    shares: tuple[Share, ...] = Field(
        (), description="Share of entities per tier (method = 'quantile')."
    )
    cutoffs: tuple[float, ...] = Field(
        (), description="Score cut-offs between tiers (method = 'cutoff')."
    )
    overrides: tuple[TierOverride, ...] = Field(
        default_factory=_default_overrides,
        description="Hard rules: serious-illegal list -> top tier, abnormal -> >= C.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_shares(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("shares"):
            n = len(data.get("tiers", TIERS[:4]))
            if n in _DEFAULT_SHARES:
                data = {**data, "shares": _DEFAULT_SHARES[n]}
        return data

    @model_validator(mode="after")
    def _check(self) -> TierPolicy:
        n = len(self.tiers)
        if self.tiers not in (TIERS[:4], TIERS):
            raise ValueError(
                "The 'tiers' of TierPolicy must be ('A', 'B', 'C', 'D') or "
                f"('A', 'B', 'C', 'D', 'E'). Got {self.tiers} instead."
            )
        if len(self.shares) != n:
            raise ValueError(
                f"The 'shares' of TierPolicy must have one value per tier ({n}). Got "
                f"{len(self.shares)} instead."
            )
        if abs(sum(self.shares) - 1.0) > 1e-6:
            raise ValueError(
                f"The 'shares' of TierPolicy must sum to 1. Got {sum(self.shares):g} "
                "instead."
            )
        if self.method == "cutoff":
            if len(self.cutoffs) != n - 1:
                raise ValueError(
                    f"The 'cutoffs' of TierPolicy must have len(tiers) - 1 = {n - 1} "
                    f"values with method='cutoff'. Got {len(self.cutoffs)} instead."
                )
            if any(
                b < a for a, b in zip(self.cutoffs[:-1], self.cutoffs[1:], strict=True)
            ):
                raise ValueError(
                    "The 'cutoffs' of TierPolicy must be non-decreasing. Got "
                    f"{list(self.cutoffs)} instead."
                )
        names = [o.name for o in self.overrides]
        if len(set(names)) != len(names) or "score" in names:
            raise ValueError(
                "The override names of TierPolicy must be unique and not 'score'. Got "
                f"{names} instead."
            )
        for o in self.overrides:
            if o.min_tier != "top" and o.min_tier not in self.tiers:
                raise ValueError(
                    f"The 'min_tier' of override '{o.name}' must be 'top' or one of "
                    f"{list(self.tiers)}. Got {o.min_tier!r} instead."
                )
        return self

    @property
    def top(self) -> str:
        """The highest-risk tier."""
        return self.tiers[-1]

    def tier_index(self, label: str) -> int:
        """0-based index of a tier label (``'top'`` = the last)."""
        return len(self.tiers) - 1 if label == "top" else self.tiers.index(label)


def _nearest_share_cutoffs(
    scores: npt.NDArray[np.float64], targets: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """For each cumulative target share, the score value whose share of
    scores strictly below it is nearest the target (ties → lower value)."""
    if len(scores) == 0:
        return np.full(len(targets), np.inf)
    uniq, counts = np.unique(scores, return_counts=True)
    below = (np.cumsum(counts) - counts) / len(scores)
    cand = np.append(uniq, np.inf)
    share = np.append(below, 1.0)
    dist = np.abs(share[None, :] - targets[:, None])
    pick = np.argmin(np.round(dist, 12), axis=1)  # first minimum = lowest value
    return np.maximum.accumulate(cand[pick])


def tier_cutoffs(
    scores: pd.Series | npt.ArrayLike, policy: TierPolicy
) -> tuple[float, ...]:
    """The ``len(tiers) - 1`` score cut-offs of a policy for these scores.

    Examples
    --------
    >>> tier_cutoffs(list(range(100)), TierPolicy())
    (20.0, 80.0, 95.0)
    >>> tier_cutoffs([0, 0, 0, 0, 1], TierPolicy())  # ties stay together: 80 % B
    (0.0, 1.0, inf)
    """
    if policy.method == "cutoff":
        return tuple(float(c) for c in policy.cutoffs)
    s = np.asarray(scores, dtype=np.float64)
    targets = np.cumsum(np.asarray(policy.shares, dtype=np.float64))[:-1]
    return tuple(float(c) for c in _nearest_share_cutoffs(s, targets))


@dataclass(frozen=True)
class TierResult:
    """Tiers as of a date.

    Attributes
    ----------
    table : DataFrame
        ``uscc``, ``score``, ``tier``, ``tier_reason``, ``reasons``,
        ``score_tier`` (the tier from the score alone), sorted by ``uscc``.
    cutoffs : tuple of float
        The score cut-offs used.
    policy : TierPolicy
    scores : ScoreResult
    """

    table: pd.DataFrame
    cutoffs: tuple[float, ...]
    policy: TierPolicy
    scores: ScoreResult

    @property
    def as_of(self) -> pd.Timestamp:
        """The scoring date."""
        return self.scores.as_of

    def __repr__(self) -> str:
        counts = self.table["tier"].value_counts().sort_index()
        tiers = ", ".join(f"{t}={n:,}" for t, n in counts.items())
        return f"TierResult(as_of={self.as_of.date()}, entities={len(self.table):,}, {tiers})"

    def _repr_html_(self) -> str:
        return f"<b>TierResult</b> as of {self.as_of.date()}" + self.summary().to_html(
            index=False
        )

    def summary(self) -> pd.DataFrame:
        """Per tier: n, share, target share, score range, overridden count."""
        t = self.table
        n = max(len(t), 1)
        rows = []
        for label, target in zip(self.policy.tiers, self.policy.shares, strict=True):
            m = t["tier"] == label
            sc = t.loc[m, "score"]
            rows.append(
                {
                    "tier": label,
                    "n": int(m.sum()),
                    "share": float(m.sum()) / n,
                    "target_share": float(target),
                    "min_score": float(sc.min()) if len(sc) else float("nan"),
                    "max_score": float(sc.max()) if len(sc) else float("nan"),
                    "overridden": int((m & (t["tier_reason"] != "score")).sum()),
                }
            )
        return pd.DataFrame(rows)


def override_flags(
    dataset: Dataset,
    policy: TierPolicy,
    *,
    scorecard: Scorecard,
    unit_ent: IntArray,
    unit_day: IntArray,
) -> list[BoolArray]:
    """Per override of ``policy``: whether each unit (entity row, day) has a
    live record that triggers it (:func:`creditsup.scoring.active_flags`)."""
    return [
        active_flags(
            dataset,
            kinds=ov.kinds,
            unit_ent=unit_ent,
            unit_day=unit_day,
            scorecard=scorecard,
            min_days=ov.min_listed_days,
        )
        for ov in policy.overrides
    ]


def apply_overrides(
    score_idx: IntArray, flags: Sequence[BoolArray], policy: TierPolicy
) -> tuple[IntArray, IntArray]:
    """Lift tier indices to the overrides' floors.

    Returns the final tier index of each unit and the override that set it
    (its position in ``policy.overrides``; -1 = the score did). An override
    names the tier when its floor is at least the score's tier; of several,
    the one with the highest floor, then the first.

    Examples
    --------
    >>> pol = TierPolicy()  # serious_illegal -> top (3), abnormal -> C (2)
    >>> idx, why = apply_overrides(np.array([0, 1, 3]),
    ...     [np.array([False, False, True]), np.array([True, True, True])], pol)
    >>> idx.tolist(), why.tolist()
    ([2, 2, 3], [1, 1, 0])
    """
    idx = np.asarray(score_idx, dtype=np.int64)
    reason = np.full(len(idx), -1, dtype=np.int64)
    for j, (ov, flag) in enumerate(zip(policy.overrides, flags, strict=True)):
        floor = policy.tier_index(ov.min_tier)
        better = flag & (floor >= score_idx) & ((reason < 0) | (floor > idx))
        reason[better] = j
        idx = np.where(flag, np.maximum(idx, floor), idx)
    return idx, reason


def assign_tiers(
    scores: ScoreResult,
    dataset: Dataset,
    policy: TierPolicy | None = None,
    *,
    as_of: date | str | pd.Timestamp,
) -> TierResult:
    """Map scores to tiers and apply the overrides.

    Parameters
    ----------
    scores : ScoreResult
        From :func:`creditsup.scoring.score_entities` (same ``as_of``).
    dataset : Dataset
        The dataset scored (its records decide the overrides).
    policy : TierPolicy, optional
        Defaults to ``TierPolicy()``.
    as_of : date, str or Timestamp
        Must equal ``scores.as_of``.

    Returns
    -------
    TierResult
        ``table`` with ``uscc, score, tier, tier_reason, reasons, score_tier``;
        ``table.attrs["as_of"]`` holds the scoring date. Entities established
        after it are not scored: the draw gives them the sampling policy's
        ``new_entity_tier`` (reason ``new_entity``).

    Raises
    ------
    ConfigError
        ``as_of`` differs from the scores' date.
    """
    pol = policy if policy is not None else TierPolicy()
    day = to_day(as_of)
    if day != to_day(scores.as_of):
        raise ConfigError(
            f"The 'as_of' of assign_tiers must equal the scores' date "
            f"{scores.as_of.date()}. Got {as_of!r} instead."
        )
    flags: list[BoolArray] = []
    if pol.overrides:
        flags = override_flags(
            dataset,
            pol,
            scorecard=scores.scorecard,
            unit_ent=lookup(dataset.entities["uscc"], scores.table["uscc"]),
            unit_day=np.full(len(scores.table), day, dtype=np.int64),
        )
    return tier_scores(scores, flags, pol)


def tier_scores(
    scores: ScoreResult, flags: Sequence[BoolArray], policy: TierPolicy
) -> TierResult:
    """Tiers from scores and the override flags of their rows.

    What :func:`assign_tiers` does once the flags are known
    (:func:`override_flags`, one boolean array per override, aligned with
    ``scores.table``): the cut-offs come from all the scores together, so
    slices scored apart (each with its flags) and then concatenated in USCC
    order tier exactly as the whole.
    """
    pol = policy
    tab = scores.table
    score = tab["score"].to_numpy(dtype=np.float64)
    cuts = tier_cutoffs(score, pol)
    score_idx = np.searchsorted(np.asarray(cuts, dtype=np.float64), score, side="right")
    idx, reason = apply_overrides(score_idx.astype(np.int64), list(flags), pol)
    names = ["score", *(o.name for o in pol.overrides)]
    table = pd.DataFrame(
        {
            "uscc": tab["uscc"],
            "score": tab["score"],
            "tier": labels_from_codes(idx, pol.tiers),
            "tier_reason": labels_from_codes(reason + 1, names),
            "reasons": reason_codes(scores),
            "score_tier": labels_from_codes(score_idx, pol.tiers),
        }
    )
    # The scoring date travels with the frame: the draw tells an entity
    # registered after it (a new entity, C5) from one missing from the frame.
    table.attrs["as_of"] = str(scores.as_of.date())
    logger.info(
        "Tiers as of %s: %s",
        scores.as_of.date(),
        ", ".join(f"{t}={int((idx == i).sum())}" for i, t in enumerate(pol.tiers)),
    )
    return TierResult(table=table, cutoffs=cuts, policy=pol, scores=scores)


def rate_entities(
    dataset: Dataset,
    *,
    as_of: date | str | pd.Timestamp,
    scorecard: Scorecard | None = None,
    tier_policy: TierPolicy | None = None,
) -> TierResult:
    """Score and tier every entity in one call (what the plan builder uses).

    Examples
    --------
    >>> import pandas as pd
    >>> from creditsup.schemas import Dataset
    >>> ds = Dataset(
    ...     entities=pd.DataFrame(
    ...         {
    ...             "uscc": ["914403001922038216", "91330100716105852F"],
    ...             "entity_type": ["enterprise", "individual"],
    ...             "industry": ["F5211", "H6210"],
    ...             "established": pd.to_datetime(["2010-05-01", "2018-01-31"]),
    ...         }
    ...     ),
    ...     records=pd.DataFrame(
    ...         {
    ...             "uscc": ["91330100716105852F"],
    ...             "kind": ["serious_illegal_list"],
    ...             "date": pd.to_datetime(["2024-03-01"]),
    ...         }
    ...     ),
    ... )
    >>> res = rate_entities(ds, as_of="2025-01-01")
    >>> res.table[["uscc", "tier", "tier_reason"]].values.tolist()
    [['91330100716105852F', 'D', 'serious_illegal'], ['914403001922038216', 'B', 'score']]
    """
    from creditsup._checks import require_dataset, require_iso_date

    require_dataset(dataset)
    as_of = require_iso_date(as_of, "as_of")
    scores = score_entities(dataset, scorecard, as_of=as_of)
    return assign_tiers(scores, dataset, tier_policy, as_of=as_of)


def write_scores(result: TierResult, path: str | Path) -> None:
    """Write ``scores.csv`` (UTF-8 with BOM): ``uscc, score, tier, tier_reason,
    reasons`` (contract.md §3; internal, never published)."""
    write_csv(result.table.loc[:, list(SCORES_COLUMNS)], path)
