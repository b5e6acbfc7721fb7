"""Renders a `Graph` as Turtle: `@base` and prefixes, then one block per subject, all sorted.

Input: `pipeline.write.linked.graph.Graph`. Output: UTF-8 text with LF line ends. IRIs under the base
IRI are written relative to it (`<event/novocherkassk-1962>`), known vocabularies with their
prefix. The subject blocks come from `render.py`, which renders all three formats in one pass.
"""

from __future__ import annotations

from typing import TextIO

from pipeline.write.linked import render
from pipeline.write.linked.graph import Graph
from pipeline.write.linked.ntriples import to_bytes


def head(graph: Graph) -> str:
    """`@base` and the prefixes: what every subject block relies on."""
    lines = [f"@base <{graph.base}> .\n"]
    lines += [f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(graph.prefixes.items())]
    return "".join(lines)


def write(graph: Graph, out: TextIO) -> None:
    out.write(head(graph))
    out.writelines(render.chunks(graph, "turtle"))


def serialize(graph: Graph) -> bytes:
    return to_bytes(write, graph)
