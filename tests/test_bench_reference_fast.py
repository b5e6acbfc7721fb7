"""The benchmark's fast reference: DuckDB finds the schema violations frictionless would, Oxigraph writes the graph."""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def reference_fast():
    sys.path.insert(0, str(ROOT / "bench"))
    import reference_fast

    return reference_fast


def _rewrite(path: Path, change) -> None:
    """Apply change(rows) to a CSV file's data rows (header kept), writing it as the build does."""
    with open(path, encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    change(header, rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])


def test_a_valid_build_passes_and_the_graph_is_written_in_three_formats(reference_fast, mini_project, tmp_path):
    result = reference_fast.run(mini_project["dist"], tmp_path / "out")

    assert result["duckdb verdict"] == "valid"
    nt_lines = (mini_project["dist"] / "soviet-bloc-revolts.nt").read_text(encoding="utf-8").splitlines()
    assert result["triples"] == len({line for line in nt_lines if line.strip()})
    import pyoxigraph as ox

    for ext, fmt in (("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES), ("jsonld", ox.RdfFormat.JSON_LD)):
        assert len(list(ox.parse(path=str(tmp_path / "out" / f"oxigraph.{ext}"), format=fmt))) == result["triples"]
    assert all(result[step] >= 0 for step in ("duckdb load", "duckdb checks", "oxigraph dump turtle"))


def test_every_kind_of_violation_is_counted_where_it_is(reference_fast, mini_project, tmp_path):
    dist = tmp_path / "broken"
    shutil.copytree(mini_project["dist"], dist)

    def casualties(header, rows):
        col = header.index
        rows.append(list(rows[1]))  # a second row with the same casualty_id
        rows[0][col("category")] = "killled"
        rows[0][col("count_min")] = "1.5"
        rows[1][col("event_id")] = "no-such-event"

    def spans(header, rows):
        rows[0][header.index("label")] = ""

    _rewrite(dist / "casualties.csv", casualties)
    _rewrite(dist / "spans.csv", spans)

    result = reference_fast.run(dist, tmp_path / "out")

    assert result["duckdb verdict"] == (
        "invalid: spans.label required (1 rows); casualties.casualty_id unique (1 rows); "
        "casualties.category enum (1 rows); casualties.count_min type (1 rows); "
        "casualties.casualty_id primary key unique (1 rows); casualties.event_id foreign key to events (1 rows)"
    )


def test_a_renamed_column_is_reported_as_a_header_problem(reference_fast, mini_project, tmp_path):
    dist = tmp_path / "renamed"
    shutil.copytree(mini_project["dist"], dist)
    _rewrite(dist / "events.csv", lambda header, rows: header.__setitem__(0, "id"))

    assert reference_fast.run(dist, tmp_path / "out")["duckdb verdict"] == "invalid: events.header field names (1 rows)"


@pytest.mark.parametrize(
    ("field", "checks"),
    [
        (
            {"name": "n", "type": "integer", "constraints": {"required": True, "minimum": 0}},
            ["type", "required", "minimum"],
        ),
        ({"name": "s", "type": "string", "constraints": {"enum": ["a"], "unique": True}}, ["enum", "unique"]),
        (
            {"name": "u", "type": "string", "format": "uri", "constraints": {"maxLength": 9}},
            ["format uri", "maxLength"],
        ),
        ({"name": "d", "type": "date"}, ["type"]),
    ],
)
def test_checks_follow_the_field_type_and_constraints(reference_fast, field, checks):
    assert [name for name, _ in reference_fast.column_checks(field)] == checks


def test_a_type_without_a_check_is_refused_rather_than_skipped(reference_fast):
    with pytest.raises(ValueError, match="no DuckDB check for field type 'datetime' \\(field 'at'\\); add one"):
        reference_fast.column_checks({"name": "at", "type": "datetime"})


@pytest.mark.parametrize(
    ("value", "valid"), [("12", True), ("-3", True), ("1.5", False), ("1e3", False), ("+1", True), (" 1", False)]
)
def test_integers_are_checked_by_their_lexical_form_not_by_duckdb_casts(reference_fast, value, valid):
    import duckdb

    (sql,) = [sql for name, sql in reference_fast.column_checks({"name": "n", "type": "integer"}) if name == "type"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT ?::VARCHAR AS n", [value])
    assert con.execute(f"SELECT {sql} FROM t").fetchone()[0] == (0 if valid else 1)
