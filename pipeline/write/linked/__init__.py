"""Linked-data exports: built tables in, Turtle, N-Triples and JSON-LD files (plus the JSON-LD context) out.

`graph.py` declares the mapping of rows onto RDF once. `compiled.py` turns that declaration into
per-table renderers that the partition workers run (`stream.render`, cached with the
partitions); `render.py` renders whole graphs (the corpus-wide part, the dataset's description)
in all three formats; `turtle.py`, `ntriples.py` and `jsonld.py` add each format's head, so the
three files cannot drift apart. `LinkedData` joins the fragments into the files. `shacl.py`
checks a written graph against `schemas/shapes.ttl` (run by `pipeline validate`)."""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pipeline.metadata import Metadata
from pipeline.rows.tables import Tables

if TYPE_CHECKING:
    from pipeline.write.linked.stream import FileSlice, Fragment


def export_names(meta: Metadata) -> dict[str, str]:
    """The file name of every linked-data export, by format."""
    return {
        "turtle": f"{meta.name}.ttl",
        "ntriples": f"{meta.name}.nt",
        "jsonld": f"{meta.name}.jsonld",
        "context": "context.jsonld",
    }


def file_stats(
    folder: Path, known: dict[str, tuple[int, str]] | None = None, skip: frozenset[str] = frozenset()
) -> dict[str, tuple[int, str]]:
    """(size, SHA-256) of every file in folder but those in skip, by name, read in blocks.

    Files in `known` (name -> (size, SHA-256), e.g. the tables hashed for the descriptor) are
    taken from there instead of read again.
    """
    import hashlib

    known = known or {}
    stats = {}
    for path in sorted(p for p in folder.iterdir() if p.name not in skip and p.is_file()):
        if path.name in known:
            stats[path.name] = known[path.name]
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        stats[path.name] = (path.stat().st_size, digest.hexdigest())
    return stats


class LinkedData:
    """The linked-data files of one build, written in steps so that the copying overlaps the build's other work.

    Creating it starts copying the head and every partition's fragment into each file, in a
    child process when the fragments are files (`stream.copy_files`). `add_corpus` appends what
    needs the whole corpus; `finish` appends the dataset's description, which lists every other
    file of out_dir, so it comes last. Leaving the block before `finish` stops the copying.
    """

    def __init__(self, meta: Metadata, out_dir: Path, fragments: list[dict[str, Fragment]]):
        from pipeline.engine.background import Child
        from pipeline.write.linked.graph import description_graph

        self.meta, self.out_dir, self.fragments = meta, out_dir, fragments
        self.names = export_names(meta)
        self.paths = {fmt: out_dir / self.names[fmt] for fmt in _layout()}
        # The heads hold the base IRI, the prefixes and the properties: no file's size or hash,
        # so a description without files gives the same (`finish` checks that it did).
        self.heads = _heads(description_graph(meta, {}, list(self.names.values())))
        self.owed: dict[str, int] | None = None
        # Where each file's corpus-wide part starts and ends (`add_corpus`), for `layout`.
        self.corpus_at: dict[str, tuple[int, int]] = {}
        self.rewritten = False
        self.corpus: tuple | None = None
        self.child = None
        # A partition with problems has no fragments: the build is about to fail, copy nothing.
        from pipeline.write.linked.stream import FileSlice

        # Typed as slices of cache entries, which the test below makes sure they all are (a child
        # process then copies them).
        slices = cast("list[dict[str, FileSlice]]", fragments)
        if all(isinstance(part.get(fmt), FileSlice) for part in fragments for fmt in _layout()) and _worth_a_child(
            slices
        ):
            task = [
                {
                    "path": str(self.paths[fmt]),
                    "head": self.heads[fmt],
                    "parts": [list(part[fmt]) for part in slices],
                    "skip": skip,
                }
                for fmt, (_, skip) in _layout().items()
            ]
            self.child = Child("pipeline.write.linked.stream:copy_files", task)

    def __enter__(self) -> LinkedData:
        return self

    def __exit__(self, *exc) -> None:
        if self.child is not None:
            self.child.kill()

    def _partitions(self) -> dict[str, int]:
        """Wait for (or write) the heads and the partitions' fragments; the bytes each file still owes to skip."""
        from pipeline.write.linked import stream

        if self.owed is None:
            if self.child is not None:
                self.owed = dict(zip(_layout(), self.child.result(), strict=False))
            else:
                self.owed = {}
                for fmt, (_, skip) in _layout().items():
                    with open(self.paths[fmt], "wb") as out:
                        out.write(self.heads[fmt].encode("utf-8"))
                        self.owed[fmt] = stream.append(out, (part[fmt] for part in self.fragments), skip)
        return self.owed

    def add_corpus(self, tables: Tables, cache_dir: Path | None) -> None:
        """Append what needs the whole corpus (`graph.corpus_graph`, kept in cache_dir while its inputs stay the same)."""
        from pipeline.write.linked import stream

        self.corpus = (tables, cache_dir)
        parts = stream.corpus_fragments(tables, self.meta, cache_dir)
        owed = self._partitions()
        for fmt in _layout():
            with open(self.paths[fmt], "ab") as out:
                start = out.tell()
                owed[fmt] = stream.append(out, parts[fmt], owed[fmt])
                self.corpus_at[fmt] = (start, out.tell())

    def finish(self, known: dict[str, tuple[int, str]] | None = None) -> list[str]:
        """Append the dataset's description and the tails, write the context; return the names written."""
        from pipeline.write.linked import jsonld, stream
        from pipeline.write.linked.graph import description_graph

        if self.corpus is None:
            raise RuntimeError("LinkedData.finish before add_corpus")
        exports = list(self.names.values())
        described = description_graph(self.meta, file_stats(self.out_dir, known, frozenset(exports)), exports)
        heads = _heads(described)
        if heads != self.heads:
            # The heads came to depend on the files described: write each file again in one go.
            tables, cache_dir = self.corpus
            self.rewritten = True
            corpus = stream.corpus_fragments(tables, self.meta, cache_dir)
            for fmt, (tail, skip) in _layout().items():
                parts = chain((part[fmt] for part in self.fragments), corpus[fmt], stream.chunks(fmt, described))
                stream.concatenate(self.paths[fmt], heads[fmt], parts, tail, skip)
        else:
            owed = self._partitions()
            for fmt, (tail, _) in _layout().items():
                with open(self.paths[fmt], "ab") as out:
                    stream.append(out, stream.chunks(fmt, described), owed[fmt])
                    out.write(tail.encode("utf-8"))
        (self.out_dir / self.names["context"]).write_bytes(jsonld.context_bytes(described))
        return sorted(exports)

    def layout(self) -> dict[str, dict] | None:
        """Per format, where each partition's fragment and the corpus-wide part lie in the finished file; None if unknown.

        The next build copies these ranges of the files instead of the fragments (engine/incremental.py).
        """
        if self.rewritten or set(self.corpus_at) != set(_layout()):
            return None
        out = {}
        for fmt, (_, skip) in _layout().items():
            at, parts = len(self.heads[fmt].encode("utf-8")), []
            for part in self.fragments:
                length = fragment_length(part[fmt])
                if length and skip:
                    length, skip = length - skip, 0
                parts.append((at, length))
                at += length
            start, end = self.corpus_at[fmt]
            if at != start:
                return None
            out[fmt] = {"parts": parts, "corpus": (start, end)}
        return out


def fragment_length(fragment) -> int:
    """The bytes of one fragment (its bytes, a file, or a slice of one)."""
    import os

    from pipeline.write.linked.stream import FileSlice

    if isinstance(fragment, FileSlice):
        return fragment.length
    if isinstance(fragment, bytes):
        return len(fragment)
    return os.stat(fragment).st_size


def _worth_a_child(fragments: list[dict[str, FileSlice]]) -> bool:
    """Whether the fragments are big enough for copying them in a child process to pay."""
    from pipeline.engine import background

    return sum(piece.length for part in fragments for piece in part.values()) >= background.MIN_BYTES


def _layout() -> dict[str, tuple[str, int]]:
    """Per format: the file's tail and the bytes its first fragment drops (the JSON-LD separator's comma)."""
    from pipeline.write.linked import jsonld

    return {"turtle": ("", 0), "ntriples": ("", 0), "jsonld": (jsonld.TAIL, 1)}


def _heads(graph) -> dict[str, str]:
    from pipeline.write.linked import jsonld, turtle

    return {"turtle": turtle.head(graph), "ntriples": "", "jsonld": jsonld.head(graph)}
