"""CITATION.cff: generated from datapackage.json, valid YAML, and the committed one is current."""

from __future__ import annotations

import json

import pytest
import yaml

from pipeline.cli import cli
from pipeline.errors import PipelineError
from pipeline.release.citation import citation_cff, citation_problem
from tests.conftest import ROOT

DESC = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))


def test_citation_carries_title_version_date_licence_and_authors():
    cff = yaml.safe_load(citation_cff(DESC))
    assert (cff["title"], cff["version"], cff["date-released"], cff["license"]) == (
        DESC["title"],
        DESC["version"],
        DESC["created"][:10],
        DESC["licenses"][0]["name"],
    )
    assert cff["authors"] == [{"name": c["title"]} for c in DESC["contributors"]]
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"


def test_people_become_persons():
    desc = {
        **DESC,
        "contributors": [
            {"title": "Ann Lee", "givenName": "Ann", "familyName": "Lee", "roles": ["author"]},
            {"title": "A funder", "roles": ["funder"]},
        ],
    }
    assert yaml.safe_load(citation_cff(desc))["authors"] == [{"family-names": "Lee", "given-names": "Ann"}]


def test_missing_parts_are_named():
    with pytest.raises(
        PipelineError, match="lacks what a citation needs: created, contributors with role creator or author"
    ):
        citation_cff({k: v for k, v in DESC.items() if k not in ("created", "contributors")})


def test_committed_citation_is_current():
    assert citation_problem(DESC, ROOT / "CITATION.cff") is None


def test_cli_check_names_a_stale_file(tmp_path, runner):
    (tmp_path / "CITATION.cff").write_text(citation_cff({**DESC, "version": "0.0.9"}), encoding="utf-8")
    result = runner.invoke(cli, ["citation", "--check", "--output", str(tmp_path / "CITATION.cff")])
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: CITATION.cff disagrees with datapackage.json (version {DESC['version']}): run `pipeline citation` and commit it\n"
    )
    assert runner.invoke(cli, ["citation", "--output", str(tmp_path / "CITATION.cff")]).exit_code == 0
    assert runner.invoke(cli, ["citation", "--check", "--output", str(tmp_path / "CITATION.cff")]).exit_code == 0
