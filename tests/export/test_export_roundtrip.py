"""Rows -> graph -> Turtle, N-Triples, JSON-LD -> parsed back: the same graph every way, with no network."""

from __future__ import annotations

import csv
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD, split_uri

from pipeline.write.linked import file_stats, jsonld, ntriples, turtle
from pipeline.write.linked.graph import new_graph
from tests.export.conftest import META, NAMES
from tests.oracles.interpreted_graph import build_graph, to_rdflib

FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld"}
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")


def _parse(path, fmt) -> Graph:
    return Graph().parse(path, format=fmt)


@pytest.fixture(scope="module")
def parsed(mini_build):
    _, dist = mini_build
    return {name: _parse(dist / NAMES[name], fmt) for name, fmt in FORMATS.items()}


def test_every_file_parses_to_the_graph_built_from_the_rows(mini_build, parsed):
    result, dist = mini_build
    files = {name: stat for name, stat in file_stats(dist).items() if name not in NAMES.values()}
    reference = to_rdflib(build_graph(result.tables, META, files, list(NAMES.values())))
    for name, graph in parsed.items():
        assert isomorphic(graph, reference), name
        assert not any(isinstance(t, BNode) for triple in graph for t in triple), name


def test_claims_read_independently_from_the_csv_are_in_the_graph(mini_build, parsed):
    """An rdflib graph built here from the CSV files alone, without the exporter, is contained in the export."""
    _, dist = mini_build
    base, voc = META.base_iri, Namespace(META.base_iri + "vocab#")
    expected = Graph()
    with open(dist / "casualties.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            claim = URIRef(base + "casualty/" + row["casualty_id"])
            expected.add((claim, RDF.type, voc.CasualtyClaim))
            expected.add((claim, voc.claimant, Literal(row["claimant"])))
            expected.add((claim, PROV.wasDerivedFrom, URIRef(base + "span/" + row["span_id"])))
            expected.add((claim, voc.qualifier, URIRef(base + "qualifier/" + row["qualifier"])))
            for column, prop in (("count_min", voc.countMin), ("count_max", voc.countMax)):
                if row[column]:
                    expected.add((claim, prop, Literal(int(row[column]))))
    with open(dist / "spans.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            span = URIRef(base + "span/" + row["span_id"])
            expected.add((span, OA.hasSource, URIRef(base + "source/" + row["source_id"])))
            expected.add((span, OA.hasSelector, URIRef(base + "quote-selector/" + row["span_id"])))
            expected.add(
                (URIRef(base + "quote-selector/" + row["span_id"]), OA.exact, Literal(row["quote"], lang="en"))
            )
            expected.add(
                (
                    URIRef(base + "position-selector/" + row["span_id"]),
                    OA.start,
                    Literal(row["start"], datatype=XSD.nonNegativeInteger),
                )
            )
    assert len(expected) > 20
    missing = set(expected) - set(parsed["turtle"])
    assert not missing


def test_iris_share_one_namespace_per_kind_of_thing(mini_build, parsed):
    """No namespace (as rdflib splits an IRI) holds a row's key, so none grows with the rows.

    rdflib's Turtle writer looks every IRI up in a list of the namespaces seen so far; with one
    namespace per span (`span/<id>#quote`) or per event (`mention/<event>/<span>`) it becomes
    quadratic and needed 39 s for 48k triples instead of 3 s.
    """
    _, dist = mini_build
    ids = set()
    for table, column in (("spans", "span_id"), ("events", "event_id"), ("actors", "actor_id")):
        with open(dist / f"{table}.csv", encoding="utf-8") as fh:
            ids |= {row[column] for row in csv.DictReader(fh)}
    iris = {
        term
        for triple in parsed["turtle"]
        for term in triple
        if isinstance(term, URIRef) and term.startswith(META.base_iri) and str(term) != META.base_iri
    }
    namespaces = {split_uri(iri)[0] for iri in iris}
    assert namespaces and len(namespaces) < 40
    assert not [ns for ns in namespaces if any(i in ns[len(META.base_iri) :] for i in ids)]


def test_composite_keys_are_one_path_segment_and_stay_apart():
    graph = new_graph("https://example.org/x/")
    assert graph.iri("mention", "ev-1", "s-2") == "https://example.org/x/mention/ev-1.s-2"
    assert graph.iri("mention", "a.b", "c") != graph.iri("mention", "a", "b.c")
    assert graph.iri("distribution", "events.csv") == "https://example.org/x/distribution/events.csv"


def test_every_file_of_dist_is_a_distribution(mini_build, parsed):
    _, dist = mini_build
    dcat = Namespace("http://www.w3.org/ns/dcat#")
    urls = {str(o) for o in parsed["turtle"].objects(None, dcat.downloadURL)}
    assert urls == {META.base_iri + "dist/" + p.name for p in dist.iterdir()}
    sizes = {str(d).rsplit("/", 1)[1]: int(n) for d, n in parsed["turtle"].subject_objects(dcat.byteSize)}
    assert sizes == {
        p.name: p.stat().st_size
        for p in dist.iterdir()
        if p.suffix in (".csv", ".json", ".md", ".geojson") or p.name.endswith(".per-event.jsonld")
    }
    assert any(p.suffix == ".parquet" for p in dist.iterdir())


def _offline_loader(url, options=None):
    raise AssertionError(f"JSON-LD processing tried to fetch {url}")


def test_pyld_reads_the_jsonld_without_network(mini_build, parsed):
    from pyld import jsonld as pyld

    _, dist = mini_build
    doc = json.loads((dist / NAMES["jsonld"]).read_text(encoding="utf-8"))
    nquads = pyld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": _offline_loader})
    assert isomorphic(Graph().parse(data=nquads, format="nquads"), parsed["turtle"])


def test_the_published_context_file_gives_the_same_graph(mini_build, parsed):
    """A document that names context.jsonld instead of inlining it means the same (served from disk)."""
    from pyld import jsonld as pyld

    _, dist = mini_build
    context_file = dist / NAMES["context"]

    def local_only(url, options=None):
        if url != "context.jsonld" and not url.endswith("/context.jsonld"):
            raise AssertionError(f"refused to fetch {url}")
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(context_file.read_text(encoding="utf-8")),
        }

    doc = json.loads((dist / NAMES["jsonld"]).read_text(encoding="utf-8"))
    doc["@context"] = "context.jsonld"
    nquads = pyld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": local_only, "base": "file:///dist/"})
    assert isomorphic(Graph().parse(data=nquads, format="nquads"), parsed["turtle"])


def test_turtle_writer_agrees_with_rdflib_serialiser(mini_build, parsed):
    result, _ = mini_build
    reference = to_rdflib(build_graph(result.tables, META, {}, []))
    reparsed = Graph().parse(data=reference.serialize(format="turtle"), format="turtle")
    ours = Graph().parse(data=turtle.serialize(build_graph(result.tables, META, {}, [])), format="turtle")
    assert isomorphic(ours, reparsed)


# Any text a quote or a claimant can hold: quotes, backslashes, newlines, control characters, emoji.
texts = st.text(min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(quote=texts, claimant=texts, lang=st.sampled_from([None, "en", "de-CH"]))
def test_any_text_survives_every_serialisation(quote, claimant, lang):
    graph = new_graph("https://example.org/x/")
    graph.add("https://example.org/x/quote-selector/a", "exact", (quote, lang.lower() if lang else ""))
    graph.add("https://example.org/x/casualty/a", "claimant", claimant)
    graph.add("https://example.org/x/casualty/a", "countMin", 0)
    graph.add("https://example.org/x/casualty/a", "openEnded", False)
    reference = to_rdflib(graph)
    for name, data in (
        ("turtle", turtle.serialize(graph)),
        ("nt", ntriples.serialize(graph)),
        ("json-ld", jsonld.serialize(graph)),
    ):
        assert set(Graph().parse(data=data, format=name)) == set(reference), name


@pytest.mark.parametrize(
    "rest", ["", "#coverage", "x/../y", "./z", "q:r/s", "a/.", "event/a%2Fb", "distribution/a.csv"]
)
def test_iris_under_the_base_survive_every_serialisation(rest):
    graph = new_graph("https://example.org/x/")
    graph.add("https://example.org/x/" + rest, "sameAs", "https://example.org/x/" + rest)
    graph.add("https://example.org/x/" + rest, "@type", "https://example.org/x/vocab#Thing")
    reference = set(to_rdflib(graph))
    for name, data in (
        ("turtle", turtle.serialize(graph)),
        ("nt", ntriples.serialize(graph)),
        ("json-ld", jsonld.serialize(graph)),
    ):
        assert set(Graph().parse(data=data, format=name)) == reference, name
