"""Renders a `Graph` as JSON-LD with an inline `@context`, and that context as its own document.

Input: `pipeline.export.graph.Graph`. Output: UTF-8 JSON bytes. The context maps every term to
its property and value type, so values are plain JSON (`"countMin": 26`); nothing refers to a
remote context, so no JSON-LD processor needs the network. The `@graph` holds one node object
per line, sorted by `@id`, written with the C JSON encoder because the pretty printer is slow on
large graphs.
"""

from __future__ import annotations

import json

from pipeline.export.graph import Graph

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


def _compact(iri: str, namespaces: list[tuple[str, str]]) -> str:
    for ns, prefix in namespaces:
        if iri.startswith(ns) and iri[len(ns):].replace("_", "").replace("-", "").isalnum():
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _value(kind: str, value):
    if kind == "lang":
        text, lang = value
        return {"@value": text, "@language": lang} if lang else text
    return value


def serialize(graph: Graph) -> bytes:
    namespaces = sorted(((ns, p) for p, ns in graph.prefixes.items()), key=lambda x: -len(x[0]))
    dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(", ", ": ")).encode
    nodes = []
    for subject, pairs in graph.sorted_nodes():
        node: dict = {"@id": subject}
        for prop, value in pairs:
            if prop.term == "@type":
                node.setdefault("@type", []).append(_compact(value, namespaces))
            else:
                node.setdefault(prop.term, []).append(_value(prop.kind, value))
        for key, values in node.items():
            if key != "@id" and len(values) == 1:
                node[key] = values[0]
        nodes.append(dumps(node))
    head = json.dumps(context(graph), indent=2, ensure_ascii=False).replace("\n", "\n  ")
    body = ",\n    ".join(nodes)
    return f'{{\n  "@context": {head},\n  "@graph": [\n    {body}\n  ]\n}}\n'.encode("utf-8")
