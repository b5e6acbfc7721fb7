"""CLI tests through CliRunner: exit codes, the exact first error line, dist/ left untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import cli
from tests.conftest import snapshot

ANN = "annotations/mini-news.yaml"


def build(runner, raw: Path, dist: Path):
    return runner.invoke(cli, ["build", "--raw-dir", str(raw), "--dist-dir", str(dist)])


def test_help_of_every_command(runner):
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and command.help.strip(), name


def test_build_writes_every_table(runner, mini_raw, tmp_path):
    dist = tmp_path / "dist"
    result = build(runner, mini_raw, dist)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"built {dist}: 1 sources, 6 spans")
    names = {p.name for p in dist.iterdir()}
    assert {"datapackage.json", "casualties.csv", "casualty_estimates.csv"} <= names


# (what to replace in the annotation file, by what, the exact first line of the error)
BROKEN = [
    pytest.param('quote: "at least 12 were killed"', 'quote: "at least 13 were killed"',
                 "Error: raw/annotations/mini-news.yaml:35: span 'mini-killed-12': quote 'at least 13 were killed' not found in the source; nearest match at 147: 'at least 12 were killed'",
                 id="quote-not-found"),
    pytest.param('    prefix: "struck. "\n', "",
                 "Error: raw/annotations/mini-news.yaml:26: span 'mini-spread': quote 'The strike' occurs 2 times (at 80, 237); add a prefix with the words right before the one you mean",
                 id="quote-ambiguous"),
    pytest.param('quote: "at least 12 were killed"', 'quote: "at least 12 were killed"\n    start: 148\n    end: 171',
                 "Error: raw/annotations/mini-news.yaml:36: span 'mini-killed-12': offsets 148-171 do not hold the quote: the text there reads 't least 12 were killed;'; the quote is at 147-170; fix the offsets or remove them",
                 id="offset-drift"),
    pytest.param("category: killed\n        count: 12", "category: kiled\n        count: 12",
                 "Error: raw/annotations/mini-news.yaml:38: casualties 'mini-killed-12-kiled': category 'kiled' is not a known category; did you mean 'killed'?",
                 id="unknown-category"),
    pytest.param("count: 12", "count: -12",
                 "Error: raw/annotations/mini-news.yaml:39: casualties 'mini-killed-12-killed': count_min -12 is below the minimum 0",
                 id="negative-count"),
    pytest.param("count: 12", "count: twelve",
                 "Error: raw/annotations/mini-news.yaml:39: casualties 'mini-killed-12-killed': count_min 'twelve' is not a whole number",
                 id="count-not-a-number"),
    pytest.param("count: 12\n        qualifier: at_least", "count_min: 12\n        count_max: 5\n        qualifier: at_least",
                 "Error: raw/annotations/mini-news.yaml:39: casualties 'mini-killed-12-killed': count_min 12 is above count_max 5",
                 id="min-above-max"),
    pytest.param("victim_actor_id: krasny-workers\n        perpetrator", "victim_actor_id: krasny-worker\n        perpetrator",
                 "Error: raw/annotations/mini-news.yaml:41: casualties 'mini-killed-12-killed': victim_actor_id 'krasny-worker' is not a known actor; did you mean 'krasny-workers'?",
                 id="unknown-actor"),
    pytest.param('start_date: "1962-06-02"', 'start_date: "1962-02-30"',
                 "Error: raw/annotations/mini-news.yaml:6: event 'krasny-strike-1962': start_date '1962-02-30' is not a valid EDTF date; write e.g. 1962-06-02, 1953-07, 1989-07~",
                 id="impossible-date"),
    pytest.param('start_date: "1962-06-02"', 'start_date: "1962-06-02"\n    end_date: "1962-05"',
                 "Error: raw/annotations/mini-news.yaml:7: event 'krasny-strike-1962': end_date 1962-05 is before start_date 1962-06-02",
                 id="end-before-start"),
    pytest.param("event_type: strike", "event_type: strik",
                 "Error: raw/annotations/mini-news.yaml:5: events 'krasny-strike-1962': event_type 'strik' is not a known category; did you mean 'strike'?",
                 id="unknown-event-type"),
    pytest.param("    label: demand\n", "    label: demand\n    labl: demand\n",
                 "Error: raw/annotations/mini-news.yaml:56: unknown key 'labl' in a span; did you mean 'label'?",
                 id="misspelt-key"),
    pytest.param("  - span_id: mini-killed-3", "  - span_id: mini-killed-12",
                 "Error: raw/annotations/mini-news.yaml:44: spans 'mini-killed-12': span_id 'mini-killed-12' is defined twice (first at raw/annotations/mini-news.yaml:33)",
                 id="duplicate-span-id"),
    pytest.param("country: SU", "country: USSR",
                 "Error: raw/annotations/mini-news.yaml:8: events 'krasny-strike-1962': country 'USSR' is not a known category; allowed: SU, DD, DE, HU, PL, CS, RO, BG, AL, YU, RU, UA, KZ",
                 id="bad-country"),
    pytest.param("    label: event\n    quote: \"café", "    label: rumour\n    quote: \"café",
                 "Error: raw/annotations/mini-news.yaml:30: spans 'mini-cafe': label 'rumour' is not a known category; allowed: event, actor, casualty, demand, repression, outcome",
                 id="unknown-label"),
    pytest.param("  - actor_id: soldiers\n    name: Soldiers", "  - actor_id: soldiers\n    name:",
                 "Error: raw/annotations/mini-news.yaml:15: actors 'soldiers': name is required but missing",
                 id="missing-required"),
    pytest.param("spans:\n", "spans:\n  - [oops\n",
                 "Error: raw/annotations/mini-news.yaml:19: invalid YAML: did not find expected ',' or ']'; check indentation and quoting",
                 id="malformed-yaml"),
]


@pytest.mark.parametrize("old,new,first_line", BROKEN)
def test_broken_annotation_fails_cleanly(runner, mini_raw, tmp_path, old, new, first_line):
    dist = tmp_path / "dist"
    assert build(runner, mini_raw, dist).exit_code == 0
    before = snapshot(dist)
    ann = mini_raw / ANN
    text = ann.read_text(encoding="utf-8")
    assert old in text, "the fixture changed; update the test case"
    ann.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = build(runner, mini_raw, dist)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == first_line
    assert result.output.splitlines()[-1].endswith("dist/ was not changed")
    assert "Traceback" not in result.output
    assert snapshot(dist) == before


def test_all_problems_are_reported_together(runner, mini_raw, tmp_path):
    ann = mini_raw / ANN
    text = ann.read_text(encoding="utf-8").replace("category: killed", "category: kiled").replace("event_type: strike", "event_type: strik")
    ann.write_text(text, encoding="utf-8")
    result = build(runner, mini_raw, tmp_path / "dist")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "build failed: 3 problems; dist/ was not changed"


def test_changed_source_text_is_refused(runner, mini_raw, tmp_path):
    text_file = mini_raw / "texts" / "mini-news.txt"
    text_file.write_text(text_file.read_text(encoding="utf-8") + "More.\n", encoding="utf-8")
    result = build(runner, mini_raw, tmp_path / "dist")
    assert result.exit_code == 1
    assert result.output.startswith("Error: raw/sources.yaml:9: source text 'texts/mini-news.txt' changed since it was annotated")


def test_debug_shows_the_traceback(runner, mini_raw, tmp_path):
    (mini_raw / ANN).write_text("spans: [", encoding="utf-8")
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(tmp_path / "d"), "--debug"])
    assert result.exit_code == 1
    assert result.exception is not None
