"""The whole corpus read and built in one pass, without partitions, cache or workers: what the build must equal."""

from __future__ import annotations

from pathlib import Path

from pipeline.metadata import Metadata
from pipeline.read.annotations import Corpus, annotation_paths, read_annotation_file, read_sources
from pipeline.rows.tables import Tables, merge_tables, partition_tables


def read_corpus(raw_dir: Path, meta: Metadata) -> Corpus:
    """Read every source and annotation file under raw_dir into one Corpus."""
    corpus = Corpus()
    read_sources(raw_dir, meta, corpus)
    for path in annotation_paths(raw_dir, corpus.problems):
        read_annotation_file(path, raw_dir, meta, corpus)
    return corpus


def build_tables(corpus: Corpus, meta: Metadata) -> Tables:
    """Turn the corpus into rows for every table of the package, as one partition."""
    return merge_tables(corpus, [partition_tables(corpus, meta)], meta)
