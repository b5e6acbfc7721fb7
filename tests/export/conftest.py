"""Fixtures for the export tests: the mini corpus and the real corpus built once per module."""

from __future__ import annotations

import pytest

from pipeline.engine.build import build
from pipeline.metadata import load_metadata
from pipeline.write.linked import export_names
from tests.conftest import FIXTURES, ROOT

META = load_metadata(ROOT / "datapackage.json")
NAMES = export_names(META)


@pytest.fixture(scope="module")
def mini_build(tmp_path_factory):
    """(BuildResult, dist folder) of the mini corpus."""
    dist = tmp_path_factory.mktemp("mini") / "dist"
    return build(FIXTURES / "mini" / "raw", dist), dist


@pytest.fixture(scope="module")
def real_turtle(tmp_path_factory):
    """The real corpus, built from raw/ into a temporary folder and parsed from its Turtle file."""
    from rdflib import Graph

    dist = tmp_path_factory.mktemp("real") / "dist"
    build(ROOT / "raw", dist)
    return Graph().parse(dist / NAMES["turtle"], format="turtle")
