"""A `pipeline release` killed (SIGKILL) after any step, then run again, completes the very same release."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.release.publish import KILL_ENV
from tests.conftest import FIXTURES, ROOT

ARCHIVE = "releases/soviet-bloc-revolts-0.1.0.zip"


def _pipeline(project: Path, *args: str, kill_after: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if kill_after:
        env[KILL_ENV] = kill_after
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "--project", str(project), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A built project, not yet released, and a clean release of a copy of it to compare with."""
    project = tmp_path_factory.mktemp("kill") / "project"
    shutil.copytree(FIXTURES / "mini" / "raw", project / "raw")
    shutil.copy(ROOT / "datapackage.json", project / "datapackage.json")
    shutil.copytree(ROOT / "schemas", project / "schemas")
    for args in (["citation"], ["build"]):
        assert _pipeline(project, *args).returncode == 0
    return project


def _released(project: Path) -> dict[str, bytes]:
    names = [ARCHIVE, ARCHIVE + ".sha256", "CHANGELOG.md"]
    return {n: (project / n).read_bytes() for n in names if (project / n).exists()} | {
        "leftovers": "\n".join(
            sorted(p.name for p in (project / "releases").iterdir() if p.name.startswith("."))
        ).encode()
    }


@pytest.fixture(scope="module")
def clean(built, tmp_path_factory) -> dict[str, bytes]:
    project = tmp_path_factory.mktemp("clean") / "project"
    shutil.copytree(built, project)
    assert _pipeline(project, "release").returncode == 0
    return _released(project)


def test_a_release_killed_after_its_last_step_is_complete(built, clean, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    assert _pipeline(project, "release", kill_after="changelog").returncode == -signal.SIGKILL
    assert _released(project) == clean
    again = _pipeline(project, "release")
    assert again.returncode == 1 and "is released and is never overwritten" in again.stderr


@pytest.mark.parametrize("step", ["archive", "sums"])
def test_a_release_killed_after_a_step_is_completed_by_the_next_run(step, built, clean, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    killed = _pipeline(project, "release", kill_after=step)
    assert killed.returncode == -signal.SIGKILL
    assert (project / ARCHIVE).exists()
    again = _pipeline(project, "release")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith(f"released {project / ARCHIVE}: version 0.1.0")
    assert _released(project) == clean
    third = _pipeline(project, "release")
    assert third.returncode == 1 and "is released and is never overwritten" in third.stderr


def test_a_half_written_archive_left_by_a_kill_is_cleaned_up(built, clean, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    (project / "releases").mkdir()
    (project / "releases" / ".soviet-bloc-revolts-0.1.0.zip.k1ll3d").write_bytes(b"PK\x03\x04 half")
    assert _pipeline(project, "release").returncode == 0
    assert _released(project) == clean


def test_an_archive_with_other_bytes_is_never_completed(built, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    (project / "releases").mkdir()
    (project / ARCHIVE).write_bytes(b"someone else's archive")
    result = _pipeline(project, "release")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(
        f"Error: {project / ARCHIVE} already exists with other contents than this build gives"
    )
    assert (project / ARCHIVE).read_bytes() == b"someone else's archive"
    assert not (project / "CHANGELOG.md").exists()
