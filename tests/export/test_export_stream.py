"""Linked data rendered per partition and streamed: the same graph as the one in-memory mapping, and the same bytes every way."""

from __future__ import annotations

import copy

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from pipeline.engine import partition
from pipeline.engine.build import build, set_temporal_coverage
from pipeline.write.linked import file_stats
from tests.conftest import ROOT, snapshot
from tests.export.conftest import META, NAMES
from tests.oracles.interpreted_graph import build_graph, to_rdflib


def cache_counts(result) -> dict[str, int]:
    """The partitions a build took from the cache and built (not whether it spliced the last build: test_incremental.py)."""
    return {k: v for k, v in result.partitions.items() if k in ("cached", "built")}


FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld"}


def _split(raw):
    """The mini corpus as two partitions: the entities on their own, the spans in the source's file."""
    ann = raw / "annotations" / "mini-news.yaml"
    head, spans = ann.read_text(encoding="utf-8").split("spans:\n")
    (raw / "annotations" / "entities.yaml").write_text(head.replace("source: mini-news\n", ""), encoding="utf-8")
    ann.write_text("source: mini-news\nspans:\n" + spans, encoding="utf-8")


def _assert_streamed_equals_in_memory(result, dist):
    files = {name: stat for name, stat in file_stats(dist).items() if name not in NAMES.values()}
    meta = copy.deepcopy(META)
    set_temporal_coverage(meta, result.tables)  # as the build does
    reference = to_rdflib(build_graph(result.tables, meta, files, list(NAMES.values())))
    for name, fmt in FORMATS.items():
        assert isomorphic(Graph().parse(dist / NAMES[name], format=fmt), reference), name
    lines = (dist / NAMES["ntriples"]).read_text(encoding="utf-8").splitlines()
    # Raptor counts statements as written: a triple stated by two partitions would count twice.
    assert len(lines) == len(set(lines)) == len(reference)


def test_streamed_files_of_several_partitions_are_the_in_memory_graph(mini_raw, tmp_path):
    _split(mini_raw)
    result = build(mini_raw, tmp_path / "dist")
    assert cache_counts(result) == {"cached": 0, "built": 2}
    _assert_streamed_equals_in_memory(result, tmp_path / "dist")


def test_streamed_files_of_the_real_corpus_are_the_in_memory_graph(tmp_path):
    result = build(ROOT / "raw", tmp_path / "dist")
    _assert_streamed_equals_in_memory(result, tmp_path / "dist")


@pytest.fixture
def every_file_a_worker_task(monkeypatch):
    """Let the process pool start for a handful of files (it normally waits for 64 per worker)."""
    monkeypatch.setattr(partition, "MIN_FILES_PER_WORKER", 1)


def test_serial_parallel_cold_and_cached_builds_write_the_same_bytes(every_file_a_worker_task, tmp_path):
    cache = tmp_path / "cache"
    build(ROOT / "raw", tmp_path / "serial", jobs=1)
    cold = build(ROOT / "raw", tmp_path / "parallel", jobs=2, cache_dir=cache)
    warm = build(ROOT / "raw", tmp_path / "cached", jobs=2, cache_dir=cache)
    serial_cached = build(ROOT / "raw", tmp_path / "serial-cached", jobs=1, cache_dir=cache)
    assert (
        cache_counts(cold)["cached"] == 0 and cache_counts(warm)["built"] == cache_counts(serial_cached)["built"] == 0
    )
    expected = snapshot(tmp_path / "serial")
    for name in ("parallel", "cached", "serial-cached"):
        assert snapshot(tmp_path / name) == expected, name


def test_a_rebuild_renders_only_the_changed_partition_and_equals_a_fresh_build(mini_raw, tmp_path):
    _split(mini_raw)
    cache = tmp_path / "cache"
    build(mini_raw, tmp_path / "a", cache_dir=cache)
    ann = mini_raw / "annotations" / "mini-news.yaml"
    ann.write_text(
        ann.read_text(encoding="utf-8").replace("claimant: the article", "claimant: the revised article"),
        encoding="utf-8",
    )
    result = build(mini_raw, tmp_path / "b", cache_dir=cache)
    assert cache_counts(result) == {"cached": 1, "built": 1}
    assert "the revised article" in (tmp_path / "b" / NAMES["turtle"]).read_text(encoding="utf-8")
    build(mini_raw, tmp_path / "fresh")
    assert snapshot(tmp_path / "b") == snapshot(tmp_path / "fresh")


def test_a_cached_partition_cut_short_is_built_again(mini_raw, tmp_path):
    cache = tmp_path / "cache"
    build(mini_raw, tmp_path / "a", cache_dir=cache)
    entries = [p for p in (cache / "partitions").rglob("*") if p.is_file()]
    assert len(entries) == 1
    entries[0].write_bytes(entries[0].read_bytes()[:-10])  # the end of its JSON-LD fragment lost
    result = build(mini_raw, tmp_path / "b", cache_dir=cache)
    assert cache_counts(result) == {"cached": 0, "built": 1}
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_a_changed_source_language_renders_the_quotes_again(mini_raw, tmp_path):
    cache = tmp_path / "cache"
    build(mini_raw, tmp_path / "a", cache_dir=cache)
    sources = mini_raw / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    assert "language: en" in text
    sources.write_text(text.replace("language: en", "language: de"), encoding="utf-8")
    result = build(mini_raw, tmp_path / "b", cache_dir=cache)
    assert cache_counts(result) == {"cached": 0, "built": 1}
    assert '"@de' in (tmp_path / "b" / NAMES["ntriples"]).read_text(encoding="utf-8")


def test_an_unwritable_cache_only_costs_time(mini_raw, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go\n", encoding="utf-8")
    build(mini_raw, tmp_path / "cached", cache_dir=blocker / "cache")
    build(mini_raw, tmp_path / "fresh")
    assert snapshot(tmp_path / "cached") == snapshot(tmp_path / "fresh")


def test_a_sqlite_cache_missing_its_csv_copies_starts_afresh(mini_raw, tmp_path):
    cache = tmp_path / "cache"
    build(mini_raw, tmp_path / "a", cache_dir=cache)
    ann = mini_raw / "annotations" / "mini-news.yaml"
    ann.write_text(
        ann.read_text(encoding="utf-8").replace("claimant: the article", "claimant: another"), encoding="utf-8"
    )
    for cached in (cache / "sqlite").glob("*.csv"):
        cached.unlink()
    build(mini_raw, tmp_path / "b", cache_dir=cache)
    build(mini_raw, tmp_path / "fresh")
    assert snapshot(tmp_path / "b") == snapshot(tmp_path / "fresh")
