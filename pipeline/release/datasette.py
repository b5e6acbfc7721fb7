"""Datasette for the built SQLite database: `datasette.json` (metadata from the schemas) and full-text search tables.

Input: the built datapackage.json (inline schemas) and the SQLite database of the build. Output:
`datasette.json` in every release (title, licence, table and column descriptions, label columns,
facets, sort orders, canned queries). Full-text search uses the database's own FTS5 index `search`
(kind, id, text: quotes, and names and descriptions of events and actors; see write/exports.py).
Our tables are WITHOUT ROWID (stored in key order), which Datasette's table-level `fts_table`
cannot join on, so search runs through canned queries and the index's own page (`?_search=`). Serve a release with
`datasette soviet-bloc-revolts.sqlite -m datasette.json`.
"""

from __future__ import annotations

import json

DATASETTE_FILENAME = "datasette.json"
SEARCH_TABLE = "search"
# The column a row is shown by where another table points at it (a span by its quote, not its id).
LABEL_COLUMNS = {
    "sources": "title",
    "spans": "quote",
    "events": "name",
    "actors": "name",
    "demands": "text",
    "places": "name",
    "event_summary": "name",
}
FACETS = {
    "events": ["event_type", "country", "scope"],
    "casualties": ["category", "qualifier", "claimant_type"],
    "demands": ["category", "outcome"],
    "event_actors": ["role"],
    "actors": ["actor_type"],
    "spans": ["source_id", "label"],
}
SORT = {
    "events": "earliest_date",
    "sources": "source_id",
    "spans": "span_id",
    "casualties": "event_id",
    "demands": "event_id",
}

CANNED_QUERIES = {
    "death_toll_ranges": {
        "title": "Death-toll ranges with their sources",
        "description": "Every claim of people killed or executed per event: the figure, who gives it, and the source and quote it was read from.",
        "sql": """select e.event_id, e.name as event, c.category, c.count_min, c.count_max, c.qualifier, c.claimant,
  s.title as source, sp.quote
from casualties c
join events e on e.event_id = c.event_id
join spans sp on sp.span_id = c.span_id
join sources s on s.source_id = sp.source_id
where c.category in ('killed', 'executed')
order by e.earliest_date, e.event_id, coalesce(c.count_min, c.count_max), c.casualty_id""",
    },
    "demands_by_event": {
        "title": "Demands by event",
        "description": "The demands raised in each event, with category, outcome, who raised them and the quote.",
        "sql": """select e.event_id, e.name as event, d.text as demand, d.category, d.outcome, a.name as raised_by, sp.quote
from demands d
join events e on e.event_id = d.event_id
left join actors a on a.actor_id = d.actor_id
join spans sp on sp.span_id = d.span_id
order by e.earliest_date, e.event_id, d.category, d.demand_id""",
    },
    "events_per_year": {
        "title": "Events per year",
        "description": "How many events began in each year (by their earliest possible date).",
        "sql": """select substr(earliest_date, 1, 4) as year, count(*) as events
from events
where earliest_date != ''
group by year
order by year""",
    },
    "search_quotes": {
        "title": "Search the quotes",
        "description": 'Full-text search over the published quotes (SQLite FTS5 syntax: words, "phrases", OR, prefix*).',
        "sql": """select sp.span_id, sp.source_id, sp.quote
from search s join spans sp on sp.span_id = s.id
where s.kind = 'quote' and search match :q
order by s.rank, sp.span_id""",
    },
    "search_events": {
        "title": "Search events and actors",
        "description": "Full-text search over the names and descriptions of events and actors.",
        "sql": """select s.kind, s.id, s.text from search s
where s.kind in ('event', 'actor') and search match :q
order by s.kind, s.id""",
    },
}


def database_name(descriptor: dict) -> str:
    """The name Datasette gives the database: its file name without `.sqlite`."""
    return str(descriptor.get("name", "data"))


def datasette_metadata(descriptor: dict) -> dict:
    """Datasette metadata of a built package, from its inline schemas."""
    licence: dict = next(iter(descriptor.get("licenses", [])), {})
    tables = {}
    for resource in descriptor.get("resources", []):
        schema = resource.get("schema")
        if not isinstance(schema, dict) or not str(resource.get("path", "")).endswith(".csv"):
            continue
        name = resource["name"]
        columns = {f["name"]: f.get("description", "") for f in schema.get("fields", [])}
        table = {"title": resource.get("title", name), "description": schema.get("description", ""), "columns": columns}
        if LABEL_COLUMNS.get(name) in columns:
            table["label_column"] = LABEL_COLUMNS[name]
        facets = [c for c in FACETS.get(name, []) if c in columns]
        if facets:
            table["facets"] = facets
        if SORT.get(name) in columns:
            table["sort"] = SORT[name]
        tables[name] = table
    tables[SEARCH_TABLE] = {
        "description": "Full-text index of the published quotes and of the names and descriptions of events and actors; search it with ?_search=.",
        "columns": {
            "kind": "quote, event or actor.",
            "id": "The span, event or actor id.",
            "text": "The text searched.",
        },
    }
    queries = {
        k: v
        for k, v in CANNED_QUERIES.items()
        if all(t in tables for t in ("events", "casualties", "spans", "sources", "demands", "actors"))
    }
    return {
        "title": descriptor.get("title", ""),
        "description": descriptor.get("description", ""),
        "license": licence.get("name", ""),
        "license_url": licence.get("path", ""),
        "source": "Source articles: see the sources table (each with its publisher, URL and quoting terms)",
        "databases": {database_name(descriptor): {"tables": tables, "queries": queries}},
    }


def datasette_bytes(descriptor: dict) -> bytes:
    return (json.dumps(datasette_metadata(descriptor), indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode(
        "utf-8"
    )
