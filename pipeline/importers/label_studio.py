"""Label Studio JSON exports: `labels` regions with per-region choices, numbers and text areas, and relations."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.importers.core import Document, Link, Mark, decode, fail, read_limited

# Region values by result type: which key of `value` holds the field's value.
VALUE_KEYS = {"choices": "choices", "number": "number", "textarea": "text", "rating": "rating", "taxonomy": "taxonomy"}


def _tasks(data, display: str) -> list:
    if isinstance(data, dict):
        return [data]  # an export of one task
    if isinstance(data, list):
        return data
    raise fail(display, None, "is not a Label Studio JSON export (a list of tasks); export with 'JSON' in Label Studio")


def _annotator(annotation: dict):
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return who.get("email") or who.get("id")
    return who


def read(path: Path, display: str) -> list[Document]:
    """The documents of one Label Studio JSON export."""
    try:
        data = json.loads(decode(read_limited(path, display), display))
    except json.JSONDecodeError as exc:
        raise fail(display, f"line {exc.lineno}", f"is not valid JSON ({exc.msg}); export again") from None
    docs = []
    for n, task in enumerate(_tasks(data, display), 1):
        name = f"task {task.get('id', n)}" if isinstance(task, dict) else f"task #{n}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise fail(display, name, "has no 'data'; export tasks with their data")
        text = task["data"].get("text")
        if not isinstance(text, str):
            raise fail(
                display,
                name,
                "has no text in data.text; label text tasks with our labeling config (annotation-tools/label-studio.xml)",
            )
        doc = Document(display, name, text)
        for a_index, annotation in enumerate(task.get("annotations") or []):
            if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
                continue
            prefix = f"{name} annotation {annotation.get('id', a_index + 1)}"
            regions: dict[str, Mark] = {}
            extra: list[tuple[str, dict]] = []
            for item in annotation.get("result") or []:
                if not isinstance(item, dict):
                    raise fail(display, prefix, "has a result that is not an object")
                kind, rid, value = item.get("type"), str(item.get("id")), item.get("value") or {}
                record = f"{prefix} result '{rid}'"
                if kind == "relation":
                    a, b = str(item.get("from_id")), str(item.get("to_id"))
                    if item.get("direction") == "left":
                        a, b = b, a
                    labels = item.get("labels") or [None]
                    doc.links.append(Link(f"{prefix} relation {a}->{b}", f"{a_index}:{a}", f"{a_index}:{b}", labels[0]))
                elif kind == "labels":
                    labels = value.get("labels") or []
                    if len(labels) > 1:
                        raise fail(display, record, f"has several labels {labels}; give each region one label")
                    regions[rid] = Mark(
                        record,
                        value.get("start"),
                        value.get("end"),
                        quote=value.get("text"),
                        label=labels[0] if labels else None,
                        tool_id=f"{a_index}:{rid}",
                        annotator=_annotator(annotation),
                        annotated=annotation.get("updated_at") or annotation.get("created_at"),
                        units="utf16",
                    )
                elif kind in VALUE_KEYS:
                    extra.append((rid, item))
                else:
                    raise fail(
                        display,
                        record,
                        f"has result type '{kind}', which our config does not use; use annotation-tools/label-studio.xml",
                    )
            for rid, item in extra:
                mark = regions.get(rid)
                if mark is None:
                    if item.get("to_name") and "start" not in (item.get("value") or {}):
                        continue  # a per-task choice, not about a region
                    raise fail(
                        display,
                        f"{prefix} result '{rid}'",
                        "belongs to no labelled region; set the label first, then the fields (per-region)",
                    )
                mark.fields[item.get("from_name")] = item["value"].get(VALUE_KEYS[item["type"]])
            doc.marks.extend(regions.values())
        docs.append(doc)
    return docs
