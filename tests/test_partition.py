"""Per-file partitions: same rows as one pass over the corpus, cached by content, rebuilt on change."""

from __future__ import annotations

import hashlib
import io

from pipeline.engine.build import build
from pipeline.engine.progress import Progress
from pipeline.metadata import load_metadata
from tests.conftest import ROOT, snapshot
from tests.oracles.one_pass import build_tables, read_corpus


def cache_counts(result) -> dict[str, int]:
    """The partitions a build took from the cache and built (not whether it spliced the last build: test_incremental.py)."""
    return {k: v for k, v in result.partitions.items() if k in ("cached", "built")}


META = load_metadata(ROOT / "datapackage.json")


def test_partitions_give_the_rows_of_one_pass(tmp_path):
    one_pass = build_tables(read_corpus(ROOT / "raw", META), META)
    result = build(ROOT / "raw", tmp_path / "dist", jobs=1)
    for name in META.tables:
        assert result.tables.rows[name] == one_pass.rows[name], name


def test_parallel_cached_and_serial_builds_write_the_same_bytes(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "serial", jobs=1)
    build(mini_raw, tmp_path / "parallel", jobs=2, cache_dir=tmp_path / "cache")
    again = build(mini_raw, tmp_path / "cached", cache_dir=tmp_path / "cache")
    assert cache_counts(again) == {"cached": 1, "built": 0}
    assert snapshot(tmp_path / "serial") == snapshot(tmp_path / "parallel") == snapshot(tmp_path / "cached")


def test_a_changed_file_is_built_again_and_the_others_are_reused(mini_raw, tmp_path):
    # Two files: the entities on their own, the spans in the source's file.
    ann = mini_raw / "annotations" / "mini-news.yaml"
    head, spans = ann.read_text(encoding="utf-8").split("spans:\n")
    (mini_raw / "annotations" / "entities.yaml").write_text(head.replace("source: mini-news\n", ""), encoding="utf-8")
    ann.write_text("source: mini-news\nspans:\n" + spans, encoding="utf-8")
    cache = tmp_path / "cache"
    assert cache_counts(build(mini_raw, tmp_path / "a", cache_dir=cache)) == {"cached": 0, "built": 2}
    ann.write_text(
        ann.read_text(encoding="utf-8").replace("claimant: the article", "claimant: the revised article"),
        encoding="utf-8",
    )
    result = build(mini_raw, tmp_path / "b", cache_dir=cache)
    assert cache_counts(result) == {"cached": 1, "built": 1}
    assert "the revised article" in (tmp_path / "b" / "casualties.csv").read_text(encoding="utf-8")


def test_a_cached_file_is_built_again_when_its_source_text_changes(mini_raw, tmp_path):
    cache = tmp_path / "cache"
    build(mini_raw, tmp_path / "a", cache_dir=cache)
    text = mini_raw / "texts" / "mini-news.txt"
    sources = mini_raw / "sources.yaml"

    new = text.read_bytes() + "Postscript – „Ende“.\n".encode()
    old_hash = hashlib.sha256(text.read_bytes()).hexdigest()
    text.write_bytes(new)
    sources.write_text(
        sources.read_text(encoding="utf-8").replace(old_hash, hashlib.sha256(new).hexdigest()), encoding="utf-8"
    )
    result = build(mini_raw, tmp_path / "b", cache_dir=cache)
    assert cache_counts(result) == {"cached": 0, "built": 1}
    build(mini_raw, tmp_path / "fresh")
    assert snapshot(tmp_path / "b") == snapshot(tmp_path / "fresh")


def test_build_reports_its_stage_timings(mini_raw, tmp_path):
    result = build(mini_raw, tmp_path / "dist")
    assert {
        "read sources",
        "validate keys",
        "write CSV, descriptor, codebook",
        "export RDF: description",
        "total",
    } <= set(result.timings)
    assert all(seconds >= 0 for seconds in result.timings.values())


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_shows_on_a_terminal_only(mini_raw, tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    tty, pipe = _Tty(), io.StringIO()
    build(mini_raw, tmp_path / "a", progress=Progress(tty))
    build(mini_raw, tmp_path / "b", progress=Progress(pipe))
    assert "reading annotations 1/1" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_progress_stays_quiet_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert not Progress(_Tty()).enabled


def test_the_sources_views_record_every_lookup_and_copy_nothing():
    from pipeline.engine.partition import _Recorded, _RecordedSet

    sources, broken, seen = {"a": 1, "b": 2}, {"x"}, set()
    view, broken_view = _Recorded(sources, seen), _RecordedSet(broken, seen)
    assert view.get("a") == 1 and view["b"] == 2 and "c" not in view and view.get("d") is None
    assert "x" in broken_view and "y" not in broken_view
    assert seen == {"a", "b", "c", "d", "x", "y"}
    sources["e"] = 5  # a view, not a copy
    assert sorted(view) == ["a", "b", "e"] and len(view) == 3 and len(broken_view) == 1


def _mini_partition(mini_raw, entry):
    from pipeline.engine.partition import build_partition
    from pipeline.read.annotations import Corpus, read_sources

    corpus = Corpus()
    read_sources(mini_raw, META, corpus)
    path = mini_raw / "annotations" / "mini-news.yaml"
    return build_partition(path, mini_raw, META, corpus.sources, corpus.broken_sources, fragments=entry)


def test_an_entry_file_holds_the_partition_and_its_fragments(mini_raw, tmp_path):
    from pipeline.engine.partition import read_entry
    from pipeline.write.linked import stream

    part = _mini_partition(mini_raw, tmp_path / "entry")
    assert set(part.fragments) == set(stream.FORMATS) and part.rendered is None
    again = read_entry(tmp_path / "entry")
    assert again.tables.rows == part.tables.rows and again.fragments == part.fragments
    with open(tmp_path / "out", "wb") as out:
        stream.append(out, [part.fragments["jsonld"]], skip=1)
    rendered = stream.render(part.tables.rows, META, stream.languages(part.tables.rows, _sources(mini_raw)))
    assert (tmp_path / "out").read_bytes() == rendered["jsonld"][1:]


def _sources(mini_raw):
    from pipeline.read.annotations import Corpus, read_sources

    corpus = Corpus()
    read_sources(mini_raw, META, corpus)
    return corpus.sources


def test_an_entry_file_cut_short_or_not_ours_is_not_read(mini_raw, tmp_path):
    from pipeline.engine.partition import read_entry

    _mini_partition(mini_raw, tmp_path / "entry")
    data = (tmp_path / "entry").read_bytes()
    (tmp_path / "entry").write_bytes(data[:-1])
    assert read_entry(tmp_path / "entry") is None
    (tmp_path / "entry").write_bytes(b"not an entry file at all")
    assert read_entry(tmp_path / "entry") is None
    assert read_entry(tmp_path / "missing") is None


def test_the_cache_deletes_entries_no_build_used_for_an_hour(mini_raw, tmp_path):
    import os
    import time

    cache = tmp_path / "cache"
    build(mini_raw, tmp_path / "a", cache_dir=cache)
    (first,) = [p for p in (cache / "partitions").rglob("*") if p.is_file()]
    ann = mini_raw / "annotations" / "mini-news.yaml"
    ann.write_text(ann.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    build(mini_raw, tmp_path / "b", cache_dir=cache)
    assert first.is_file()  # touched a moment ago: maybe in use by another build sharing the cache
    hour_ago = time.time() - 3700
    os.utime(first, (hour_ago, hour_ago))
    crashed = first.with_name(".left-by-a-killed-build.123")
    crashed.write_bytes(b"half an entry")
    os.utime(crashed, (hour_ago, hour_ago))
    writing = first.with_name(".being-written.456")
    writing.write_bytes(b"another build's entry")
    build(mini_raw, tmp_path / "c", cache_dir=cache)
    left = sorted(p.name for p in (cache / "partitions").rglob("*") if p.is_file())
    assert first.name not in left and crashed.name not in left and writing.name in left
    assert len(left) == 2  # the edited file's entry and the one being written


def test_a_flipped_byte_in_the_rows_or_the_fragments_makes_the_entry_unreadable(mini_raw, tmp_path):
    import pytest

    from pipeline.engine import entryfile
    from pipeline.engine.partition import read_entry, read_rows

    entry = tmp_path / "entry"
    _mini_partition(mini_raw, entry)
    data = entry.read_bytes()
    _, offset, _ = entryfile.read_sealed(str(entry), None)

    def flipped(at: int) -> bytes:
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]

    for at in (entryfile.HEADER_SIZE + 10, offset + 10):  # in the JSON, in the fragments
        entry.write_bytes(flipped(at))
        assert read_entry(entry) is None
    # The rows alone are read without their fragments, but never from changed JSON.
    assert read_rows(str(entry))["spans"][1]
    entry.write_bytes(flipped(entryfile.HEADER_SIZE + 10))
    with pytest.raises(entryfile.EntryError):
        read_rows(str(entry))


def test_an_entry_of_the_previous_format_is_not_read(mini_raw, tmp_path):
    from pipeline.engine.partition import read_entry

    entry = tmp_path / "entry"
    _mini_partition(mini_raw, entry)
    entry.write_bytes(b"pipeline-partition/2 " + entry.read_bytes()[len(b"pipeline-partition/3 ") :])
    assert read_entry(entry) is None


def test_sealed_rows_that_do_not_fit_their_columns_are_not_read(tmp_path):
    from pipeline.engine import entryfile
    from pipeline.engine.partition import read_entry

    # A planted entry seals whatever it holds: its shape is checked as well as its checksum.
    fields = {"display": "x", "depends": {}, "fragment_sizes": {}, "lines": {}, "filled": {}}
    entry = tmp_path / "entry"
    for rows in (
        [["a", "b"], [[1]]],  # a value short
        [["a", "a"], [[1, 2]]],  # a column twice
        [["a"], [{"a": 1}]],  # a row that is not a list
        [[1], [[1]]],  # a column name that is not a string
        [{"a": 1}],  # rows as objects
    ):
        entryfile.write_sealed(str(entry), None, entryfile.encode({**fields, "rows": {"spans": rows}}), [])
        assert read_entry(entry) is None, rows
    entryfile.write_sealed(
        str(entry), None, entryfile.encode({**fields, "rows": {"spans": [["a", "b"], [[1, None]]]}}), []
    )
    assert read_entry(entry).tables.rows == {"spans": [{"a": 1, "b": None}]}


def test_rows_are_stored_by_column_only_if_they_share_their_columns_in_order():
    import pytest

    from pipeline.engine.partition import _columns

    assert _columns([{"a": 1, "b": 2}, {"a": 3, "b": "x"}]) == [["a", "b"], [[1, 2], [3, "x"]]]
    assert _columns([]) == [[], []]
    for rows in ([{"a": 1, "b": 2}, {"b": 4, "a": 3}], [{"a": 1}, {"a": 1, "b": 2}]):
        with pytest.raises(TypeError):
            _columns(rows)


def test_the_cache_reads_entries_ahead_in_a_thread_that_ends_with_the_lookup(mini_raw, tmp_path):
    import threading

    from pipeline.engine.partition import PartitionCache
    from pipeline.read.annotations import annotation_paths, display_path

    cache_dir = tmp_path / "cache"
    build(mini_raw, tmp_path / "a", cache_dir=cache_dir)
    paths = annotation_paths(mini_raw, [])
    cache = PartitionCache(cache_dir, "other code")  # other keys: nothing stored for them
    found = list(cache.lookup(paths, mini_raw))
    assert found == [(cache.key(p, display_path(p, mini_raw)), None) for p in paths]
    assert not any(t.name.startswith("cache-read") for t in threading.enumerate())
