"""Benchmark: builds a synthetic corpus with our pipeline and runs the reference path on its output.

    python bench/run.py --spans 200000

Generates (or reuses from bench/.corpora/) a corpus of N spans, then, each in a child process
so that its start-up and peak memory count (ru_maxrss from wait4: the largest single process;
and the summed PSS of its whole process tree, sampled every 0.2 s): a full build with an empty
cache, a rebuild after one annotation file changed, and the reference path on the built
package (`frictionless validate`, rdflib Turtle and JSON-LD; see bench/reference.py). Stage
times come from the build itself (`BuildResult.timings`). The last line is
`speedup vs reference: N.Nx`, the reference's time over our full build's wall time. With
`--reference-budget SECONDS`, a reference step still running after that long is stopped and
counted as taking exactly the budget, so the last line reads `speedup vs reference: >= N.Nx`
(a lower bound); the line before it gives the ratio against the steps that finished.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE_STEPS = ("frictionless validate", "rdflib turtle", "rdflib json-ld")


# How often the memory of the child's process tree is sampled (see _TreeMemory).
PSS_INTERVAL_S = 0.2


def _child(argv: list[str]) -> tuple[dict, float, int, int]:
    """Run this script as a child; its JSON result, wall seconds, peak RSS and peak summed PSS in bytes."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv], stdout=subprocess.PIPE)
    with _TreeMemory(proc.pid) as tree:
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"child {argv[:2]} failed with exit code {proc.returncode}")
    # ru_maxrss is in KiB on Linux: the largest single process among the child and the workers it waited for.
    return json.loads(out), wall, usage.ru_maxrss * 1024, tree.peak


class _TreeMemory:
    """Samples the summed PSS of a process and all its descendants every PSS_INTERVAL_S, in a thread.

    ru_maxrss sees one process at a time; the build runs workers and child processes side by
    side, and PSS shares the pages they share among them, so the sum is what the machine held.
    A sample reads /proc/<pid>/smaps_rollup of each process (a few ms each); between samples
    a short peak can go unseen. `peak` is 0 where /proc lacks smaps_rollup.
    """

    def __init__(self, pid: int):
        import threading

        self.pid, self.peak = pid, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _TreeMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(PSS_INTERVAL_S):
            self.peak = max(self.peak, sum(map(_pss, _descendants(self.pid))))


def _descendants(pid: int) -> list[int]:
    """pid and every process below it, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    # The command name may hold spaces and parentheses: the fields after its last ')'.
                    parent = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _pss(pid: int) -> int:
    """The proportional set size of a process in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def child_build(raw: Path, dist: Path, cache: Path, jobs: int | None) -> dict:
    sys.path.insert(0, str(ROOT))
    from pipeline.engine.build import build

    result = build(raw, dist, ROOT / "datapackage.json", cache_dir=cache, jobs=jobs)
    return {"timings": result.timings, "counts": result.counts, "partitions": result.partitions}


def child_reference(dist: Path, out: Path, limit: float | None) -> dict:
    sys.path.insert(0, str(HERE))
    import reference

    return reference.run(dist, out, limit)


def corpus(spans: int, sources: int | None, seed: int, workdir: Path) -> Path:
    """The generated corpus for these settings, made once and reused (keyed by the generator's code)."""
    import hashlib

    sys.path.insert(0, str(HERE))
    import generate

    code = hashlib.sha256((HERE / "generate.py").read_bytes() + (ROOT / "datapackage.json").read_bytes()).hexdigest()[:10]
    folder = workdir / f"spans{spans}-sources{sources or 'auto'}-seed{seed}-{code}"
    if not (folder / "complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        generate.generate(folder, spans, sources, seed)
        (folder / "complete").write_text("")
    return folder


def _touch_one_source(raw: Path) -> tuple[Path, bytes]:
    """Change one claim in the middle source's annotation file, as an annotator would."""
    files = sorted((raw / "annotations").glob("bench-*.yaml"))
    path = files[len(files) // 2]
    before = path.read_bytes()
    after = before.replace(b"claimant: ", b"claimant: revised ", 1)
    if after == before:
        after = before.replace(b"label: ", b"label: ", 1) + b"# revised\n"
    path.write_bytes(after)
    return path, before


def fmt_mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-build":
        print(json.dumps(child_build(Path(argv[1]), Path(argv[2]), Path(argv[3]), int(argv[4]) or None)))
        return
    if argv and argv[0] == "--child-reference":
        print(json.dumps(child_reference(Path(argv[1]), Path(argv[2]), float(argv[3]) or None)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, required=True)
    parser.add_argument("--sources", type=int, default=None, help="default: one per 40 spans")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes of our build (default: one per CPU)")
    parser.add_argument("--workdir", type=Path, default=HERE / ".corpora", help="where corpora and builds are kept")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference path (it is slow at 1M spans)")
    parser.add_argument("--reference-budget", type=float, default=0, metavar="SECONDS",
                        help="stop each reference step after this many seconds and report a lower bound "
                             "(default: no limit; rdflib's Turtle writer takes hours at 200k spans)")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    folder = corpus(args.spans, args.sources, args.seed, args.workdir)
    print(f"corpus: {folder} ({time.perf_counter() - t:.1f} s to generate or find)")
    raw, dist, cache = folder / "raw", folder / "dist", folder / "cache"
    shutil.rmtree(cache, ignore_errors=True)

    ours, wall, rss, pss = _child(["--child-build", str(raw), str(dist), str(cache), str(args.jobs)])
    counts = ours["counts"]
    print(f"rows: {sum(counts.values()):,} ({', '.join(f'{n:,} {k}' for k, n in counts.items())})")
    print("our full build (empty cache), stages from BuildResult.timings:")
    for stage, seconds in ours["timings"].items():
        print(f"  {stage:<44} {seconds:8.2f} s")
    print(f"  {'wall incl. start-up':<44} {wall:8.2f} s")
    print(f"  {'peak memory (ru_maxrss)':<44} {fmt_mb(rss):>10}")
    print(f"  {'peak memory, all processes (summed PSS)':<44} {fmt_mb(pss):>10}")

    path, before = _touch_one_source(raw)
    try:
        again, rewall, rerss, repss = _child(["--child-build", str(raw), str(dist), str(cache), str(args.jobs)])
    finally:
        path.write_bytes(before)
    print(f"rebuild after changing {path.name}: {rewall:.2f} s wall ({rewall / wall:.0%} of the full build), "
          f"{again['partitions']}, peak {fmt_mb(rerss)} (summed PSS {fmt_mb(repss)})")
    for stage, seconds in again["timings"].items():
        if not stage.startswith("  "):
            print(f"  {stage:<44} {seconds:8.2f} s")

    if args.no_reference:
        print("reference: skipped (--no-reference)")
        return
    # The rebuild wrote dist/ from the changed file; rebuild the unchanged corpus for the reference.
    _child(["--child-build", str(raw), str(dist), str(cache), str(args.jobs)])
    ref, ref_wall, ref_rss, _ = _child(["--child-reference", str(dist), str(folder / "reference"), str(args.reference_budget)])
    stopped = ref.pop("stopped")
    print("reference path on the same dist/:")
    for key, value in ref.items():
        if value is None:
            print(f"  {key:<40} {f'> {args.reference_budget:.0f}':>8} s  (stopped at the budget)")
        else:
            print(f"  {key:<40} {value:8.2f} s" if isinstance(value, float) else f"  {key:<40} {value:>8}")
    finished = [k for k in REFERENCE_STEPS if k not in stopped]
    ref_total = sum(ref[k] for k in finished) + args.reference_budget * len(stopped)
    print(f"  {'total (validate + turtle + json-ld)':<40} {'> ' if stopped else '  '}{ref_total:6.2f} s  (wall {ref_wall:.2f} s)")
    print(f"  {'peak memory (ru_maxrss)':<40} {fmt_mb(ref_rss):>10}")
    if stopped:
        done = sum(ref[k] for k in finished)
        print(f"ratio vs the reference steps that finished ({', '.join(finished) or 'none'}): {done / wall:.1f}x")
        # Every stopped step took longer than the budget, so the true ratio is at least this.
        print(f"speedup vs reference: >= {ref_total / wall:.1f}x")
    else:
        print(f"speedup vs reference: {ref_total / wall:.1f}x")


if __name__ == "__main__":
    main()
