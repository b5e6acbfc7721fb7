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


def test_each_event_starts_a_line_and_each_claim_and_estimate_is_a_line_of_its_own(tmp_path):
    build(FIXTURES / "mini" / "raw", tmp_path / "dist")
    text = (tmp_path / "dist" / per_event_filename(META)).read_text(encoding="utf-8")
    lines = text.splitlines()
    (event_line,) = [line for line in lines if line.startswith('    {"@id": "event/')]
    assert event_line.endswith('"estimates": [')
    claim_lines = [line for line in lines if line.startswith('      {"@id": "casualty/')]
    assert len(claim_lines) == 2
    # Each line of a claim is the whole claim, as JSON of its own.
    assert [json.loads(line.rstrip(","))["@id"] for line in claim_lines] == [
        "casualty/mini-killed-12-killed",
        "casualty/mini-killed-3-killed",
    ]
    assert text.startswith('{\n  "@context": {\n') and text.endswith("\n  ]\n}\n")


def test_the_layout_holds_the_json_the_indented_form_held():
    from pipeline.engine.build import assemble
    from pipeline.write.linked.per_event import per_event_bytes, per_event_document

    tables = assemble(FIXTURES / "mini" / "raw", META)
    indented = json.dumps(per_event_document(tables, META), indent=2, ensure_ascii=False)
    assert json.loads(per_event_bytes(tables, META)) == json.loads(indented)


def test_text_outside_the_bmp_is_written_as_utf8_and_reads_back():
    from pipeline.rows.tables import Tables
    from pipeline.write.linked import per_event

    tables = Tables()
    for n in range(3):
        tables.add("events", {"event_id": f"e{n}", "name": f"Strike {n} – 🏭"}, None)
    data = per_event.per_event_bytes(tables, META)
    assert json.loads(data) == json.loads(json.dumps(per_event.per_event_document(tables, META)))
    assert "Strike 2 – 🏭".encode() in data
