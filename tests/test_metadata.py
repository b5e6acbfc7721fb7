"""The metadata checked against itself and against the published contract (../shared/CONTRACT.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from frictionless import Schema

from pipeline.metadata import load_metadata

ROOT = Path(__file__).resolve().parent.parent
META = load_metadata(ROOT / "datapackage.json")

# The contract's tables and required columns; changing these needs a new major version.
CONTRACT = {
    "sources": "source_id title publisher published url license language sha256 chars",
    "spans": "span_id source_id start end quote prefix suffix label",
    "events": "event_id name event_type parent_event_id start_date end_date place country description date_precision scope",
    "actors": "actor_id name actor_type",
    "event_actors": "event_id actor_id role count_min count_max span_id",
    "casualties": "casualty_id event_id category count_min count_max qualifier victim_actor_id perpetrator_actor_id claimant claimant_type span_id",
    "demands": "demand_id event_id actor_id text category outcome span_id",
    "casualty_estimates": "event_id category low high n_claims n_sources",
    "event_summary": "event_id name event_type scope start_date end_date date_precision place_id lat lon country "
    "top_event_id killed_low killed_high wounded_low wounded_high arrested_low arrested_high n_claims n_sources",
}


@pytest.mark.parametrize("table,columns", CONTRACT.items())
def test_contract_tables_and_columns_exist(table, columns):
    assert table in META.tables
    assert set(columns.split()) <= set(META[table].field_names)


def test_every_schema_file_is_used_and_valid():
    used = {res["schema"] for res in META.descriptor["resources"]}
    on_disk = {f"schemas/{p.name}" for p in (ROOT / "schemas").glob("*.schema.json")}
    assert used == on_disk
    for path in used:
        Schema.validate_descriptor(json.loads((ROOT / path).read_text()))


@pytest.mark.parametrize("table", list(META.tables))
def test_every_field_is_described_and_every_category_defined(table):
    schema = META[table]
    for name, field in schema.fields.items():
        assert field.get("description"), f"{table}.{name} has no description"
        enum = schema.enum(name)
        if enum:
            defs = field.get("enumDefinitions", {})
            assert list(defs) == enum, f"{table}.{name}: enum and enumDefinitions differ"
            assert all(isinstance(d, str) and d for d in defs.values())


@pytest.mark.parametrize("table", list(META.tables))
def test_foreign_keys_point_at_primary_keys(table):
    for fk in META[table].foreign_keys:
        assert list(fk.reference_fields) == META[fk.resource].primary_key
        assert set(fk.fields) <= set(META[table].field_names)


def test_same_named_categories_agree_across_tables():
    seen = {}
    for schema in META.tables.values():
        for name in schema.field_names:
            enum = schema.enum(name)
            if enum and name in ("qualifier", "event_type", "actor_type", "role"):
                assert seen.setdefault(name, enum) == enum, name
    assert META["casualties"].enum("category") == META["casualty_estimates"].enum("category")
