"""The codebook: complete (every table, field, category and definition) and never stale."""

from __future__ import annotations

import pytest

from pipeline.metadata import load_metadata
from pipeline.write.codebook import codebook_markdown
from tests.conftest import ROOT

META = load_metadata(ROOT / "datapackage.json")
TEXT = codebook_markdown(META)


@pytest.mark.parametrize("table", list(META.tables))
def test_every_field_type_and_category_is_documented(table):
    schema = META[table]
    section = TEXT.split(f"## `{table}`: ")[1].split("\n## ")[0]
    for name, field in schema.fields.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{name}` |"))
        ftype = field["type"] + (f" ({field['format']})" if "format" in field else "")
        assert f"| {ftype} |" in row
        for value, definition in field.get("enumDefinitions", {}).items():
            assert f"| `{value}` | {definition} |" in section
    for fk in schema.foreign_keys:
        assert f"Foreign key: `{fk.fields[0]}` -> `{fk.resource}`" in section


def test_constraints_are_spelt_out():
    row = next(line for line in TEXT.splitlines() if line.startswith("| `count_min` |"))
    assert "minimum 0" in row
    assert "refers to `events.event_id`" in TEXT


def test_committed_codebook_is_current():
    committed = (ROOT / "dist" / "codebook.md").read_text(encoding="utf-8")
    assert committed == TEXT, "dist/codebook.md is stale: run `pipeline build` and commit dist/"
