"""Parquet and SQLite exports: types from the schemas, the same rows as the CSV, keys enforced."""

from __future__ import annotations

import csv
import sqlite3

import pyarrow.parquet as pq
import pytest

from pipeline.engine.build import build
from pipeline.metadata import load_metadata
from tests.conftest import ROOT, snapshot

META = load_metadata(ROOT / "datapackage.json")


@pytest.fixture
def dist(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "dist")
    return tmp_path / "dist"


def test_parquet_types_and_rows_follow_the_schemas_and_the_csv(dist):
    for name, schema in META.tables.items():
        table = pq.read_table(dist / f"{name}.parquet")
        assert table.column_names == schema.field_names
        for field in table.schema:
            assert (
                str(field.type)
                == {
                    "string": "string",
                    "integer": "int64",
                    "number": "double",
                    "boolean": "bool",
                    "date": "date32[day]",
                }[schema.fields[field.name]["type"]]
            ), (name, field.name)
            assert field.nullable == (not schema.required(field.name))
        with open(dist / schema.path, encoding="utf-8", newline="") as fh:
            csv_rows = list(csv.DictReader(fh))
        as_text = [
            {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in row.items()}
            for row in table.to_pylist()
        ]
        assert as_text == csv_rows, name


def test_sqlite_declares_and_enforces_the_foreign_keys(dist):
    con = sqlite3.connect(dist / "soviet-bloc-revolts.sqlite")
    con.execute("PRAGMA foreign_keys = ON")
    for name, schema in META.tables.items():
        declared = {(r[2], r[3], r[4]) for r in con.execute(f"PRAGMA foreign_key_list({name})")}
        assert declared == {(fk.resource, fk.fields[0], fk.reference_fields[0]) for fk in schema.foreign_keys}, name
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY constraint failed"), con:
        con.execute("UPDATE casualties SET event_id = 'no-such-event'")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed: events.event_id"):
        con.execute("INSERT INTO events SELECT * FROM events")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        con.execute("UPDATE casualties SET qualifier = 'roughly'")


def test_sqlite_holds_the_same_rows_as_the_csv(dist):
    con = sqlite3.connect(dist / "soviet-bloc-revolts.sqlite")
    for name, schema in META.tables.items():
        with open(dist / schema.path, encoding="utf-8", newline="") as fh:
            n = sum(1 for _ in csv.DictReader(fh))
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == n, name
    assert con.execute("SELECT casualty_id, count_min FROM casualties ORDER BY casualty_id").fetchall() == [
        ("mini-killed-12-killed", 12),
        ("mini-killed-3-killed", 3),
    ]


def test_exports_updated_from_the_cache_are_the_bytes_of_a_fresh_build(mini_raw, tmp_path):
    """Removing a span deletes rows from four tables of the cached database; putting it back inserts them."""
    ann = mini_raw / "annotations" / "mini-news.yaml"
    original = ann.read_text(encoding="utf-8")
    start = original.index("  - span_id: mini-killed-3")
    without = original[:start] + original[original.index("  - span_id: mini-demand") :]
    cache = tmp_path / "cache"
    for step, text in enumerate([original, without, original]):
        ann.write_text(text, encoding="utf-8")
        build(mini_raw, tmp_path / f"cached-{step}", cache_dir=cache)
        build(mini_raw, tmp_path / f"fresh-{step}")
        assert snapshot(tmp_path / f"cached-{step}") == snapshot(tmp_path / f"fresh-{step}"), step
    con = sqlite3.connect(tmp_path / "cached-1" / "soviet-bloc-revolts.sqlite")
    assert con.execute("SELECT count(*) FROM spans WHERE span_id = 'mini-killed-3'").fetchone() == (0,)
    assert len(list((cache / "parquet").glob("*.parquet"))) == len(META.tables)
    # The search index was made again from the changed rows, not left as the first build wrote it.
    assert con.execute("SELECT count(*) FROM search WHERE search MATCH 'officials'").fetchone() == (0,)


def test_sqlite_views_give_claims_with_their_quotes_and_sources(dist):
    con = sqlite3.connect(dist / "soviet-bloc-revolts.sqlite")
    rows = con.execute(
        "SELECT casualty_id, event_name, count_min, claimant_type, quote, source_title FROM casualty_claims "
        "ORDER BY casualty_id"
    ).fetchall()
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        ("mini-killed-12-killed", 12, None, "at least 12 were killed"),
        ("mini-killed-3-killed", 3, None, "officials said 3 were killed"),
    ]
    assert {r[1] for r in rows} == {"Krasny works strike"} and all(r[5] for r in rows)
    (demand,) = con.execute("SELECT demand_id, quote FROM demand_claims").fetchall()
    assert demand[1] == "The workers demanded lower prices."
    overview = con.execute("SELECT event_id, killed_low, killed_high, sources FROM event_overview").fetchall()
    assert [o[:3] for o in overview] == [("krasny-strike-1962", 3, 12)] and overview[0][3]


def test_sqlite_full_text_search_finds_quotes_and_descriptions(dist):
    con = sqlite3.connect(dist / "soviet-bloc-revolts.sqlite")
    hits = con.execute("SELECT kind, id FROM search WHERE search MATCH 'killed' ORDER BY id").fetchall()
    assert hits == [("quote", "mini-killed-12"), ("quote", "mini-killed-3")]
    assert con.execute("SELECT kind, id FROM search WHERE search MATCH ?", ('"made up"',)).fetchall() == [
        ("event", "krasny-strike-1962")
    ]


def test_the_fresh_database_takes_entry_rows_in_any_column_order(tmp_path):
    import os
    import pickle

    from pipeline.engine import entryfile
    from pipeline.write.exports import _insert_sql, create_table_sql, fill_database

    meta = load_metadata(ROOT / "datapackage.json")
    schema = meta["actors"]
    row = {name: None for name in schema.field_names} | {"actor_id": "a1", "name": "A", "actor_type": "person"}
    names = list(reversed(schema.field_names))  # not the table's order: each row is reordered
    fields = {"display": "x", "depends": {}, "fragment_sizes": {}, "lines": {}, "filled": {}}
    fields["rows"] = {"actors": [names, [[row[n] for n in names]]]}
    entryfile.write_sealed(str(tmp_path / "entry"), None, entryfile.encode(fields), [])
    with open(tmp_path / "rows", "wb") as fh:
        pickle.dump(None, fh)
    ready_read, ready_write = os.pipe()
    os.write(ready_write, b"1")
    os.close(ready_write)
    fill_database(
        {
            "path": str(tmp_path / "db.sqlite"),
            "page_size": 4096,
            "rows_fd": os.open(tmp_path / "rows", os.O_RDONLY),
            "ready_fd": ready_read,
            "entries": [str(tmp_path / "entry")],
            "tables": {"actors": [create_table_sql(schema), _insert_sql(schema), schema.field_names]},
        }
    )
    with sqlite3.connect(tmp_path / "db.sqlite") as con:
        con.row_factory = sqlite3.Row
        assert [dict(r) for r in con.execute("SELECT * FROM actors")] == [row]
