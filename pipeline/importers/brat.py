"""brat standoff: `.ann` (T, R, E, A, # lines) next to the `.txt` it annotates."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.importers.core import Document, Link, Mark, decode, fail, read_limited

_T = re.compile(r"^(\S+) (\d+ \d+(?:;\d+ \d+)*)\Z")
_ID = re.compile(r"^[TREAMN#*]\d*$")


def parse_note(text: str) -> dict:
    """`key: value; key: value` of an AnnotatorNotes line (brat notes hold one line).

    >>> parse_note("event_id: vorkuta-1953; casualties_count_min: 12")
    {'event_id': 'vorkuta-1953', 'casualties_count_min': '12'}
    """
    fields = {}
    for part in text.split(";"):
        if ":" in part:
            key, value = part.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def read(path: Path, display: str) -> list[Document]:
    """One document: the `.ann` file and the `.txt` of the same name beside it."""
    txt = path.with_suffix(".txt")
    txt_display = str(Path(display).with_suffix(".txt"))
    if not txt.is_file():
        raise fail(display, None, f"has no text file {txt_display} beside it; export the document with its .txt")
    text = decode(read_limited(txt, txt_display), txt_display)
    lines = decode(read_limited(path, display), display).split("\n")
    doc = Document(display, path.stem, text)
    marks: dict[str, Mark | None] = {}  # None: an event, which stands for its trigger
    pending_attrs, pending_notes = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = f"line {n}"
        parts = line.split("\t")
        ident = parts[0]
        kind = ident[:1]
        if kind == "T":
            m = _T.match(parts[1]) if len(parts) >= 3 else None
            if not m:
                raise fail(display, record, f"text-bound annotation '{ident}' is not 'T1<TAB>Label start end<TAB>text'")
            label, offsets = m.group(1), m.group(2)
            if ";" in offsets:
                raise fail(
                    display,
                    f"{record} ({ident})",
                    f"is a discontinuous span ({offsets}); our spans are one stretch of text: split it into one annotation per fragment in brat",
                )
            start, end = (int(x) for x in offsets.split(" ")) if " " in offsets else (None, None)
            marks[ident] = Mark(f"{record} ({ident})", start, end, quote=parts[2], label=label, tool_id=ident)
        elif kind == "R":
            fields = parts[1].split(" ") if len(parts) >= 2 else []
            args = dict(a.split(":", 1) for a in fields[1:] if ":" in a)
            if len(fields) != 3 or len(args) != 2:
                raise fail(display, record, f"relation '{ident}' is not 'R1<TAB>Type Arg1:T1 Arg2:T2'")
            first, second = list(args.values())
            doc.links.append(Link(f"{record} ({ident})", first, second, fields[0]))
        elif kind == "E":
            fields = parts[1].split(" ") if len(parts) >= 2 else []
            if not fields or ":" not in fields[0]:
                raise fail(display, record, f"event '{ident}' is not 'E1<TAB>Type:T1 Role:T2 ...'")
            trigger = fields[0].split(":", 1)[1]
            marks.setdefault(ident, None)  # events are referred to by their trigger
            for arg in fields[1:]:
                role, target = arg.split(":", 1)
                # The argument takes the trigger's event; a numbered role (Role2) is the same role.
                doc.links.append(Link(f"{record} ({ident})", target, trigger, re.sub(r"\d+$", "", role)))
            doc.links.append(Link(f"{record} ({ident})", ident, trigger, None))
        elif kind in "AM":
            fields = parts[1].split(" ") if len(parts) >= 2 else []
            if len(fields) < 2:
                raise fail(display, record, f"attribute '{ident}' is not 'A1<TAB>Name T1 [Value]'")
            pending_attrs.append((record, fields[1], fields[0], fields[2] if len(fields) > 2 else True))
        elif kind == "#":
            fields = parts[1].split(" ") if len(parts) >= 2 else []
            if len(fields) < 2 or len(parts) < 3:
                raise fail(display, record, f"note '{ident}' is not '#1<TAB>AnnotatorNotes T1<TAB>text'")
            pending_notes.append((record, fields[1], parts[2]))
        elif kind in "N*":
            continue  # normalisations and equivalences carry nothing we publish
        else:
            raise fail(display, record, f"'{ident}' is no brat annotation id (T, R, E, A, M, N, #, *)")
    events = {k for k, v in marks.items() if v is None}
    for record, target, name, value in pending_attrs:
        mark = marks.get(target)
        if mark is None:
            raise fail(display, record, f"names '{target}', which is no text-bound annotation of this file")
        mark.fields[name] = value
    for record, target, note in pending_notes:
        mark = marks.get(target)
        if mark is None:
            raise fail(display, record, f"names '{target}', which is no text-bound annotation of this file")
        for key, value in parse_note(note).items():
            mark.fields[key] = value
    doc.marks = [m for m in marks.values() if m is not None]  # all but the events
    # An event id stands for its trigger: links pointing at E1 point at its T.
    trigger_of = {link.from_id: link.to_id for link in doc.links if link.from_id in events}
    doc.links = [
        Link(link.record, link.from_id, trigger_of.get(link.to_id, link.to_id), link.label)
        for link in doc.links
        if link.from_id not in events
    ]
    return [doc]
