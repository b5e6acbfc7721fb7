"""events.geojson: RFC 7946 structure, every located event at its place's coordinates, byte-identical rebuilds."""

from __future__ import annotations

import json

import pytest

from pipeline.engine.build import build
from pipeline.rows.tables import Tables
from pipeline.write.geojson import GEOJSON_FILENAME, geojson_bytes
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def real_dist(tmp_path_factory):
    dist = tmp_path_factory.mktemp("real") / "dist"
    result = build(ROOT / "raw", dist)
    return result.tables, dist


def _located(tables: Tables) -> dict[str, tuple[float, float]]:
    """event_id -> (lon, lat) of its main place, from the tables themselves."""
    places = {p["place_id"]: p for p in tables.rows["places"]}
    return {
        e["event_id"]: (places[e["place_id"]]["lon"], places[e["place_id"]]["lat"])
        for e in tables.rows["events"]
        if e["place_id"]
    }


def test_every_located_event_is_one_point_at_its_place(real_dist):
    tables, dist = real_dist
    collection = json.loads((dist / GEOJSON_FILENAME).read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    points = {}
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert feature["id"] == feature["properties"]["event_id"]
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        points[feature["id"]] = (lon, lat)
    assert points == _located(tables)
    assert len(points) >= 30


def test_features_carry_the_events_columns_and_the_places_precision(real_dist):
    tables, dist = real_dist
    features = {f["id"]: f["properties"] for f in json.loads((dist / GEOJSON_FILENAME).read_bytes())["features"]}
    event = next(e for e in tables.rows["events"] if e["event_id"] == "novocherkassk-1962")
    props = features["novocherkassk-1962"]
    for column in ("event_id", "name", "event_type", "start_date", "end_date", "place", "country", "place_id"):
        assert props[column] == event[column]
    assert props["geo_precision"] == "settlement"


def test_rebuilding_writes_the_same_bytes(real_dist, tmp_path):
    tables, dist = real_dist
    assert geojson_bytes(tables) == (dist / GEOJSON_FILENAME).read_bytes()
    data = (dist / GEOJSON_FILENAME).read_bytes()
    assert b"\r" not in data and data.endswith(b"]}\n")


def test_no_located_event_gives_an_empty_collection():
    empty = Tables(rows={"events": [{"event_id": "e", "place_id": None}], "places": []})
    assert json.loads(geojson_bytes(empty)) == {"type": "FeatureCollection", "features": []}


def test_geopandas_puts_every_event_at_its_coordinates(real_dist):
    geopandas = pytest.importorskip("geopandas")
    tables, dist = real_dist
    frame = geopandas.read_file(dist / GEOJSON_FILENAME)
    assert frame.crs.to_epsg() == 4326
    got = {row.event_id: (row.geometry.x, row.geometry.y) for row in frame.itertuples()}
    assert got == _located(tables)
