"""dist/ under stress: a build killed by SIGKILL mid-way, two builds at once, and the swap fallback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.engine.build import build
from pipeline.write import package
from tests.conftest import ROOT, snapshot

ANN = "annotations/mini-news.yaml"


def start_build(raw: Path, dist: Path, pause_dir: Path | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != package.PAUSE_ENV}
    if pause_dir is not None:
        pause_dir.mkdir(exist_ok=True)
        env[package.PAUSE_ENV] = str(pause_dir)
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "build", "--raw-dir", str(raw), "--dist-dir", str(dist)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_paused(proc: subprocess.Popen, pause_dir: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (pause_dir / "paused").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build never reached the swap"
        time.sleep(0.02)


def change_a_claim(raw: Path) -> None:
    ann = raw / ANN
    ann.write_text(
        ann.read_text(encoding="utf-8").replace("claimant: the article", "claimant: the newspaper"), encoding="utf-8"
    )


def staging_folders(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.startswith((".dist.tmp-", ".dist.old-"))]


def test_a_build_killed_before_the_swap_leaves_the_previous_dist(mini_raw, tmp_path):
    dist = tmp_path / "dist"
    build(mini_raw, dist)
    before = snapshot(dist)
    change_a_claim(mini_raw)
    proc = start_build(mini_raw, dist, tmp_path / "pause")
    wait_paused(proc, tmp_path / "pause")
    (stage,) = staging_folders(tmp_path)
    assert (stage / "datapackage.json").is_file()  # the new build was complete, only not swapped in
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(dist) == before

    build(mini_raw, dist)  # the next build recovers and cleans up
    build(mini_raw, tmp_path / "fresh")
    assert snapshot(dist) == snapshot(tmp_path / "fresh") != before
    assert staging_folders(tmp_path) == []


def test_two_builds_at_once_take_turns(mini_raw, tmp_path):
    """A holds the lock, paused before its swap; B must wait and swap in after A, intact."""
    other_raw = tmp_path / "other" / "raw"
    other_raw.parent.mkdir()
    subprocess.run(["cp", "-r", str(mini_raw), str(other_raw)], check=True)
    change_a_claim(other_raw)
    dist = tmp_path / "dist"
    a = start_build(mini_raw, dist, tmp_path / "pause")
    wait_paused(a, tmp_path / "pause")
    b = start_build(other_raw, dist)
    # B alone takes well under a second; give it two to show that it waits for A's lock.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert b.poll() is None and not dist.exists(), "B did not wait for A"
        time.sleep(0.05)
    (tmp_path / "pause" / "resume").touch()
    assert a.wait(60) == 0, a.communicate()
    assert b.wait(60) == 0, b.communicate()
    build(other_raw, tmp_path / "expected")
    assert snapshot(dist) == snapshot(tmp_path / "expected")
    assert staging_folders(tmp_path) == []


def test_a_swap_killed_between_its_renames_is_undone(mini_raw, tmp_path):
    """Where renameat2 is missing, dist/ is moved aside then replaced; a kill in between leaves
    no dist/ at all, and the next build must put the previous one back before anything else."""
    dist = tmp_path / "dist"
    build(mini_raw, dist)
    before = snapshot(dist)
    os.rename(dist, tmp_path / ".dist.old-killed")
    (tmp_path / ".dist.tmp-killed").mkdir()
    (tmp_path / ".dist.tmp-killed" / "spans.csv").write_text("half", encoding="utf-8")
    with pytest.raises(RuntimeError), package.staged_dist(dist):
        assert snapshot(dist) == before  # back in place before the new build writes a byte
        raise RuntimeError("the new build fails")
    assert snapshot(dist) == before
    assert staging_folders(tmp_path) == []


def test_the_rename_fallback_swaps_whole_folders(mini_raw, tmp_path, monkeypatch):
    monkeypatch.setattr(package, "_exchange", lambda a, b: False)
    dist = tmp_path / "dist"
    build(mini_raw, dist)
    change_a_claim(mini_raw)
    build(mini_raw, dist)
    assert "the newspaper" in (dist / "casualties.csv").read_text(encoding="utf-8")
    assert staging_folders(tmp_path) == []


def _csv(*args) -> bytes:
    return b"".join(package.table_csv(*args))


def test_table_csv_writes_rows_in_key_order_whether_or_not_they_came_in_it():
    columns, pk = ["id", "n"], ["id"]
    rows = [{"id": "a", "n": 1}, {"id": "b", "n": None}, {"id": "c", "n": 3}]
    in_order = _csv(rows, columns, pk)
    assert in_order == b"id,n\na,1\nb,\nc,3\n"
    assert _csv(rows[::-1], columns, pk) == in_order
    lines = package.csv_lines(rows[::-1], columns)
    assert _csv(rows[::-1], columns, pk, lines) == in_order


def test_the_build_command_leaves_no_replaced_build_when_it_exits(mini_raw, tmp_path):
    """The replaced build is removed before the command ends: no copy of it stays beside dist/."""
    dist = tmp_path / "dist"
    for _ in range(2):
        proc = start_build(mini_raw, dist)
        assert proc.wait(timeout=120) == 0, proc.communicate()
        change_a_claim(mini_raw)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".dist.")) == [".dist.lock"]


def test_rows_with_a_key_of_several_columns_sort_as_their_tuples_do():
    columns = pk = ["a", "b"]
    # "x" is a prefix of "x-1": as in a tuple, ("x", "z") comes before ("x-1", "a").
    rows = [{"a": "x-1", "b": "a"}, {"a": "x", "b": "z"}, {"a": "x", "b": "b"}, {"a": "x\0", "b": "a"}]
    expected = sorted(rows, key=lambda r: (r["a"], r["b"]))
    assert _csv(rows, columns, pk) == _csv(expected, columns, pk)
    assert _csv(rows, columns, pk).decode().splitlines()[1:] == [
        "x,b",
        "x,z",
        "x\0,a",
        "x-1,a",
    ]
    without_nul = [r for r in rows if "\0" not in r["a"]]  # joined keys, not tuples
    assert _csv(without_nul, columns, pk).decode().splitlines()[1:] == ["x,b", "x,z", "x-1,a"]


def test_tables_are_written_a_slice_at_a_time_with_their_size_and_hash(tmp_path, monkeypatch):
    from pipeline.metadata import load_metadata
    from pipeline.rows.tables import Tables

    meta = load_metadata(ROOT / "datapackage.json")
    columns = meta["actors"].field_names
    tables = Tables(
        rows={
            "actors": [
                dict.fromkeys(columns) | {"actor_id": f"a{n:02d}", "name": "Wörker 🏭"} for n in range(9, -1, -1)
            ]
        }
    )
    monkeypatch.setattr(package, "_LINES_PER_SLICE", 3)  # the header and ten rows in four slices
    files = package.write_tables(tables, meta, tmp_path)
    data = (tmp_path / "actors.csv").read_bytes()
    lines = package.csv_lines(package.sorted_rows(tables.rows["actors"], ["actor_id"]), columns)
    assert data == (",".join(columns) + "\n" + "".join(lines)).encode("utf-8")
    assert files["actors.csv"] == package.file_entry(data)
