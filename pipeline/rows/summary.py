"""Derived helpers over built rows: date precision, the dataset's temporal coverage and `event_summary`.

Input: rows of `events`, `event_mentions`, `spans`, `casualty_estimates` and (where the package
has it) `places`, as `tables.py` builds them. Output: plain values and rows; the rules are
written in the schemas' descriptions, which the codebook publishes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools

# The casualty categories event_summary spreads into columns of its own.
SUMMARY_CATEGORIES = ("killed", "wounded", "arrested")
_UNKNOWN = object()  # what a span of no known source maps to while its event's sources are counted


def date_precision(earliest: str | None, latest: str | None) -> str:
    """How precisely the window earliest..latest (ISO days) places an event.

    >>> date_precision("1962-06-02", "1962-06-02"), date_precision("1989-07-01", "1989-07-31")
    ('day', 'month')
    >>> date_precision("1953-01-01", "1953-12-31"), date_precision("1960-01-01", "1969-12-31")
    ('year', 'decade')
    >>> date_precision("1962-06-01", "1962-06-03"), date_precision(None, "1961-12-31"), date_precision(None, None)
    ('interval', 'interval', 'unknown')
    """
    if not earliest and not latest:
        return "unknown"
    if not earliest or not latest:
        return "interval"  # open at one end ("../1961")
    if earliest == latest:
        return "day"
    low, high = dt.date.fromisoformat(earliest), dt.date.fromisoformat(latest)
    if (
        low.day == 1
        and (low.year, low.month) == (high.year, high.month)
        and high.day == calendar.monthrange(high.year, high.month)[1]
    ):
        return "month"
    if (low.month, low.day, high.month, high.day) == (1, 1, 12, 31):
        if low.year == high.year:
            return "year"
        if low.year % 10 == 0 and high.year == low.year + 9:
            return "decade"
    return "interval"


# Keys of the published descriptor that the build computes: they never match the root descriptor.
COMPUTED_DESCRIPTOR_KEYS = ("temporalCoverage",)


def temporal_coverage(events: list[dict]) -> str | None:
    """The years the core events span, as an EDTF interval of years; None without any dated core event.

    >>> temporal_coverage([{"scope": "core", "earliest_date": "1953-06-17", "latest_date": "1953-06-17"},
    ...                    {"scope": "core", "earliest_date": None, "latest_date": "1989-07-31"},
    ...                    {"scope": "context", "earliest_date": "1917-01-01", "latest_date": "1917-12-31"}])
    '1953/1989'
    """
    core = [e for e in events if e.get("scope") == "core"]
    lows = [e["earliest_date"] for e in core if e.get("earliest_date")]
    highs = [e["latest_date"] for e in core if e.get("latest_date")]
    if not lows and not highs:
        return None
    low, high = min(lows or highs), max(highs or lows)
    return f"{low[:4]}/{high[:4]}"


def event_tree(events: list[dict]) -> dict[str, tuple[int, str]]:
    """(level, top-level event id) of every event: level 0 has no parent, a part of it level 1, ...

    A parent missing from the rows (or a loop, which the key checks report) ends the climb.
    """
    parent = {e["event_id"]: e.get("parent_event_id") for e in events}
    out = {}
    for event_id in parent:
        top, level, seen = event_id, 0, {event_id}
        while parent.get(top) in parent and parent[top] not in seen:
            top = parent[top]
            seen.add(top)
            level += 1
        out[event_id] = (level, top)
    return out


def event_summary(rows: dict[str, list[dict]], source_of_span: dict | None = None) -> list[dict]:
    """One row per event (the counting rules are in schemas/event_summary.schema.json).

    Figures and counts are those of the event itself: claims about its sub-events stay in the
    sub-events' rows, so that no claim, mention or figure is counted in two rows.
    `source_of_span` maps each span id to its source id, if the caller has it already.
    """
    if source_of_span is None:
        source_of_span = {r["span_id"]: r["source_id"] for r in rows.get("spans", [])}
    n_claims: dict[str, int] = {}
    for r in rows.get("casualties", []):
        n_claims[r["event_id"]] = n_claims.get(r["event_id"], 0) + 1
    mentions: dict[str, list[str]] = {}
    for r in rows.get("event_mentions", []):
        mentions.setdefault(r["event_id"], []).append(r["span_id"])
    counted = {}
    for event_id, spans in mentions.items():
        # The sources of the mentions' spans (a span of no known source left out), at C speed.
        sources = set(map(source_of_span.get, spans, itertools.repeat(_UNKNOWN)))
        sources.discard(_UNKNOWN)
        counted[event_id] = (len(spans), len(sources))
    return summary_rows(rows, n_claims, counted)


def summary_rows(
    rows: dict[str, list[dict]], n_claims: dict[str, int], mentions: dict[str, tuple[int, int]]
) -> list[dict]:
    """`event_summary` from its counts: claims per event, and (mentions, distinct sources of their spans) per event.

    `rows` needs only `events`, `places` and `casualty_estimates`: the one-file rebuild keeps
    the counts, not the claims (engine/incremental.py).
    """
    events = rows.get("events", [])
    tree = event_tree(events)
    places = {p["place_id"]: p for p in rows.get("places", []) if p.get("place_id")}
    estimates = {(r["event_id"], r["category"]): r for r in rows.get("casualty_estimates", [])}
    out = []
    for e in sorted(events, key=lambda e: e["event_id"]):
        event_id = e["event_id"]
        level, top = tree[event_id]
        place = places.get(e.get("place_id"), {})
        n_mentions, n_sources = mentions.get(event_id, (0, 0))
        row = {
            "event_id": event_id,
            "name": e.get("name"),
            "event_type": e.get("event_type"),
            "scope": e.get("scope"),
            "parent_event_id": e.get("parent_event_id"),
            "level": level,
            "top_event_id": top,
            "start_date": e.get("start_date"),
            "end_date": e.get("end_date"),
            "earliest_date": e.get("earliest_date"),
            "latest_date": e.get("latest_date"),
            "date_precision": e.get("date_precision"),
            "place": e.get("place"),
            "place_id": e.get("place_id"),
            "lat": place.get("lat"),
            "lon": place.get("lon"),
            "geo_precision": place.get("geo_precision"),
            "country": e.get("country"),
        }
        for category in SUMMARY_CATEGORIES:
            estimate = estimates.get((event_id, category), {})
            row[f"{category}_low"] = estimate.get("low")
            row[f"{category}_high"] = estimate.get("high")
            row[f"{category}_open_ended"] = estimate.get("open_ended", False)
        row["n_claims"] = n_claims.get(event_id, 0)
        row["n_sources"] = n_sources
        row["n_mentions"] = n_mentions
        out.append(row)
    return out
