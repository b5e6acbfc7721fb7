"""The generated site: same bytes for the same build, no broken links, quotes and withheld quotes, the two summary paths."""

from __future__ import annotations

import html.parser
import json
import urllib.parse
from pathlib import Path

import pytest

from pipeline.errors import PipelineError
from pipeline.site.data import read_build
from pipeline.site.generate import render_site, write_site
from tests.site.conftest import COMMITTED_BUILD, FIXTURE_BUILD


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key) and tag != "blockquote":
                self.links.append(attrs[key])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("which", ["committed_site", "fixture_site"])
def test_no_broken_link_anywhere(which, request):
    site = request.getfixturevalue(which)
    pages = {p.resolve(): _parse(p) for p in site.rglob("*.html")}
    site = site.resolve()
    broken = []
    for page, parsed in sorted(pages.items()):
        for link in parsed.links:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                continue  # external links are links, not requests; the browser test checks requests
            target = (page.parent / urllib.parse.unquote(parts.path)).resolve() if parts.path else page
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {link}")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in pages[target].ids:
                broken.append(f"{page.relative_to(site)}: {link} (no such anchor)")
    assert broken == []


def test_every_page_is_reachable_from_the_landing_page(fixture_site):
    seen, todo = set(), [fixture_site / "index.html"]
    while todo:
        page = todo.pop()
        if page in seen or page.suffix != ".html":
            continue
        seen.add(page)
        for link in _parse(page).links:
            parts = urllib.parse.urlsplit(link)
            if not parts.scheme and parts.path:
                todo.append((page.parent / parts.path).resolve())
    assert {p.resolve() for p in fixture_site.rglob("*.html")} <= seen


def test_same_build_gives_the_same_bytes():
    assert render_site(read_build(FIXTURE_BUILD)) == render_site(read_build(FIXTURE_BUILD))


def test_withheld_quote_is_never_shown_and_links_to_the_source(fixture_site):
    page = (fixture_site / "events" / "alpha-strike-1960.html").read_text(encoding="utf-8")
    assert "withheld under the source's terms" in page
    assert '<a href="https://example.org/strict-memoir" rel="external">the original</a>' in page
    assert "<mark>officials admitted that 12 people had died</mark>" in page
    assert (
        page.count("<mark>") == 3
    )  # the two open spans of the page (one twice: demand and actor); none for the withheld one


def test_event_summary_and_places_are_used_when_the_build_has_them():
    data = read_build(FIXTURE_BUILD)
    alpha = next(e for e in data.events if e.event_id == "alpha-strike-1960")
    assert data.summary_from_build and (alpha.lat, alpha.lon) == (50.5, 40.25)
    assert (alpha.summary["killed_low"], alpha.summary["killed_high"]) == (12, 40)


def test_without_event_summary_the_site_computes_it_from_the_claims(tmp_path):
    # The committed build without its event_summary table: the site's own figures must equal the build's.
    import json
    import shutil

    build = tmp_path / "build"
    shutil.copytree(COMMITTED_BUILD, build)
    descriptor = json.loads((build / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] != "event_summary"]
    (build / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (build / "event_summary.csv").unlink()
    computed, built = read_build(build), read_build(COMMITTED_BUILD)
    assert not computed.summary_from_build and built.summary_from_build
    by_id = {e.event_id: e.summary for e in built.events}

    def cell(value):
        return None if value in (None, "") else str(value)

    for event in computed.events:
        for column in ("killed_low", "killed_high", "date_precision"):
            assert cell(event.summary[column]) == cell(by_id[event.event_id][column]), (event.event_id, column)


def test_landing_page_lists_every_build_file_with_size_and_sha256(fixture_site):
    page = (fixture_site / "index.html").read_text(encoding="utf-8")
    for f in read_build(FIXTURE_BUILD).files:
        assert f'<a href="data/{f.name}">{f.name}</a>' in page and f.sha256 in page
        assert (fixture_site / "data" / f.name).read_bytes() == (FIXTURE_BUILD / f.name).read_bytes()


def test_a_folder_not_written_by_the_command_is_never_replaced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(PipelineError, match="was not written by `pipeline site`"):
        write_site(FIXTURE_BUILD, out)
    assert (out / "notes.txt").read_text() == "keep me" and len(list(out.iterdir())) == 1


def test_a_second_run_replaces_its_own_site(tmp_path):
    out = tmp_path / "site"
    write_site(FIXTURE_BUILD, out)
    (out / "stale.html").write_text("old")
    write_site(FIXTURE_BUILD, out)
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_a_folder_without_a_build_is_one_clear_error(tmp_path):
    with pytest.raises(
        PipelineError, match=r"datapackage.json: no build here: run `pipeline build` or pass --dist-dir"
    ):
        read_build(tmp_path)


def test_a_broken_number_names_file_and_line(tmp_path):
    import shutil

    build = tmp_path / "build"
    shutil.copytree(FIXTURE_BUILD, build)
    text = (build / "places.csv").read_text().replace("50.5", "fifty")
    (build / "places.csv").write_text(text)
    with pytest.raises(PipelineError, match=r"places.csv:2: column lat holds 'fifty', not a number"):
        read_build(build)


def test_release_archive_is_offered_with_its_checksum(tmp_path):
    release = tmp_path / "fixture-revolts-0.0.1.zip"
    release.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    files = render_site(read_build(FIXTURE_BUILD), "https://example.org/revolts/", release)
    assert files["downloads/fixture-revolts-0.0.1.zip"] == release.read_bytes()
    assert files["downloads/fixture-revolts-0.0.1.zip.sha256"].endswith(b"  fixture-revolts-0.0.1.zip\n")
    page = files["index.html"].decode()
    assert "https://lite.datasette.io/?url=https://example.org/revolts/data/" not in page  # the fixture has no SQLite
    jsonld = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert jsonld["distribution"][0]["contentUrl"] == "https://example.org/revolts/downloads/fixture-revolts-0.0.1.zip"
