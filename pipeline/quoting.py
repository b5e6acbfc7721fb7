"""Quoting within each source's terms: what the published spans reproduce of a source, and the check.

Input: the source rows (with their quoting terms) and the span rows of a build. Output: per
source the published characters (the union of every published span's prefix + quote + suffix,
overlaps counted once), the longest passage that can be rebuilt word for word by joining
published spans that overlap or touch, and one `Problem` per source that goes over its terms.

A span is withheld when its annotation says `withhold_quote: true`: its row keeps `start`,
`end` and `quote_sha256` and publishes no quote, prefix or suffix. The annotator decides, not
the build: a span's row then depends on its own annotation file only (partitions stay cacheable
and their linked data stays valid), and a change of what is published shows in the diff of the
annotations rather than happening silently when a neighbouring span grows. The build names the
spans to shorten or withhold (`spans_to_withhold`) and refuses a build that goes over the terms.
The default terms are declared once, as `quotingTerms` in datapackage.json; a source's entry in
sources.yaml overrides them with `quote_budget`, `quote_max_passage` and `link_required`.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import operator
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import PipelineError, Problem
from pipeline.metadata import Metadata

TERMS_KEY = "quotingTerms"
# Columns of `sources` that state a source's terms (overridable in sources.yaml) and what the build measured.
TERM_COLUMNS = ("quote_budget", "quote_max_passage", "link_required")
MEASURED_COLUMNS = ("quoted_chars", "longest_passage")
WITHHOLD_KEY = "withhold_quote"
# How many spans a refusal names before "and N more": enough to act on, short enough for one line.
NAMED_SPANS = 6


@dataclass(frozen=True)
class Defaults:
    """The terms of every source that states none of its own (datapackage.json `quotingTerms`)."""

    budget_share: float
    max_passage: int
    link_required: bool


def defaults(meta: Metadata) -> Defaults:
    """The default terms declared in datapackage.json; PipelineError if they are missing or malformed."""
    terms: Any = meta.descriptor.get(TERMS_KEY)  # as written: a missing or malformed object fails below
    try:
        share, passage, link = terms["budgetShare"], terms["maxPassage"], terms["linkRequired"]
    except (TypeError, KeyError) as exc:
        raise PipelineError(
            f"datapackage.json: '{TERMS_KEY}' must give budgetShare, maxPassage and linkRequired (missing {exc})"
        ) from exc
    if not (isinstance(share, (int, float)) and 0 <= share <= 1) or isinstance(share, bool):
        raise PipelineError(f"datapackage.json: {TERMS_KEY}.budgetShare {share!r} must be a number from 0 to 1")
    if not isinstance(passage, int) or isinstance(passage, bool) or passage < 0:
        raise PipelineError(
            f"datapackage.json: {TERMS_KEY}.maxPassage {passage!r} must be a whole number of characters"
        )
    if not isinstance(link, bool):
        raise PipelineError(f"datapackage.json: {TERMS_KEY}.linkRequired {link!r} must be true or false")
    return Defaults(float(share), passage, link)


def fill_terms(row: dict, terms: Defaults) -> None:
    """Give a source row the default for each term its entry does not state (the budget from its length).

    >>> row = {"chars": 1001, "quote_budget": None, "quote_max_passage": 300, "link_required": None}
    >>> fill_terms(row, Defaults(0.15, 500, False)); row["quote_budget"], row["quote_max_passage"], row["link_required"]
    (150, 300, False)
    """
    if row.get("quote_budget") is None:
        # Rounded down: the budget is a limit, and a share of it must never round above the share.
        row["quote_budget"] = math.floor(terms.budget_share * row["chars"])
    if row.get("quote_max_passage") is None:
        row["quote_max_passage"] = terms.max_passage
    if row.get("link_required") is None:
        row["link_required"] = terms.link_required


def format_checked(value) -> str | None:
    """The `checked` list of a sources.yaml entry as one published cell, or None if it is not such a list.

    Each item names the fields checked and where; the cell lists them in the entry's order.

    >>> format_checked([{"fields": ["url", "title"], "where": "https://a.example/x"}, {"fields": ["author"], "where": "b"}])
    'url, title: https://a.example/x; author: b'
    """
    if not isinstance(value, list) or not value:
        return None
    parts = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"fields", "where"}:
            return None
        fields, where = item["fields"], item["where"]
        # "; " separates the items of the published cell, so no item may hold one.
        if (
            not isinstance(where, str)
            or not where.strip()
            or ";" in where
            or not isinstance(fields, list)
            or not fields
            or not all(isinstance(f, str) and f and ";" not in f for f in fields)
        ):
            return None
        parts.append(f"{', '.join(fields)}: {where.strip()}")
    return "; ".join(parts)


def quote_sha256(quote: str) -> str:
    """SHA-256 (hex) of the quote's UTF-8 bytes: what anyone holding the article can check a withheld span by.

    >>> quote_sha256("26")[:12]
    '5f9c4ab08cac'
    """
    return hashlib.sha256(quote.encode("utf-8")).hexdigest()


def publish(row: dict, withhold: bool) -> None:
    """Give an anchored span row its `quote_sha256`; a withheld span loses its quote, prefix and suffix."""
    row["quote_sha256"] = quote_sha256(row["quote"])
    if withhold:
        row["quote"] = row["prefix"] = row["suffix"] = ""


def published_range(span: dict) -> tuple[int, int] | None:
    """The stretch of the source a span row reproduces (prefix, quote and suffix), or None if withheld."""
    if not span.get("quote"):
        return None
    return span["start"] - len(span.get("prefix") or ""), span["end"] + len(span.get("suffix") or "")


@dataclass
class Passage:
    """A continuous stretch of a source rebuilt from published spans that overlap or touch."""

    start: int
    end: int
    span_ids: list[str] = field(default_factory=list)

    @property
    def length(self) -> int:
        return self.end - self.start


def passages(spans: list[dict]) -> list[Passage]:
    """The published spans of one source merged into passages, in text order.

    >>> [(p.start, p.end, p.span_ids) for p in passages([
    ...     {"span_id": "a", "start": 0, "end": 5, "quote": "x", "prefix": "", "suffix": "  "},
    ...     {"span_id": "b", "start": 7, "end": 9, "quote": "y", "prefix": "", "suffix": ""},
    ...     {"span_id": "c", "start": 20, "end": 25, "quote": "", "prefix": "", "suffix": ""}])]
    [(0, 9, ['a', 'b'])]
    """
    ranges, joined = _joined(spans)
    return [_passage(ranges, stretch) for stretch in joined]


def _joined(spans: list[dict]) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, int, int]]]:
    """The published ranges (start, end, span id) in text order, and the passages over them."""
    ranges = [
        (s["start"] - len(s.get("prefix") or ""), s["end"] + len(s.get("suffix") or ""), s["span_id"])
        for s in spans
        if published_range(s) is not None
    ]
    return _passages_of(ranges)


def _passages_of(
    ranges: list[tuple[int, int, str]],
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, int, int]]]:
    """The ranges sorted in text order, and the passages over them.

    A passage is (start, end, i, j): the ranges `i` to `j - 1` make it up. Plain tuples, since
    every build measures every source: `Passage` objects are made only for those reported.
    """
    ranges.sort()
    joined: list[tuple[int, int, int, int]] = []
    if not ranges:
        return ranges, joined
    first, (start, end, _) = 0, ranges[0]
    for k in range(1, len(ranges)):
        r_start, r_end, _ = ranges[k]
        if r_start <= end:  # overlapping or touching: one passage can be read off
            if r_end > end:
                end = r_end
        else:
            joined.append((start, end, first, k))
            first, start, end = k, r_start, r_end
    joined.append((start, end, first, len(ranges)))
    return ranges, joined


def _passage(ranges: list[tuple[int, int, str]], stretch: tuple[int, int, int, int]) -> Passage:
    start, end, i, j = stretch
    return Passage(start, end, [r[2] for r in ranges[i:j]])


@dataclass
class Figures:
    """What the published spans reproduce of one source, beside its terms."""

    source_id: str
    chars: int
    quoted_chars: int
    longest: Passage | None
    budget: int
    max_passage: int
    link_required: bool
    url: str | None
    over_passage: list[Passage] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.quoted_chars / self.chars if self.chars else 0.0

    @property
    def longest_passage(self) -> int:
        return self.longest.length if self.longest else 0

    @property
    def within_terms(self) -> bool:
        """Whether the source keeps its terms: within its budget, no passage too long, a link where one is required."""
        return self.quoted_chars <= self.budget and not self.over_passage and (bool(self.url) or not self.link_required)


def figures(source: dict, spans: list[dict]) -> Figures:
    """The figures of one source row (terms filled in) from the rows of its spans."""
    return _figures(source, *_joined(spans))


def _figures(source: dict, ranges: list[tuple[int, int, str]], joined: list[tuple[int, int, int, int]]) -> Figures:
    limit = source["quote_max_passage"]
    # The longest passage, the first in text order among equals.
    longest = max(joined, key=lambda p: (p[1] - p[0], -p[0]), default=None)
    return Figures(
        source_id=source["source_id"],
        chars=source["chars"],
        quoted_chars=sum(end - start for start, end, _, _ in joined),
        longest=None if longest is None else _passage(ranges, longest),
        budget=source["quote_budget"],
        max_passage=limit,
        link_required=bool(source["link_required"]),
        url=source.get("url"),
        over_passage=[_passage(ranges, p) for p in joined if p[1] - p[0] > limit],
    )


def _has_terms(source: dict) -> bool:
    """Whether a source row's terms are values the figures can be compared with (validation reports others)."""

    def whole(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    return (
        whole(source.get("quote_budget"))
        and whole(source.get("quote_max_passage"))
        and isinstance(source.get("link_required"), bool)
        and whole(source.get("chars"))
    )


def figures_by_source(sources: list[dict], spans: list[dict]) -> dict[str, Figures]:
    """`figures` for every source row whose terms are well-formed, by source id (sorted)."""
    # The published ranges of each source's spans (as `published_range`): this runs over every
    # span of every build, so the values are fetched at C speed and a source's spans, which
    # follow each other, are handled a run at a time.
    by_source: dict[str, list[tuple[int, int, str]]] = {}
    columns = ("source_id", "quote", "start", "end", "prefix", "suffix", "span_id")
    try:
        values = list(map(operator.itemgetter(*columns), spans))
    except KeyError:  # rows lacking a column (made by hand): the general way
        values = [tuple(s.get(c) for c in columns) for s in spans]
    for source_id, run in itertools.groupby(values, key=operator.itemgetter(0)):
        by_source.setdefault(source_id, []).extend(
            [
                (start - len(prefix or ""), end + len(suffix or ""), span_id)
                for _, quote, start, end, prefix, suffix, span_id in run
                if quote
            ]
        )
    return {
        s["source_id"]: _figures(s, *_passages_of(by_source.get(s["source_id"], [])))
        for s in sorted(sources, key=lambda s: s["source_id"])
        if _has_terms(s)
    }


def measure(sources: list[dict], spans: list[dict]) -> dict[str, Figures]:
    """Fill the measured columns of every source row (`quoted_chars`, `longest_passage`), in place.

    Returns the figures by source id, for `check_terms` to judge without measuring again.
    """
    found = figures_by_source(sources, spans)
    for row in sources:
        if (f := found.get(row["source_id"])) is not None:
            row["quoted_chars"], row["longest_passage"] = f.quoted_chars, f.longest_passage
    return found


def spans_to_withhold(source: dict, spans: list[dict]) -> list[str]:
    """The spans whose withholding would bring a source within its terms, in the order they were chosen.

    Greedy: first the longest published span of the longest passage over the limit, until no
    passage is; then the span that publishes most on its own, until the budget holds. The same
    list names the spans to shorten in a refusal and is what `withhold_quote` was set from.
    """
    published = {s["span_id"]: s for s in spans if s.get("quote")}
    chosen: list[str] = []

    def own_length(span_id: str) -> tuple[int, str]:
        published_stretch = published_range(published[span_id])
        assert published_stretch is not None  # `published` holds only spans with a quote
        start, end = published_stretch
        return end - start, span_id

    while True:
        left = [s for sid, s in published.items() if sid not in chosen]
        f = figures(source, left)
        if f.over_passage:
            worst = max(f.over_passage, key=lambda p: (p.length, -p.start))
            chosen.append(max(worst.span_ids, key=own_length))
        elif f.quoted_chars > f.budget:
            chosen.append(max((s["span_id"] for s in left), key=own_length))
        else:
            return chosen


def _listed(items: list[str]) -> str:
    more = len(items) - NAMED_SPANS
    return ", ".join(items[:NAMED_SPANS]) + (f" and {more} more" if more > 0 else "")


def _named(span_ids: list[str], spans: dict[str, dict]) -> str:
    return _listed([f"{sid} ({len(spans[sid]['quote'])} chars)" for sid in span_ids])


def check_terms(
    sources: list[dict], origins: list, spans: list[dict], found: dict[str, Figures] | None = None
) -> list[Problem]:
    """One problem per source that goes over its quoting terms, on its entry in sources.yaml.

    `origins` are the source rows' origins (same order), for the file and line of each entry;
    `found` the figures `measure` returned for the same rows, if it was run on them.
    """
    if found is None:
        found = figures_by_source(sources, spans)
    over_terms = [(source_id, f) for source_id, f in found.items() if not f.within_terms]
    if not over_terms:
        return []
    origin_of = {row["source_id"]: origin for row, origin in zip(sources, origins, strict=False)}
    span_rows = {s["span_id"]: s for s in spans}
    problems = []
    for source_id, f in over_terms:
        source = next(s for s in sources if s["source_id"] == source_id)
        own = [s for s in spans if s["source_id"] == source_id]
        over = []
        if f.over_passage:
            worst = f.longest
            assert worst is not None  # some passage is over the limit, so there is a longest one
            over.append(
                f"a passage of {worst.length} characters ({worst.start}-{worst.end}) can be rebuilt from spans "
                f"{_listed(worst.span_ids)}, over its limit of {f.max_passage}"
                + (
                    ""
                    if len(f.over_passage) < 2
                    else " (1 more passage is too)"
                    if len(f.over_passage) == 2
                    else f" ({len(f.over_passage) - 1} more passages are too)"
                )
            )
        if f.quoted_chars > f.budget:
            over.append(
                f"its spans publish {f.quoted_chars} characters ({f.share:.1%} of {f.chars}), over its budget of {f.budget}"
            )
        fix = ""
        if over:
            fix = (
                f"; shorten these quotes to the clause that states the fact, or mark them '{WITHHOLD_KEY}: true': "
                + _named(spans_to_withhold(source, own), span_rows)
            )
        if f.link_required and not f.url:
            over.append("its terms require a link to the original but it has no url")
            fix += "; add the checked url of the article"
        origin = origin_of.get(source_id)
        problems.append(
            Problem(
                origin.file if origin else "",
                origin.line if origin else 0,
                "over-quoting-terms",
                f"source '{source_id}' goes over its quoting terms: " + "; ".join(over) + fix,
                "sources",
                source_id,
            )
        )
    return problems
