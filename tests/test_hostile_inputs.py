"""Table-driven: every folder in tests/fixtures/hostile/ is one hostile or clumsy use of a command.

Where tests/fixtures/broken/ patches the annotations of one build, these cases change a whole
project (the mini corpus, built into dist/ with a cache, released as 0.1.0) in ways no annotator
would: output folders that are the checkout, planted cache files, FIFOs, hostile archives and
descriptors. `case.json` holds `why`, `class`, `setup` (operations below), `args` of the
`pipeline` command, the `exit` status and the exact `expected` first line of its output;
`{project}` and `{tmp}` stand for the project folder and the folder holding it. Every case
asserts no traceback, and that the project (dist/, raw/ and everything else but the cache) is
byte-identical afterwards; `absent` lists files the command must not have created.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.conftest import FIXTURES, ROOT, snapshot

HOSTILE = FIXTURES / "hostile"
CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / "case.json").is_file())
RELEASE = "releases/soviet-bloc-revolts-0.1.0.zip"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A project built once (with its cache) and released as 0.1.0; each case works on a copy."""
    project = tmp_path_factory.mktemp("template") / "project"
    shutil.copytree(FIXTURES / "mini" / "raw", project / "raw")
    shutil.copy(ROOT / "datapackage.json", project / "datapackage.json")
    shutil.copytree(ROOT / "schemas", project / "schemas")
    runner = CliRunner()
    for args in (["citation"], ["build"], ["release"]):
        result = runner.invoke(cli, ["--project", str(project), *args])
        assert result.exit_code == 0, result.output
    return project


class _Evil:
    """Unpickling this runs a command: what a planted cache entry would do."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _fill(text: str, project: Path) -> str:
    return text.replace("{project}", str(project)).replace("{tmp}", str(project.parent))


def _rezip(source: Path, target: Path, set_members: dict[str, str], drop: list[str], raw_names: list[str]) -> None:
    """Copy an archive with members replaced, added or dropped; SHA256SUMS recomputed so only the named harm remains."""
    import hashlib

    with zipfile.ZipFile(source) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if n not in drop}
    files.update({n: t.encode("utf-8") for n, t in set_members.items()})
    files.pop("SHA256SUMS", None)
    sums = "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files))
    files["SHA256SUMS"] = sums.encode("utf-8")
    with zipfile.ZipFile(target, "w") as zf:
        for name in sorted(files):
            zf.writestr(name, files[name])
        for name in raw_names:  # extra members written as given, listed in no checksum
            zf.writestr(name, b"x")


def apply_setup(ops: list[dict], project: Path) -> None:
    for op in ops:
        kind = op["op"]
        path = project / _fill(op.get("path", ""), project)
        if kind == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_fill(op["text"], project), encoding="utf-8")
        elif kind == "edit":
            text = path.read_text(encoding="utf-8")
            assert op["old"] in text, f"{op}: the template changed; update the case"
            path.write_text(text.replace(op["old"], _fill(op["new"], project), 1), encoding="utf-8")
        elif kind == "edit-json":
            data = json.loads(path.read_text(encoding="utf-8"))
            target = data
            for step in op["at"][:-1]:
                target = target[step]
            target[op["at"][-1]] = op["value"]
            path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        elif kind == "remove":
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        elif kind == "mkdir":
            path.mkdir(parents=True, exist_ok=True)
        elif kind == "mkfifo":
            os.mkfifo(path)
        elif kind == "symlink":
            path.symlink_to(_fill(op["target"], project))
        elif kind == "sparse":
            with open(path, "wb") as fh:
                fh.truncate(op["size"])
        elif kind == "tamper":
            # Every file the glob finds, changed: `flip` the last byte, `truncate` by half, or
            # `pickle` (the old entry format: an 8-byte length and a pickle that runs a command).
            found = sorted(p for p in project.glob(op["glob"]) if p.is_file() and not p.name.startswith("."))
            assert found, f"{op}: nothing to tamper with"
            for target in found:
                data = target.read_bytes()
                if op["how"] == "flip":
                    data = data[:-1] + bytes([data[-1] ^ 1])
                elif op["how"] == "truncate":
                    data = data[: len(data) // 2]
                else:
                    evil = pickle.dumps(_Evil(_fill(op["marker"], project)))
                    data = len(evil).to_bytes(8, "little") + evil
                target.write_bytes(data)
        elif kind == "rezip":
            _rezip(project / op["source"], path, op.get("set", {}), op.get("drop", []), op.get("raw_names", []))
        elif kind == "pipeline":
            result = CliRunner().invoke(cli, ["--project", str(project), *op["args"]])
            assert result.exit_code == 0, result.output
        elif kind == "bytes":
            path.write_bytes(base64.b64decode(op["base64"]))
        else:
            raise AssertionError(f"unknown setup operation {kind}")


def _state(project: Path) -> dict[str, bytes]:
    """The project's files and links, but the cache (which a build may refresh)."""
    files = {}
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        if rel.parts[0] == ".cache":
            continue
        if path.is_symlink():
            files[str(rel)] = b"-> " + os.fsencode(os.readlink(path))
        elif path.is_file() and path.stat().st_size > 64 << 20:
            # A sparse giant of a case: its size and times, not its zeros, tell that nothing wrote it.
            info = path.stat()
            files[str(rel)] = f"{info.st_size} {info.st_mtime_ns}".encode()
        elif path.is_file():
            files[str(rel)] = path.read_bytes()
        elif not path.is_dir():
            files[str(rel)] = b"(special)"
    return files


def test_every_class_has_cases():
    classes = {}
    for name in CASES:
        spec = json.loads((HOSTILE / name / "case.json").read_text(encoding="utf-8"))
        classes.setdefault(spec["class"], []).append(name)
    assert {"outputs", "cache", "lost-data", "file-kinds", "whole-values", "archives", "descriptors"} <= set(classes)
    specs = [json.loads((HOSTILE / c / "case.json").read_text(encoding="utf-8")) for c in CASES]
    failing = [(s["args"][0], s["expected"]) for s in specs if s["exit"]]
    assert len(set(failing)) == len(failing), "two failing cases of one command expect the same message"


@pytest.mark.parametrize("name", CASES)
def test_hostile_input_is_refused_or_survived(name, template, tmp_path, monkeypatch):
    spec = json.loads((HOSTILE / name / "case.json").read_text(encoding="utf-8"))
    project = tmp_path / "project"
    shutil.copytree(template, project, symlinks=True)
    apply_setup(spec["setup"], project)
    monkeypatch.chdir(project)  # as a user runs it: relative paths are the project's
    before = _state(project)
    beside = sorted(project.parent.iterdir())
    dist_before = snapshot(project / "dist")
    args = [_fill(a, project) for a in spec["args"]]
    result = CliRunner().invoke(cli, ["--project", str(project), *args])
    lines = result.output.splitlines()
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert result.exit_code == spec["exit"], result.output
    assert lines and lines[0] == _fill(spec["expected"], project), spec["why"]
    assert _state(project) == before
    assert snapshot(project / "dist") == dist_before
    for absent in spec.get("absent", []):
        assert not Path(_fill(absent, project)).exists(), f"{absent} was created"
    assert sorted(project.parent.iterdir()) == beside, "something was written beside the project"
