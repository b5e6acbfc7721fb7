"""Renders a `Graph` as JSON-LD with an inline `@context`, and that context as its own document.

Input: `pipeline.export.graph.Graph`. Output: UTF-8 JSON bytes. The context maps every term to
its property and value type, so values are plain JSON (`"countMin": 26`); nothing refers to a
remote context, so no JSON-LD processor needs the network. The `@graph` holds one node object
per line, sorted by `@id`, written with the C JSON encoder (the pretty printer is slow on large
graphs) and streamed to the file.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import TextIO

from pipeline.export.graph import Graph
from pipeline.export.ntriples import CHUNK, chunked

_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_COERCE = {"iri": "@id", "nonneg": "xsd:nonNegativeInteger", "date": "xsd:date", "edtf": "edtf:EDTF"}


def context(graph: Graph) -> dict:
    """Prefixes and one term definition per property; `@type` needs none."""
    ctx: dict = dict(sorted(graph.prefixes.items()))
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


def _value(kind: str, value):
    if kind == "lang":
        text, lang = value
        return {"@value": text, "@language": lang} if lang else text
    return value


def head(graph: Graph) -> str:
    """The document up to the first node object of `@graph`."""
    ctx = json.dumps(context(graph), indent=2, ensure_ascii=False).replace("\n", "\n  ")
    return f'{{\n  "@context": {ctx},\n  "@graph": ['


TAIL = "\n  ]\n}\n"
# What precedes every node object; the very first one in a document drops the comma.
SEPARATOR = ",\n    "


def nodes(graph: Graph) -> Iterator[str]:
    """One compact JSON node object per subject, sorted by `@id`."""
    namespaces = sorted(((ns, p) for p, ns in graph.prefixes.items()), key=lambda x: -len(x[0]))
    compact: dict[str, str] = {}

    def type_name(iri: str) -> str:
        name = compact.get(iri)
        if name is None:
            name = iri
            for ns, prefix in namespaces:
                if iri.startswith(ns) and _LOCAL.match(iri[len(ns):]):
                    name = f"{prefix}:{iri[len(ns):]}"
                    break
            compact[iri] = name
        return name

    dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(", ", ": ")).encode
    for subject, pairs in graph.sorted_nodes():
        node: dict = {"@id": subject}
        for prop, value in pairs:
            if prop.term == "@type":
                node.setdefault("@type", []).append(type_name(value))
            else:
                node.setdefault(prop.term, []).append(_value(prop.kind, value))
        for key, values in node.items():
            if key != "@id" and len(values) == 1:
                node[key] = values[0]
        yield dumps(node)


def fragment(graph: Graph) -> str:
    """Every node object of graph, each preceded by SEPARATOR: fragments concatenate."""
    return "".join(SEPARATOR + node for node in nodes(graph))


def chunks(graph: Graph) -> Iterator[str]:
    """`fragment(graph)` a chunk of node objects at a time."""
    return chunked(SEPARATOR + node for node in nodes(graph))


def write(graph: Graph, out: TextIO) -> None:
    out.write(head(graph))
    chunk = []
    for n, node in enumerate(nodes(graph), 1):
        chunk.append(("\n    " if n == 1 else SEPARATOR) + node)
        if n % CHUNK == 0:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk) + TAIL)


def serialize(graph: Graph) -> bytes:
    buf = io.StringIO()
    write(graph, buf)
    return buf.getvalue().encode("utf-8")
