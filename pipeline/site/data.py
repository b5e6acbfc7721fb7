"""Reads a build folder through its datapackage.json and derives what the site shows per event.

Input: a build folder (datapackage.json and its CSV tables). Output: a `SiteData` with every
table's rows, the files of the build with size and SHA-256, and one `EventView` per event. The
derived `event_summary` and the `places` table are used when the build has them; otherwise the
same figures are computed here from events, casualties and event_mentions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError

# The casualty categories summarised per event, as in the contract's event_summary.
SUMMARY_CATEGORIES = ("killed", "wounded", "arrested")
_INTEGER_TYPES = {"integer", "year"}


@dataclass
class BuildFile:
    """One file of the build as the download table lists it."""

    name: str
    size: int
    sha256: str


@dataclass
class EventView:
    """Everything an event page needs, with cross-references already resolved."""

    row: dict
    summary: dict
    place: dict | None
    lat: float | None
    lon: float | None
    parent: dict | None
    children: list[dict] = field(default_factory=list)
    casualties: list[dict] = field(default_factory=list)
    demands: list[dict] = field(default_factory=list)
    actors: list[dict] = field(default_factory=list)
    mentions: list[dict] = field(default_factory=list)
    decade: str = ""  # the start's decade ("1950"), set by the site generator for the events page

    @property
    def event_id(self) -> str:
        return self.row["event_id"]


@dataclass
class SiteData:
    """One build, read: descriptor, schemas and rows per table, files, events."""

    folder: Path
    descriptor: dict
    schemas: dict[str, dict]
    rows: dict[str, list[dict]]
    files: list[BuildFile]
    events: list[EventView]
    summary_from_build: bool

    def table(self, name: str) -> list[dict]:
        return self.rows.get(name, [])

    def by_id(self, name: str, key: str) -> dict[str, dict]:
        return {row[key]: row for row in self.table(name)}


def read_build(folder: Path) -> SiteData:
    """Read the build in folder; PipelineError naming the file when it is not a readable build."""
    descriptor_path = folder / "datapackage.json"
    try:
        descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PipelineError(f"{descriptor_path}: no build here: run `pipeline build` or pass --dist-dir") from exc
    except (OSError, ValueError) as exc:
        raise PipelineError(
            f"{descriptor_path}: not a readable data package ({exc}): run `pipeline build` again"
        ) from exc
    schemas, rows = {}, {}
    for resource in descriptor.get("resources", []):
        path = resource.get("path", "")
        if not isinstance(path, str) or not path.endswith(".csv") or not isinstance(resource.get("schema"), dict):
            continue
        schemas[resource["name"]] = resource["schema"]
        rows[resource["name"]] = _read_csv(folder / path, resource["schema"])
    for needed in ("events", "spans", "sources"):
        if needed not in rows:
            raise PipelineError(f"{descriptor_path}: the build has no '{needed}' table: run `pipeline build` again")
    files = [_file_stats(path) for path in sorted(folder.iterdir()) if path.is_file() and not path.name.startswith(".")]
    data = SiteData(folder, descriptor, schemas, rows, files, [], "event_summary" in rows)
    data.events = _event_views(data)
    return data


def _read_csv(path: Path, schema: dict) -> list[dict]:
    integers = {f["name"] for f in schema.get("fields", []) if f.get("type") in _INTEGER_TYPES}
    numbers = {f["name"] for f in schema.get("fields", []) if f.get("type") == "number"}
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            out = []
            for line, row in enumerate(csv.DictReader(fh), start=2):
                for name in integers | numbers:
                    if row.get(name):
                        try:
                            row[name] = int(row[name]) if name in integers else float(row[name])
                        except ValueError as exc:
                            raise PipelineError(
                                f"{path}:{line}: column {name} holds '{row[name]}', not a number: "
                                "run `pipeline build` again"
                            ) from exc
                out.append(row)
            return out
    except OSError as exc:
        raise PipelineError(f"{path}: cannot read the table ({exc.strerror}): run `pipeline build` again") from exc


def _file_stats(path: Path) -> BuildFile:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return BuildFile(path.name, path.stat().st_size, digest)


def date_precision(edtf: str) -> str:
    """The precision of an EDTF date as the contract names it.

    >>> [date_precision(d) for d in ("1962-06-02", "1953-07", "1961", "196X", "1962-06-01/1962-06-03", "")]
    ['day', 'month', 'year', 'decade', 'interval', 'unknown']
    """
    value = (edtf or "").rstrip("~?%")
    if "/" in value:
        return "interval"
    if re.fullmatch(r"-?\d{4}-\d{2}-\d{2}", value):
        return "day"
    if re.fullmatch(r"-?\d{4}-\d{2}", value):
        return "month"
    if re.fullmatch(r"-?\d{4}", value):
        return "year"
    if re.fullmatch(r"\d{3}X", value):
        return "decade"
    return "unknown"


def claim_range(claim: dict) -> tuple[int | None, int | None]:
    """(low, high) of one casualty claim: a missing bound takes the other one, as casualty_estimates does."""
    low, high = claim.get("count_min"), claim.get("count_max")
    low = low if isinstance(low, int) else None
    high = high if isinstance(high, int) else None
    return (low if low is not None else high), (high if high is not None else low)


def _computed_summary(event: dict, claims: list[dict], sources: set[str], top: str) -> dict:
    out = {key: event.get(key, "") for key in ("event_id", "name", "event_type", "start_date", "end_date", "country")}
    out["scope"] = event.get("scope", "")
    out["date_precision"] = event.get("date_precision") or date_precision(event.get("start_date", ""))
    out["place_id"] = event.get("place_id", "")
    out["top_event_id"] = top
    for category in SUMMARY_CATEGORIES:
        ranges = [claim_range(c) for c in claims if c["category"] == category]
        lows = [lo for lo, _ in ranges if lo is not None]
        highs = [hi for _, hi in ranges if hi is not None]
        out[f"{category}_low"] = min(lows) if lows else None
        out[f"{category}_high"] = max(highs) if highs else None
    out["n_claims"] = len(claims)
    out["n_sources"] = len(sources)
    return out


def _top_event(event_id: str, events: dict[str, dict]) -> str:
    seen = {event_id}
    while (parent := events.get(event_id, {}).get("parent_event_id")) and parent in events and parent not in seen:
        seen.add(parent)
        event_id = parent
    return event_id


def _event_views(data: SiteData) -> list[EventView]:
    events = data.by_id("events", "event_id")
    spans = data.by_id("spans", "span_id")
    places = data.by_id("places", "place_id")
    actors = data.by_id("actors", "actor_id")
    summaries = data.by_id("event_summary", "event_id")

    def grouped(table: str) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for row in data.table(table):
            out.setdefault(row["event_id"], []).append(row)
        return out

    casualties, demands, roles, mentions = (
        grouped(t) for t in ("casualties", "demands", "event_actors", "event_mentions")
    )
    children: dict[str, list[dict]] = {}
    for row in events.values():
        if row.get("parent_event_id") in events:
            children.setdefault(row["parent_event_id"], []).append(row)
    views = []
    for event_id in sorted(
        events, key=lambda e: (events[e].get("earliest_date") or events[e].get("start_date", ""), e)
    ):
        row = events[event_id]
        claims = casualties.get(event_id, [])
        sources = {
            spans[r["span_id"]]["source_id"]
            for t in (claims, demands.get(event_id, []), roles.get(event_id, []), mentions.get(event_id, []))
            for r in t
            if r.get("span_id") in spans
        }
        summary = summaries.get(event_id) or _computed_summary(row, claims, sources, _top_event(event_id, events))
        place = places.get(summary.get("place_id") or row.get("place_id") or "")
        lat, lon = _coordinates(summary, place)
        views.append(
            EventView(
                row=row,
                summary=summary,
                place=place,
                lat=lat,
                lon=lon,
                parent=events.get(row.get("parent_event_id") or ""),
                children=sorted(children.get(event_id, []), key=lambda e: (e.get("start_date", ""), e["event_id"])),
                casualties=sorted(
                    claims,
                    key=lambda c: (c["category"], claim_range(c)[0] is None, claim_range(c)[0] or 0, c["casualty_id"]),
                ),
                demands=sorted(demands.get(event_id, []), key=lambda d: (d["category"], d["demand_id"])),
                actors=sorted(
                    ({**r, "actor": actors.get(r["actor_id"], {})} for r in roles.get(event_id, [])),
                    key=lambda r: (r["role"], r["actor_id"], r["span_id"]),
                ),
                mentions=sorted(mentions.get(event_id, []), key=lambda m: m["span_id"]),
            )
        )
    return views


def _coordinates(summary: dict, place: dict | None) -> tuple[float | None, float | None]:
    for source in (summary, place or {}):
        lat, lon = source.get("lat"), source.get("lon")
        if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
            return float(lat), float(lon)
    return None, None
