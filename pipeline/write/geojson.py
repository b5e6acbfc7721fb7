"""Writes `events.geojson`: one GeoJSON Feature (RFC 7946) per event that has a main place with coordinates.

Input: validated `Tables` (events and places). Output: the bytes of a FeatureCollection, UTF-8,
LF, keys and features in a fixed order so that every build writes the same bytes. Positions are
[longitude, latitude] in WGS 84, as RFC 7946 requires (no "crs" member); the place's
`geo_precision` travels with each feature, since a point may stand for a whole town, region or
country. QGIS, geopandas (`geopandas.read_file`) and GDAL open it as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.rows.tables import Tables

GEOJSON_FILENAME = "events.geojson"
# Properties of each feature, in this order; the columns of events and places they come from.
EVENT_PROPERTIES = (
    "event_id",
    "name",
    "event_type",
    "parent_event_id",
    "start_date",
    "end_date",
    "earliest_date",
    "latest_date",
    "place",
    "country",
)
PLACE_PROPERTIES = ("place_id", "geo_precision", "geonames_id", "wikidata_id")


def event_features(tables: Tables) -> list[dict]:
    """The Feature of every event whose place_id names a place with coordinates, by event_id."""
    places = {p["place_id"]: p for p in tables.rows.get("places", [])}
    features = []
    for event in sorted(tables.rows.get("events", []), key=lambda e: e["event_id"]):
        place = places.get(event.get("place_id"))
        if place is None or place.get("lat") is None or place.get("lon") is None:
            continue
        properties = {c: event.get(c) for c in EVENT_PROPERTIES}
        properties.update({c: place.get(c) for c in PLACE_PROPERTIES})
        properties["place_name"] = place.get("name")
        features.append(
            {
                "type": "Feature",
                "id": event["event_id"],
                "geometry": {"type": "Point", "coordinates": [float(place["lon"]), float(place["lat"])]},
                "properties": properties,
            }
        )
    return features


def geojson_bytes(tables: Tables) -> bytes:
    """The FeatureCollection of the located events as UTF-8 JSON (one feature per line, final LF)."""
    features = event_features(tables)
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    body = ",\n".join(lines)
    return ('{"type":"FeatureCollection","features":[\n' + body + ("\n" if body else "") + "]}\n").encode("utf-8")


def write_geojson(tables: Tables, out_dir: Path) -> str:
    """Write events.geojson into out_dir; return its name."""
    (out_dir / GEOJSON_FILENAME).write_bytes(geojson_bytes(tables))
    return GEOJSON_FILENAME
