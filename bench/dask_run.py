"""Times `pipeline build` on the local engine and on the Dask engine, and checks their dist/ folders are the same bytes.

    pip install -e '.[dask]'
    python bench/generate.py --spans 10000 --out /tmp/c10k
    python bench/dask_run.py --raw /tmp/c10k/raw [--workers 2] [--scheduler tcp://HOST:8786]

Both builds start from an empty cache and run in this process one after the other (local
first); the Dask build's time includes starting its LocalCluster (none with --scheduler).
Stage times come from `BuildResult.timings`; the last line says whether every file of the two
dist/ folders is byte-identical, and the exit code is 1 if not.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.engine.build import build  # noqa: E402
from pipeline.engine.engines import engine_for  # noqa: E402


def timed_build(raw: Path, out: Path, engine) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    result = build(raw, out / "dist", ROOT / "datapackage.json", cache_dir=out / "cache", engine=engine)
    return time.perf_counter() - start, result.timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2, help="processes of each engine (local pool, LocalCluster)")
    parser.add_argument("--scheduler", default=None, help="a running Dask scheduler instead of a LocalCluster")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dask-run-"))
    runs = {}
    with contextlib.closing(engine_for("local", args.workers)) as local:
        runs["local"] = timed_build(args.raw, work / "local", local)
    with contextlib.closing(engine_for("dask", args.workers, args.scheduler)) as dask:
        runs["dask"] = timed_build(args.raw, work / "dask", dask)
        runs["dask"][1]["  start cluster / connect (in the per-file stage)"] = dask.connect_seconds
    stages = list(dict.fromkeys(stage for _, timings in runs.values() for stage in timings))
    print(f"{'stage':<48} {'local':>8} {'dask':>8}")
    for stage in stages:
        print(f"{stage:<48} " + " ".join(f"{runs[name][1].get(stage, 0.0):8.2f}" for name in runs))
    print(f"{'wall':<48} " + " ".join(f"{runs[name][0]:8.2f}" for name in runs))
    print(f"peak memory of this process (ru_maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    left, right = (sorted((work / name / "dist").iterdir()) for name in runs)
    same = [p.name for p in left] == [p.name for p in right] and all(
        a.read_bytes() == b.read_bytes() for a, b in zip(left, right))
    print(f"dist/ of the dask engine byte-identical to the local engine's ({len(left)} files): {same}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
