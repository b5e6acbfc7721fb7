"""Renders a `Graph` as N-Triples: one line per triple, subjects and their triples in sorted order.

Input: `pipeline.write.linked.graph.Graph`. Output: UTF-8 text with LF line ends. The lines come from
`render.py`, which renders all three formats in one pass.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TextIO

from pipeline.write.linked import render
from pipeline.write.linked.graph import Graph


def to_bytes(write: Callable[[Graph, TextIO], None], graph: Graph) -> bytes:
    """Run a streaming writer into memory and return its UTF-8 bytes."""
    buf = io.StringIO()
    write(graph, buf)
    return buf.getvalue().encode("utf-8")


def write(graph: Graph, out: TextIO) -> None:
    out.writelines(render.chunks(graph, "ntriples"))


def serialize(graph: Graph) -> bytes:
    return to_bytes(write, graph)
