"""Runs the stages in order: read and anchor, build tables, validate, write CSV, codebook, Parquet, SQLite, RDF.

Input: a raw/ folder and the metadata. Output: a replaced dist/ folder, or `BuildFailed` with
every problem found and dist/ untouched. Reading, anchoring, building rows and their row-local
checks run per annotation file (`partition.py`), cached and in parallel; keys, foreign keys
and derived tables are checked over the whole corpus here.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import quoting
from pipeline.annotations import Corpus, annotation_paths, read_sources
from pipeline.codebook import CODEBOOK_FILENAME, codebook_markdown
from pipeline.errors import BuildFailed
from pipeline.export import LinkedData
from pipeline.exports import start_sqlite, write_parquet, write_sqlite
from pipeline.metadata import Metadata, load_metadata
from pipeline.package import staged_dist, write_descriptor, write_tables
from pipeline.partition import PartitionCache, build_partitions, environment_key
from pipeline.paths import DATAPACKAGE_PATH
from pipeline.progress import Progress
from pipeline.tables import Tables, merge_tables
from pipeline.validate import validate_tables


@dataclass
class BuildResult:
    """What a build produced: rows per table, the files written, and seconds per stage."""

    tables: Tables
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.rows.items()}


class _Clock:
    """Wall-clock seconds per stage, in the order the stages ran."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def assemble(
    raw_dir: Path, meta: Metadata, cache_dir: Path | None = None, jobs: int | None = None,
    progress: Progress | None = None, timings: dict[str, float] | None = None, stats: dict[str, int] | None = None,
    origins: bool = False, scratch: Path | None = None, fragments: list | None = None, enforce_terms: bool = True,
) -> Tables:
    """Read, anchor, build and validate; raise BuildFailed listing every problem.

    Without `enforce_terms`, sources over their quoting terms are not refused (`pipeline stats`
    shows their figures). With `cache_dir`, the partitions of unchanged annotation files are reused from there. With
    `scratch` (a folder for fragments when there is no cache), the partitions also render their
    linked data, and `fragments` receives each one's fragment files, in partition order.
    """
    progress = progress or Progress(enabled=False)
    corpus, parts = read_partitions(raw_dir, meta, cache_dir, jobs, progress, timings, stats, origins, scratch)
    if fragments is not None:
        fragments[:] = [p.fragments for p in parts]
    return check_partitions(raw_dir, meta, corpus, parts, jobs, progress, timings, stats, origins, enforce_terms)


def read_partitions(
    raw_dir: Path, meta: Metadata, cache_dir: Path | None, jobs: int | None, progress: Progress,
    timings: dict[str, float] | None, stats: dict[str, int] | None, origins: bool, scratch: Path | None,
) -> tuple[Corpus, list]:
    """The per-file half of `assemble`: the sources, and every annotation file's partition in order."""
    clock = _Clock({} if timings is None else timings)
    progress.stage("reading sources")
    corpus = Corpus()
    read_sources(raw_dir, meta, corpus)
    clock.lap("read sources")
    paths = annotation_paths(raw_dir, corpus.problems)
    progress.stage("reading annotations", len(paths))
    cache = PartitionCache(cache_dir, environment_key(meta)) if cache_dir is not None else None
    parts, part_stats = build_partitions(
        paths, raw_dir, meta, corpus.sources, corpus.broken_sources, cache, jobs, progress.advance, origins,
        corpus.sources_incomplete, scratch)
    if stats is not None:
        stats.update(part_stats)
    clock.lap("read+anchor+build rows (per file)")
    for part in parts:
        for step, seconds in part.seconds.items():
            key = f"  {step} (summed over files built)"
            clock.timings[key] = clock.timings.get(key, 0.0) + seconds
    return corpus, parts


def check_partitions(
    raw_dir: Path, meta: Metadata, corpus: Corpus, parts: list, jobs: int | None, progress: Progress,
    timings: dict[str, float] | None, stats: dict[str, int] | None, origins: bool, enforce_terms: bool = True,
) -> Tables:
    """The whole-corpus half of `assemble`: merge the partitions, check keys; raise BuildFailed listing every problem."""
    clock = _Clock({} if timings is None else timings)
    progress.stage("checking keys")
    tables = merge_tables(corpus, [p.tables for p in parts], meta)
    clock.lap("merge")
    problems = corpus.problems + tables.problems
    if enforce_terms and not problems:
        # Whether a source keeps to its terms needs all of its spans: with spans refused, the figures would mislead.
        problems += quoting.check_terms(tables.rows["sources"], tables.origins["sources"], tables.rows["spans"])
    # A place already blamed by an earlier stage is not blamed again for the same mistake.
    blamed = {(p.file, p.line) for p in problems if p.file}
    cell_problems = [q for p in parts for q in p.cell_problems]
    checked = frozenset(n for n, s in meta.tables.items() if n != "sources" and not s.derived_from)
    whole = validate_tables(tables, meta, partial=bool(problems), checked=checked, cell_problems=bool(cell_problems))
    problems += [p for p in cell_problems + whole if (p.file, p.line) not in blamed]
    clock.lap("validate keys")
    if whole and not origins:
        # Partitions keep no file:line for their rows; build again with them for the messages.
        return assemble(raw_dir, meta, None, jobs, progress, timings, stats, origins=True, enforce_terms=enforce_terms)
    if problems:
        progress.close()
        raise BuildFailed(problems)
    return tables


def build(
    raw_dir: Path, dist_dir: Path, datapackage: Path = DATAPACKAGE_PATH, cache_dir: Path | None = None,
    jobs: int | None = None, progress: Progress | None = None,
) -> BuildResult:
    """Build the whole package from raw_dir into dist_dir (atomically)."""
    # The build makes millions of long-lived dicts and strings and no reference cycles: the
    # cyclic collector would only rescan them again and again (a quarter of a cached rebuild).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(raw_dir, dist_dir, datapackage, cache_dir, jobs, progress)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(raw_dir, dist_dir, datapackage, cache_dir, jobs, progress) -> BuildResult:
    progress = progress or Progress(enabled=False)
    timings: dict[str, float] = {}
    stats: dict[str, int] = {}
    start = time.perf_counter()
    meta = load_metadata(datapackage)
    with tempfile.TemporaryDirectory(prefix="pipeline-fragments-") as scratch:
        return _build_in(raw_dir, dist_dir, meta, cache_dir, jobs, progress, timings, stats, start, Path(scratch))


def _build_in(raw_dir, dist_dir, meta, cache_dir, jobs, progress, timings, stats, start, scratch) -> BuildResult:
    corpus, parts = read_partitions(raw_dir, meta, cache_dir, jobs, progress, timings, stats, False, scratch)
    with staged_dist(dist_dir) as stage, contextlib.ExitStack() as stack:
        # The partitions' linked data is copied into the staged files and the rows they stored
        # are put into a fresh database (each in a child process) while the rows are checked and
        # the other files written; a failed check stops both.
        linked = stack.enter_context(LinkedData(meta, stage, [p.fragments for p in parts]))
        fresh = start_sqlite(meta, stage, cache_dir, parts)
        if fresh is not None:
            stack.callback(fresh.kill)
        tables = check_partitions(raw_dir, meta, corpus, parts, jobs, progress, timings, stats, False)
        del corpus, parts
        clock = _Clock(timings)
        files = _write_in(tables, meta, stage, linked, fresh, cache_dir, progress, clock)
    clock.lap("swap dist/ in")
    progress.close()
    timings["total"] = time.perf_counter() - start
    return BuildResult(tables=tables, files=files, timings=timings, partitions=stats)


def _write_in(tables, meta, stage, linked, fresh, cache_dir, progress, clock) -> list[str]:
    progress.stage("writing")
    if fresh is not None:
        fresh.finish(tables)  # the rows the partitions' entry files lack, validated now
    clock.lap("hand the rest of the rows to SQLite")
    files = write_tables(tables, meta, stage)
    digests = write_descriptor(meta, files, stage)
    known = {name: (len(files[name]), digests[name]) for name in digests}
    codebook = codebook_markdown(meta).encode("utf-8")
    (stage / CODEBOOK_FILENAME).write_bytes(codebook)
    known[CODEBOOK_FILENAME] = (len(codebook), hashlib.sha256(codebook).hexdigest())
    # The exports read the CSV files back when they need them: held here, their bytes and
    # the rows' lines would only raise the peak memory of what follows.
    del files
    tables.lines.clear()
    clock.lap("write CSV, descriptor, codebook")
    progress.stage("writing Parquet, SQLite and linked data")
    # Parquet (Arrow's C++ code) and SQLite (waiting for its child) hold the GIL only now and
    # then: they run in threads while this one renders the corpus-wide linked data.
    with ThreadPoolExecutor(max_workers=2) as pool:
        parquet = pool.submit(_timed, write_parquet, meta, stage, digests, cache_dir)
        sqlite = pool.submit(_timed, write_sqlite, tables, meta, stage, digests, cache_dir, fresh)
        linked.add_corpus(tables, cache_dir)
        clock.lap("export RDF: fragments and corpus-wide part")
        clock.timings["  export Parquet (in a thread)"] = parquet.result()
        clock.timings["  export SQLite (in a thread)"] = sqlite.result()
    clock.lap("wait for Parquet and SQLite")
    # Last: the dataset's description lists every file written before it.
    linked.finish(known)
    clock.lap("export RDF: description")
    return sorted(p.name for p in stage.iterdir())


def _timed(function, *args) -> float:
    """Run function(*args); the seconds it took."""
    began = time.perf_counter()
    function(*args)
    return time.perf_counter() - began
