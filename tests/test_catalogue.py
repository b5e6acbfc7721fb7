"""croissant.json (added to every release) validates with mlcroissant; .zenodo.json and CITATION.cff agree with datapackage.json."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from pipeline.release.catalogue import croissant, release_metadata, zenodo, zenodo_text
from tests.conftest import ROOT

DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
BUILT = json.loads((ROOT / "dist" / "datapackage.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    """The committed build's CSV files with the croissant.json a release adds, as an unpacked release holds them."""
    folder = tmp_path_factory.mktemp("release")
    for resource in BUILT["resources"]:
        shutil.copy(ROOT / "dist" / resource["path"], folder / resource["path"])
    (folder / "croissant.json").write_bytes(release_metadata(BUILT)["croissant.json"])
    return folder


def test_mlcroissant_validates_croissant_json_without_warnings(unpacked):
    mlc = pytest.importorskip("mlcroissant", reason="mlcroissant is not installed (pip install -e '.[test]')")
    dataset = mlc.Dataset(jsonld=unpacked / "croissant.json")
    assert dataset.metadata.ctx.issues.errors == set()
    assert dataset.metadata.ctx.issues.warnings == set()
    assert dataset.metadata.ctx.is_v1_1()


def test_croissant_reads_the_records_back_from_the_csv_files(unpacked):
    mlc = pytest.importorskip("mlcroissant", reason="mlcroissant is not installed (pip install -e '.[test]')")
    records = list(mlc.Dataset(jsonld=unpacked / "croissant.json").records("casualties"))
    official = [r for r in records if r["casualties/casualty_id"] == b"dcf-official-dead-killed"]
    assert official and official[0]["casualties/count_min"] == 26


def test_croissant_file_objects_carry_the_descriptor_hashes():
    files = {f["@id"]: f["sha256"] for f in croissant(BUILT)["distribution"]}
    assert files == {r["path"]: r["hash"].removeprefix("sha256:") for r in BUILT["resources"]}


def test_zenodo_json_is_up_to_date():
    assert (ROOT / ".zenodo.json").read_text(encoding="utf-8") == zenodo_text(DESCRIPTOR), (
        "run `pipeline citation` and commit .zenodo.json"
    )


def test_zenodo_json_and_citation_cff_agree_with_datapackage():
    record = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert record["title"] == cff["title"] == DESCRIPTOR["title"]
    assert record["version"] == cff["version"] == DESCRIPTOR["version"]
    assert record["publication_date"] == cff["date-released"] == DESCRIPTOR["created"][:10]
    assert record["license"].upper() == cff["license"] == DESCRIPTOR["licenses"][0]["name"]
    assert record["description"] == cff["abstract"] == DESCRIPTOR["description"]
    assert record["keywords"] == cff["keywords"] == DESCRIPTOR["keywords"]
    assert [c["name"] for c in record["creators"]] == [a["name"] for a in cff["authors"]]


def test_zenodo_follows_a_changed_descriptor():
    changed = {**DESCRIPTOR, "version": "9.9.9", "keywords": ["x"]}
    assert zenodo(changed)["version"] == "9.9.9" and zenodo(changed)["keywords"] == ["x"]
