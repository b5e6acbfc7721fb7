"""W3C Web Annotation JSON(-LD), as written by Hypothesis, Recogito and `pipeline export-annotations`."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.importers.core import Document, Mark, decode, fail, read_limited

LABEL_PURPOSES = ("tagging", "classifying")


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _annotations(data) -> list:
    """The annotations of a file: one, a list, a collection, a page, or a Hypothesis search result."""
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return []
    if "rows" in data:  # Hypothesis API search result
        return _as_list(data["rows"])
    if data.get("type") == "AnnotationCollection":
        first = data.get("first")
        return _as_list(first.get("items")) if isinstance(first, dict) else _as_list(data.get("items"))
    if data.get("type") == "AnnotationPage":
        return _as_list(data.get("items"))
    return [data]


def parse_fields(text: str) -> dict:
    """`key: value` lines of a describing body or a Hypothesis note.

    >>> parse_fields("casualties_category: killed\\ncasualties_count_min: 12")
    {'casualties_category': 'killed', 'casualties_count_min': '12'}
    """
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def _target(ann: dict) -> tuple[str | None, dict]:
    selectors: dict[str | None, dict] = {}  # by selector type
    source = None
    for target in _as_list(ann.get("target")):
        if isinstance(target, str):
            source = source or target
            continue
        source = source or target.get("source")
        for sel in _as_list(target.get("selector")):
            if isinstance(sel, dict):
                selectors.setdefault(sel.get("type"), sel)
    return source or ann.get("uri"), selectors


def read(path: Path, display: str) -> list[Document]:
    """The documents (one per target source) of a W3C / Hypothesis export."""
    try:
        data = json.loads(decode(read_limited(path, display), display))
    except json.JSONDecodeError as exc:
        raise fail(display, f"line {exc.lineno}", f"is not valid JSON ({exc.msg}); export again") from None
    docs: dict[str, Document] = {}
    for n, ann in enumerate(_annotations(data), 1):
        if not isinstance(ann, dict):
            raise fail(display, f"annotation #{n}", "is not an object")
        record = f"annotation {ann.get('id', '#' + str(n))}"
        source, selectors = _target(ann)
        quote_sel, pos_sel = selectors.get("TextQuoteSelector", {}), selectors.get("TextPositionSelector", {})
        if not quote_sel.get("exact") and "start" not in pos_sel:
            raise fail(
                display,
                record,
                "has no TextQuoteSelector or TextPositionSelector; annotate a text passage (a RangeSelector alone needs the page)",
            )
        labels, claims = [], []
        for body in _as_list(ann.get("body")):
            if isinstance(body, str):
                continue  # a link to a resource: nothing we can read
            purpose, value = body.get("purpose"), body.get("value")
            if purpose in LABEL_PURPOSES and isinstance(value, str):
                labels.append(value)
            elif isinstance(value, str):
                claims.append(parse_fields(value))
        for tag in _as_list(ann.get("tags")):  # Hypothesis keeps tags outside the body
            labels.append(tag)
        if isinstance(ann.get("text"), str) and ann["text"].strip():
            claims += [parse_fields(block) for block in ann["text"].split("\n\n") if block.strip()]
        span_id = None
        if isinstance(ann.get("id"), str) and "/span/" in ann["id"]:
            span_id = ann["id"].rstrip("/").rsplit("/span/", 1)[1]
        if len(labels) > 1:
            raise fail(display, record, f"has several labels {labels}; give each annotation one tagging body")
        creator = ann.get("creator") or ann.get("user")
        if isinstance(creator, dict):
            creator = creator.get("id") or creator.get("name")
        doc = docs.setdefault(str(source), Document(display, str(source), None, source_hint=source))
        base = dict(
            start=pos_sel.get("start"),
            end=pos_sel.get("end"),
            quote=quote_sel.get("exact"),
            prefix=quote_sel.get("prefix"),
            suffix=quote_sel.get("suffix"),
            label=labels[0] if labels else None,
            tool_id=str(ann.get("id", n)),
            annotator=creator,
            annotated=ann.get("created") or ann.get("modified"),
        )
        for k, claim in enumerate(claims or [{}]):
            fields = dict(claim)
            if span_id:
                fields["span_id"] = span_id
            doc.marks.append(Mark(record if len(claims) < 2 else f"{record} body {k + 1}", fields=fields, **base))
    return list(docs.values())
