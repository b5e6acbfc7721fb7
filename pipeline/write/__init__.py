"""Stage 4: writers, one per output format, behind one small interface.

The whole-file writers (codebook, per-event JSON-LD, GeoJSON) are each a `FileWriter`:
a file name and a function from the validated tables to the file's bytes; the build writes them
in `FILE_WRITERS` order into the staged folder. The tables' CSV files and descriptor come first
(`package.py`), and the writers that overlap with the checks or run beside the rest because they
are large (Parquet and SQLite in `exports.py`, the linked data in `linked/`) have their own
start/finish steps in the build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.metadata import Metadata
from pipeline.rows.tables import Tables


@dataclass(frozen=True)
class Output:
    """What a writer gets: the validated tables, the metadata and the staged build folder (CSV files already in it)."""

    tables: Tables
    meta: Metadata
    stage: Path


@dataclass(frozen=True)
class FileWriter:
    """One output file: its name for a dataset, its bytes, and whether the dataset's description lists its size and hash.

    The release adds the Excel workbook (write/workbook.py) beside these: it is for spreadsheet
    users of a release, costs a large build much time and memory, and holds at most Excel's rows.
    """

    name: Callable[[Metadata], str]
    render: Callable[[Output], bytes]
    hashed: bool = True


def _codebook() -> FileWriter:
    from pipeline.write.codebook import CODEBOOK_FILENAME, codebook_markdown

    return FileWriter(lambda meta: CODEBOOK_FILENAME, lambda out: codebook_markdown(out.meta).encode("utf-8"))


def _per_event() -> FileWriter:
    from pipeline.write.linked.per_event import per_event_bytes, per_event_filename

    return FileWriter(per_event_filename, lambda out: per_event_bytes(out.tables, out.meta))


def _geojson() -> FileWriter:
    from pipeline.write.geojson import GEOJSON_FILENAME, geojson_bytes

    return FileWriter(lambda meta: GEOJSON_FILENAME, lambda out: geojson_bytes(out.tables))


def file_writers() -> tuple[FileWriter, ...]:
    """The whole-file writers, in the order the build runs them."""
    return (_per_event(), _codebook(), _geojson())
