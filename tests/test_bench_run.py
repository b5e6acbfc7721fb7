"""The benchmark harness at a tiny size: it runs every path and ends with both ratios and the rebuild share."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

RUN = ROOT / "bench" / "run.py"


@pytest.fixture(scope="module")
def run_module():
    sys.path.insert(0, str(ROOT / "bench"))
    import run

    return run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """One round of every path at 300 spans, with a stand-in for the kernel's drop_caches file."""
    work = tmp_path_factory.mktemp("bench")
    drop = work / "drop_caches"
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--spans",
            "300",
            "--runs",
            "1",
            "--workdir",
            str(work / "corpora"),
            "--drop-caches",
            str(drop),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, drop


def test_the_last_lines_compare_stages_then_give_both_ratios_and_the_rebuild_share(tiny_run):
    done, _ = tiny_run
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-6:]
    assert last[0] == "per-stage comparison (medians; ours / counterpart: under 1 means ours is faster):"
    assert re.fullmatch(
        r"  table checks: ours \d+\.\d\d s \(.+\) vs DuckDB \d+\.\d\d s \(load \d+\.\d\d s, checks \d+\.\d\d s; valid\): \d+\.\d\d",
        last[1],
    )
    assert re.fullmatch(
        r"  linked data: ours \d+\.\d\d s \(.+\) vs Oxigraph dumps \d+\.\d\d s \(turtle \d+\.\d\d s, n-triples \d+\.\d\d s, "
        r"json-ld \d+\.\d\d s; loading the store \d+\.\d\d s more\): \d+\.\d\d",
        last[2],
    )
    assert re.fullmatch(
        r"speedup vs frictionless\+rdflib: \d+\.\dx \(median \d+\.\d\d s over median \d+\.\d\d s; runs: 1 reference, 1 build\)",
        last[3],
    )
    assert re.fullmatch(
        r"speedup vs duckdb\+oxigraph: \d+\.\dx \(median \d+\.\d\d s over median \d+\.\d\d s; runs: 1 reference, 1 build; "
        r"\d+\.\dx counting Oxigraph's load\)",
        last[4],
    )
    assert re.fullmatch(
        r"rebuild share: \d+% \(one-file rebuild \d+\.\d\d s over full build \d+\.\d\d s, medians of 1; "
        r"\d+% in CPU time\)",
        last[5],
    )


def test_every_path_runs_once_per_round_and_both_references_find_the_package_valid(tiny_run):
    done, _ = tiny_run
    out = done.stdout
    assert re.search(
        r"^round 1/1: full build \d+\.\d\d s, frictionless\+rdflib \d+\.\d\d s, duckdb\+oxigraph \d+\.\d\d s, "
        r"rebuild \d+\.\d\d s; load average [\d. ]+$",
        out,
        re.M,
    )
    assert re.search(r"^  frictionless verdict +valid$", out, re.M)
    assert re.search(r"^  duckdb verdict +valid$", out, re.M)
    assert re.search(r"^machine: \d+ CPUs, [\d.]+ GiB RAM", out, re.M)
    # Every path's CPU time is reported beside its wall time.
    assert len(re.findall(r"^  CPU, user \+ system.* \d+\.\d\d s$", out, re.M)) == 4


def test_the_cold_build_drops_the_page_cache_first(tiny_run):
    done, drop = tiny_run
    assert drop.read_text() == "3\n"
    assert re.search(
        r"^cold read \(page cache dropped, empty build cache, 1 run\): wall \d+\.\d\d s against \d+\.\d\d s warm",
        done.stdout,
        re.M,
    )


def test_a_refused_drop_is_reported_not_raised(run_module, tmp_path):
    control = tmp_path / "missing" / "drop_caches"
    assert run_module.drop_page_cache(control) == f"writing 3 to {control} was refused (No such file or directory)"


def test_warming_reads_every_byte_of_every_file(run_module, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_bytes(b"x" * 3_000_000)
    (tmp_path / "y.yaml").write_bytes(b"y" * 5)
    files = run_module.files_below(tmp_path / "a", tmp_path / "y.yaml", tmp_path / "absent")
    assert files == [tmp_path / "a" / "x.txt", tmp_path / "y.yaml"]
    assert run_module.warm(files) == 3_000_005


def test_fewer_than_one_run_is_refused_before_any_work(tmp_path):
    done = subprocess.run(
        [sys.executable, str(RUN), "--spans", "300", "--runs", "0", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "run.py: error: --runs must be at least 1"
    assert not any(tmp_path.iterdir())
