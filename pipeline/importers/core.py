"""Shared core of the importers: tool annotations become spans and claims of raw/annotations/*.yaml.

Every format module turns its files into `Document`s holding `Mark`s (one tool annotation: a
range, a label and claim fields named as in `vocabulary(meta)`, which derives them from the claim
tables' schemas) and `Link`s (relations). This module matches each document to a source by its
text, converts and checks offsets, re-anchors by quote/prefix/suffix where they do not hold,
groups marks into spans with stable ids, renders the YAML, checks the result with a full build
in a scratch copy of raw/ and only then writes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import AnchorError, BuildFailed, PipelineError
from pipeline.metadata import Metadata
from pipeline.project import ANNOTATIONS_DIRNAME, SOURCES_FILENAME, TEXTS_DIRNAME
from pipeline.read import anchoring
from pipeline.read.yamlfile import YDict, load_yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Tool exports of one project rarely exceed a few MiB; the cap keeps a hostile file from
# exhausting memory before anything is checked.
MAX_IMPORT_BYTES = 32 * 1024 * 1024

# Keys of a mark that are not claim fields (the span's own).
META_FIELDS = ("span_id", "note")
# Relation labels are values of the claim column of this name (event_actors.role).
ROLE_COLUMN = "role"


@dataclass(frozen=True)
class ToolField:
    """One claim field as the tools show it: the column it fills in each list under a span that has it."""

    name: str
    columns: dict  # key of the list under a span (meta.claim_tables) -> column of that table
    type: str  # Table Schema type of the column
    enum: tuple  # (value, definition) pairs from the schema, empty for free values
    span_wide: bool = False  # a span key too (event_id): every claim of the mark takes it


@dataclass(frozen=True)
class Vocabulary:
    """The claim fields of the tools, derived from the metadata (never listed in code).

    Naming rule, the only one: a writable claim column (every column of a claim table but span_id,
    which the span fills, and the derived ones; plus the `count` shorthand where a table has
    count_min and count_max) keeps its own name in the tools when no other claim table has a
    writable column of that name, or when it is also a key of the span itself (`event_id`: the
    span's event, which every claim of the mark takes). A name several claim tables share becomes
    `<key>_<column>`, the key being the list under the span (`casualties_category`,
    `demands_category`, `outcomes_demand_id`). Underscores keep the names identifiers, as UIMA
    features (INCEpTION) must be.
    """

    claims: dict  # key -> (table, writable columns in schema order, with the shorthand after count_max)
    fields: dict  # tool name -> ToolField, in the order the tools show them
    derived: dict  # tool-like name of a derived column -> (table, column), to explain refusals
    mention_key: str | None  # the list a bare span-wide field makes (events: the span mentions the event)

    def name(self, key: str, column: str) -> str:
        return self._names[(key, column)]

    @cached_property
    def _names(self) -> dict:
        return {(k, c): f.name for f in self.fields.values() for k, c in f.columns.items()}

    @property
    def role_field(self) -> ToolField | None:
        return next((f for f in self.fields.values() if ROLE_COLUMN in f.columns.values() and f.enum), None)


def _enum(schema, column: str) -> tuple:
    definitions = schema.fields[column].get("enumDefinitions", {})
    return tuple((v, definitions.get(v, "")) for v in schema.enum(column))


def vocabulary(meta: Metadata) -> Vocabulary:
    """The tool fields of every claim table in meta.claim_tables (see Vocabulary for the naming rule)."""
    from pipeline.read.annotations import FILLED_BY_SPAN, SHORTHAND_KEYS, SPAN_KEYS

    claims: dict[str, tuple[str, tuple[str, ...]]] = {}
    derived: dict[str, tuple[str, str]] = {}
    for key, table in meta.claim_tables.items():
        schema = meta[table]
        columns = [c for c in schema.field_names if c not in FILLED_BY_SPAN and c not in schema.derived_fields]
        if {"count_min", "count_max"} <= set(columns):
            columns[columns.index("count_max") + 1 : columns.index("count_max") + 1] = list(SHORTHAND_KEYS)
        claims[key] = (table, tuple(columns))
    users: dict[str, list[str]] = {}
    for key, (_, claim_columns) in claims.items():
        for column in claim_columns:
            users.setdefault(column, []).append(key)
    fields: dict[str, ToolField] = {}
    for column, keys in users.items():
        if column in SPAN_KEYS or len(keys) == 1:
            named = [(column, keys)]
        else:
            named = [(f"{key}_{column}", [key]) for key in keys]
        for name, of in named:
            table = claims[of[0]][0]
            kind = "integer" if column in SHORTHAND_KEYS else meta[table].fields[column].get("type", "string")
            enum = () if column in SHORTHAND_KEYS else _enum(meta[table], column)
            if name in fields or name in META_FIELDS or name == "label":
                raise PipelineError(
                    f"datapackage.json: the claim field name '{name}' would stand for two columns in the annotation tools; rename a column or set another annotationKey"
                )
            fields[name] = ToolField(name, {k: column for k in of}, kind, enum, column in SPAN_KEYS)
    for key, (table, _) in claims.items():
        for column in meta[table].derived_fields:
            for name in (column, f"{key}_{column}"):
                if name not in fields:
                    derived.setdefault(name, (table, column))
    span_wide = {f.columns[k] for f in fields.values() if f.span_wide for k in f.columns}
    # A span's own event_id makes a mention: the claim table whose primary key is the span-wide columns and span_id.
    mention_key = next(
        (k for k, (t, _) in claims.items() if set(meta[t].primary_key) == span_wide | set(FILLED_BY_SPAN)), None
    )

    def place(f: ToolField):
        key = next(iter(f.columns))
        return not f.span_wide, list(claims).index(key), claims[key][1].index(f.columns[key])

    order = sorted(fields.values(), key=place)
    return Vocabulary(claims, {f.name: f for f in order}, derived, mention_key)


SPAN_KEY_ORDER = ("span_id", "label", "quote", "start", "end", "annotator", "annotated", "note")  # then the claim lists
SOURCE_KEY_ORDER = ("source_id", "title", "publisher", "author", "published", "url", "license", "language", "sha256")
REQUIRED_SOURCE_KEYS = ("source_id", "title", "published", "license", "language")


class ImportError_(PipelineError):
    """An import refused: one line naming the file and record, nothing written."""


@dataclass
class Mark:
    """One annotation of a tool: where it is, its label and its claim fields."""

    record: str  # how messages name it: "T3", "result 'x1' of task 4", ...
    start: int | None
    end: int | None
    quote: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    label: str | None = None
    fields: dict = field(default_factory=dict)
    tool_id: str | None = None
    annotator: str | None = None
    annotated: str | None = None
    # "utf16" when the tool counts UTF-16 code units (Java tools, Label Studio's browser side).
    units: str = "codepoints"


@dataclass
class Link:
    """A relation between two marks (by tool id): the source mark takes the target's event, the label a role."""

    record: str
    from_id: str
    to_id: str
    label: str | None = None


@dataclass
class Document:
    """One annotated document of an export."""

    file: str  # display name of the export file
    name: str  # the document's name in the tool (task id, file name, ...)
    text: str | None  # the full text, when the export holds it
    marks: list[Mark] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    # Without a full text: pieces (start, end, text) the source must hold (WebAnno TSV tokens).
    pieces: list[tuple[int, int, str]] = field(default_factory=list)
    pieces_units: str = "codepoints"
    # A hint naming the source: our IRI, a URL, "sha256:<hex>" or a source id.
    source_hint: str | None = None


@dataclass
class Options:
    """What the user told the import command."""

    source_id: str | None = None  # force every document onto this source
    new_source: dict = field(default_factory=dict)  # bibliographic data of a new source
    annotators: dict[str, str] = field(default_factory=dict)  # tool id -> project id
    drop_annotators: bool = False
    skip_unanchored: bool = False


@dataclass
class Report:
    """What an import did or would do, one line per event."""

    lines: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    added: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return "\n".join(self.lines)


def fail(file: str, record: str | None, message: str) -> ImportError_:
    where = f"{file}: {record}: " if record else f"{file}: "
    return ImportError_(where + message)


def read_limited(path: Path, display: str) -> bytes:
    """The bytes of an export file, refused when too large or not a regular file."""
    try:
        size = path.stat().st_size
    except OSError:
        raise fail(display, None, "cannot be read; check the path") from None
    if not path.is_file():
        raise fail(display, None, "is not a file; give the exported file itself")
    if size > MAX_IMPORT_BYTES:
        raise fail(display, None, f"is larger than {MAX_IMPORT_BYTES // 2**20} MiB; export fewer documents per file")
    return path.read_bytes()


def decode(data: bytes, display: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(display, None, f"is not UTF-8 (byte {exc.start}); export it again as UTF-8") from None


def utf16_to_codepoints(text: str, offset: int) -> int | None:
    """The code-point offset of a UTF-16 code-unit offset in text, or None if it splits a character.

    >>> utf16_to_codepoints("a😀b", 3)
    2
    """
    if offset < 0:
        return None
    units = 0
    for i, ch in enumerate(text):
        if units == offset:
            return i
        if units > offset:
            return None
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) if units == offset else None


def codepoints_to_utf16(text: str, offset: int) -> int:
    """The UTF-16 code-unit offset of a code-point offset (for exports to UTF-16 tools)."""
    return offset + sum(1 for ch in text[:offset] if ord(ch) > 0xFFFF)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- sources --------------------------------------------------------------------------------


@dataclass
class KnownSource:
    source_id: str
    text: str
    sha256: str
    url: str | None


def known_sources(raw_dir: Path) -> dict[str, KnownSource]:
    """The sources of raw/sources.yaml whose text is readable and unchanged."""
    data, problems = load_yaml(raw_dir / SOURCES_FILENAME, f"{raw_dir.name}/{SOURCES_FILENAME}")
    if problems:
        raise ImportError_(f"{problems[0]}; fix raw/ before importing")
    out = {}
    document: Any = data or {}  # sources.yaml as read: a mapping unless the file is malformed
    for entry in document.get("sources") or []:
        sid = entry.get("source_id")
        rel = str(entry.get("file") or f"{TEXTS_DIRNAME}/{sid}.txt")
        try:
            text = (raw_dir / rel).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out[sid] = KnownSource(sid, text, sha256_text(text), entry.get("url"))
    return out


def match_source(doc: Document, sources: dict[str, KnownSource], options: Options) -> str | None:
    """The id of the source this document annotates, or None when its text is new."""
    if options.source_id and options.source_id in sources:
        return options.source_id
    if doc.text is not None:
        digest = sha256_text(doc.text)
        for sid in sorted(sources):
            if sources[sid].sha256 == digest:
                return sid
        return None
    hint = (doc.source_hint or "").strip()
    if hint:
        tail = hint.rstrip("/").rsplit("/", 1)[-1]
        for sid in sorted(sources):
            s = sources[sid]
            if hint in (sid, s.url, f"sha256:{s.sha256}", f"urn:sha256:{s.sha256}") or (
                hint.rstrip("/").endswith(f"/source/{sid}") and tail == sid
            ):
                return sid
    if doc.pieces:
        hits = [sid for sid in sorted(sources) if _holds_pieces(sources[sid].text, doc.pieces, doc.pieces_units)]
        if len(hits) == 1:
            return hits[0]
    return None


def _holds_pieces(text: str, pieces, units: str) -> bool:
    for start, end, piece in pieces:
        if units == "utf16":
            start, end = utf16_to_codepoints(text, start), utf16_to_codepoints(text, end)
            if start is None or end is None:
                return False
        if text[start:end] != piece:
            return False
    return True


# ---- anchoring ------------------------------------------------------------------------------


def place(text: str, mark: Mark, doc: Document, report: Report, options: Options) -> tuple[int, int] | None:
    """Code-point offsets of a mark in text: converted, checked, else re-anchored; None if not found."""
    quote = mark.quote
    candidates = []
    if mark.start is not None and mark.end is not None:
        if mark.units == "utf16":
            s, e = utf16_to_codepoints(text, mark.start), utf16_to_codepoints(text, mark.end)
            if s is not None and e is not None:
                candidates.append((s, e))
        candidates.append((mark.start, mark.end))  # some versions count code points after all
    for s, e in candidates:
        if 0 <= s < e <= len(text) and (quote is None or text[s:e] == quote):
            return s, e
    if not quote:
        if candidates:
            raise fail(
                doc.file,
                mark.record,
                f"offsets {mark.start}-{mark.end} lie outside the text (0-{len(text)}) and there is no quote to find it by; export again with the text",
            )
        raise fail(doc.file, mark.record, "has neither offsets nor a quote; it cannot be placed")
    try:
        s, e = anchoring.anchor(text, quote, mark.prefix or None, mark.suffix or None)
    except AnchorError as exc:
        given = f"{mark.start}-{mark.end}" if candidates else "none"
        report.lines.append(f"not found: {doc.file}: {mark.record}: offsets {given}: {exc}")
        if options.skip_unanchored:
            return None
        raise fail(doc.file, mark.record, f"{exc} (pass --skip-unanchored to import the rest)") from None
    given = f"{mark.start}-{mark.end}" if candidates else "none"
    report.lines.append(f"moved: {doc.file}: {mark.record}: offsets {given} -> {s}-{e} (found by its quote)")
    return s, e


# ---- marks -> spans -------------------------------------------------------------------------


def _clean_value(key: str, value, doc: Document, mark: Mark, kind: str = "string"):
    """A field's value as the YAML holds it: one value, trimmed, typed by its column's schema type."""
    from pipeline.types import TYPES, BadValue

    if isinstance(value, list):
        value = [v for v in value if v not in (None, "")]
        if len(value) > 1:
            raise fail(
                doc.file,
                mark.record,
                f"field '{key}' has several values {value}; give one per region, stacking regions for more claims",
            )
        value = value[0] if value else None
    if isinstance(value, str):
        value = value.strip()
        if value in ("", "_"):
            return None
    if value is None:
        return None
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind in ("integer", "number", "year") and isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    check = TYPES[kind].check
    assert check is not None  # only "string" has none, returned above
    try:
        value = check(value)
    except BadValue as exc:
        raise fail(doc.file, mark.record, f"field '{key}' is {value!r}, which {exc}") from None
    return value


def claims_of(mark: Mark, doc: Document, vocab: Vocabulary) -> list[tuple[str, dict]]:
    """The claims a mark makes: [(list under the span, values)]; none for a bare span.

    One mark makes one claim, of the one list its fields belong to; a span-wide field (event_id)
    goes to that claim, or, where its table has no such column, makes a mention of its own.
    """
    values: dict[str, object] = {}
    keys: dict[str, str] = {}  # column -> the field that fills it
    for name, value in mark.fields.items():
        if name in META_FIELDS:
            continue
        f = vocab.fields.get(name)
        if f is None:
            if name in vocab.derived:
                table, column = vocab.derived[name]
                raise fail(
                    doc.file,
                    mark.record,
                    f"field '{name}' is {table}.{column}, which the build derives; remove it from the tool's form",
                )
            known = ", ".join([*META_FIELDS, *vocab.fields])
            raise fail(
                doc.file,
                mark.record,
                f"unknown field '{name}'; use the annotation configuration in annotation-tools/ (fields: {known})",
            )
        value = _clean_value(name, value, doc, mark, f.type)
        if value is None:
            continue
        values[name] = value
        if not f.span_wide:
            keys.setdefault(next(iter(f.columns)), name)
    if len(keys) > 1:
        (k1, n1), (k2, n2) = list(keys.items())[:2]
        raise fail(
            doc.file,
            mark.record,
            f"fields '{n1}' ({k1}) and '{n2}' ({k2}) belong to different claims; put each claim on its own region",
        )
    key = next(iter(keys), None) or (vocab.mention_key if values else None)
    if key is None:
        return []
    table, columns = vocab.claims[key]
    claim, extra = {}, {}
    for name, value in values.items():
        f = vocab.fields[name]
        if key in f.columns:
            claim[f.columns[key]] = value
        elif vocab.mention_key is not None and vocab.mention_key in f.columns:
            extra[f.columns[vocab.mention_key]] = value
        else:
            raise fail(
                doc.file,
                mark.record,
                f"field '{name}' does not belong to a {key} claim ({table}); put it on its own region",
            )
    out = [(key, {c: claim[c] for c in columns if c in claim})]
    if extra and vocab.mention_key is not None:  # extra is only filled when there is a mention key
        mention_columns = vocab.claims[vocab.mention_key][1]
        out.append((vocab.mention_key, {c: extra[c] for c in mention_columns if c in extra}))
    return out


def apply_links(doc: Document, vocab: Vocabulary) -> None:
    """Relations: the mark at the start takes the span-wide fields (event) of the mark it points to, and the label as its role."""
    role = vocab.role_field
    roles = [v for v, _ in role.enum] if role else []
    span_wide = [f.name for f in vocab.fields.values() if f.span_wide]
    by_id = {m.tool_id: m for m in doc.marks if m.tool_id is not None}
    for link in doc.links:
        source, target = by_id.get(link.from_id), by_id.get(link.to_id)
        if source is None or target is None:
            missing = link.from_id if source is None else link.to_id
            raise fail(doc.file, link.record, f"points to '{missing}', which is no text annotation of this document")
        for name in span_wide:
            if target.fields.get(name) and not source.fields.get(name):
                source.fields[name] = target.fields[name]
        if role is not None and link.label in roles and not source.fields.get(role.name):
            source.fields[role.name] = link.label


def normalise_time(value, doc: Document, mark: Mark) -> str | None:
    """A tool's time stamp as UTC `YYYY-MM-DDTHH:MM:SSZ`, or None."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, (int, float)):
            stamp = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
        else:
            stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise fail(doc.file, mark.record, f"time {value!r} is not an ISO 8601 date and time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def project_annotator(raw: str | None, doc: Document, mark: Mark, options: Options) -> str | None:
    """The project's id for a tool's annotator: only ids the project controls are ever written."""
    if raw in (None, "") or options.drop_annotators:
        return None
    raw = str(raw)
    if raw in options.annotators:
        return options.annotators[raw]
    # Our own exports name annotators by the project's IRI for them.
    m = re.search(r"/annotator/([a-z0-9]+(?:-[a-z0-9]+)*)$", raw)
    if m:
        return m.group(1)
    raise fail(
        doc.file,
        mark.record,
        f"annotator '{raw}' has no project id; pass --annotator '{raw}=<id>' (a slug the project controls) or --drop-annotators",
    )


def build_spans(
    doc: Document, text: str, source_id: str, tool: str, labels, report: Report, options: Options, vocab: Vocabulary
) -> list[dict]:
    """The YAML spans of one document, ordered by position."""
    apply_links(doc, vocab)
    groups: dict[tuple, dict] = {}
    for mark in doc.marks:
        if not mark.label:
            raise fail(doc.file, mark.record, f"has no label; choose one of: {', '.join(labels)}")
        if mark.label not in labels:
            raise fail(
                doc.file,
                mark.record,
                f"label '{mark.label}' is not ours; use one of: {', '.join(labels)} (see annotation-tools/)",
            )
        placed = place(text, mark, doc, report, options)
        if placed is None:
            continue
        start, end = placed
        given_id = mark.fields.get("span_id")
        given_id = given_id[0] if isinstance(given_id, list) and given_id else given_id
        if given_id is not None and not (isinstance(given_id, str) and SLUG.match(given_id)):
            raise fail(
                doc.file,
                mark.record,
                f"span_id {given_id!r} is not a slug; write lower-case letters, digits and single hyphens",
            )
        key = (start, end, mark.label, given_id)
        span = groups.get(key)
        if span is None:
            digest = hashlib.sha256(f"{source_id}\n{start}\n{end}\n{mark.label}".encode()).hexdigest()[:10]
            span = groups[key] = {
                "span_id": given_id or f"{tool}-{digest}",
                "label": mark.label,
                "quote": text[start:end],
                "start": start,
                "end": end,
                "annotator": project_annotator(mark.annotator, doc, mark, options),
                "annotated": normalise_time(mark.annotated, doc, mark),
                "note": mark.fields.get("note") or None,
            }
        for kind, values in claims_of(mark, doc, vocab):
            if values not in span.setdefault(kind, []):
                span[kind].append(values)
    ids: dict[str, tuple] = {}
    for key, span in groups.items():
        if span["span_id"] in ids:
            raise fail(
                doc.file, None, f"span_id '{span['span_id']}' is given to two different ranges; keep one id per span"
            )
        ids[span["span_id"]] = key
    spans = sorted(groups.values(), key=lambda s: (s["start"], s["end"], s["span_id"]))
    order = (*SPAN_KEY_ORDER, *vocab.claims)
    return [{k: s[k] for k in order if s.get(k) not in (None, [])} for s in spans]


# ---- writing --------------------------------------------------------------------------------


def dump_block(items: list[dict], indent: int) -> str:
    """A YAML list of mappings, indented, keys in the given order, one line per scalar."""
    if not items:
        return ""
    text = yaml.safe_dump(items, sort_keys=False, allow_unicode=True, width=2**31 - 1, default_flow_style=False)
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def existing_spans(raw_dir: Path) -> dict[str, tuple[str, object, object, object, object]]:
    """Every span id of raw/annotations with (file, source, start, end, quote), the values as the YAML holds them."""
    out = {}
    ann = raw_dir / ANNOTATIONS_DIRNAME
    for path in sorted(ann.glob("*.yaml")) + sorted(ann.glob("*.yml")):
        data, problems = load_yaml(path, f"{raw_dir.name}/{ANNOTATIONS_DIRNAME}/{path.name}")
        if problems or not isinstance(data, YDict):
            continue
        for span in data.get("spans") or []:
            if isinstance(span, YDict) and isinstance(span.get("span_id"), str):
                out[span["span_id"]] = (
                    path.name,
                    data.get("source"),
                    span.get("start"),
                    span.get("end"),
                    span.get("quote"),
                )
    return out


def plan_writes(
    raw_dir: Path,
    docs: list[Document],
    tool: str,
    meta: Metadata,
    options: Options,
    report: Report,
) -> dict[Path, bytes]:
    """Every file to write (path -> full new bytes); raises on the first problem, writing nothing."""
    sources = known_sources(raw_dir)
    labels = meta["spans"].enum("label")
    vocab = vocabulary(meta)
    existing = existing_spans(raw_dir)
    writes: dict[Path, bytes] = {}
    new_sources: list[dict] = []
    per_source: dict[str, list[dict]] = {}
    for doc in docs:
        sid = match_source(doc, sources, options)
        if sid is None:
            sid = _new_source(doc, sources, options, new_sources, writes, raw_dir)
        text = sources[sid].text
        for span in build_spans(doc, text, sid, tool, labels, report, options, vocab):
            there = existing.get(span["span_id"])
            if there is not None:
                if (there[1], there[4]) == (sid, span["quote"]) and there[2] in (None, span["start"]):
                    report.unchanged += 1
                    report.lines.append(
                        f"unchanged: {doc.file}: span '{span['span_id']}' is already in {ANNOTATIONS_DIRNAME}/{there[0]}"
                    )
                    continue
                raise fail(
                    doc.file,
                    f"span '{span['span_id']}'",
                    f"the id is already used in {ANNOTATIONS_DIRNAME}/{there[0]} for another passage; rename it in the tool or in the YAML",
                )
            existing[span["span_id"]] = (f"{sid}--{tool}.yaml", sid, span["start"], span["end"], span["quote"])
            per_source.setdefault(sid, []).append(span)
            report.added += 1
    for sid, spans in sorted(per_source.items()):
        path = raw_dir / ANNOTATIONS_DIRNAME / f"{sid}--{tool}.yaml"
        spans.sort(key=lambda s: (s["start"], s["end"], s["span_id"]))
        if path.exists():
            old = path.read_text(encoding="utf-8")
            data, problems = load_yaml(path, str(path))
            if problems or not isinstance(data, YDict) or list(data)[-1:] != ["spans"] or data.get("source") != sid:
                raise fail(
                    f"{ANNOTATIONS_DIRNAME}/{path.name}",
                    None,
                    "was changed by hand so that new spans cannot be appended (it must end with the 'spans' list of this source); move your edits to another file",
                )
            body = old if old.endswith("\n") else old + "\n"
        else:
            body = (
                f"# Spans imported from {tool} exports by `pipeline import`; later imports append here.\n"
                f"source: {sid}\nspans:\n"
            )
        writes[path] = (body + dump_block(spans, 2)).encode("utf-8")
        report.written.append(f"{ANNOTATIONS_DIRNAME}/{path.name}")
    if new_sources:
        path = raw_dir / SOURCES_FILENAME
        old = path.read_text(encoding="utf-8")
        writes[path] = ((old if old.endswith("\n") else old + "\n") + dump_block(new_sources, 2)).encode("utf-8")
        report.written.append(SOURCES_FILENAME)
    report.lines.append(f"added {report.added} span(s), {report.unchanged} already there")
    return writes


def _new_source(doc, sources, options, new_sources, writes, raw_dir) -> str:
    if doc.text is None:
        raise fail(
            doc.file,
            doc.name,
            "matches no source in raw/sources.yaml and the export holds no full text; pass --source <source_id>",
        )
    data = dict(options.new_source)
    missing = [k for k in REQUIRED_SOURCE_KEYS if not data.get(k)]
    if missing:
        raise fail(
            doc.file,
            doc.name,
            "its text is not under raw/texts/ yet; to add it as a new source give "
            + " ".join(f"--{k.replace('_', '-')} ..." for k in missing),
        )
    sid = data["source_id"]
    if not SLUG.match(sid) or sid in sources:
        raise fail(doc.file, doc.name, f"source id '{sid}' is taken or not a slug; choose another with --source-id")
    if any(s["source_id"] == sid for s in new_sources):
        raise fail(
            doc.file, doc.name, f"a second new document would also become '{sid}'; import new documents one at a time"
        )
    data["sha256"] = sha256_text(doc.text)
    new_sources.append({k: data[k] for k in SOURCE_KEY_ORDER if data.get(k)})
    writes[raw_dir / TEXTS_DIRNAME / f"{sid}.txt"] = doc.text.encode("utf-8")
    sources[sid] = KnownSource(sid, doc.text, data["sha256"], data.get("url"))
    return sid


def check_in_scratch(raw_dir: Path, writes: dict[Path, bytes], meta: Metadata) -> None:
    """Build a scratch copy of raw/ with the writes applied; refuse if that build fails."""
    from pipeline.engine.build import assemble

    with tempfile.TemporaryDirectory(prefix="import-") as tmp:
        scratch = Path(tmp) / raw_dir.name
        shutil.copytree(raw_dir, scratch, symlinks=True)
        for path, data in writes.items():
            target = scratch / path.relative_to(raw_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            # Quoting terms are a matter of publishing: `pipeline build` names the quotes to withhold.
            assemble(scratch, meta, jobs=1, enforce_terms=False)
        except BuildFailed as exc:
            ours = {f"{raw_dir.name}/{p.relative_to(raw_dir)}" for p in writes}
            mine = [p for p in exc.problems if p.file in ours] or exc.problems
            more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
            raise ImportError_(
                f"the imported spans would not build: {mine[0]}{more}; fix them in the tool and export again"
            ) from None


def commit_writes(raw_dir: Path, writes: dict[Path, bytes]) -> None:
    """Write every file next to its place first, then move all into place (texts, spans, sources last)."""
    root = os.path.realpath(raw_dir)
    staged = []
    try:
        for path in sorted(writes, key=lambda p: (p.name == SOURCES_FILENAME, str(p))):
            real = os.path.realpath(path)
            if not real.startswith(os.path.join(root, "")):
                raise ImportError_(f"{path}: would be written outside {raw_dir}; remove the link that leads there")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(writes[path])
            staged.append((tmp, path))
    except BaseException:
        for tmp, _ in staged:
            os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)


def run_import(
    raw_dir: Path, docs: list[Document], tool: str, meta: Metadata, options: Options, dry_run: bool = False
) -> Report:
    """Plan, check with a scratch build, then write: all or nothing."""
    report = Report()
    writes = plan_writes(raw_dir, docs, tool, meta, options, report)
    for path in writes:
        # Checked before the scratch build too: its copy keeps links, and a write through one would land outside.
        if not inside(path.parent, raw_dir) or (path.is_symlink() and not inside(path, raw_dir)):
            raise ImportError_(f"{path}: would be written outside {raw_dir}; remove the link that leads there")
    if writes:
        check_in_scratch(raw_dir, writes, meta)
        if not dry_run:
            commit_writes(raw_dir, writes)
    return report


def inside(path: Path, root: Path) -> bool:
    """Whether path (links resolved) lies inside root."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(os.path.join(top, ""))
