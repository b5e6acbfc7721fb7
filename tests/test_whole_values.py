"""Issue #13, "every value is checked whole": what must build, beside the refusals in tests/fixtures/broken/.

YAML 1.1 numbers in text columns stay the text written, `yes`/`no` stay text, open ends of EDTF
intervals stay open (no invented bound), and a source's control character next to a quote is
cut from the published context (and its quote may be withheld).
"""

from __future__ import annotations

import csv
import hashlib

import pytest

from pipeline.cli import cli
from pipeline.read import yamlfast, yamlfile
from pipeline.rows.tables import IntervalOrderError, edtf_bounds


def _build(runner, raw, tmp_path):
    dist = tmp_path / "dist"
    result = runner.invoke(cli, ["build", "--raw-dir", str(raw), "--dist-dir", str(dist)])
    assert result.exit_code == 0, result.output
    return dist


def _rows(dist, table):
    with open(dist / f"{table}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "written", ["017", "0x1F", "1:30", "190:20:30", "1:30.5", "0b101", "1_000", "yes", "no", "on", "off", "0o17"]
)
def test_yaml11_numbers_in_text_columns_stay_the_text_written(written, runner, mini_raw, tmp_path):
    _edit(mini_raw / "annotations" / "mini-news.yaml", "claimant: the article", f"claimant: {written}")
    _edit(mini_raw / "annotations" / "mini-news.yaml", "place: Zavod Krasny", f"place: {written}")
    dist = _build(runner, mini_raw, tmp_path)
    assert {r["claimant"] for r in _rows(dist, "casualties")} == {written, "official figures"}
    assert _rows(dist, "events")[0]["place"] == written


@pytest.mark.parametrize("written, number", [("1_000", 1000), ("+5", 5)])
def test_decimal_numbers_with_underscores_or_plus_keep_their_value_in_number_columns(
    written, number, runner, mini_raw, tmp_path
):
    _edit(mini_raw / "annotations" / "mini-news.yaml", "count: 12", f"count: {written}")
    dist = _build(runner, mini_raw, tmp_path)
    assert str(number) in {r["count_min"] for r in _rows(dist, "casualties")}


@pytest.mark.parametrize("text", ["a: 017\nb: 1:30\nc: 0x1F\nd: 1:30.5\ne: 1_000\nf: 12\ng: 1.5\nh: 00\n"])
def test_both_yaml_readers_keep_yaml11_numbers_as_written(text):
    fast = yamlfast.parse(text, yamlfile.YDict, yamlfile._resolve_plain, yamlfile._CONSTRUCTOR)
    loader = yamlfile._LineLoader(text)
    try:
        slow = loader.get_single_data()
    finally:
        loader.dispose()
    assert fast == slow
    for key in fast:
        assert type(fast[key]) is type(slow[key])
    assert type(fast["a"]) is yamlfile.Yaml11Number and (fast["a"], fast["a"].number, fast["a"].form) == (
        "017",
        15,
        "octal",
    )
    assert (fast["b"].number, fast["b"].form) == (90, "base-60")
    assert (fast["d"].number, fast["d"].form) == (90.5, "base-60")
    assert (fast["e"].number, fast["e"].form) == (1000, "")
    assert (fast["f"], fast["g"]) == (12, 1.5) and type(fast["f"]) is int


@pytest.mark.parametrize(
    "value, bounds",
    [
        ("../1961", (None, "1961-12-31")),
        ("1953/..", ("1953-01-01", None)),
        ("/1961", (None, "1961-12-31")),
        ("1953/", ("1953-01-01", None)),
        ("1962-06/1962-06-10", ("1962-06-01", "1962-06-10")),
        ("1962-06-01/1962-06-01", ("1962-06-01", "1962-06-01")),
    ],
)
def test_open_ends_stay_open(value, bounds):
    assert edtf_bounds(value) == bounds


@pytest.mark.parametrize("value", ["1962-06-03/1962-06-01", "1963/1962", "1962-06-29/1962-06-01", "1962-07~/1962-06"])
def test_intervals_that_end_before_they_start_are_refused(value):
    with pytest.raises(IntervalOrderError, match="ends before it starts"):
        edtf_bounds(value)


@pytest.mark.parametrize(
    "start, end, earliest, latest, precision",
    [
        ("../1962", None, "", "1962-12-31", "interval"),
        ("1962/..", None, "1962-01-01", "", "interval"),
        ("../1962", "1963", "", "1963-12-31", "interval"),
        ("1961", "1962/..", "1961-01-01", "", "interval"),
    ],
)
def test_an_events_open_end_is_published_open(start, end, earliest, latest, precision, runner, mini_raw, tmp_path):
    new = f'start_date: "{start}"' + (f'\n    end_date: "{end}"' if end else "")
    _edit(mini_raw / "annotations" / "mini-news.yaml", 'start_date: "1962-06-02"', new)
    dist = _build(runner, mini_raw, tmp_path)
    event = _rows(dist, "events")[0]
    assert (event["earliest_date"], event["latest_date"], event["date_precision"]) == (earliest, latest, precision)
    summary = _rows(dist, "event_summary")[0]
    assert (summary["earliest_date"], summary["latest_date"], summary["date_precision"]) == (
        earliest,
        latest,
        precision,
    )


def test_a_withheld_quote_may_come_from_text_with_a_control_character(runner, mini_raw, tmp_path):
    """The quote is not published, and the context cut around the next span loses the character."""
    text_path = mini_raw / "texts" / "mini-news.txt"
    old_sha = hashlib.sha256(text_path.read_bytes()).hexdigest()
    _edit(text_path, "at least 12 were killed", "at least 12\u0007 were\u202e killed")
    _edit(mini_raw / "sources.yaml", old_sha, hashlib.sha256(text_path.read_bytes()).hexdigest())
    ann = mini_raw / "annotations" / "mini-news.yaml"
    _edit(
        ann,
        'quote: "at least 12 were killed"',
        'quote: "at least 12\\u0007 were\\u202E killed"\n    withhold_quote: true',
    )
    dist = _build(runner, mini_raw, tmp_path)
    spans = {r["span_id"]: r for r in _rows(dist, "spans")}
    assert spans["mini-killed-12"]["quote"] == ""
    following = spans["mini-killed-3"]
    assert following["prefix"] == " killed; " and "\u0007" not in following["prefix"]
    for path in dist.glob("*.csv"):
        body = path.read_text(encoding="utf-8")
        assert "\u0007" not in body and "\u202e" not in body, path.name
