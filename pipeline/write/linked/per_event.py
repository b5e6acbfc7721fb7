"""Writes `<name>.per-event.jsonld`: one JSON-LD node per event with its claims and estimates embedded, for plain-JSON users.

Input: validated `Tables` and `Metadata`. Output: UTF-8 JSON bytes, `{"@context": ..., "@graph":
[event, ...]}` sorted by event id, every node using the terms, IRIs and value types of the main
JSON-LD file (`context.jsonld`), so that its triples are a subset of the dataset's graph. Casualty
claims and estimates are embedded in their event through reverse terms (`claims`, `estimates`:
in RDF the claim is `schema:about` the event), a claim with its span and quote, so that one
`json.load` gives each event with everything said about its toll, without joins or a JSON-LD
processor. The file name sorts after `<name>.jsonld`, which tools that take the first JSON-LD
file of a folder as the whole graph (`check-linked-data`) keep on reading.
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass

from pipeline.metadata import Metadata
from pipeline.rows.tables import Tables
from pipeline.write.linked import jsonld
from pipeline.write.linked.graph import WIKIDATA, _extra_properties, iri_key, new_graph

# Reverse terms: a claim or estimate points at its event with schema:about.
REVERSE_TERMS = {"claims": {"@reverse": "schema:about"}, "estimates": {"@reverse": "schema:about"}}


def per_event_filename(meta: Metadata) -> str:
    return f"{meta.name}.per-event.jsonld"


def per_event_document(tables: Tables, meta: Metadata) -> dict:
    """The document: the main context plus the reverse terms, and one node per event."""
    graph = new_graph(meta.base_iri, _extra_properties(meta))
    ctx = {**jsonld.context(graph), **REVERSE_TERMS}
    rows = tables.rows
    language = {r["source_id"]: (r.get("language") or "").lower() for r in rows.get("sources", [])}
    spans = dict(zip(map(operator.itemgetter("span_id"), rows.get("spans", [])), rows.get("spans", []), strict=True))
    claims: dict[str, list[dict]] = {}
    for r in sorted(rows.get("casualties", []), key=lambda r: r["casualty_id"]):
        claims.setdefault(r["event_id"], []).append(_claim(r, spans.get(r["span_id"]), language))
    estimates: dict[str, list[dict]] = {}
    for r in sorted(rows.get("casualty_estimates", []), key=lambda r: (r["event_id"], r["category"])):
        estimates.setdefault(r["event_id"], []).append(estimate_node(r))
    nodes = [
        event_node(e, estimates.get(e["event_id"]), claims.get(e["event_id"]))
        for e in sorted(rows.get("events", []), key=lambda e: e["event_id"])
    ]
    return {"@context": ctx, "@graph": nodes}


def estimate_node(r: dict) -> dict:
    """One casualty estimate, as embedded in its event's node."""
    return _compact(
        {
            "@id": f"casualty-estimate/{iri_key(r['event_id'])}.{iri_key(r['category'])}",
            "@type": ["voc:CasualtyEstimate", "prov:Entity"],
            "category": _concept("casualty-category", r["category"]),
            "low": r.get("low"),
            "high": r.get("high"),
            "openEnded": r.get("open_ended"),
            "nClaims": r.get("n_claims"),
            "nSources": r.get("n_sources"),
        }
    )


def event_node(e: dict, estimates: list[dict] | None, claims: list[dict] | None) -> dict:
    """One event's node: its own properties, then its estimates and claims (`estimate_node`, `_claim`), if any."""
    event_id = e["event_id"]
    return _compact(
        {
            "@id": f"event/{iri_key(event_id)}",
            "@type": ["schema:Event", "sem:Event"],
            "name": e.get("name"),
            "description": e.get("description"),
            "eventType": _concept("event-type", e.get("event_type")),
            "scope": _concept("event-scope", e.get("scope")),
            "subEventOf": f"event/{iri_key(e['parent_event_id'])}" if e.get("parent_event_id") else None,
            "startDate": e.get("start_date"),
            "endDate": e.get("end_date"),
            "earliestBegin": e.get("earliest_date"),
            "latestEnd": e.get("latest_date"),
            "datePrecision": _concept("date-precision", e.get("date_precision")),
            "hasPlace": _compact(
                {
                    "@id": f"event-place/{iri_key(event_id)}",
                    "name": e.get("place"),
                    "addressCountry": e.get("country"),
                }
            )
            if e.get("place") or e.get("country")
            else None,
            "sameAs": WIKIDATA + e["wikidata_id"] if e.get("wikidata_id") else None,
            "estimates": estimates,
            "claims": claims,
        }
    )


def node_with_claims(node: dict, claim_texts: list[bytes]) -> tuple[bytes, int]:
    """The text of `node` (an `event_node` without claims) with the given claims' texts; and where the first claim starts (-1: none).

    The same bytes `per_event_bytes` writes for the node with those claims.
    """
    text = _node_text(node, NODE_INDENT).encode("utf-8")
    if not claim_texts:
        return text, -1
    head = text[:-1] + b', "claims": [\n' + NODE_INDENT.encode() + b"  "
    return head + CLAIM_SEPARATOR.join(claim_texts) + CLAIMS_CLOSE, len(head)


# One line per node: json's C encoder, which it uses only without `indent` (with it, the pure-Python
# one took a quarter of a one-file rebuild at 200,000 spans).
_ONE_LINE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def per_event_bytes(tables: Tables, meta: Metadata, layout: list | None = None) -> bytes:
    """The document as deterministic JSON, keys in the order written, LF, final newline.

    The context is indented by two spaces; in `@graph`, each event starts a line with its own
    properties, and each of its embedded estimates and claims is one line of its own.
    `layout`, if given, receives where each event's node and claims are (`EventLayout`), for the
    next build to splice the claims of the events a change touches (engine/incremental.py).
    """
    doc = per_event_document(tables, meta)
    head = per_event_head(doc["@context"])
    # Each node encoded on its own: one str of the whole file would take four bytes a character
    # as soon as one character lies outside the BMP (an emoji in a quote).
    texts = []
    offset = len(head) + len(GRAPH_OPEN)
    for node in doc["@graph"]:
        # The claims (the node's last property) one line each, as a splice writes them too.
        claims = [claim_text(c).encode("utf-8") for c in node.pop("claims", [])]
        data, claims_at = node_with_claims(node, claims)
        if layout is not None:
            layout.append(EventLayout(node["@id"], offset, len(data), claims_at, list(map(len, claims))))
        offset += len(data) + len(NODE_SEPARATOR)
        texts.append(data)
    return per_event_join(head, texts)


NODE_INDENT = "    "
# Between two nodes of `@graph`, between two claims of a node, and what ends a node's claims.
NODE_SEPARATOR = b",\n" + NODE_INDENT.encode()
CLAIM_SEPARATOR = b",\n" + NODE_INDENT.encode() + b"  "
CLAIMS_CLOSE = b"\n" + NODE_INDENT.encode() + b"]}"
GRAPH_OPEN = b"[\n" + NODE_INDENT.encode()


@dataclass
class EventLayout:
    """Where one event's node is in the file, and its claims (the node's last list, one claim a line) in the node.

    `claims_at` is the offset of the first claim's text in the node (-1: no claims);
    `claim_lengths` the claims' texts' lengths in bytes, in order.
    """

    node_id: str
    offset: int
    length: int
    claims_at: int
    claim_lengths: list[int]


def per_event_head(context: dict) -> bytes:
    """The file up to its first node: the context, then the start of `@graph`."""
    text = json.dumps(context, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    return f'{{\n  "@context": {text},\n  "@graph": '.encode()


def per_event_join(head: bytes, nodes: list[bytes]) -> bytes:
    """The whole file from its head and the nodes' texts in order."""
    graph = GRAPH_OPEN + NODE_SEPARATOR.join(nodes) + b"\n  ]" if nodes else b"[]"
    return head + graph + b"\n}\n"


def claim_text(claim: dict) -> str:
    """One claim as the line `per_event_bytes` writes (without its indent)."""
    return _ONE_LINE(claim)


def _node_text(node: dict, indent: str) -> str:
    """A node on one line, but for its lists of nodes (estimates, claims): one line per item, below it."""
    inner = indent + "  "
    items = []
    for key, value in node.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines = f",\n{inner}".join(map(_ONE_LINE, value))
            items.append(f"{_ONE_LINE(key)}: [\n{inner}{lines}\n{indent}]")
        else:
            items.append(f"{_ONE_LINE(key)}: {_ONE_LINE(value)}")
    return "{" + ", ".join(items) + "}"


def _claim(r: dict, span: dict | None, language: dict[str, str]) -> dict:
    selector = None
    if span is not None and span.get("quote") is not None:
        lang = language.get(span["source_id"], "")
        exact = {"@value": span["quote"], "@language": lang} if lang else span["quote"]
        selector = {"@id": f"quote-selector/{iri_key(span['span_id'])}", "exact": exact}
    return _compact(
        {
            "@id": f"casualty/{iri_key(r['casualty_id'])}",
            "@type": ["prov:Entity", "voc:CasualtyClaim"],
            "category": _concept("casualty-category", r.get("category")),
            "countMin": r.get("count_min"),
            "countMax": r.get("count_max"),
            "qualifier": _concept("qualifier", r.get("qualifier")),
            "claimant": r.get("claimant"),
            "claimantType": _concept("claimant-type", r.get("claimant_type")),
            "wasAttributedTo": f"actor/{iri_key(r['claimant_actor_id'])}" if r.get("claimant_actor_id") else None,
            "victim": f"actor/{iri_key(r['victim_actor_id'])}" if r.get("victim_actor_id") else None,
            "perpetrator": f"actor/{iri_key(r['perpetrator_actor_id'])}" if r.get("perpetrator_actor_id") else None,
            "wasDerivedFrom": _compact({"@id": f"span/{iri_key(r['span_id'])}", "hasSelector": selector}),
        }
    )


def _concept(scheme: str, value) -> str | None:
    return None if value is None else f"{scheme}/{iri_key(value)}"


def _compact(node: dict) -> dict:
    """The node without its empty values (an empty cell states nothing)."""
    return {k: v for k, v in node.items() if v is not None and v != []}
