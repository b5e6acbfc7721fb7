"""Runs the stages in order: read and anchor, build tables, validate, write CSV, codebook, Parquet, SQLite, RDF.

Input: a raw/ folder and the metadata. Output: a replaced dist/ folder, or `BuildFailed` with
every problem found and dist/ untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.annotations import read_corpus
from pipeline.codebook import CODEBOOK_FILENAME, codebook_markdown
from pipeline.errors import BuildFailed
from pipeline.export import write_linked_data
from pipeline.exports import write_parquet, write_sqlite
from pipeline.metadata import Metadata, load_metadata
from pipeline.package import staged_dist, write_descriptor, write_tables
from pipeline.paths import DATAPACKAGE_PATH
from pipeline.tables import Tables, build_tables
from pipeline.validate import validate_tables


@dataclass
class BuildResult:
    """What a build produced: rows per table and the files written."""

    tables: Tables
    files: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.rows.items()}


def assemble(raw_dir: Path, meta: Metadata) -> Tables:
    """Read, anchor, build and validate; raise BuildFailed listing every problem."""
    corpus = read_corpus(raw_dir, meta)
    tables = build_tables(corpus, meta)
    problems = corpus.problems + tables.problems
    # A place already blamed by an earlier stage is not blamed again for the same mistake.
    blamed = {(p.file, p.line) for p in problems if p.file}
    problems += [p for p in validate_tables(tables, meta, partial=bool(problems)) if (p.file, p.line) not in blamed]
    if problems:
        raise BuildFailed(problems)
    return tables


def build(raw_dir: Path, dist_dir: Path, datapackage: Path = DATAPACKAGE_PATH) -> BuildResult:
    """Build the whole package from raw_dir into dist_dir (atomically)."""
    meta = load_metadata(datapackage)
    tables = assemble(raw_dir, meta)
    with staged_dist(dist_dir) as stage:
        files = write_tables(tables, meta, stage)
        write_descriptor(meta, files, stage)
        (stage / CODEBOOK_FILENAME).write_bytes(codebook_markdown(meta).encode("utf-8"))
        write_parquet(tables, meta, stage)
        write_sqlite(tables, meta, stage)
        # Last: the dataset's description lists every file written before it.
        write_linked_data(tables, meta, stage)
        names = sorted(p.name for p in stage.iterdir())
    return BuildResult(tables=tables, files=names)
