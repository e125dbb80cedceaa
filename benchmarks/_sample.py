"""A keyed uniform sample of a dataset folder, for the baselines of ``run.py``.

The baselines (``_baselines.py``) need the whole dataset in memory, several
times over (pandas copies, the naive draw's per-item pools). At province scale
(5M entities) that does not fit in the 4 GiB they are allowed, so above a
threshold they run on a **sample**:

* **entities**: the ``m`` entities with the smallest keyed hash of their USCC
  (``creditsup._random.keyed_uint64`` under ``derive_key(seed, "benchmark",
  "entity sample")``): a uniform sample of exactly ``m`` entities, the same for
  the same seed and data, whatever the row order;
* **their rows**: every row of ``records``, ``history`` and ``conflicts``
  whose USCC is sampled (selected by the same hash, so no set look-up);
* **inspectors**: the same share, ``round(K * m / N)`` by the smallest keyed
  hash of ``inspector_id``, so that the sample keeps the district's entities
  per inspector (the assignment's load); ``conflicts`` rows of the others are
  dropped, and their ids are taken out of ``history.inspector_ids`` (an
  inspector outside the sample can be assigned nothing; the history of the
  ones inside is kept whole);
* ``items`` as they are.

The files are streamed (pyarrow's CSV reader, 16 MiB blocks, every column as
text exactly as ``creditsup.io`` reads it) and written as Parquet text columns,
so the sampling's own peak memory is about that of the sample.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from creditsup._random import derive_key, keyed_uint64
from creditsup.io import csv_text_options

#: Tables whose rows follow their entity (by ``uscc``).
_BY_ENTITY = ("records", "history", "conflicts")
_BLOCK = 1 << 24


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def _batches(path: Path, columns: list[str] | None = None) -> pacsv.CSVStreamingReader:
    """The rows of a CSV file, block by block, every column as text."""
    names = _header(path)
    parse, convert = csv_text_options(names, columns)
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=_BLOCK),
        parse_options=parse,
        convert_options=convert,
    )


def _hash(col: pa.Array | pa.ChunkedArray, key: str) -> npt.NDArray[np.uint64]:
    values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)
    return keyed_uint64(values, key)


def _cut(hashes: npt.NDArray[np.uint64], m: int) -> np.uint64:
    """The m-th smallest hash: ``hash <= cut`` keeps exactly m (no ties in 64 bits)."""
    return np.partition(hashes, m - 1)[m - 1]


def _table(path: Path, keep: Any) -> pa.Table:
    """The rows of ``path`` for which ``keep(batch)`` (a boolean mask) holds."""
    reader = _batches(path)
    parts = [b.filter(pa.array(keep(b))) for b in reader]
    return pa.Table.from_batches(parts, schema=reader.schema)


def _project_ids(col: pa.ChunkedArray, kept: pa.Array) -> pa.Array:
    """``;``-lists of inspector ids with the ids outside ``kept`` taken out."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    lists = pc.split_pattern(arr, ";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    parent = pc.list_parent_indices(lists)
    inside = pc.is_in(flat, value_set=kept)
    counts = np.bincount(parent.filter(inside).to_numpy(), minlength=len(arr)).astype(
        np.int32
    )
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, flat.filter(inside))
    joined = pc.binary_join(lists, pa.scalar(";", pa.large_string()))
    empty = pa.array(counts == 0)
    return pc.if_else(empty, pa.scalar(None, joined.type), joined)


def count_entities(folder: Path) -> int:
    """The number of rows of ``entities.csv`` (one column parsed)."""
    return sum(len(b) for b in _batches(folder / "entities.csv", ["uscc"]))


def sample_dataset(
    src: Path, dest: Path, *, entities: int, seed: str = "bench"
) -> dict[str, Any]:
    """Write the keyed sample of ``entities`` entities of ``src`` to ``dest``.

    Returns what was sampled: entities and inspectors kept and of how many,
    rows per table, the seed, and the seconds the sampling took.
    """
    t0 = time.perf_counter()
    dest.mkdir(parents=True, exist_ok=True)
    e_key = derive_key(seed, "benchmark", "entity sample")
    i_key = derive_key(seed, "benchmark", "inspector sample")
    e_hash = np.concatenate(
        [_hash(b.column(0), e_key) for b in _batches(src / "entities.csv", ["uscc"])]
    )
    n_all = len(e_hash)
    if not 0 < entities < n_all:
        raise ValueError(f"a sample of {entities} of {n_all} entities")
    e_cut = _cut(e_hash, entities)
    del e_hash

    insp = pacsv.read_csv(
        src / "inspectors.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={
                n: pa.large_string() for n in _header(src / "inspectors.csv")
            },
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    k_all = len(insp)
    k = max(1, round(k_all * entities / n_all))
    i_hash = _hash(insp.column("inspector_id"), i_key)
    insp = insp.filter(pa.array(i_hash <= _cut(i_hash, k)))
    kept_ids = insp.column("inspector_id").combine_chunks()
    pq.write_table(insp, dest / "inspectors.parquet")
    rows = {"inspectors": insp.num_rows}

    def by_entity(b: pa.RecordBatch) -> Any:
        return _hash(b.column(b.schema.get_field_index("uscc")), e_key) <= e_cut

    for name in ("entities", *_BY_ENTITY):
        path = src / f"{name}.csv"
        if not path.is_file():
            continue
        table = _table(path, by_entity)
        if name == "conflicts":
            table = table.filter(pc.is_in(table.column("inspector_id"), kept_ids))
        if name == "history":
            ids = _project_ids(table.column("inspector_ids"), kept_ids)
            table = table.set_column(
                table.schema.get_field_index("inspector_ids"), "inspector_ids", ids
            )
        pq.write_table(table, dest / f"{name}.parquet")
        rows[name] = table.num_rows
    shutil.copyfile(src / "items.csv", dest / "items.csv")
    return {
        "entities": rows["entities"],
        "of_entities": n_all,
        "inspectors": rows["inspectors"],
        "of_inspectors": k_all,
        "fraction": entities / n_all,
        "rows": rows,
        "seed": seed,
        "method": "smallest keyed hash of uscc (inspectors: of inspector_id), "
        "all rows of the sampled entities",
        "seconds": time.perf_counter() - t0,
    }
