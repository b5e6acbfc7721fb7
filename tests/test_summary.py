"""Tests of the derived helpers: date precision, temporal coverage and the event_summary rows."""

from __future__ import annotations

import pytest

from pipeline.rows.summary import date_precision, event_summary, event_tree, temporal_coverage
from pipeline.rows.tables import edtf_bounds


@pytest.mark.parametrize(
    "edtf,precision",
    [
        ("1962-06-02", "day"),
        ("1989-07~", "month"),
        ("1962-02", "month"),
        ("1953", "year"),
        ("196X", "decade"),
        ("1962-06-01/1962-06-03", "interval"),
        ("1961/1962-07~", "interval"),
        ("../1961", "interval"),
        ("1960/1969", "decade"),
        ("19XX", "interval"),
    ],
)
def test_precision_follows_the_window_the_edtf_date_allows(edtf, precision):
    assert date_precision(*edtf_bounds(edtf)) == precision


# A made-up tree: a wave with two strikes, one of which has a part of its own, and a context event.
EVENTS = [
    {
        "event_id": "wave",
        "name": "Wave",
        "event_type": "strike_wave",
        "scope": "core",
        "parent_event_id": None,
        "start_date": "1989-07",
        "end_date": None,
        "earliest_date": "1989-07-01",
        "latest_date": "1989-07-31",
        "date_precision": "month",
        "place": "Coalfield",
        "place_id": "coalfield",
        "country": "SU",
    },
    {
        "event_id": "pit-a",
        "name": "Pit A",
        "event_type": "strike",
        "scope": "core",
        "parent_event_id": "wave",
        "start_date": "1989-07-10",
        "end_date": None,
        "earliest_date": "1989-07-10",
        "latest_date": "1989-07-10",
        "date_precision": "day",
        "place": "Pit A",
        "place_id": "pit-a-town",
        "country": "SU",
    },
    {
        "event_id": "pit-a-shooting",
        "name": "Shooting at pit A",
        "event_type": "massacre",
        "scope": "core",
        "parent_event_id": "pit-a",
        "start_date": None,
        "end_date": None,
        "earliest_date": None,
        "latest_date": None,
        "date_precision": "unknown",
        "place": None,
        "place_id": None,
        "country": "SU",
    },
    {
        "event_id": "old-strike",
        "name": "Old strike",
        "event_type": "strike",
        "scope": "context",
        "parent_event_id": None,
        "start_date": "1912",
        "end_date": None,
        "earliest_date": "1912-01-01",
        "latest_date": "1912-12-31",
        "date_precision": "year",
        "place": None,
        "place_id": None,
        "country": None,
    },
]
SPANS = [
    {"span_id": s, "source_id": src} for s, src in (("s1", "paper"), ("s2", "paper"), ("s3", "book"), ("s4", "book"))
]
MENTIONS = [
    {"event_id": e, "span_id": s}
    for e, s in (("wave", "s1"), ("wave", "s3"), ("pit-a", "s2"), ("pit-a-shooting", "s2"), ("pit-a-shooting", "s4"))
]
CASUALTIES = [
    {"event_id": "pit-a-shooting", "category": "killed", "count_min": 3, "count_max": 3, "span_id": "s2"},
    {"event_id": "pit-a-shooting", "category": "killed", "count_min": 10, "count_max": None, "span_id": "s4"},
    {"event_id": "wave", "category": "arrested", "count_min": None, "count_max": None, "span_id": "s1"},
]
ESTIMATES = [
    {"event_id": "pit-a-shooting", "category": "killed", "low": 3, "high": 10, "open_ended": True},
    {"event_id": "wave", "category": "arrested", "low": None, "high": None, "open_ended": False},
]
PLACES = [
    {"place_id": "coalfield", "lat": 54.0, "lon": 87.0, "geo_precision": "region"},
    {"place_id": "pit-a-town", "lat": 53.7, "lon": 87.1, "geo_precision": "settlement"},
]


def _rows(**extra):
    return {
        "events": EVENTS,
        "spans": SPANS,
        "event_mentions": MENTIONS,
        "casualties": CASUALTIES,
        "casualty_estimates": ESTIMATES,
        **extra,
    }


def test_levels_and_top_events_follow_the_parents():
    assert event_tree(EVENTS) == {
        "wave": (0, "wave"),
        "pit-a": (1, "wave"),
        "pit-a-shooting": (2, "wave"),
        "old-strike": (0, "old-strike"),
    }


def test_a_loop_of_parents_ends_the_climb():
    loop = [{"event_id": "a", "parent_event_id": "b"}, {"event_id": "b", "parent_event_id": "a"}]
    assert event_tree(loop) == {"a": (1, "b"), "b": (1, "a")}


def test_one_row_per_event_with_its_own_figures_only():
    rows = {r["event_id"]: r for r in event_summary(_rows())}
    assert list(rows) == ["old-strike", "pit-a", "pit-a-shooting", "wave"]
    shooting, wave = rows["pit-a-shooting"], rows["wave"]
    assert (shooting["killed_low"], shooting["killed_high"], shooting["killed_open_ended"]) == (3, 10, True)
    assert (shooting["n_claims"], shooting["n_sources"], shooting["n_mentions"]) == (2, 2, 2)
    # The shooting's claims are not counted again in its strike or its wave.
    assert (rows["pit-a"]["killed_low"], rows["pit-a"]["n_claims"]) == (None, 0)
    assert (wave["killed_low"], wave["arrested_low"], wave["n_claims"], wave["n_sources"]) == (None, None, 1, 2)
    assert sum(r["n_claims"] for r in rows.values()) == len(CASUALTIES)
    assert sum(r["n_mentions"] for r in rows.values()) == len(MENTIONS)
    assert (shooting["level"], shooting["top_event_id"]) == (2, "wave")


def test_the_main_place_brings_its_coordinates_when_the_package_has_places():
    with_places = {r["event_id"]: r for r in event_summary(_rows(places=PLACES))}
    assert (with_places["pit-a"]["lat"], with_places["pit-a"]["lon"], with_places["pit-a"]["geo_precision"]) == (
        53.7,
        87.1,
        "settlement",
    )
    assert with_places["pit-a-shooting"]["lat"] is None  # no place_id
    without = {r["event_id"]: r for r in event_summary(_rows())}
    assert (without["pit-a"]["place_id"], without["pit-a"]["lat"]) == ("pit-a-town", None)


def test_coverage_spans_the_core_events_only():
    assert temporal_coverage(EVENTS) == "1989/1989"
    assert temporal_coverage([e for e in EVENTS if e["scope"] == "context"]) is None
