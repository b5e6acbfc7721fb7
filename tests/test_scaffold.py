"""`pipeline init`: a new project that builds at once and that frictionless accepts."""

from __future__ import annotations

import json

from frictionless import Package

from pipeline.cli import cli
from pipeline.scaffold import TEMPLATE, template_files
from tests.conftest import ROOT


def test_init_then_build_gives_a_valid_package(runner, tmp_path, monkeypatch):
    result = runner.invoke(cli, ["init", str(tmp_path / "mill-strikes")])
    assert result.exit_code == 0, result.output
    project = tmp_path / "mill-strikes"
    descriptor = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["name"] == "mill-strikes" and descriptor["title"] == "Mill strikes"
    assert (project / ".ci" / "run").stat().st_mode & 0o111
    assert (project / ".gitignore").is_file()
    monkeypatch.chdir(project)
    built = runner.invoke(cli, ["build"])
    assert built.exit_code == 0, built.output
    assert "1 sources, 2 spans" in built.output
    report = Package(str(project / "dist" / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_init_refuses_a_folder_that_holds_anything(runner, tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path}: exists and is not an empty folder; pick a new folder for the project\n"
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_template_declares_the_same_tables_as_the_repository():
    # The template is a copy so that a plain `pip install` carries it; it must not drift.
    ours = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    template = json.loads((TEMPLATE / "datapackage.json").read_text(encoding="utf-8"))
    assert template["resources"] == ours["resources"]
    for schema in sorted((ROOT / "schemas").iterdir()):
        copy = TEMPLATE / "schemas" / schema.name
        assert copy.is_file() and copy.read_bytes() == schema.read_bytes(), (
            f"pipeline/scaffold/template/schemas/{schema.name} differs from schemas/{schema.name}: copy it over"
        )
    assert {p.name for p in (TEMPLATE / "schemas").iterdir()} == {p.name for p in (ROOT / "schemas").iterdir()}


def test_template_files_list_hidden_files_under_their_real_names():
    names = [rel for rel, _ in template_files()]
    assert ".gitignore" in names and ".ci/run" in names and "dot-gitignore" not in names
