"""Tests of `pipeline stats`: per-source counts and the conflicts it lists."""

from __future__ import annotations

import json

from pipeline.cli import cli
from pipeline.engine.build import assemble
from pipeline.metadata import load_metadata
from pipeline.stats import compute_stats
from tests.conftest import ROOT


def test_counts_and_conflicts_of_the_mini_corpus(mini_raw):
    stats = compute_stats(assemble(mini_raw, load_metadata(ROOT / "datapackage.json")))
    assert stats.per_source["mini-news"] == {"spans": 6, "events": 1, "casualties": 2, "demands": 1, "actors": 2}
    assert stats.total["spans"] == 6
    (conflict,) = stats.conflicts
    assert (conflict.event_id, conflict.aspect) == ("krasny-strike-1962", "killed")
    assert len(conflict.claims) == 2


def test_a_second_date_for_an_event_is_a_conflict(mini_raw):
    ann = mini_raw / "annotations" / "mini-news.yaml"
    text = (
        ann.read_text(encoding="utf-8")
        .replace(
            "  - span_id: mini-cafe\n    label: event\n",
            '  - span_id: mini-cafe\n    label: event\n    events:\n      - event_id: krasny-strike-1962\n        date: "1962-06-03"\n',
            1,
        )
        .replace("    event_id: krasny-strike-1962\n  - span_id: mini-killed-12", "  - span_id: mini-killed-12", 1)
    )
    ann.write_text(text, encoding="utf-8")
    stats = compute_stats(assemble(mini_raw, load_metadata(ROOT / "datapackage.json")))
    dates = [c for c in stats.conflicts if c.aspect == "date"]
    assert dates and dates[0].claims == ["1962-06-02 (span mini-date)", "1962-06-03 (span mini-cafe)"]


def test_stats_cli_prints_text_and_json(runner, mini_raw):
    text = runner.invoke(cli, ["stats", "--raw-dir", str(mini_raw)])
    assert text.exit_code == 0
    assert text.output.splitlines()[2].split() == ["mini-news", "6", "1", "2", "1", "2"]
    as_json = runner.invoke(cli, ["stats", "--raw-dir", str(mini_raw), "--json"])
    assert json.loads(as_json.output)["total"]["casualties"] == 2


def test_a_day_inside_a_month_is_no_conflict():
    from pipeline.stats import _dates_disagree

    assert not _dates_disagree(["1989-07", "1989-07-23"])
    assert not _dates_disagree(["1962-06-01/1962-06-03", "1962-06-02"])
    assert _dates_disagree(["1961", "1962-07"])
