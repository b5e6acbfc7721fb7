"""Stage 2, build tables: a `Corpus` becomes one list of rows per table of the data package.

Input: the anchored `Corpus` and the `Metadata`. Output: `Tables`, rows keyed by column name in
schema order (values as Python int/str/bool/None), each row with the `Origin` it came from;
ids of claims are derived here, and `casualty_estimates` is computed from `casualties`.
"""

from __future__ import annotations

import calendar
import operator
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline import quoting
from pipeline.errors import Problem
from pipeline.metadata import Metadata
from pipeline.read.annotations import Corpus, Origin
from pipeline.read.yamlfile import Yaml11Number, yaml11_message
from pipeline.rows.summary import date_precision, event_summary

# Claim tables whose id column is derived from the span when the annotator gives none.
DERIVED_IDS = {
    "casualties": ("casualty_id", "category"),
    "demands": ("demand_id", "category"),
    "demand_outcomes": ("outcome_id", "demand_id"),
}
OPEN_ABOVE = ("at_least", "more_than")


@dataclass
class Tables:
    """Rows per table, with the origin of each row at the same index."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    origins: dict[str, list[Origin | None]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # How many rows at the end of a table the build filled in itself (no origin of their own).
    filled: dict[str, int] = field(default_factory=dict)
    # Each row already rendered as its CSV line, where a partition did so (package.csv_lines).
    lines: dict[str, list[str]] = field(default_factory=dict)
    # Partition tables whose rows the merge changed (a derived column), so that copies the
    # partitions stored of them (SQLite entry files) are replaced.
    restated: set[str] = field(default_factory=set)
    # What the published spans reproduce of each source (quoting.Figures by source id), as measured by the merge.
    quoted: dict = field(default_factory=dict)

    def drop_origins(self) -> None:
        """Forget where rows came from (messages then lack file:line) to keep partitions small."""
        self.origins = {name: [None] * len(rows) for name, rows in self.rows.items()}

    def add(self, table: str, row: dict, origin: Origin | None) -> None:
        self.rows.setdefault(table, []).append(row)
        self.origins.setdefault(table, []).append(origin)


def _counts(values: dict, origin: Origin, problems: list[Problem], where: str) -> None:
    """Expand the `count: N` shorthand according to the qualifier, in place."""
    if "count" not in values:
        return
    n = values.pop("count")
    if "count_min" in values or "count_max" in values:
        problems.append(
            Problem(
                origin.file,
                origin.line_of("count"),
                "count-conflict",
                f"{where}: give either count or count_min/count_max, not both; remove one",
            )
        )
        return
    if n.__class__ is Yaml11Number:
        if n.form:
            problems.append(
                Problem(origin.file, origin.line_of("count"), "yaml11-number", f"{where}: {yaml11_message('count', n)}")
            )
            return
        n = n.number  # `1_000`: the decimal number written
    if isinstance(n, bool) or not isinstance(n, int):
        problems.append(
            Problem(
                origin.file,
                origin.line_of("count"),
                "bad-count",
                f"{where}: count {n!r} is not a whole number; write the figure in digits (e.g. 26), or leave count out if the source gives none",
            )
        )
        return
    if n < 0:
        problems.append(
            Problem(
                origin.file,
                origin.line_of("count"),
                "bad-count",
                f"{where}: count {n} is negative; write the figure as the source gives it",
            )
        )
        return
    qualifier = values.get("qualifier") or "exact"
    values.setdefault("qualifier", qualifier)
    if qualifier in OPEN_ABOVE:
        values["count_min"] = n
    elif qualifier == "up_to":
        values["count_max"] = n
    else:
        values["count_min"] = values["count_max"] = n


# The EDTF forms annotators write nearly always (1962, 1962-06, 1962-06-02, each optionally ~ ? %,
# and intervals of two of them): their bounds are plain calendar arithmetic, about 1000x faster
# than the general grammar. Days above 28 go to the library, which alone decides their validity.
_SIMPLE_EDTF = re.compile(r"^([1-9][0-9]{3})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|1[0-9]|2[0-8]))?)?[?~%]?$")


def _simple_bounds(value: str) -> tuple[str, str] | None:
    m = _SIMPLE_EDTF.fullmatch(value)
    if m is None:
        return None
    year, month, day = m.groups()
    if day:
        return f"{year}-{month}-{day}", f"{year}-{month}-{day}"
    if month:
        return f"{year}-{month}-01", f"{year}-{month}-{calendar.monthrange(int(year), int(month))[1]:02d}"
    return f"{year}-01-01", f"{year}-12-31"


class IntervalOrderError(ValueError):
    """An EDTF interval whose end lies wholly before its start; the message is complete."""


@lru_cache(maxsize=65536)
def edtf_bounds(value: str) -> tuple[str | None, str | None]:
    """Earliest and latest ISO day an EDTF string allows; raises ValueError if it is invalid.

    >>> edtf_bounds("1953-07")
    ('1953-07-01', '1953-07-31')
    >>> edtf_bounds("1962-06-01/1962-06-03")
    ('1962-06-01', '1962-06-03')

    An open ("..") or unknown (empty) end of an interval has no bound: None, never one invented.

    >>> edtf_bounds("../1961"), edtf_bounds("1953/"), edtf_bounds("/1961")
    ((None, '1961-12-31'), ('1953-01-01', None), (None, '1961-12-31'))
    """
    parts = value.split("/")
    if 1 <= len(parts) <= 2:
        bounds = [_simple_bounds(p) for p in parts]
        first, last = bounds[0], bounds[-1]
        if first is not None and last is not None and first[0] <= last[1]:
            return first[0], last[1]
    return _library_bounds(value)


def _library_bounds(value: str) -> tuple[str | None, str | None]:
    from edtf import parse_edtf
    from edtf.parser.edtf_exceptions import EDTFParseException

    try:
        parsed = parse_edtf(value)
    except EDTFParseException as exc:
        raise ValueError(f"'{value}' is not a valid EDTF date") from exc
    out: list[str | None] = []
    for getter in (parsed.lower_strict, parsed.upper_strict):
        try:
            out.append(time.strftime("%Y-%m-%d", getter()))
        except (TypeError, ValueError, OverflowError):
            out.append(None)  # open interval ends ("..") have no bound
    if "/" in value:
        # The library invents a bound ten years off for an unknown end ("1953/", "/1961"); an
        # end not given stays open, as ".." does.
        first, _, last = value.partition("/")
        out = [None if first in ("", "..") else out[0], None if last in ("", "..") else out[1]]
    if out[0] and out[1] and out[1] < out[0]:
        raise IntervalOrderError(
            f"{value} ends before it starts ({out[1]} is before {out[0]}); write the earlier date first"
        )
    return out[0], out[1]


def _event_dates(row: dict, origin: Origin, problems: list[Problem]) -> None:
    # Set first: a date refused below is reported once, not again as a missing precision.
    row["date_precision"] = "unknown"
    lows: list[str | None] = []
    highs: list[str | None] = []
    for col in ("start_date", "end_date"):
        value = row.get(col)
        if value in (None, ""):
            lows.append(None)
            highs.append(None)
            continue
        try:
            lo, hi = edtf_bounds(str(value))
        except IntervalOrderError as exc:
            problems.append(
                Problem(origin.file, origin.line_of(col), "date-order", f"event '{row.get('event_id')}': {col} {exc}")
            )
            return
        except ValueError as exc:
            problems.append(
                Problem(
                    origin.file,
                    origin.line_of(col),
                    "bad-date",
                    f"event '{row.get('event_id')}': {col} {exc}; write e.g. 1962-06-02, 1953-07, 1989-07~",
                )
            )
            return
        lows.append(lo)
        highs.append(hi)
    if lows[0] and lows[1] and highs[1] and highs[1] < lows[0]:
        problems.append(
            Problem(
                origin.file,
                origin.line_of("end_date"),
                "date-order",
                f"event '{row.get('event_id')}': end_date {row['end_date']} is before start_date {row['start_date']}; fix one of them",
            )
        )
        return
    # An open start ("../1961") stays open even with an end_date, and an open end likewise.
    given = [row.get(c) not in (None, "") for c in ("start_date", "end_date")]
    row["earliest_date"] = lows[0] if given[0] else lows[1]
    row["latest_date"] = highs[1] if given[1] else highs[0]
    row["date_precision"] = date_precision(row["earliest_date"], row["latest_date"])


def _event_places(event: dict, values: dict, origin: Origin, columns: list[str], tables: Tables) -> None:
    """One event_places row for the event's main place and one for each of its other_place_ids."""
    others = values.get("other_place_ids") or []
    if not isinstance(others, list):
        tables.problems.append(
            Problem(
                origin.file,
                origin.line_of("other_place_ids"),
                "bad-structure",
                f"event '{event.get('event_id')}': other_place_ids must be a list of place ids, e.g. [vorkuta, donbass]",
            )
        )
        return
    if others and not event.get("place_id"):
        tables.problems.append(
            Problem(
                origin.file,
                origin.line_of("other_place_ids"),
                "missing-value",
                f"event '{event.get('event_id')}' lists other_place_ids but no place_id; give its main place as place_id first",
            )
        )
        return
    main = [event["place_id"]] if event.get("place_id") else []
    for n, place_id in enumerate(main + others):
        # The event's own line: a duplicate place then names the event that lists it twice.
        line = Origin(origin.file, origin.line_of("place_id" if n == 0 else "other_place_ids"))
        tables.add(
            "event_places",
            _row_of(columns, {"event_id": event.get("event_id"), "place_id": place_id, "main": n == 0}),
            line,
        )


def _row_of(columns: list[str], values: dict) -> dict:
    row = dict(zip(columns, map(values.get, columns), strict=False))
    if "" in row.values():  # rare: an empty text counts as absent
        row = {c: (None if v == "" else v) for c, v in row.items()}
    return row


def partition_tables(corpus: Corpus, meta: Metadata) -> Tables:
    """The rows one partition of the corpus yields: its spans, entities and claims.

    A pure function of the partition (one annotation file with its source): no row depends on
    another file, so partitions can be built apart, cached and merged with `merge_tables`.
    `sources` and the derived `casualty_estimates` are whole-corpus tables and left out.
    """
    tables = Tables()
    problems = tables.problems
    columns = {name: schema.field_names for name, schema in meta.tables.items()}

    for span, origin in corpus.spans:
        tables.add("spans", _row_of(columns["spans"], span), origin)
    for table in meta.entity_tables:
        for values, origin in corpus.entities.get(table, ()):
            row = _row_of(columns[table], values)
            if table == "events":
                _event_dates(row, origin, problems)
                if "event_places" in columns:
                    _event_places(row, values, origin, columns["event_places"], tables)
            tables.add(table, row, origin)

    seen_ids: dict[tuple[str, str], Origin] = {}
    for claim in corpus.claims:
        values = dict(claim.values)
        values["span_id"] = claim.span_id
        if "count" in values:  # (checked here too, to spare the message's words otherwise)
            _counts(values, claim.origin, problems, f"{claim.table} of span '{claim.span_id}'")
        if claim.table in DERIVED_IDS:
            id_col, by = DERIVED_IDS[claim.table]
            if not values.get(id_col):
                # Categories use underscores, ids are hyphenated slugs.
                values[id_col] = f"{claim.span_id}-{str(values.get(by) or 'x').replace('_', '-')}"
                key = (claim.table, values[id_col])
                if key in seen_ids:
                    problems.append(
                        Problem(
                            claim.origin.file,
                            claim.origin.line,
                            "duplicate-id",
                            f"span '{claim.span_id}' has two {claim.table} claims of category '{values.get(by)}'; give each its own {id_col}",
                        )
                    )
                seen_ids[key] = claim.origin
        if claim.table == "event_mentions":
            values["date_precision"] = "unknown"
        if claim.table == "event_mentions" and values.get("date"):
            try:
                values["date_precision"] = date_precision(*edtf_bounds(str(values["date"])))
            except IntervalOrderError as exc:
                problems.append(
                    Problem(
                        claim.origin.file,
                        claim.origin.line_of("date"),
                        "date-order",
                        f"span '{claim.span_id}': date {exc}",
                    )
                )
            except ValueError as exc:
                problems.append(
                    Problem(
                        claim.origin.file,
                        claim.origin.line_of("date"),
                        "bad-date",
                        f"span '{claim.span_id}': date {exc}; write e.g. 1962-06-02, 1953-07, 1989-07~",
                    )
                )
        tables.add(claim.table, _row_of(columns[claim.table], values), claim.origin)

    # Spans and events named by claims are mentioned by them too: fill event_mentions so that
    # every event is reachable from the spans that speak of it, without the annotator repeating it.
    mentioned = {(r["event_id"], r["span_id"]) for r in tables.rows.get("event_mentions", [])}
    written = len(tables.rows.get("event_mentions", ()))
    for table in meta.claim_tables.values():
        if table == "event_mentions" or "event_id" not in columns[table]:
            continue
        for row in tables.rows.get(table, []):
            key = (row["event_id"], row["span_id"])
            if row["event_id"] and key not in mentioned:
                mentioned.add(key)
                tables.add(
                    "event_mentions",
                    _row_of(
                        columns["event_mentions"], {"event_id": key[0], "span_id": key[1], "date_precision": "unknown"}
                    ),
                    None,
                )
    tables.filled["event_mentions"] = len(tables.rows.get("event_mentions", ())) - written
    _check_count_texts(tables, corpus)
    # From this file's own outcome claims; merge_tables derives it again over the whole corpus,
    # since a claim about a demand may come from another source's file.
    derive_demand_outcomes(tables.rows.get("demands", []), tables.rows.get("demand_outcomes", []))
    return tables


def _check_count_texts(tables: Tables, corpus: Corpus) -> None:
    """A participant size's `count_text` must be the source's words: part of its span's quote.

    The quote is read from the source at the span's offsets: a withheld span publishes none.
    """
    quote_of = {
        span["span_id"]: corpus.sources[span["source_id"]].text[span["start"] : span["end"]]
        for span, _ in corpus.spans
        if span["source_id"] in corpus.sources
    }
    for row, origin in zip(tables.rows.get("event_actors", []), tables.origins.get("event_actors", []), strict=False):
        text = row.get("count_text")
        if isinstance(text, str) and row.get("span_id") in quote_of and text not in quote_of[row["span_id"]]:
            tables.problems.append(
                Problem(
                    origin.file if origin else "",
                    origin.line_of("count_text") if origin else 0,
                    "count-text-not-quoted",
                    f"span '{row['span_id']}': count_text '{text}' is not in the span's quote; copy the source's words exactly",
                )
            )


def merge_tables(corpus: Corpus, parts: list[Tables], meta: Metadata) -> Tables:
    """The whole package: the sources of `corpus`, every partition's rows in order, the estimates."""
    tables = Tables()
    for source in corpus.sources.values():
        tables.add("sources", _row_of(meta["sources"].field_names, source.row), source.origin)
    with_lines = all(p.lines or not any(p.rows.values()) for p in parts)
    filled_rows: dict[str, list[dict]] = {}
    filled_lines: dict[str, list[str]] = {}
    for name in meta.tables:  # (sources has its rows already)
        tables.rows.setdefault(name, [])
        tables.origins.setdefault(name, [])
        tables.lines.setdefault(name, [])
        filled_rows[name], filled_lines[name] = [], []
    # A part at a time, only the tables it has rows in (not every table of every part).
    for part in parts:
        for name, part_rows in part.rows.items():
            if name not in filled_rows or not part_rows:
                continue
            # Rows the build filled in follow every written one, as if built in one pass.
            cut = len(part_rows) - part.filled.get(name, 0)
            tables.rows[name] += part_rows[:cut]
            tables.origins[name] += part.origins.get(name, [])[:cut]
            filled_rows[name] += part_rows[cut:]
            if with_lines:
                part_lines = part.lines.get(name, [])
                tables.lines[name] += part_lines[:cut]
                filled_lines[name] += part_lines[cut:]
    for name in meta.tables:
        tables.rows[name] += filled_rows[name]
        tables.origins[name] += [None] * len(filled_rows[name])
        tables.lines[name] += filled_lines[name]
    for part in parts:
        tables.problems += part.problems
    if derive_demand_outcomes(tables.rows.get("demands", []), tables.rows.get("demand_outcomes", [])):
        tables.lines.pop("demands", None)  # the partitions rendered them before the change
        tables.restated.add("demands")
    tables.quoted = quoting.measure(tables.rows["sources"], tables.rows["spans"])
    spans = tables.rows["spans"]
    source_of_span: dict[str | None, str] = dict(
        zip(map(operator.itemgetter("span_id"), spans), map(operator.itemgetter("source_id"), spans), strict=True)
    )
    parent_of = {r["event_id"]: r.get("parent_event_id") for r in tables.rows.get("events", [])}
    columns = meta["casualty_estimates"].field_names
    for row in estimate_casualties(tables.rows["casualties"], source_of_span, parent_of):
        tables.add("casualty_estimates", _row_of(columns, row), None)
    if "event_summary" in meta.tables:
        columns = meta["event_summary"].field_names
        for row in event_summary(tables.rows, source_of_span):
            tables.add("event_summary", _row_of(columns, row), None)
    return tables


def derive_demand_outcomes(demands: list[dict], outcomes: list[dict]) -> bool:
    """Set each demand's outcome from the outcome claims about it, in place; True if any changed.

    The one value every claim other than `unknown` agrees on; `disputed` when they disagree;
    `unknown` when there is no claim or only `unknown` ones (the rule is in the codebook).

    >>> demands = [{"demand_id": "d", "outcome": None}]
    >>> derive_demand_outcomes(demands, [{"demand_id": "d", "outcome": "met"}, {"demand_id": "d", "outcome": "unknown"}])
    True
    >>> demands[0]["outcome"]
    'met'
    >>> _ = derive_demand_outcomes(demands, [{"demand_id": "d", "outcome": "met"}, {"demand_id": "d", "outcome": "rejected"}])
    >>> demands[0]["outcome"]
    'disputed'
    """
    stated: dict[str | None, set[str]] = {}  # by demand id, None for a claim that names none
    for claim in outcomes:
        if claim.get("outcome") and claim["outcome"] != "unknown":
            stated.setdefault(claim.get("demand_id"), set()).add(claim["outcome"])
    changed = False
    for i, demand in enumerate(demands):
        values = stated.get(demand.get("demand_id"), set())
        outcome = "unknown" if not values else values.pop() if len(values) == 1 else "disputed"
        if demand.get("outcome") != outcome:
            # A new dict: partitions may share theirs with a cache.
            demands[i] = {**demand, "outcome": outcome}
            changed = True
    return changed


def estimate_casualties(
    casualties: list[dict],
    source_of_span: dict[str | None, str],
    parent_of: dict[str, str | None] | None = None,
) -> list[dict]:
    """Summarise the casualty claims per event and category (the rule is in the codebook).

    Each event's row covers the claims on the event itself and on all its sub-events
    (`parent_of` maps an event to its parent); includes_sub_events says whether any claim
    of the row is on a sub-event. Figures are never added up, so no claim counts twice in a row.
    low is the smallest figure any claim states (its count_min, else its count_max), high the
    largest (its count_max, else its count_min); open_ended says some claim gives a lower bound
    and no upper bound ("at least", "more than", "tens of thousands"), so the real figure may
    exceed high. Claims without a figure count in n_claims but not in low/high.

    >>> est = estimate_casualties([
    ...     {"event_id": "e", "category": "killed", "count_min": 26, "count_max": 26, "qualifier": "exact", "span_id": "a"},
    ...     {"event_id": "e", "category": "killed", "count_min": 80, "count_max": None, "qualifier": "more_than", "span_id": "b"}],
    ...     {"a": "s1", "b": "s2"})
    >>> est[0]["low"], est[0]["high"], est[0]["open_ended"], est[0]["n_sources"], est[0]["includes_sub_events"]
    (26, 80, True, 2, False)
    """
    parent_of = parent_of or {}
    groups: dict[tuple, list[dict]] = {}
    from_sub_event: set[tuple] = set()
    for row in casualties:
        if not (row.get("event_id") and row.get("category")):
            continue
        event_id, seen = row["event_id"], set()
        while event_id and event_id not in seen:  # the event, then each ancestor (a cycle is reported elsewhere)
            seen.add(event_id)
            groups.setdefault((event_id, row["category"]), []).append(row)
            if event_id != row["event_id"]:
                from_sub_event.add((event_id, row["category"]))
            event_id = parent_of.get(event_id)
    out = []
    for (event_id, category), rows in sorted(groups.items()):
        lows, highs = [], []
        for r in rows:
            lo = r["count_min"] if isinstance(r.get("count_min"), int) else r.get("count_max")
            hi = r["count_max"] if isinstance(r.get("count_max"), int) else r.get("count_min")
            if isinstance(lo, int):
                lows.append(lo)
            if isinstance(hi, int):
                highs.append(hi)
        out.append(
            {
                "event_id": event_id,
                "category": category,
                "low": min(lows) if lows else None,
                "high": max(highs) if highs else None,
                "open_ended": any(isinstance(r.get("count_min"), int) and r.get("count_max") is None for r in rows),
                "n_claims": len(rows),
                "n_sources": len({source_of_span.get(r.get("span_id")) for r in rows}),
                "includes_sub_events": (event_id, category) in from_sub_event,
            }
        )
    return out
