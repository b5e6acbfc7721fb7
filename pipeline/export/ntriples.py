"""Renders a `Graph` as N-Triples: one line per triple, subjects and their triples in sorted order.

Input: `pipeline.export.graph.Graph`. Output: UTF-8 text with LF line ends, streamed to a file.
`quoted` and `literal` are shared with the Turtle writer, whose literal syntax is the same.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from pipeline.export.graph import DATATYPES, Graph

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# Control characters would make a line unreadable for some parsers: escape them as \uXXXX.
_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f]')
CHUNK = 2000  # subjects per write: few system calls, bounded memory


def _escape(match: re.Match) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"


def quoted(text: str) -> str:
    """A string in double quotes with the escapes both N-Triples and Turtle accept."""
    if _SPECIAL.search(text):
        text = _SPECIAL.sub(_escape, text)
    return '"' + text + '"'


def literal(kind: str, value) -> str:
    """The N-Triples form of a literal value of the given kind (anything but "iri")."""
    if kind == "string":
        return quoted(value)
    if kind == "lang":
        text, lang = value
        return quoted(text) + ("@" + lang if lang else "")
    if kind == "boolean":
        lexical = "true" if value else "false"
    elif kind in ("integer", "nonneg"):
        lexical = str(int(value))
    else:
        lexical = str(value)
    return f"{quoted(lexical)}^^<{DATATYPES[kind]}>"


def chunked(blocks: Iterable[str]) -> Iterator[str]:
    """Rendered subject blocks joined CHUNK at a time (few system calls, bounded memory)."""
    chunk = []
    for n, block in enumerate(blocks, 1):
        chunk.append(block)
        if n % CHUNK == 0:
            yield "".join(chunk)
            chunk.clear()
    yield "".join(chunk)


def stream(blocks: Iterable[str], out: TextIO) -> None:
    """Write rendered subject blocks, CHUNK subjects per write."""
    out.writelines(chunked(blocks))


def to_bytes(write: Callable[[Graph, TextIO], None], graph: Graph) -> bytes:
    """Run a streaming writer into memory and return its UTF-8 bytes."""
    buf = io.StringIO()
    write(graph, buf)
    return buf.getvalue().encode("utf-8")


def _blocks(graph: Graph) -> Iterator[str]:
    for subject, pairs in graph.sorted_nodes():
        head = f"<{subject}> <"
        yield "".join(
            f"{head}{prop.iri}> {f'<{value}>' if prop.kind == 'iri' else literal(prop.kind, value)} .\n" for prop, value in pairs
        )


def blocks(graph: Graph) -> str:
    """Every triple of graph as N-Triples lines: a fragment that may follow other fragments."""
    return "".join(_blocks(graph))


def chunks(graph: Graph) -> Iterator[str]:
    """`blocks(graph)` a chunk of subjects at a time."""
    return chunked(_blocks(graph))


def write(graph: Graph, out: TextIO) -> None:
    stream(_blocks(graph), out)


def serialize(graph: Graph) -> bytes:
    return to_bytes(write, graph)
