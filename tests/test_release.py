"""Releases of the mini corpus: archive contents, determinism, versions, changelog, diff, frictionless."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from frictionless import Package

from pipeline.cli import cli
from pipeline.engine.build import build
from pipeline.errors import PipelineError
from pipeline.release.publish import release
from tests.conftest import write_citation

ANN = "annotations/mini-news.yaml"


def cut(p: dict[str, Path], previous: Path | None = None):
    return release(p["dist"], p["releases"], p["datapackage"], p["changelog"], p["citation"], previous)


def set_version(p: dict[str, Path], version: str, created: str | None = None) -> None:
    desc = json.loads(p["datapackage"].read_text(encoding="utf-8"))
    desc["version"] = version
    if created:
        desc["created"] = created
    p["datapackage"].write_text(json.dumps(desc, indent=2), encoding="utf-8")
    write_citation(p)


def edit_annotation(p: dict[str, Path], old: str, new: str) -> None:
    ann = p["raw"] / ANN
    text = ann.read_text(encoding="utf-8")
    assert old in text, "the fixture changed; update the test"
    ann.write_text(text.replace(old, new, 1), encoding="utf-8")


def rebuild(p: dict[str, Path]) -> None:
    build(p["raw"], p["dist"], p["datapackage"])


def test_a_build_with_a_computed_temporal_coverage_is_released(mini_project):
    # The mini event made core: the build computes temporalCoverage, which the root descriptor lacks.
    p = mini_project
    edit_annotation(p, "    event_type: strike\n", "    event_type: strike\n    scope: core\n")
    rebuild(p)
    assert json.loads((p["dist"] / "datapackage.json").read_text(encoding="utf-8"))["temporalCoverage"] == "1962/1962"
    assert "temporalCoverage" not in json.loads(p["datapackage"].read_text(encoding="utf-8"))
    assert cut(p).version == "0.1.0"


def test_archive_holds_every_dist_file_plus_citation_changelog_and_sums(mini_project):
    p = mini_project
    (p["dist"] / "events.ttl").write_text("# a file another exporter wrote\n", encoding="utf-8")
    result = cut(p)
    assert result.archive == p["releases"] / "soviet-bloc-revolts-0.1.0.zip"
    names = set(zipfile.ZipFile(result.archive).namelist())
    dist_files = {f.name for f in p["dist"].iterdir()}
    assert names == dist_files | {
        "CITATION.cff",
        "CHANGELOG.md",
        "croissant.json",
        "datasette.json",
        "soviet-bloc-revolts.xlsx",
        "SHA256SUMS",
    }
    assert {"codebook.md", "soviet-bloc-revolts.sqlite", "events.parquet", "events.ttl"} <= names
    sums = zipfile.ZipFile(result.archive).read("SHA256SUMS").decode()
    assert sorted(line.split("  ")[1] for line in sums.splitlines()) == sorted(names - {"SHA256SUMS"})
    assert (
        p["releases"] / "soviet-bloc-revolts-0.1.0.zip.sha256"
    ).read_text() == f"{hashlib.sha256(result.archive.read_bytes()).hexdigest()}  soviet-bloc-revolts-0.1.0.zip\n"


def test_archive_members_have_fixed_timestamps_and_modes(mini_project):
    infos = zipfile.ZipFile(cut(mini_project).archive).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(2026, 11, 23, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_recutting_the_same_release_gives_the_same_bytes(mini_project):
    p = mini_project
    first = cut(p).archive.read_bytes()
    for f in p["releases"].iterdir():
        f.unlink()
    # as on a fresh clone: the committed changelog already has the entry; the archive is rebuilt
    rebuild(p)
    assert cut(p).archive.read_bytes() == first


def test_a_released_version_is_never_overwritten(mini_project):
    p = mini_project
    before = cut(p).archive.read_bytes()
    with pytest.raises(PipelineError) as err:
        cut(p)
    assert "soviet-bloc-revolts-0.1.0.zip already exists: version 0.1.0 is released and is never overwritten" in str(
        err.value
    )
    assert "choose 1.0.0 (major), 0.2.0 (minor), 0.1.1 (patch)" in str(err.value)
    assert (p["releases"] / "soviet-bloc-revolts-0.1.0.zip").read_bytes() == before


def test_second_release_diff_names_exactly_the_changed_annotation(mini_project):
    p = mini_project
    first = cut(p)
    edit_annotation(p, "text: lower prices", "text: lower food prices")
    set_version(p, "0.1.1", "2026-12-01T00:00:00Z")
    rebuild(p)
    second = cut(p)
    assert second.archive.name == "soviet-bloc-revolts-0.1.1.zip"
    changes = second.diff.to_json()
    assert changes["tables"] == {
        "demands": {
            "primary_key": ["demand_id"],
            "added": [],
            "removed": [],
            "changed": [
                {
                    "key": {"demand_id": "mini-demand-prices"},
                    "fields": {"text": {"old": "lower prices", "new": "lower food prices"}},
                }
            ],
            "fields_added": [],
            "fields_removed": [],
            "fields_retyped": [],
            "primary_key_changed": None,
            "schema_changed": False,
        }
    }
    assert {m["property"] for m in changes["metadata"]} == {"version", "created"}
    # the changelog entry is that diff, and the archive carries the updated changelog
    changelog = p["changelog"].read_text(encoding="utf-8")
    assert changelog.index("## [0.1.1] - 2026-12-01") < changelog.index("## [0.1.0] - 2026-11-23")
    assert '  ~ mini-demand-prices: text "lower prices" -> "lower food prices"\n' in changelog
    assert zipfile.ZipFile(second.archive).read("CHANGELOG.md").decode() == changelog
    # and `pipeline diff` between the two archives says the same
    result = CliRunner().invoke(cli, ["diff", str(first.archive), str(second.archive)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        'metadata: created "2026-11-23T00:00:00Z" -> "2026-12-01T00:00:00Z"',
        'metadata: version "0.1.0" -> "0.1.1"',
        "demands: 0 added, 0 removed, 1 changed",
        '  ~ mini-demand-prices: text "lower prices" -> "lower food prices"',
        "unchanged: sources, spans, events, actors, event_actors, event_mentions, places, event_places, casualties, demand_outcomes, casualty_estimates, event_summary",
    ]


def test_added_rows_need_a_minor_release(mini_project):
    p = mini_project
    cut(p)
    edit_annotation(
        p,
        "  - span_id: mini-demand\n",
        '  - span_id: mini-more\n    label: event\n    quote: "The strike"\n'
        '    prefix: "struck. "\n    event_id: krasny-strike-1962\n  - span_id: mini-demand\n',
    )
    set_version(p, "0.1.1")
    rebuild(p)
    with pytest.raises(PipelineError) as err:
        cut(p)
    assert str(err.value).startswith(
        "0.1.1 is a patch release, but the changes since 0.1.0 need at least a minor release"
    )
    assert "use 0.2.0" in str(err.value)
    set_version(p, "0.2.0")
    rebuild(p)
    entry = cut(p).entry
    assert "spans: 1 added, 0 removed, 0 changed\n  + mini-more\n" in entry
    assert "event_mentions: 1 added, 0 removed, 0 changed\n  + krasny-strike-1962, mini-more\n" in entry


def test_the_previous_release_must_be_at_hand(mini_project, tmp_path):
    p = mini_project
    moved = tmp_path / "old.zip"
    cut(p).archive.rename(moved)
    edit_annotation(p, "text: lower prices", "text: lower food prices")
    set_version(p, "0.1.1")
    rebuild(p)
    with pytest.raises(PipelineError, match=r"the previous release 0.1.0 is not in .*pass --previous"):
        cut(p)
    assert "lower food prices" in cut(p, previous=moved).entry


def test_stale_dist_or_citation_is_refused(mini_project):
    p = mini_project
    set_version(p, "0.2.0")
    with pytest.raises(
        PipelineError,
        match=r"was built from other metadata than datapackage.json \(version differ\): run `pipeline build` first",
    ):
        cut(p)
    rebuild(p)
    p["citation"].write_text(p["citation"].read_text().replace("0.2.0", "0.1.0"), encoding="utf-8")
    with pytest.raises(PipelineError, match="CITATION.cff disagrees with datapackage.json: run `pipeline citation`"):
        cut(p)


def test_hand_edited_dist_is_refused(mini_project):
    p = mini_project
    with open(p["dist"] / "events.csv", "a", encoding="utf-8") as fh:
        fh.write("x\n")
    with pytest.raises(PipelineError, match="events.csv was changed after the build"):
        cut(p)


def test_frictionless_validates_the_archive_as_it_is(mini_project):
    archive = cut(mini_project).archive
    report = Package(str(archive)).validate()
    assert report.valid, report.flatten(["type", "note"])
    casualties = Package(str(archive)).get_resource("casualties").to_pandas()
    assert sorted(casualties.index) == ["mini-killed-12-killed", "mini-killed-3-killed"]
    assert sorted(casualties["count_min"]) == [3, 12]


def test_pandas_reads_the_archive_without_unpacking(mini_project):
    archive = cut(mini_project).archive
    with zipfile.ZipFile(archive) as z:
        csv_events = pd.read_csv(z.open("events.csv"), keep_default_na=False)
        parquet_events = pd.read_parquet(z.open("events.parquet"))
    assert list(csv_events["event_id"]) == list(parquet_events["event_id"]) == ["krasny-strike-1962"]
    assert str(parquet_events["earliest_date"][0]) == "1962-06-02"


def test_cli_release_and_verify(mini_project, runner):
    p = mini_project
    args = [
        "release",
        "--dist-dir",
        str(p["dist"]),
        "--out-dir",
        str(p["releases"]),
        "--datapackage",
        str(p["datapackage"]),
        "--changelog",
        str(p["changelog"]),
        "--citation",
        str(p["citation"]),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    archive = p["releases"] / "soviet-bloc-revolts-0.1.0.zip"
    n_dist = sum(1 for f in p["dist"].iterdir() if f.is_file())
    # + CITATION.cff, CHANGELOG.md, croissant.json, datasette.json, the workbook, SHA256SUMS
    assert result.output.startswith(f"released {archive}: version 0.1.0, {n_dist + 6} files, sha256 ")
    result = runner.invoke(cli, ["verify", str(archive)])
    assert (result.exit_code, result.output) == (0, f"ok: {archive}: {n_dist + 5} files match SHA256SUMS\n")
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert again.output.startswith(f"Error: {archive} already exists")


def test_unreleased_notes_move_into_the_next_entry(mini_project):
    p = mini_project
    cut(p)
    p["changelog"].write_text(
        p["changelog"]
        .read_text(encoding="utf-8")
        .replace(
            "## [0.1.0]", "## Unreleased\n\n- IRIs moved to https://w3id.org/soviet-bloc-revolts/.\n\n## [0.1.0]", 1
        ),
        encoding="utf-8",
    )
    edit_annotation(p, "text: lower prices", "text: lower food prices")
    set_version(p, "0.1.1", "2026-12-01T00:00:00Z")
    rebuild(p)
    second = cut(p)
    changelog = p["changelog"].read_text(encoding="utf-8")
    assert "Unreleased" not in changelog
    entry = changelog[changelog.index("## [0.1.1]") : changelog.index("## [0.1.0]")]
    assert "\n- IRIs moved to https://w3id.org/soviet-bloc-revolts/.\n" in entry
    assert second.entry == entry
