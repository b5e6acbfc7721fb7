"""The Dask engine: the same partitions as the local pool, so the same dist/ byte for byte."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from pipeline.cli import cli
from pipeline.engine.build import build
from pipeline.engine.cluster import DaskEngine, _probes, _received, build_batch
from pipeline.engine.engines import engine_for
from tests.conftest import ROOT, snapshot


def cache_counts(result) -> dict[str, int]:
    """The partitions a build took from the cache and built (not whether it spliced the last build: test_incremental.py)."""
    return {k: v for k, v in result.partitions.items() if k in ("cached", "built")}


DATAPACKAGE = ROOT / "datapackage.json"


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    """A generated corpus of 16 annotation files (600 spans, 15 sources and the shared entities)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    return generate.generate(tmp_path_factory.mktemp("corpus"), 600, seed=3)


@pytest.fixture(scope="module")
def local_dist(small_corpus, tmp_path_factory) -> dict[str, bytes]:
    dist = tmp_path_factory.mktemp("local") / "dist"
    build(small_corpus, dist, DATAPACKAGE, jobs=1)
    return snapshot(dist)


def test_dask_engine_on_a_local_cluster_writes_the_local_engines_bytes(small_corpus, local_dist, tmp_path):
    pytest.importorskip("distributed")
    with contextlib.closing(DaskEngine(workers=2)) as engine:
        fresh = build(small_corpus, tmp_path / "fresh", DATAPACKAGE, engine=engine)
        cached = build(small_corpus, tmp_path / "cached", DATAPACKAGE, cache_dir=tmp_path / "cache", engine=engine)
        again = build(small_corpus, tmp_path / "again", DATAPACKAGE, cache_dir=tmp_path / "cache", engine=engine)
        assert len(engine.client.nthreads()) == 2
    assert (cache_counts(cached), cache_counts(again)) == ({"cached": 0, "built": 16}, {"cached": 16, "built": 0})
    assert "soviet-bloc-revolts.ttl" in local_dist and "soviet-bloc-revolts.sqlite" in local_dist
    assert snapshot(tmp_path / "fresh") == local_dist
    assert snapshot(tmp_path / "cached") == local_dist
    assert snapshot(tmp_path / "again") == local_dist
    assert fresh.counts == again.counts
    assert not [p for p in (tmp_path / "cache").rglob(".engine-probe-*")]


class _WorkersWithoutSharedStorage:
    """The Dask engine's two halves in this process, with workers that see none of the driver's folders."""

    def run(self, tasks, args):
        probes = _probes(tasks, args[4])
        for probe in probes.values():
            probe.unlink()
        for result in build_batch(tasks, args, probes):
            yield _received(result, args[4])

    def close(self) -> None:
        pass


def test_without_shared_storage_the_driver_stores_what_the_workers_send(small_corpus, local_dist, tmp_path):
    cached = build(
        small_corpus,
        tmp_path / "cached",
        DATAPACKAGE,
        cache_dir=tmp_path / "cache",
        engine=_WorkersWithoutSharedStorage(),
    )
    again = build(
        small_corpus, tmp_path / "again", DATAPACKAGE, cache_dir=tmp_path / "cache", engine=engine_for("local")
    )
    fresh = build(small_corpus, tmp_path / "fresh", DATAPACKAGE, engine=_WorkersWithoutSharedStorage())
    assert (cache_counts(cached), cache_counts(again)) == ({"cached": 0, "built": 16}, {"cached": 16, "built": 0})
    assert cache_counts(fresh) == {"cached": 0, "built": 16}
    assert snapshot(tmp_path / "cached") == snapshot(tmp_path / "again") == snapshot(tmp_path / "fresh") == local_dist


def test_cli_builds_with_the_dask_engine(runner, mini_raw, tmp_path):
    pytest.importorskip("distributed")
    local = runner.invoke(
        cli, ["build", "--raw-dir", str(mini_raw), "--dist-dir", str(tmp_path / "local"), "--no-cache"]
    )
    dask = runner.invoke(
        cli,
        [
            "build",
            "--raw-dir",
            str(mini_raw),
            "--dist-dir",
            str(tmp_path / "dask"),
            "--no-cache",
            "--engine",
            "dask",
            "--jobs",
            "1",
        ],
    )
    assert (local.exit_code, dask.exit_code) == (0, 0), dask.output
    assert dask.output.splitlines()[-1] == local.output.splitlines()[-1].replace("/local", "/dask")
    assert snapshot(tmp_path / "dask") == snapshot(tmp_path / "local")


def test_cli_refuses_a_scheduler_without_the_dask_engine(runner, mini_raw, tmp_path):
    result = runner.invoke(
        cli,
        [
            "build",
            "--raw-dir",
            str(mini_raw),
            "--dist-dir",
            str(tmp_path / "dist"),
            "--scheduler",
            "tcp://127.0.0.1:8786",
        ],
    )
    assert result.exit_code == 1
    assert result.output == "Error: --scheduler is for --engine dask; add --engine dask or leave out --scheduler\n"
    assert not (tmp_path / "dist").exists()


def test_a_worker_with_other_code_than_the_driver_refuses(small_corpus, tmp_path):
    from pipeline.engine.cluster import EngineUnavailable
    from pipeline.metadata import load_metadata

    meta = load_metadata(DATAPACKAGE)
    task = (small_corpus / "annotations" / "entities.yaml", None, None)
    with pytest.raises(EngineUnavailable, match="runs other pipeline code than this driver"):
        build_batch([task], (small_corpus, meta, {}, set(), None, False, False), {}, code="0" * 64)
