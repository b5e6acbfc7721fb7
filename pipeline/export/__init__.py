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


def file_stats(folder: Path) -> dict[str, tuple[int, str]]:
    """(size, SHA-256) of every file in folder, by name, read in blocks."""
    import hashlib

    stats = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        stats[path.name] = (path.stat().st_size, digest.hexdigest())
    return stats


def write_linked_data(tables: Tables, meta: Metadata, out_dir: Path) -> list[str]:
    """Write the three serialisations and the context into out_dir; return the names written.

    The dataset's description lists every file already in out_dir as a distribution with its
    size and SHA-256, and the exports themselves (which cannot carry their own hash).
    """
    from pipeline.export import jsonld, ntriples, turtle
    from pipeline.export.graph import build_graph

    names = export_names(meta)
    graph = build_graph(tables, meta, file_stats(out_dir), list(names.values()))
    writers = {names["turtle"]: turtle.write, names["ntriples"]: ntriples.write, names["jsonld"]: jsonld.write}
    for name, write in writers.items():
        with open(out_dir / name, "w", encoding="utf-8", newline="\n") as out:
            write(graph, out)
    (out_dir / names["context"]).write_bytes(jsonld.context_bytes(graph))
    return sorted([*writers, names["context"]])
