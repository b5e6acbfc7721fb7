"""Renders a `Graph` as Turtle: `@base` and prefixes, then one block per subject, all sorted.

Input: `pipeline.export.graph.Graph`. Output: UTF-8 bytes with LF line ends. IRIs under the base
IRI are written relative to it (`<event/novocherkassk-1962>`), known vocabularies with their prefix.
"""

from __future__ import annotations

import re

from pipeline.export.graph import DATATYPES, Graph
from pipeline.export.ntriples import literal, quoted

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Relative references we may write: no scheme-like first segment, no dot segments to normalise.
_RELATIVE = re.compile(r"^(?:[A-Za-z0-9_~-][A-Za-z0-9._~%/-]*)?(?:#[A-Za-z0-9._~%-]*)?$")
_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Names:
    """Shortest safe Turtle spelling of an IRI, cached (the same IRIs recur a lot)."""

    def __init__(self, graph: Graph):
        self.base = graph.base
        # Longest namespace first, so that voc: (under the base) wins over a relative IRI.
        self.namespaces = sorted(((ns, p) for p, ns in graph.prefixes.items()), key=lambda x: -len(x[0]))
        self.cache: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        name = self.cache.get(iri)
        if name is None:
            name = self.cache[iri] = self._name(iri)
        return name

    def _name(self, iri: str) -> str:
        for ns, prefix in self.namespaces:
            if iri.startswith(ns) and _LOCAL.match(iri[len(ns):]):
                return f"{prefix}:{iri[len(ns):]}"
        if iri.startswith(self.base):
            rest = iri[len(self.base):]
            if _RELATIVE.match(rest) and not any(seg in (".", "..") for seg in rest.split("#")[0].split("/")):
                return f"<{rest}>"
        return f"<{iri}>"


def _literal(kind: str, value, name: _Names) -> str:
    # Turtle's short forms for xsd:integer and xsd:boolean; prefixed datatypes elsewhere.
    if kind == "integer":
        return str(int(value))
    if kind == "boolean":
        return "true" if value else "false"
    if kind in DATATYPES:
        return f"{quoted(str(int(value)) if kind == 'nonneg' else str(value))}^^{name(DATATYPES[kind])}"
    return literal(kind, value)


def serialize(graph: Graph) -> bytes:
    name = _Names(graph)
    out = [f"@base <{graph.base}> .\n"]
    out += [f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(graph.prefixes.items())]
    for subject, pairs in graph.sorted_nodes():
        # rdf:type first (as `a`), then the other properties in IRI order.
        pairs = sorted(pairs, key=lambda pv: pv[0].iri != RDF_TYPE)
        out.append("\n" + name(subject))
        previous = None
        for prop, value in pairs:
            obj = name(value) if prop.kind == "iri" else _literal(prop.kind, value, name)
            if prop is previous:
                out.append(f", {obj}")
                continue
            if previous is not None:
                out.append(" ;")
            predicate = "a" if prop.iri == RDF_TYPE else name(prop.iri)
            out.append(f"\n    {predicate} {obj}")
            previous = prop
        out.append(" .\n")
    return "".join(out).encode("utf-8")
