"""Benchmark: our build of a synthetic corpus against two reference paths on its output, each run N times.

    python bench/run.py --spans 200000

Generates (or reuses from bench/.corpora/) a corpus of N spans, then runs four paths, each in
a child process so that its start-up and peak memory count (ru_maxrss from wait4: the largest
single process; and the summed PSS of its whole process tree, sampled every 0.2 s):

- our full build with an empty cache;
- the slow reference on the built package: `frictionless validate`, rdflib Turtle and
  JSON-LD (bench/reference.py);
- the fast reference on the same package: DuckDB loading the CSV files and checking the Table
  Schemas' constraints, Oxigraph loading the N-Triples file and writing Turtle, N-Triples and
  JSON-LD (bench/reference_fast.py);
- our rebuild after one annotation file changed (the cache of that round's full build).

Fairness: the paths run interleaved, one round after another (full, slow, fast, rebuild; then
again), so that the machine's drift hits all of them alike; `--runs` rounds (default 3).
Before each timed run every input file of that path is read once (as `cat > /dev/null` would)
and dirty pages are written back (`sync`), so no path pays for another's reads or writes. The
headline figures are medians with their min-max spread. After the rounds, one more full build
runs with a cold page cache (`sync; echo 3 > /proc/sys/vm/drop_caches`, needs root), reported
separately; if the kernel refuses, the report says so.

Each path also reports its CPU time (user + system of the child and the workers it waited
for), which other work on a shared machine disturbs far less than the wall time.

Stage times come from the build itself (`BuildResult.timings`) and from the references. The
last lines compare stages (our table checks with DuckDB's, our linked-data writing with
Oxigraph's dumps), then give `speedup vs frictionless+rdflib: N.Nx`,
`speedup vs duckdb+oxigraph: N.Nx` (the reference's stage total over our full build's wall
time including start-up; parsing or loading the graph is not counted, as the reference has
no graph without it and we have no graph to load) and `rebuild share: N%`. With
`--reference-budget SECONDS`, a slow-reference step still running after that long is stopped
and counted as taking exactly the budget, and its speedup reads `>= N.Nx` (a lower bound).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE_STEPS = ("frictionless validate", "rdflib turtle", "rdflib json-ld")
FAST_CHECK_STEPS = ("duckdb load", "duckdb checks")
FAST_DUMP_STEPS = ("oxigraph dump turtle", "oxigraph dump n-triples", "oxigraph dump json-ld")
# Our stages and what they are compared with. The per-file steps are summed over the worker
# processes (CPU seconds, more than their share of the wall time when the workers run side by side).
OUR_CHECK_STAGES = ("  check cells (summed over files built)", "validate keys")
OUR_LINKED_DATA_STAGES = ("  render RDF (summed over files built)", "export RDF: fragments and corpus-wide part",
                          "export RDF: description")
DROP_CACHES = Path("/proc/sys/vm/drop_caches")
WARM_CHUNK = 1 << 20

# How often the memory of the child's process tree is sampled (see _TreeMemory).
PSS_INTERVAL_S = 0.2


class Run(NamedTuple):
    """One timed child: its JSON result, wall seconds, peak RSS and peak summed PSS in bytes, CPU seconds."""

    result: dict
    wall: float
    rss: int
    pss: int
    # User and system time of the child and every process it waited for: less sensitive than
    # the wall time to other work on a shared machine.
    cpu: float


def _child(argv: list[str]) -> Run:
    """Run this script as a child and measure it."""
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
    return Run(json.loads(out), wall, usage.ru_maxrss * 1024, tree.peak, usage.ru_utime + usage.ru_stime)


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


def child_fast_reference(dist: Path, out: Path) -> dict:
    sys.path.insert(0, str(HERE))
    import reference_fast

    return reference_fast.run(dist, out)


def files_below(*roots: Path) -> list[Path]:
    """Every file at or below the given paths (missing ones skipped), sorted."""
    found = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found += [p for p in root.rglob("*") if p.is_file()]
    return sorted(found)


def warm(files: list[Path]) -> int:
    """Read every file once, as `cat files > /dev/null` would, then write back dirty pages; bytes read."""
    total, buffer = 0, bytearray(WARM_CHUNK)
    for path in files:
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buffer):
                total += n
    os.sync()
    return total


def drop_page_cache(control: Path = DROP_CACHES) -> str | None:
    """Write back dirty pages and drop the page cache: None if done, else why the kernel refused."""
    os.sync()
    try:
        with open(control, "w") as fh:
            fh.write("3\n")
    except OSError as err:
        return f"writing 3 to {control} was refused ({err.strerror or err})"
    return None


def machine() -> str:
    """CPUs, memory, kernel and the versions the paths run on, for the report."""
    from importlib.metadata import PackageNotFoundError, version

    memory = ""
    try:
        with open("/proc/meminfo") as fh:
            kib = int(next(line for line in fh if line.startswith("MemTotal:")).split()[1])
        memory = f", {kib / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    versions = []
    for package in ("frictionless", "rdflib", "duckdb", "pyoxigraph", "pyyaml"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} not installed")
    return (f"{os.cpu_count()} CPUs{memory}, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {', '.join(versions)}")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def spread(values: list[float], unit: str = " s") -> str:
    """Median and min-max of the runs' values."""
    if len(values) == 1:
        return f"{values[0]:.2f}{unit}"
    return f"{statistics.median(values):.2f}{unit} [{min(values):.2f}-{max(values):.2f}]"


def _short(stage: str) -> str:
    """A stage's name for the comparison lines: per-file steps marked as summed over files."""
    return stage.strip().replace(" (summed over files built)", ", summed over files")


def stage_sum(timings: dict, stages: tuple[str, ...]) -> float:
    return sum(timings.get(stage, 0.0) for stage in stages)


def slow_total(result: dict, budget: float) -> float:
    """The slow reference's counted seconds; a stopped step counts as its budget."""
    return sum(budget if result[step] is None else result[step] for step in REFERENCE_STEPS)


def fast_total(result: dict, with_load: bool = False) -> float:
    load = sum(v for k, v in result.items() if k.startswith("oxigraph load")) if with_load else 0.0
    return sum(result[step] for step in FAST_CHECK_STEPS + FAST_DUMP_STEPS) + load


def print_build(title: str, runs: list[Run], nested: bool = True) -> None:
    print(title)
    for stage in runs[0].result["timings"]:
        if nested or not stage.startswith("  "):
            print(f"  {stage:<44} {spread([r.result['timings'].get(stage, 0.0) for r in runs]):>24}")
    print(f"  {'wall incl. start-up':<44} {spread([r.wall for r in runs]):>24}")
    print(f"  {'CPU, user + system, all processes':<44} {spread([r.cpu for r in runs]):>24}")
    print(f"  {'peak memory, largest of the runs (ru_maxrss)':<44} {fmt_mb(max(r.rss for r in runs)):>24}")
    print(f"  {'peak memory, all processes (summed PSS)':<44} {fmt_mb(max(r.pss for r in runs)):>24}")


def print_reference(title: str, runs: list[Run], budget: float = 0) -> None:
    print(title)
    for key, first in runs[0].result.items():
        if key == "stopped":
            continue  # shown with each stopped step
        values = [r.result[key] for r in runs]
        if key in REFERENCE_STEPS and None in values:
            stopped = values.count(None)
            counted = spread([budget if v is None else v for v in values])
            print(f"  {key:<44} {'>= ' + counted:>24}  (stopped at the budget in {stopped} of {len(values)} runs, counted as the budget)")
        elif isinstance(first, float):
            print(f"  {key:<44} {spread(values):>24}")
        else:
            shown = sorted({str(v) for v in values})
            print(f"  {key:<44} {' / '.join(shown):>24}")
    print(f"  {'wall incl. start-up':<44} {spread([r.wall for r in runs]):>24}")
    print(f"  {'CPU, user + system (incl. what is not counted)':<44} {spread([r.cpu for r in runs]):>24}")
    print(f"  {'peak memory, largest of the runs (ru_maxrss)':<44} {fmt_mb(max(r.rss for r in runs)):>24}")


def ratio_line(name: str, reference: list[float], ours: list[float], pairs: list[tuple[float, float]],
               bound: bool = False, note: str = "") -> str:
    """`speedup vs NAME: N.Nx (...)`: median reference over median build, with the per-round ratios' range."""
    per_round = [r / o for r, o in pairs]
    head = f"speedup vs {name}: {'>= ' if bound else ''}{statistics.median(reference) / statistics.median(ours):.1f}x"
    detail = (f"median {statistics.median(reference):.2f} s over median {statistics.median(ours):.2f} s; "
              f"runs: {len(reference)} reference, {len(ours)} build")
    if len(per_round) > 1:
        detail += f"; per round {min(per_round):.1f}-{max(per_round):.1f}x"
    return f"{head} ({detail}{note})"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-build":
        print(json.dumps(child_build(Path(argv[1]), Path(argv[2]), Path(argv[3]), int(argv[4]) or None)))
        return
    if argv and argv[0] == "--child-reference":
        print(json.dumps(child_reference(Path(argv[1]), Path(argv[2]), float(argv[3]) or None)))
        return
    if argv and argv[0] == "--child-fast-reference":
        print(json.dumps(child_fast_reference(Path(argv[1]), Path(argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, required=True)
    parser.add_argument("--sources", type=int, default=None, help="default: one per 40 spans")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes of our build (default: one per CPU)")
    parser.add_argument("--workdir", type=Path, default=HERE / ".corpora", help="where corpora and builds are kept")
    parser.add_argument("--runs", type=int, default=3, help="rounds of the interleaved paths (default: 3)")
    parser.add_argument("--slow-reference-runs", type=int, default=None, metavar="N",
                        help="run frictionless+rdflib in the first N rounds only (default: every round; "
                             "it takes 7-8 minutes per run at 200k spans)")
    parser.add_argument("--no-reference", action="store_true", help="skip both reference paths (they are slow at 1M spans)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-cache build")
    parser.add_argument("--drop-caches", type=Path, default=DROP_CACHES, help=argparse.SUPPRESS)
    parser.add_argument("--reference-budget", type=float, default=0, metavar="SECONDS",
                        help="stop each frictionless+rdflib step after this many seconds and report a lower bound "
                             "(default: no limit)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    slow_runs = 0 if args.no_reference else min(args.runs, args.runs if args.slow_reference_runs is None else args.slow_reference_runs)

    t = time.perf_counter()
    folder = corpus(args.spans, args.sources, args.seed, args.workdir)
    print(f"corpus: {folder} ({time.perf_counter() - t:.1f} s to generate or find)")
    print(f"machine: {machine()}")
    print(f"load average (1, 5, 15 min) at the start: {load_average()}")
    raw, dist, cache = folder / "raw", folder / "dist", folder / "cache"
    build_argv = ["--child-build", str(raw), str(dist), str(cache), str(args.jobs)]
    build_inputs = files_below(raw, ROOT / "datapackage.json", ROOT / "schemas")

    def reference_inputs() -> list[Path]:
        # The files the references read: the descriptor, the tables and the N-Triples file.
        return [dist / "datapackage.json", *sorted(dist.glob("*.csv")), *sorted(dist.glob("*.nt"))]

    full, slow, fast, rebuild = [], [], [], []
    warmed: dict[str, int] = {}
    changed = ""
    for round_ in range(args.runs):
        shutil.rmtree(cache, ignore_errors=True)
        warmed["build"] = warm(build_inputs)
        full.append(_child(build_argv))
        line = [f"full build {full[-1].wall:.2f} s"]
        if round_ < slow_runs:
            warmed["references"] = warm(reference_inputs())
            slow.append(_child(["--child-reference", str(dist), str(folder / "reference"), str(args.reference_budget)]))
            line.append(f"frictionless+rdflib {slow_total(slow[-1].result, args.reference_budget):.2f} s")
        if not args.no_reference:
            warmed["references"] = warm(reference_inputs())
            fast.append(_child(["--child-fast-reference", str(dist), str(folder / "reference-fast")]))
            line.append(f"duckdb+oxigraph {fast_total(fast[-1].result):.2f} s")
        path, before = _touch_one_source(raw)
        changed = path.name
        try:
            # A rebuild reads the raw files, the cache and the last dist/ (it splices the last outputs).
            warmed["rebuild"] = warm(files_below(raw, ROOT / "datapackage.json", ROOT / "schemas", cache, dist))
            rebuild.append(_child(build_argv))
        finally:
            path.write_bytes(before)
        line.append(f"rebuild {rebuild[-1].wall:.2f} s")
        print(f"round {round_ + 1}/{args.runs}: {', '.join(line)}; load average {load_average()}", flush=True)

    counts = full[0].result["counts"]
    print(f"rows: {sum(counts.values()):,} ({', '.join(f'{n:,} {k}' for k, n in counts.items())})")
    references = f", {fmt_mb(warmed['references'])} for each reference" if "references" in warmed else ""
    print(f"inputs read before each run: {fmt_mb(warmed['build'])} for the full build, "
          f"{fmt_mb(warmed['rebuild'])} for the rebuild (with the cache and the last dist/){references}; then sync")
    runs_note = f"median [min-max] of {args.runs} runs" if args.runs > 1 else "1 run"
    partitions = " / ".join(sorted({str(r.result["partitions"]) for r in full}))
    print_build(f"our full build (empty cache: {partitions}), stages from BuildResult.timings, {runs_note}:", full)
    print_build(f"our rebuild after changing {changed} ({rebuild[0].result['partitions']}), {runs_note}:", rebuild, nested=False)

    if args.no_cold:
        print("cold read: skipped (--no-cold)")
    else:
        shutil.rmtree(cache, ignore_errors=True)
        refused = drop_page_cache(args.drop_caches)
        if refused:
            print(f"cold read: not measured: {refused}")
        else:
            cold = _child(build_argv)
            result, wall = cold.result, cold.wall
            read = "read+anchor+build rows (per file)"
            warm_wall = statistics.median(r.wall for r in full)
            print(f"cold read (page cache dropped, empty build cache, 1 run): wall {wall:.2f} s against {warm_wall:.2f} s warm "
                  f"({wall - warm_wall:+.2f} s); read sources {result['timings'].get('read sources', 0.0):.2f} s "
                  f"(warm {statistics.median(r.result['timings'].get('read sources', 0.0) for r in full):.2f} s), "
                  f"{read} {result['timings'].get(read, 0.0):.2f} s "
                  f"(warm {statistics.median(r.result['timings'].get(read, 0.0) for r in full):.2f} s); "
                  f"CPU {cold.cpu:.2f} s (warm {statistics.median(r.cpu for r in full):.2f} s)")

    if slow:
        print_reference(f"frictionless + rdflib on the same dist/, {f'median [min-max] of {len(slow)} runs' if len(slow) > 1 else '1 run'}:",
                        slow, args.reference_budget)
    if fast:
        print_reference(f"duckdb + oxigraph on the same dist/, {runs_note}:", fast)
    print(f"load average (1, 5, 15 min) at the end: {load_average()}")

    walls = [r.wall for r in full]
    if fast:
        print("per-stage comparison (medians; ours / counterpart: under 1 means ours is faster):")
        ours = [stage_sum(r.result["timings"], OUR_CHECK_STAGES) for r in full]
        theirs = [stage_sum(r.result, FAST_CHECK_STEPS) for r in fast]
        parts = ", ".join(f"{_short(s)} {statistics.median(r.result['timings'].get(s, 0.0) for r in full):.2f} s" for s in OUR_CHECK_STAGES)
        print(f"  table checks: ours {statistics.median(ours):.2f} s ({parts}) vs DuckDB {statistics.median(theirs):.2f} s "
              f"(load {statistics.median(r.result['duckdb load'] for r in fast):.2f} s, checks "
              f"{statistics.median(r.result['duckdb checks'] for r in fast):.2f} s; {fast[0].result['duckdb verdict']}): "
              f"{statistics.median(ours) / statistics.median(theirs):.2f}")
        ours = [stage_sum(r.result["timings"], OUR_LINKED_DATA_STAGES) for r in full]
        theirs = [stage_sum(r.result, FAST_DUMP_STEPS) for r in fast]
        parts = ", ".join(f"{_short(s)} {statistics.median(r.result['timings'].get(s, 0.0) for r in full):.2f} s" for s in OUR_LINKED_DATA_STAGES)
        dumps = ", ".join(f"{s.removeprefix('oxigraph dump ')} {statistics.median(r.result[s] for r in fast):.2f} s" for s in FAST_DUMP_STEPS)
        load = statistics.median(fast_total(r.result, with_load=True) - fast_total(r.result) for r in fast)
        print(f"  linked data: ours {statistics.median(ours):.2f} s ({parts}) vs Oxigraph dumps {statistics.median(theirs):.2f} s "
              f"({dumps}; loading the store {load:.2f} s more): {statistics.median(ours) / statistics.median(theirs):.2f}")
    if slow:
        totals = [slow_total(r.result, args.reference_budget) for r in slow]
        stopped = any(r.result["stopped"] for r in slow)
        print(ratio_line("frictionless+rdflib", totals, walls, list(zip(totals, walls)), bound=stopped,
                         note=f"; a step stopped at the {args.reference_budget:.0f} s budget counts as the budget" if stopped else ""))
    else:
        print("speedup vs frictionless+rdflib: not run (" + ("--no-reference" if args.no_reference else "--slow-reference-runs 0") + ")")
    if fast:
        totals = [fast_total(r.result) for r in fast]
        with_load = [fast_total(r.result, with_load=True) for r in fast]
        print(ratio_line("duckdb+oxigraph", totals, walls, list(zip(totals, walls)),
                         note=f"; {statistics.median(with_load) / statistics.median(walls):.1f}x counting Oxigraph's load"))
    else:
        print("speedup vs duckdb+oxigraph: not run (--no-reference)")
    shares = [r.wall / f.wall for r, f in zip(rebuild, full)]
    median_rebuild = statistics.median(r.wall for r in rebuild)
    per_round = f"; per round {min(shares):.0%}-{max(shares):.0%}" if len(shares) > 1 else ""
    cpu_share = statistics.median(r.cpu for r in rebuild) / statistics.median(r.cpu for r in full)
    print(f"rebuild share: {median_rebuild / statistics.median(walls):.0%} (one-file rebuild {median_rebuild:.2f} s over full build "
          f"{statistics.median(walls):.2f} s, medians of {len(rebuild)}{per_round}; {cpu_share:.0%} in CPU time)")


if __name__ == "__main__":
    main()
