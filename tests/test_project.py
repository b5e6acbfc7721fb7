"""The project folder: found upward from the cwd or named with --project; two projects never mix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import cli
from pipeline.errors import PipelineError
from pipeline.project import find_project, open_project
from tests.conftest import FIXTURES, ROOT


def _mini_project(folder: Path) -> Path:
    """A project folder holding the mini corpus, the repository's descriptor and schemas."""
    folder.mkdir()
    shutil.copy(ROOT / "datapackage.json", folder / "datapackage.json")
    shutil.copytree(ROOT / "schemas", folder / "schemas")
    shutil.copytree(FIXTURES / "mini" / "raw", folder / "raw")
    return folder


def test_the_project_is_found_upward_from_any_folder_inside_it(tmp_path):
    project = _mini_project(tmp_path / "corpus")
    assert find_project(project / "raw" / "annotations").root == project.resolve()
    assert find_project(project).datapackage == project.resolve() / "datapackage.json"


def test_outside_any_project_the_error_says_what_to_do(tmp_path):
    with pytest.raises(PipelineError) as err:
        find_project(tmp_path)
    assert str(err.value) == (
        f"{tmp_path.resolve()}: no datapackage.json here or in any parent folder; run the command inside a project, "
        "name one with --project DIR, or create one with 'pipeline init DIR'"
    )
    with pytest.raises(PipelineError, match="not a project folder"):
        open_project(tmp_path)


def test_build_in_a_second_clone_builds_that_clone(runner, tmp_path, monkeypatch):
    first, second = _mini_project(tmp_path / "first"), _mini_project(tmp_path / "second")
    monkeypatch.chdir(second / "raw")
    result = runner.invoke(cli, ["build", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"built {second.resolve() / 'dist'}: 1 sources, 6 spans")
    assert not (first / "dist").exists()


def test_project_option_names_the_project_from_anywhere(runner, tmp_path, monkeypatch):
    project = _mini_project(tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["--project", str(project), "build", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert (project / "dist" / "spans.csv").is_file()
    assert not (project / ".cache").exists()


def test_a_command_outside_a_project_exits_1_with_one_line(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["build"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"Error: {tmp_path.resolve()}: no datapackage.json here")
