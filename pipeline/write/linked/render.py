"""Renders a `Graph`'s subjects as Turtle blocks, N-Triples lines and JSON-LD node objects in one pass.

Input: `pipeline.write.linked.graph.Graph`. Output: for each format the text of every subject, sorted by
subject IRI, without the document's head (prefixes, `@context`): fragments that concatenate.
Used for the corpus-wide part, the dataset's description and `serialize()`; the partitions' rows
go through the compiled renderers of `compiled.py` instead.
The three formats are rendered together because most of the cost is shared: walking the sorted
subjects and pairs, and escaping each literal once (the escapes N-Triples and Turtle use are
also valid JSON string escapes). Turtle and JSON-LD write our own IRIs relative to the base IRI
(`@base`), which makes them a third smaller. `turtle.py`, `ntriples.py` and `jsonld.py` put heads around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pipeline.write.linked.graph import DATATYPES, RDF_TYPE, Graph

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# Control characters would make a line unreadable for some parsers: escape them as \uXXXX.
_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f]')
# Relative references Turtle may hold: no scheme-like first segment, no dot segments to normalise
# (the lookahead), only characters that need no escaping.
_RELATIVE = re.compile(
    r"(?!.*(?:^|/)\.\.?(?:[/#]|$))(?:[A-Za-z0-9_~-][A-Za-z0-9._~%/-]*)?(?:#[A-Za-z0-9._~%-]*)?\Z"
).match
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").fullmatch
CHUNK = 2000  # subjects per chunk: few system calls, bounded memory
# What precedes every JSON-LD node object; the very first one in a document drops the comma.
JSON_SEPARATOR = ",\n    "


def _escape(match: re.Match) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"


def quoted(text: str) -> str:
    """A string in double quotes with escapes that N-Triples, Turtle and JSON all accept."""
    if _SPECIAL.search(text):
        text = _SPECIAL.sub(_escape, text)
    return '"' + text + '"'


def _relative(ttl_name: str, iri: str) -> str:
    """The relative reference a Turtle name `<...>` holds, else the full IRI."""
    return ttl_name[1:-1] if ttl_name[0] == "<" and len(ttl_name) - 2 != len(iri) else iri


def prefixed(iri: str, namespaces: list[tuple[str, str]]) -> str | None:
    """`prefix:local` for iri if a namespace (longest first) gives a valid local name, else None."""
    for ns, prefix in namespaces:
        if iri.startswith(ns) and _LOCAL(iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns) :]}"
    return None


class Renderer:
    """Everything about a graph's properties and names the formats need, worked out once."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.base = graph.base
        self.vocab = graph.prefixes["voc"]
        # Longest namespace first, so that the most specific prefix wins.
        self.namespaces = sorted(((ns, p) for p, ns in graph.prefixes.items()), key=lambda x: -len(x[0]))
        self.names: dict[str, str] = {}  # Turtle names of IRIs outside our own resources
        self.types: dict[str, str] = {}  # JSON-LD compact names of classes
        # Per property number: kind, N-Triples predicate, Turtle predicate, JSON key.
        self.kind = [p.kind for p in graph.ordered]
        self.nt_pred = [f"<{p.iri}>" for p in graph.ordered]
        self.ttl_pred = ["a" if p.iri == RDF_TYPE else self.ttl_name(p.iri) for p in graph.ordered]
        self.json_key = ['"@type"' if p.term == "@type" else quoted(p.term) for p in graph.ordered]
        self.is_type = [p.term == "@type" for p in graph.ordered]
        self.nt_datatype = {kind: f"^^<{iri}>" for kind, iri in DATATYPES.items()}
        self.ttl_datatype = {kind: "^^" + self.ttl_name(iri) for kind, iri in DATATYPES.items()}

    def ttl_name(self, iri: str) -> str:
        """Shortest safe Turtle spelling of an IRI."""
        if iri.startswith(self.base) and not iri.startswith(self.vocab):
            # Our own resources: relative to @base (unique, so not worth caching), unless a
            # reader could misresolve them (dot segments, a scheme-like start, odd characters).
            rest = iri[len(self.base) :]
            return f"<{rest}>" if _RELATIVE(rest) else f"<{iri}>"
        name = self.names.get(iri)
        if name is None:
            name = self.names[iri] = prefixed(iri, self.namespaces) or f"<{iri}>"
        return name

    def type_name(self, iri: str) -> str:
        name = self.types.get(iri)
        if name is None:
            name = self.types[iri] = prefixed(iri, self.namespaces) or iri
        return name

    def subjects(self, nodes: Iterator[tuple[str, list[tuple[int, Any]]]]) -> Iterator[tuple[str, str, str]]:
        """(Turtle block, N-Triples lines, JSON-LD node object) of each (subject, sorted pairs).

        A pair is (property number, value); the value's type follows the property's kind: an IRI
        string, a string, a (text, language) pair, an int, a bool or a date/EDTF string.
        """
        kind_of, nt_pred, ttl_pred, json_key, is_type = (
            self.kind,
            self.nt_pred,
            self.ttl_pred,
            self.json_key,
            self.is_type,
        )
        nt_dt, ttl_dt, ttl_name, type_name = self.nt_datatype, self.ttl_datatype, self.ttl_name, self.type_name
        for subject, pairs in nodes:
            nt_subject = f"<{subject}> "
            ttl_subject = ttl_name(subject)
            ttl = ["\n", ttl_subject]
            nt = []
            # JSON-LD resolves relative IRIs against the context's @base, as Turtle does.
            js = ['{"@id": "', _relative(ttl_subject, subject), '"']
            previous = -1
            many = False  # whether the JSON value of the current property is an array
            for number, value in pairs:
                kind = kind_of[number]
                if kind == "iri":
                    nt_obj = f"<{value}>"
                    ttl_obj = ttl_name(value)
                    js_obj = f'"{type_name(value) if is_type[number] else _relative(ttl_obj, value)}"'
                elif kind == "string":
                    nt_obj = ttl_obj = js_obj = quoted(value)
                elif kind == "lang":
                    text, lang = value
                    js_obj = quoted(text)
                    if lang:
                        nt_obj = ttl_obj = f"{js_obj}@{lang}"
                        js_obj = f'{{"@value": {js_obj}, "@language": "{lang}"}}'
                    else:
                        nt_obj = ttl_obj = js_obj
                elif kind == "integer":
                    js_obj = ttl_obj = str(int(value))
                    nt_obj = f'"{js_obj}"{nt_dt[kind]}'
                elif kind == "boolean":
                    js_obj = ttl_obj = "true" if value else "false"
                    nt_obj = f'"{js_obj}"{nt_dt[kind]}'
                elif kind == "nonneg":
                    js_obj = str(int(value))
                    nt_obj = f'"{js_obj}"{nt_dt[kind]}'
                    ttl_obj = f'"{js_obj}"{ttl_dt[kind]}'
                else:  # date, edtf: typed strings; JSON-LD's context types them
                    js_obj = quoted(str(value))
                    nt_obj = js_obj + nt_dt[kind]
                    ttl_obj = js_obj + ttl_dt[kind]
                nt.append(f"{nt_subject}{nt_pred[number]} {nt_obj} .\n")
                if number == previous:
                    ttl.append(", " + ttl_obj)
                    if not many:
                        # A second value: the first one becomes the first element of an array.
                        js[-1] = "[" + js[-1]
                        many = True
                    js.append(", " + js_obj)
                    continue
                if many:
                    js.append("]")
                    many = False
                ttl.append(
                    f"\n    {ttl_pred[number]} {ttl_obj}" if previous < 0 else f" ;\n    {ttl_pred[number]} {ttl_obj}"
                )
                js.append(f", {json_key[number]}: ")
                js.append(js_obj)
                previous = number
            if many:
                js.append("]")
            ttl.append(" .\n")
            js.append("}")
            yield "".join(ttl), "".join(nt), "".join(js)


def chunks(graph: Graph, fmt: str) -> Iterator[str]:
    """One format's fragment of graph (as `fragments` gives it), CHUNK subjects at a time."""
    index = {"turtle": 0, "ntriples": 1, "jsonld": 2}[fmt]
    return (chunk[index] for chunk in all_chunks(graph))


def all_chunks(graph: Graph) -> Iterator[tuple[str, str, str]]:
    """The Turtle, N-Triples and JSON-LD fragments of graph, rendered in one pass, CHUNK subjects at a time."""
    ttl: list[str] = []
    nt: list[str] = []
    js: list[str] = []
    for n, (t, n3, j) in enumerate(Renderer(graph).subjects(graph.sorted_pairs()), 1):
        ttl.append(t)
        nt.append(n3)
        js.append(JSON_SEPARATOR)
        js.append(j)
        if n % CHUNK == 0:
            yield "".join(ttl), "".join(nt), "".join(js)
            ttl.clear()
            nt.clear()
            js.clear()
    yield "".join(ttl), "".join(nt), "".join(js)
