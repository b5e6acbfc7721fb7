"""Renders a `Graph` as Turtle: `@base` and prefixes, then one block per subject, all sorted.

Input: `pipeline.export.graph.Graph`. Output: UTF-8 text with LF line ends, streamed to a file. IRIs under the base
IRI are written relative to it (`<event/novocherkassk-1962>`), known vocabularies with their prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from pipeline.export.graph import DATATYPES, Graph
from pipeline.export.ntriples import chunked, literal, quoted, stream, to_bytes

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Relative references we may write: no scheme-like first segment, no dot segments to normalise
# (the lookahead), only characters that need no escaping.
_RELATIVE = re.compile(r"(?!.*(?:^|/)\.\.?(?:[/#]|$))(?:[A-Za-z0-9_~-][A-Za-z0-9._~%/-]*)?(?:#[A-Za-z0-9._~%-]*)?\Z").match
_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Names:
    """Shortest safe Turtle spelling of an IRI."""

    def __init__(self, graph: Graph):
        self.base = graph.base
        # Longest namespace first, so that the most specific prefix wins.
        self.namespaces = sorted(((ns, p) for p, ns in graph.prefixes.items()), key=lambda x: -len(x[0]))
        self.vocab = graph.prefixes["voc"]
        self.cache: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        if iri.startswith(self.base) and not iri.startswith(self.vocab):
            # Our own resources: relative to @base (unique, so not worth caching), unless a
            # reader could misresolve them (dot segments, a scheme-like start, odd characters).
            rest = iri[len(self.base):]
            return f"<{rest}>" if _RELATIVE(rest) else f"<{iri}>"
        name = self.cache.get(iri)
        if name is None:
            name = self.cache[iri] = self._prefixed(iri)
        return name

    def _prefixed(self, iri: str) -> str:
        for ns, prefix in self.namespaces:
            if iri.startswith(ns) and _LOCAL.match(iri[len(ns):]):
                return f"{prefix}:{iri[len(ns):]}"
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


def _blocks(graph: Graph, name: _Names) -> Iterator[str]:
    for subject, pairs in graph.sorted_nodes():
        # rdf:type first (as `a`), then the other properties in IRI order.
        pairs.sort(key=lambda pv: pv[0].iri != RDF_TYPE)
        parts = ["\n" + name(subject)]
        previous = None
        for prop, value in pairs:
            obj = name(value) if prop.kind == "iri" else _literal(prop.kind, value, name)
            if prop is previous:
                parts.append(", " + obj)
                continue
            predicate = "a" if prop.iri == RDF_TYPE else name(prop.iri)
            parts.append(f"\n    {predicate} {obj}" if previous is None else f" ;\n    {predicate} {obj}")
            previous = prop
        parts.append(" .\n")
        yield "".join(parts)


def head(graph: Graph) -> str:
    """`@base` and the prefixes: what every subject block relies on."""
    lines = [f"@base <{graph.base}> .\n"]
    lines += [f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(graph.prefixes.items())]
    return "".join(lines)


def blocks(graph: Graph) -> str:
    """Every subject block of graph, without the head: a fragment that may follow other fragments."""
    return "".join(_blocks(graph, _Names(graph)))


def chunks(graph: Graph) -> Iterator[str]:
    """`blocks(graph)` a chunk of subjects at a time."""
    return chunked(_blocks(graph, _Names(graph)))


def write(graph: Graph, out: TextIO) -> None:
    out.write(head(graph))
    stream(_blocks(graph, _Names(graph)), out)


def serialize(graph: Graph) -> bytes:
    return to_bytes(write, graph)
