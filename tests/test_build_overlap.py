"""The exports that overlap the build (linked data copied and SQLite filled in child processes): same bytes, failures fail the build."""

from __future__ import annotations

import sqlite3

import pytest

from pipeline.engine import background
from pipeline.engine.build import build
from pipeline.errors import PipelineError
from pipeline.metadata import load_metadata
from pipeline.write import exports
from pipeline.write import linked as linked_data
from tests.conftest import ROOT, snapshot


@pytest.fixture(autouse=True)
def children_even_for_small_builds(monkeypatch):
    """The fixtures are small: without this, every step would run in the build's own process."""
    monkeypatch.setattr(background, "MIN_ROWS", 0)
    monkeypatch.setattr(background, "MIN_BYTES", 0)


def test_a_small_build_starts_no_child_and_writes_the_same_files(mini_raw, tmp_path, monkeypatch):
    build(mini_raw, tmp_path / "children")
    monkeypatch.setattr(background, "MIN_ROWS", 10**9)
    monkeypatch.setattr(background, "MIN_BYTES", 10**12)

    def refuse(*args, **kwargs):
        raise AssertionError("a child process was started for a small build")

    monkeypatch.setattr(background, "Child", refuse)
    build(mini_raw, tmp_path / "in-process")
    assert snapshot(tmp_path / "in-process") == snapshot(tmp_path / "children")


def _rows(db) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: con.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}
    finally:
        con.close()


def test_database_filled_in_the_child_holds_the_rows_bound_in_process(mini_raw, tmp_path):
    result = build(mini_raw, tmp_path / "dist")
    meta = load_metadata(ROOT / "datapackage.json")
    reference = sqlite3.connect(":memory:")
    for name, schema in meta.tables.items():
        reference.execute(exports.create_table_sql(schema))
        reference.executemany(
            exports._insert_sql(schema), exports._values(result.tables.rows[name], schema.field_names)
        )
    for statement in exports.sqlite_extras_sql(meta):  # the views and the search index
        reference.execute(statement)
    reference.commit()
    reference.execute("VACUUM INTO ?", (str(tmp_path / "reference.sqlite"),))
    reference.close()
    assert _rows(tmp_path / "dist" / exports.sqlite_filename(meta)) == _rows(tmp_path / "reference.sqlite")


def test_heads_that_depend_on_the_files_described_are_rewritten_the_slow_way(mini_raw, tmp_path, monkeypatch):
    build(mini_raw, tmp_path / "normal")
    real, calls = linked_data._heads, []

    def stale_first(graph):
        heads = real(graph)
        calls.append(1)
        return {**heads, "turtle": "# stale\n" + heads["turtle"]} if len(calls) == 1 else heads

    monkeypatch.setattr(linked_data, "_heads", stale_first)
    build(mini_raw, tmp_path / "rewritten")
    assert len(calls) == 2
    assert snapshot(tmp_path / "rewritten") == snapshot(tmp_path / "normal")


def test_a_failing_child_fails_the_build_and_leaves_dist_untouched(mini_raw, tmp_path, monkeypatch):
    build(mini_raw, tmp_path / "dist")
    before = snapshot(tmp_path / "dist")
    monkeypatch.setattr(exports, "SQLITE_PAGE_SIZE", "not a number")  # the child's int() fails
    with pytest.raises(PipelineError, match="fill_database failed in its child process: ValueError"):
        build(mini_raw, tmp_path / "dist")
    assert snapshot(tmp_path / "dist") == before
    assert not any(p.name.startswith(".dist.tmp") for p in tmp_path.iterdir())


def test_child_returns_the_result_or_raises_its_error():
    assert background.Child("json:loads", '{"a": [1, 2]}').result() == {"a": [1, 2]}
    with pytest.raises(PipelineError, match="JSONDecodeError"):
        background.Child("json:loads", "not json").result()


def test_a_fresh_database_checks_its_foreign_keys_once_all_rows_are_in(mini_raw, tmp_path):
    """The child inserts without enforcing keys (rows arrive in any order), then checks them in bulk."""
    meta = load_metadata(ROOT / "datapackage.json")
    tables = build(mini_raw, tmp_path / "dist").tables
    tables.rows["spans"][0]["source_id"] = "no-such-source"
    fresh = exports.FreshDatabase(meta, tmp_path / "db.sqlite")
    fresh.finish(tables)
    with pytest.raises(PipelineError, match="breaks a foreign key"):
        fresh.result()
