"""CLI tests through CliRunner: exit codes, the exact first error line, dist/ left untouched."""

from __future__ import annotations

from pathlib import Path

from pipeline.cli import cli

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


def test_build_says_whether_it_spliced_the_last_build(runner, mini_raw, tmp_path):
    dist, cache = tmp_path / "dist", tmp_path / "cache"
    argv = ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(dist), "--cache-dir", str(cache)]
    first = runner.invoke(cli, argv)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[1] == "built in full (no earlier build recorded in the cache)"
    again = runner.invoke(cli, argv)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[1] == "spliced into the last build: 0 of 1 annotation files changed"


# The table of broken inputs, one per mistake, is tests/test_broken_inputs.py.


def test_all_problems_are_reported_together(runner, mini_raw, tmp_path):
    ann = mini_raw / ANN
    text = (
        ann.read_text(encoding="utf-8")
        .replace("category: killed", "category: kiled")
        .replace("event_type: strike", "event_type: strik")
    )
    ann.write_text(text, encoding="utf-8")
    result = build(runner, mini_raw, tmp_path / "dist")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "build failed: 3 problems; dist/ was not changed"


def test_changed_source_text_is_refused(runner, mini_raw, tmp_path):
    text_file = mini_raw / "texts" / "mini-news.txt"
    text_file.write_text(text_file.read_text(encoding="utf-8") + "More.\n", encoding="utf-8")
    result = build(runner, mini_raw, tmp_path / "dist")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: raw/sources.yaml:9: source text 'texts/mini-news.txt' changed since it was annotated"
    )


def test_debug_shows_the_traceback(runner, mini_raw, tmp_path):
    (mini_raw / ANN).write_text("spans: [", encoding="utf-8")
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(tmp_path / "d"), "--debug"])
    assert result.exit_code == 1
    assert result.exception is not None
