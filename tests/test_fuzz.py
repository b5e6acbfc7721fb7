"""Property-based tests: random texts and spans through anchoring and through whole builds.

Texts mix arbitrary code points (lone surrogates included where Python allows them) with the
pieces that break naive code: CRLF and lone CR, combining marks, emoji, NUL, typographic quotes,
Unicode line separators and formula characters. Whatever comes in, the only failures allowed are
AnchorError / BuildFailed, and every anchored span must hold its quote, in memory and in the CSV.
"""

from __future__ import annotations

import csv
import hashlib
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from pipeline.engine.build import build
from pipeline.errors import AnchorError, BuildFailed
from pipeline.read.anchoring import anchor, context, find_all
from pipeline.spreadsheet import formula_risk, safe_prefix, safe_suffix
from tests.conftest import ROOT

PIECES = [
    "\r\n",
    "\r",
    "\n",
    "e\u0301",
    "\u0301",
    "😀",
    "👩‍👩‍👧",
    "\x00",
    "“",
    "”",
    "\u2028",
    "\x85",
    "\ufeff",
    "=",
    "-",
    "+",
    "@",
    "\t",
    " ",
    "a",
    "strike",
    "the strike",
    "ß",
    "İ",
]

texts = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=80),  # surrogates allowed
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
)
file_texts = (
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), min_size=1, max_size=40).map("".join).filter(bool)
)
FAST = settings(max_examples=150, deadline=None)


@st.composite
def text_and_span(draw, text_strategy=texts):
    text = draw(text_strategy)
    assume(len(text) >= 1)
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    return text, start, end


@FAST
@given(text_and_span())
def test_given_offsets_that_hold_the_quote_are_kept(case):
    text, start, end = case
    assert anchor(text, text[start:end], start=start, end=end) == (start, end)


@FAST
@given(text_and_span())
def test_a_quote_from_the_text_is_found_or_reported_ambiguous(case):
    text, start, end = case
    quote = text[start:end]
    try:
        a, b = anchor(text, quote)
    except AnchorError as err:
        assert err.code == "quote-ambiguous" and len(find_all(text, quote)) > 1
    else:
        assert text[a:b] == quote and find_all(text, quote) == [a]


@FAST
@given(text_and_span(), st.integers(0, 12), st.integers(0, 12))
def test_prefix_and_suffix_pick_an_occurrence_that_holds_the_quote(case, before, after):
    text, start, end = case
    quote, prefix, suffix = text[start:end], text[max(0, start - before) : start], text[end : end + after]
    try:
        a, b = anchor(text, quote, prefix=prefix, suffix=suffix)
    except AnchorError as err:
        assert err.code == "quote-ambiguous"
    else:
        assert text[a:b] == quote and text[:a].endswith(prefix) and text[b:].startswith(suffix)


@FAST
@given(texts, texts, st.one_of(st.none(), st.integers(-5, 100)), st.one_of(st.none(), st.integers(-5, 100)))
def test_any_quote_and_offsets_either_anchor_or_raise_anchor_error(text, quote, start, end):
    try:
        a, b = anchor(text, quote, start=start, end=end)
    except AnchorError:
        return
    assert text[a:b] == quote


@FAST
@given(text_and_span(), st.integers(0, 40))
def test_published_context_is_adjacent_and_never_a_formula(case, chars):
    text, start, end = case
    prefix, suffix = context(text, start, end, chars)
    prefix, suffix = safe_prefix(prefix), safe_suffix(suffix)
    assert text[:start].endswith(prefix) and text[end:].startswith(suffix)
    assert formula_risk(prefix) is None and formula_risk(suffix) is None


def write_corpus(raw: Path, text: str, spans: list[dict]) -> None:
    """A one-source corpus: the text, its sources.yaml entry and one annotation file."""
    (raw / "texts").mkdir(parents=True)
    (raw / "annotations").mkdir()
    data = text.encode("utf-8")
    (raw / "texts" / "fuzz.txt").write_bytes(data)
    source = {
        "source_id": "fuzz",
        "title": "Fuzz",
        "published": "2024",
        "license": "CC0-1.0",
        "language": "en",
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (raw / "sources.yaml").write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    (raw / "annotations" / "fuzz.yaml").write_text(
        yaml.safe_dump({"source": "fuzz", "spans": spans}, sort_keys=False), encoding="utf-8"
    )


@st.composite
def corpora(draw):
    text = draw(file_texts)
    spans = []
    for i in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        span = {"span_id": f"s{i}", "label": "event", "quote": text[start:end]}
        how = draw(st.sampled_from(["find", "offsets", "prefix", "wrong-offsets"]))
        if how == "offsets":
            span.update(start=start, end=end)
        elif how == "prefix":
            span["prefix"] = text[max(0, start - 5) : start]
        elif how == "wrong-offsets":
            span.update(start=start + 1, end=end + 1)
        spans.append(span)
    return text, spans


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora())
def test_a_build_of_any_corpus_publishes_spans_that_hold_their_quotes(corpus):
    text, spans = corpus
    with tempfile.TemporaryDirectory() as tmp:
        raw, dist = Path(tmp, "raw"), Path(tmp, "dist")
        write_corpus(raw, text, spans)
        try:
            result = build(raw, dist, ROOT / "datapackage.json")
        except BuildFailed as err:
            event(f"refused: {sorted({p.code for p in err.problems})}")
            assert err.problems and all(p.message for p in err.problems)
            assert not dist.exists()
            return
        event("built")
        rows = result.tables.rows["spans"]
        assert len(rows) == len(spans)
        with open(dist / "spans.csv", encoding="utf-8", newline="") as fh:
            published = list(csv.DictReader(fh))
        for row in [*rows, *published]:
            start, end = int(row["start"]), int(row["end"])
            assert text[start:end] == row["quote"]
            prefix, suffix = row["prefix"] or "", row["suffix"] or ""
            assert text[:start].endswith(prefix) and text[end:].startswith(suffix)
            assert formula_risk(row["quote"]) is None
