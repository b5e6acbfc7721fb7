"""Linked-data exports: built tables in, Turtle, N-Triples and JSON-LD files (plus the JSON-LD context) out.

`graph.py` maps the rows onto RDF once; `turtle.py`, `ntriples.py` and `jsonld.py` only render
that mapping, so the three files cannot drift apart. `stream.py` renders it per partition (in the
partition workers, cached with the partitions) and joins the fragments into the files. `shacl.py` checks a written graph against
`schemas/shapes.ttl` (run by `pipeline validate`).
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.metadata import Metadata
from pipeline.tables import Tables

if TYPE_CHECKING:
    from pipeline.export.stream import Fragment


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


def write_linked_data(
    tables: Tables, meta: Metadata, out_dir: Path, fragments: list[dict[str, Fragment]] | None = None,
    cache_dir: Path | None = None,
) -> list[str]:
    """Write the three serialisations and the context into out_dir; return the names written.

    Each file is: every partition's fragment (`stream.render`; `fragments` holds them by format,
    in partition order; without it, the partition tables of `tables` are rendered here as one),
    then what needs the whole corpus (`graph.corpus_graph`, kept in cache_dir while its inputs
    stay the same), then the dataset's description. That lists every file already in out_dir as
    a distribution with its size and SHA-256, and the exports themselves (which cannot carry
    their own hash).
    """
    from pipeline.export import jsonld, stream, turtle
    from pipeline.export.graph import GLOBAL_TABLES, description_graph

    if fragments is None:
        rows = {name: r for name, r in tables.rows.items() if name not in GLOBAL_TABLES}
        language = {r["source_id"]: (r.get("language") or "").lower() for r in tables.rows.get("sources", [])}
        fragments = [stream.render(rows, meta, language)]
    names = export_names(meta)
    corpus = stream.corpus_fragments(tables, meta, cache_dir)
    described = description_graph(meta, file_stats(out_dir), list(names.values()))
    files = {
        "turtle": (turtle.head(described), "", 0),
        "ntriples": ("", "", 0),
        "jsonld": (jsonld.head(described), jsonld.TAIL, 1),
    }
    for fmt, (head, tail, skip) in files.items():
        parts = chain((f[fmt] for f in fragments), corpus[fmt], stream.chunks(fmt, described))
        stream.concatenate(out_dir / names[fmt], head, parts, tail, skip)
    (out_dir / names["context"]).write_bytes(jsonld.context_bytes(described))
    return sorted(names.values())
