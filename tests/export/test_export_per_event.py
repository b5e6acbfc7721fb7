"""The one-node-per-event JSON-LD file: plain JSON per event, and every triple of it in the dataset's graph."""

from __future__ import annotations

import json

from rdflib import Graph

from pipeline.engine.build import build
from pipeline.write.linked.per_event import per_event_filename
from tests.conftest import FIXTURES
from tests.export.conftest import META, NAMES


def test_each_event_is_one_node_with_its_claims_and_quotes(tmp_path):
    build(FIXTURES / "mini" / "raw", tmp_path / "dist")
    doc = json.loads((tmp_path / "dist" / per_event_filename(META)).read_text(encoding="utf-8"))
    (event,) = doc["@graph"]
    assert event["@id"] == "event/krasny-strike-1962" and event["datePrecision"] == "date-precision/day"
    (estimate,) = event["estimates"]
    assert (estimate["low"], estimate["high"], estimate["nSources"]) == (3, 12, 1)
    claims = {c["@id"]: c for c in event["claims"]}
    official = claims["casualty/mini-killed-3-killed"]
    assert official["countMin"] == 3 and official["claimant"] == "official figures"
    assert official["wasDerivedFrom"]["hasSelector"]["exact"]["@value"] == "officials said 3 were killed"


def test_its_triples_are_all_in_the_dataset_graph(tmp_path):
    build(FIXTURES / "mini" / "raw", tmp_path / "dist")
    per_event = Graph().parse(tmp_path / "dist" / per_event_filename(META), format="json-ld")
    whole = Graph().parse(tmp_path / "dist" / NAMES["turtle"], format="turtle")
    assert len(per_event) > 20
    assert [t for t in per_event if t not in whole] == []


def test_it_sorts_after_the_whole_graph_for_tools_that_read_the_first_json_ld_file():
    assert per_event_filename(META) > NAMES["jsonld"]


def test_its_bytes_are_those_of_json_dumps_whatever_the_slices(tmp_path, monkeypatch):
    from pipeline.rows.tables import Tables
    from pipeline.write.linked import per_event

    tables = Tables()
    for n in range(3):
        tables.add("events", {"event_id": f"e{n}", "name": f"Strike {n} – 🏭"}, None)
    monkeypatch.setattr(per_event, "_PIECES_PER_SLICE", 7)  # many slices, cut anywhere
    whole = json.dumps(per_event.per_event_document(tables, META), indent=2, ensure_ascii=False) + "\n"
    assert per_event.per_event_bytes(tables, META) == whole.encode("utf-8")
