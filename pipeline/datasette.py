"""Datasette for the built SQLite database: `datasette.json` (metadata from the schemas) and full-text search tables.

Input: the built datapackage.json (inline schemas) and the SQLite database of the build. Output:
`datasette.json` in every release (title, licence, table and column descriptions, label columns,
facets, sort orders, canned queries) and FTS5 tables added to the database: `spans_fts` over
quotes, `events_fts` and `actors_fts` over names and descriptions. Our tables are WITHOUT ROWID
(stored in key order), which Datasette's table-level `fts_table` cannot join on, so search runs
through canned queries and the FTS tables' own pages (`?_search=`). Serve a release with
`datasette soviet-bloc-revolts.sqlite -m datasette.json`.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

DATASETTE_FILENAME = "datasette.json"
# (FTS table, source table, key column, searched columns)
SEARCH_TABLES = (("spans_fts", "spans", "span_id", ("quote",)),
                 ("events_fts", "events", "event_id", ("name", "description")),
                 ("actors_fts", "actors", "actor_id", ("name", "description")))
# The column a row is shown by where another table points at it (a span by its quote, not its id).
LABEL_COLUMNS = {"sources": "title", "spans": "quote", "events": "name", "actors": "name", "demands": "text",
                 "places": "name", "event_summary": "name"}
FACETS = {"events": ["event_type", "country", "scope"], "casualties": ["category", "qualifier", "claimant_type"],
          "demands": ["category", "outcome"], "event_actors": ["role"], "actors": ["actor_type"], "spans": ["source_id", "label"]}
SORT = {"events": "earliest_date", "sources": "source_id", "spans": "span_id", "casualties": "event_id", "demands": "event_id"}

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
        "description": "Full-text search over the published quotes (SQLite FTS5 syntax: words, \"phrases\", OR, prefix*).",
        "sql": """select sp.span_id, sp.source_id, sp.quote
from spans_fts f join spans sp on sp.span_id = f.span_id
where spans_fts match :q
order by f.rank, sp.span_id""",
    },
    "search_events": {
        "title": "Search events and actors",
        "description": "Full-text search over the names and descriptions of events and actors.",
        "sql": """select 'event' as kind, f.event_id as id, f.name, f.description from events_fts f where events_fts match :q
union all
select 'actor', f.actor_id, f.name, f.description from actors_fts f where actors_fts match :q
order by kind, id""",
    },
}


def database_name(descriptor: dict) -> str:
    """The name Datasette gives the database: its file name without `.sqlite`."""
    return str(descriptor.get("name", "data"))


def datasette_metadata(descriptor: dict) -> dict:
    """Datasette metadata of a built package, from its inline schemas."""
    licence = next(iter(descriptor.get("licenses", [])), {})
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
    for fts, source, key, searched in SEARCH_TABLES:
        if source in tables:
            tables[fts] = {"description": f"Full-text index of {source} ({', '.join(searched)}); search it with ?_search=.",
                           "columns": {key: f"The {source} row.", **{c: tables[source]["columns"].get(c, "") for c in searched}}}
    queries = {k: v for k, v in CANNED_QUERIES.items()
               if all(t in tables for t in ("events", "casualties", "spans", "sources", "demands", "actors"))}
    return {
        "title": descriptor.get("title", ""),
        "description": descriptor.get("description", ""),
        "license": licence.get("name", ""),
        "license_url": licence.get("path", ""),
        "source": "Source articles: see the sources table (each with its publisher, URL and quoting terms)",
        "databases": {database_name(descriptor): {"tables": tables, "queries": queries}},
    }


def datasette_bytes(descriptor: dict) -> bytes:
    return (json.dumps(datasette_metadata(descriptor), indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def add_search_tables(database: Path, descriptor: dict) -> None:
    """Create (again) the FTS5 tables of SEARCH_TABLES in the database, filled from their tables."""
    names = {r["name"]: {f["name"] for f in r.get("schema", {}).get("fields", [])}
             for r in descriptor.get("resources", []) if isinstance(r.get("schema"), dict)}
    con = sqlite3.connect(database, isolation_level=None)
    try:
        con.execute("BEGIN")
        for fts, source, key, searched in SEARCH_TABLES:
            if source not in names or not {key, *searched} <= names[source]:
                continue
            con.execute(f'DROP TABLE IF EXISTS "{fts}"')
            columns = ", ".join(f'"{c}"' for c in searched)
            con.execute(f'CREATE VIRTUAL TABLE "{fts}" USING fts5("{key}" UNINDEXED, {columns}, tokenize="unicode61 remove_diacritics 2")')
            con.execute(f'INSERT INTO "{fts}" SELECT "{key}", {columns} FROM "{source}" ORDER BY "{key}"')
        con.execute("COMMIT")
        con.execute("VACUUM")
    finally:
        con.close()
