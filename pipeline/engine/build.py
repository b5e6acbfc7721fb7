"""Runs the stages in order: read and anchor, build tables, validate, then every writer into a staged dist/.

Input: a raw/ folder and the metadata. Output: a replaced dist/ folder, or `BuildFailed` with
every problem found and dist/ untouched. Reading, anchoring, building rows and their row-local
checks run per annotation file (`partition.py`), cached and on the build's engine; keys, foreign
keys and derived tables are checked over the whole corpus here. One `BuildContext` carries what
every stage needs.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline import quoting
from pipeline.engine import incremental
from pipeline.engine.partition import PartitionCache, build_partitions
from pipeline.engine.progress import Progress
from pipeline.errors import BuildFailed
from pipeline.fingerprint import environment_key
from pipeline.metadata import Metadata, load_metadata
from pipeline.read.annotations import Corpus, annotation_paths, read_sources
from pipeline.rows.summary import temporal_coverage
from pipeline.rows.tables import Tables, _row_of, merge_tables
from pipeline.validate.checks import validate_tables
from pipeline.write import Output, file_writers
from pipeline.write.exports import start_sqlite, write_parquet, write_sqlite
from pipeline.write.linked import LinkedData
from pipeline.write.linked.per_event import per_event_bytes, per_event_filename
from pipeline.write.package import staged_dist, write_descriptor, write_tables


@dataclass
class BuildContext:
    """What one build runs with, handed from stage to stage instead of long parameter lists."""

    raw_dir: Path
    meta: Metadata
    cache_dir: Path | None = None  # reuse the partitions of unchanged files from here
    jobs: int | None = None
    engine: object | None = None  # where the per-file stage runs (engines.engine_for); None: a local pool
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    stats: dict[str, int] = field(default_factory=dict)  # partitions cached and built
    scratch: Path | None = None  # where partitions render linked-data fragments when there is no cache
    origins: bool = False  # keep every row's file:line (for messages), at some cost
    enforce_terms: bool = True  # refuse sources over their quoting terms (`pipeline stats` shows them instead)
    full_build_reason: str = ""  # why the build could not splice the last one (engine/incremental.py)


@dataclass
class BuildResult:
    """What a build produced: rows per table, the files written, and seconds per stage."""

    tables: Tables
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
    # Why a build with a cache could not splice the last one ("" if it did, or had no cache).
    full_build_reason: str = ""
    # Rows per table, where `tables` does not hold every row (a one-file rebuild holds only the entities).
    row_counts: dict[str, int] | None = None

    @property
    def counts(self) -> dict[str, int]:
        if self.row_counts is not None:
            return dict(self.row_counts)
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
    raw_dir: Path,
    meta: Metadata,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    engine=None,
    fragments: list | None = None,
    enforce_terms: bool = True,
) -> Tables:
    """Read, anchor, build and validate; raise BuildFailed listing every problem.

    With `cache_dir`, the partitions of unchanged annotation files are reused from there; the
    per-file stage runs on `engine` (`engines.engine_for`; default: local, `jobs` processes).
    `fragments`, when given, receives each partition's linked-data fragment files, in order.
    Without `enforce_terms`, sources over their quoting terms are not refused.
    """
    ctx = BuildContext(
        raw_dir, meta, cache_dir, jobs, engine, progress or Progress(enabled=False), enforce_terms=enforce_terms
    )
    return check(ctx, *read(ctx, fragments))


def read(ctx: BuildContext, fragments: list | None = None) -> tuple[Corpus, list]:
    """The per-file half of the build: the sources, and every annotation file's partition in order."""
    clock = _Clock(ctx.timings)
    ctx.progress.stage("reading sources")
    corpus = Corpus()
    read_sources(ctx.raw_dir, ctx.meta, corpus)
    clock.lap("read sources")
    paths = annotation_paths(ctx.raw_dir, corpus.problems)
    ctx.progress.stage("reading annotations", len(paths))
    cache = PartitionCache(ctx.cache_dir, environment_key(ctx.meta)) if ctx.cache_dir is not None else None
    parts, part_stats = build_partitions(
        paths,
        ctx.raw_dir,
        ctx.meta,
        corpus.sources,
        corpus.broken_sources,
        cache,
        ctx.jobs,
        ctx.progress.advance,
        ctx.origins,
        corpus.sources_incomplete,
        ctx.scratch,
        ctx.engine,
    )
    ctx.stats.update(part_stats)
    # Only the per-file stage reads the texts (to anchor spans): the whole-corpus half would
    # hold them (as large as the spans table) through the merge and the checks for nothing.
    for source in corpus.sources.values():
        source.text = ""
    release_free_memory()
    clock.lap("read+anchor+build rows (per file)")
    for part in parts:
        for step, seconds in part.seconds.items():
            key = f"  {step} (summed over files built)"
            clock.timings[key] = clock.timings.get(key, 0.0) + seconds
    if fragments is not None:
        fragments[:] = [p.fragments for p in parts]
    return corpus, parts


def check(ctx: BuildContext, corpus: Corpus, parts: list) -> Tables:
    """The whole-corpus half: merge the partitions, check keys; raise BuildFailed listing every problem."""
    clock = _Clock(ctx.timings)
    meta = ctx.meta
    ctx.progress.stage("checking keys")
    tables = merge_tables(corpus, [p.tables for p in parts], meta)
    clock.lap("merge")
    problems = corpus.problems + tables.problems
    if ctx.enforce_terms and not problems:
        # Whether a source keeps to its terms needs all of its spans: with spans refused, the figures would mislead.
        problems += quoting.check_terms(
            tables.rows["sources"], tables.origins["sources"], tables.rows["spans"], tables.quoted
        )
    # A place already blamed by an earlier stage is not blamed again for the same mistake.
    blamed = {(p.file, p.line) for p in problems if p.file}
    cell_problems = [q for p in parts for q in p.cell_problems]
    checked = frozenset(n for n in meta.written_tables if n != meta.SOURCES)
    whole = validate_tables(tables, meta, partial=bool(problems), checked=checked, cell_problems=bool(cell_problems))
    problems += [p for p in cell_problems + whole if (p.file, p.line) not in blamed]
    if not problems:
        # Only on an otherwise clean build: a file with problems may hold the spans that seem lost.
        from pipeline.validate.lost import sources_without_spans

        problems += sources_without_spans(corpus.sources, tables.rows.get(meta.SPANS, []))
    clock.lap("validate keys")
    if whole and not ctx.origins:
        # Partitions keep no file:line for their rows; build again with them for the messages.
        again = replace(ctx, cache_dir=None, scratch=None, origins=True)
        return check(again, *read(again))
    if problems:
        ctx.progress.close()
        raise BuildFailed(problems)
    return tables


def build(
    raw_dir: Path,
    dist_dir: Path,
    datapackage: Path | None = None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    engine=None,
) -> BuildResult:
    """Build the whole package from raw_dir into dist_dir (atomically).

    Without `datapackage`, the descriptor is that of the project holding raw_dir (found upward).
    The per-file stage runs on `engine` (`engines.engine_for`, closed by the caller; default:
    local, `jobs` processes); the output is the same bytes whichever engine runs it.
    """
    if datapackage is None:
        from pipeline.project import descriptor_for

        datapackage = descriptor_for(raw_dir)
    from pipeline.engine.outputs import check_output_dir, protected_places

    check_output_dir(
        "--dist-dir",
        dist_dir,
        protected_places(datapackage, raw_dir, cache_dir),
        replaced=True,
        example=str(Path(os.path.realpath(datapackage)).parent / "dist"),
    )
    # The build makes millions of long-lived dicts and strings and no reference cycles: the
    # cyclic collector would only rescan them again and again (a quarter of a cached rebuild).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        ctx = BuildContext(
            raw_dir, load_metadata(datapackage), cache_dir, jobs, engine, progress or Progress(enabled=False)
        )
        with tempfile.TemporaryDirectory(prefix="pipeline-fragments-") as scratch:
            ctx.scratch = Path(scratch)
            return _build(ctx, dist_dir, start)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(ctx: BuildContext, dist_dir: Path, start: float) -> BuildResult:
    if ctx.cache_dir is not None:
        result = _build_incremental(ctx, dist_dir, start)
        if result is not None:
            return result
        ctx.timings.clear()
        ctx.stats["incremental"] = 0
    recorded: dict = {}
    try:
        files, tables = _stage_full(ctx, dist_dir, recorded)
    except BaseException:
        if recorded.get("prepared") is not None:
            recorded["prepared"].discard()
        raise
    clock = _Clock(ctx.timings)
    if ctx.cache_dir is not None:
        if recorded.get("prepared") is not None:
            incremental.save_prepared(recorded["prepared"], dist_dir, ctx.cache_dir)
        else:
            incremental.forget(ctx.cache_dir)
        clock.lap("record the build for the next one")
    ctx.progress.close()
    ctx.timings["total"] = time.perf_counter() - start
    return BuildResult(
        tables=tables, files=files, timings=ctx.timings, partitions=ctx.stats, full_build_reason=ctx.full_build_reason
    )


def _stage_full(ctx: BuildContext, dist_dir: Path, holder: dict) -> tuple:
    """The full build, written into a staged dist/ that replaces dist_dir; (files, tables).

    `holder` receives the record prepared for the next build (`incremental.prepare`), if any.
    The partitions are read here, not by the caller, so that nothing else holds them once the
    merge is done (they are most of the build's memory).
    """
    corpus, parts = read(ctx)
    facts = _part_facts(ctx, parts)
    recorded: dict | None = None
    if facts is not None:
        recorded = holder
        recorded["facts"] = facts
    with staged_dist(dist_dir) as stage, contextlib.ExitStack() as stack:
        # The partitions' linked data is copied into the staged files and the rows they stored
        # are put into a fresh database (each in a child process) while the rows are checked and
        # the other files written; a failed check stops both.
        linked = stack.enter_context(LinkedData(ctx.meta, stage, [p.fragments for p in parts]))
        fresh = start_sqlite(ctx.meta, stage, ctx.cache_dir, parts)
        if fresh is not None:
            stack.callback(fresh.kill)
        tables = check(ctx, corpus, parts)
        if recorded is not None:
            recorded.update(sources=incremental.sources_key(corpus), dist=dist_dir)
        del corpus, parts
        clock = _Clock(ctx.timings)
        files = _write(ctx, tables, stage, linked, fresh, clock, recorded)
    clock.lap("swap dist/ in")
    return files, tables


def _write(
    ctx: BuildContext,
    tables: Tables,
    stage: Path,
    linked: LinkedData,
    fresh,
    clock: _Clock,
    recorded: dict | None = None,
) -> list[str]:
    """Every writer, into the staged folder: CSV and descriptor, the whole-file writers, Parquet, SQLite, linked data.

    `recorded`, if given, receives the record of this build for the next one (`incremental.prepare`).
    """
    meta, cache_dir = ctx.meta, ctx.cache_dir
    ctx.progress.stage("writing")
    set_temporal_coverage(meta, tables)
    if fresh is not None:
        fresh.finish(tables)  # the rows the partitions' entry files lack, validated now
    clock.lap("hand the rest of the rows to SQLite")
    indexes: dict | None = {} if recorded is not None else None
    files = write_tables(tables, meta, stage, indexes)
    digests = write_descriptor(meta, files, stage)
    known = {name: (files[name]["bytes"], digests[name]) for name in digests}
    # The exports read the CSV files back when they need them: held here, the rows' lines
    # would only raise the peak memory of what follows.
    tables.lines.clear()
    release_free_memory()
    out = Output(tables, meta, stage)
    per_event: list = []
    for writer in file_writers():
        name = writer.name(meta)
        if recorded is not None and name == per_event_filename(meta):
            data = per_event_bytes(tables, meta, per_event)
        else:
            data = writer.render(out)
        (stage / name).write_bytes(data)
        if writer.hashed:
            known[name] = (len(data), hashlib.sha256(data).hexdigest())
        del data  # before the next writer renders
    clock.lap(
        "write CSV, descriptor, codebook"
    )  # and the other whole-file writers; the name stays for bench/RESULTS.md
    ctx.progress.stage("writing Parquet, SQLite and linked data")
    # Parquet (Arrow's C++ code) and SQLite (waiting for its child) hold the GIL only now and
    # then: they run in threads while this one renders the corpus-wide linked data.
    with ThreadPoolExecutor(max_workers=2) as pool:
        parquet = pool.submit(_timed, write_parquet, meta, stage, digests, cache_dir)
        sqlite = pool.submit(_timed, write_sqlite, tables, meta, stage, digests, cache_dir, fresh)
        linked.add_corpus(tables, cache_dir)
        clock.lap("export RDF: fragments and corpus-wide part")
        if recorded is not None and indexes is not None and cache_dir is not None:
            # While Parquet and SQLite run: the record for the next build (engine/incremental.py).
            recorded["prepared"] = incremental.prepare(
                meta,
                ctx.raw_dir,
                recorded["dist"],
                recorded["sources"],
                recorded["facts"],
                tables,
                indexes,
                per_event,
                linked.layout(),
                files,
                cache_dir,
            )
            clock.lap("prepare the record for the next build (while Parquet and SQLite run)")
        clock.timings["  export Parquet (in a thread)"] = parquet.result()
        clock.timings["  export SQLite (in a thread)"] = sqlite.result()
    clock.lap("wait for Parquet and SQLite")
    # Last: the dataset's description lists every file written before it.
    linked.finish(known)
    clock.lap("export RDF: description")
    if recorded is not None and linked.rewritten:
        recorded["prepared"] = None  # the files were written again in one go: the layout is not the one recorded
    return sorted(p.name for p in stage.iterdir())


def _part_facts(ctx: BuildContext, parts: list) -> list | None:
    """What the record of this build keeps of each partition (`incremental.PartFacts`); None if a partition is not in the cache."""
    if ctx.cache_dir is None:
        return None
    # The entries' paths as `PartitionCache` makes them: <cache>/partitions/<2 hex>/<key>.
    folder = str(ctx.cache_dir / "partitions")
    facts = []
    for part in parts:
        if part.entry is None or os.path.dirname(os.path.dirname(part.entry)) != folder:
            return None
        facts.append(incremental.part_facts(ctx.meta, part.display, os.path.basename(part.entry), part.tables.rows))
    return facts


def _build_incremental(ctx: BuildContext, dist_dir: Path, start: float) -> BuildResult | None:
    """The build as a splice of the last one (engine/incremental.py); None if it has to go the full way."""
    from pipeline.engine.partition import read_entry
    from pipeline.read.annotations import display_path
    from pipeline.write.exports import _last_state

    assert ctx.cache_dir is not None
    clock = _Clock(ctx.timings)
    meta = ctx.meta
    try:
        last = incremental.load(ctx.cache_dir)
    except incremental.NotIncremental as exc:
        ctx.full_build_reason = str(exc)
        return None
    clock.lap("read the record of the last build")
    corpus = Corpus()
    read_sources(ctx.raw_dir, meta, corpus)
    if corpus.problems:
        return None
    paths = annotation_paths(ctx.raw_dir, corpus.problems)
    if corpus.problems:
        return None
    clock.lap("read sources")
    cache = PartitionCache(ctx.cache_dir, environment_key(meta))
    displays = [display_path(p, ctx.raw_dir) for p in paths]
    keys = [cache.key(p, d) for p, d in zip(paths, displays, strict=True)]
    clock.lap("hash the annotation files")
    try:
        changed = incremental.plan(
            meta, last, ctx.raw_dir, dist_dir, incremental.sources_key(corpus), displays, keys, cache
        )
        state = _last_state(meta, ctx.cache_dir / "sqlite")
        if state is None or state["tables"] != {n: last.hashes[s.path][1] for n, s in meta.tables.items()}:
            raise incremental.NotIncremental("the SQLite cache is not the last build's")
        new, part_stats = build_partitions(
            [paths[i] for i in changed],
            ctx.raw_dir,
            meta,
            corpus.sources,
            corpus.broken_sources,
            cache,
            ctx.jobs,
            None,
            False,
            corpus.sources_incomplete,
            ctx.scratch,
            ctx.engine,
            keep=frozenset(keys),
        )
        clock.lap("read+anchor+build rows (changed files)")
        old = {i: read_entry(cache.entry(last.parts[i][1]), last.parts[i][1]) for i in changed}
        entities = [read_entry(cache.entry(last.parts[i][1]), last.parts[i][1]) for i in last.entity_parts]
        if None in old.values() or None in entities:
            raise incremental.NotIncremental("the last build's cache entries are not readable")
        delta = incremental.check(
            meta,
            last,
            changed,
            old,
            dict(zip(changed, new, strict=True)),
            entities,
            [_row_of(meta["sources"].field_names, s.row) for s in corpus.sources.values()],
            dist_dir,
        )
        for i in changed:
            delta.facts[i].key = keys[i]
        clock.lap("check the change")
        with staged_dist(dist_dir) as stage:
            record = incremental.write(meta, delta, dist_dir, stage, ctx.cache_dir, ctx.timings)
            clock.last = time.perf_counter()
        clock.lap("swap dist/ in")
    except incremental.NotIncremental as exc:
        ctx.full_build_reason = str(exc)
        return None
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        # A sealed record this code wrote always fits; one that does not (written by hand or by a
        # tool) costs a full build, never a wrong dist/: the stage is dropped before anything is swapped in.
        ctx.full_build_reason = f"the record of the last build does not fit this build ({type(exc).__name__})"
        return None
    record.files = incremental.dist_stats(dist_dir)
    incremental.save(record, ctx.cache_dir)
    clock.lap("record the build for the next one")
    ctx.stats.update(part_stats)
    ctx.stats.update(cached=len(paths) - part_stats["built"], incremental=1, changed=len(changed))
    ctx.timings["total"] = time.perf_counter() - start
    ctx.progress.close()
    counts = {name: len(index["keys"]) for name, index in record.tables.items()}
    tables = Tables(rows={**delta.entity_rows, **delta.derived})
    return BuildResult(
        tables=tables, files=sorted(record.files), timings=ctx.timings, partitions=ctx.stats, row_counts=counts
    )


def release_free_memory() -> None:
    """Hand the pages the C allocator holds free back to the system (glibc's malloc_trim; elsewhere nothing).

    Texts and CSV lines longer than 512 bytes live in malloc's heap, not Python's arenas: freed
    amid rows that stay, their pages stay with the process (about 180 MB of a 200k build's lines)
    until trimmed. A trim takes some 15 ms.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc():
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def set_temporal_coverage(meta: Metadata, tables: Tables) -> None:
    """Put the years of the core events into the descriptor the build publishes (never written by hand)."""
    coverage = temporal_coverage(tables.rows.get("events", []))
    if coverage is None:
        meta.descriptor.pop("temporalCoverage", None)
    else:
        meta.descriptor["temporalCoverage"] = coverage


def _timed(function, *args) -> float:
    """Run function(*args); the seconds it took."""
    began = time.perf_counter()
    function(*args)
    return time.perf_counter() - began
