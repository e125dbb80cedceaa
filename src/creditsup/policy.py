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

    as_of: _dt.date | None = None
    scorecard: Scorecard = Field(default_factory=default_scorecard)
    tiers: TierPolicy = Field(default_factory=TierPolicy)
    sampling: SamplingPolicy = Field(default_factory=SamplingPolicy)
    assignment: AssignmentPolicy = Field(default_factory=AssignmentPolicy)
    publication: PublicationPolicy = Field(default_factory=PublicationPolicy)


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


def field_comments(model: type[BaseModel], prefix: str = "") -> dict[str, str]:
    """Each field's description by dotted path, through nested models.

    Examples
    --------
    >>> c = field_comments(Policy)
    >>> c["sampling.floors.overall"].startswith("R08")
    True
    """
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        if info.description:
            out[path] = info.description
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(field_comments(ann, path))
    return out


def policy_template() -> str:
    """The default policy as TOML text (``creditsup policy-template``), each key
    commented with its description.

    Examples
    --------
    >>> text = policy_template()
    >>> load_text = __import__("tomllib").loads(text)
    >>> Policy.model_validate(load_text) == Policy()
    True
    >>> "# 'capacity': scale the discretionary ratios down" in text
    True
    """
    header = (
        "creditsup policy: the default values. Edit and pass with --policy FILE.\n"
        "Sections: scorecard (indicators and points), tiers (cut-offs, overrides),\n"
        "sampling (ratios per tier, floors, one door, capacity, months), assignment\n"
        "(teams), publication."
    )
    return _toml.dumps(
        Policy().model_dump(mode="json"), header=header, comments=field_comments(Policy)
    )
