"""The keyed sample the benchmark baselines run on above a size (``benchmarks/_sample.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from creditsup.datasets import synthetic_tables
from creditsup.io import write_dataset
from creditsup.schemas import load_dataset

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import _sample


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    return synthetic_tables(600, 30, seed="sample", year=2026)


def _write(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    return write_dataset(tables, folder, fmt="csv")


def test_sample_keeps_m_entities_with_all_their_rows(
    district: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    src = _write(district, tmp_path / "src")
    assert _sample.count_entities(src) == 600
    info = _sample.sample_dataset(src, tmp_path / "s", entities=150, seed="k")
    assert (info["entities"], info["of_entities"]) == (150, 600)
    assert (info["inspectors"], info["of_inspectors"]) == (8, 30)  # the same share
    ds, full = load_dataset(tmp_path / "s"), load_dataset(src)  # references hold
    assert len(ds.entities) == 150 and len(ds.inspectors) == 8
    kept = set(ds.entities["uscc"])
    staff = set(ds.inspectors["inspector_id"])
    for name in ("records", "history", "conflicts"):
        want = getattr(full, name)
        mask = want["uscc"].isin(kept)
        if name == "conflicts":  # a pair needs both its entity and its inspector
            mask &= want["inspector_id"].isin(staff)
        assert len(getattr(ds, name)) == int(mask.sum()) > 0, name
        assert info["rows"][name] == len(getattr(ds, name))
    assert set(ds.conflicts["inspector_id"]) <= set(ds.inspectors["inspector_id"])
    # history keeps its rows; only the inspectors outside the sample leave the lists
    ids = ds.history["inspector_ids"].fillna("").str.split(";").explode()
    assert set(ids[ids != ""]) <= set(ds.inspectors["inspector_id"])
    assert ds.history["inspector_ids"].fillna("").ne("").any()
    # the entities' own rows are untouched
    mine = full.entities[full.entities["uscc"].isin(kept)]
    pd.testing.assert_frame_equal(
        ds.entities.sort_values("uscc").reset_index(drop=True),
        mine.sort_values("uscc").reset_index(drop=True),
        check_dtype=False,
    )


def test_sample_is_keyed_not_positional(
    district: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    """The same seed picks the same entities whatever the row order; another seed others."""
    shuffled = {
        k: v.sample(frac=1.0, random_state=1).reset_index(drop=True)
        for k, v in district.items()
    }
    a, b = _write(district, tmp_path / "a"), _write(shuffled, tmp_path / "b")
    for folder, seed in ((a, "k"), (b, "k"), (a, "other")):
        _sample.sample_dataset(
            folder, tmp_path / f"s-{folder.name}-{seed}", entities=100, seed=seed
        )

    def usccs(name: str) -> set[str]:
        return set(load_dataset(tmp_path / name).entities["uscc"])

    assert usccs("s-a-k") == usccs("s-b-k")
    assert usccs("s-a-k") != usccs("s-a-other")
    with pytest.raises(ValueError, match="a sample of 600 of 600"):
        _sample.sample_dataset(a, tmp_path / "x", entities=600)
