"""Renders a `Graph` as N-Triples: one line per triple, subjects and their triples in sorted order.

Input: `pipeline.export.graph.Graph`. Output: UTF-8 text with LF line ends, streamed to a file.
`quoted` and `literal` are shared with the Turtle writer, whose literal syntax is the same.
"""

from __future__ import annotations

import io
import re
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


def write(graph: Graph, out: TextIO) -> None:
    chunk = []
    for n, (subject, pairs) in enumerate(graph.sorted_nodes(), 1):
        head = f"<{subject}> <"
        for prop, value in pairs:
            obj = f"<{value}>" if prop.kind == "iri" else literal(prop.kind, value)
            chunk.append(f"{head}{prop.iri}> {obj} .\n")
        if n % CHUNK == 0:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk))


def serialize(graph: Graph) -> bytes:
    buf = io.StringIO()
    write(graph, buf)
    return buf.getvalue().encode("utf-8")
