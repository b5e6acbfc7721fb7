"""The row-to-RDF mapping: IRIs for every row, claims kept apart, unknown columns kept, bad base IRI."""

from __future__ import annotations

import copy

import pytest

from pipeline.errors import PipelineError
from pipeline.metadata import Metadata, TableSchema
from pipeline.write.linked.graph import KINDS, NOT_IN_RDF, PROPERTIES, SEGMENTS, new_graph
from tests.export.conftest import META
from tests.oracles.interpreted_graph import build_graph


def test_each_property_has_one_term_and_a_known_kind():
    curies = [curie for curie, _ in PROPERTIES.values()]
    assert len(curies) == len(set(curies))
    assert {kind for _, kind in PROPERTIES.values()} <= KINDS


def test_every_row_of_every_table_is_a_subject(mini_build):
    result, _ = mini_build
    graph = build_graph(result.tables, META, {}, [])
    assert set(SEGMENTS) == set(META.tables) - set(NOT_IN_RDF)
    for table, rows in result.tables.rows.items():
        if table in NOT_IN_RDF:
            continue
        pk = META[table].primary_key
        for row in rows:
            assert graph.iri(SEGMENTS[table], *(row[k] for k in pk)) in graph.nodes, (table, row)


def test_conflicting_casualty_claims_are_separate_resources(mini_build):
    result, _ = mini_build
    graph = build_graph(result.tables, META, {}, [])
    claims = {}
    for row in result.tables.rows["casualties"]:
        pairs = graph.about(graph.iri("casualty", row["casualty_id"]))
        claims[row["casualty_id"]] = {
            (t, v) for t, v in pairs if t in ("countMin", "claimant", "qualifier", "wasDerivedFrom")
        }
    assert claims == {
        "mini-killed-12-killed": {
            ("countMin", 12),
            ("claimant", "the article"),
            ("qualifier", graph.iri("qualifier", "at_least")),
            ("wasDerivedFrom", graph.iri("span", "mini-killed-12")),
        },
        "mini-killed-3-killed": {
            ("countMin", 3),
            ("claimant", "official figures"),
            ("qualifier", graph.iri("qualifier", "exact")),
            ("wasDerivedFrom", graph.iri("span", "mini-killed-3")),
        },
    }


def _with_extra_column(meta: Metadata) -> Metadata:
    descriptor = copy.deepcopy(meta["actors"].descriptor)
    descriptor["fields"].append({"name": "founded_year", "type": "integer"})
    tables = dict(meta.tables)
    tables["actors"] = TableSchema(name="actors", path="actors.csv", descriptor=descriptor)
    return Metadata(descriptor=meta.descriptor, tables=tables, root=meta.root)


def test_a_column_the_mapping_does_not_know_is_still_exported(mini_build):
    result, _ = mini_build
    tables = copy.deepcopy(result.tables)
    tables.rows["actors"][0]["founded_year"] = 1917
    graph = build_graph(tables, _with_extra_column(META), {}, [])
    assert ("foundedYear", 1917) in graph.about(graph.iri("actor", tables.rows["actors"][0]["actor_id"]))
    assert graph.props["foundedYear"].iri == META.base_iri + "vocab#foundedYear"


@pytest.mark.parametrize("base", ["https://example.org/data", "urn:x:data/", "https://example.org/a b/"])
def test_base_iri_must_be_http_and_end_with_a_slash(base):
    with pytest.raises(PipelineError, match="baseIri"):
        new_graph(base)


def test_tables_left_out_of_the_graph_say_why_and_leave_no_terms(mini_build):
    result, _ = mini_build
    graph = build_graph(result.tables, META, {}, [])
    assert set(NOT_IN_RDF) <= set(META.tables)
    assert all(len(reason) > 20 for reason in NOT_IN_RDF.values())
    # No voc: term was made for their columns (e.g. n_mentions exists only in event_summary).
    assert "nMentions" not in graph.props


def test_concepts_carry_a_label_for_people_and_the_code_as_notation(mini_build):
    result, _ = mini_build
    graph = build_graph(result.tables, META, {}, [])
    about = graph.about(graph.iri("event-type", "mass_release"))
    assert ("prefLabel", "mass release") in about
    assert ("notation", "mass_release") in about
    assert ("notation", "core") in graph.about(graph.iri("event-scope", "core"))
