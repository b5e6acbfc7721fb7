"""Quoting terms: what published spans reproduce of a source, and the build refusing to go over the terms."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from pipeline import quoting
from pipeline.cli import cli
from pipeline.errors import PipelineError
from pipeline.metadata import load_metadata
from tests.conftest import ROOT


def span(span_id: str, start: int, end: int, prefix: str = "", suffix: str = "", quote: str | None = None) -> dict:
    """A span row of source 's'; its quote is as long as its offsets say unless given ('' = withheld)."""
    return {
        "span_id": span_id,
        "source_id": "s",
        "start": start,
        "end": end,
        "prefix": prefix,
        "suffix": suffix,
        "quote": "q" * (end - start) if quote is None else quote,
    }


def source(
    chars: int = 1000, budget: int = 150, passage: int = 100, link: bool = False, url: str | None = None
) -> dict:
    return {
        "source_id": "s",
        "chars": chars,
        "quote_budget": budget,
        "quote_max_passage": passage,
        "link_required": link,
        "url": url,
    }


def test_overlapping_ranges_count_once_and_context_counts():
    spans = [span("a", 10, 20, prefix="12345"), span("b", 15, 30), span("c", 100, 110, suffix="xyz")]
    f = quoting.figures(source(), spans)
    assert f.quoted_chars == (30 - 5) + (113 - 100)
    assert (f.longest.start, f.longest.end, f.longest.span_ids) == (5, 30, ["a", "b"])


def test_touching_spans_join_into_one_passage_but_a_gap_does_not():
    touching = quoting.passages([span("a", 0, 10), span("b", 10, 20)])
    apart = quoting.passages([span("a", 0, 10), span("b", 11, 20)])
    assert [(p.start, p.end) for p in touching] == [(0, 20)]
    assert [(p.start, p.end) for p in apart] == [(0, 10), (11, 20)]


def test_figures_by_source_match_figures_of_each_source_however_its_spans_are_spread():
    """The corpus-wide measure, which takes each source's spans a run at a time, agrees with `figures` per source."""
    other = {**source(), "source_id": "t"}
    spans = [span("a", 10, 20), span("b", 15, 30), {**span("c", 0, 5), "source_id": "t"}, span("d", 40, 50)]
    spans[1].pop("prefix")  # a row lacking a column (made by hand) is measured the general way
    found = quoting.figures_by_source([other, source()], spans)
    assert list(found) == ["s", "t"]
    assert found["s"] == quoting.figures(source(), [s for s in spans if s["source_id"] == "s"])
    assert (found["t"].quoted_chars, found["s"].quoted_chars) == (5, 20 + 10)


def test_check_terms_judges_the_figures_measure_returned_as_it_would_its_own():
    sources, spans = [source(budget=10)], [span("a", 0, 20), span("b", 30, 35)]
    found = quoting.measure(sources, spans)
    assert sources[0]["quoted_chars"] == 25
    given = quoting.check_terms(sources, [None], spans, found)
    assert [p.message for p in given] == [p.message for p in quoting.check_terms(sources, [None], spans)]
    assert "publish 25 characters" in given[0].message


def test_a_withheld_span_publishes_nothing_and_breaks_a_passage():
    spans = [span("a", 0, 60), span("b", 60, 120, quote=""), span("c", 120, 180)]
    f = quoting.figures(source(), spans)
    assert (f.quoted_chars, f.longest_passage) == (120, 60)


def test_publish_keeps_the_hash_of_a_withheld_quote():
    row = {"quote": "They shot 26.", "prefix": "before ", "suffix": " after"}
    quoting.publish(row, withhold=True)
    assert row == {"quote": "", "prefix": "", "suffix": "", "quote_sha256": quoting.quote_sha256("They shot 26.")}
    kept = {"quote": "26", "prefix": "", "suffix": ""}
    quoting.publish(kept, withhold=False)
    assert kept["quote"] == "26" and kept["quote_sha256"].startswith("5f9c4ab08cac")


def test_spans_to_withhold_first_breaks_the_longest_passage_then_meets_the_budget():
    spans = [span("short", 0, 40), span("long", 40, 120), span("mid", 120, 170), span("far", 500, 560)]
    terms = source(budget=100, passage=100)
    chosen = quoting.spans_to_withhold(terms, spans)
    assert chosen[0] == "long"  # the longest span of the 170-character passage
    left = [s for s in spans if s["span_id"] not in chosen]
    assert quoting.figures(terms, left).within_terms
    assert quoting.figures(terms, [s for s in spans if s["span_id"] not in chosen[:-1]]).within_terms is False


def test_default_terms_come_from_datapackage_json():
    defaults = quoting.defaults(load_metadata(ROOT / "datapackage.json"))
    row = {"chars": 7192, "quote_budget": None, "quote_max_passage": None, "link_required": None}
    quoting.fill_terms(row, defaults)
    assert row["quote_budget"] == int(defaults.budget_share * 7192) < 7192 // 5
    assert row["quote_max_passage"] == defaults.max_passage <= 500
    assert row["link_required"] is defaults.link_required


def test_missing_default_terms_are_an_error(tmp_path):
    meta = load_metadata(ROOT / "datapackage.json")
    del meta.descriptor["quotingTerms"]
    with pytest.raises(PipelineError, match="quotingTerms"):
        quoting.defaults(meta)


def test_checked_list_is_refused_unless_each_item_names_fields_and_where():
    assert quoting.format_checked([{"fields": ["url"], "where": ""}]) is None
    assert quoting.format_checked([{"fields": "url", "where": "https://x.example/"}]) is None
    assert quoting.format_checked("https://x.example/") is None
    assert quoting.format_checked([{"fields": ["url"], "where": "a; b"}]) is None  # "; " separates items


def _set_terms(raw: Path, **terms) -> None:
    path = raw / "sources.yaml"
    text = path.read_text(encoding="utf-8").replace("    quote_budget: 255\n", "")
    lines = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in terms.items())
    path.write_text(text.replace("    language: en\n", "    language: en\n" + lines), encoding="utf-8")


def _withhold(raw: Path, *span_ids: str) -> None:
    path = raw / "annotations" / "mini-news.yaml"
    text = path.read_text(encoding="utf-8")
    for sid in span_ids:
        text = text.replace(f"  - span_id: {sid}\n", f"  - span_id: {sid}\n    withhold_quote: true\n")
    path.write_text(text, encoding="utf-8")


def test_an_over_long_quote_is_refused_naming_source_figure_limit_and_span(runner, mini_raw, tmp_path):
    _set_terms(mini_raw, quote_budget=255, quote_max_passage=90)
    _withhold(mini_raw, "mini-spread", "mini-cafe", "mini-killed-12", "mini-killed-3", "mini-demand")
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(tmp_path / "dist")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: raw/sources.yaml:3: source 'mini-news' goes over its quoting terms: a passage of 98 characters "
        "(13-111) can be rebuilt from spans mini-date, over its limit of 90; shorten these quotes to the clause "
        "that states the fact, or mark them 'withhold_quote: true': mini-date (34 chars)",
        "build failed: 1 problem; dist/ was not changed",
    ]
    assert not (tmp_path / "dist").exists()


def test_withholding_the_named_span_lets_the_build_pass_and_publishes_offsets_and_hash(runner, mini_raw, tmp_path):
    _set_terms(mini_raw, quote_budget=255, quote_max_passage=90)
    _withhold(mini_raw, "mini-spread", "mini-cafe", "mini-killed-12", "mini-killed-3", "mini-demand", "mini-date")
    dist = tmp_path / "dist"
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(dist)])
    assert result.exit_code == 0, result.output
    with (dist / "spans.csv").open(encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["span_id"] == "mini-date")
    assert (row["start"], row["end"], row["quote"], row["prefix"], row["suffix"]) == ("45", "79", "", "", "")
    assert row["quote_sha256"] == quoting.quote_sha256("On 2 June 1962 the workers struck.")
    with (dist / "sources.csv").open(encoding="utf-8", newline="") as fh:
        src = next(csv.DictReader(fh))
    assert (src["quoted_chars"], src["longest_passage"], src["quote_max_passage"]) == ("0", "0", "90")
    assert not re.search(r"quote-selector/mini-date\b", (dist / "soviet-bloc-revolts.ttl").read_text(encoding="utf-8"))
    assert not re.search(r"quote-selector/mini-date\b", (dist / "soviet-bloc-revolts.nt").read_text(encoding="utf-8"))


def test_a_required_link_without_url_is_refused(runner, mini_raw, tmp_path):
    _set_terms(mini_raw, quote_budget=255, link_required=True)
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(tmp_path / "dist")])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "Error: raw/sources.yaml:3: source 'mini-news' goes over its quoting terms: its terms require a link to "
        "the original but it has no url; add the checked url of the article"
    )


def test_stats_prints_the_figures_of_a_source_over_its_terms(runner, mini_raw):
    _set_terms(mini_raw, quote_budget=100)
    result = runner.invoke(cli, ["stats", "--raw-dir", str(mini_raw)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("mini-news ") and "OVER" in x)
    assert line.split() == ["mini-news", "242", "94.9%", "100", "242", "500", "optional", "OVER"]
    figures = json.loads(runner.invoke(cli, ["stats", "--json", "--raw-dir", str(mini_raw)]).output)["quoting"]
    assert figures["mini-news"]["quoted_chars"] == 242 and figures["mini-news"]["within_terms"] is False


def test_the_real_corpus_keeps_every_source_within_its_terms():
    with (ROOT / "dist" / "sources.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        assert int(row["quoted_chars"]) <= int(row["quote_budget"]) <= int(row["chars"]) // 5, row["source_id"]
        assert int(row["longest_passage"]) <= int(row["quote_max_passage"]) <= 500, row["source_id"]
        assert row["url"].startswith("https://"), row["source_id"]
        assert row["checked"], row["source_id"]
