"""The per-file stage on a Dask cluster: the same partition function as the local pool, as Dask tasks.

Input: the build's tasks (annotation file, cache key, entry file) and the arguments every
partition shares (`partition._WORKER_ARGS`). Output: the partitions in task order, exactly as
`partition.LocalEngine` gives them, so everything after the per-file stage is the local build's.

The shared arguments (metadata, sources with their texts) go to every worker once
(`scatter(broadcast=True)`), then each task builds a batch of files. A worker writes a
partition's entry file itself when it sees the folder the driver meant it for (shared storage,
or a LocalCluster); otherwise it sends the partition and its rendered fragments back and the
driver stores them, so a cluster without shared storage gives the same dist/, only slower.
The annotation files and texts must be readable by the workers under the driver's paths.
"""

from __future__ import annotations

import gc
import math
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from pipeline.engine import partition
from pipeline.engine.partition import Partition, build_partition, read_entry, write_entry
from pipeline.errors import PipelineError
from pipeline.fingerprint import environment_key

# Tasks per worker: enough that a slow batch does not leave the other workers idle at the end,
# few enough that scheduling (a few ms per task) stays small against a batch's work.
BATCHES_PER_WORKER = 8
# A batch holds at most this many files: a partition is small, so this bounds a result's size.
MAX_FILES_PER_BATCH = 256
# The name of the file by which a worker tells whether it sees a folder of the driver's.
PROBE_PREFIX = ".engine-probe-"


class EngineUnavailable(PipelineError):
    """The engine cannot run here (Dask not installed, scheduler unreachable): one line saying what to do."""


class DaskEngine:
    """Partitions built as Dask tasks, on the cluster at `scheduler` or on a LocalCluster of `workers` processes.

    The cluster (and the client) start at the first `run` with files to build, so a rebuild that
    finds every partition in the cache starts none; `close` stops what `run` started.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        self.scheduler = scheduler
        self.workers = workers
        self.client = None
        self.cluster = None
        # Seconds spent starting the LocalCluster or connecting to the scheduler (part of the per-file stage).
        self.connect_seconds = 0.0

    def _connect(self):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise EngineUnavailable(
                "the dask engine needs Dask: pip install 'soviet-bloc-revolts-pipeline[dask]' "
                "(or pip install -e '.[dask]' in the repository)"
            ) from exc
        if self.client is not None:
            return self.client
        began = time.perf_counter()
        if self.scheduler is None:
            # Processes, not threads: the partition function is Python and holds the GIL. Loopback
            # only, and a free port for the status page so that two builds on one machine never collide.
            self.cluster = LocalCluster(
                n_workers=self.workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                silence_logs=40,
            )
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.scheduler, timeout="30s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise EngineUnavailable(
                    f"cannot reach the Dask scheduler at {self.scheduler}: {exc}; "
                    "start it (dask scheduler) or check --scheduler"
                ) from exc
        self.connect_seconds = time.perf_counter() - began
        return self.client

    def run(self, tasks: list[tuple[Path, str | None, Path | None]], args: tuple) -> Iterator[Partition]:
        """The partition of every (path, cache key, entry file) task, in order; args as `_WORKER_ARGS`."""
        if not tasks:
            return
        client = self._connect()
        probes = _probes(tasks, args[4])
        try:
            shared = client.scatter(args, broadcast=True, hash=False)
            workers = max(1, len(client.nthreads()))
            size = min(MAX_FILES_PER_BATCH, max(1, math.ceil(len(tasks) / (workers * BATCHES_PER_WORKER))))
            batches = [tasks[i : i + size] for i in range(0, len(tasks), size)]
            futures = client.map(
                build_batch, batches, shared=shared, probes=probes, code=environment_key(args[1]), pure=False
            )
            for future in futures:
                for result in future.result():
                    yield _received(result, args[4])
                future.release()
        finally:
            for probe in probes.values():
                probe.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the client and the cluster this engine started (a --scheduler cluster keeps running)."""
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None


def _probes(tasks: list[tuple[Path, str | None, Path | None]], cache) -> dict[str, Path]:
    """A probe file of a random name in every folder that entry files go to (their parents' parents: the cache's or the scratch folder)."""
    roots = {
        str(entry.parent if cache is None or not _below(entry, cache.dir) else cache.dir)
        for _, _, entry in tasks
        if entry is not None
    }
    if cache is not None:
        roots.add(str(cache.dir))  # partitions without fragments are cached there too
    probes = {}
    for root in sorted(roots):
        probe = Path(root) / f"{PROBE_PREFIX}{secrets.token_hex(8)}"
        try:
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
        except OSError:
            continue  # an unwritable cache: the driver stores nothing there either
        probes[root] = probe
    return probes


def _below(path: Path, folder: Path) -> bool:
    return str(path).startswith(f"{folder}{os.sep}")


def _root(entry: Path, probes: dict[str, Path]) -> str | None:
    for root in probes:
        if _below(entry, Path(root)):
            return root
    return None


def build_batch(
    tasks: list[tuple[Path, str | None, Path | None]],
    shared: tuple,
    probes: dict[str, Path],
    code: str | None = None,
) -> list[tuple]:
    """On a worker: build every task of the batch with the local engine's partition function.

    `code` is the driver's `environment_key`: a worker with other code (or other schemas) than
    the driver would write other rows under the same cache keys, so it refuses.

    Each result is ("entry", entry file, cache key, seconds) when the worker stored the partition where
    the driver reads it, else ("part", partition, rendered fragments, entry file or None, cache key).
    """
    raw_dir, meta, sources, broken, cache, origins, incomplete = shared
    if code is not None and environment_key(meta) != code:
        raise EngineUnavailable(
            f"a Dask worker ({os.uname().nodename}) runs other pipeline code than this driver: "
            "install the same version on the workers (pip install -e . in the same checkout)"
        )
    seen = {root: probe.exists() for root, probe in probes.items()}
    cache_seen = cache is not None and seen.get(str(cache.dir), False)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as in the driver: many long-lived objects, no cycles
    try:
        results: list[tuple] = []  # ("entry", ...) and ("part", ...) tuples, as the docstring says
        for path, key, entry in tasks:
            root = _root(entry, probes) if entry is not None else None
            if entry is not None and root is not None and seen[root]:
                part = build_partition(path, raw_dir, meta, sources, broken, origins, incomplete, entry, key)
                if part.entry is not None:
                    results.append(("entry", str(entry), key, part.seconds))
                    continue
            else:
                part = partition._build_partition(
                    path, raw_dir, meta, sources, broken, origins, incomplete, entry is not None
                )
            if cache_seen and key is not None and part.rendered is None:
                cache.put(key, part)
                key = None  # stored already
            results.append(("part", part, part.rendered, None if entry is None else str(entry), key))
        return results
    finally:
        if gc_was_enabled:
            gc.enable()


def _received(result: tuple, cache) -> Partition:
    """The driver's side of `build_batch`: the partition, stored by the driver where the worker could not."""
    if result[0] == "entry":
        _, entry, key, seconds = result
        part = read_entry(Path(entry), key)
        if part is None:
            raise OSError(
                f"{entry}: a Dask worker wrote this partition but the driver cannot read it; "
                "put the cache on storage both see, or use --no-cache"
            )
        part.seconds = seconds
        return part
    _, part, rendered, entry, key = result
    part.rendered = rendered
    if rendered is not None and entry is not None:
        began = time.perf_counter()
        write_entry(Path(entry), part, key=key)
        part.seconds["store"] = time.perf_counter() - began
    elif cache is not None and key is not None:
        cache.put(key, part)
    return part
