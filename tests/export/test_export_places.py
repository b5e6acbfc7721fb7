"""Places in the linked data: GeoSPARQL points at the table's coordinates, schema:geo, owl:sameAs, SHACL."""

from __future__ import annotations

import pytest
from rdflib import Literal, Namespace, URIRef

from pipeline.validate.shacl import load_shapes, shacl_problems
from pipeline.write.linked.graph import GEONAMES, WIKIDATA, decimal_text, wkt_point
from tests.export.conftest import META

GEO = Namespace("http://www.opengis.net/ont/geosparql#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
SCHEMA = Namespace("https://schema.org/")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")


def _place(place_id: str) -> URIRef:
    return URIRef(META.base_iri + "place/" + place_id)


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """The real places rows, read back from the CSV of a build of raw/."""
    import csv

    from pipeline.engine.build import build
    from tests.conftest import ROOT

    dist = tmp_path_factory.mktemp("places") / "dist"
    build(ROOT / "raw", dist)
    with open(dist / "places.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_place_has_its_point_and_coordinates(real_turtle, places):
    for row in places:
        place = _place(row["place_id"])
        (geometry,) = real_turtle.objects(place, GEO.hasGeometry)
        (wkt,) = real_turtle.objects(geometry, GEO.asWKT)
        assert wkt == Literal(f"POINT({row['lon']} {row['lat']})", datatype=GEO.wktLiteral)
        (coordinates,) = real_turtle.objects(place, SCHEMA.geo)
        assert real_turtle.value(coordinates, SCHEMA.latitude) == Literal(row["lat"], datatype=XSD.decimal)
        assert real_turtle.value(coordinates, SCHEMA.longitude) == Literal(row["lon"], datatype=XSD.decimal)


def test_same_as_links_exactly_the_checked_ids(real_turtle, places):
    for row in places:
        expected = set()
        if row["geonames_id"]:
            expected.add(URIRef(f"{GEONAMES}{row['geonames_id']}/"))
        if row["wikidata_id"]:
            expected.add(URIRef(WIKIDATA + row["wikidata_id"]))
        assert set(real_turtle.objects(_place(row["place_id"]), OWL.sameAs)) == expected


def test_an_event_has_each_of_its_places(real_turtle):
    event = URIRef(META.base_iri + "event/soviet-miners-strike-1989")
    located = {p for p in real_turtle.objects(event, SEM.hasPlace) if (p, GEO.hasGeometry, None) in real_turtle}
    assert located == {_place(p) for p in ("kuzbass", "vorkuta", "donbass", "karaganda")}


@pytest.mark.parametrize(
    "value, text", [(47.4222, "47.4222"), (64.0, "64.0"), (-0.00001, "-0.00001"), (1e-7, "0.0000001")]
)
def test_decimals_never_use_an_exponent(value, text):
    assert decimal_text(value) == text


def test_wkt_puts_longitude_first():
    assert wkt_point(40.09373, 47.4222) == "POINT(40.09373 47.4222)"


def test_a_place_without_its_geometry_fails_the_shapes(real_turtle):
    shapes = load_shapes(META)
    graph = real_turtle  # module-scoped: restore what is removed
    place = _place("novocherkassk")
    removed = list(graph.triples((place, GEO.hasGeometry, None)))
    for triple in removed:
        graph.remove(triple)
    try:
        problems = shacl_problems(graph, shapes)
    finally:
        for triple in removed:
            graph.add(triple)
    messages = [str(p) for p in problems]
    assert any(f"<{place}> violates shape:PlaceShape at geo:hasGeometry" in m for m in messages), messages
