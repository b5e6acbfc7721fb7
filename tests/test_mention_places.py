"""Event mentions name the place their span gives by id (event_mentions.place_id), beside its words.

Every linked mention is checked against its span's text in raw/texts: the place's name (or the
source's own spelling of it) must be in the span, so that a place_id read from elsewhere fails.
"""

from __future__ import annotations

import pytest

from pipeline.engine.build import assemble
from pipeline.metadata import load_metadata
from tests.conftest import ROOT

TABLES = assemble(ROOT / "raw", load_metadata(ROOT / "datapackage.json"))
PLACES = {r["place_id"]: r for r in TABLES.rows["places"]}
SPANS = {r["span_id"]: r for r in TABLES.rows["spans"]}
TEXTS = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "raw" / "texts").glob("*.txt")}
MENTIONS = TABLES.rows["event_mentions"]
LINKED = [m for m in MENTIONS if m["place_id"]]

# The words a source uses for a place where they are not the place's own name.
SPELLINGS = {
    "almaty": ("Alma-Ata",),
    "budyonny-locomotive-factory": ("Budyonny Locomotive Factory", "electric locomotive plant"),
    "mezhdurechensk": ("Mezhdurezhensk",),
    "prokopyevsk": ("Prokopievsk",),
    "donbass": ("Donbass", "Donbas"),
    "novocherkassk": ("Novocherkassk", "the city’s central square"),
    "severnaya-pit": ('"Severnaya"',),
    "soviet-union": ("USSR", "Stalin’s prison camps"),
    "eastern-europe": ("Eastern Europe",),
}


def span_text(span_id: str) -> str:
    span = SPANS[span_id]
    return TEXTS[span["source_id"]][span["start"] : span["end"]]


def test_mentions_are_linked_to_places():
    assert len(LINKED) >= 40
    assert {m["place_id"] for m in LINKED} <= set(PLACES)


@pytest.mark.parametrize("mention", LINKED, ids=lambda m: f"{m['event_id']}@{m['span_id']}")
def test_a_linked_mention_keeps_the_words_and_its_span_names_the_place(mention):
    assert mention["place"], "the source's words stay beside the id"
    place = PLACES[mention["place_id"]]
    names = SPELLINGS.get(mention["place_id"], (place["name"].split(" (")[0],))
    assert any(name in span_text(mention["span_id"]) for name in names), (mention, names)


def test_mentions_of_several_places_or_of_places_without_a_row_stay_unlinked():
    unlinked = {(m["event_id"], m["span_id"]): m["place"] for m in MENTIONS if m["place"] and not m["place_id"]}
    assert unlinked == {
        ("kuzbass-donbas-miners-strikes-1980s", "dcf-miners-kuzbass-donbas"): "Kuzbass and Donbas",
        ("kuzbass-miners-strike-1989", "msa-solidarity-telegrams"): "Siberia",
        (
            "soviet-miners-strike-1989",
            "msa-first-national-strike",
        ): "Siberian Kuzbass, Artic Vorkuta, Ukrainian Donbass and Karaganda in Kazakhstan",
    }


def test_each_sub_event_of_a_several_place_mention_names_its_own_place():
    places = {m["event_id"]: m["place_id"] for m in MENTIONS if m["span_id"] == "msa-first-national-strike"}
    assert places == {
        "soviet-miners-strike-1989": None,
        "kuzbass-miners-strike-1989": "kuzbass",
        "vorkuta-miners-strike-1989": "vorkuta",
        "donbass-miners-strike-1989": "donbass",
        "karaganda-miners-strike-1989": "karaganda",
    }


def test_the_unplaced_events_mentions_state_no_place():
    for event_id in ("soviet-illegal-mass-strikes", "soviet-intelligentsia-crackdown"):
        rows = [m for m in MENTIONS if m["event_id"] == event_id]
        assert rows and all(not m["place"] and not m["place_id"] for m in rows)


def test_linked_mentions_point_at_their_place_in_the_graph():
    import json

    base = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["baseIri"]
    triples = set((ROOT / "dist" / "soviet-bloc-revolts.nt").read_text(encoding="utf-8").splitlines())
    prop = f"<{base}vocab#statedPlaceFeature>"
    stated = {line for line in triples if f" {prop} " in line}
    expected = {
        f"<{base}mention/{m['event_id']}.{m['span_id']}> {prop} <{base}place/{m['place_id']}> ." for m in LINKED
    }
    assert stated == expected


def test_places_stay_entities_reached_through_events():
    # A mention may name a place; that does not make every place need a mention of its own.
    meta = load_metadata(ROOT / "datapackage.json")
    assert meta.claimed_tables == ("events", "actors")
    assert "places" in meta.entity_tables
