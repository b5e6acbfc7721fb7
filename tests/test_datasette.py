"""datasette.json and the search tables: generated from the schemas, and served by a real Datasette over the built SQLite."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from pipeline.engine.build import build
from pipeline.release.catalogue import release_metadata
from pipeline.release.datasette import CANNED_QUERIES, datasette_metadata
from tests.conftest import ROOT

DB = "soviet-bloc-revolts"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    dist = tmp_path_factory.mktemp("datasette") / "dist"
    build(ROOT / "raw", dist)
    descriptor = json.loads((dist / "datapackage.json").read_text(encoding="utf-8"))
    metadata = dist.parent / "datasette.json"  # beside the build, as a release holds it
    metadata.write_bytes(release_metadata(descriptor)["datasette.json"])
    return dist


def test_metadata_describes_every_table_and_column_from_the_schemas(built):
    descriptor = json.loads((built / "datapackage.json").read_text(encoding="utf-8"))
    tables = datasette_metadata(descriptor)["databases"][DB]["tables"]
    for resource in descriptor["resources"]:
        assert tables[resource["name"]]["description"] == resource["schema"]["description"]
        assert tables[resource["name"]]["columns"] == {
            f["name"]: f["description"] for f in resource["schema"]["fields"]
        }
    assert tables["spans"]["label_column"] == "quote"
    assert json.loads((built.parent / "datasette.json").read_text(encoding="utf-8")) == datasette_metadata(descriptor)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def datasette(built):
    executable = shutil.which("datasette", path=str(ROOT / ".venv" / "bin")) or shutil.which("datasette")
    if executable is None:
        pytest.skip("datasette is not installed (pip install -e '.[test]')")
    port = _free_port()
    server = subprocess.Popen(
        [
            executable,
            "serve",
            str(built / f"{DB}.sqlite"),
            "-m",
            str(built.parent / "datasette.json"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "--setting",
            "sql_time_limit_ms",
            "5000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # at most ~20 s for Datasette to start
            if server.poll() is not None:
                pytest.fail(f"datasette exited: {server.stdout.read().decode(errors='replace')}")
            try:
                _get(base + "/-/versions.json")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        else:
            pytest.fail("datasette did not answer within 20 s")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_datasette_serves_the_canned_death_toll_query(datasette):
    rows = _get(f"{datasette}/{DB}/death_toll_ranges.json?_shape=array")
    novocherkassk = {(r["count_min"], r["claimant"]) for r in rows if r["event_id"] == "novocherkassk-1962"}
    assert {(26, "official figures"), (80, "some estimates")} <= novocherkassk
    assert all(r["source"] for r in rows)


@pytest.mark.parametrize("query", sorted(q for q in CANNED_QUERIES if not q.startswith("search")))
def test_every_canned_query_returns_rows(datasette, query):
    assert _get(f"{datasette}/{DB}/{query}.json?_shape=array")


def test_full_text_search_over_quotes_and_descriptions(datasette):
    quotes = _get(f"{datasette}/{DB}/search_quotes.json?_shape=array&q=" + urllib.parse.quote("estimates"))
    assert "dcf-estimates-dead" in {r["span_id"] for r in quotes}
    events = _get(f"{datasette}/{DB}/search_events.json?_shape=array&q=locomotive")
    assert "novocherkassk-1962" in {r["id"] for r in events}
    table = _get(f"{datasette}/{DB}/search.json?_shape=array&_search=estimates")
    assert "dcf-estimates-dead" in {r["id"] for r in table if r["kind"] == "quote"}


def test_label_column_shows_a_span_by_its_quote(datasette):
    rows = _get(f"{datasette}/{DB}/casualties.json?_shape=array&_labels=on&casualty_id=dcf-official-dead-killed")
    assert "official figures gave 26" in rows[0]["span_id"]["label"]


def test_table_descriptions_reach_datasette(datasette):
    metadata = _get(f"{datasette}/-/metadata.json")
    assert metadata["databases"][DB]["tables"]["casualties"]["columns"]["claimant"]
