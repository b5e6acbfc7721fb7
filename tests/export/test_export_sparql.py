"""Questions a historian asks, in SPARQL, on the graph of the real corpus (facts already in raw/)."""

from __future__ import annotations

from tests.export.conftest import META

PREFIXES = f"""
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX schema: <https://schema.org/>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX voc: <{META.base_iri}vocab#>
"""
NOVOCHERKASSK = META.base_iri + "event/novocherkassk-1962"


def test_death_tolls_above_20_and_who_claims_them(real_turtle):
    rows = real_turtle.query(
        PREFIXES
        + """
        SELECT ?event ?n ?qualifier ?claimant ?quote WHERE {
          ?claim a voc:CasualtyClaim ; schema:about ?event ; voc:category ?cat ;
                 voc:countMin ?n ; voc:qualifier/skos:notation ?qualifier ; voc:claimant ?claimant ;
                 prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote .
          ?cat skos:notation "killed" .
          FILTER (?n > 20)
        }"""
    )
    claims = {(str(r.event), int(r.n), str(r.qualifier), str(r.claimant), str(r.quote)) for r in rows}
    novo = {c[1:] for c in claims if c[0] == NOVOCHERKASSK}
    # Two sources, two figures, side by side: 26 officially, more than 80 by estimates.
    assert any(n == 26 and q == "exact" and "official" in who and "26" in quote for n, q, who, quote in novo), novo
    assert any(n >= 80 and q == "more_than" and "80" in quote for n, q, who, quote in novo), novo


def test_demands_about_prices_or_wages_in_1962(real_turtle):
    rows = real_turtle.query(
        PREFIXES
        + """
        SELECT ?event ?text ?category WHERE {
          ?demand a voc:Demand ; schema:about ?event ; schema:text ?text ;
                  voc:category/skos:notation ?category .
          ?event sem:hasEarliestBeginTimeStamp ?begin .
          FILTER (?category IN ("prices", "wages") && YEAR(?begin) = 1962)
        }"""
    )
    found = {(str(r.event), str(r.category), str(r.text)) for r in rows}
    assert {e for e, _, _ in found} == {NOVOCHERKASSK}
    assert any(c == "wages" and "wage" in t for _, c, t in found), found
    assert any(c == "prices" and "price" in t for _, c, t in found), found


def test_every_claim_leads_back_to_a_quoted_source(real_turtle):
    rows = real_turtle.query(
        PREFIXES
        + """
        SELECT ?claim ?hash WHERE {
          { ?claim a voc:CasualtyClaim } UNION { ?claim a voc:Demand } UNION { ?claim a sem:Role }
          OPTIONAL { ?claim prov:wasDerivedFrom/prov:wasQuotedFrom/schema:sha256 ?hash }
        }"""
    )
    hashes = {str(r.claim): r.hash for r in rows}
    assert len(hashes) >= 10
    assert [claim for claim, h in hashes.items() if h is None] == []


def test_the_readme_query_answers(real_turtle):
    import re

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    query = re.search(r'## Linked data.*?query = """(.*?)"""', readme, re.DOTALL).group(1)
    rows = list(real_turtle.query(query))
    assert {(str(r.qualifier), int(r.n)) for r in rows} >= {("exact", 26), ("more_than", 80)}
