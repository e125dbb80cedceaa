"""One home for the policy: everything a bureau configures for one annual plan.

The policy sits between the steps and the plan: each step defines its own
config (:class:`~creditsup.scoring.Scorecard`, :class:`~creditsup.tiers.TierPolicy`,
:class:`~creditsup.sampling.SamplingPolicy`,
:class:`~creditsup.assignment.AssignmentPolicy`), and :class:`Policy` gathers
them with the publication settings. :func:`load_policy` reads TOML;
:func:`policy_template` writes the default policy as TOML.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, Field

from creditsup import _toml
from creditsup.assignment import AssignmentPolicy
from creditsup.config import FrozenModel, load_config
from creditsup.exceptions import ConfigError
from creditsup.sampling import SamplingPolicy
from creditsup.scoring import Scorecard, default_scorecard
from creditsup.tiers import TierPolicy

__all__ = ["Policy", "PublicationPolicy", "load_policy", "policy_template"]


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

    as_of: _dt.date | None = Field(
        None,
        description="评分日 / scoring date YYYY-MM-DD (default: 31 December of the "
        "year before the plan year).",
    )
    scorecard: Scorecard = Field(
        default_factory=default_scorecard,
        description="评分卡 / scorecard: indicators over the five SAMR dimensions and "
        "their points (R01-R05).",
    )
    tiers: TierPolicy = Field(
        default_factory=TierPolicy,
        description="风险分类 / tiers: how scores become tiers A-D, and the hard "
        "overrides (serious-illegal list -> D).",
    )
    sampling: SamplingPolicy = Field(
        default_factory=SamplingPolicy,
        description="抽取 / the draw: tier ratios, legal floors, caps, one door per "
        "entity, months, capacity budget.",
    )
    assignment: AssignmentPolicy = Field(
        default_factory=AssignmentPolicy,
        description="选派 / inspector assignment: team sizes, rotation, recusal, "
        "regions, solver effort.",
    )
    publication: PublicationPolicy = Field(
        default_factory=PublicationPolicy,
        description="公示 / publication: department names, checking bodies, the "
        "public plan window.",
    )


def load_policy(
    path: str | Path | None = None, *, profile: str | None = None
) -> Policy:
    """Load a policy TOML file (``None``: the default policy).

    Parameters
    ----------
    path : path-like, optional
        A policy TOML file (``creditsup policy-template`` writes one).
    profile : str, optional
        A built-in scorecard profile (:func:`creditsup.scoring.scorecard_profiles`)
        for a policy whose file has no ``[scorecard]`` section, or for the
        default policy.

    Examples
    --------
    >>> load_policy(profile="national") == Policy()
    True
    >>> load_policy(profile="mars")
    Traceback (most recent call last):
    ...
    creditsup.exceptions.ConfigError: ...
    """
    policy = Policy() if path is None else load_config(path, Policy)
    if profile is None:
        return policy
    card = default_scorecard(profile=profile)
    if path is not None and policy.scorecard != default_scorecard():
        raise ConfigError(
            f"The policy file {str(path)!r} has its own [scorecard]; it cannot "
            f"also take the profile {profile!r}. Drop one of the two."
        )
    return policy.model_copy(update={"scorecard": card})


def _field_comments(model: type[BaseModel], path: str = "") -> dict[str, str]:
    """Dotted key path -> the field's description, for every config model below."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        if info.description:
            out[key] = info.description
        for sub in _models_in(info.annotation):
            out.update(
                {k: v for k, v in _field_comments(sub, key).items() if k not in out}
            )
    return out


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``X``, ``tuple[X, ...]``, ``X | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


_HEADER = """creditsup 抽查策略 / policy: the default values. Edit and pass with --policy FILE.

默认策略 / the default profile: the national scorecard (five SAMR dimensions: basic
attributes, dynamic information, supervision information, relationships, social evaluation)
puts every entity in tier A (低风险) to D (高风险); the draw follows the Lindian tier ratios
(A 5 %, B 10 %, C 30 %, D 70 %), caps low-risk entities at two checks a year across all
departments (R15), and assigns at least two inspectors per visit (R11) at random among the
qualified ones. 全国通用评分卡 + 林甸比例 + 每年最多两次（低风险）+ 每次至少两名执法人员。

Sections / 各节: [scorecard] 评分卡 (indicators and points), [tiers] 风险分类 (cut-offs,
overrides), [sampling] 抽取 (ratios per tier, caps, months), [assignment] 选派 (teams),
[publication] 公示. Each key below carries a comment saying what it does."""


def policy_template() -> str:
    """The default policy as TOML text, every key commented (``creditsup policy-template``).

    Examples
    --------
    >>> text = policy_template()
    >>> load_text = __import__("tomllib").loads(text)
    >>> Policy.model_validate(load_text) == Policy()
    True
    >>> "# " in text.split("[sampling]")[1].split("\\n")[1]
    True
    """
    return _toml.dumps(
        Policy().model_dump(mode="json"),
        header=_HEADER,
        comments=_field_comments(Policy),
    )
