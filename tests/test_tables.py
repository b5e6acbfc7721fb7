"""Tests of the table-building stage: derived ids, the count shorthand, event dates."""

from __future__ import annotations

import pytest

from pipeline.engine.build import assemble, build
from pipeline.errors import BuildFailed
from pipeline.metadata import load_metadata
from pipeline.rows.tables import edtf_bounds
from tests.conftest import ROOT

META = load_metadata(ROOT / "datapackage.json")


def test_derived_claim_ids_are_slugs(mini_raw):
    ann = mini_raw / "annotations" / "mini-news.yaml"
    ann.write_text(
        ann.read_text(encoding="utf-8").replace("category: prices", "category: food_supply"), encoding="utf-8"
    )
    tables = assemble(mini_raw, META)
    assert [r["demand_id"] for r in tables.rows["demands"]] == ["mini-demand-food-supply"]


@pytest.mark.parametrize(
    "qualifier,expected",
    [("at_least", (5, None)), ("more_than", (5, None)), ("up_to", (None, 5)), ("about", (5, 5)), ("exact", (5, 5))],
)
def test_count_shorthand_follows_the_qualifier(mini_raw, qualifier, expected):
    ann = mini_raw / "annotations" / "mini-news.yaml"
    text = ann.read_text(encoding="utf-8").replace(
        "count: 12\n        qualifier: at_least", f"count: 5\n        qualifier: {qualifier}"
    )
    ann.write_text(text, encoding="utf-8")
    rows = assemble(mini_raw, META).rows["casualties"]
    row = next(r for r in rows if r["span_id"] == "mini-killed-12")
    assert (row["count_min"], row["count_max"]) == expected


def test_event_date_bounds_are_derived(mini_raw):
    (event,) = assemble(mini_raw, META).rows["events"]
    assert (event["earliest_date"], event["latest_date"]) == ("1962-06-02", "1962-06-02")


@pytest.mark.parametrize(
    "value,bounds",
    [
        ("1989-07~", ("1989-07-01", "1989-07-31")),
        ("195X", ("1950-01-01", "1959-12-31")),
        ("1953-07/..", ("1953-07-01", None)),
    ],
)
def test_edtf_bounds(value, bounds):
    assert edtf_bounds(value) == bounds


def test_mentions_and_events_carry_the_precision_of_their_dates(mini_raw):
    result = build(mini_raw, mini_raw.parent / "dist")
    (event,) = result.tables.rows["events"]
    assert event["date_precision"] == "day"
    precision = {r["span_id"]: r["date_precision"] for r in result.tables.rows["event_mentions"]}
    assert precision["mini-date"] == "day"  # date: "1962-06-02"
    assert precision["mini-spread"] == "unknown"  # the span gives no date


def test_an_annotator_cannot_write_a_derived_precision(mini_raw):
    ann = mini_raw / "annotations" / "mini-news.yaml"
    ann.write_text(
        ann.read_text(encoding="utf-8").replace(
            '        date: "1962-06-02"\n', '        date: "1962-06-02"\n        date_precision: year\n'
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        BuildFailed,
        match="'date_precision' is not written in events of span 'mini-date': the build derives it; remove it",
    ):
        build(mini_raw, mini_raw.parent / "dist")
