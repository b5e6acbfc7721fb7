"""Counts what was read from each source and finds the events whose claims conflict.

Input: built `Tables`. Output: `Stats` (per-source and total counts, conflicts), printable as
text or JSON by the CLI.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pipeline import quoting
from pipeline.rows.tables import Tables, edtf_bounds

COLUMNS = ("spans", "events", "casualties", "demands", "actors")


@dataclass
class Conflict:
    """An event whose sources (or one source) disagree on a figure or a date."""

    event_id: str
    aspect: str  # e.g. "killed" or "date"
    claims: list[str] = field(default_factory=list)


@dataclass
class Stats:
    per_source: dict[str, dict[str, int]]
    total: dict[str, int]
    conflicts: list[Conflict]
    # Per source: what its published spans reproduce of it, beside its quoting terms.
    quoting: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "per_source": self.per_source,
            "total": self.total,
            "conflicts": [c.__dict__ for c in self.conflicts],
            "quoting": self.quoting,
        }


def quoting_figures(tables: Tables) -> dict[str, dict]:
    """Per source: published characters, their share, the longest passage, and the terms they are held to."""
    out = {}
    for source_id, f in quoting.figures_by_source(tables.rows["sources"], tables.rows["spans"]).items():
        out[source_id] = {
            "chars": f.chars,
            "quoted_chars": f.quoted_chars,
            "share": round(f.share, 4),
            "budget": f.budget,
            "longest_passage": f.longest_passage,
            "max_passage": f.max_passage,
            "link_required": f.link_required,
            "url": bool(f.url),
            "within_terms": f.within_terms,
        }
    return out


def _figure(row: dict) -> str:
    lo, hi = row.get("count_min"), row.get("count_max")
    if lo is None and hi is None:
        number = "no figure"
    elif lo == hi or hi is None or lo is None:
        number = str(lo if lo is not None else hi)
    else:
        number = f"{lo}-{hi}"
    return f"{number} ({row.get('qualifier')}, {row.get('claimant')}, span {row.get('span_id')})"


def _dates_disagree(dates: list[str]) -> bool:
    """True when two of the EDTF dates cannot both be right (their day ranges do not overlap).

    A day inside a month ("1989-07-23" and "1989-07") is a refinement, not a conflict.
    """
    bounds = []
    for value in set(dates):
        try:
            lo, hi = edtf_bounds(value)
        except ValueError:
            continue
        bounds.append((lo or "0000-01-01", hi or "9999-12-31"))
    return any(a[1] < b[0] or b[1] < a[0] for i, a in enumerate(bounds) for b in bounds[i + 1 :])


def compute_stats(tables: Tables) -> Stats:
    """Count spans, events, casualty claims, demands and actors per source; list conflicts."""
    rows = tables.rows
    source_of = {r["span_id"]: r["source_id"] for r in rows["spans"]}
    # Keyed by source id; None gathers rows whose span is unknown.
    sets: dict[str | None, dict[str, set]] = defaultdict(lambda: {c: set() for c in COLUMNS})
    for r in rows["spans"]:
        sets[r["source_id"]]["spans"].add(r["span_id"])
    for table in ("event_mentions", "event_actors", "casualties", "demands"):
        for r in rows[table]:
            src = source_of.get(r["span_id"])
            if r.get("event_id"):
                sets[src]["events"].add(r["event_id"])
            for col in ("actor_id", "victim_actor_id", "perpetrator_actor_id"):
                if r.get(col):
                    sets[src]["actors"].add(r[col])
    for r in rows["casualties"]:
        sets[source_of.get(r["span_id"])]["casualties"].add(r["casualty_id"])
    for r in rows["demands"]:
        sets[source_of.get(r["span_id"])]["demands"].add(r["demand_id"])
    per_source = {
        s["source_id"]: {c: len(sets[s["source_id"]][c]) for c in COLUMNS}
        for s in sorted(rows["sources"], key=lambda s: s["source_id"])
    }
    total = {
        "spans": len(rows["spans"]),
        "events": len(rows["events"]),
        "casualties": len(rows["casualties"]),
        "demands": len(rows["demands"]),
        "actors": len(rows["actors"]),
    }

    conflicts = []
    by_figure: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows["casualties"]:
        by_figure[(r["event_id"], r["category"])].append(r)
    for (event_id, category), claims in sorted(by_figure.items()):
        # A claim without a figure ("the toll may never be known") contradicts no figure.
        figures = {
            (c.get("count_min"), c.get("count_max"), c.get("qualifier"))
            for c in claims
            if c.get("count_min") is not None or c.get("count_max") is not None
        }
        if len(figures) > 1:
            conflicts.append(Conflict(event_id, category, sorted(_figure(c) for c in claims)))
    by_date: dict[str, list[dict]] = defaultdict(list)
    for r in rows["event_mentions"]:
        if r.get("date"):
            by_date[r["event_id"]].append(r)
    for event_id, mentions in sorted(by_date.items()):
        if _dates_disagree([m["date"] for m in mentions]):
            conflicts.append(Conflict(event_id, "date", sorted(f"{m['date']} (span {m['span_id']})" for m in mentions)))
    return Stats(per_source=per_source, total=total, conflicts=conflicts, quoting=quoting_figures(tables))


def format_stats(stats: Stats) -> str:
    """A plain-text table of the counts, then the conflicts."""
    width = max([len("total")] + [len(s) for s in stats.per_source])
    head = f"{'source':<{width}}  " + "  ".join(f"{c:>10}" for c in COLUMNS)
    lines = [head, "-" * len(head)]
    for source, counts in stats.per_source.items():
        lines.append(f"{source:<{width}}  " + "  ".join(f"{counts[c]:>10}" for c in COLUMNS))
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{stats.total[c]:>10}" for c in COLUMNS))
    lines.append("")
    lines.append("(per source: distinct events and actors its spans speak of; total: distinct rows)")
    lines.append("")
    lines += format_quoting(stats.quoting)
    lines.append("")
    if stats.conflicts:
        lines.append(f"events with conflicting claims: {len(stats.conflicts)}")
        for c in stats.conflicts:
            lines.append(f"  {c.event_id} [{c.aspect}]")
            lines.extend(f"    - {claim}" for claim in c.claims)
    else:
        lines.append("events with conflicting claims: none")
    return "\n".join(lines)


def format_quoting(figures: dict[str, dict]) -> list[str]:
    """The quoting figures as lines of a plain-text table (published / budget, longest passage / limit)."""
    width = max([len("source")] + [len(s) for s in figures])
    head = (
        f"{'source':<{width}}  {'published':>9}  {'share':>6}  {'budget':>6}  {'passage':>7}  {'limit':>5}"
        f"  {'link':>8}  terms"
    )
    lines = [
        "quoting terms (published: characters of the source the spans reproduce; passage: longest run rebuilt from them)",
        head,
        "-" * len(head),
    ]
    for source, f in figures.items():
        link = ("required" if f["link_required"] else "optional") if f["url"] or not f["link_required"] else "MISSING"
        lines.append(
            f"{source:<{width}}  {f['quoted_chars']:>9}  {f['share']:>6.1%}  {f['budget']:>6}  "
            f"{f['longest_passage']:>7}  {f['max_passage']:>5}  {link:>8}  {'kept' if f['within_terms'] else 'OVER'}"
        )
    return lines
