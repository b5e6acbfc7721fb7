"""The dataset's DCAT description against the DCAT-AP 3.0.1 SHACL shapes (SEMICeu/DCAT-AP, releases/3.0.1/html/shacl/shapes.ttl).

The shapes are not ours to commit and no package on PyPI or npm is known to ship them: the test reads
them from DCAT_AP_SHAPES or from ../shared/fixtures/dcat-ap-3.0.1/shapes.ttl beside the clone, and
is skipped when neither exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHAPES_CANDIDATES = [
    os.environ.get("DCAT_AP_SHAPES", ""),
    str(ROOT.parent / "shared" / "fixtures" / "dcat-ap-3.0.1" / "shapes.ttl"),
]


def _shapes() -> Path:
    path = next((Path(p) for p in SHAPES_CANDIDATES if p and Path(p).is_file()), None)
    if path is None:
        pytest.skip(
            "DCAT-AP 3.0.1 shapes not found: set DCAT_AP_SHAPES or put shapes.ttl in ../shared/fixtures/dcat-ap-3.0.1/"
        )
    return path


def _description(dist: Path):
    """The catalogue part of the Turtle export: everything but the spans, events and claims themselves."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCAT, RDF

    full = Graph().parse(dist / "soviet-bloc-revolts.ttl")
    keep = set(full.subjects(RDF.type, DCAT.Dataset)) | set(full.subjects(RDF.type, DCAT.Distribution))
    keep |= {
        o
        for s in list(keep)
        for o in full.objects(s, None)
        if isinstance(o, URIRef)
        and (o, None, None) in full
        and not str(o).startswith(("http://www.w3.org/", "https://schema.org/"))
    }
    out = Graph()
    for s in keep:
        for p, o in full.predicate_objects(s):
            out.add((s, p, o))
    return out


def test_dcat_description_conforms_to_dcat_ap_3_0_1(mini_build):
    import pyshacl
    from rdflib import Graph

    shapes = Graph().parse(_shapes())
    _, dist = mini_build
    conforms, _, report = pyshacl.validate(
        _description(dist), shacl_graph=shapes, inference="none", allow_warnings=True
    )
    assert conforms, report


def test_every_distribution_has_an_access_url(mini_build):
    from rdflib import Graph
    from rdflib.namespace import DCAT, RDF

    _, dist = mini_build
    graph = Graph().parse(dist / "soviet-bloc-revolts.ttl")
    distributions = set(graph.subjects(RDF.type, DCAT.Distribution))
    assert distributions
    assert {d for d in distributions if (d, DCAT.accessURL, None) not in graph} == set()
