"""The reference path the benchmark compares us with: frictionless and rdflib on our built package.

Input: a built dist/ folder. Output: seconds for `frictionless validate` of the package and for
rdflib's Turtle and JSON-LD serialisation of the same data as a graph, plus the triple count.

The graph is our own export's: rdflib parses the N-Triples file the build wrote (not timed), so
both paths serialise exactly the same triples. Without such a file (a build from before the
linked-data exports), `rows_to_graph` maps the CSV rows instead: one subject per row, one triple
per non-empty cell, foreign keys as IRIs.
"""

from __future__ import annotations

import csv
import json
import signal
import time
from contextlib import contextmanager
from pathlib import Path


def frictionless_validate(dist: Path) -> tuple[float, bool, int]:
    """Seconds, verdict and error count of `frictionless validate dist/datapackage.json`."""
    from frictionless import Package

    start = time.perf_counter()
    report = Package(str(dist / "datapackage.json")).validate()
    return time.perf_counter() - start, report.valid, report.stats["errors"]


def rows_to_graph(dist: Path):
    """An rdflib Graph of every row of the package (the simple mapping described above)."""
    from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef

    desc = json.loads((dist / "datapackage.json").read_text(encoding="utf-8"))
    base = desc.get("baseIri") or "https://example.org/dataset/"
    voc = Namespace(base + "vocab/")
    graph = Graph()
    graph.bind("voc", voc)
    targets = {}
    for res in desc["resources"]:
        for fk in res["schema"].get("foreignKeys", []):
            if len(fk["fields"]) == 1:
                targets[(res["name"], fk["fields"][0])] = fk["reference"]["resource"]
    for res in desc["resources"]:
        name, schema = res["name"], res["schema"]
        pk = schema.get("primaryKey", [])
        types = {f["name"]: f["type"] for f in schema["fields"]}
        cls = voc[name]
        with open(dist / res["path"], encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                key = "/".join(row[k] for k in pk) if pk else str(i)
                subject = URIRef(f"{base}{name}/{key}")
                graph.add((subject, RDF.type, cls))
                for col, value in row.items():
                    if value == "":
                        continue
                    if (name, col) in targets:
                        obj = URIRef(f"{base}{targets[(name, col)]}/{value}")
                    elif types[col] == "integer":
                        obj = Literal(int(value))
                    elif types[col] == "boolean":
                        obj = Literal(value == "true")
                    elif types[col] == "date":
                        obj = Literal(value, datatype=XSD.date)
                    else:
                        obj = Literal(value)
                    graph.add((subject, voc[col], obj))
    return graph


class OverBudget(BaseException):
    """A reference step ran longer than its time budget and was stopped.

    A BaseException, like KeyboardInterrupt, so that the libraries' `except Exception` clauses
    do not swallow it.
    """


@contextmanager
def budget(seconds: float | None):
    """Raise OverBudget inside the block once it has run `seconds` (none: no limit).

    SIGALRM interrupts the pure-Python serialisers between bytecodes, so the step stops promptly;
    the alarm repeats every second in case a library catches and drops the exception.
    """
    if not seconds:
        yield
        return

    def stop(signum, frame):
        raise OverBudget

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(dist: Path, out: Path, limit: float | None = None) -> dict:
    """Every reference step on dist/, writing the serialisations into out/; seconds per step.

    With `limit`, a timed step still running after `limit` seconds is stopped: its entry is
    None and `stopped` lists it (its true time is more than `limit`). Parsing is not limited.
    """
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"stopped": []}
    try:
        with budget(limit):
            seconds, valid, errors = frictionless_validate(dist)
        result["frictionless validate"] = seconds
        result["frictionless verdict"] = "valid" if valid else f"invalid ({errors} errors)"
    except OverBudget:
        result["frictionless validate"] = None
        result["stopped"].append("frictionless validate")
    start = time.perf_counter()
    ntriples = sorted(dist.glob("*.nt"))
    if ntriples:
        from rdflib import Graph

        graph = Graph()
        graph.parse(str(ntriples[0]), format="nt")
        result[f"rdflib parse {ntriples[0].name} (not counted)"] = time.perf_counter() - start
    else:
        graph = rows_to_graph(dist)
        result["rdflib graph from CSV (not counted)"] = time.perf_counter() - start
    result["triples"] = len(graph)
    for fmt, ext in (("turtle", "ttl"), ("json-ld", "jsonld")):
        start = time.perf_counter()
        try:
            with budget(limit):
                graph.serialize(destination=str(out / f"reference.{ext}"), format=fmt)
            result[f"rdflib {fmt}"] = time.perf_counter() - start
        except OverBudget:
            result[f"rdflib {fmt}"] = None
            result["stopped"].append(f"rdflib {fmt}")
    return result
