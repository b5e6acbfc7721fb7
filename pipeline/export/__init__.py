"""Linked-data exports: built tables in, Turtle, N-Triples and JSON-LD files (plus the JSON-LD context) out.

`graph.py` maps the rows onto RDF once; `turtle.py`, `ntriples.py` and `jsonld.py` only render
that one graph, so the three files cannot drift apart. `shacl.py` checks a written graph against
`schemas/shapes.ttl` (run by `pipeline validate`).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.metadata import Metadata
from pipeline.tables import Tables


def export_names(meta: Metadata) -> dict[str, str]:
    """The file name of every linked-data export, by format."""
    return {
        "turtle": f"{meta.name}.ttl",
        "ntriples": f"{meta.name}.nt",
        "jsonld": f"{meta.name}.jsonld",
        "context": "context.jsonld",
    }


def write_linked_data(tables: Tables, meta: Metadata, files: dict[str, bytes], out_dir: Path) -> list[str]:
    """Write the three serialisations and the context into out_dir; return the names written.

    `files` are the bytes already written into out_dir (CSVs, datapackage.json): the dataset's
    description lists them as distributions with their size and SHA-256.
    """
    from pipeline.export import jsonld, ntriples, turtle
    from pipeline.export.graph import build_graph

    names = export_names(meta)
    graph = build_graph(tables, meta, files, list(names.values()))
    writers = {names["turtle"]: turtle.write, names["ntriples"]: ntriples.write, names["jsonld"]: jsonld.write}
    for name, write in writers.items():
        with open(out_dir / name, "w", encoding="utf-8", newline="\n") as out:
            write(graph, out)
    (out_dir / names["context"]).write_bytes(jsonld.context_bytes(graph))
    return sorted([*writers, names["context"]])
