"""The compiled row renderers say exactly what the interpreted mapping says, in all three formats."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph

from pipeline.engine.build import build
from pipeline.write.linked import jsonld, turtle
from pipeline.write.linked.compiled import PartitionRenderer, partition_renderer
from pipeline.write.linked.graph import GLOBAL_TABLES, iri_key
from tests.conftest import ROOT
from tests.export.conftest import META
from tests.export.test_export_graph import _with_extra_column
from tests.oracles.interpreted_graph import partition_graph, to_rdflib


def _parsed(meta, rows, language) -> dict[str, set]:
    """The triples of the compiled fragments, parsed by rdflib, by format."""
    renderer = partition_renderer(meta)
    ttl, nt, js = renderer.render(rows, language)
    head = renderer.graph
    document = jsonld.head(head) + ("\n    " + js[len(jsonld.SEPARATOR) :] if js else "") + jsonld.TAIL
    return {
        "turtle": set(Graph().parse(data=turtle.head(head) + ttl, format="turtle")),
        "nt": set(Graph().parse(data=nt, format="nt")),
        "json-ld": set(Graph().parse(data=document, format="json-ld")),
    }


def _interpreted(meta, rows, language) -> set:
    return set(to_rdflib(partition_graph(rows, meta, language)))


def _partition_rows(tables) -> dict[str, list[dict]]:
    return {name: rows for name, rows in tables.rows.items() if name not in GLOBAL_TABLES}


def _languages(tables) -> dict[str, str]:
    return {r["source_id"]: (r.get("language") or "").lower() for r in tables.rows["sources"]}


def _assert_renders_to_the_interpreted_graph(tables, at_least: int) -> None:
    rows, language = _partition_rows(tables), _languages(tables)
    expected = _interpreted(META, rows, language)
    assert len(expected) > at_least
    for fmt, triples in _parsed(META, rows, language).items():
        assert triples == expected, fmt


def test_the_mini_corpus_renders_to_the_interpreted_graph(mini_build):
    _assert_renders_to_the_interpreted_graph(mini_build[0].tables, 100)


def test_the_real_corpus_renders_to_the_interpreted_graph(tmp_path):
    _assert_renders_to_the_interpreted_graph(build(ROOT / "raw", tmp_path / "dist").tables, 3000)


def test_a_column_the_mapping_does_not_know_is_rendered(mini_build):
    result, _ = mini_build
    tables = copy.deepcopy(result.tables)
    tables.rows["actors"][0]["founded_year"] = 1917
    meta = _with_extra_column(META)
    rows, language = _partition_rows(tables), _languages(tables)
    parsed = _parsed(meta, rows, language)
    assert any(str(p).endswith("vocab#foundedYear") for _, p, _ in parsed["nt"])
    for fmt, triples in parsed.items():
        assert triples == _interpreted(meta, rows, language), fmt


def test_a_column_whose_name_is_no_python_identifier_is_rendered(mini_build):
    result, _ = mini_build
    meta = _with_extra_column(META)
    field = meta["actors"].descriptor["fields"][-1]
    field["name"] = "founded-year"
    meta["actors"].__dict__.pop("fields", None)  # the cached lookup by name
    tables = copy.deepcopy(result.tables)
    tables.rows["actors"][0]["founded-year"] = 1917
    rows, language = _partition_rows(tables), _languages(tables)
    parsed = _parsed(meta, rows, language)
    assert any(str(p).endswith("vocab#founded-year") for _, p, _ in parsed["nt"])
    for fmt, triples in parsed.items():
        assert triples == _interpreted(meta, rows, language), fmt


def test_the_generated_source_is_the_same_every_time():
    assert PartitionRenderer(META).source == PartitionRenderer(META).source


# Keys and texts the schemas would refuse still map the same way in both paths.
keys = st.one_of(st.sampled_from([".", "..", "a.b", "a/b", "x#y", "é", "-"]), st.text(min_size=1, max_size=8))
texts = st.text(min_size=0, max_size=30)
maybe = st.one_of(st.none(), texts)


@settings(max_examples=60, deadline=None)
@given(
    span=keys,
    event=keys,
    actor=keys,
    quote=texts,
    prefix=maybe,
    claimant=texts,
    place=maybe,
    count=st.one_of(st.none(), st.integers(0, 10**12)),
    lang=st.sampled_from(["", "en", "de-ch"]),
)
def test_any_value_renders_to_the_interpreted_graph(span, event, actor, quote, prefix, claimant, place, count, lang):
    rows = {
        "spans": [
            {
                "span_id": span,
                "source_id": "s",
                "start": 0,
                "end": 3,
                "quote": quote,
                "prefix": prefix,
                "suffix": None,
                "label": "casualties",
                "quote_sha256": "0" * 64,
            }
        ],
        "events": [
            {
                "event_id": event,
                "name": quote,
                "description": claimant,
                "event_type": "strike",
                "place": place,
                "country": None,
                "start_date": "1962-06-01",
                "earliest_date": "1962-06-01",
                "date_precision": "day",
                "scope": "core",
            }
        ],
        "event_actors": [
            {
                "event_id": event,
                "actor_id": actor,
                "role": "participant",
                "span_id": span,
                "count_min": count,
                "count_max": None,
                "qualifier": None,
                "count_text": place,
            }
        ],
        "casualties": [
            {
                "casualty_id": span,
                "event_id": event,
                "category": "killed",
                "count_min": count,
                "count_max": count,
                "qualifier": "exact",
                "claimant": claimant,
                "span_id": span,
                "victim_actor_id": actor,
                "perpetrator_actor_id": None,
                "claimant_type": "journalist",
                "claimant_actor_id": actor,
            }
        ],
    }
    expected = _interpreted(META, rows, {"s": lang})
    for fmt, triples in _parsed(META, rows, {"s": lang}).items():
        assert triples == expected, fmt


def test_dot_segments_are_encoded_in_keys():
    assert iri_key(".") == "%2E"
    assert iri_key("..") == "%2E%2E"
    assert iri_key("a.b") == "a.b"
