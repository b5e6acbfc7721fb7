"""Table-driven: every folder in tests/fixtures/broken/ is one annotator mistake or hostile file.

A case is a patch of the mini corpus: `case.json` holds `why`, `edits` (replace `old` by `new`,
`append` text, or `pad` a file to `times` repetitions of a line) and the exact `expected` first
line of the output; an optional `raw/` folder is copied over the corpus first. Each case must
fail with exit code 1, that first line, no traceback, and a dist/ that is byte-identical.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import cli
from tests.conftest import FIXTURES, snapshot

BROKEN = FIXTURES / "broken"
CASES = sorted(p.name for p in BROKEN.iterdir() if (p / "case.json").is_file())


def apply_case(case_dir: Path, raw: Path) -> dict:
    """Turn the copy of the mini corpus at `raw` into the broken variant; return the case."""
    spec = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
    if (case_dir / "raw").is_dir():
        shutil.copytree(case_dir / "raw", raw, dirs_exist_ok=True)
    for edit in spec["edits"]:
        path = raw / edit["file"]
        if "old" in edit:
            text = path.read_text(encoding="utf-8")
            assert edit["old"] in text, f"{case_dir.name}: the mini corpus changed; update the case"
            path.write_text(text.replace(edit["old"], edit["new"], 1), encoding="utf-8")
        elif "append" in edit:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(edit["append"])
        else:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(edit["pad"] * edit["times"])
    return spec


@pytest.fixture(scope="module")
def good_dist(tmp_path_factory) -> Path:
    """dist/ of the intact mini corpus, built once and copied into each test."""
    dist = tmp_path_factory.mktemp("good") / "dist"
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["build", "--raw-dir", str(FIXTURES / "mini" / "raw"), "--dist-dir", str(dist)])
    assert result.exit_code == 0, result.output
    return dist


def test_there_are_at_least_30_distinct_cases():
    assert len(CASES) >= 30
    expected = [json.loads((BROKEN / c / "case.json").read_text(encoding="utf-8"))["expected"] for c in CASES]
    assert len(set(expected)) == len(expected), "two cases expect the same message"


@pytest.mark.parametrize("name", CASES)
def test_broken_input_fails_with_its_message(name, runner, mini_raw, tmp_path, good_dist):
    spec = apply_case(BROKEN / name, mini_raw)
    dist = tmp_path / "dist"
    shutil.copytree(good_dist, dist)
    before = snapshot(dist)
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(dist)])
    lines = result.output.splitlines()
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert lines[0] == spec["expected"], spec["why"]
    assert lines[-1].startswith("build failed: ") and lines[-1].endswith("; dist/ was not changed")
    assert snapshot(dist) == before
    assert not any(p.name.startswith(".dist.tmp") for p in tmp_path.iterdir())


def test_every_problem_line_names_a_file_and_line(runner, mini_raw, tmp_path):
    """One build with many mistakes: all are reported together, each as file:line: message."""
    for name in ("unknown-casualty-category", "unknown-event-type", "misspelt-span-key", "bad-encoding-annotation"):
        apply_case(BROKEN / name, mini_raw)
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(tmp_path / "dist")])
    assert result.exit_code == 1
    *problems, last = result.output.splitlines()
    assert last == "build failed: 4 problems; dist/ was not changed"
    for line in problems:
        where = line.removeprefix("Error: ").split(": ", 1)[0]
        file, _, number = where.rpartition(":")
        assert file.startswith("raw/") and number.isdigit(), line


def test_links_out_of_raw_are_refused(runner, mini_raw, tmp_path):
    """Symbolic links cannot be stored as fixtures portably, so this case lives here."""
    outside = tmp_path / "outside.yaml"
    outside.write_text("source: mini-news\n", encoding="utf-8")
    (mini_raw / "annotations" / "linked.yaml").symlink_to(outside)
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (mini_raw / "texts" / "mini-news.txt").unlink()
    (mini_raw / "texts" / "mini-news.txt").symlink_to(tmp_path / "secret.txt")
    result = runner.invoke(cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(tmp_path / "dist")])
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "Error: raw/annotations/linked.yaml: is a link to a file outside raw/; copy the file into raw/ instead",
        "raw/sources.yaml:3: file 'texts/mini-news.txt' points outside raw/; give a path inside raw/ without '..' (and not a link out of it)",
    ]
