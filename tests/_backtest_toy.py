"""A backtest toy: entities with a hidden risk behind past and future problems."""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditsup import uscc
from creditsup.schemas import Dataset, validate_dataset


def toy_dataset(
    n: int = 1200, *, seed: int = 0, extra_visits: int = 0, signal: bool = True
) -> Dataset:
    """Entities with a hidden risk that drives both past and future problems.

    Every entity is inspected at random once a year in 2019-2022; high-risk
    entities (30 %) find a problem with probability 0.45, the others 0.10.
    ``extra_visits`` entities get six more random visits in 2022-02.
    """
    rng = np.random.default_rng(seed)
    ids = uscc.generate(n, rng=rng)
    high = rng.random(n) < 0.3
    p = np.where(high, 0.45, 0.10) if signal else np.full(n, 0.2)
    risk = np.where(rng.random(n) < np.where(high, 0.7, 0.4), "1", "2")
    ents = pd.DataFrame(
        {
            "uscc": ids,
            "name": "e",
            "entity_type": "enterprise",
            "industry": "H6210",
            "region": "140902",
            "established": (
                pd.Timestamp("2000-01-01")
                + pd.to_timedelta(rng.integers(0, 7300, n), unit="D")
            ).strftime("%Y-%m-%d"),
            "status": "active",
            "city_risk": risk,
        }
    )
    rows = []
    for year in (2019, 2020, 2021, 2022):
        day = pd.Timestamp(year=year, month=1, day=1) + pd.to_timedelta(
            rng.integers(0, 365, n), unit="D"
        )
        prob = rng.random(n) < p
        rows.append(
            pd.DataFrame(
                {
                    "uscc": ids,
                    "date": day.strftime("%Y-%m-%d"),
                    "department": "food",
                    "result": np.where(prob, "problem_corrected", "normal"),
                    "trigger": "random",
                    "problem_found": prob,
                    "critical_count": prob.astype(int),
                    "serious_count": rng.integers(0, 2, n),
                    "failed": prob,
                }
            )
        )
    if extra_visits:
        k = np.repeat(ids[:extra_visits], 6)
        rows.append(
            pd.DataFrame(
                {
                    "uscc": k,
                    "date": "2022-02-01",
                    "department": "food",
                    "result": "normal",
                    "trigger": "random",
                    "problem_found": False,
                    "critical_count": 0,
                    "serious_count": 0,
                    "failed": False,
                }
            )
        )
    hist = pd.concat(rows, ignore_index=True)
    bad = hist[hist["result"] == "problem_corrected"]
    recs = pd.DataFrame(
        {
            "uscc": bad["uscc"],
            "kind": "check_problem",
            "date": bad["date"],
            "severity": 2.0,
        }
    )
    return validate_dataset(
        {
            "entities": ents,
            "history": hist,
            "records": recs,
            "items": pd.DataFrame(
                {
                    "item_id": ["F1"],
                    "department": ["food"],
                    "name": ["food check"],
                    "legal_basis": ["law"],
                    "kind": ["general"],
                }
            ),
            "inspectors": pd.DataFrame(
                {
                    "inspector_id": ["i1", "i2"],
                    "name": ["a", "b"],
                    "department": "food",
                    "region": "140902",
                    "expertise": "food",
                    "monthly_capacity": 10,
                }
            ),
        }
    )
