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
    """A writable copy of tests/fixtures/mini/raw."""
    dest = tmp_path / "raw"
    shutil.copytree(FIXTURES / "mini" / "raw", dest)
    return dest


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below folder with its bytes, for before/after comparisons."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
