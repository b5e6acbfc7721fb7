"""SHACL: the built graph conforms; broken claims fail, naming the focus node and the shape; the CLI."""

from __future__ import annotations

import shutil

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import XSD

from pipeline.cli import cli
from pipeline.validate.shacl import load_shapes, shacl_problems
from tests.export.conftest import META, NAMES

PROV = Namespace("http://www.w3.org/ns/prov#")
VOC = Namespace(META.base_iri + "vocab#")
CLAIM = URIRef(META.base_iri + "casualty/mini-killed-3-killed")


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(META)


@pytest.fixture
def graph(mini_build):
    _, dist = mini_build
    return Graph().parse(dist / NAMES["turtle"], format="turtle")


def test_the_mini_export_conforms(graph, shapes):
    assert shacl_problems(graph, shapes) == []


def test_the_real_export_conforms(real_turtle, shapes):
    assert shacl_problems(real_turtle, shapes) == []


def test_a_claim_without_its_span_fails(graph, shapes):
    graph.remove((CLAIM, PROV.wasDerivedFrom, None))
    (problem,) = shacl_problems(graph, shapes, "x.ttl")
    assert str(problem) == (
        f"x.ttl: <{CLAIM}> violates shape:CasualtyClaimShape at prov:wasDerivedFrom: "
        f"Less than 1 values on <{CLAIM}>->prov:wasDerivedFrom"
    )


@pytest.mark.parametrize(
    "change, path",
    [
        # lower bound above the upper bound
        (lambda g: g.set((CLAIM, VOC.countMin, Literal(30))), "voc:countMin"),
        # a claim with no claimant
        (lambda g: g.remove((CLAIM, VOC.claimant, None)), "voc:claimant"),
        # a qualifier that is not one of the qualifier concepts
        (lambda g: g.set((CLAIM, VOC.qualifier, URIRef(META.base_iri + "outcome/met"))), "voc:qualifier/skos:inScheme"),
        # a count given as text
        (lambda g: g.set((CLAIM, VOC.countMax, Literal("3", datatype=XSD.string))), "voc:countMax"),
    ],
)
def test_broken_claims_name_the_claim_and_the_shape(graph, shapes, change, path):
    change(graph)
    problems = shacl_problems(graph, shapes)
    assert problems
    assert any(p.message.startswith(f"<{CLAIM}> violates shape:CasualtyClaimShape at {path}:") for p in problems), (
        problems
    )


def test_cli_validate_passes_a_fresh_build(runner, mini_build):
    _, dist = mini_build
    result = runner.invoke(cli, ["validate", "--dist-dir", str(dist)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"valid {dist}: ")


def test_cli_validate_fails_on_a_broken_claim(runner, mini_build, tmp_path, graph):
    _, dist = mini_build
    broken = tmp_path / "dist"
    shutil.copytree(dist, broken)
    graph.remove((CLAIM, VOC.claimant, None))
    (broken / NAMES["turtle"]).write_bytes(graph.serialize(format="turtle", encoding="utf-8"))
    result = runner.invoke(cli, ["validate", "--dist-dir", str(broken)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        f"Error: {broken / NAMES['turtle']}: <{CLAIM}> violates shape:CasualtyClaimShape at voc:claimant: "
        f"Less than 1 values on <{CLAIM}>->voc:claimant"
    )
    assert lines[-1] == "validate failed: 1 SHACL violation"


def test_cli_validate_without_an_export(runner, tmp_path):
    result = runner.invoke(cli, ["validate", "--dist-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / NAMES['turtle']}: no Turtle export; run `pipeline build` first\n"
