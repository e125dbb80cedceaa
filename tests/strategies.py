"""Shared builders and hypothesis strategies of the test suite.

One home for the small districts the property tests draw from, so that every
invariant is tested on the same kinds of data:

- :func:`seeds`: seed strings (any text, as a lottery result would be);
- :func:`usccs`: valid USCCs;
- :func:`build_tables` / :func:`build`: a small district of raw tables
  (5 departments, 6 items, 2 joint groups) and random tiers;
- :func:`sampling_scenarios`: a district, tiers and a random sampling policy;
- :func:`eight_departments`: the synthetic district cut to 8 departments and
  21 items (the independent dataset of issue #12);
- :func:`record_districts`: credit records around a scoring date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from creditsup import uscc
from creditsup.datasets import synthetic_tables
from creditsup.sampling import SamplingPolicy
from creditsup.schemas import Dataset, DateWindow, validate_dataset
from creditsup.scoring import default_scorecard
from creditsup.uscc import generate

AS_OF = pd.Timestamp("2025-12-31")
IDS = sorted(uscc.generate(30, rng=np.random.default_rng(42)).tolist())
NEGATIVE = sorted(default_scorecard().negative_kinds())
ALL_KINDS = [*NEGATIVE, "tax_credit", "honor"]


def seeds() -> st.SearchStrategy[str]:
    """Seed strings: any non-empty text, as a published lottery result."""
    return st.text(min_size=1, max_size=8)


def usccs(n: int = 1) -> st.SearchStrategy[list[str]]:
    """Lists of ``n`` distinct valid USCCs."""
    return st.integers(0, 2**32 - 1).map(
        lambda s: generate(n, rng=np.random.default_rng(s)).tolist()
    )


YEAR = 2027
DEPTS = ["drug", "food", "market", "price", "quality"]
VISIT_COLUMNS = [
    "visit_id",
    "uscc",
    "tier",
    "month",
    "departments",
    "items",
    "trigger",
    "joint",
]


def build_tables(
    n: int = 200,
    *,
    seed: int = 0,
    history_per_entity: float = 0.4,
    dereg: float = 0.05,
    capacity: int = 3,
) -> dict[str, pd.DataFrame]:
    """Raw tables of a small district: 5 departments, 6 items, 2 joint groups."""
    rng = np.random.default_rng(seed)
    ids = generate(n, rng=rng)
    status = rng.choice(
        ["active", "deregistered", "revoked"], n, p=[1 - dereg, dereg / 2, dereg / 2]
    )
    est = pd.Timestamp("2000-01-01") + pd.to_timedelta(
        rng.integers(0, 27 * 365, n), unit="D"
    )
    entities = pd.DataFrame(
        {
            "uscc": ids,
            "name": [f"e{i}" for i in range(n)],
            "entity_type": rng.choice(
                ["enterprise", "individual", "cooperative", "other"],
                n,
                p=[0.4, 0.45, 0.1, 0.05],
            ),
            "industry": rng.choice(["F5211", "H6210", "C1391", "5211", "I6510"], n),
            "region": "140902",
            "established": est.strftime("%Y-%m-%d"),
            "status": status,
            "key_supervision": np.where(rng.random(n) < 0.05, "true", "false"),
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["M01", "M02", "F01", "D01", "Q01", "P01"],
            "department": ["market", "market", "food", "drug", "quality", "price"],
            "name": ["公示", "广告", "食品", "药品", "质量", "价格"],
            "legal_basis": ["law"] * 6,
            "kind": ["general", "general", "key", "key", "general", "general"],
            "entity_types": [
                "enterprise;individual;cooperative",
                "enterprise",
                "*",
                "*",
                "enterprise;cooperative",
                "*",
            ],
            "industries": ["*", "*", "F52;H62", "F5211", "C", "*"],
            "expertise": ["", "", "food", "drug", "", ""],
            "joint_group": ["G1", "", "G1", "G2", "G2", ""],
            "publicity": ["true", "false", "false", "false", "false", "false"],
        }
    )
    inspectors = pd.DataFrame(
        [
            {
                "inspector_id": f"{d}{k}",
                "name": "x",
                "department": d,
                "region": "140902",
                "expertise": "food;drug",
                "monthly_capacity": capacity,
                "unavailable_months": "7;8" if k == 0 else "",
            }
            for d in DEPTS
            for k in range(3)
        ]
    )
    nh = int(n * history_per_entity)
    hi = rng.integers(0, n, nh)
    history = pd.DataFrame(
        {
            "uscc": ids[hi],
            "date": (
                pd.Timestamp(f"{YEAR - 1}-06-01")
                + pd.to_timedelta(rng.integers(0, 300, nh), unit="D")
            ).strftime("%Y-%m-%d"),
            "department": rng.choice(DEPTS, nh),
            "result": "normal",
            "trigger": rng.choice(["random", "complaint", "referral"], nh),
        }
    )
    return {
        "entities": entities,
        "items": items,
        "inspectors": inspectors,
        "history": history,
    }


def build(n: int = 200, *, seed: int = 0, **kw: float) -> tuple[Dataset, pd.DataFrame]:
    ds = validate_dataset(build_tables(n, seed=seed, **kw))  # type: ignore[arg-type]
    rng = np.random.default_rng(seed + 1000)
    tiers = pd.DataFrame(
        {
            "uscc": ds.entities["uscc"],
            "tier": rng.choice(list("ABCD"), len(ds.entities), p=[0.2, 0.5, 0.2, 0.1]),
        }
    )
    return ds, tiers


EIGHT = {"market": 4, "food": 3, "drug": 3, "quality": 3, "price": 2, "ads": 2}
EIGHT |= {"fire": 2, "env": 2}


def eight_departments(
    n: int = 6000, n_inspectors: int = 400, *, seed: str = "eight", year: int = 2026
) -> Dataset:
    """The synthetic district cut to 8 departments and their first 21 items.

    The inspectors of the other departments, their conflicts and their past
    visits go too; ``n_inspectors`` counts the pool before the cut.
    """
    t = synthetic_tables(n, n_inspectors, seed=seed, year=year)
    items = t["items"].sort_values("item_id", kind="stable")
    rank = items.groupby("department").cumcount()
    take = items["department"].map(EIGHT).fillna(0)
    t["items"] = items[rank < take].reset_index(drop=True)
    ins = t["inspectors"]
    t["inspectors"] = ins[ins["department"].isin(list(EIGHT))].reset_index(drop=True)
    keep = set(t["inspectors"]["inspector_id"])
    t["conflicts"] = t["conflicts"][t["conflicts"]["inspector_id"].isin(keep)]
    hist = t["history"]
    t["history"] = hist[hist["department"].isin(list(EIGHT))].assign(inspector_ids="")
    latest = pd.Timestamp(year=year, month=12, day=31).date()
    return validate_dataset(t, dates=DateWindow(latest=latest))


@st.composite
def sampling_scenarios(draw: st.DrawFn) -> tuple[Dataset, pd.DataFrame, SamplingPolicy]:
    n = draw(st.integers(20, 90))
    seed = draw(st.integers(0, 10_000))
    raw = build_tables(n, seed=seed, history_per_entity=draw(st.sampled_from([0, 1])))
    raw["history"]["date"] = (
        pd.Timestamp(f"{YEAR}-01-01")
        + pd.to_timedelta(
            np.random.default_rng(seed).integers(-60, 40, len(raw["history"])), unit="D"
        )
    ).strftime("%Y-%m-%d")
    ds = validate_dataset(raw)
    rng = np.random.default_rng(seed + 1)
    tiers = pd.DataFrame(
        {"uscc": ds.entities["uscc"], "tier": rng.choice(list("ABCDE"), n)}
    )
    cap = draw(st.integers(1, 3))
    policy = SamplingPolicy(
        ratios={t: draw(st.sampled_from([0.05, 0.3, 0.9])) for t in "ABCDE"},
        caps={t: cap for t in "ABCDE"},
        coordination=draw(st.sampled_from(["mix", "negative", "independent"])),
        ratio_mode=draw(st.sampled_from(["poisson", "fixed"])),
        coverage_tiers=draw(st.sampled_from([(), ("D",)])),
    )
    return ds, tiers, policy


@st.composite
def record_districts(draw: st.DrawFn) -> tuple[int, list[dict[str, object]]]:
    n = draw(st.integers(3, 25))
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "uscc": st.sampled_from(IDS[:n]),
                    "kind": st.sampled_from(ALL_KINDS),
                    "date": st.integers(-1500, 30).map(
                        lambda d: AS_OF + pd.Timedelta(days=d)
                    ),
                    "severity": st.sampled_from([1.0, 2.0, 3.0, np.nan]),
                    "value": st.sampled_from(["A", "B", "C", "D", None]),
                    "restored_on": st.one_of(
                        st.none(),
                        st.integers(-600, 60).map(
                            lambda d: AS_OF + pd.Timedelta(days=d)
                        ),
                    ),
                }
            ),
            max_size=60,
        )
    )
    return n, rows


#: The frames of a DrawResult, compared one by one by the partition tests.
DRAW_FRAMES = (
    "visits",
    "checks",
    "exclusions",
    "accounting",
    "tasks",
    "strata",
    "cap_removals",
    "months",
    "capacity_needs",
    "floors",
    "assumed_tiers",
    "targeted",
)


@st.composite
def engine_layouts(draw: st.DrawFn) -> dict[str, object]:
    """A tiny synthetic district and how the Dask engine is to meet it.

    ``district``: (entities, seed) of :func:`synthetic_tables`; ``order``: the
    seed of a shuffle of every table's rows; ``cuts``: per partitioned table,
    the sizes of its part files (each ≥ 1 row, their number 1-5, cut at random
    rows); ``partitions``: the engine's USCC partitions.
    """
    n = draw(st.integers(120, 300))
    seed = draw(st.sampled_from(["p0", "p1", "p2"]))
    files = draw(st.integers(1, 5))
    cuts = draw(
        st.lists(
            st.floats(0.0, 1.0, allow_nan=False), min_size=files - 1, max_size=files - 1
        )
    )
    return {
        "district": (n, seed),
        "order": draw(st.integers(0, 2**32 - 1)),
        "cuts": sorted(cuts),
        "partitions": draw(st.integers(1, 6)),
    }
