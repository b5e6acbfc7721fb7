"""Shared fixtures: a copy of the mini corpus in a temporary folder, and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def mini_raw(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/mini/raw, in a project folder with the repository's descriptor and schemas."""
    dest = tmp_path / "raw"
    shutil.copytree(FIXTURES / "mini" / "raw", dest)
    shutil.copy(ROOT / "datapackage.json", tmp_path / "datapackage.json")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    return dest


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below folder with its bytes, for before/after comparisons."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def mini_project(tmp_path: Path, mini_raw: Path) -> dict[str, Path]:
    """The mini corpus with its own copy of the metadata, a CITATION.cff and a dist/ built from it.

    Releases change the version in datapackage.json and write CHANGELOG.md, so tests get copies.
    """
    from pipeline.engine.build import build

    meta = tmp_path / "meta"
    meta.mkdir()
    shutil.copy(ROOT / "datapackage.json", meta / "datapackage.json")
    shutil.copytree(ROOT / "schemas", meta / "schemas")
    paths = {
        "raw": mini_raw,
        "datapackage": meta / "datapackage.json",
        "dist": tmp_path / "dist",
        "releases": tmp_path / "releases",
        "changelog": meta / "CHANGELOG.md",
        "citation": meta / "CITATION.cff",
    }
    write_citation(paths)
    build(mini_raw, paths["dist"], paths["datapackage"])
    return paths


def write_citation(paths: dict[str, Path]) -> None:
    import json

    from pipeline.release.citation import citation_cff

    paths["citation"].write_text(
        citation_cff(json.loads(paths["datapackage"].read_text(encoding="utf-8"))), encoding="utf-8"
    )
