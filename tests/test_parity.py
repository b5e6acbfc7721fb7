"""Our validator and `frictionless validate` find the same problems in broken packages.

Each case builds the mini corpus, breaks one CSV the way a bad edit would (bad category,
duplicate key, dangling foreign key, negative count), fixes the descriptor's byte counts and
hashes so that only the data is wrong, then runs both validators and compares the problems as
sets of (table, row key, field, kind).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from frictionless import Package

from pipeline.engine.build import build
from pipeline.metadata import load_metadata
from pipeline.rows.tables import Tables
from pipeline.validate.checks import validate_tables
from pipeline.write.package import file_entry
from tests.conftest import ROOT

META = load_metadata(ROOT / "datapackage.json")

# Both validators' words for the same kind of problem.
OURS = {
    "unknown-category": "enum",
    "duplicate-id": "primary-key",
    "unknown-reference": "foreign-key",
    "below-minimum": "minimum",
}


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])


def _refresh_descriptor(dist: Path) -> None:
    desc = json.loads((dist / "datapackage.json").read_text(encoding="utf-8"))
    for res in desc["resources"]:
        res.update(file_entry((dist / res["path"]).read_bytes()))
    (dist / "datapackage.json").write_text(json.dumps(desc, indent=2), encoding="utf-8")


def _cell(value: str, ftype: str):
    """A CSV cell as the build holds it before validation (the CSV's own typing, no checks)."""
    if value == "":
        return None
    if ftype == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    if ftype == "boolean":
        return {"true": True, "false": False}.get(value, value)
    if ftype == "number":
        try:
            return float(value)
        except ValueError:
            return value
    return value


def our_problems(dist: Path) -> set[tuple]:
    tables = Tables()
    for name, schema in META.tables.items():
        header, rows = _read_csv(dist / schema.path)
        types = [schema.fields[c]["type"] for c in header]
        tables.rows.setdefault(name, []), tables.origins.setdefault(name, [])  # a table may have no rows
        for row in rows:
            tables.add(name, {c: _cell(v, t) for c, v, t in zip(header, row, types, strict=False)}, None)
    out = set()
    for p in validate_tables(tables, META):
        assert p.code in OURS, f"our validator found a problem frictionless does not check: {p}"
        out.add((p.table, p.row, p.field, OURS[p.code]))
    return out


def frictionless_problems(dist: Path) -> set[tuple]:
    report = Package(str(dist / "datapackage.json")).validate()
    out = set()
    for task in report.tasks:
        schema = META[task.name]
        header, rows = _read_csv(dist / schema.path)
        for err in task.errors:
            row = dict(zip(header, rows[err.row_number - 2], strict=False))
            key = ",".join(row[k] for k in schema.primary_key)
            if err.type == "constraint-error":
                kind = err.note.split('"')[1] if '"' in err.note else err.note.split()[1]
                out.add((task.name, key, err.field_name, kind))
            elif err.type == "primary-key":
                out.add((task.name, key, schema.primary_key[0], "primary-key"))
            elif err.type == "foreign-key":
                out.add((task.name, key, err.field_names[0], "foreign-key"))
            elif err.type == "unique-error":
                continue  # the same duplicate again, through the key column's `unique` constraint
            else:
                raise AssertionError(f"unexpected frictionless error {err.type}: {err.message}")
    return out


def _set(table: str, row: int, column: str, value: str):
    def edit(header, rows):
        rows[row][header.index(column)] = value

    return table, edit


def _duplicate(table: str, row: int):
    def edit(header, rows):
        rows.append(list(rows[row]))

    return table, edit


BREAKS = {
    "bad-enum": [_set("casualties", 0, "category", "kiled")],
    "negative-count": [_set("casualties", 1, "count_min", "-3")],
    "dangling-foreign-key": [_set("demands", 0, "actor_id", "nobody")],
    "duplicate-key": [_duplicate("spans", 2)],
    "several-at-once": [
        _set("actors", 0, "actor_type", "aliens"),
        _set("event_actors", 0, "count_min", "-1"),
        _set("event_mentions", 0, "span_id", "no-such-span"),
        _duplicate("casualties", 0),
    ],
}


@pytest.mark.parametrize("edits", BREAKS.values(), ids=BREAKS.keys())
def test_same_problems_as_frictionless(mini_raw, tmp_path, edits):
    dist = tmp_path / "dist"
    build(mini_raw, dist)
    for table, edit in edits:
        path = dist / META[table].path
        header, rows = _read_csv(path)
        edit(header, rows)
        _write_csv(path, header, rows)
    _refresh_descriptor(dist)
    ours = our_problems(dist)
    assert ours, "the broken package passed our validator"
    assert ours == frictionless_problems(dist)


def test_both_accept_the_unbroken_package(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "dist")
    assert our_problems(tmp_path / "dist") == frictionless_problems(tmp_path / "dist") == set()
