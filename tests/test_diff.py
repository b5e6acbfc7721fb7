"""`pipeline diff` on build folders: rows by key, columns and tables, the bump they need, JSON."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.cli import cli
from pipeline.engine.build import build
from pipeline.release.diff import diff_paths


@pytest.fixture
def two_builds(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "old")
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    return tmp_path / "old", tmp_path / "new"


def rewrite(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_identical_builds_have_no_differences(two_builds, runner):
    old, new = two_builds
    d = diff_paths(old, new)
    assert d.empty and d.required_bump() is None
    result = runner.invoke(cli, ["diff", str(old), str(new / "datapackage.json")])
    assert result.output.splitlines()[-1] == "no differences"


def test_rows_added_removed_and_changed_by_key(two_builds):
    old, new = two_builds
    rewrite(new / "actors.csv", "soldiers,Soldiers,military", "troops,Troops,military")
    rewrite(new / "actors.csv", "Workers of the Krasny works", "Krasny workers")
    d = diff_paths(old, new)
    (actors,) = [t for t in d.tables if not t.empty]
    assert actors.added == [{"actor_id": "troops"}] and actors.removed == [{"actor_id": "soldiers"}]
    assert [(c.key, c.changes) for c in actors.changed] == [
        ({"actor_id": "krasny-workers"}, [("name", "Workers of the Krasny works", "Krasny workers")])
    ]
    assert d.required_bump() == "minor"


def test_removed_column_or_table_needs_a_major_release(two_builds):
    old, new = two_builds
    desc = json.loads((new / "datapackage.json").read_text())
    desc["resources"] = [r for r in desc["resources"] if r["name"] != "demands"]
    (new / "datapackage.json").write_text(json.dumps(desc))
    d = diff_paths(old, new)
    assert (d.tables_removed, d.required_bump()) == (["demands"], "major")


def test_changed_cells_only_need_a_patch_release(two_builds, runner):
    old, new = two_builds
    rewrite(new / "demands.csv", "lower prices", "lower food prices")
    assert diff_paths(old, new).required_bump() == "patch"
    result = runner.invoke(cli, ["diff", "--json", str(old), str(new)])
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert out["required_bump"] == "patch"
    assert out["tables"]["demands"]["changed"] == [
        {
            "key": {"demand_id": "mini-demand-prices"},
            "fields": {"text": {"old": "lower prices", "new": "lower food prices"}},
        }
    ]


def test_diff_of_something_that_is_not_a_build(tmp_path, runner):
    result = runner.invoke(cli, ["diff", str(tmp_path), str(tmp_path)])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {tmp_path}: no datapackage.json; is this a build folder (run `pipeline build`)?\n",
    )
