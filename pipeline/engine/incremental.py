"""The one-file rebuild: the last build's outputs carried over, and only what the changed annotation files change spliced in.

After every build with a cache, `LastBuild` records in the cache what the next build needs to
change the outputs instead of writing them again: the partitions (file and cache key) that
made the build, where each row's line is in each CSV file (sorted keys, line lengths), where
each partition's fragment is in each linked-data file, where each event's claims are in the
per-event JSON-LD, and the few whole-corpus figures a change can move (references to events
and actors, the casualty claims behind the estimates and summaries, the mentions' sources per
event, which files annotate each source).

A later build whose sources, entities and file list are unchanged, and whose changed files
only touch their own claims (spans, mentions, event actors, casualties, demands, outcomes),
checks the difference against those records and splices it into the last outputs (`Delta`).
Anything else goes the full way (`NotIncremental`), which also gives the messages: a new or
removed file, a changed source or entity, a span or demand another file cites, a change that
moves the corpus-wide linked data or the quoting figures, a duplicate key, a broken reference,
any problem. The last outputs are trusted only while every file of dist/ has the size, times
and inode recorded, and the cache's entries their checksums.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import json
import mmap
import operator
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pipeline.engine import entryfile
from pipeline.metadata import Metadata

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pipeline.engine.partition import Partition

FORMAT = "pipeline-last-build/1"
# More changed files than this share of the corpus: the full path is about as quick.
MAX_CHANGED_SHARE = 0.1
LINKED_FORMATS = ("turtle", "ntriples", "jsonld")


class NotIncremental(Exception):
    """The change is one the splice does not handle, or the last build's records cannot be trusted: build in full."""


def state_path(cache_dir: Path) -> Path:
    return cache_dir / "last-build" / "state"


def delta_tables(meta: Metadata) -> tuple[str, ...]:
    """The tables a splice may change: the spans and the claim tables (each row belongs to one annotation file)."""
    return tuple(n for n in (meta.SPANS, *meta.claim_tables.values()) if n in meta.tables)


def cited_within(meta: Metadata) -> dict[str, list[tuple[str, str]]]:
    """For each splice table another splice table cites: the (citing table, column) pairs."""
    tables = delta_tables(meta)
    out: dict[str, list[tuple[str, str]]] = {}
    for name in tables:
        for fk in meta[name].foreign_keys:
            if fk.resource in tables and len(fk.fields) == 1:
                out.setdefault(fk.resource, []).append((name, fk.fields[0]))
    return out


def _column(rows: list[dict], name: str) -> list:
    """The values of one column (None where a row lacks it), at C speed where every row has it."""
    try:
        return list(map(operator.itemgetter(name), rows))
    except KeyError:
        return [r.get(name) for r in rows]


@dataclass
class PartFacts:
    """What the splice needs to know of one partition besides its rows: its file, key, sources and outside citations."""

    display: str
    key: str
    sources: set[str]
    # Per cited table: the ids its rows cite that it does not define itself.
    outside: dict[str, set]
    entities: bool  # holds rows of tables a splice may not change (events, actors, places, ...)


def part_facts(meta: Metadata, display: str, key: str, rows: dict[str, list[dict]]) -> PartFacts:
    spans = rows.get(meta.SPANS, [])
    outside = {}
    for parent, citing in cited_within(meta).items():
        (pk,) = meta[parent].primary_key
        own = set(_column(rows.get(parent, []), pk))
        cited: set = set()
        for table, column in citing:
            cited.update(_column(rows.get(table, []), column))
        cited.discard(None)
        outside[parent] = cited - own
    allowed = set(delta_tables(meta))
    return PartFacts(
        display,
        key,
        set(_column(spans, "source_id")),
        outside,
        any(rows_ for name, rows_ in rows.items() if name not in allowed),
    )


@dataclass
class Figures:
    """The whole-corpus figures a splice updates: references per event and actor, casualty claims, mentions' sources."""

    # Per claimed table (events, actors): how many claim rows cite each id.
    reached: dict[str, dict[str, int]] = field(default_factory=dict)
    # casualty_id -> [event_id, category, count_min, count_max, span_id, source of the span]
    casualties: dict[str, list] = field(default_factory=dict)
    # event_id -> {source of a mention's span ("" if none): mentions}
    mentions: dict[str, dict[str, int]] = field(default_factory=dict)
    # "event_id NUL actor_id" -> event_actors rows stating that pair
    pairs: dict[str, int] = field(default_factory=dict)
    # demand_id -> its derived outcome
    outcomes: dict[str, str | None] = field(default_factory=dict)

    def add(self, meta: Metadata, rows: dict[str, list[dict]], source_of_span, sign: int = 1) -> None:
        """Count rows in (sign 1) or out (sign -1)."""
        for table in meta.claimed_tables:
            counts = self.reached.setdefault(table, {})
            for claim_table in meta.claim_tables.values():
                for fk in meta[claim_table].foreign_keys:
                    if fk.resource == table and len(fk.fields) == 1:
                        for value, n in Counter(_column(rows.get(claim_table, []), fk.fields[0])).items():
                            if value is not None:
                                counts[value] = counts.get(value, 0) + sign * n
        casualties = rows.get("casualties", [])
        ids = _column(casualties, "casualty_id")
        if sign > 0:
            columns = [_column(casualties, c) for c in ("event_id", "category", "count_min", "count_max", "span_id")]
            columns.append(list(map(source_of_span, columns[-1])))
            self.casualties.update(zip(ids, map(list, zip(*columns, strict=True)), strict=True))
        else:
            for cid in ids:
                self.casualties.pop(cid, None)
        actors = rows.get("event_actors", [])
        for pair, n in Counter(
            map("\0".join, zip(_column(actors, "event_id"), _column(actors, "actor_id"), strict=True))
        ).items():
            self.pairs[pair] = self.pairs.get(pair, 0) + sign * n
            if self.pairs[pair] <= 0:
                del self.pairs[pair]
        demands = rows.get("demands", [])
        if sign > 0:
            self.outcomes.update(zip(_column(demands, "demand_id"), _column(demands, "outcome"), strict=True))
        else:
            for demand_id in _column(demands, "demand_id"):
                self.outcomes.pop(demand_id, None)
        mentions = rows.get("event_mentions", [])
        pairs = Counter(
            zip(_column(mentions, "event_id"), map(source_of_span, _column(mentions, "span_id")), strict=True)
        )
        for (event_id, source), n in pairs.items():
            per_event = self.mentions.setdefault(event_id, {})
            per_event[source or ""] = per_event.get(source or "", 0) + sign * n
            if per_event[source or ""] == 0:
                del per_event[source or ""]

    def estimate_rows(self, parent_of: dict) -> list[dict]:
        from pipeline.rows.tables import estimate_casualties

        names = ("event_id", "category", "count_min", "count_max", "span_id")
        claims = [dict(zip(names, c, strict=False)) for c in self.casualties.values()]
        sources = {c[4]: c[5] for c in self.casualties.values()}
        return estimate_casualties(claims, sources, parent_of)

    def corpus_rows(self) -> dict[str, list[dict]]:
        """The rows of the claim tables `graph.corpus_graph` reads, as far as it reads them."""
        casualties = sorted(self.casualties.items())
        return {
            "event_actors": [
                {"event_id": e, "actor_id": a}
                for e, a in (p.split("\0") for p, n in sorted(self.pairs.items()) for _ in range(n))
            ],
            "casualties": [{"event_id": c[0], "category": c[1], "casualty_id": cid} for cid, c in casualties],
            "demands": [{"demand_id": d, "outcome": o} for d, o in sorted(self.outcomes.items())],
        }

    def summary_counts(self) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
        n_claims = Counter(c[0] for c in self.casualties.values())
        mentions = {
            e: (sum(per.values()), sum(1 for s, n in per.items() if s and n)) for e, per in self.mentions.items() if per
        }
        return dict(n_claims), mentions


@dataclass
class LastBuild:
    """What the last build made and where, for the next one to splice (`record`, `load`)."""

    env: str
    raw: str
    dist: str
    sources: str
    parts: list[list[str]]  # [display, cache key] in build order
    source_parts: dict[str, list[int]]
    outside: dict[str, list]  # per cited table: ids some partition cites but does not define
    entity_parts: list[int]
    files: dict[str, list[int]]  # file of dist/ -> [size, mtime_ns, ctime_ns, inode]
    hashes: dict[str, list]  # CSV file -> [bytes, sha256]
    tables: dict[str, dict]  # table -> {"head": bytes, "keys": sorted keys, "lengths": bytes of each line}
    figures: Figures
    per_event: list[list]  # per event: [node @id, offset, length, claims_at, claims' lengths] (`EventLayout`)
    linked: dict[str, dict]  # format -> {"parts": [[offset, length]], "corpus": [start, end]}
    quoted: dict[str, list]  # source_id -> [quoted_chars, longest_passage], for sources with quoting terms

    @classmethod
    def from_json(cls, data: dict) -> LastBuild:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise NotIncremental("no record of the last build in this format")
        try:
            fields = {k: v for k, v in data.items() if k != "format"}
            fields["figures"] = Figures(**fields["figures"])
            fields["tables"] = {name: _unpack(index) for name, index in fields["tables"].items()}
            last = cls(**fields)
        except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
            raise NotIncremental("the record of the last build is not readable") from exc
        return last


def _pack(index: dict) -> dict:
    """A table's index for JSON: text keys as one text (a line each), lengths as little-endian 32-bit integers in base64.

    Hundreds of thousands of separate strings and numbers took most of the time to write and read the record.
    """
    import array
    import base64
    import sys

    keys, lengths = index["keys"], index["lengths"]
    lengths_array = array.array("I", lengths)
    if sys.byteorder == "big":
        lengths_array.byteswap()
    packed = {"head": index["head"], "count": len(keys), "lengths": base64.b64encode(lengths_array.tobytes()).decode()}
    joined = "\n".join(keys) if set(map(type, keys)) <= {str} else None
    if joined is not None and joined.count("\n") == max(len(keys) - 1, 0) and (keys != [""]):
        packed["text_keys"] = joined
    else:
        packed["keys"] = keys
    return packed


def _unpack(packed: dict) -> dict:
    import array
    import base64
    import sys

    lengths = array.array("I")
    lengths.frombytes(base64.b64decode(packed["lengths"], validate=True))
    if sys.byteorder == "big":
        lengths.byteswap()
    if "text_keys" in packed:
        keys = packed["text_keys"].split("\n") if packed["count"] else []
    else:
        # JSON has no tuples: keys of several columns come back as lists.
        keys = [tuple(k) if isinstance(k, list) else k for k in packed["keys"]]
    if not (len(keys) == len(lengths) == packed["count"]) or not isinstance(packed["head"], int):
        raise NotIncremental("the record of the last build is inconsistent")
    return {"head": packed["head"], "keys": keys, "lengths": lengths.tolist()}


def sources_key(corpus) -> str:
    """Hash of everything the sources give a build: their rows (from sources.yaml and the texts) and which are unusable."""
    h = hashlib.sha256()
    h.update(repr(sorted((sid, sorted(s.row.items())) for sid, s in corpus.sources.items())).encode())
    h.update(repr((sorted(corpus.broken_sources), corpus.sources_incomplete, len(corpus.problems))).encode())
    return h.hexdigest()


def dist_stats(dist_dir: Path) -> dict[str, list[int]]:
    out = {}
    for entry in os.scandir(dist_dir):
        st = entry.stat(follow_symlinks=False)
        out[entry.name] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    return out


def source_of(tables_rows: dict[str, list[dict]], meta: Metadata):
    spans = tables_rows.get(meta.SPANS, [])
    return dict(zip(_column(spans, "span_id"), _column(spans, "source_id"), strict=True)).get


def prepare(
    meta: Metadata,
    raw_dir: Path,
    dist_dir: Path,
    sources: str,
    facts: list[PartFacts],
    tables,
    indexes: dict,
    per_event: list,
    linked: dict | None,
    files: dict[str, dict],
    cache_dir: Path,
) -> Prepared | None:
    """The record of a full build as it is about to replace dist_dir, written but for the files' stats (`save_prepared`).

    None if the build lacks what a splice needs. Made while the build waits for Parquet and
    SQLite, so that it costs the build no time of its own.
    """
    if linked is None or (not per_event and tables.rows.get("events")):
        return None
    figures = Figures()
    figures.add(meta, tables.rows, source_of(tables.rows, meta))
    source_parts: dict[str, list[int]] = {}
    outside: dict[str, set] = {}
    for i, f in enumerate(facts):
        for sid in f.sources:
            source_parts.setdefault(sid, []).append(i)
        for parent, ids in f.outside.items():
            outside.setdefault(parent, set()).update(ids)
    last = LastBuild(
        env=_env(meta),
        raw=os.path.realpath(raw_dir),
        dist=os.path.realpath(dist_dir),
        sources=sources,
        parts=[[f.display, f.key] for f in facts],
        source_parts=source_parts,
        outside={k: sorted(v, key=str) for k, v in outside.items()},
        entity_parts=[i for i, f in enumerate(facts) if f.entities],
        files={},
        hashes={path_: [entry["bytes"], entry["hash"].removeprefix("sha256:")] for path_, entry in files.items()},
        tables={name: {"head": ix.head, "keys": ix.keys, "lengths": ix.lengths} for name, ix in indexes.items()},
        figures=figures,
        per_event=[[e.node_id, e.offset, e.length, e.claims_at, e.claim_lengths] for e in per_event],
        linked={fmt: {"parts": v["parts"], "corpus": v["corpus"]} for fmt, v in linked.items()},
        quoted={sid: [f.quoted_chars, f.longest_passage] for sid, f in tables.quoted.items()},
    )
    path = state_path(cache_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.prepared")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        room, length = _write_record(tmp, last, room=True)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None
    return Prepared(tmp, room, length)


@dataclass
class Prepared:
    """A record written but for the files' stats: the file, where their room is, the JSON's length."""

    path: Path
    room: int
    length: int

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


# Bytes kept for the files' stats in a prepared record (about 100 a file of dist/).
_FILES_ROOM = 1 << 16
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=entryfile._reject)


def _write_record(tmp: Path, last: LastBuild, room: bool) -> tuple[int, int]:
    """Write last's JSON at HEADER_SIZE of a new file tmp, a value at a time; (where the files' stats are, JSON length).

    With `room`, spaces stand in for the stats (JSON allows them), to be written over by
    `save_prepared`. A value at a time, and each table's index packed only when written: the
    whole JSON at once took a hundred MB at 200,000 spans, at the build's peak of memory.
    """

    def value(v) -> bytes:
        return _ENCODER.encode(v).encode("ascii")

    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.seek(entryfile.HEADER_SIZE)
        fh.write(b'{"format":' + value(FORMAT) + b',"files":')
        at = fh.tell() - entryfile.HEADER_SIZE
        fh.write(b" " * _FILES_ROOM if room else value(last.files))
        for name, v in last.__dict__.items():
            if name in ("files", "tables", "figures"):
                continue
            fh.write(b"," + value(name) + b":" + value(v))
        fh.write(b',"figures":' + value(last.figures.__dict__) + b',"tables":{')
        for i, (name, index) in enumerate(last.tables.items()):
            fh.write((b"," if i else b"") + value(name) + b":" + value(_pack(index)))
        fh.write(b"}}")
        length = fh.tell() - entryfile.HEADER_SIZE
    return entryfile.HEADER_SIZE + at, length


def save_prepared(prepared: Prepared, dist_dir: Path, cache_dir: Path) -> None:
    """Write the stats of dist_dir's files into a prepared record, now that the build replaced it, and put it in place."""
    try:
        stats = _ENCODER.encode(dist_stats(dist_dir)).encode("ascii")
        if len(stats) > _FILES_ROOM:
            raise ValueError("too many files for the room kept")
        fd = os.open(prepared.path, os.O_RDWR | os.O_NOFOLLOW)
        try:
            os.pwrite(fd, stats, prepared.room)
            entryfile.seal_in_place(fd, None, prepared.length)
        finally:
            os.close(fd)
        os.replace(prepared.path, state_path(cache_dir))
    except (OSError, ValueError):
        prepared.discard()
        forget(cache_dir)  # a cache that cannot be written only costs time


def save(last: LastBuild, cache_dir: Path) -> None:
    """Write the record of a build (a splice's), files' stats included."""
    path = state_path(cache_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _, length = _write_record(tmp, last, room=False)
        fd = os.open(tmp, os.O_RDWR | os.O_NOFOLLOW)
        try:
            entryfile.seal_in_place(fd, None, length)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink()
        forget(cache_dir)  # a cache that cannot be written only costs time


def forget(cache_dir: Path | None) -> None:
    """Drop the record (a build is about to replace dist/ in full, or failed)."""
    if cache_dir is not None:
        with contextlib.suppress(OSError):
            state_path(cache_dir).unlink()


def load(cache_dir: Path) -> LastBuild:
    try:
        fields, _, _ = entryfile.read_sealed(str(state_path(cache_dir)), None, fragments=False)
    except FileNotFoundError as exc:
        raise NotIncremental("no earlier build recorded in the cache") from exc
    except (OSError, entryfile.EntryError) as exc:
        raise NotIncremental("no usable record of the last build") from exc
    return LastBuild.from_json(fields)


def _env(meta: Metadata) -> str:
    from pipeline.fingerprint import environment_key

    return environment_key(meta)


# ---- the splice ------------------------------------------------------------------------------


@dataclass
class TableSplice:
    """One CSV file's change: the old rows' positions to drop and the new (key, line) to put in."""

    name: str
    removed: list[int]
    added: list[tuple]  # (key, line bytes), sorted by key


@dataclass
class Delta:
    """A checked change of a few partitions, ready to be written over the last build's outputs."""

    last: LastBuild
    changed: list[int]
    new_parts: dict[int, Partition]  # index -> the changed file's partition (with its fragments)
    new_rows: dict[str, list[dict]]  # splice table -> the changed partitions' rows (demand outcomes derived)
    entity_rows: dict[str, list[dict]]  # every other table but sources and the derived ones
    splices: dict[str, TableSplice]
    derived: dict[str, list[dict]]  # derived table -> all its rows
    figures: Figures
    claims: dict[
        str, list[tuple[str, bytes]]
    ]  # event node @id -> its claims (id, text; b"" if unchanged) after the change
    old_claims: dict[str, list[str]]  # event node @id -> its claims' casualty ids before, in order
    facts: dict[int, PartFacts]
    old_rows: dict[str, list[dict]] = field(default_factory=dict)  # splice table -> the changed partitions' rows before
    source_rows: list[dict] = field(default_factory=list)  # every source row, quoting figures measured
    moved_sources: list[dict] = field(default_factory=list)  # the source rows whose quoting figures change
    quoted: dict[str, list] = field(default_factory=dict)
    derived_csv: dict[str, tuple[bytes, dict]] = field(default_factory=dict)  # derived table -> (file, index)
    estimate_events: set = field(default_factory=set)  # events whose estimates change
    corpus_changed: bool = False  # the corpus-wide linked data is rendered anew


def plan(
    meta: Metadata,
    last: LastBuild,
    raw_dir: Path,
    dist_dir: Path,
    sources_fingerprint: str,
    displays: list[str],
    keys: list[str],
    cache,
) -> list[int]:
    """The indexes of the changed files if the last build's records hold for this build; raises NotIncremental."""
    if last.env != _env(meta):
        raise NotIncremental("the code or schemas changed")
    if last.raw != os.path.realpath(raw_dir) or last.dist != os.path.realpath(dist_dir):
        raise NotIncremental("another raw/ or dist/ folder")
    if last.sources != sources_fingerprint:
        raise NotIncremental("the sources changed")
    if [p[0] for p in last.parts] != displays:
        raise NotIncremental("annotation files were added, removed or renamed")
    try:
        if dist_stats(dist_dir) != last.files:
            raise NotIncremental("dist/ changed since the last build")
    except OSError as exc:
        raise NotIncremental("dist/ is not readable") from exc
    changed = [i for i, (p, key) in enumerate(zip(last.parts, keys, strict=True)) if p[1] != key]
    if len(changed) > max(1, MAX_CHANGED_SHARE * len(keys)):
        raise NotIncremental("too many files changed")
    for fmt in LINKED_FORMATS:
        parts = last.linked[fmt]["parts"]
        first = next((i for i, (_, length) in enumerate(parts) if length), len(parts))
        if changed and min(changed) < first:
            raise NotIncremental("a file before the first with linked data changed")
    # Parts whose entries must still be readable: the changed files' old ones and the entities'.
    for i in [*changed, *last.entity_parts]:
        if not cache.entry(last.parts[i][1]).is_file():
            raise NotIncremental("the last build's cache entries are gone")
    return changed


def _rows_of(part) -> dict[str, list[dict]]:
    return {name: rows for name, rows in part.tables.rows.items() if rows}


def check(
    meta: Metadata,
    last: LastBuild,
    changed: list[int],
    old_parts: Mapping[int, Partition | None],
    new_parts: Mapping[int, Partition],
    entity_parts: list[Partition | None],
    sources: list[dict],
    dist_dir: Path,
) -> Delta:
    """Check the change of the changed partitions against the last build's records; the `Delta`, or NotIncremental.

    The checks are those of the whole-corpus stage (`validate.checks`), on the changed rows
    against the records: keys, references, ids of two kinds, external ids' provenance, every
    event and actor still cited, the quoting figures, the derived tables' cells.
    """
    from pipeline.rows.tables import Tables
    from pipeline.validate.checks import check_cells

    change = _Change(meta, last, changed)
    for i in changed:
        old, new = old_parts[i], new_parts[i]
        if old is None:
            raise NotIncremental("the last build's cache entries are not readable")
        change.add(i, old, new)
    entity_rows: dict[str, list[dict]] = {}
    for part in entity_parts:
        if part is None:
            raise NotIncremental("the last build's cache entries are not readable")
        for name, rows in _rows_of(part).items():
            entity_rows.setdefault(name, []).extend(rows)
    change.derive_outcomes()
    change.check_provenance()
    splices = {name: change.splice(name) for name in sorted(change.allowed) if change.touches(name)}
    change.check_references(entity_rows, sources)
    quoted = change.check_quoting(sources)
    corpus_changed = change.corpus_inputs_change()
    figures = Figures(
        reached={k: dict(v) for k, v in last.figures.reached.items()},
        casualties=dict(last.figures.casualties),
        mentions={k: dict(v) for k, v in last.figures.mentions.items()},
        pairs=dict(last.figures.pairs),
        outcomes=dict(last.figures.outcomes),
    )
    figures.add(meta, change.old_rows, source_of(change.old_rows, meta), -1)
    figures.add(meta, change.new_rows, source_of(change.new_rows, meta), +1)
    for table in meta.claimed_tables:
        (id_col,) = meta[table].primary_key
        counts = figures.reached.get(table, {})
        if any(counts.get(r[id_col], 0) <= 0 for r in entity_rows.get(table, []) if r.get(id_col)):
            raise NotIncremental("an entity no span supports any more")
    derived = _derived(meta, entity_rows, figures)
    if check_cells(Tables(rows=derived), meta):
        raise NotIncremental("a derived row does not check")
    derived_csv = {name: _csv(meta, name, rows) for name, rows in derived.items()}
    # Events whose estimates change: their nodes in the per-event JSON-LD are written anew.
    estimate_events = _changed_keys(
        dist_dir / meta["casualty_estimates"].path, last.tables["casualty_estimates"], derived_csv["casualty_estimates"]
    )
    if estimate_events is None:
        raise NotIncremental("casualty_estimates.csv is not the file the last build wrote")
    # Sources whose quoting figures change: their lines in sources.csv are spliced.
    source_rows = []
    for row in sources:
        row = dict(row)
        if row["source_id"] in quoted:
            row["quoted_chars"], row["longest_passage"] = quoted[row["source_id"]]
        source_rows.append(row)
    moved = {r["source_id"] for r in source_rows if quoted.get(r["source_id"]) != last.quoted.get(r["source_id"])}
    moved_sources = [r for r in source_rows if r["source_id"] in moved]
    if moved:
        splices["sources"] = _replace_lines(meta, "sources", last, moved_sources)
    claims, old_claims = _claims(meta, last, change.old_rows, change.new_rows, sources)
    return Delta(
        last,
        changed,
        dict(new_parts),
        change.new_rows,
        entity_rows,
        splices,
        derived,
        figures,
        claims,
        old_claims,
        change.facts,
        old_rows=change.old_rows,
        source_rows=source_rows,
        moved_sources=moved_sources,
        quoted=quoted,
        derived_csv=derived_csv,
        estimate_events={k.split("\0")[0] if isinstance(k, str) else k[0] for k in estimate_events},
        corpus_changed=corpus_changed or bool(moved) or bool(estimate_events),
    )


def _csv(meta: Metadata, name: str, rows: list[dict]) -> tuple[bytes, dict]:
    """A table's whole CSV file and its index (`TableIndex` as a dict)."""
    from pipeline.write.package import TableIndex, table_csv

    schema = meta[name]
    index = TableIndex()
    data = b"".join(table_csv(rows, schema.field_names, schema.primary_key, None, index))
    return data, {"head": index.head, "keys": index.keys, "lengths": index.lengths}


def _lines(data: bytes, index: dict) -> dict:
    """Each row's line of a CSV file by its key, from the file's bytes and index."""
    at = index["head"]
    out = {}
    for key, n in zip(index["keys"], index["lengths"], strict=True):
        out[key] = data[at : at + n]
        at += n
    return out


def _changed_keys(old_path: Path, old_index: dict, new: tuple[bytes, dict]) -> set | None:
    """The keys whose line differs (or is in one file only) between the last build's file and the new one.

    None if the file is not the one the last build wrote.
    """
    try:
        old = old_path.read_bytes()
    except OSError:
        return None
    if len(old) != old_index["head"] + sum(old_index["lengths"]):
        return None
    data, index = new
    if old == data:
        return set()
    before, after = _lines(old, old_index), _lines(data, index)
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _replace_lines(meta: Metadata, name: str, last: LastBuild, rows: list[dict]) -> TableSplice:
    """The splice that writes the given rows of a table anew, each over its line of the last build."""
    from pipeline.write.package import _sort_keys, csv_lines

    keys = last.tables[name]["keys"]
    new_keys = _sort_keys(rows, meta[name].primary_key)
    removed = []
    for k in new_keys:
        at = bisect.bisect_left(keys, k) if not keys or type(k) is type(keys[0]) else len(keys)
        if at == len(keys) or keys[at] != k:
            raise NotIncremental(f"a row of {name} is not where the last build put it")
        removed.append(at)
    lines = [line.encode("utf-8") for line in csv_lines(rows, meta[name].field_names)]
    return TableSplice(name, sorted(removed), sorted(zip(new_keys, lines, strict=True)))


class _Change:
    """The rows of the changed partitions before and after, and the checks on them (`check`)."""

    def __init__(self, meta: Metadata, last: LastBuild, changed: list[int]):
        self.meta, self.last, self.changed = meta, last, changed
        self.allowed = set(delta_tables(meta))
        self.old_rows: dict[str, list[dict]] = {n: [] for n in self.allowed}
        self.new_rows: dict[str, list[dict]] = {n: [] for n in self.allowed}
        self.new_lines: dict[str, list[str]] = {n: [] for n in self.allowed}
        self.facts: dict[int, PartFacts] = {}

    def add(self, i: int, old: Partition, new: Partition) -> None:
        """One changed partition: its rows before and after; only its own spans, demands and sources."""
        from pipeline.write.package import csv_lines

        if new.tables.problems or new.cell_problems or not new.fragments:
            raise NotIncremental("a changed file has problems")
        old_tables, new_tables = _rows_of(old), _rows_of(new)
        # A file may define events, actors and places besides its claims: they must stay as they were.
        for name in (old_tables.keys() | new_tables.keys()) - self.allowed:
            if old_tables.get(name) != new_tables.get(name):
                raise NotIncremental(f"a changed file changes its {name}")
        for tables, rows in ((old_tables, self.old_rows), (new_tables, self.new_rows)):
            for name in self.allowed & tables.keys():
                rows[name] += tables[name]
        for name, part_rows in new_tables.items():
            if name not in self.allowed:
                continue
            lines = new.tables.lines.get(name)
            if lines is None or len(lines) != len(part_rows):
                lines = csv_lines(part_rows, self.meta[name].field_names)
            self.new_lines[name] += lines
        old_facts = part_facts(self.meta, self.last.parts[i][0], self.last.parts[i][1], _rows_of(old))
        self.facts[i] = facts = part_facts(self.meta, new.display, "", _rows_of(new))
        if any(facts.outside.values()):
            raise NotIncremental("a changed file cites a span or demand of another file")
        for parent, ids in self.last.outside.items():
            (pk,) = self.meta[parent].primary_key
            if set(ids) & set(_column(_rows_of(old).get(parent, []), pk)):
                raise NotIncremental("another file cites a span or demand of a changed file")
        # Quoting figures: every span of a touched source must be in the changed files.
        for sid in old_facts.sources | facts.sources:
            if not set(self.last.source_parts.get(sid, [])) <= set(self.changed):
                raise NotIncremental("a touched source is also annotated elsewhere")

    def touches(self, name: str) -> bool:
        return bool(self.old_rows[name] or self.new_rows[name])

    def derive_outcomes(self) -> None:
        """Demands' outcomes, derived from the outcome claims (all in the demand's own file), before and after."""
        from pipeline.rows.tables import derive_demand_outcomes
        from pipeline.write.package import csv_lines

        if {"demands", "demand_outcomes"} <= self.allowed:
            for rows in (self.old_rows, self.new_rows):
                rows["demands"] = list(rows["demands"])
                derive_demand_outcomes(rows["demands"], rows["demand_outcomes"])
            # Rendered again, as the merge does when it derived an outcome.
            self.new_lines["demands"] = csv_lines(self.new_rows["demands"], self.meta["demands"].field_names)

    def check_provenance(self) -> None:
        from pipeline.rows.tables import Tables
        from pipeline.validate.checks import _check_provenance, _Checker, _ColumnValues

        problems: list = []
        probe = Tables(rows=dict(self.new_rows))
        probe.drop_origins()
        values = _ColumnValues()
        _check_provenance({n: _Checker(self.meta[n], probe, problems, values) for n in self.new_rows})
        if problems:
            raise NotIncremental("a changed row has an unchecked external id")

    def splice(self, name: str) -> TableSplice:
        """Where the table's changed rows leave and enter its CSV file; a duplicate key means the full way."""
        from pipeline.write.package import _sort_keys

        pk = self.meta[name].primary_key
        keys = self.last.tables[name]["keys"]
        old_keys, added_keys = _sort_keys(self.old_rows[name], pk), _sort_keys(self.new_rows[name], pk)
        # One kind of key throughout (texts; tuples where a key is not all text), as the last build sorted them.
        kinds = {type(k) for k in itertools.chain(old_keys, added_keys, keys[:1])}
        if kinds - {str}:
            raise NotIncremental(f"keys of {name} the splice does not sort")
        removed = []
        for k in old_keys:
            at = bisect.bisect_left(keys, k)
            if at == len(keys) or keys[at] != k:
                raise NotIncremental(f"a row of {name} is not where the last build put it")
            removed.append(at)
        gone = set(removed)
        if len(set(added_keys)) != len(added_keys):
            raise NotIncremental("a duplicate key")
        for k in added_keys:
            at = bisect.bisect_left(keys, k)
            if at < len(keys) and keys[at] == k and at not in gone:
                raise NotIncremental("a duplicate key")
        if any(None in (r.get(c) for c in pk) for r in self.new_rows[name]):
            raise NotIncremental("an empty key")
        lines = (line.encode("utf-8") for line in self.new_lines[name])
        return TableSplice(name, sorted(removed), sorted(zip(added_keys, lines, strict=True)))

    def check_references(self, entity_rows: dict[str, list[dict]], sources: list[dict]) -> None:
        """Every reference of a changed row resolves; no new id names a thing of another kind."""
        from pipeline.validate.checks import ID_SPACES

        meta = self.meta
        ids: dict[str, set] = {name: set() for name, schema in meta.tables.items() if len(schema.primary_key) == 1}
        ids["sources"] = {s["source_id"] for s in sources}
        for name, rows in [*entity_rows.items(), *((n, self.new_rows[n]) for n in self.allowed)]:
            if len(meta[name].primary_key) == 1:
                ids[name] = set(_column(rows, meta[name].primary_key[0]))
        for name in self.allowed:
            for fk in meta[name].foreign_keys:
                if len(fk.fields) != 1 or fk.resource not in ids:
                    raise NotIncremental("a reference the splice cannot check")
                cited = set(_column(self.new_rows[name], fk.fields[0]))
                cited.discard(None)
                if not cited <= ids[fk.resource]:
                    raise NotIncremental("a reference that does not resolve")
        for table, column in ID_SPACES:
            if table in self.allowed:
                fresh = set(_column(self.new_rows[table], column)) - set(_column(self.old_rows[table], column))
                if any(fresh & ids[other] for other, _ in ID_SPACES if other != table and other in ids):
                    raise NotIncremental("an id names two kinds of thing")

    def check_quoting(self, sources: list[dict]) -> dict[str, list]:
        """The touched sources keep to their quoting terms; the quoting figures of every source after the change.

        All spans of a touched source are in the changed files (`add`), so their figures are measured anew.
        """
        from pipeline import quoting

        spans = self.meta.SPANS
        touched = set(_column(self.old_rows[spans], "source_id")) | set(_column(self.new_rows[spans], "source_id"))
        rows = [dict(s) for s in sources if s["source_id"] in touched]
        if touched - {s["source_id"] for s in rows}:
            raise NotIncremental("a span of an unknown source")
        if touched - set(_column(self.new_rows[spans], "source_id")):
            raise NotIncremental("a source lost all its spans")
        after = quoting.figures_by_source(rows, self.new_rows[spans])
        if quoting.check_terms(rows, [None] * len(rows), self.new_rows[spans], after):
            raise NotIncremental("a source goes over its quoting terms")
        quoted = {sid: list(f) for sid, f in self.last.quoted.items()}
        for sid in touched:
            quoted.pop(sid, None)
        quoted.update({sid: [f.quoted_chars, f.longest_passage] for sid, f in after.items()})
        return quoted

    def corpus_inputs_change(self) -> bool:
        """Whether what the corpus-wide linked data reads of the claim tables (`graph.corpus_graph`) changes."""
        for table, columns in (
            ("event_actors", ("event_id", "actor_id")),
            ("casualties", ("event_id", "category", "casualty_id")),
            ("demands", ("demand_id", "outcome")),
        ):
            if table in self.allowed:
                old = Counter(tuple(r.get(c) for c in columns) for r in self.old_rows[table])
                new = Counter(tuple(r.get(c) for c in columns) for r in self.new_rows[table])
                if old != new:
                    return True
        return False


def _derived(meta: Metadata, entity_rows: dict[str, list[dict]], figures: Figures) -> dict[str, list[dict]]:
    """Every row of the derived tables (casualty_estimates, event_summary), from the figures."""
    from pipeline.rows.summary import summary_rows
    from pipeline.rows.tables import _row_of

    events = entity_rows.get("events", [])
    parent_of = {r["event_id"]: r.get("parent_event_id") for r in events}
    out = {}
    columns = meta["casualty_estimates"].field_names
    out["casualty_estimates"] = [_row_of(columns, r) for r in figures.estimate_rows(parent_of)]
    if "event_summary" in meta.tables:
        n_claims, mentions = figures.summary_counts()
        rows = {**entity_rows, "casualty_estimates": out["casualty_estimates"]}
        columns = meta["event_summary"].field_names
        out["event_summary"] = [_row_of(columns, r) for r in summary_rows(rows, n_claims, mentions)]
    # A derived table of the entities alone (event_places) stays as it was.
    moved = set(delta_tables(meta)) | {"casualty_estimates"}
    unknown = {n for n, s in meta.tables.items() if set(s.derived_from) & moved} - set(out)
    if unknown:
        raise NotIncremental(f"derived tables the splice does not know: {sorted(unknown)}")
    return out


def _claims(meta, last: LastBuild, old_rows, new_rows, sources: list[dict]) -> tuple[dict, dict]:
    """The claims of every event node the change touches, after it ((casualty id, text or b"" if unchanged) in order), and before it (ids)."""
    from pipeline.write.linked.graph import iri_key
    from pipeline.write.linked.per_event import _claim, claim_text

    language = {r["source_id"]: (r.get("language") or "").lower() for r in sources}
    spans = {r["span_id"]: r for r in new_rows.get(meta.SPANS, [])}
    dropped = {r["casualty_id"] for r in old_rows.get("casualties", [])}
    fresh: dict[str, list[tuple[str, bytes]]] = {}
    for r in new_rows.get("casualties", []):
        text = claim_text(_claim(r, spans.get(r["span_id"]), language)).encode("utf-8")
        fresh.setdefault(f"event/{iri_key(r['event_id'])}", []).append((r["casualty_id"], text))
    touched = set(fresh)
    touched |= {f"event/{iri_key(r['event_id'])}" for r in old_rows.get("casualties", [])}
    # The casualty ids of each event's claims in the last build, in the order the file has them.
    old_ids: dict[str, list[str]] = {}
    for cid, c in last.figures.casualties.items():
        node = f"event/{iri_key(c[0])}"
        if node in touched:
            old_ids.setdefault(node, []).append(cid)
    out = {}
    for node in touched:
        old_ids[node] = sorted(old_ids.get(node, []))
        out[node] = [(cid, b"") for cid in old_ids[node] if cid not in dropped] + fresh.get(node, [])
        out[node].sort(key=operator.itemgetter(0))
    return out, old_ids


# ---- writing ---------------------------------------------------------------------------------


def splice_csv(old_path: Path, new_path: Path, index: dict, splice: TableSplice) -> tuple[int, str, dict]:
    """Write the old file with the splice applied; its size, SHA-256 and new index."""
    keys, lengths = index["keys"], index["lengths"]
    offsets = [index["head"], *itertools.accumulate(lengths, initial=index["head"])][1:]
    # offsets[i] is where row i starts; offsets[len] the end.
    digest, size = hashlib.sha256(), 0
    new_keys: list = []
    new_lengths: list[int] = []
    removed = splice.removed
    with open(old_path, "rb") as fh, open(new_path, "wb") as out:
        old = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(fh.fileno()).st_size else b""
        view = memoryview(old)
        try:
            if len(view) != offsets[-1]:
                raise NotIncremental(f"{old_path.name} is not the file the last build wrote")

            def put(data) -> None:
                nonlocal size
                out.write(data)
                digest.update(data)
                size += len(data)

            def copy(a: int, b: int) -> None:
                # Old rows a..b-1 but the removed ones, as few slices as possible.
                lo = bisect.bisect_left(removed, a)
                hi = bisect.bisect_left(removed, b)
                start = a
                for r in [*removed[lo:hi], b]:
                    if start < r:
                        put(view[offsets[start] : offsets[r]])
                        new_keys.extend(keys[start:r])
                        new_lengths.extend(lengths[start:r])
                    start = r + 1

            put(view[: index["head"]])
            at = 0
            for key, line in splice.added:
                to = bisect.bisect_left(keys, key)
                copy(at, to)
                put(line)
                new_keys.append(key)
                new_lengths.append(len(line))
                at = to
            copy(at, len(keys))
        finally:
            view.release()
            if isinstance(old, mmap.mmap):
                old.close()
    return size, digest.hexdigest(), {"head": index["head"], "keys": new_keys, "lengths": new_lengths}


def splice_per_event(old_path: Path, new_path: Path, delta: Delta) -> list[list]:
    """Write the per-event JSON-LD with the nodes of the events the change touches written anew; the new layout.

    A touched node keeps its unchanged claims' texts as the last build wrote them; its own
    properties and estimates are rendered again (the same code renders them in a full build).
    """
    from pipeline.write.linked.graph import iri_key
    from pipeline.write.linked.per_event import (
        CLAIM_SEPARATOR,
        CLAIMS_CLOSE,
        estimate_node,
        event_node,
        node_with_claims,
    )

    last = delta.last
    events = {f"event/{iri_key(e['event_id'])}": e for e in delta.entity_rows.get("events", [])}
    estimates: dict[str, list[dict]] = {}
    for r in sorted(delta.derived["casualty_estimates"], key=lambda r: (r["event_id"], r["category"])):
        estimates.setdefault(r["event_id"], []).append(estimate_node(r))
    touched = set(delta.claims) | {f"event/{iri_key(e)}" for e in delta.estimate_events}
    layout = []
    with open(old_path, "rb") as fh:
        old = fh.read()
    pieces = []
    at = 0
    shift = 0
    for node_id, offset, length, claims_at, lengths in last.per_event:
        if node_id not in touched:
            layout.append([node_id, offset + shift, length, claims_at, lengths])
            continue
        node = old[offset : offset + length]
        # The claims' texts as the last build wrote them, in order.
        texts = []
        if claims_at >= 0:
            pos = claims_at
            for n in lengths:
                texts.append(node[pos : pos + n])
                pos += n + len(CLAIM_SEPARATOR)
            if pos - len(CLAIM_SEPARATOR) + len(CLAIMS_CLOSE) != length:
                raise NotIncremental("the per-event file is not the one the last build wrote")
        if node_id in delta.claims:
            old_ids = delta.old_claims.get(node_id, [])
            if len(old_ids) != len(texts):
                raise NotIncremental("the per-event file is not the one the last build wrote")
            by_id = dict(zip(old_ids, texts, strict=True))
            texts = [text or by_id[cid] for cid, text in delta.claims[node_id]]
        event = events.get(node_id)
        if event is None:
            raise NotIncremental("an event of the per-event file is gone")
        new_node, new_claims_at = node_with_claims(event_node(event, estimates.get(event["event_id"]), None), texts)
        pieces += [old[at:offset], new_node]
        at = offset + length
        layout.append([node_id, offset + shift, len(new_node), new_claims_at, list(map(len, texts))])
        shift += len(new_node) - length
    pieces.append(old[at:])
    new_path.write_bytes(b"".join(pieces))
    return layout


class OldRange(NamedTuple):
    """`length` bytes from `offset` of the last build's file."""

    offset: int
    length: int


def copy_ranges(old_path: Path, out, ranges: list) -> None:
    """Append to out each `OldRange` of old_path, or fragment (bytes, `FileSlice`), in order (the kernel copies ranges)."""
    from pipeline.write.linked.stream import FileSlice, append

    with open(old_path, "rb") as fh:
        end = max((r.offset + r.length for r in ranges if isinstance(r, OldRange)), default=0)
        if os.fstat(fh.fileno()).st_size < end:
            raise NotIncremental(f"{old_path.name} is shorter than the last build wrote")
    append(out, (FileSlice(str(old_path), r.offset, r.length) if isinstance(r, OldRange) else r for r in ranges))


def write(meta: Metadata, delta: Delta, dist_dir: Path, stage: Path, cache_dir: Path, timings: dict) -> LastBuild:
    """Every output of the build into stage from the last build's (in dist_dir) and the delta; the record to keep.

    Raises NotIncremental when an output turns out to need the full way (the stage is then dropped).
    """
    import time
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.rows.tables import Tables
    from pipeline.write import Output, file_writers
    from pipeline.write.exports import write_parquet, write_sqlite
    from pipeline.write.linked import _heads, _layout, export_names, file_stats
    from pipeline.write.linked.graph import description_graph
    from pipeline.write.linked.per_event import per_event_filename
    from pipeline.write.package import write_descriptor

    began = time.perf_counter()
    last = delta.last
    # Checked again under the build's lock: another build may have replaced dist/ since `plan`.
    if dist_stats(dist_dir) != last.files:
        raise NotIncremental("dist/ changed since the last build")
    names = export_names(meta)
    exports = list(names.values())
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        corpus = None
        if delta.corpus_changed:
            from pipeline.write.linked import stream

            corpus_rows = {
                "sources": delta.source_rows,
                "events": delta.entity_rows.get("events", []),
                "casualty_estimates": delta.derived["casualty_estimates"],
                **delta.figures.corpus_rows(),
            }
            corpus = stream.corpus_fragments(Tables(rows=corpus_rows), meta, cache_dir)
        linked_job = pool.submit(_timed, _linked_parts, meta, delta, dist_dir, stage, corpus)
        files: dict[str, dict] = {}
        tables_index = dict(last.tables)
        for name, schema in meta.tables.items():
            old, new = dist_dir / schema.path, stage / schema.path
            if name in delta.splices:
                size, digest, tables_index[name] = splice_csv(old, new, last.tables[name], delta.splices[name])
                files[schema.path] = {"bytes": size, "hash": "sha256:" + digest}
            elif name in delta.derived_csv:
                data, tables_index[name] = delta.derived_csv[name]
                new.write_bytes(data)
                files[schema.path] = {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
            else:
                _link(old, new)
                size, digest = last.hashes[schema.path]
                files[schema.path] = {"bytes": size, "hash": "sha256:" + digest}
        from pipeline.engine.build import set_temporal_coverage

        entity_tables = Tables(rows={**delta.entity_rows, **delta.derived})
        set_temporal_coverage(meta, entity_tables)
        digests = write_descriptor(meta, files, stage)
        known = {name: (files[name]["bytes"], digests[name]) for name in digests}
        per_event = per_event_filename(meta)
        layout = splice_per_event(dist_dir / per_event, stage / per_event, delta)
        out = Output(entity_tables, meta, stage)
        for writer in file_writers():
            name = writer.name(meta)
            if name == per_event:
                data = (stage / name).read_bytes()
            else:
                data = writer.render(out)
                (stage / name).write_bytes(data)
            if writer.hashed:
                known[name] = (len(data), hashlib.sha256(data).hexdigest())
        timings["splice CSV, descriptor, per-event JSON-LD"] = time.perf_counter() - began
        changed_rows = Tables(rows={**delta.new_rows, **delta.derived, "sources": delta.source_rows})
        parquet = pool.submit(_timed, write_parquet, meta, stage, digests, cache_dir)
        changes = {
            name: (delta.old_rows[name], delta.new_rows[name]) for name in delta.splices if name in delta.new_rows
        }
        if "sources" in delta.splices:
            changes["sources"] = (delta.moved_sources, delta.moved_sources)
        sqlite = pool.submit(_timed, write_sqlite, changed_rows, meta, stage, digests, cache_dir, None, changes)
        timings["  export Parquet (in a thread)"] = parquet.result()[1]
        timings["  export SQLite (in a thread)"] = sqlite.result()[1]
        linked_layout, timings["  linked-data ranges (in a thread)"] = linked_job.result()
        timings["Parquet, SQLite, linked-data ranges"] = (
            time.perf_counter() - began - timings["splice CSV, descriptor, per-event JSON-LD"]
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    described = description_graph(meta, file_stats(stage, known, frozenset(exports)), exports)
    if _heads(described) != _heads(description_graph(meta, {}, exports)):
        raise NotIncremental("the linked-data heads depend on the files")
    from pipeline.write.linked import jsonld, stream

    for fmt, (tail, _) in _layout().items():
        with open(stage / names[fmt], "ab") as fh:
            stream.append(fh, stream.chunks(fmt, described))
            fh.write(tail.encode("utf-8"))
    (stage / names["context"]).write_bytes(jsonld.context_bytes(described))
    if {p.name for p in stage.iterdir()} != set(last.files):
        raise NotIncremental("the build would write other files than the last one")
    parts = [list(p) for p in last.parts]
    source_parts = {sid: list(ix) for sid, ix in last.source_parts.items()}
    for i in delta.changed:
        parts[i][1] = delta.facts[i].key
        for ix in source_parts.values():
            if i in ix:
                ix.remove(i)
        for sid in delta.facts[i].sources:
            source_parts.setdefault(sid, []).append(i)
    return LastBuild(
        env=last.env,
        raw=last.raw,
        dist=last.dist,
        sources=last.sources,
        parts=parts,
        source_parts={sid: sorted(ix) for sid, ix in source_parts.items() if ix},
        outside=last.outside,
        entity_parts=last.entity_parts,
        files={},
        hashes={p: [e["bytes"], e["hash"].removeprefix("sha256:")] for p, e in files.items()},
        tables=tables_index,
        figures=delta.figures,
        per_event=layout,
        linked=linked_layout,
        quoted=delta.quoted,
    )


def _timed(function, *args) -> tuple:
    """function(*args) and the seconds it took."""
    import time

    began = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - began


def _link(old: Path, new: Path) -> None:
    """new as a second name of old (an unchanged file), or a copy where links are not possible."""
    import shutil

    try:
        os.link(old, new)
    except OSError:
        shutil.copyfile(old, new)


def _linked_parts(meta: Metadata, delta: Delta, dist_dir: Path, stage: Path, corpus: dict | None) -> dict[str, dict]:
    """Each linked-data file up to its description: the last one's ranges, the changed partitions' fragments, the corpus-wide part; the new layout.

    `corpus`: the corpus-wide part rendered anew (`stream.corpus_fragments`), if it changed.
    """
    from pipeline.write.linked import _layout, export_names, fragment_length
    from pipeline.write.linked.stream import FileSlice

    names = export_names(meta)
    layout = {}
    for fmt in LINKED_FORMATS:
        old = delta.last.linked[fmt]
        parts = old["parts"]
        ranges: list = []
        new_parts = []
        at = parts[0][0] if parts else old["corpus"][0]

        def add(piece, ranges=ranges) -> None:
            # Neighbouring ranges of the old file are copied as one.
            if isinstance(piece, OldRange) and ranges and isinstance(ranges[-1], OldRange):
                o, n = ranges[-1]
                if o + n == piece.offset:
                    ranges[-1] = OldRange(o, n + piece.length)
                    return
            ranges.append(piece)

        add(OldRange(0, at))
        changed = set(delta.changed)
        skip = _layout()[fmt][1]
        first = next((i for i, (_, length) in enumerate(parts) if length), len(parts))
        for i, (offset, length) in enumerate(parts):
            if i in changed:
                fragment = delta.new_parts[i].fragments[fmt]
                if i == first:
                    # The file's first fragment goes without its leading separator (`LinkedData`).
                    if fragment.length <= skip:
                        raise NotIncremental("the first fragment of a linked-data file empties")
                    fragment = FileSlice(fragment.path, fragment.offset + skip, fragment.length - skip)
                add(fragment)
                length = fragment.length
            elif length:
                add(OldRange(offset, length))
            new_parts.append([at, length])
            at += length
        start, end = old["corpus"]
        if corpus is None:
            add(OldRange(start, end - start))
            size = end - start
        else:
            for piece in corpus[fmt]:
                add(piece)
            size = sum(fragment_length(piece) for piece in corpus[fmt])
        path = stage / names[fmt]
        with open(path, "wb") as out:
            copy_ranges(dist_dir / names[fmt], out, ranges)
            out.flush()
            os.fsync(out.fileno())
        layout[fmt] = {"parts": new_parts, "corpus": [at, at + size]}
    return layout
