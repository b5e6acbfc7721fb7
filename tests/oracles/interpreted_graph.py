"""The linked-data mapping interpreted row by row into a `Graph`, and that graph as an rdflib Graph.

The build never runs this: it renders rows through the compiled renderers (`compiled.py`), one
generated function per table. The tests compare both paths on the same rows (tests/export/).
"""

from __future__ import annotations

from urllib.parse import quote

from pipeline.metadata import Metadata
from pipeline.rows.tables import Tables
from pipeline.write.linked.graph import (
    DATATYPES,
    GEONAMES,
    ROW_NODES,
    SEGMENTS,
    TEXT_KINDS,
    WIKIDATA,
    Col,
    Concept,
    Fixed,
    GeoNames,
    Graph,
    Point,
    Quote,
    Ref,
    RowIri,
    Wikidata,
    _describe_dataset,
    _extra_properties,
    _referencers,
    _schemes,
    corpus_graph,
    decimal_text,
    new_graph,
    row_nodes,
    wkt_point,
)


def build_graph(tables: Tables, meta: Metadata, files: dict[str, tuple[int, str]], exports: list[str]) -> Graph:
    """The whole dataset as one graph: every row, the categories and the dataset's description."""
    g = global_graph(tables, meta, files, exports)
    language = {r["source_id"]: (r.get("language") or "").lower() for r in tables.rows.get("sources", [])}
    map_partition_rows(g, meta, tables.rows, language)
    return g


def partition_graph(rows: dict[str, list[dict]], meta: Metadata, language: dict[str, str]) -> Graph:
    """The triples of one partition's rows (every table but GLOBAL_TABLES); `language` by source id."""
    g = new_graph(meta.base_iri, _extra_properties(meta))
    map_partition_rows(g, meta, rows, language)
    return g


def global_graph(tables: Tables, meta: Metadata, files: dict[str, tuple[int, str]], exports: list[str]) -> Graph:
    """What no partition can say alone: `corpus_graph` and the dataset's description."""
    g = corpus_graph(tables, meta)
    _describe_dataset(g, meta, files, exports)
    return g


def map_partition_rows(g: Graph, meta: Metadata, rows: dict[str, list[dict]], language: dict[str, str]) -> None:
    """Interpret `row_nodes` for the rows of the partition tables into g."""
    concept, ref = _referencers(g, _schemes(meta))
    pk = {table: meta[table].primary_key for table in ROW_NODES if table in meta.tables}

    def value(expr, r):
        if isinstance(expr, Ref):
            if expr.when and all(r.get(c) is None for c in expr.when):
                return None
            return ref(expr.segment, r.get(expr.column))
        if isinstance(expr, Concept):
            return concept(expr.table, expr.column, r.get(expr.column))
        if isinstance(expr, Quote):
            v = r.get(expr.column)
            return None if v is None else (str(v), language.get(r["source_id"], ""))
        if isinstance(expr, RowIri):
            return g.iri(SEGMENTS[expr.table], *(r[k] for k in pk[expr.table]))
        if isinstance(expr, Fixed):
            return g.expand(expr.curie)
        if isinstance(expr, Wikidata):
            v = r.get(expr.column)
            return None if v is None else WIKIDATA + quote(str(v))
        if isinstance(expr, GeoNames):
            v = r.get(expr.column)
            return None if v is None else GEONAMES + quote(str(v)) + "/"
        if isinstance(expr, Point):
            lon, lat = r.get(expr.lon), r.get(expr.lat)
            return None if lon is None or lat is None else wkt_point(lon, lat)
        raise TypeError(expr)

    for table, nodes in row_nodes(meta).items():
        for node in nodes:
            for r in rows.get(table, ()):
                if node.when and all(r.get(c) is None for c in node.when):
                    continue
                s = value(node.subject, r)
                g.types(s, *node.types)
                for term, expr in node.pairs:
                    if isinstance(expr, Col):
                        v = r.get(expr.column)
                        if v is not None and g.props[term].kind in TEXT_KINDS:
                            v = decimal_text(v) if g.props[term].kind == "decimal" else str(v)
                    else:
                        v = value(expr, r)
                    g.add(s, term, v)


def to_rdflib(graph: Graph):
    """The same graph as an rdflib Graph (for tests and the reference path; slow on big graphs)."""
    from rdflib import Graph as RdflibGraph
    from rdflib import Literal, URIRef

    out = RdflibGraph()
    for prefix, ns in graph.prefixes.items():
        out.bind(prefix, ns)
    datatypes = {kind: URIRef(iri) for kind, iri in DATATYPES.items()}
    for subject, pairs in graph.sorted_nodes():
        s = URIRef(subject)
        for prop, value in pairs:
            kind = prop.kind
            if kind == "iri":
                o = URIRef(value)
            elif kind == "string":
                o = Literal(value)
            elif kind == "lang":
                o = Literal(value[0], lang=value[1] or None)
            elif kind == "boolean":
                o = Literal("true" if value else "false", datatype=datatypes[kind])
            elif kind in ("integer", "nonneg"):
                o = Literal(str(int(value)), datatype=datatypes[kind])
            else:
                o = Literal(str(value), datatype=datatypes[kind])
            out.add((s, URIRef(prop.iri), o))
    return out
