"""Stage 1, read and anchor: raw/ becomes a `Corpus` of sources, anchored spans and claims.

Input: `raw/sources.yaml` (one entry per source: id, text file, sha256, bibliographic data),
`raw/texts/*.txt` (the articles, byte for byte) and `raw/annotations/*.yaml` (spans with the
claims read from them, plus event and actor definitions). Output: `Corpus`, with every record
still carrying the file and line it came from, and the problems found on the way.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pipeline import quoting
from pipeline.errors import AnchorError, Problem
from pipeline.metadata import Metadata
from pipeline.project import ANNOTATIONS_DIRNAME, SOURCES_FILENAME, TEXTS_DIRNAME
from pipeline.read import anchoring
from pipeline.read.safefile import NotAFile, check_file, read_bounded
from pipeline.read.yamlfile import MAX_YAML_BYTES, Yaml11Number, YDict, load_yaml, yaml11_message
from pipeline.spreadsheet import clean_context, safe_prefix, safe_suffix

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TEXT_BYTES = 16 * 1024 * 1024

# A span's own keys; each claim table adds the key of its list (Metadata.claim_tables).
SPAN_KEYS: tuple[str, ...] = ("span_id", "quote", "prefix", "suffix", "start", "end", "label", "event_id", "note")
# The columns of a claim that its span fills in itself.
FILLED_BY_SPAN = ("span_id",)
SHORTHAND_KEYS = ("count",)  # count: N  ->  count_min/count_max by qualifier, in tables that have both
# Annotation provenance written by `pipeline import` (project annotator id, UTC time); optional.
PROVENANCE_KEYS = ("annotator", "annotated")
SPAN_KEYS += PROVENANCE_KEYS
# Keys an entity may have besides its table's columns: they feed a link table the build derives.
ENTITY_EXTRAS = {"events": ("other_place_ids",)}
SPAN_KEYS += (quoting.WITHHOLD_KEY,)


class Origin(NamedTuple):
    """Where a record was written: display path, 1-based line, and the line of each of its keys.

    A named tuple rather than a frozen dataclass: the build makes one per span and claim, and a
    tuple is made in a third of the time.
    """

    file: str
    line: int
    keys: tuple[tuple[str, int], ...] = ()

    def line_of(self, key: str) -> int:
        for name, line in self.keys:
            if name == key:
                return line
        return self.line


def _origin(display: str, d: YDict) -> Origin:
    keys = d.key_lines
    if "count" in keys:  # the shorthand fills these columns
        keys = dict(keys)
        keys.setdefault("count_min", keys["count"])
        keys.setdefault("count_max", keys["count"])
    return Origin(display, d.line, tuple(keys.items()))  # in the file's order


@dataclass
class Source:
    """A source article: its metadata row and its text."""

    row: dict
    text: str
    origin: Origin


@dataclass
class Claim:
    """One claim read from a span, headed for `table`."""

    table: str
    values: dict
    span_id: str
    origin: Origin


@dataclass
class Corpus:
    """Everything read from raw/, anchored, with the problems met on the way."""

    sources: dict[str, Source] = field(default_factory=dict)
    spans: list[tuple[dict, Origin]] = field(default_factory=list)
    entities: dict[str, list[tuple[dict, Origin]]] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Sources listed but unusable (missing, changed, undecodable): their spans are skipped
    # quietly because the source's own problem was reported already.
    broken_sources: set[str] = field(default_factory=set)
    # An entry of sources.yaml was refused before its id was known: annotation files naming an
    # unknown source probably mean that one, so they are not blamed a second time.
    sources_incomplete: bool = False


def _display(path: Path, raw_dir: Path) -> str:
    text, folder = str(path), str(raw_dir)
    if text.startswith(folder + os.sep) and raw_dir.name and os.sep + "." not in text[len(folder) :]:
        # The usual case, a file below raw_dir, without pathlib parsing both paths again.
        return raw_dir.name + text[len(folder) :]
    try:
        return str(Path(raw_dir.name) / path.relative_to(raw_dir))
    except ValueError:
        return str(path)


def _unknown_key(key: str, allowed, where: str) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"did you mean '{close[0]}'?" if close else "use one of: " + ", ".join(sorted(allowed))
    return f"unknown key '{key}' in {where}; {hint}"


def _slug_hint(value) -> str:
    """What to write instead of a bad id."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(value or "").lower()).strip("-")
    example = f" such as '{slug}'" if slug and isinstance(value, str) else ""
    return f"write lower-case letters, digits and single hyphens{example}"


def _check_keys(d: YDict, allowed, where: str, display: str, problems: list[Problem]) -> None:
    if not isinstance(allowed, (set, frozenset)):
        allowed = frozenset(allowed)
    if d.keys() <= allowed:
        return  # every key known: the usual case, decided at C speed
    for key in d:
        if key not in allowed:
            problems.append(Problem(display, d.line_of(key), "unknown-key", _unknown_key(key, allowed, where)))


def _safe_relative(raw_dir: Path, rel: str, resolver: _Resolver | None = None) -> Path | None:
    """Resolve `rel` under raw_dir, or None if it points outside it."""
    # Strings, not Paths: this runs for every source text and annotation file, and each
    # pathlib operation parses its path again.
    if not rel or os.path.isabs(rel) or ".." in rel.replace(os.sep, "/").split("/"):
        return None
    resolver = resolver or _Resolver(raw_dir)
    path = resolver.resolve(os.path.normpath(os.path.join(raw_dir, rel)))
    if not (path == resolver.root or path.startswith(resolver.inside)):
        return None
    return Path(path)


class _Resolver:
    """`os.path.realpath` for many files under raw/: each folder is resolved once, not once per file in it.

    Resolving a path looks at every folder above it (one lstat each); thousands of files share
    a few folders. A file that is itself a link is resolved in full.
    """

    def __init__(self, raw_dir: Path):
        self.root = os.path.realpath(raw_dir)
        self.inside = os.path.join(self.root, "")  # the root with one trailing separator
        self.folders: dict[str, str] = {}

    def resolve(self, path: str) -> str:
        parent, name = os.path.split(path)
        folder = self.folders.get(parent)
        if folder is None:
            folder = self.folders[parent] = os.path.realpath(parent)
        if os.path.islink(path):
            return os.path.realpath(path)
        return os.path.join(folder, name)


def read_sources(raw_dir: Path, meta: Metadata, corpus: Corpus) -> None:
    """Read raw/sources.yaml and each source text, checking ids, paths and hashes."""
    path = raw_dir / SOURCES_FILENAME
    display = _display(path, raw_dir)
    if _safe_relative(raw_dir, SOURCES_FILENAME) is None:
        corpus.problems.append(
            Problem(display, 0, "unsafe-path", "is a link to a file outside raw/; copy the file into raw/ instead")
        )
        corpus.sources_incomplete = True
        return
    data, problems = load_yaml(path, display)
    corpus.problems += problems
    if data is None:
        corpus.sources_incomplete = problems != []  # unreadable: its sources are unknown, not absent
        if not problems:
            corpus.problems.append(
                Problem(display, 0, "no-sources", "no sources listed; add one entry per source article")
            )
        return
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        corpus.problems.append(
            Problem(
                display, getattr(data, "line", 1), "bad-structure", "expected a top-level key 'sources' holding a list"
            )
        )
        return
    columns = meta["sources"].field_names
    allowed = set(columns) - {"chars", *quoting.MEASURED_COLUMNS} | {"file", "seed_file", "note"}
    terms = quoting.defaults(meta)
    resolver = _Resolver(raw_dir)
    for entry in entries:
        if not isinstance(entry, YDict):
            assert isinstance(data, YDict)  # a mapping from load_yaml (its "sources" is the list)
            corpus.sources_incomplete = True
            corpus.problems.append(
                Problem(
                    display,
                    data.line_of("sources"),
                    "bad-structure",
                    "each source must be a mapping of keys to values (source_id: ..., title: ...)",
                )
            )
            continue
        origin = _origin(display, entry)
        _check_keys(entry, allowed, "a source", display, corpus.problems)
        sid = entry.get("source_id")
        if not isinstance(sid, str) or not SLUG.fullmatch(sid):
            corpus.sources_incomplete = True
            corpus.problems.append(
                Problem(
                    display, entry.line_of("source_id"), "bad-id", f"source_id {sid!r} is not a slug; {_slug_hint(sid)}"
                )
            )
            continue
        if sid in corpus.sources or sid in corpus.broken_sources:
            corpus.problems.append(
                Problem(
                    display,
                    entry.line_of("source_id"),
                    "duplicate-id",
                    f"source_id '{sid}' is listed twice; keep one entry",
                )
            )
            continue
        corpus.broken_sources.add(sid)  # until the text is read and checked below
        rel = entry.get("file", f"{TEXTS_DIRNAME}/{sid}.txt")
        text_path = _safe_relative(raw_dir, str(rel), resolver)
        if text_path is None:
            corpus.problems.append(
                Problem(
                    display,
                    entry.line_of("file"),
                    "unsafe-path",
                    f"file '{rel}' points outside raw/; give a path inside raw/ without '..' (and not a link out of it)",
                )
            )
            continue
        try:
            raw = read_bounded(text_path, MAX_TEXT_BYTES)
        except NotAFile as exc:
            if exc.too_large:
                corpus.problems.append(
                    Problem(
                        display,
                        entry.line_of("file"),
                        "file-too-large",
                        f"source text '{rel}' is larger than {MAX_TEXT_BYTES // 2**20} MiB; split the article into several sources",
                    )
                )
            else:
                corpus.problems.append(
                    Problem(
                        display,
                        entry.line_of("file"),
                        "not-a-file",
                        f"source text '{rel}' is {exc.kind}, not a regular file; put the article itself there",
                    )
                )
            continue
        except OSError:
            corpus.problems.append(
                Problem(
                    display,
                    entry.line_of("file"),
                    "missing-text",
                    f"source text '{rel}' does not exist; put the article there or fix 'file'",
                )
            )
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if not entry.get("sha256"):
            corpus.problems.append(
                Problem(
                    display,
                    entry.line,
                    "missing-sha256",
                    f"source '{sid}' has no sha256, so later changes of its text would go unnoticed; add 'sha256: {digest}' once its spans are checked",
                )
            )
            continue
        if entry["sha256"] != digest:
            corpus.problems.append(
                Problem(
                    display,
                    entry.line_of("sha256"),
                    "source-changed",
                    f"source text '{rel}' changed since it was annotated (recorded sha256 {str(entry['sha256'])[:12]}...); re-check its spans, then record 'sha256: {digest}'",
                )
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            corpus.problems.append(
                Problem(
                    _display(text_path, raw_dir),
                    line,
                    "bad-encoding",
                    f"source text is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); store it as UTF-8 and record its new sha256",
                )
            )
            continue
        if "\x00" in text:
            line = text.count("\n", 0, text.index("\x00")) + 1
            corpus.problems.append(
                Problem(
                    _display(text_path, raw_dir),
                    line,
                    "bad-character",
                    "source text contains a NUL character; remove it and record the new sha256",
                )
            )
            continue
        row = {c: entry.get(c) for c in columns}
        row["sha256"] = digest
        row["chars"] = len(text)
        if "checked" in entry:
            row["checked"] = quoting.format_checked(entry["checked"])
            if row["checked"] is None:
                corpus.problems.append(
                    Problem(
                        display,
                        entry.line_of("checked"),
                        "bad-value",
                        f"source '{sid}': checked must be a list of entries with 'fields' (a list of field names) and 'where' (the page or copy they were checked against, without ';')",
                    )
                )
                continue
        quoting.fill_terms(row, terms)
        corpus.sources[sid] = Source(row=row, text=text, origin=origin)
        corpus.broken_sources.discard(sid)


def _as_int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class _ClaimKeys:
    """For one list under a span: its table, the columns the span fills, the keys a claim may have."""

    table: str
    filled: tuple[str, ...]
    allowed: frozenset[str]  # what a claim's values keep
    known: frozenset[str]  # what a claim may be written with (the filled columns are reported apart)


def _claim_keys(meta: Metadata) -> dict[str, _ClaimKeys]:
    out = {}
    for key, table in meta.claim_tables.items():
        columns = meta[table].field_names
        shorthand = list(SHORTHAND_KEYS) if {"count_min", "count_max"} <= set(columns) else []
        allowed = [c for c in columns if c not in FILLED_BY_SPAN and c not in meta[table].derived_fields] + shorthand
        out[key] = _ClaimKeys(table, FILLED_BY_SPAN, frozenset(allowed), frozenset([*allowed, *FILLED_BY_SPAN]))
    return out


@functools.lru_cache(maxsize=8)
def _span_key_set(claim_keys: frozenset[str]) -> frozenset[str]:
    return frozenset((*SPAN_KEYS, *claim_keys))


# Inlined on purpose (no helper per field): this runs once per span of every annotation file.
def _read_span(  # noqa: C901, PLR0912 (hot path, see above)
    span: YDict,
    default_source: str | None,
    display: str,
    meta: Metadata,
    corpus: Corpus,
    claim_keys: dict[str, _ClaimKeys] | None = None,
) -> None:
    """Anchor one span and collect its claims; `claim_keys` is `_claim_keys(meta)`, made once per file."""
    problems = corpus.problems
    claim_keys = claim_keys or _claim_keys(meta)
    span_keys = _span_key_set(frozenset(claim_keys))
    if not span.keys() <= span_keys:
        _check_keys(span, span_keys, "a span", display, problems)
    sid = span.get("span_id")
    if not isinstance(sid, str) or not SLUG.fullmatch(sid):
        problems.append(
            Problem(
                display,
                span.line_of("span_id"),
                "bad-id",
                f"span_id {sid!r} is missing or not a slug; {_slug_hint(sid)}",
            )
        )
        return
    source = corpus.sources.get(default_source or "")
    if source is None:
        return  # the file-level problem was reported once already
    quote = span.get("quote")
    if not isinstance(quote, str) or not quote:
        problems.append(
            Problem(
                display,
                span.line_of("quote"),
                "missing-quote",
                f"span '{sid}' has no quote; copy the exact words from the source",
            )
        )
        return
    prefix, suffix = span.get("prefix"), span.get("suffix")
    for key, value in (("prefix", prefix), ("suffix", suffix)):
        if key in span and not isinstance(value, str):
            problems.append(Problem(display, span.line_of(key), "bad-value", f"span '{sid}': {key} must be text"))
            return
    withhold = span.get(quoting.WITHHOLD_KEY, False)
    if not isinstance(withhold, bool):
        problems.append(
            Problem(
                display,
                span.line_of(quoting.WITHHOLD_KEY),
                "bad-value",
                f"span '{sid}': {quoting.WITHHOLD_KEY} {withhold!r} must be true or false; write true to publish the span without its quote, or remove the key",
            )
        )
        return
    start, end = span.get("start"), span.get("end")
    for key, value in (("start", start), ("end", end)):
        if value.__class__ is Yaml11Number and value.form:
            problems.append(
                Problem(display, span.line_of(key), "yaml11-number", f"span '{sid}': {yaml11_message(key, value)}")
            )
            return
        if value is not None and _as_int(value) is None:
            problems.append(
                Problem(
                    display,
                    span.line_of(key),
                    "bad-offset",
                    f"span '{sid}': {key} {value!r} is not a whole number; write digits, or remove start and end and let the build find the quote",
                )
            )
            return
    try:
        start, end = anchoring.anchor(source.text, quote, prefix, suffix, start, end)
    except AnchorError as exc:
        at = span.line_of("start") if exc.code.startswith("offsets") else span.line_of("quote")
        problems.append(Problem(display, at, exc.code, f"span '{sid}': {exc}"))
        return
    prefix, suffix = anchoring.context(source.text, start, end)
    prefix, suffix = clean_context(prefix, suffix)
    prefix, suffix = safe_prefix(prefix), safe_suffix(suffix)
    row = {
        "span_id": sid,
        "source_id": default_source,
        "start": start,
        "end": end,
        "quote": quote,
        "prefix": prefix,
        "suffix": suffix,
        "label": span.get("label"),
    }
    for key in PROVENANCE_KEYS:
        if key in span:
            row[key] = span[key]
    quoting.publish(row, withhold)
    corpus.spans.append((row, _origin(display, span)))

    default_event = span.get("event_id")
    if default_event is not None:
        corpus.claims.append(
            Claim("event_mentions", {"event_id": default_event}, sid, Origin(display, span.line_of("event_id")))
        )
    line: int | YDict  # a claim's line, or its mapping (which knows the line of each key)
    for key, keys in claim_keys.items():
        items = span.get(key)
        if items is None:
            continue
        table, filled, allowed = keys.table, keys.filled, keys.allowed
        if not isinstance(items, list):
            problems.append(
                Problem(display, span.line_of(key), "bad-structure", f"span '{sid}': '{key}' must be a list")
            )
            continue
        for item in items:
            if isinstance(item, str) and table == "event_mentions":
                item_values, line = {"event_id": item}, span.line_of(key)
            elif isinstance(item, YDict):
                if item.keys() <= allowed:
                    item_values = dict(item)  # the usual claim: nothing to report or leave out
                else:
                    for given in filled:
                        if given in item:
                            problems.append(
                                Problem(
                                    display,
                                    item.line_of(given),
                                    "unknown-key",
                                    f"'{given}' is not written in {key} of span '{sid}': a claim belongs to the span it sits under; remove it or move the claim",
                                )
                            )
                    derived = meta[table].derived_fields
                    for given in derived:
                        if given in item:
                            instead = meta[table].fields[given].get("derivedHint", "remove it")
                            problems.append(
                                Problem(
                                    display,
                                    item.line_of(given),
                                    "derived-column",
                                    f"'{given}' is not written in {key} of span '{sid}': the build derives it; {instead}",
                                )
                            )
                    _check_keys(item, keys.known | set(derived), f"{key} of span '{sid}'", display, problems)
                    item_values = {k: v for k, v in item.items() if k in allowed}
                line = item
            else:
                problems.append(
                    Problem(
                        display,
                        span.line_of(key),
                        "bad-structure",
                        f"span '{sid}': each entry of '{key}' must be a mapping",
                    )
                )
                continue
            if table != "event_mentions" and default_event is not None:
                item_values.setdefault("event_id", default_event)
            if table == "event_mentions" and default_event == item_values.get("event_id"):
                problems.append(
                    Problem(
                        display,
                        line.line if isinstance(line, YDict) else line,
                        "duplicate-mention",
                        f"span '{sid}' mentions event '{default_event}' twice; drop one",
                    )
                )
                continue
            origin = _origin(display, line) if isinstance(line, YDict) else Origin(display, line)
            corpus.claims.append(Claim(table, item_values, sid, origin))


def read_annotation_file(path: Path, raw_dir: Path, meta: Metadata, corpus: Corpus) -> None:
    """Read one annotation file: its spans (anchored in its source) and entity definitions."""
    display = _display(path, raw_dir)
    data, problems = load_yaml(path, display)
    corpus.problems += problems
    if data is None:
        if not problems:
            corpus.problems.append(
                Problem(
                    display,
                    1,
                    "empty-file",
                    "the file is empty (its spans are lost); restore it, or to remove it on purpose delete the file and its source's entry in raw/sources.yaml",
                )
            )
        return
    if not isinstance(data, YDict):
        corpus.problems.append(
            Problem(
                display,
                1,
                "bad-structure",
                "the file must be a mapping with the keys source, spans, events, actors and places; start it with 'source: <source_id>' (see the README's Annotating section)",
            )
        )
        return
    _check_keys(data, ("source", "spans", *meta.entity_tables), "an annotation file", display, corpus.problems)
    source_id = data.get("source")
    spans = data.get("spans") or []
    if not spans and not any(data.get(table) for table in meta.entity_tables):
        what = (
            f"names source '{source_id}' but has no spans"
            if source_id is not None
            else "has no spans, events or actors"
        )
        corpus.problems.append(
            Problem(
                display,
                data.line_of("spans") if "spans" in data else data.line,
                "no-spans",
                f"the file {what} (were they deleted?); restore them, or to remove the file on purpose delete it and its source's entry in raw/sources.yaml",
            )
        )
    if spans and source_id is None:
        corpus.problems.append(
            Problem(
                display,
                data.line_of("spans"),
                "missing-source",
                "spans need the source they quote; add 'source: <source_id>' at the top of the file",
            )
        )
    elif source_id in corpus.broken_sources or (source_id not in corpus.sources and corpus.sources_incomplete):
        spans = []
    elif source_id is not None and source_id not in corpus.sources:
        known = ", ".join(sorted(corpus.sources)) or "none"
        corpus.problems.append(
            Problem(
                display,
                data.line_of("source"),
                "unknown-source",
                f"source '{source_id}' is not in raw/sources.yaml (known: {known}); add it there or fix the id",
            )
        )
        spans = []
    if not isinstance(spans, list):
        corpus.problems.append(
            Problem(
                display,
                data.line_of("spans"),
                "bad-structure",
                "'spans' must be a list, each entry starting with '- span_id: ...'",
            )
        )
        spans = []
    claim_keys = _claim_keys(meta)
    for span in spans:
        if not isinstance(span, YDict):
            corpus.problems.append(
                Problem(display, data.line_of("spans"), "bad-structure", "each span must be a mapping")
            )
            continue
        _read_span(span, source_id, display, meta, corpus, claim_keys)
    for table in meta.entity_tables:
        items = data.get(table) or []
        if not isinstance(items, list):
            corpus.problems.append(Problem(display, data.line_of(table), "bad-structure", f"'{table}' must be a list"))
            continue
        allowed = [c for c in meta[table].field_names if c not in meta[table].derived_fields] + [
            "note",
            *ENTITY_EXTRAS.get(table, ()),
        ]
        for item in items:
            if not isinstance(item, YDict):
                corpus.problems.append(
                    Problem(display, data.line_of(table), "bad-structure", f"each entry of '{table}' must be a mapping")
                )
                continue
            _check_keys(item, allowed, f"an entry of '{table}'", display, corpus.problems)
            corpus.entities.setdefault(table, []).append(
                ({k: v for k, v in item.items() if k in allowed and k != "note"}, _origin(display, item))
            )


def display_path(path: Path, raw_dir: Path) -> str:
    """How problems name a file: relative to the folder holding raw/, e.g. raw/annotations/x.yaml."""
    return _display(path, raw_dir)


def annotation_paths(raw_dir: Path, problems: list[Problem]) -> list[Path]:
    """The annotation files under raw_dir, in the order the build reads them; links out of raw/ become problems."""
    ann_dir = raw_dir / ANNOTATIONS_DIRNAME
    display = _display(ann_dir, raw_dir)
    try:
        names = [e.name for e in os.scandir(ann_dir)]
    except OSError as exc:
        # Without the folder the build would publish an empty dataset over a good one.
        if os.path.islink(ann_dir) and isinstance(exc, FileNotFoundError):
            why = "the annotations folder is a link to a folder that does not exist"
        elif isinstance(exc, FileNotFoundError):
            why = "the annotations folder is missing"
        elif isinstance(exc, NotADirectoryError):
            why = "is a file, not the annotations folder"
        else:
            why = f"the annotations folder cannot be read ({exc.strerror})"
        problems.append(
            Problem(
                display,
                0,
                "no-annotations",
                f"{why}; restore the folder of annotation files (a build without it would publish an empty dataset)",
            )
        )
        return []
    # Sorted by name: the order of their paths in one folder, without comparing thousands of Paths.
    files = [ann_dir / n for n in sorted(n for n in names if n.endswith(".yaml"))] + [
        ann_dir / n for n in sorted(n for n in names if n.endswith(".yml"))
    ]
    safe = []
    resolver = _Resolver(raw_dir)
    for path in files:
        if _safe_relative(raw_dir, f"{ANNOTATIONS_DIRNAME}/{path.name}", resolver) is None:
            problems.append(
                Problem(
                    _display(path, raw_dir),
                    0,
                    "unsafe-path",
                    "is a link to a file outside raw/; copy the file into raw/ instead",
                )
            )
            continue
        # Kind and size before anything reads it (the cache key hashes every byte): a FIFO would
        # block the build forever, a device or sparse giant fill its memory.
        try:
            check_file(path, MAX_YAML_BYTES)
        except NotAFile as exc:
            if exc.kind:
                problems.append(
                    Problem(
                        _display(path, raw_dir),
                        0,
                        "not-a-file",
                        f"is {exc.kind}, not a regular file; put the file itself there",
                    )
                )
            else:
                problems.append(
                    Problem(
                        _display(path, raw_dir),
                        0,
                        "file-too-large",
                        f"file is larger than {MAX_YAML_BYTES // 2**20} MiB; split it into several files",
                    )
                )
            continue
        except OSError as exc:
            why = (
                "is a link to a file that does not exist"
                if os.path.islink(path)
                else f"cannot be read ({exc.strerror})"
            )
            problems.append(
                Problem(_display(path, raw_dir), 0, "unreadable-file", f"{why}; put the file itself there or remove it")
            )
            continue
        safe.append(path)
    return safe
