"""Country outlines for the site's maps: Natural Earth TopoJSON (shipped in static/geo/) drawn as inline SVG.

Input: the packaged `countries-110m.json` and points (lat, lon). Output: SVG path data in a plain
equirectangular projection scaled for mid-latitudes, so the maps need no script, no tile server
and no request leaving the site. Coordinates are rounded to 0.1 SVG unit for small, stable bytes.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources

# The projection stretches longitude by cos(55°), the latitude of Moscow, so the bloc looks right.
_X_SCALE = math.cos(math.radians(55))
# Pixels per degree of latitude.
_UNIT = 10.0


@dataclass(frozen=True)
class Box:
    """A lon/lat window of the world to draw."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north

    def view_box(self) -> str:
        x0, y0 = project(self.north, self.west)
        x1, y1 = project(self.south, self.east)
        return f"{x0:.1f} {y0:.1f} {x1 - x0:.1f} {y1 - y0:.1f}"


# Central Europe to the Yenisei: every Soviet-bloc state and the camps of the far north.
BLOC = Box(west=5.0, south=36.0, east=100.0, north=74.0)


def project(lat: float, lon: float) -> tuple[float, float]:
    """SVG (x, y) of a point: x grows east, y grows south."""
    return round(lon * _X_SCALE * _UNIT, 1), round(-lat * _UNIT, 1)


def around(lat: float, lon: float, half_height: float = 6.0) -> Box:
    """A window centred on a point, for an event page's small map."""
    half_width = half_height * 1.6 / _X_SCALE
    return Box(lon - half_width, lat - half_height, lon + half_width, lat + half_height)


@functools.lru_cache(maxsize=1)
def _countries() -> tuple[tuple[str, tuple[tuple[tuple[float, float], ...], ...]], ...]:
    """Every country as (name, rings of (lon, lat)), decoded once from the TopoJSON."""
    text = resources.files("pipeline.site").joinpath("static/geo/countries-110m.json").read_text(encoding="utf-8")
    topo = json.loads(text)
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # quantised and delta-encoded (TopoJSON spec, "transform")
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: list[int]) -> tuple[tuple[float, float], ...]:
        points: list[tuple[float, float]] = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc[1:] if points else arc)  # consecutive arcs share their joining point
        return tuple(points)

    out = []
    for geometry in topo["objects"]["countries"]["geometries"]:
        polygons = {"Polygon": [geometry.get("arcs", [])], "MultiPolygon": geometry.get("arcs", [])}.get(
            geometry["type"], []
        )
        rings = tuple(ring(r) for polygon in polygons for r in polygon)
        out.append((geometry.get("properties", {}).get("name", ""), rings))
    return tuple(sorted(out))


def country_paths(box: Box) -> list[tuple[str, str]]:
    """(country name, SVG path data) of every country with a ring inside the window."""
    out = []
    margin = Box(box.west - 10, box.south - 10, box.east + 10, box.north + 10)
    for name, rings in _countries():
        drawn = [r for r in rings if any(margin.contains(lat, lon) for lon, lat in r)]
        if not drawn:
            continue
        parts = []
        for r in drawn:
            points = [project(lat, lon) for lon, lat in r]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
        out.append((name, "".join(parts)))
    return out
