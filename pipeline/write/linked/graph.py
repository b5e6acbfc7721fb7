"""Maps the built tables onto one RDF graph, once, for every serialisation.

Input: validated `Tables`, the `Metadata` (base IRI, schemas with their category definitions) and
the size and SHA-256 of the files already written to dist/. Output: a `Graph`: for every subject IRI the set
of (property, value) pairs about it. Writers only render it, so Turtle, N-Triples and JSON-LD
cannot say different things.

Every row of every table is a resource with an IRI under the base IRI, built from the table's
primary key (`<base>event/novocherkassk-1962`, `<base>event-actor/<event>.<actor>.<role>.<span>`).
Things without ids of their own take their row's key under a segment of their own
(`<base>quote-selector/<span>`, `<base>event-place/<event>`), so the graph has no blank nodes
and each kind of thing shares one namespace (see `Graph.iri`). Category values become SKOS concepts
(`<base>qualifier/more_than`) defined by the schemas' `enumDefinitions`. Terms for which no
established vocabulary exists live under `<base>vocab#` (prefix `voc`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from pipeline.errors import PipelineError
from pipeline.metadata import Metadata
from pipeline.rows.tables import Tables, edtf_bounds

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
EDTF_DATATYPE = "http://id.loc.gov/datatypes/edtf/EDTF"

PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "edtf": "http://id.loc.gov/datatypes/edtf/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "oa": "http://www.w3.org/ns/oa#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "schema": "https://schema.org/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": XSD,
}
VOCAB_PATH = "vocab#"

# What a property's values are. "lang" values are (text, language) pairs, language "" if unknown.
DATATYPES = {
    "integer": XSD + "integer",
    "nonneg": XSD + "nonNegativeInteger",
    "boolean": XSD + "boolean",
    "date": XSD + "date",
    "edtf": EDTF_DATATYPE,
    "decimal": XSD + "decimal",
    "wkt": "http://www.opengis.net/ont/geosparql#wktLiteral",
}
KINDS = {"iri", "string", "lang", *DATATYPES}
# Kinds whose values are written as text (a date, say, as its ISO form).
TEXT_KINDS = {"string", "date", "edtf", "decimal", "wkt"}

# JSON-LD term -> (property as prefix:local, kind). The term names are what JSON-LD readers see.
PROPERTIES: dict[str, tuple[str, str]] = {
    "@type": ("rdf:type", "iri"),
    "value": ("rdf:value", "iri"),
    # schema.org
    "name": ("schema:name", "string"),
    "description": ("schema:description", "string"),
    "about": ("schema:about", "iri"),
    "sameAs": ("schema:sameAs", "iri"),
    "url": ("schema:url", "iri"),
    "publisher": ("schema:publisher", "string"),
    "author": ("schema:author", "string"),
    "datePublished": ("schema:datePublished", "edtf"),
    "inLanguage": ("schema:inLanguage", "string"),
    "sha256": ("schema:sha256", "string"),
    "quoteSha256": ("voc:quoteSha256", "string"),
    "text": ("schema:text", "string"),
    "startDate": ("schema:startDate", "edtf"),
    "endDate": ("schema:endDate", "edtf"),
    "addressCountry": ("schema:addressCountry", "string"),
    "version": ("schema:version", "string"),
    "license": ("schema:license", "iri"),
    "keywords": ("schema:keywords", "string"),
    "temporalCoverage": ("schema:temporalCoverage", "string"),
    "creator": ("schema:creator", "iri"),
    "distribution": ("schema:distribution", "iri"),
    "encodingFormat": ("schema:encodingFormat", "string"),
    "contentUrl": ("schema:contentUrl", "iri"),
    # Dublin Core terms and DCAT
    "title": ("dcterms:title", "string"),
    "dctDescription": ("dcterms:description", "string"),
    "dctLicense": ("dcterms:license", "iri"),
    "dctCreator": ("dcterms:creator", "iri"),
    "temporal": ("dcterms:temporal", "iri"),
    "rights": ("dcterms:rights", "string"),
    "source": ("dcterms:source", "iri"),
    "dcatVersion": ("dcat:version", "string"),
    "keyword": ("dcat:keyword", "string"),
    "dcatDistribution": ("dcat:distribution", "iri"),
    "downloadURL": ("dcat:downloadURL", "iri"),
    "accessURL": ("dcat:accessURL", "iri"),
    "mediaType": ("dcat:mediaType", "iri"),
    "byteSize": ("dcat:byteSize", "nonneg"),
    "dcatStartDate": ("dcat:startDate", "date"),
    "dcatEndDate": ("dcat:endDate", "date"),
    # Simple Event Model
    "eventType": ("sem:eventType", "iri"),
    "actorType": ("sem:actorType", "iri"),
    "roleType": ("sem:roleType", "iri"),
    "subEventOf": ("sem:subEventOf", "iri"),
    "hasPlace": ("sem:hasPlace", "iri"),
    "hasActor": ("sem:hasActor", "iri"),
    "earliestBegin": ("sem:hasEarliestBeginTimeStamp", "date"),
    "latestEnd": ("sem:hasLatestEndTimeStamp", "date"),
    # places: GeoSPARQL geometries, schema.org coordinates, the same place in other datasets
    "hasGeometry": ("geo:hasGeometry", "iri"),
    "asWKT": ("geo:asWKT", "wkt"),
    "geoCoordinates": ("schema:geo", "iri"),  # not "geo": that is the GeoSPARQL prefix in JSON-LD
    "latitude": ("schema:latitude", "decimal"),
    "longitude": ("schema:longitude", "decimal"),
    "containedInPlace": ("schema:containedInPlace", "iri"),
    "owlSameAs": ("owl:sameAs", "iri"),
    # SKOS
    "prefLabel": ("skos:prefLabel", "string"),
    "notation": ("skos:notation", "string"),
    "definition": ("skos:definition", "string"),
    "inScheme": ("skos:inScheme", "iri"),
    # Web Annotation
    "hasSource": ("oa:hasSource", "iri"),
    "hasSelector": ("oa:hasSelector", "iri"),
    "exact": ("oa:exact", "lang"),
    "prefix": ("oa:prefix", "lang"),
    "suffix": ("oa:suffix", "lang"),
    "start": ("oa:start", "nonneg"),
    "end": ("oa:end", "nonneg"),
    "hasBody": ("oa:hasBody", "iri"),
    "hasTarget": ("oa:hasTarget", "iri"),
    "motivatedBy": ("oa:motivatedBy", "iri"),
    # PROV-O
    "wasDerivedFrom": ("prov:wasDerivedFrom", "iri"),
    "wasQuotedFrom": ("prov:wasQuotedFrom", "iri"),
    "wasAttributedTo": ("prov:wasAttributedTo", "iri"),
    # our own terms, where no established vocabulary has one
    "chars": ("voc:chars", "integer"),
    "spanLabel": ("voc:spanLabel", "iri"),
    "category": ("voc:category", "iri"),
    "qualifier": ("voc:qualifier", "iri"),
    "countMin": ("voc:countMin", "integer"),
    "countMax": ("voc:countMax", "integer"),
    "claimant": ("voc:claimant", "string"),
    "claimantType": ("voc:claimantType", "iri"),
    "scope": ("voc:scope", "iri"),
    "datePrecision": ("voc:datePrecision", "iri"),
    "countText": ("voc:countText", "string"),
    "victim": ("voc:victim", "iri"),
    "perpetrator": ("voc:perpetrator", "iri"),
    "demandedBy": ("voc:demandedBy", "iri"),
    "outcome": ("voc:outcome", "iri"),
    "statedDate": ("voc:statedDate", "edtf"),
    "statedPlace": ("voc:statedPlace", "string"),
    "statedPlaceFeature": ("voc:statedPlaceFeature", "iri"),
    "low": ("voc:low", "integer"),
    "high": ("voc:high", "integer"),
    "openEnded": ("voc:openEnded", "boolean"),
    "nClaims": ("voc:nClaims", "integer"),
    "nSources": ("voc:nSources", "integer"),
    "featureType": ("voc:featureType", "iri"),
    "geoPrecision": ("voc:geoPrecision", "iri"),
    "historicalCountry": ("voc:historicalCountry", "string"),
    "isMainPlace": ("voc:isMainPlace", "boolean"),
    "mainPlace": ("voc:mainPlace", "iri"),
}

# Path segment of each table's row IRIs; the rest of the IRI is the row's primary key.
SEGMENTS = {
    "sources": "source",
    "spans": "span",
    "events": "event",
    "actors": "actor",
    "event_actors": "event-actor",
    "event_mentions": "mention",
    "casualties": "casualty",
    "demands": "demand",
    "demand_outcomes": "demand-outcome",
    "casualty_estimates": "casualty-estimate",
    "places": "place",
    "event_places": "event-in-place",
}

# Category columns -> (concept scheme, extra class of its concepts).
SCHEMES = {
    ("spans", "label"): ("span-label", None),
    ("events", "event_type"): ("event-type", "sem:EventType"),
    ("events", "scope"): ("event-scope", None),
    ("events", "date_precision"): ("date-precision", None),
    ("event_mentions", "date_precision"): ("date-precision", None),
    ("casualties", "claimant_type"): ("claimant-type", None),
    ("actors", "actor_type"): ("actor-type", "sem:ActorType"),
    ("event_actors", "role"): ("role", "sem:RoleType"),
    ("event_actors", "qualifier"): ("qualifier", None),
    ("casualties", "category"): ("casualty-category", None),
    ("casualties", "qualifier"): ("qualifier", None),
    ("casualty_estimates", "category"): ("casualty-category", None),
    ("demands", "category"): ("demand-category", None),
    ("demands", "outcome"): ("outcome", None),
    ("demand_outcomes", "outcome"): ("outcome", None),
    ("places", "feature_type"): ("feature-type", None),
    ("places", "geo_precision"): ("geo-precision", None),
}

# Columns each table's mapping below turns into triples; any other column is still exported,
# as voc:<column>, so that a column added to a schema never silently disappears from the graph.
MAPPED = {
    "sources": {
        "source_id",
        "title",
        "publisher",
        "author",
        "published",
        "url",
        "license",
        "language",
        "sha256",
        "chars",
    },
    "spans": {"span_id", "source_id", "start", "end", "quote", "quote_sha256", "prefix", "suffix", "label"},
    "events": {
        "event_id",
        "name",
        "event_type",
        "parent_event_id",
        "start_date",
        "end_date",
        "earliest_date",
        "latest_date",
        "place",
        "place_id",
        "country",
        "description",
        "wikidata_id",
        "scope",
        "date_precision",
    },
    "actors": {"actor_id", "name", "actor_type", "description", "wikidata_id"},
    "event_actors": {"event_id", "actor_id", "role", "count_min", "count_max", "qualifier", "count_text", "span_id"},
    "event_mentions": {"event_id", "span_id", "date", "place", "place_id", "date_precision"},
    "casualties": {
        "casualty_id",
        "event_id",
        "category",
        "count_min",
        "count_max",
        "qualifier",
        "victim_actor_id",
        "perpetrator_actor_id",
        "claimant",
        "claimant_type",
        "claimant_actor_id",
        "span_id",
    },
    "demands": {"demand_id", "event_id", "actor_id", "text", "category", "outcome", "span_id"},
    "demand_outcomes": {"outcome_id", "demand_id", "outcome", "claimant", "span_id"},
    "casualty_estimates": {"event_id", "category", "low", "high", "open_ended", "n_claims", "n_sources"},
    "places": {
        "place_id",
        "name",
        "feature_type",
        "within_place_id",
        "lat",
        "lon",
        "geo_precision",
        "geonames_id",
        "wikidata_id",
        "country",
        "historical_country",
    },
    "event_places": {"event_id", "place_id", "main"},
}

# Tables left out of the graph, with the reason (the codebook and tests read it).
NOT_IN_RDF = {
    "event_summary": "every value is in the graph already (events, their places, casualty estimates, "
    "mentions); a second copy of them would only have to be kept in step",
}

MEDIA_TYPES = {
    ".csv": "text/csv",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".md": "text/markdown",
    ".nt": "application/n-triples",
    ".parquet": "application/vnd.apache.parquet",
    ".sqlite": "application/vnd.sqlite3",
    ".ttl": "text/turtle",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FILE_TITLES = {
    ".geojson": "Located events as GeoJSON (RFC 7946)",
    ".json": "Data package descriptor (Frictionless)",
    ".jsonld": "The dataset as JSON-LD",
    ".md": "Codebook",
    ".nt": "The dataset as N-Triples",
    ".sqlite": "All tables as one SQLite database",
    ".ttl": "The dataset as Turtle",
    ".xlsx": "All tables and the codebook as an Excel workbook",
}
HASHED = {".csv", ".json", ".md", ".geojson"}
# Our own text exports besides the tables that carry size and hash like them (not the RDF files,
# which cannot describe themselves).
HASHED_NAMES = (".per-event.jsonld",)
WIKIDATA = "http://www.wikidata.org/entity/"
# GeoNames' IRI of a feature (its "concept"), as its RDF dumps and owl:sameAs links spell it.
GEONAMES = "https://sws.geonames.org/"
# Characters an IRI may not contain (RFC 3987 and the Turtle/N-Triples IRIREF production).
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')


@dataclass(frozen=True)
class Prop:
    """One RDF property as the writers need it: full IRI, kind of value, JSON-LD term and Turtle name."""

    term: str
    iri: str
    kind: str
    curie: str


_SAFE_KEY = re.compile(r"[A-Za-z0-9._~-]*\Z").match
_SAFE_PART = re.compile(r"[A-Za-z0-9_~-]*\Z").match


def iri_key(value) -> str:
    """A key as one path segment of an IRI: unreserved characters kept, others percent-encoded.

    "." and ".." are encoded too: as dot segments they would be resolved away.
    """
    if isinstance(value, str) and _SAFE_KEY(value) and value != "." and value != "..":
        return value
    text = str(value)
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return quote(text, safe="-._~")


def iri_key_part(value) -> str:
    """One part of a composite key: as `iri_key`, with "." (the separator) encoded as well."""
    if isinstance(value, str) and _SAFE_PART(value):
        return value
    return quote(str(value), safe="-_~").replace(".", "%2E")


@dataclass
class Graph:
    """Subjects with their (property, value) pairs; values are IRIs, text, (text, lang), ints, bools.

    Pairs are stored as (property number, value), the numbers following the properties' IRIs,
    so that sorting a subject's pairs needs no key function; lists rather than sets keep a
    large graph small (duplicates are dropped when the pairs are sorted).
    """

    base: str
    prefixes: dict[str, str]
    props: dict[str, Prop]
    nodes: dict[str, list] = field(default_factory=dict)

    def __post_init__(self):
        # rdf:type first (Turtle writes it as `a` before the other properties), then by IRI.
        self.ordered = sorted(self.props.values(), key=lambda p: (p.iri != RDF_TYPE, p.iri))
        self.number = {p.term: i for i, p in enumerate(self.ordered)}

    def add(self, subject: str, term: str, value) -> None:
        if value is None:
            return
        pairs = self.nodes.get(subject)
        if pairs is None:
            pairs = self.nodes[subject] = []
        pairs.append((self.number[term], value))

    def types(self, subject: str, *curies: str) -> None:
        for curie in curies:
            self.add(subject, "@type", self.expand(curie))

    def expand(self, curie: str) -> str:
        prefix, local = curie.split(":", 1)
        return self.prefixes[prefix] + local

    def iri(self, segment: str, *keys) -> str:
        # Composite keys are joined with "." (never part of an id, and escaped in any other
        # key) into one path segment: every IRI of a table then shares one namespace, so
        # tools that split IRIs into prefix and local name (rdflib's Turtle writer) see a
        # handful of namespaces rather than one per event or span, which made them quadratic.
        if len(keys) == 1:
            return self.base + segment + "/" + iri_key(keys[0])
        return self.base + segment + "/" + ".".join(iri_key_part(k) for k in keys)

    def sorted_pairs(self):
        """(subject, [(property number, value), ...]) by subject, the pairs in order, no duplicates."""
        nodes = self.nodes
        for subject in sorted(nodes):
            pairs = nodes[subject]
            yield subject, sorted(set(pairs)) if len(pairs) > 1 else pairs

    def sorted_nodes(self):
        """(subject, [(Prop, value), ...]) by subject, rdf:type first then by property IRI and value."""
        ordered = self.ordered
        for subject, pairs in self.sorted_pairs():
            yield subject, [(ordered[i], v) for i, v in pairs]

    def about(self, subject: str) -> set[tuple[str, object]]:
        """What the graph says about one subject, as (JSON-LD term, value) pairs."""
        return {(self.ordered[i].term, v) for i, v in self.nodes.get(subject, [])}

    def __len__(self) -> int:
        return sum(len(set(pairs)) for pairs in self.nodes.values())


def new_graph(base: str, extra: dict[str, tuple[str, str]] | None = None) -> Graph:
    """An empty graph with every property of PROPERTIES (and `extra`) resolved against base."""
    if not re.fullmatch(r"https?://[^\s<>\"{}|^`\\]+/", base):
        raise PipelineError(f"datapackage.json: baseIri '{base}' must be an http(s) IRI ending with '/'")
    prefixes = {**PREFIXES, "voc": base + VOCAB_PATH}
    props = {}
    for term, (curie, kind) in {**PROPERTIES, **(extra or {})}.items():
        prefix, local = curie.split(":", 1)
        props[term] = Prop(term, prefixes[prefix] + local, kind, curie)
    return Graph(base=base, prefixes=prefixes, props=props)


def safe_iri(value: str) -> str:
    """An IRI from a URL typed by hand: characters no IRI may hold are percent-encoded."""
    return _NOT_IN_IRI.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), value.strip())


def decimal_text(value) -> str:
    """A number as an xsd:decimal lexical form: digits, one point, never an exponent (47.4222, 64.0)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{float(value):.12f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def wkt_point(lon, lat) -> str:
    """A GeoSPARQL WKT point (longitude first, WGS 84 by default: no CRS IRI needed)."""
    return f"POINT({decimal_text(lon)} {decimal_text(lat)})"


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(w.title() for w in rest)


def _extra_properties(meta: Metadata) -> dict[str, tuple[str, str]]:
    """voc:<column> properties for columns the mapping does not know (yet)."""
    kinds: dict[str | None, str] = {"integer": "integer", "boolean": "boolean", "date": "date"}
    extra = {}
    for name, schema in meta.tables.items():
        if name in NOT_IN_RDF:
            continue
        for column, spec in schema.fields.items():
            if column in MAPPED.get(name, ()):
                continue
            term = _camel(column)
            if term in PROPERTIES:
                term = _camel(f"{name}_{column}")
            extra[term] = (f"voc:{_camel(column)}", kinds.get(spec.get("type"), "string"))
    return extra


def _schemes(meta: Metadata) -> dict[tuple[str, str], str]:
    """The concept scheme of each category column of the schemas."""
    return {
        (table, column): scheme
        for (table, column), (scheme, _) in SCHEMES.items()
        if table in meta.tables and column in meta[table].fields
    }


def _concepts(g: Graph, meta: Metadata) -> dict[tuple[str, str], str]:
    """Add every category of the schemas as a SKOS concept; return the scheme of each column."""
    scheme_of = {}
    done = set()
    for (table, column), (scheme, extra_class) in SCHEMES.items():
        if table not in meta.tables or column not in meta[table].fields:
            continue
        scheme_of[(table, column)] = scheme
        spec = meta[table].fields[column]
        scheme_iri = g.base + scheme
        if scheme not in done:
            g.types(scheme_iri, "skos:ConceptScheme")
            g.add(scheme_iri, "title", spec.get("description"))
            done.add(scheme)
        definitions = spec.get("enumDefinitions", {})
        for value in meta[table].enum(column):
            concept = g.iri(scheme, value)
            if concept in g.nodes:
                continue
            g.types(concept, "skos:Concept", *([extra_class] if extra_class else []))
            # People read "mass release"; the code itself, as in the tables, is the notation.
            g.add(concept, "prefLabel", value.replace("_", " "))
            g.add(concept, "notation", value)
            g.add(concept, "definition", definitions.get(value))
            g.add(concept, "inScheme", scheme_iri)
    return scheme_of


# Tables that are not rendered per partition: read from sources.yaml, or derived by the merge.
GLOBAL_TABLES = ("sources", "casualty_estimates")


def _referencers(g: Graph, scheme_of: dict[tuple[str, str], str]):
    """The IRI makers the row mappings share: `concept` for a category value, `ref` for a row id."""

    def concept(table: str, column: str, value):
        if value is None or (table, column) not in scheme_of:
            return None
        return g.iri(scheme_of[(table, column)], value)

    def ref(segment: str, value):
        return None if value is None else g.iri(segment, value)

    return concept, ref


def description_graph(meta: Metadata, files: dict[str, tuple[int, str]], exports: list[str]) -> Graph:
    """The dataset's description, with a distribution per file."""
    g = new_graph(meta.base_iri, _extra_properties(meta))
    _describe_dataset(g, meta, files, exports)
    return g


def corpus_graph(tables: Tables, meta: Metadata) -> Graph:
    """What needs more than one partition: sources, categories, who took part, estimates.

    Its inputs are `corpus_inputs`.
    """
    g = new_graph(meta.base_iri, _extra_properties(meta))
    scheme_of = _concepts(g, meta)
    rows = tables.rows
    base = g.base

    concept, ref = _referencers(g, scheme_of)

    for r in rows.get("sources", []):
        s = g.iri("source", r["source_id"])
        g.types(s, "schema:CreativeWork")
        g.add(s, "name", r.get("title"))
        g.add(s, "publisher", r.get("publisher"))
        g.add(s, "author", r.get("author"))
        g.add(s, "datePublished", r.get("published"))
        g.add(s, "url", safe_iri(r["url"]) if r.get("url") else None)
        g.add(s, "rights", r.get("license"))
        g.add(s, "inLanguage", r.get("language"))
        g.add(s, "sha256", r.get("sha256"))
        g.add(s, "chars", r.get("chars"))
        g.add(base, "source", s)

    # The plain link event hasActor actor, so that "who took part" needs no knowledge of roles.
    # Several files may state the same pair, so it is said once, here, not per partition.
    for r in rows.get("event_actors", []):
        g.add(ref("event", r["event_id"]), "hasActor", ref("actor", r["actor_id"]))

    # An estimate summarises the claims on its event and on the event's sub-events.
    parent_of = {r["event_id"]: r.get("parent_event_id") for r in rows.get("events", [])}
    claims_of: dict[tuple, list[str]] = {}
    for r in rows.get("casualties", []):
        event_id, seen = r["event_id"], set()
        while event_id and event_id not in seen:
            seen.add(event_id)
            claims_of.setdefault((event_id, r["category"]), []).append(g.iri("casualty", r["casualty_id"]))
            event_id = parent_of.get(event_id)
    for r in rows.get("casualty_estimates", []):
        s = _row_iri(g, meta, "casualty_estimates", r)
        g.types(s, "voc:CasualtyEstimate", "prov:Entity")
        g.add(s, "about", ref("event", r["event_id"]))
        g.add(s, "category", concept("casualty_estimates", "category", r.get("category")))
        g.add(s, "low", r.get("low"))
        g.add(s, "high", r.get("high"))
        g.add(s, "openEnded", r.get("open_ended"))
        g.add(s, "nClaims", r.get("n_claims"))
        g.add(s, "nSources", r.get("n_sources"))
        for claim in claims_of.get((r["event_id"], r["category"]), []):
            g.add(s, "wasDerivedFrom", claim)

    # A demand's outcome is derived from outcome claims that other files may hold, so it is
    # said here rather than with the demand's other triples (per partition).
    for r in rows.get("demands", []):
        g.add(ref("demand", r["demand_id"]), "outcome", concept("demands", "outcome", r.get("outcome")))

    _unmapped_columns(g, meta, rows, GLOBAL_TABLES)
    return g


def corpus_inputs(tables: Tables) -> Iterator:
    """Everything of the rows that `corpus_graph` reads, in a stable order (for cache keys)."""
    rows = tables.rows
    for name in GLOBAL_TABLES:
        yield name
        yield from (tuple(r.items()) for r in rows.get(name, []))
    yield "event_actors"
    yield from ((r["event_id"], r["actor_id"]) for r in rows.get("event_actors", []))
    yield "casualties"
    yield from ((r["event_id"], r["category"], r["casualty_id"]) for r in rows.get("casualties", []))
    yield "demands"
    yield from ((r["demand_id"], r["outcome"]) for r in rows.get("demands", []))
    yield "events"
    yield from ((r["event_id"], r.get("parent_event_id")) for r in rows.get("events", []))


# The rows of the partition tables, declared rather than coded, so that the same declaration is
# both interpreted into a `Graph` (below) and compiled into text renderers (`compiled.py`).
# A node is one subject a row gives rise to; its values are expressions over the row.


@dataclass(frozen=True)
class Col:
    """The row's value of a column, as a literal of the property's kind."""

    column: str


@dataclass(frozen=True)
class Quote:
    """The row's text in a column, tagged with the language of the row's source."""

    column: str


@dataclass(frozen=True)
class Ref:
    """The IRI `<base><segment>/<value>` of the row's value in a column (a foreign key).

    With `when`, only rows with a value in at least one of those columns have it.
    """

    segment: str
    column: str
    when: tuple[str, ...] = ()


@dataclass(frozen=True)
class Concept:
    """The SKOS concept of the row's category value in a column."""

    table: str
    column: str


@dataclass(frozen=True)
class RowIri:
    """The IRI of the row itself, from its table's primary key."""

    table: str


@dataclass(frozen=True)
class Fixed:
    """One IRI, the same for every row (a prefixed name)."""

    curie: str


@dataclass(frozen=True)
class Wikidata:
    """The Wikidata entity of the row's Q-id in a column."""

    column: str


@dataclass(frozen=True)
class GeoNames:
    """The GeoNames feature IRI of the row's GeoNames id in a column."""

    column: str


@dataclass(frozen=True)
class Point:
    """The row's coordinates as a GeoSPARQL WKT literal, POINT(lon lat)."""

    lon: str
    lat: str


@dataclass(frozen=True)
class Node:
    """A subject each row of a table gives rise to: its IRI, classes and (property term, value) pairs.

    With `when`, only rows with a value in at least one of those columns have this node.
    """

    subject: Ref | RowIri
    types: tuple[str, ...]
    pairs: tuple[tuple[str, Col | Quote | Ref | Concept | RowIri | Fixed | Wikidata | GeoNames | Point], ...]
    when: tuple[str, ...] = ()


ROW_NODES: dict[str, tuple[Node, ...]] = {
    "spans": (
        Node(
            Ref("span", "span_id"),
            ("oa:SpecificResource",),
            (
                ("hasSource", Ref("source", "source_id")),
                ("wasQuotedFrom", Ref("source", "source_id")),
                # A span whose quote its source's terms withhold has no TextQuoteSelector (whose
                # oa:exact is required); its position and quoteSha256 still let a holder of the text check it.
                ("hasSelector", Ref("quote-selector", "span_id", when=("quote",))),
                ("hasSelector", Ref("position-selector", "span_id")),
                ("quoteSha256", Col("quote_sha256")),
                ("spanLabel", Concept("spans", "label")),
            ),
        ),
        Node(
            Ref("quote-selector", "span_id"),
            ("oa:TextQuoteSelector",),
            (
                ("exact", Quote("quote")),
                ("prefix", Quote("prefix")),
                ("suffix", Quote("suffix")),
            ),
            when=("quote",),
        ),
        Node(
            Ref("position-selector", "span_id"),
            ("oa:TextPositionSelector",),
            (
                ("start", Col("start")),
                ("end", Col("end")),
            ),
        ),
    ),
    "events": (
        Node(
            Ref("event", "event_id"),
            ("sem:Event", "schema:Event"),
            (
                ("name", Col("name")),
                ("description", Col("description")),
                ("eventType", Concept("events", "event_type")),
                ("scope", Concept("events", "scope")),
                ("datePrecision", Concept("events", "date_precision")),
                ("subEventOf", Ref("event", "parent_event_id")),
                ("startDate", Col("start_date")),
                ("endDate", Col("end_date")),
                ("earliestBegin", Col("earliest_date")),
                ("latestEnd", Col("latest_date")),
                ("sameAs", Wikidata("wikidata_id")),
                ("owlSameAs", Wikidata("wikidata_id")),
                ("hasPlace", Ref("event-place", "event_id", when=("place", "country"))),
                # sem:hasPlace to each of its places comes from event_places, the main one included.
                ("mainPlace", Ref("place", "place_id")),
            ),
        ),
        Node(
            Ref("event-place", "event_id"),
            ("sem:Place", "schema:Place"),
            (
                ("name", Col("place")),
                ("addressCountry", Col("country")),
            ),
            when=("place", "country"),
        ),
    ),
    "places": (
        Node(
            Ref("place", "place_id"),
            ("sem:Place", "schema:Place", "geo:Feature"),
            (
                ("name", Col("name")),
                ("featureType", Concept("places", "feature_type")),
                ("geoPrecision", Concept("places", "geo_precision")),
                ("containedInPlace", Ref("place", "within_place_id")),
                ("addressCountry", Col("country")),
                ("historicalCountry", Col("historical_country")),
                ("hasGeometry", Ref("geometry", "place_id")),
                ("geoCoordinates", Ref("coordinates", "place_id")),
                ("owlSameAs", Wikidata("wikidata_id")),
                ("owlSameAs", GeoNames("geonames_id")),
            ),
        ),
        # What lat/lon stand for is the place's geoPrecision: the geometry is the place's on a map.
        Node(Ref("geometry", "place_id"), ("geo:Geometry",), (("asWKT", Point("lon", "lat")),)),
        Node(
            Ref("coordinates", "place_id"),
            ("schema:GeoCoordinates",),
            (
                ("latitude", Col("lat")),
                ("longitude", Col("lon")),
            ),
        ),
    ),
    # Every place of an event as a row of its own (saying whether it is the main one), and the
    # plain link event sem:hasPlace place; the main place is also the event's place_id.
    "event_places": (
        Node(
            RowIri("event_places"),
            ("voc:EventPlace",),
            (
                ("about", Ref("event", "event_id")),
                ("hasPlace", Ref("place", "place_id")),
                ("isMainPlace", Col("main")),
            ),
        ),
        Node(Ref("event", "event_id"), (), (("hasPlace", Ref("place", "place_id")),)),
    ),
    "actors": (
        Node(
            Ref("actor", "actor_id"),
            ("sem:Actor",),
            (
                ("name", Col("name")),
                ("actorType", Concept("actors", "actor_type")),
                ("description", Col("description")),
                ("sameAs", Wikidata("wikidata_id")),
                ("owlSameAs", Wikidata("wikidata_id")),
            ),
        ),
    ),
    # SEM's role pattern (event hasActor Role, Role rdf:value Actor); the plain link is global.
    "event_actors": (
        Node(
            RowIri("event_actors"),
            ("sem:Role",),
            (
                ("value", Ref("actor", "actor_id")),
                ("roleType", Concept("event_actors", "role")),
                ("countMin", Col("count_min")),
                ("countMax", Col("count_max")),
                ("qualifier", Concept("event_actors", "qualifier")),
                ("countText", Col("count_text")),
                ("wasDerivedFrom", Ref("span", "span_id")),
            ),
        ),
        Node(Ref("event", "event_id"), (), (("hasActor", RowIri("event_actors")),)),
    ),
    "event_mentions": (
        Node(
            RowIri("event_mentions"),
            ("oa:Annotation",),
            (
                ("motivatedBy", Fixed("oa:identifying")),
                ("hasBody", Ref("event", "event_id")),
                ("hasTarget", Ref("span", "span_id")),
                ("statedDate", Col("date")),
                ("statedPlace", Col("place")),
                ("statedPlaceFeature", Ref("place", "place_id")),
                ("datePrecision", Concept("event_mentions", "date_precision")),
            ),
        ),
    ),
    "casualties": (
        Node(
            Ref("casualty", "casualty_id"),
            ("voc:CasualtyClaim", "prov:Entity"),
            (
                ("about", Ref("event", "event_id")),
                ("category", Concept("casualties", "category")),
                ("countMin", Col("count_min")),
                ("countMax", Col("count_max")),
                ("qualifier", Concept("casualties", "qualifier")),
                ("victim", Ref("actor", "victim_actor_id")),
                ("perpetrator", Ref("actor", "perpetrator_actor_id")),
                ("claimant", Col("claimant")),
                ("claimantType", Concept("casualties", "claimant_type")),
                ("wasAttributedTo", Ref("actor", "claimant_actor_id")),
                ("wasDerivedFrom", Ref("span", "span_id")),
            ),
        ),
    ),
    "demands": (
        Node(
            Ref("demand", "demand_id"),
            ("voc:Demand", "prov:Entity"),
            (
                ("about", Ref("event", "event_id")),
                ("demandedBy", Ref("actor", "actor_id")),
                ("text", Col("text")),
                ("category", Concept("demands", "category")),
                ("wasDerivedFrom", Ref("span", "span_id")),
            ),
        ),
    ),
    "demand_outcomes": (
        Node(
            Ref("demand-outcome", "outcome_id"),
            ("voc:DemandOutcome", "prov:Entity"),
            (
                ("about", Ref("demand", "demand_id")),
                ("outcome", Concept("demand_outcomes", "outcome")),
                ("claimant", Col("claimant")),
                ("wasDerivedFrom", Ref("span", "span_id")),
            ),
        ),
    ),
}


def row_nodes(meta: Metadata) -> dict[str, tuple[Node, ...]]:
    """ROW_NODES for the tables of meta, each table's first node also given its unmapped columns."""
    extra = _extra_properties(meta)
    term_of = {curie: term for term, (curie, _) in extra.items()}
    out = {}
    for table, nodes in ROW_NODES.items():
        if table not in meta.tables:
            continue
        columns = [c for c in meta[table].field_names if c not in MAPPED.get(table, ())]
        first, *rest = nodes
        pairs = first.pairs + tuple((term_of[f"voc:{_camel(c)}"], Col(c)) for c in columns)
        out[table] = (Node(first.subject, first.types, pairs, first.when), *rest)
    return out


def _row_iri(g: Graph, meta: Metadata, table: str, row: dict) -> str:
    return g.iri(SEGMENTS[table], *(row[k] for k in meta[table].primary_key))


def _unmapped_columns(g: Graph, meta: Metadata, rows: dict[str, list[dict]], names) -> None:
    extra = {p.curie: p.term for p in g.props.values() if p.term not in PROPERTIES}
    for name in names:
        schema = meta[name]
        columns = [c for c in schema.field_names if c not in MAPPED.get(name, ())]
        if not columns or name not in SEGMENTS:
            continue
        for row in rows.get(name, []):
            s = _row_iri(g, meta, name, row)
            for column in columns:
                value = row.get(column)
                if value is not None:
                    term = extra[f"voc:{_camel(column)}"]
                    g.add(s, term, value if g.props[term].kind != "string" else str(value))


def _describe_dataset(g: Graph, meta: Metadata, files: dict[str, tuple[int, str]], exports: list[str]) -> None:
    """DCAT and schema.org description of the dataset, with a distribution per file of dist/."""
    d = meta.descriptor
    s = g.base
    g.types(s, "dcat:Dataset", "schema:Dataset")
    for term in ("title", "name"):
        g.add(s, term, d.get("title"))
    for term in ("dctDescription", "description"):
        g.add(s, term, d.get("description"))
    for term in ("dcatVersion", "version"):
        g.add(s, term, d.get("version"))
    for lic in d.get("licenses", []):
        if lic.get("path"):
            g.add(s, "dctLicense", safe_iri(lic["path"]))
            g.add(s, "license", safe_iri(lic["path"]))
    g.add(s, "rights", d.get("rights"))
    for keyword in d.get("keywords", []):
        g.add(s, "keyword", keyword)
        g.add(s, "keywords", keyword)
    if d.get("homepage"):
        g.add(s, "url", safe_iri(d["homepage"]))
    for person in d.get("contributors", []):
        if "creator" not in person.get("roles", [person.get("role")]):
            continue
        name = person.get("title") or " ".join(filter(None, (person.get("givenName"), person.get("familyName"))))
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        agent = g.iri("contributor", slug)
        g.types(agent, "schema:Person" if person.get("familyName") else "schema:Organization")
        g.add(agent, "name", name)
        g.add(s, "dctCreator", agent)
        g.add(s, "creator", agent)
    if d.get("temporalCoverage"):
        coverage = str(d["temporalCoverage"])
        period = s + "#temporal-coverage"
        g.add(s, "temporalCoverage", coverage)
        g.add(s, "temporal", period)
        g.types(period, "dcterms:PeriodOfTime")
        try:
            low, high = edtf_bounds(coverage)
        except ValueError as exc:
            raise PipelineError(f"datapackage.json: temporalCoverage {exc}") from exc
        g.add(period, "dcatStartDate", low)
        g.add(period, "dcatEndDate", high)

    titles = {schema.path: schema.title for schema in meta.tables.values()}
    titles[f"{meta.name}.per-event.jsonld"] = "One JSON-LD node per event, with its casualty claims and estimates"
    titles.update(
        {
            schema.path[: -len(".csv")] + ".parquet": f"{schema.title} (Parquet)"
            for schema in meta.tables.values()
            if schema.path.endswith(".csv")
        }
    )
    for name in sorted({*files, *exports}):
        dist = g.iri("distribution", name)
        suffix = name[name.rfind(".") :]
        media = MEDIA_TYPES.get(suffix, "application/octet-stream")
        g.add(s, "dcatDistribution", dist)
        g.add(s, "distribution", dist)
        g.types(dist, "dcat:Distribution", "schema:DataDownload")
        title = titles.get(name) or ("JSON-LD context" if name == "context.jsonld" else FILE_TITLES.get(suffix, name))
        g.add(dist, "title", title)
        g.add(dist, "downloadURL", g.iri("dist", name))
        # DCAT-AP 3 requires an accessURL on every distribution; the file itself gives access.
        g.add(dist, "accessURL", g.iri("dist", name))
        g.add(dist, "contentUrl", g.iri("dist", name))
        g.add(dist, "mediaType", "https://www.iana.org/assignments/media-types/" + media)
        g.add(dist, "encodingFormat", media)
        # The exports cannot carry their own size and hash. Binary files (Parquet, SQLite) change
        # bytes with the library versions: their hash here would make the committed RDF differ
        # from a build on another machine, so only our own text files carry size and hash.
        if name in files and (suffix in HASHED or name.endswith(HASHED_NAMES)):
            g.add(dist, "byteSize", files[name][0])
            g.add(dist, "sha256", files[name][1])
