"""Shared core of the importers: tool annotations become spans and claims of raw/annotations/*.yaml.

Every format module turns its files into `Document`s holding `Mark`s (one tool annotation: a
range, a label and claim fields named as in `FIELDS`) and `Link`s (relations). This module
matches each document to a source by its text, converts and checks offsets, re-anchors by
quote/prefix/suffix where they do not hold, groups marks into spans with stable ids, renders the
YAML, checks the result with a full build in a scratch copy of raw/ and only then writes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from pipeline.read import anchoring
from pipeline.errors import AnchorError, BuildFailed, PipelineError
from pipeline.metadata import Metadata
from pipeline.project import ANNOTATIONS_DIRNAME, SOURCES_FILENAME, TEXTS_DIRNAME
from pipeline.read.yamlfile import YDict, load_yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Tool exports of one project rarely exceed a few MiB; the cap keeps a hostile file from
# exhausting memory before anything is checked.
MAX_IMPORT_BYTES = 32 * 1024 * 1024

# Claim fields as the tools name them -> (claim kind, our column). "*" fields go to whichever
# claim the mark makes. Two columns called `category` (casualties, demands) and `text` need
# distinct names in a tool's form.
FIELDS = {
    "event_id": ("*", "event_id"),
    "date": ("events", "date"),
    "place": ("events", "place"),
    "actor_id": ("*", "actor_id"),
    "role": ("actors", "role"),
    "count": ("*", "count"),
    "count_min": ("*", "count_min"),
    "count_max": ("*", "count_max"),
    "qualifier": ("*", "qualifier"),
    "casualty_id": ("casualties", "casualty_id"),
    "casualty_category": ("casualties", "category"),
    "victim_actor_id": ("casualties", "victim_actor_id"),
    "perpetrator_actor_id": ("casualties", "perpetrator_actor_id"),
    "claimant": ("casualties", "claimant"),
    "demand_id": ("demands", "demand_id"),
    "demand_category": ("demands", "category"),
    "demand_text": ("demands", "text"),
    "outcome": ("demands", "outcome"),
}
# Keys of a mark that are not claim fields.
META_FIELDS = ("span_id", "note")
INT_FIELDS = ("count", "count_min", "count_max")
# Which list of the YAML span each claim kind goes to, and the columns it may carry.
CLAIM_COLUMNS = {
    "events": ("event_id", "date", "place"),
    "actors": ("event_id", "actor_id", "role", "count", "count_min", "count_max", "qualifier"),
    "casualties": ("casualty_id", "event_id", "category", "count", "count_min", "count_max", "qualifier",
                   "victim_actor_id", "perpetrator_actor_id", "claimant"),
    "demands": ("demand_id", "event_id", "actor_id", "text", "category", "outcome"),
}
# Tool field -> table of the claim a mark makes, first match wins.
KIND_BY_FIELD = (
    ("casualty_category", "casualties"), ("casualty_id", "casualties"), ("victim_actor_id", "casualties"),
    ("perpetrator_actor_id", "casualties"), ("claimant", "casualties"),
    ("demand_category", "demands"), ("demand_id", "demands"), ("demand_text", "demands"), ("outcome", "demands"),
    ("role", "actors"), ("date", "events"), ("place", "events"), ("event_id", "events"),
)
# Which claim fields each claim kind reads from the tool's table of that row (for exports).
TOOL_NAME = {("casualties", "category"): "casualty_category", ("demands", "category"): "demand_category",
             ("demands", "text"): "demand_text"}
SPAN_KEY_ORDER = ("span_id", "label", "quote", "start", "end", "annotator", "annotated", "note",
                  "events", "actors", "casualties", "demands")
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
    for entry in (data or {}).get("sources") or []:
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
            if hint in (sid, s.url, f"sha256:{s.sha256}", f"urn:sha256:{s.sha256}") or (hint.rstrip("/").endswith(f"/source/{sid}") and tail == sid):
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
            raise fail(doc.file, mark.record, f"offsets {mark.start}-{mark.end} lie outside the text (0-{len(text)}) and there is no quote to find it by; export again with the text")
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


def _clean_value(key: str, value, doc: Document, mark: Mark):
    if isinstance(value, list):
        value = [v for v in value if v not in (None, "")]
        if len(value) > 1:
            raise fail(doc.file, mark.record, f"field '{key}' has several values {value}; give one per region, stacking regions for more claims")
        value = value[0] if value else None
    if isinstance(value, str):
        value = value.strip()
        if value in ("", "_"):
            return None
    if value is None:
        return None
    if key in INT_FIELDS:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(doc.file, mark.record, f"field '{key}' is {value!r}, not a whole number; write the figure in digits")
    return value


def claim_of(mark: Mark, doc: Document) -> tuple[str, dict] | None:
    """The one claim a mark makes: (list under the span, values), or None for a bare span."""
    values = {}
    for key, value in mark.fields.items():
        if key in META_FIELDS:
            continue
        if key not in FIELDS:
            known = ", ".join(sorted([*FIELDS, *META_FIELDS]))
            raise fail(doc.file, mark.record, f"unknown field '{key}'; use the annotation configuration in annotation-tools/ (fields: {known})")
        value = _clean_value(key, value, doc, mark)
        if value is not None:
            values[key] = value
    kind = next((k for f, k in KIND_BY_FIELD if f in values), None)
    if kind is None:
        return None
    claim = {}
    for key, value in values.items():
        table, column = FIELDS[key]
        if table not in ("*", kind) or column not in CLAIM_COLUMNS[kind]:
            raise fail(doc.file, mark.record, f"field '{key}' does not belong to a {kind} claim; put it on its own region")
        claim[column] = value
    return kind, {c: claim[c] for c in CLAIM_COLUMNS[kind] if c in claim}


def apply_links(doc: Document, roles=()) -> None:
    """Relations: the mark at the start takes the event of the mark it points to, and the label as its role."""
    by_id = {m.tool_id: m for m in doc.marks if m.tool_id is not None}
    for link in doc.links:
        source, target = by_id.get(link.from_id), by_id.get(link.to_id)
        if source is None or target is None:
            missing = link.from_id if source is None else link.to_id
            raise fail(doc.file, link.record, f"points to '{missing}', which is no text annotation of this document")
        event = target.fields.get("event_id")
        if event and not source.fields.get("event_id"):
            source.fields["event_id"] = event
        if link.label in roles and not source.fields.get("role"):
            source.fields["role"] = link.label


def normalise_time(value, doc: Document, mark: Mark) -> str | None:
    """A tool's time stamp as UTC `YYYY-MM-DDTHH:MM:SSZ`, or None."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, (int, float)):
            stamp = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=timezone.utc)
        else:
            stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise fail(doc.file, mark.record, f"time {value!r} is not an ISO 8601 date and time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    raise fail(doc.file, mark.record, f"annotator '{raw}' has no project id; pass --annotator '{raw}=<id>' (a slug the project controls) or --drop-annotators")


def build_spans(doc: Document, text: str, source_id: str, tool: str, labels, report: Report, options: Options, roles=()) -> list[dict]:
    """The YAML spans of one document, ordered by position."""
    apply_links(doc, roles)
    groups: dict[tuple, dict] = {}
    for mark in doc.marks:
        if not mark.label:
            raise fail(doc.file, mark.record, f"has no label; choose one of: {', '.join(labels)}")
        if mark.label not in labels:
            raise fail(doc.file, mark.record, f"label '{mark.label}' is not ours; use one of: {', '.join(labels)} (see annotation-tools/)")
        placed = place(text, mark, doc, report, options)
        if placed is None:
            continue
        start, end = placed
        given_id = mark.fields.get("span_id")
        given_id = given_id[0] if isinstance(given_id, list) and given_id else given_id
        if given_id is not None and not (isinstance(given_id, str) and SLUG.match(given_id)):
            raise fail(doc.file, mark.record, f"span_id {given_id!r} is not a slug; write lower-case letters, digits and single hyphens")
        key = (start, end, mark.label, given_id)
        span = groups.get(key)
        if span is None:
            digest = hashlib.sha256(f"{source_id}\n{start}\n{end}\n{mark.label}".encode()).hexdigest()[:10]
            span = groups[key] = {
                "span_id": given_id or f"{tool}-{digest}", "label": mark.label, "quote": text[start:end],
                "start": start, "end": end,
                "annotator": project_annotator(mark.annotator, doc, mark, options),
                "annotated": normalise_time(mark.annotated, doc, mark),
                "note": mark.fields.get("note") or None,
            }
        claim = claim_of(mark, doc)
        if claim is not None:
            kind, values = claim
            if values not in span.setdefault(kind, []):
                span[kind].append(values)
    ids: dict[str, tuple] = {}
    for key, span in groups.items():
        if span["span_id"] in ids:
            raise fail(doc.file, None, f"span_id '{span['span_id']}' is given to two different ranges; keep one id per span")
        ids[span["span_id"]] = key
    spans = sorted(groups.values(), key=lambda s: (s["start"], s["end"], s["span_id"]))
    return [{k: s[k] for k in SPAN_KEY_ORDER if s.get(k) not in (None, [])} for s in spans]


# ---- writing --------------------------------------------------------------------------------


def dump_block(items: list[dict], indent: int) -> str:
    """A YAML list of mappings, indented, keys in the given order, one line per scalar."""
    if not items:
        return ""
    text = yaml.safe_dump(items, sort_keys=False, allow_unicode=True, width=2**31 - 1, default_flow_style=False)
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def existing_spans(raw_dir: Path) -> dict[str, tuple[str, str, int | None, int | None, str | None]]:
    """Every span id of raw/annotations with (file, source, start, end, quote)."""
    out = {}
    ann = raw_dir / ANNOTATIONS_DIRNAME
    for path in sorted(ann.glob("*.yaml")) + sorted(ann.glob("*.yml")):
        data, problems = load_yaml(path, f"{raw_dir.name}/{ANNOTATIONS_DIRNAME}/{path.name}")
        if problems or not isinstance(data, YDict):
            continue
        for span in data.get("spans") or []:
            if isinstance(span, YDict) and isinstance(span.get("span_id"), str):
                out[span["span_id"]] = (path.name, data.get("source"), span.get("start"), span.get("end"), span.get("quote"))
    return out


def plan_writes(
    raw_dir: Path, docs: list[Document], tool: str, meta: Metadata, options: Options, report: Report,
) -> dict[Path, bytes]:
    """Every file to write (path -> full new bytes); raises on the first problem, writing nothing."""
    sources = known_sources(raw_dir)
    labels = meta["spans"].enum("label")
    existing = existing_spans(raw_dir)
    writes: dict[Path, bytes] = {}
    new_sources: list[dict] = []
    per_source: dict[str, list[dict]] = {}
    for doc in docs:
        sid = match_source(doc, sources, options)
        if sid is None:
            sid = _new_source(doc, sources, options, new_sources, writes, raw_dir)
        text = sources[sid].text
        for span in build_spans(doc, text, sid, tool, labels, report, options, meta["event_actors"].enum("role")):
            there = existing.get(span["span_id"])
            if there is not None:
                if (there[1], there[4]) == (sid, span["quote"]) and there[2] in (None, span["start"]):
                    report.unchanged += 1
                    report.lines.append(f"unchanged: {doc.file}: span '{span['span_id']}' is already in {ANNOTATIONS_DIRNAME}/{there[0]}")
                    continue
                raise fail(doc.file, f"span '{span['span_id']}'", f"the id is already used in {ANNOTATIONS_DIRNAME}/{there[0]} for another passage; rename it in the tool or in the YAML")
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
                raise fail(f"{ANNOTATIONS_DIRNAME}/{path.name}", None, "was changed by hand so that new spans cannot be appended (it must end with the 'spans' list of this source); move your edits to another file")
            body = old if old.endswith("\n") else old + "\n"
        else:
            body = (f"# Spans imported from {tool} exports by `pipeline import`; later imports append here.\n"
                    f"source: {sid}\nspans:\n")
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
        raise fail(doc.file, doc.name, "matches no source in raw/sources.yaml and the export holds no full text; pass --source <source_id>")
    data = dict(options.new_source)
    missing = [k for k in REQUIRED_SOURCE_KEYS if not data.get(k)]
    if missing:
        raise fail(doc.file, doc.name, "its text is not under raw/texts/ yet; to add it as a new source give " + " ".join(f"--{k.replace('_', '-')} ..." for k in missing))
    sid = data["source_id"]
    if not SLUG.match(sid) or sid in sources:
        raise fail(doc.file, doc.name, f"source id '{sid}' is taken or not a slug; choose another with --source-id")
    if any(s["source_id"] == sid for s in new_sources):
        raise fail(doc.file, doc.name, f"a second new document would also become '{sid}'; import new documents one at a time")
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
            assemble(scratch, meta, jobs=1)
        except BuildFailed as exc:
            ours = {f"{raw_dir.name}/{p.relative_to(raw_dir)}" for p in writes}
            mine = [p for p in exc.problems if p.file in ours] or exc.problems
            more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
            raise ImportError_(f"the imported spans would not build: {mine[0]}{more}; fix them in the tool and export again") from None


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


def run_import(raw_dir: Path, docs: list[Document], tool: str, meta: Metadata, options: Options, dry_run: bool = False) -> Report:
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
