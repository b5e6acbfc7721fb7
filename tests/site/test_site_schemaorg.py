"""The landing page's schema.org Dataset has what Google Dataset Search requires and recommends."""

from __future__ import annotations

import json

from pipeline.site.data import read_build
from pipeline.site.generate import render_site
from pipeline.site.schemaorg import RECOMMENDED, REQUIRED, missing_properties
from tests.site.conftest import COMMITTED_BUILD, FIXTURE_BUILD


def _jsonld(build, base_url="https://example.org/revolts/") -> dict:
    page = render_site(read_build(build), base_url)["index.html"].decode("utf-8")
    return json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])


def test_required_and_recommended_properties_are_present():
    for build in (COMMITTED_BUILD, FIXTURE_BUILD):
        dataset = _jsonld(build)
        assert dataset["@type"] == "Dataset" and dataset["@context"] == "https://schema.org/"
        assert missing_properties(dataset) == []
        assert set(REQUIRED + RECOMMENDED) <= set(dataset)


def test_distributions_are_absolute_data_downloads():
    dataset = _jsonld(COMMITTED_BUILD)
    assert all(
        d["@type"] == "DataDownload"
        and d["contentUrl"].startswith("https://example.org/revolts/data/")
        and d["encodingFormat"]
        for d in dataset["distribution"]
    )
    assert {"events.csv", "datapackage.json"} <= {d["name"] for d in dataset["distribution"]}


def test_spatial_coverage_is_the_box_of_the_located_events():
    assert _jsonld(FIXTURE_BUILD)["spatialCoverage"]["geo"]["box"] == "50.5000 40.2500 55.0000 60.0000"


def test_without_a_base_url_the_missing_url_is_reported():
    assert missing_properties(_jsonld(FIXTURE_BUILD, "")) == ["url"]
