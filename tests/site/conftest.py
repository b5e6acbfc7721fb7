"""Fixtures for the site tests: the sites of the committed build and of the fixture build, and a local web server."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from pipeline.site.generate import write_site
from tests.conftest import FIXTURES, ROOT

COMMITTED_BUILD = ROOT / "dist"
FIXTURE_BUILD = FIXTURES / "site-build"


@pytest.fixture(scope="session")
def committed_site(tmp_path_factory) -> Path:
    """The site of the committed dist/ (events, casualties, ... without places or event_summary)."""
    out = tmp_path_factory.mktemp("committed") / "site"
    write_site(COMMITTED_BUILD, out)
    return out


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory) -> Path:
    """The site of tests/fixtures/site-build (with places, event_summary and a withheld quote)."""
    out = tmp_path_factory.mktemp("fixture") / "site"
    write_site(FIXTURE_BUILD, out)
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def serve():
    """serve(folder) -> base URL of a web server on 127.0.0.1 for that folder; all stopped at the end."""
    servers = []

    def start(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
