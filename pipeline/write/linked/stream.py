"""Linked data per partition: one partition's rows in, its Turtle, N-Triples and JSON-LD fragments out; fragments in, files out.

A partition's fragment holds only the triples of its own rows, rendered by the row mapping
compiled to code (`compiled.py`), so the partition workers render them in parallel and the
partition cache keeps them.
The final files are the head, every partition's fragment in the order of the partitions, then
the global part (sources, categories, estimates, the dataset's description), streamed from disk.
A subject whose triples come from several partitions gets several Turtle blocks or JSON-LD node
objects; both parse to the same graph as one block would.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from pipeline.metadata import Metadata
from pipeline.rows.tables import Tables

FORMATS = ("turtle", "ntriples", "jsonld")
SUFFIXES = {"turtle": ".ttl", "ntriples": ".nt", "jsonld": ".jsonld"}


class FileSlice(NamedTuple):
    """`length` bytes of the file at `path` from `offset`: a partition's fragment in its cache entry."""

    path: str
    offset: int
    length: int


# A fragment is its UTF-8 bytes, the path of a file holding them, or the slice of a file holding them.
Fragment = bytes | Path | FileSlice


def languages(rows: dict[str, list[dict]], sources) -> dict[str, str]:
    """The language tag of the source of every span in rows (`sources`: id -> Source)."""
    tags = {}
    for r in rows.get("spans", ()):
        sid = r["source_id"]
        if sid not in tags:
            source = sources.get(sid)
            tags[sid] = ((source.row.get("language") if source else None) or "").lower()
    return tags


def render(rows: dict[str, list[dict]], meta: Metadata, language: dict[str, str]) -> dict[str, bytes]:
    """The fragment of each format for the rows of one partition."""
    from pipeline.write.linked.compiled import partition_renderer

    ttl, nt, js = partition_renderer(meta).render(rows, language)
    return {"turtle": ttl.encode("utf-8"), "ntriples": nt.encode("utf-8"), "jsonld": js.encode("utf-8")}


def chunks(fmt: str, graph) -> Iterator[bytes]:
    """The fragment of graph in format fmt, as UTF-8, a chunk of subjects at a time."""
    from pipeline.write.linked import render

    return (chunk.encode("utf-8") for chunk in render.chunks(graph, fmt))


def corpus_key(tables: Tables, meta: Metadata) -> str:
    """Hash of the code, the schemas and every input of `graph.corpus_graph`."""
    from pipeline.fingerprint import environment_key
    from pipeline.write.linked.graph import corpus_inputs

    h = hashlib.sha256(environment_key(meta).encode())
    # Each item's repr and a line feed, hashed in one piece: an update per item took most of the time.
    h.update(("\n".join(map(repr, corpus_inputs(tables))) + "\n").encode("utf-8"))
    return h.hexdigest()


def corpus_fragments(tables: Tables, meta: Metadata, cache_dir: Path | None) -> dict[str, Iterable[Fragment]]:
    """The fragments of `graph.corpus_graph`, by format: from cache_dir if its inputs are unchanged.

    Without cache_dir they are rendered while they are written.
    """
    from pipeline.engine import sealed
    from pipeline.write.linked.graph import corpus_graph

    folder = cache_dir / "linked-data" if cache_dir is not None else None
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = None  # an unwritable cache only costs time
    from pipeline.write.linked import render

    if folder is None:
        # Rendered once for all three formats and held: the corpus-wide part is small.
        parts = zip(*render.all_chunks(corpus_graph(tables, meta)), strict=False)
        return {fmt: [chunk.encode("utf-8") for chunk in chunks] for fmt, chunks in zip(FORMATS, parts, strict=False)}
    key = corpus_key(tables, meta)
    paths = {fmt: folder / (key + SUFFIXES[fmt]) for fmt in FORMATS}
    # Used only while their bytes match their checksums (engine/sealed.py); else rendered again.
    if not all(sealed.intact(p) for p in paths.values()):
        tmps = {fmt: path.with_name(f".{path.name}.{os.getpid()}") for fmt, path in paths.items()}
        with contextlib.ExitStack() as stack:
            outs = [stack.enter_context(open(tmps[fmt], "wb")) for fmt in FORMATS]
            for chunks in render.all_chunks(corpus_graph(tables, meta)):
                for out, chunk in zip(outs, chunks, strict=False):
                    out.write(chunk.encode("utf-8"))
        for fmt, path in paths.items():
            os.replace(tmps[fmt], path)
            sealed.seal(path)
        keep = {*paths.values(), *map(sealed.sidecar, paths.values())}
        for old in folder.iterdir():
            if old not in keep and not old.name.startswith("."):
                old.unlink(missing_ok=True)
    return {fmt: [path] for fmt, path in paths.items()}


def concatenate(path: Path, head: str, parts: Iterable[Fragment], tail: str = "", first_skip: int = 0) -> None:
    """Write head, the fragments in order, then tail; the first non-empty fragment loses first_skip bytes.

    Fragment files are copied by the kernel where it can; at most one is read into memory.
    """
    with open(path, "wb") as out:
        out.write(head.encode("utf-8"))
        append(out, parts, first_skip)
        out.write(tail.encode("utf-8"))


def append(out: BinaryIO, parts: Iterable[Fragment], skip: int = 0) -> int:
    """Write the fragments in order to out; the first non-empty one loses `skip` bytes.

    Returns the bytes still to skip: `skip` if every fragment was empty, else 0.
    """
    for fragment in parts:
        if isinstance(fragment, bytes):
            data = fragment
        else:
            if isinstance(fragment, FileSlice):
                piece = fragment
            else:
                piece = FileSlice(str(fragment), 0, os.stat(fragment).st_size)
            if piece.length == 0:
                continue
            out.flush()
            if _copy_range(piece, out.fileno(), skip):
                skip = 0
                continue
            with open(piece.path, "rb") as fh:
                fh.seek(piece.offset)
                data = fh.read(piece.length)
            if len(data) != piece.length:
                raise OSError(f"{piece.path} is shorter than expected")
        if data:
            out.write(data[skip:] if skip else data)
            skip = 0
    return skip


def copy_files(task: list[dict]) -> list[int]:
    """Each job's head and fragment files into its file, synced to disk; the bytes each still owes to skip.

    Runs in a child process (`background.Child`): it only waits on the kernel, which copies.
    """
    owed = []
    for job in task:
        with open(job["path"], "wb") as out:
            out.write(job["head"].encode("utf-8"))
            owed.append(append(out, (FileSlice(*part) for part in job["parts"]), job["skip"]))
            out.flush()
            os.fsync(out.fileno())
    return owed


def _copy_range(piece: FileSlice, out_fd: int, skip: int) -> bool:
    """Append piece (less its first `skip` bytes) to out_fd in the kernel; False if the kernel cannot."""
    with open(piece.path, "rb") as fh:
        offset, end = piece.offset + skip, piece.offset + piece.length
        try:
            while offset < end:
                n = os.copy_file_range(fh.fileno(), out_fd, end - offset, offset)
                if n == 0:
                    raise OSError(f"{piece.path} is shorter than expected")
                offset += n
        except (OSError, AttributeError):
            if offset != piece.offset + skip:
                raise  # part of it is written: a retry would duplicate it
            return False
    return True
