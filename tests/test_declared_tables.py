"""Tables are declared once: a project adds a claim table with a schema and a descriptor entry, and no code."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from pipeline.engine.build import build
from pipeline.errors import BuildFailed, PipelineError
from pipeline.metadata import load_metadata
from tests.conftest import FIXTURES, ROOT

ADDED = FIXTURES / "added_table"


def _project_with_arrests(folder: Path) -> Path:
    """The mini corpus in a project whose descriptor declares one more claim table, `arrests`."""
    shutil.copytree(FIXTURES / "mini" / "raw", folder / "raw")
    shutil.copytree(ROOT / "schemas", folder / "schemas")
    shutil.copy(ADDED / "arrests.schema.json", folder / "schemas" / "arrests.schema.json")
    shutil.copy(ADDED / "arrests.yaml", folder / "raw" / "annotations" / "arrests.yaml")
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"].append(
        {"name": "arrests", "path": "arrests.csv", "schema": "schemas/arrests.schema.json", "title": "Arrests"}
    )
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    return folder


def test_roles_of_tables_come_from_the_descriptor_and_foreign_keys():
    meta = load_metadata(ROOT / "datapackage.json")
    assert meta.claim_tables == {
        "actors": "event_actors",
        "events": "event_mentions",
        "casualties": "casualties",
        "demands": "demands",
    } | {
        k: v
        for k, v in meta.claim_tables.items()
        if v not in ("event_actors", "event_mentions", "casualties", "demands")
    }
    assert {"events", "actors"} <= set(meta.entity_tables)
    assert "spans" not in meta.entity_tables and "sources" not in meta.entity_tables
    assert "casualty_estimates" in meta.derived_tables and "casualty_estimates" not in meta.written_tables
    assert meta["events"].derived_fields == ("earliest_date", "latest_date") or set(meta["events"].derived_fields) >= {
        "earliest_date",
        "latest_date",
    }


def test_a_claim_table_added_by_declaration_alone_is_read_checked_and_published(tmp_path):
    project = _project_with_arrests(tmp_path / "project")
    meta = load_metadata(project / "datapackage.json")
    assert meta.claim_tables["arrests"] == "arrests"
    result = build(project / "raw", tmp_path / "dist", project / "datapackage.json")
    assert result.counts["arrests"] == 1
    with open(tmp_path / "dist" / "arrests.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows == [
        {
            "arrest_id": "mini-arrests-workers",
            "event_id": "krasny-strike-1962",
            "actor_id": "krasny-workers",
            "count_min": "30",
            "count_max": "30",
            "qualifier": "about",
            "share": "0.25",
            "span_id": "mini-arrests",
        }
    ]
    published = json.loads((tmp_path / "dist" / "datapackage.json").read_text(encoding="utf-8"))
    assert "arrests" in [r["name"] for r in published["resources"]]


def test_a_number_column_is_checked_not_passed_to_the_exports(tmp_path):
    project = _project_with_arrests(tmp_path / "project")
    ann = project / "raw" / "annotations" / "arrests.yaml"
    ann.write_text(ann.read_text(encoding="utf-8").replace("share: 0.25", "share: north-ish"), encoding="utf-8")
    with pytest.raises(BuildFailed) as err:
        build(project / "raw", tmp_path / "dist", project / "datapackage.json")
    assert [str(p) for p in err.value.problems] == [
        "raw/annotations/arrests.yaml:13: arrests 'mini-arrests-workers': share 'north-ish' is not a number; "
        "write digits with an optional decimal point, e.g. 47.42"
    ]
    assert not (tmp_path / "dist").exists()


def test_a_number_above_its_declared_maximum_is_refused(tmp_path):
    project = _project_with_arrests(tmp_path / "project")
    ann = project / "raw" / "annotations" / "arrests.yaml"
    ann.write_text(ann.read_text(encoding="utf-8").replace("share: 0.25", "share: 1.5"), encoding="utf-8")
    with pytest.raises(BuildFailed) as err:
        build(project / "raw", tmp_path / "dist", project / "datapackage.json")
    assert [str(p) for p in err.value.problems] == [
        "raw/annotations/arrests.yaml:13: arrests 'mini-arrests-workers': share 1.5 is above the maximum 1; fix the figure"
    ]


def test_a_type_the_pipeline_cannot_handle_is_refused_when_the_metadata_is_read(tmp_path):
    project = _project_with_arrests(tmp_path / "project")
    schema = project / "schemas" / "arrests.schema.json"
    schema.write_text(
        schema.read_text(encoding="utf-8").replace('"type": "number"', '"type": "geopoint"'), encoding="utf-8"
    )
    with pytest.raises(PipelineError) as err:
        load_metadata(project / "datapackage.json")
    assert str(err.value) == (
        "schemas/arrests.schema.json: field 'share' has the type 'geopoint', which the pipeline cannot "
        "check or export; use one of: boolean, date, integer, number, string, year"
    )
