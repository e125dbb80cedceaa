"""Assembly of the synthetic district: the stages in order, and the public
functions :func:`synthetic_tables`, :func:`synthetic_district` and
:func:`write_synthetic_district`."""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from creditsup.datasets._conflicts import build_conflicts
from creditsup.datasets._entities import build_entities
from creditsup.datasets._history import build_history
from creditsup.datasets._inspectors import build_inspectors
from creditsup.datasets._records import Records, credit_records, status
from creditsup.datasets._scope import item_scope, items_frame
from creditsup.schemas import Dataset, DateWindow, validate_dataset

__all__ = ["synthetic_district", "synthetic_tables", "write_synthetic_district"]

logger = logging.getLogger(__name__)


def _check_args(
    n_entities: int,
    n_inspectors: int,
    year: int,
    history_years: int,
    draw_ratio: float,
    capacity_slack: float,
) -> None:
    for name, value in (("n_entities", n_entities), ("n_inspectors", n_inspectors)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(
                f"The '{name}' must be an integer >= 1. Got {value!r} instead."
            )
    if not 1990 <= year <= 2200:
        raise ValueError(f"The 'year' must be in [1990, 2200]. Got {year!r} instead.")
    if not 0 <= history_years <= 20:
        raise ValueError(
            f"The 'history_years' must be in [0, 20]. Got {history_years!r} instead."
        )
    if not 0 < draw_ratio <= 1:
        raise ValueError(
            f"The 'draw_ratio' must be in (0, 1]. Got {draw_ratio!r} instead."
        )
    if not capacity_slack > 0:
        raise ValueError(
            f"The 'capacity_slack' must be > 0. Got {capacity_slack!r} instead."
        )


def _build(
    key: str,
    n: int,
    n_inspectors: int,
    year: int,
    history_years: int,
    *,
    include_latent: bool,
    draw_ratio: float,
    capacity_slack: float,
) -> dict[str, pd.DataFrame]:
    """Run the stages: entities, credit records, status, inspectors, history
    (whose follow-ups add records), conflicts, items."""
    ents = build_entities(key, n, year)
    scope = item_scope(ents.etype, ents.ind)
    rec = Records()
    credit_records(key, ents, scope, year, max(5, history_years), rec)
    state = status(key, ents, rec, year)
    insp = build_inspectors(
        key,
        n_inspectors,
        scope,
        ents,
        state == "active",
        draw_ratio=draw_ratio,
        capacity_slack=capacity_slack,
    )
    history = build_history(key, ents, scope, insp, state, year, history_years, rec)
    entities = ents.frame.assign(status=state)
    if include_latent:
        entities["_latent_risk"] = ents.s
    tables = {
        "entities": entities,
        "records": rec.frame(ents.uscc_pa),
        "inspectors": insp,
        "conflicts": build_conflicts(key, insp, ents),
        "items": items_frame(),
        "history": history,
    }
    logger.debug(
        "synthetic district: %s",
        ", ".join(f"{k} {len(v):,}" for k, v in tables.items()),
    )
    return tables


def synthetic_tables(
    n_entities: int = 50_000,
    n_inspectors: int = 600,
    *,
    seed: int | str = 0,
    year: int = 2026,
    history_years: int = 3,
    include_latent: bool = False,
    draw_ratio: float = 0.15,
    capacity_slack: float = 1.6,
) -> dict[str, pd.DataFrame]:
    """The six raw tables of a synthetic district (contract §1 column names).

    Parameters
    ----------
    n_entities : int
        Number of market entities.
    n_inspectors : int
        Number of inspectors across the ten departments, allocated in
        proportion to each department's expected workload. With at least
        :func:`min_inspectors` of them, every expertise an item of a
        department requires is held by two active inspectors of that
        department who are never on leave; a smaller pool is allowed (to build
        deliberately tight instances) but carries no such guarantee.
    seed : int or str
        The seed; identical arguments give identical tables.
    year : int
        The planning year. All facts are dated on or before 31 March of it.
    history_years : int
        Full years of past inspections before ``year``.
    include_latent : bool
        Add the hidden standard-normal risk as the pass-through column
        ``_latent_risk`` of ``entities`` (for tests of scoring).
    draw_ratio : float
        The share of active entities expected to be visited per year (the
        default policy's tier ratios over a typical tier mix: ≈ 15 %). It only
        sizes the inspectors' ``monthly_capacity``: one door per entity (R14)
        means a visited entity is checked by every department whose items
        apply to it, each sending one inspector per expertise field; the
        pool's yearly capacity is ``capacity_slack`` times those slots.
    capacity_slack : float
        Yearly capacity over expected demand (default 1.6: feasible, not
        trivially so). Each inspector's capacity is at least 2 a month.

    Notes
    -----
    Beyond each department's core (see ``n_inspectors``), inspectors are
    drawn in proportion to the department's workload, with 1-2 fields, leave
    months and a 5 % chance of being inactive. Conflicts of interest: each
    inspector declares about ``0.5 % × entities per region`` of them (3-30),
    80 % in their own region.

    Returns
    -------
    dict of str to DataFrame
        ``entities``, ``records``, ``inspectors``, ``conflicts``, ``items``,
        ``history``.

    Examples
    --------
    >>> t = synthetic_tables(2_000, 40, seed="demo")
    >>> sorted(t)
    ['conflicts', 'entities', 'history', 'inspectors', 'items', 'records']
    >>> len(t["entities"]), len(t["inspectors"])
    (2000, 40)
    >>> bool(t["items"]["legal_basis"].str.len().gt(0).all())
    True
    """
    _check_args(
        n_entities, n_inspectors, year, history_years, draw_ratio, capacity_slack
    )
    return _build(
        str(seed),
        int(n_entities),
        int(n_inspectors),
        year,
        history_years,
        include_latent=include_latent,
        draw_ratio=draw_ratio,
        capacity_slack=capacity_slack,
    )


def synthetic_district(
    n_entities: int = 50_000,
    n_inspectors: int = 600,
    *,
    seed: int | str = 0,
    year: int = 2026,
    history_years: int = 3,
    include_latent: bool = False,
    draw_ratio: float = 0.15,
    capacity_slack: float = 1.6,
) -> Dataset:
    """A validated synthetic district (see :func:`synthetic_tables`).

    Examples
    --------
    >>> ds = synthetic_district(2_000, 40, seed=1)
    >>> ds.entities["entity_type"].value_counts().index[0]
    'individual'
    >>> int(ds.entities["uscc"].str[:2].isin(["91", "92", "93", "12", "52"]).sum())
    2000
    """
    return validate_dataset(
        synthetic_tables(
            n_entities,
            n_inspectors,
            seed=seed,
            year=year,
            history_years=history_years,
            include_latent=include_latent,
            draw_ratio=draw_ratio,
            capacity_slack=capacity_slack,
        ),
        dates=DateWindow(latest=_dt.date(year, 12, 31)),  # the data's own snapshot
    )


def write_synthetic_district(
    path: str | Path,
    *,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
    **kwargs: Any,
) -> Path:
    """Write a synthetic district as a dataset folder (one file per table).

    ``kwargs`` go to :func:`synthetic_tables`.
    """
    from creditsup.io import write_dataset

    return write_dataset(synthetic_tables(**kwargs), path, fmt=fmt)
