"""`pipeline export-annotations`: our spans and claims as files the annotation tools open."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.importers.core import TOOL_NAME, codepoints_to_utf16
from pipeline.metadata import Metadata

FORMATS = ("w3c", "label-studio", "inception")
# Claim table -> (columns, in the order a tool shows them); event_mentions are the `events` claims.
CLAIM_TABLES = {
    "event_mentions": ("event_id", "date", "place"),
    "event_actors": ("event_id", "actor_id", "role", "count_min", "count_max", "qualifier"),
    "casualties": ("casualty_id", "event_id", "category", "count_min", "count_max", "qualifier",
                   "victim_actor_id", "perpetrator_actor_id", "claimant"),
    "demands": ("demand_id", "event_id", "actor_id", "text", "category", "outcome"),
}
YAML_LIST = {"event_mentions": "events", "event_actors": "actors", "casualties": "casualties", "demands": "demands"}


def claim_fields(table: str, row: dict) -> dict:
    """A claim row as the tools' fields (casualty_category, demand_text, ...), empty cells left out."""
    kind = YAML_LIST[table]
    return {TOOL_NAME.get((kind, c), c): row[c] for c in CLAIM_TABLES[table] if row.get(c) not in (None, "")}


def collect(raw_dir: Path, meta: Metadata) -> tuple[dict[str, str], dict[str, list[tuple[dict, list[dict]]]]]:
    """Texts by source, and per source its spans in order, each with the tool fields of its claims."""
    from pipeline.read.annotations import Corpus, read_sources
    from pipeline.engine.build import assemble

    tables = assemble(raw_dir, meta, jobs=1)
    corpus = Corpus()
    read_sources(raw_dir, meta, corpus)
    claims: dict[str, list[dict]] = {}
    for table in CLAIM_TABLES:
        for row in tables.rows.get(table, []):
            fields = claim_fields(table, row)
            if fields not in claims.setdefault(row["span_id"], []):
                claims[row["span_id"]].append(fields)
    spans: dict[str, list] = {}
    for row in sorted(tables.rows.get("spans", []), key=lambda r: (r["source_id"], r["start"], r["end"], r["span_id"])):
        spans.setdefault(row["source_id"], []).append((row, claims.get(row["span_id"], [])))
    return {sid: s.text for sid, s in corpus.sources.items()}, spans


def _dump(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def to_w3c(sid: str, spans, base: str) -> bytes:
    """One AnnotationCollection per source; claims as `key: value` describing bodies."""
    items = []
    for row, claims in spans:
        bodies = [{"type": "TextualBody", "purpose": "tagging", "value": row["label"]}]
        for fields in claims:
            bodies.append({"type": "TextualBody", "purpose": "describing", "format": "text/plain",
                           "value": "\n".join(f"{k}: {v}" for k, v in fields.items())})
        ann = {"id": f"{base}span/{row['span_id']}", "type": "Annotation", "motivation": "tagging", "body": bodies,
               "target": {"source": f"{base}source/{sid}", "selector": [
                   {"type": "TextQuoteSelector", "exact": row["quote"], "prefix": row.get("prefix") or "", "suffix": row.get("suffix") or ""},
                   {"type": "TextPositionSelector", "start": row["start"], "end": row["end"]}]}}
        if row.get("annotator"):
            ann["creator"] = f"{base}annotator/{row['annotator']}"
        if row.get("annotated"):
            ann["created"] = row["annotated"]
        items.append(ann)
    return _dump({"@context": "http://www.w3.org/ns/anno.jsonld", "id": f"{base}source/{sid}/annotations",
                  "type": "AnnotationCollection", "total": len(items),
                  "first": {"type": "AnnotationPage", "startIndex": 0, "items": items}})


def to_label_studio(texts: dict[str, str], spans_by_source) -> bytes:
    """One task per source; each claim its own region over the span (stacked), offsets in UTF-16 units."""
    tasks = []
    for n, sid in enumerate(sorted(spans_by_source), 1):
        text = texts[sid]
        result = []
        for row, claims in spans_by_source[sid]:
            start, end = codepoints_to_utf16(text, row["start"]), codepoints_to_utf16(text, row["end"])
            for k, fields in enumerate(claims or [{}], 1):
                rid = f"{row['span_id']}.{k}"
                where = {"start": start, "end": end, "text": row["quote"]}
                common = {"id": rid, "from_name": "label", "to_name": "text", "origin": "manual"}
                result.append({**common, "type": "labels", "value": {**where, "labels": [row["label"]]}})
                for name, value in {"span_id": row["span_id"], **fields}.items():
                    if isinstance(value, int):
                        result.append({**common, "from_name": name, "type": "number", "value": {**where, "number": value}})
                    elif name in _CHOICES:
                        result.append({**common, "from_name": name, "type": "choices", "value": {**where, "choices": [value]}})
                    else:
                        result.append({**common, "from_name": name, "type": "textarea", "value": {**where, "text": [value]}})
        tasks.append({"id": n, "data": {"text": text, "source_id": sid}, "annotations": [{"id": n, "result": result}]})
    return _dump(tasks)


_CHOICES = ("role", "qualifier", "casualty_category", "demand_category", "outcome")


def to_cas_json(text: str, spans) -> bytes:
    """A UIMA CAS JSON with our span layer, for INCEpTION's 'UIMA CAS JSON' import."""
    from pipeline.importers.configs import cas_typesystem
    from pipeline.importers.inception import SPAN_LAYER

    import cassis

    typesystem = cas_typesystem()
    cas = cassis.Cas(typesystem=typesystem)
    cas.sofa_string = text
    kind = typesystem.get_type(SPAN_LAYER)
    for row, claims in spans:
        for fields in claims or [{}]:
            values = {"label": row["label"], "span_id": row["span_id"], **{k: str(v) for k, v in fields.items()}}
            cas.add(kind(begin=row["start"], end=row["end"], **values))
    return cas.to_json(pretty_print=True).rstrip("\n").encode("utf-8") + b"\n"


def export(raw_dir: Path, out_dir: Path, fmt: str, meta: Metadata) -> list[Path]:
    """Write the export files into out_dir (created); returns them. Never writes under raw/."""
    texts, spans = collect(raw_dir, meta)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[Path, bytes] = {}
    if fmt == "w3c":
        for sid, items in sorted(spans.items()):
            files[out_dir / f"{sid}.w3c.jsonld"] = to_w3c(sid, items, meta.base_iri)
    elif fmt == "label-studio":
        files[out_dir / "label-studio-tasks.json"] = to_label_studio(texts, spans)
    elif fmt == "inception":
        for sid, items in sorted(spans.items()):
            files[out_dir / f"{sid}.json"] = to_cas_json(texts[sid], items)
    else:
        raise ValueError(fmt)
    for path, data in files.items():
        path.write_bytes(data)
    return sorted(files)
