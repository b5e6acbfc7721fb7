"""The fast reference the benchmark compares us with: DuckDB checks of the tables, Oxigraph writing the graph.

Input: a built dist/ folder. Output: seconds per stage, each the counterpart of one of our stages:

- `duckdb load`: every CSV file of the package read into a DuckDB table (all columns as text,
  so that a bad cell is counted instead of failing the load);
- `duckdb checks`: the constraints of each resource's Table Schema, as SQL derived from the
  descriptor (never written by hand per table): header names, types, required, enum,
  pattern, minimum/maximum, minLength/maxLength, unique, format "uri", primary keys
  (non-empty and unique) and foreign keys (an anti-join per key);
- `oxigraph load`: the build's N-Triples file bulk-loaded into an in-memory pyoxigraph Store;
- `oxigraph dump <format>`: that store written as Turtle (with the prefixes of our Turtle
  file), N-Triples and JSON-LD (pyoxigraph writes expanded JSON-LD without a context).

The descriptor read is dist/datapackage.json, whose schemas are those of schemas/ as the build
publishes them. Our own validation also checks rules that are not in the Table Schemas
(count_min <= count_max, span offsets, formula-like text, ids shared across tables, events and
actors cited by some span); this reference does not, so it does less work than we do. Neither
does it check the resources' hashes and sizes, which `frictionless validate` does.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

# The lexical forms of Table Schema types (the defaults; our schemas set no `format` on them).
# TRY_CAST alone is too lenient for a check: DuckDB casts '1.5' to the integer 2 and '2020-1-2'
# to a date, values frictionless and our validation refuse.
_INTEGER = r"^[-+]?[0-9]+$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_NUMBER = r"^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
# Table Schema's default boolean spellings, used where a field declares none.
_TRUE_VALUES = ["true", "True", "TRUE", "1"]
_FALSE_VALUES = ["false", "False", "FALSE", "0"]
# As our validation reads format "uri": an http(s) URL without spaces.
_URI = r"^https?://\S+$"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _valid_type(column: str, field: dict) -> str | None:
    """SQL true where the non-empty text `column` is a valid value of the field's type (None: any text is)."""
    kind = field.get("type", "string")
    if kind in ("string", "any"):
        return None
    if kind == "integer":
        return f"regexp_full_match({column}, {_literal(_INTEGER)})"
    if kind == "number":
        return f"regexp_full_match({column}, {_literal(_NUMBER)})"
    if kind == "date":
        return f"(regexp_full_match({column}, {_literal(_DATE)}) AND TRY_CAST({column} AS DATE) IS NOT NULL)"
    if kind == "boolean":
        spellings = field.get("trueValues", _TRUE_VALUES) + field.get("falseValues", _FALSE_VALUES)
        return f"{column} IN ({', '.join(map(_literal, spellings))})"
    raise ValueError(f"reference_fast has no DuckDB check for field type {kind!r} (field {field['name']!r}); add one")


def _typed(column: str, field: dict) -> str:
    """The non-empty text `column` as a value of the field's type, for minimum and maximum."""
    return {"integer": f"TRY_CAST({column} AS BIGINT)", "number": f"TRY_CAST({column} AS DOUBLE)",
            "date": f"TRY_CAST({column} AS DATE)"}.get(field.get("type", "string"), column)


def column_checks(field: dict) -> list[tuple[str, str]]:
    """(check name, SQL aggregate counting the rows that break it) for one field's type and constraints."""
    column = _ident(field["name"])
    present = f"{column} IS NOT NULL"
    cons = field.get("constraints", {})
    checks = []
    valid = _valid_type(column, field)
    if valid is not None:
        checks.append(("type", f"count_if({present} AND NOT {valid})"))
    # The value checks below apply to values of the right type only; a bad one is counted once, above.
    typed_ok = present if valid is None else f"{present} AND {valid}"
    if cons.get("required"):
        checks.append(("required", f"count_if({column} IS NULL)"))
    if "enum" in cons:
        checks.append(("enum", f"count_if({typed_ok} AND {column} NOT IN ({', '.join(_literal(v) for v in cons['enum'])}))"))
    if "pattern" in cons:
        checks.append(("pattern", f"count_if({typed_ok} AND NOT regexp_full_match({column}, {_literal(cons['pattern'])}))"))
    if field.get("format") == "uri":
        checks.append(("format uri", f"count_if({typed_ok} AND NOT regexp_full_match({column}, {_literal(_URI)}))"))
    for name, op in (("minimum", "<"), ("maximum", ">")):
        if name in cons:
            bound = cons[name] if field.get("type") in ("integer", "number") else f"{_typed(_literal(cons[name]), field)}"
            checks.append((name, f"count_if({typed_ok} AND {_typed(column, field)} {op} {bound})"))
    for name, op in (("minLength", "<"), ("maxLength", ">")):
        if name in cons:
            checks.append((name, f"count_if({typed_ok} AND length({column}) {op} {int(cons[name])})"))
    if cons.get("unique"):
        checks.append(("unique", f"count({column}) - count(DISTINCT {column})"))
    return checks


def _csv_source(dist: Path, resource: dict) -> str:
    schema = resource["schema"]
    columns = ", ".join(f"{_literal(f['name'])}: 'VARCHAR'" for f in schema["fields"])
    nulls = ", ".join(map(_literal, schema.get("missingValues", [""])))
    return (f"read_csv({_literal(dist / resource['path'])}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', columns = {{{columns}}}, nullstr = [{nulls}])")


def load(con, dist: Path, desc: dict) -> None:
    """Every resource's CSV file into a table of the same name, every column as text."""
    for resource in desc["resources"]:
        con.execute(f"CREATE TABLE {_ident(resource['name'])} AS SELECT * FROM {_csv_source(dist, resource)}")


def check(con, dist: Path, desc: dict) -> list[tuple[str, str, str, int]]:
    """(resource, field or key, check, rows breaking it) for every check that some row breaks."""
    failures = []
    for resource in desc["resources"]:
        name, schema = resource["name"], resource["schema"]
        table = _ident(name)
        with open(dist / resource["path"], encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        if header != [f["name"] for f in schema["fields"]]:
            failures.append((name, "header", "field names", 1))
        checks = [(f["name"], check, sql) for f in schema["fields"] for check, sql in column_checks(f)]
        # One scan of the table for all of its column checks.
        counts = con.execute(f"SELECT {', '.join(sql for _, _, sql in checks)} FROM {table}").fetchone() if checks else ()
        failures += [(name, field, check, n) for (field, check, _), n in zip(checks, counts) if n]
        pk = schema.get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else pk
        if pk:
            key = ", ".join(map(_ident, pk))
            empty = " OR ".join(f"{_ident(c)} IS NULL" for c in pk)
            n = con.execute(f"SELECT count_if({empty}) FROM {table}").fetchone()[0]
            if n:
                failures.append((name, "/".join(pk), "primary key empty", n))
            n = con.execute(f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1)").fetchone()[0]
            if n:
                failures.append((name, "/".join(pk), "primary key unique", n))
        for fk in schema.get("foreignKeys", []):
            fields = [fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"]
            ref = fk["reference"]
            ref_fields = [ref["fields"]] if isinstance(ref["fields"], str) else ref["fields"]
            parent = _ident(ref.get("resource") or name)
            match = " AND ".join(f"p.{_ident(r)} = c.{_ident(f)}" for f, r in zip(fields, ref_fields))
            # As frictionless and our validation: a reference with an empty part is not checked.
            given = " AND ".join(f"c.{_ident(f)} IS NOT NULL" for f in fields)
            n = con.execute(f"SELECT count(*) FROM {table} c WHERE {given} AND NOT EXISTS "
                            f"(SELECT 1 FROM {parent} p WHERE {match})").fetchone()[0]
            if n:
                failures.append((name, "/".join(fields), f"foreign key to {ref.get('resource') or name}", n))
    return failures


def _prefixes(turtle: Path) -> dict[str, str]:
    """The @prefix lines at the head of our Turtle file, so that Oxigraph's Turtle is as compact as ours."""
    prefixes = {}
    with open(turtle, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("@prefix "):
                name, iri = line[len("@prefix "):].split(None, 1)
                prefixes[name.rstrip(":")] = iri.strip().rstrip(".").strip().strip("<>")
            elif line.strip() and not line.startswith(("@base", "#")):
                break
    return prefixes


def run(dist: Path, out: Path) -> dict:
    """Every stage of the fast reference on dist/, writing Oxigraph's serialisations into out/; seconds per stage."""
    import duckdb
    import pyoxigraph as ox

    out.mkdir(parents=True, exist_ok=True)
    desc = json.loads((dist / "datapackage.json").read_text(encoding="utf-8"))
    result: dict = {}
    con = duckdb.connect()
    start = time.perf_counter()
    load(con, dist, desc)
    result["duckdb load"] = time.perf_counter() - start
    start = time.perf_counter()
    failures = check(con, dist, desc)
    result["duckdb checks"] = time.perf_counter() - start
    con.close()
    result["duckdb verdict"] = "valid" if not failures else "invalid: " + "; ".join(
        f"{table}.{field} {check} ({n} rows)" for table, field, check, n in failures)

    ntriples = sorted(dist.glob("*.nt"))
    if not ntriples:
        raise SystemExit(f"{dist}: no N-Triples file to load into Oxigraph; build the package with its linked-data exports")
    store = ox.Store()
    start = time.perf_counter()
    store.bulk_load(path=str(ntriples[0]), format=ox.RdfFormat.N_TRIPLES)
    result[f"oxigraph load {ntriples[0].name}"] = time.perf_counter() - start
    result["triples"] = len(store)
    turtle = ntriples[0].with_suffix(".ttl")
    prefixes = _prefixes(turtle) if turtle.exists() else {}
    for label, fmt, ext, options in (
        ("turtle", ox.RdfFormat.TURTLE, "ttl", {"prefixes": prefixes}),
        ("n-triples", ox.RdfFormat.N_TRIPLES, "nt", {}),
        ("json-ld", ox.RdfFormat.JSON_LD, "jsonld", {}),
    ):
        start = time.perf_counter()
        store.dump(str(out / f"oxigraph.{ext}"), fmt, from_graph=ox.DefaultGraph(), **options)
        result[f"oxigraph dump {label}"] = time.perf_counter() - start
    return result
