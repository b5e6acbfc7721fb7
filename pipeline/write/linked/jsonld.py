"""Renders a `Graph` as JSON-LD with an inline `@context`, and that context as its own document.

Input: `pipeline.write.linked.graph.Graph`. Output: UTF-8 JSON bytes. The context maps every term to
its property and value type, so values are plain JSON (`"countMin": 26`); nothing refers to a
remote context, so no JSON-LD processor needs the network. The `@graph` holds one node object
per line, sorted by `@id`; the node objects come from `render.py`, which renders all three
formats in one pass.
"""

from __future__ import annotations

import io
import json
from typing import TextIO

from pipeline.write.linked import render
from pipeline.write.linked.graph import Graph

_COERCE = {
    "iri": "@id",
    "nonneg": "xsd:nonNegativeInteger",
    "date": "xsd:date",
    "edtf": "edtf:EDTF",
    "decimal": "xsd:decimal",
    "wkt": "geo:wktLiteral",
}


def context(graph: Graph) -> dict:
    """Prefixes and one term definition per property; `@type` needs none."""
    # Our own IRIs are written relative to the base IRI, as in Turtle.
    ctx: dict = {"@base": graph.base, **dict(sorted(graph.prefixes.items()))}
    for term, prop in sorted(graph.props.items()):
        if term.startswith("@"):
            continue
        definition = {"@id": prop.curie}
        if prop.kind in _COERCE:
            definition["@type"] = _COERCE[prop.kind]
        ctx[term] = definition
    return ctx


def context_bytes(graph: Graph) -> bytes:
    return (json.dumps({"@context": context(graph)}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def head(graph: Graph) -> str:
    """The document up to the first node object of `@graph`."""
    ctx = json.dumps(context(graph), indent=2, ensure_ascii=False).replace("\n", "\n  ")
    return f'{{\n  "@context": {ctx},\n  "@graph": ['


TAIL = "\n  ]\n}\n"
SEPARATOR = render.JSON_SEPARATOR


def write(graph: Graph, out: TextIO) -> None:
    out.write(head(graph))
    first = True
    for chunk in render.chunks(graph, "jsonld"):
        if first and chunk:
            # The first node object of a document has no comma before it.
            chunk = "\n    " + chunk[len(SEPARATOR) :]
            first = False
        out.write(chunk)
    out.write(TAIL)


def serialize(graph: Graph) -> bytes:
    buf = io.StringIO()
    write(graph, buf)
    return buf.getvalue().encode("utf-8")
