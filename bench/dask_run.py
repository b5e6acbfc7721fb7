"""Builds a corpus with its partitions computed by Dask, and checks the bytes equal `pipeline build`'s.

    pip install 'dask[bag]'
    python bench/dask_run.py --raw bench/.corpora/<corpus>/raw [--workers 2]

The same pure function as the normal build, `pipeline.engine.partition.build_partition`, runs as a
Dask bag map over the annotation files; the whole-corpus steps (merge, keys and foreign keys,
derived tables, writing the CSV tables) run on the client, as in docs/scaling.md. The linked-data,
Parquet and SQLite exports are left out. A demonstration on a local process pool, not a
production runner.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.read.annotations import Corpus, annotation_paths, read_sources
from pipeline.engine.build import build
from pipeline.errors import BuildFailed
from pipeline.metadata import load_metadata
from pipeline.write.package import staged_dist, write_descriptor, write_tables
from pipeline.engine.partition import build_partition
from pipeline.rows.tables import merge_tables
from pipeline.validate.checks import validate_tables


def dask_build(raw: Path, dist: Path, workers: int, files_per_task: int) -> dict[str, float]:
    import dask.bag as db

    timings = {}
    t = time.perf_counter()
    meta = load_metadata(ROOT / "datapackage.json")
    corpus = Corpus()
    read_sources(raw, meta, corpus)
    paths = annotation_paths(raw, corpus.problems)
    timings["read sources"] = time.perf_counter() - t
    t = time.perf_counter()
    bag = db.from_sequence(paths, partition_size=files_per_task)
    parts = bag.map(build_partition, raw, meta, corpus.sources, corpus.broken_sources, False, corpus.sources_incomplete).compute(
        scheduler="processes", num_workers=workers)
    timings["partitions on dask"] = time.perf_counter() - t
    t = time.perf_counter()
    tables = merge_tables(corpus, [p.tables for p in parts], meta)
    problems = corpus.problems + tables.problems + [q for p in parts for q in p.cell_problems]
    checked = frozenset(n for n, s in meta.tables.items() if n != "sources" and not s.derived_from)
    problems += validate_tables(tables, meta, partial=bool(problems), checked=checked)
    if problems:
        raise BuildFailed(problems)
    timings["merge + validate keys"] = time.perf_counter() - t
    t = time.perf_counter()
    with staged_dist(dist) as stage:
        write_descriptor(meta, write_tables(tables, meta, stage), stage)
    timings["write"] = time.perf_counter() - t
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--files-per-task", type=int, default=64)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="dask-build-"))
    start = time.perf_counter()
    timings = dask_build(args.raw, out / "dask", args.workers, args.files_per_task)
    total = time.perf_counter() - start
    for stage, seconds in timings.items():
        print(f"  {stage:<28} {seconds:7.2f} s")
    print(f"  {'total (dask)':<28} {total:7.2f} s")
    t = time.perf_counter()
    build(args.raw, out / "plain", ROOT / "datapackage.json", jobs=args.workers)
    print(f"  {'pipeline build, same jobs':<28} {time.perf_counter() - t:7.2f} s")
    # The Dask run writes the tables and their descriptor; the exports are pipeline build's alone.
    same = all((out / "plain" / p.name).read_bytes() == p.read_bytes() for p in (out / "dask").iterdir())
    print(f"dask CSV tables and descriptor byte-identical to pipeline build's: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
