"""Where the per-file stage runs: the engine a build uses, chosen once from `--engine` and `--scheduler`.

An engine has `run(tasks, args)`, yielding the partition of every task in order, and `close()`.
`partition.LocalEngine` forks a process pool on this machine; `cluster.DaskEngine` runs the same
partition function as Dask tasks. Everything else in the build is the same for both.
"""

from __future__ import annotations

from pipeline.engine.partition import LocalEngine

ENGINES = ("local", "dask")


def engine_for(name: str = "local", jobs: int | None = None, scheduler: str | None = None):
    """The engine called name: local with `jobs` processes, or Dask on `scheduler` (default: a LocalCluster of `jobs` workers).

    Raises `cluster.EngineUnavailable` (one line saying what to do) when it cannot run here.
    """
    from pipeline.engine.cluster import DaskEngine, EngineUnavailable

    if name == "local":
        if scheduler is not None:
            raise EngineUnavailable("--scheduler is for --engine dask; add --engine dask or leave out --scheduler")
        return LocalEngine(jobs)
    if name == "dask":
        try:
            import distributed  # noqa: F401  (checked before the build reads anything)
        except ImportError as exc:
            raise EngineUnavailable(
                "--engine dask needs Dask: pip install -e '.[dask]' (dask[distributed]), or build with --engine local"
            ) from exc
        return DaskEngine(scheduler, jobs)
    raise EngineUnavailable(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
