"""Stages 1-3 per source partition: one annotation file (with the text it names) becomes checked rows.

Input: one annotation file, the sources already read from raw/sources.yaml, the metadata.
Output: a `Partition`: the file's rows (every table but `sources` and the derived ones), the
problems of reading, anchoring and building them, those of the row-local checks, and (if asked)
the rows' linked data as Turtle, N-Triples and JSON-LD fragment files (export/stream.py). Building a
partition is a pure function of those inputs, so partitions run in parallel, are cached in
`.cache/` by content hash, and run on this machine (`LocalEngine`) or as Dask tasks (`cluster.py`). Keys,
foreign keys and the derived tables need the whole corpus and stay in `build.py`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from pipeline.engine import entryfile
from pipeline.errors import Problem
from pipeline.metadata import Metadata
from pipeline.read.annotations import Corpus, Source, display_path, read_annotation_file
from pipeline.rows.tables import Tables, partition_tables
from pipeline.validate.checks import check_cells
from pipeline.write.linked.stream import FileSlice
from pipeline.write.package import csv_lines

# Below this many files to build, starting worker processes costs more than it saves.
MIN_FILES_PER_WORKER = 64


@dataclass
class Partition:
    """The rows of one annotation file and what they depend on besides the file itself."""

    display: str
    tables: Tables
    cell_problems: list[Problem] = field(default_factory=list)
    # The source ids the file looked up, each with the sha256 of its text then ("" if absent,
    # "broken" if unusable): a cached partition is reused only while these still hold.
    depends: dict[str, str] = field(default_factory=dict)
    # Seconds of each step (one process, so about its CPU time), summed over partitions by build.py.
    seconds: dict[str, float] = field(default_factory=dict)
    # The bytes of the rows' linked-data fragments by format (export/stream.py), if rendered,
    # and, once stored (`write_entry`), where they are: slices of the partition's entry file.
    fragment_sizes: dict[str, int] = field(default_factory=dict)
    fragments: dict[str, FileSlice] = field(default_factory=dict)
    # The rendered fragments themselves, until `write_entry` stores them.
    rendered: dict[str, bytes] | None = None
    # The entry file the partition is stored in, if it is (`write_entry`, `read_entry`).
    entry: str | None = None

    def __getstate__(self) -> dict:
        # Where the fragments are is known only once the entry is written (its length depends
        # on this pickle): pickles carry their sizes, not their places or bytes.
        return {**self.__dict__, "fragments": {}, "rendered": None, "entry": None}


class _Recorded(Mapping):
    """The sources mapping, remembering which ids a partition looked up.

    A view of the build's mapping, not a copy: copying thousands of sources for every
    partition cost more than reading a small annotation file.
    """

    def __init__(self, data: dict, seen: set):
        self.data = data
        self.seen = seen

    def __getitem__(self, key):
        self.seen.add(key)
        return self.data[key]

    def __contains__(self, key):
        self.seen.add(key)
        return key in self.data

    def get(self, key, default=None):
        self.seen.add(key)
        return self.data.get(key, default)

    def __iter__(self):
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class _RecordedSet(AbstractSet):
    """The set of broken source ids, remembering which ids a partition looked up (a view, as above)."""

    def __init__(self, data: set, seen: set):
        self.data = data
        self.seen = seen

    def __contains__(self, key):
        self.seen.add(key)
        return key in self.data

    def __iter__(self):
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


# Pseudo source id under which `depends` records whether sources.yaml had unreadable entries.
INCOMPLETE = "\0incomplete"


def source_state(sid: str, sources: dict[str, Source], broken: set[str], incomplete: bool = False) -> str:
    if sid == INCOMPLETE:
        return str(incomplete)
    if sid in sources:
        # The language too: the linked-data fragments tag the quotes with it.
        return f"{sources[sid].row['sha256']} {sources[sid].row.get('language') or ''}"
    return "broken" if sid in broken else ""


def build_partition(
    path: Path,
    raw_dir: Path,
    meta: Metadata,
    sources: dict[str, Source],
    broken: set[str],
    origins: bool = False,
    incomplete: bool = False,
    fragments: Path | None = None,
    key: str | None = None,
) -> Partition:
    """Read, anchor, build, cell-check and render one annotation file.

    With `fragments` (a path), a partition without problems also renders its linked data and
    stores itself with it in that one file (`write_entry`).

    Without `origins` the rows forget the file and line they came from (their own problems
    have them already): that halves what crosses process boundaries and the cache. A build
    that meets whole-corpus problems builds again with origins, for the messages.
    """
    part = _build_partition(path, raw_dir, meta, sources, broken, origins, incomplete, fragments is not None)
    if part.rendered is not None and fragments is not None:
        began = time.perf_counter()
        write_entry(fragments, part, key=key)
        part.seconds["store"] = time.perf_counter() - began
    return part


def _build_partition(
    path: Path,
    raw_dir: Path,
    meta: Metadata,
    sources: dict[str, Source],
    broken: set[str],
    origins: bool,
    incomplete: bool,
    render: bool,
) -> Partition:
    """`build_partition` up to rendering: with `render`, the fragments are in `rendered`, not yet stored."""
    seen: set = set()
    # Read-only views in place of the dict and set: read_annotation_file only looks sources up.
    corpus = Corpus(
        sources=cast("dict[str, Source]", _Recorded(sources, seen)),
        broken_sources=cast("set[str]", _RecordedSet(broken, seen)),
        sources_incomplete=incomplete,
    )
    t0 = time.perf_counter()
    read_annotation_file(path, raw_dir, meta, corpus)
    t1 = time.perf_counter()
    tables = partition_tables(corpus, meta)
    tables.problems[:0] = corpus.problems
    t2 = time.perf_counter()
    cell_problems = check_cells(tables, meta)
    t3 = time.perf_counter()
    if not origins:
        tables.drop_origins()
    for name, rows in tables.rows.items():
        tables.lines[name] = csv_lines(rows, meta[name].field_names)
    t4 = time.perf_counter()
    rendered = None
    if render and not (tables.problems or cell_problems):
        from pipeline.write.linked import stream

        rendered = stream.render(tables.rows, meta, stream.languages(tables.rows, corpus.sources))
    t5 = time.perf_counter()
    return Partition(
        display=display_path(path, raw_dir),
        tables=tables,
        cell_problems=cell_problems,
        depends={
            sid: source_state(sid, sources, broken, incomplete) for sid in [*seen, INCOMPLETE] if isinstance(sid, str)
        },
        seconds={
            "read+anchor": t1 - t0,
            "build tables": t2 - t1,
            "check cells": t3 - t2,
            "render CSV": t4 - t3,
            "render RDF": t5 - t4,
        },
        rendered=rendered,
    )


def _fields(part: Partition) -> dict:
    """What an entry file stores of part: plain values only (entryfile.py); its fragments follow the JSON.

    Each table's rows as their column names once and a list of values per row: repeating every
    name in every row made encoding and decoding slower and the JSON larger.
    """
    tables = part.tables
    if (
        tables.problems
        or part.cell_problems
        or any(o is not None for origins in tables.origins.values() for o in origins)
    ):
        raise TypeError("only partitions without problems or origins are stored")
    return {
        "display": part.display,
        "depends": part.depends,
        "fragment_sizes": part.fragment_sizes,
        "rows": {name: _columns(rows) for name, rows in tables.rows.items()},
        "lines": tables.lines,
        "filled": tables.filled,
    }


def _columns(rows: list[dict]) -> list:
    """[column names, [values of each row]]; raises TypeError unless every row has those names in that order."""
    names = tuple(rows[0]) if rows else ()
    # C loops (set, map), as in `_stored_columns`.
    if rows and set(map(tuple, rows)) != {names}:
        raise TypeError("rows with other columns are not stored")
    return [list(names), list(map(list, map(dict.values, rows)))]


def _stored_columns(table) -> tuple[list[str], list[list]]:
    """(column names, values of each row) as `_columns` stored them; raises EntryError if table is not of that shape."""
    if not (isinstance(table, list) and len(table) == 2 and isinstance(table[0], list) and isinstance(table[1], list)):
        raise entryfile.EntryError("not a partition")
    names, values = table
    if not set(map(type, names)) <= {str} or len(set(names)) != len(names):
        raise entryfile.EntryError("not a partition")
    # Checked by C loops (set, map): a Python loop over every row cost a fifth of reading an entry.
    if not set(map(type, values)) <= {list} or not set(map(len, values)) <= {len(names)}:
        raise entryfile.EntryError("not a partition")
    return names, values


def _rows(table) -> list[dict]:
    """The rows `_columns` stored; raises EntryError if table is not of that shape."""
    names, values = _stored_columns(table)
    return [dict(zip(names, v, strict=False)) for v in values]  # lengths checked above, at C speed


def _partition(fields: dict) -> Partition:
    """The partition `_fields` stored; raises EntryError if the fields are not of that shape."""
    try:
        stored, lines = fields["rows"], fields["lines"]
        ok = (
            isinstance(fields["display"], str)
            and isinstance(stored, dict)
            and isinstance(lines, dict)
            and all(isinstance(v, str) for v in fields["depends"].values())
            and all(isinstance(v, int) and v >= 0 for v in fields["fragment_sizes"].values())
            and all(isinstance(v, int) for v in fields["filled"].values())
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise entryfile.EntryError("not a partition") from exc
    if not ok:
        raise entryfile.EntryError("not a partition")
    tables = Tables(rows={name: _rows(table) for name, table in stored.items()}, lines=lines, filled=fields["filled"])
    tables.drop_origins()
    return Partition(
        display=fields["display"], tables=tables, depends=fields["depends"], fragment_sizes=fields["fragment_sizes"]
    )


def write_entry(path: Path, part: Partition, data: bytes | None = None, key: str | None = None) -> bytes:
    """Store part and its rendered fragments in one file at path (atomically: caches may be shared), as sealed JSON.

    One file per partition, not one per format: creating and renaming files cost more than
    writing their bytes. `key` is the cache key of the inputs it was built from; `data` the
    partition's JSON if at hand. Raises TypeError if part holds values JSON cannot keep.
    """
    from pipeline.write.linked.stream import FORMATS

    rendered = part.rendered or {}
    part.fragment_sizes = {fmt: len(rendered[fmt]) for fmt in FORMATS if fmt in rendered}
    if data is None:
        data = entryfile.encode(_fields(part))
    fragments = [rendered[fmt] for fmt in part.fragment_sizes]
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    entryfile.write_sealed(str(tmp), key, data, fragments)
    os.replace(tmp, path)
    part.rendered = None
    _attach(part, path, entryfile.HEADER_SIZE + len(data))
    return data


def read_entry(
    path: Path | str, key: str | None = None, verified: tuple[bytes, int, int] | None = None
) -> Partition | None:
    """The partition stored at path by `write_entry`, its fragments as slices of the file.

    None if the file is missing, not an entry file, changed or cut short since it was written,
    or (with `key`) was built from other inputs: such an entry is rebuilt, never trusted.
    `verified`: what `entryfile.read_verified` returned for it already.
    """
    try:
        data, offset, length = verified or entryfile.read_verified(str(path), key)
        part = _partition(entryfile.decode(data))
    except (OSError, entryfile.EntryError):
        return None
    if length != sum(part.fragment_sizes.values()):
        return None
    _attach(part, path, offset)
    return part


def read_rows(entry: str) -> dict[str, tuple[list[str], list[list]]]:
    """The rows stored in the entry file, by table, as (column names, values of each row).

    Only the JSON is checked against its checksum: the fragments are not read. Raises if it
    is unreadable or changed.
    """
    fields, _, _ = entryfile.read_sealed(entry, None, fragments=False)
    stored = fields.get("rows")
    if not isinstance(stored, dict):
        raise entryfile.EntryError("not a partition")
    return {name: _stored_columns(table) for name, table in stored.items()}


def _attach(part: Partition, path: Path | str, offset: int) -> None:
    """Point part's fragments at their slices of its entry file, which holds them from offset on."""
    part.entry = str(path)
    part.fragments = {}
    for fmt, size in part.fragment_sizes.items():
        part.fragments[fmt] = FileSlice(str(path), offset, size)
        offset += size


# Entries whose checked JSON `PartitionCache.lookup` holds while the build decodes earlier ones.
READ_AHEAD = 32

# Entries unused by a build are deleted once nothing has touched them for this long (`PartitionCache.prune`).
PRUNE_AFTER_S = 3600.0


class PartitionCache:
    """Partitions stored under cache_dir as sealed JSON (entryfile.py), keyed by the file's bytes, its name and the environment.

    Only partitions without problems are stored: a problem's message may name other sources,
    and a broken file is rebuilt anyway once it is fixed.
    """

    def __init__(self, cache_dir: Path, env_key: str):
        self.dir = cache_dir / "partitions"
        self.env_key = env_key

    def key(self, path: Path, display: str) -> str:
        h = hashlib.sha256(self.env_key.encode() + b"\0" + display.encode() + b"\0")
        h.update(path.read_bytes())
        return h.hexdigest()

    def entry(self, key: str) -> Path:
        """The file holding the partition of key and its fragments (`write_entry`)."""
        return Path(self._entry(key))

    def _entry(self, key: str) -> str:
        # A string: building a Path three times per cached entry cost a tenth of reading it.
        return f"{self.dir}{os.sep}{key[:2]}{os.sep}{key}"

    def get(
        self,
        key: str,
        sources: dict[str, Source],
        broken: set[str],
        incomplete: bool = False,
        fragments: bool = False,
        verified: tuple[bytes, int, int] | None = None,
    ) -> Partition | None:
        """The cached partition of key if it still holds (and, with `fragments`, has its fragments).

        `verified`: the entry's checked JSON and where its fragments are (`read_verified`), if read already.
        """
        entry = self._entry(key)
        part = read_entry(entry, key, verified)
        if part is None or (fragments and not part.fragments):
            return None
        if any(source_state(sid, sources, broken, incomplete) != state for sid, state in part.depends.items()):
            return None
        part.seconds = {}  # nothing was spent building it this time
        with contextlib.suppress(OSError):
            os.utime(entry)  # in use: `prune` leaves it alone for a while
        return part

    def read(self, path: Path, display: str) -> tuple[str, tuple[bytes, int, int] | None]:
        """The key of path and its entry's checked JSON and fragments' place (None if unusable).

        The part of `get` that reads and hashes files, which lets other threads run.
        """
        key = self.key(path, display)
        try:
            return key, entryfile.read_verified(self._entry(key), key)
        except (OSError, entryfile.EntryError):
            return key, None

    def lookup(self, paths: list[Path], raw_dir: Path) -> Generator[tuple[str, tuple[bytes, int, int] | None]]:
        """`read` of every path, in order, done in a thread while the caller decodes the entries read before.

        Hashing a cached corpus's entries took as long as decoding them; on two CPUs the two now
        overlap. At most `READ_AHEAD` entries' JSON wait in memory.
        """
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1, thread_name_prefix="cache-read") as pool:
            pending: deque = deque()
            todo = iter(paths)
            for path in todo:
                pending.append(pool.submit(self.read, path, display_path(path, raw_dir)))
                if len(pending) > READ_AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def prune(self, keep: set[str], min_age_s: float = PRUNE_AFTER_S) -> int:
        """Delete every entry but those of keep (the current build's) left untouched for min_age_s; the number deleted.

        Without this the cache would grow by a whole corpus with every change of the code or
        schemas (they are part of every key) and by a file with every edit. Every build touches
        the entries it reuses (`get`) or writes, so the age spares those of another build that
        shares the cache and is running now; half-written files of killed builds go too.
        """
        deleted = 0
        too_old = time.time() - min_age_s
        try:
            folders = [f for f in os.scandir(self.dir) if f.is_dir()]
        except OSError:
            return 0
        for folder in folders:
            try:
                stale = [e.path for e in os.scandir(folder.path) if e.name not in keep and e.stat().st_mtime < too_old]
            except OSError:
                continue
            for path in stale:
                try:
                    os.unlink(path)
                    deleted += 1
                except OSError:
                    pass  # gone already, or not ours to delete: it only costs space
        return deleted

    def put(self, key: str, part: Partition, data: bytes | None = None) -> None:
        """Store part, without fragments (`data`: its JSON, if at hand)."""
        if part.tables.problems or part.cell_problems:
            return
        try:
            self.entry(key).parent.mkdir(parents=True, exist_ok=True)
            write_entry(self.entry(key), part, data, key)
        except (OSError, TypeError, ValueError):
            pass  # a cache that cannot be written (or rows JSON cannot keep) only costs time


# Worker processes inherit these through fork instead of receiving every source text per task.
_WORKER_ARGS: tuple = ()


def _work(task: tuple[Path, str | None, Path | None]) -> Partition:
    path, key, entry = task
    raw_dir, meta, sources, broken, cache, origins, incomplete = _WORKER_ARGS
    part = build_partition(path, raw_dir, meta, sources, broken, origins, incomplete, entry, key)
    if cache is not None and key is not None and not part.fragments:
        cache.put(key, part)  # a partition with fragments is stored with them already
    return part


def _work_pickled(task: tuple[Path, str | None, Path | None]) -> tuple[bytes, Path | None, int, float]:
    """`_work` in a worker process: the partition pickled for the trip back (a pipe between our own
    processes; nothing pickled is ever read from disk), the entry file it is stored in and where its
    fragments start there, and the seconds storing took."""
    path, key, entry = task
    raw_dir, meta, sources, broken, cache, origins, incomplete = _WORKER_ARGS
    part = _build_partition(path, raw_dir, meta, sources, broken, origins, incomplete, entry is not None)
    began = time.perf_counter()
    offset = 0
    if part.rendered is not None and entry is not None:
        offset = entryfile.HEADER_SIZE + len(write_entry(entry, part, key=key))
    elif cache is not None and key is not None:
        cache.put(key, part)
    return (
        pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL),
        entry if offset else None,
        offset,
        time.perf_counter() - began,
    )


def build_partitions(
    paths: list[Path],
    raw_dir: Path,
    meta: Metadata,
    sources: dict[str, Source],
    broken: set[str],
    cache: PartitionCache | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    origins: bool = False,
    incomplete: bool = False,
    scratch: Path | None = None,
    engine=None,
    keep: frozenset[str] = frozenset(),
) -> tuple[list[Partition], dict[str, int]]:
    """Every file's partition, in the order of `paths`, from the cache where it still holds.

    With `scratch`, partitions also render their linked-data fragments: into the cache next to
    the partition if there is one, else into the scratch folder. The files to build run on
    `engine` (`pipeline.engine.engines`; default: a local process pool of `jobs` workers).
    The cache keeps the entries of `keep` besides those of paths (a one-file rebuild's other files).
    """
    results: list[Partition | None] = [None] * len(paths)
    keys: list[str | None] = [None] * len(paths)
    entries: list[Path | None] = [None] * len(paths)
    folders: set[Path] = set()
    todo = []
    found = cache.lookup(paths, raw_dir) if cache is not None and not origins else None
    try:
        for i in range(len(paths)):
            if scratch is not None and not origins:
                entries[i] = scratch / f"{i:07d}"
            if cache is not None and found is not None:
                key, verified = next(found)
                keys[i] = key
                if verified is not None:
                    results[i] = cache.get(key, sources, broken, incomplete, scratch is not None, verified)
                if scratch is not None and results[i] is None:
                    entry = cache.entry(key)
                    try:
                        if entry.parent not in folders:
                            entry.parent.mkdir(parents=True, exist_ok=True)
                            folders.add(entry.parent)
                        entries[i] = entry
                    except OSError:
                        pass  # an unwritable cache only costs time: the entry goes to scratch
            if results[i] is None:
                todo.append(i)
            elif progress:
                progress(1)
    finally:
        if found is not None:
            found.close()  # its thread ends here, before any worker process is forked
    engine = engine or LocalEngine(jobs)
    args = (raw_dir, meta, sources, broken, cache, origins, incomplete)
    for i, part in zip(todo, engine.run([(paths[i], keys[i], entries[i]) for i in todo], args), strict=False):
        results[i] = part
        if progress:
            progress(1)
    if cache is not None and not origins:
        cache.prune({key for key in keys if key is not None} | keep)
    # Every slot is filled by now: from the cache above or by the engine.
    return cast("list[Partition]", results), {"cached": len(paths) - len(todo), "built": len(todo)}


def _run(tasks: list[tuple[Path, str | None, Path | None]], jobs: int) -> Iterator[Partition]:
    if jobs < 2:
        yield from map(_work, tasks)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for data, entry, offset, seconds in pool.imap(_work_pickled, tasks, chunksize=16):
            part = pickle.loads(data)
            if entry is not None:
                _attach(part, entry, offset)
                part.seconds["store"] = seconds
            yield part


class LocalEngine:
    """Partitions built on this machine: in this process, or in a pool of `jobs` forked workers."""

    name = "local"

    def __init__(self, jobs: int | None = None):
        self.jobs = jobs

    def run(self, tasks: list[tuple[Path, str | None, Path | None]], args: tuple) -> Iterator[Partition]:
        """The partition of every (path, cache key, entry file) task, in order; args as `_WORKER_ARGS`."""
        jobs = self.jobs or os.cpu_count() or 1
        jobs = min(jobs, len(tasks) // MIN_FILES_PER_WORKER)
        global _WORKER_ARGS
        _WORKER_ARGS = args
        try:
            yield from _run(tasks, jobs)
        finally:
            _WORKER_ARGS = ()

    def close(self) -> None:
        """Nothing outlives `run` here."""
