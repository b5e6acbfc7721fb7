"""`pipeline export-annotations`: our spans and claims as files the annotation tools open."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.importers.core import Vocabulary, codepoints_to_utf16, vocabulary
from pipeline.metadata import Metadata
from pipeline.read import anchoring

FORMATS = ("w3c", "label-studio", "inception")


def claim_fields(vocab: Vocabulary, key: str, row: dict) -> dict:
    """A claim row as the tools' fields (`casualties_category`, `text`, ...), empty cells and derived columns left out."""
    _, columns = vocab.claims[key]
    return {vocab.name(key, c): row[c] for c in columns if row.get(c) not in (None, "")}


def collect(raw_dir: Path, meta: Metadata) -> tuple[dict[str, str], dict[str, list[tuple[dict, list[dict]]]]]:
    """Texts by source, and per source its spans in order, each with the tool fields of its claims."""
    from pipeline.engine.build import assemble
    from pipeline.read.annotations import Corpus, read_sources

    tables = assemble(raw_dir, meta, jobs=1)
    corpus = Corpus()
    read_sources(raw_dir, meta, corpus)
    vocab = vocabulary(meta)
    claims: dict[str, list[dict]] = {}
    for key, (table, _) in vocab.claims.items():
        for row in tables.rows.get(table, []):
            fields = claim_fields(vocab, key, row)
            if fields not in claims.setdefault(row["span_id"], []):
                claims[row["span_id"]].append(fields)
    texts = {sid: s.text for sid, s in corpus.sources.items()}
    spans: dict[str, list] = {}
    for row in sorted(tables.rows.get("spans", []), key=lambda r: (r["source_id"], r["start"], r["end"], r["span_id"])):
        if not row["quote"] and row["source_id"] in texts:
            # Withheld from publication, not from the project's annotators, who hold the texts.
            text = texts[row["source_id"]]
            prefix, suffix = anchoring.context(text, row["start"], row["end"])
            row = {**row, "quote": text[row["start"] : row["end"]], "prefix": prefix, "suffix": suffix}
        spans.setdefault(row["source_id"], []).append((row, claims.get(row["span_id"], [])))
    return texts, spans


def _dump(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def to_w3c(sid: str, spans, base: str) -> bytes:
    """One AnnotationCollection per source; claims as `key: value` describing bodies."""
    items = []
    for row, claims in spans:
        bodies = [{"type": "TextualBody", "purpose": "tagging", "value": row["label"]}]
        for fields in claims:
            bodies.append(
                {
                    "type": "TextualBody",
                    "purpose": "describing",
                    "format": "text/plain",
                    "value": "\n".join(f"{k}: {v}" for k, v in fields.items()),
                }
            )
        ann = {
            "id": f"{base}span/{row['span_id']}",
            "type": "Annotation",
            "motivation": "tagging",
            "body": bodies,
            "target": {
                "source": f"{base}source/{sid}",
                "selector": [
                    {
                        "type": "TextQuoteSelector",
                        "exact": row["quote"],
                        "prefix": row.get("prefix") or "",
                        "suffix": row.get("suffix") or "",
                    },
                    {"type": "TextPositionSelector", "start": row["start"], "end": row["end"]},
                ],
            },
        }
        if row.get("annotator"):
            ann["creator"] = f"{base}annotator/{row['annotator']}"
        if row.get("annotated"):
            ann["created"] = row["annotated"]
        items.append(ann)
    return _dump(
        {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": f"{base}source/{sid}/annotations",
            "type": "AnnotationCollection",
            "total": len(items),
            "first": {"type": "AnnotationPage", "startIndex": 0, "items": items},
        }
    )


def to_label_studio(texts: dict[str, str], spans_by_source, vocab: Vocabulary) -> bytes:
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
                    f = vocab.fields.get(name)
                    if f is not None and f.type == "integer":
                        result.append(
                            {**common, "from_name": name, "type": "number", "value": {**where, "number": value}}
                        )
                    elif f is not None and f.enum:
                        result.append(
                            {**common, "from_name": name, "type": "choices", "value": {**where, "choices": [value]}}
                        )
                    else:
                        result.append(
                            {**common, "from_name": name, "type": "textarea", "value": {**where, "text": [str(value)]}}
                        )
        tasks.append({"id": n, "data": {"text": text, "source_id": sid}, "annotations": [{"id": n, "result": result}]})
    return _dump(tasks)


def to_cas_json(text: str, spans, vocab: Vocabulary) -> bytes:
    """A UIMA CAS JSON with our span layer, for INCEpTION's 'UIMA CAS JSON' import."""
    import cassis

    from pipeline.importers.configs import cas_typesystem
    from pipeline.importers.inception import SPAN_LAYER

    typesystem = cas_typesystem(vocab)
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
    vocab = vocabulary(meta)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[Path, bytes] = {}
    if fmt == "w3c":
        for sid, items in sorted(spans.items()):
            files[out_dir / f"{sid}.w3c.jsonld"] = to_w3c(sid, items, meta.base_iri)
    elif fmt == "label-studio":
        files[out_dir / "label-studio-tasks.json"] = to_label_studio(texts, spans, vocab)
    elif fmt == "inception":
        for sid, items in sorted(spans.items()):
            files[out_dir / f"{sid}.json"] = to_cas_json(texts[sid], items, vocab)
    else:
        raise ValueError(fmt)
    for path, data in files.items():
        path.write_bytes(data)
    return sorted(files)
