"""Stage 4, write the package: tables become CSV files and dist/datapackage.json, swapped in atomically.

Input: validated `Tables` and `Metadata`. Output: a folder with one CSV per table (rows sorted by
primary key, UTF-8, LF) and a self-contained `datapackage.json` (inline schemas, byte counts and
SHA-256 of every file). `staged_dist` writes everything into a temporary sibling folder and only
swaps it in when the block succeeds, so dist/ is always the previous or the new good build.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import ctypes.util
import fcntl
import hashlib
import itertools
import json
import operator
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.metadata import Metadata
from pipeline.rows.tables import Tables

# Tests set this to a folder: the build then creates `paused` there once the staging folder is
# complete and waits for `resume` before swapping it in, so that a test can kill it (or start a
# second build) at exactly that moment. Unset in every real run.
PAUSE_ENV = "PIPELINE_TEST_PAUSE_BEFORE_SWAP"
PAUSE_LIMIT_S = 60.0


def cell_text(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _sort_key(row: dict, pk: list[str]) -> tuple:
    if len(pk) == 1:
        value = row.get(pk[0])
        return ("" if value is None else value,) if value.__class__ is str or value is None else (str(value),)
    return tuple("" if row.get(k) is None else str(row.get(k)) for k in pk)


def _sort_keys(rows: list[dict], pk: list[str]) -> list:
    """`_sort_key` of every row, a column at a time where the key columns hold only text."""
    try:
        columns = [list(map(operator.itemgetter(k), rows)) for k in pk]
    except KeyError:
        columns = None
    if not pk or columns is None or any(set(map(type, column)) != {str} for column in columns if column):
        return [_sort_key(row, pk) for row in rows]
    # Keys of one text column compare as the texts do. Several: joined by NUL, which sorts below
    # every other character, they compare as their tuples do (a prefix first, as in a tuple) and
    # far quicker; unless a value holds a NUL itself (the checks refuse it in published text).
    if len(pk) == 1:
        return columns[0]
    if any("\0" in "".join(column) for column in columns):
        return list(zip(*columns, strict=False))
    return list(map("\0".join, zip(*columns, strict=False)))


def sorted_rows(rows: list[dict], primary_key: list[str]) -> list[dict]:
    """Rows in the order every output format writes them: by primary key."""
    return sorted(rows, key=lambda r: _sort_key(r, primary_key))


# Types csv.writer writes exactly as `cell_text` does (None as "", str as is, int as str(int)).
_WRITTEN_AS_IS = {str, int, type(None)}


def csv_lines(rows: list[dict], columns: list[str]) -> list[str]:
    """Each row as its CSV line (LF-terminated), in the order given."""
    lines: list[str] = []
    if not columns:
        return _csv_lines_per_cell(rows, columns, lines)
    # A column at a time: csv.writer turns None, str and int into the same text as cell_text, so
    # only columns holding anything else (bools: "true", not "True") are mapped through it first.
    getters = [operator.itemgetter(c) for c in columns]
    try:
        cells = [list(map(getter, rows)) for getter in getters]
    except KeyError:
        cells = [[row.get(c) for row in rows] for c in columns]
    for i, column in enumerate(cells):
        if not set(map(type, column)) <= _WRITTEN_AS_IS:
            cells[i] = list(map(cell_text, column))
    csv.writer(_Appender(lines), lineterminator="\n").writerows(zip(*cells, strict=False))
    # csv quotes only the line terminator's characters: a bare CR would end the row for readers.
    # Rows holding one are rare; find them with one scan and write them again, every cell quoted.
    if "\r" in "".join(lines):
        for i, line in enumerate(lines):
            if "\r" in line:
                lines[i] = _csv_lines_per_cell([rows[i]], columns, [])[0]
    return lines


def _csv_lines_per_cell(rows: list[dict], columns: list[str], lines: list[str]) -> list[str]:
    """csv_lines the plain way, a cell at a time (for the rows with a CR and for no columns)."""
    out = _Appender(lines)
    writer = csv.writer(out, lineterminator="\n")
    cr_writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        cells = [cell_text(row.get(c)) for c in columns]
        (cr_writer if any("\r" in c for c in cells) else writer).writerow(cells)
    return lines


class _Appender:
    """A file whose writes land in a list: csv.writer writes each row in one call."""

    def __init__(self, lines: list[str]):
        self.write = lines.append


# Lines of a CSV file joined and encoded at a time by `table_csv`.
_LINES_PER_SLICE = 4096


def table_csv(
    rows: list[dict],
    columns: list[str],
    primary_key: list[str],
    lines: list[str] | None = None,
    index: TableIndex | None = None,
) -> Iterator[bytes]:
    """One table as CSV: header, rows sorted by primary key, LF line ends; its UTF-8 bytes a slice at a time.

    `lines` are the rows already rendered by `csv_lines` (by the partitions), in row order.
    `index`, if given, receives the sorted keys and each line's length in bytes, for the next
    build to splice the file (engine/incremental.py).
    """
    if lines is None or len(lines) != len(rows):
        lines = csv_lines(rows, columns)
    keys = _sort_keys(rows, primary_key)
    head = csv_lines([dict(zip(columns, columns, strict=False))], columns)
    # Partitions come in file order and most tables are in key order already: then the sort
    # (stable) would keep every line where it is, and one pass comparing neighbours says so.
    if any(map(operator.lt, itertools.islice(keys, 1, None), keys)):
        order = sorted(range(len(rows)), key=keys.__getitem__)
        lines = [lines[i] for i in order]
        keys = [keys[i] for i in order]
    head_bytes = "".join(head).encode("utf-8")
    if index is not None:
        index.head = len(head_bytes)
        index.keys = keys
        index.lengths = line_lengths(lines)
    # Slices, not the whole file: one str of a whole table takes four bytes a character as soon
    # as one character lies outside the BMP (an emoji in a quote), four times the file's size.
    yield head_bytes
    for i in range(0, len(lines), _LINES_PER_SLICE):
        yield "".join(lines[i : i + _LINES_PER_SLICE]).encode("utf-8")


@dataclass
class TableIndex:
    """Where each row of a written CSV file is: its sorted keys (`_sort_keys`) and each line's length in bytes after the header's."""

    head: int = 0
    keys: list = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)


def line_lengths(lines: list[str]) -> list[int]:
    """The UTF-8 length of each line: its length in characters unless it holds any beyond ASCII (checked at C speed)."""
    lengths = list(map(len, lines))
    for i in itertools.compress(range(len(lines)), map(operator.not_, map(str.isascii, lines))):
        lengths[i] = len(lines[i].encode("utf-8"))
    return lengths


def json_bytes(data) -> bytes:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8, final newline."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def file_entry(data: bytes) -> dict:
    return {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}


def package_descriptor(meta: Metadata, files: dict[str, dict]) -> dict:
    """The published descriptor: the root metadata with inline schemas and file stats (`file_entry` by file name)."""
    desc = {k: v for k, v in meta.descriptor.items() if k != "resources"}
    desc["resources"] = []
    for res in meta.descriptor["resources"]:
        schema = meta[res["name"]]
        entry = {k: v for k, v in res.items() if k != "schema"}
        entry.update(
            {
                "type": "table",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schema.descriptor,
            }
        )
        entry.update(files[res["path"]])
        desc["resources"].append(entry)
    return desc


def write_tables(
    tables: Tables, meta: Metadata, out_dir: Path, indexes: dict[str, TableIndex] | None = None
) -> dict[str, dict]:
    """Write every table's CSV into out_dir; return the `file_entry` of each (size and hash) by file name.

    `indexes`, if given, receives each table's `TableIndex` by table name.
    """
    files = {}
    for name, schema in meta.tables.items():
        digest, size = hashlib.sha256(), 0
        index = None
        if indexes is not None:
            index = indexes[name] = TableIndex()
        with open(out_dir / schema.path, "wb") as fh:
            for data in table_csv(
                tables.rows.get(name, []), schema.field_names, schema.primary_key, tables.lines.get(name), index
            ):
                fh.write(data)
                digest.update(data)
                size += len(data)
        files[schema.path] = {"bytes": size, "hash": "sha256:" + digest.hexdigest()}
    return files


def write_descriptor(meta: Metadata, files: dict[str, dict], out_dir: Path) -> dict[str, str]:
    """Write datapackage.json from each table file's `file_entry`; return the SHA-256 of every one, by file name."""
    descriptor = package_descriptor(meta, files)
    (out_dir / "datapackage.json").write_bytes(json_bytes(descriptor))
    return {res["path"]: res["hash"].removeprefix("sha256:") for res in descriptor["resources"]}


# ---- atomic replacement of the dist folder ---------------------------------------------------

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories with renameat2(RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _recover(dist_dir: Path) -> None:
    """Clean up after a build killed half-way: put the previous build back if dist/ is gone,
    then remove leftover staging and old folders. Runs under the lock."""
    olds = sorted(dist_dir.parent.glob(f".{dist_dir.name}.old-*"), key=lambda p: p.stat().st_mtime_ns)
    if not dist_dir.exists() and olds:
        os.rename(olds.pop(), dist_dir)
    for stale in [*olds, *dist_dir.parent.glob(f".{dist_dir.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _pause_for_tests() -> None:
    folder = os.environ.get(PAUSE_ENV)
    if not folder:
        return
    Path(folder, "paused").touch()
    deadline = time.monotonic() + PAUSE_LIMIT_S
    while not Path(folder, "resume").exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _swap_in(new: Path, dist_dir: Path) -> None:
    if dist_dir.exists() and _exchange(new, dist_dir):
        shutil.rmtree(new, ignore_errors=True)
        return
    old = None
    if dist_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dist_dir.name}.old-", dir=dist_dir.parent))
        os.rmdir(old)
        os.rename(dist_dir, old)
    os.rename(new, dist_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_dist(dist_dir: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces dist_dir, on failure it vanishes.

    A lock file next to dist_dir makes concurrent builds take turns instead of mixing files.
    """
    dist_dir = dist_dir.absolute()
    parent = dist_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        lock = open(parent / f".{dist_dir.name}.lock", "w")  # noqa: SIM115 (entered just below, after the error check)
    except OSError as exc:
        raise PipelineError(f"cannot write next to {dist_dir}: {exc.strerror}") from exc
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _recover(dist_dir)
        stage = Path(tempfile.mkdtemp(prefix=f".{dist_dir.name}.tmp-", dir=parent))
        try:
            yield stage
            for path in stage.rglob("*"):
                if path.is_file():
                    with open(path, "rb") as fh:
                        os.fsync(fh.fileno())
            os.chmod(stage, 0o755)
            _pause_for_tests()
            _swap_in(stage, dist_dir)
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
