"""Benchmark: builds a synthetic corpus with our pipeline and runs the reference path on its output.

    python bench/run.py --spans 200000

Generates (or reuses from bench/.corpora/) a corpus of N spans, then, each in a child process
so that its peak memory (ru_maxrss from wait4) and start-up count: a full build with an empty
cache, a rebuild after one annotation file changed, and the reference path on the built
package (`frictionless validate`, rdflib Turtle and JSON-LD; see bench/reference.py). Stage
times come from the build itself (`BuildResult.timings`). The last line is
`speedup vs reference: N.Nx`, the reference's time over our full build's wall time.
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


def _child(argv: list[str]) -> tuple[dict, float, int]:
    """Run this script as a child; return its JSON result, wall seconds and peak RSS in bytes."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv], stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"child {argv[:2]} failed with exit code {proc.returncode}")
    # ru_maxrss is in KiB on Linux; it covers the child and the workers it waited for.
    return json.loads(out), wall, usage.ru_maxrss * 1024


def child_build(raw: Path, dist: Path, cache: Path, jobs: int | None) -> dict:
    sys.path.insert(0, str(ROOT))
    from pipeline.build import build

    result = build(raw, dist, ROOT / "datapackage.json", cache_dir=cache, jobs=jobs)
    return {"timings": result.timings, "counts": result.counts, "partitions": result.partitions}


def child_reference(dist: Path, out: Path) -> dict:
    sys.path.insert(0, str(HERE))
    import reference

    return reference.run(dist, out)


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
        print(json.dumps(child_reference(Path(argv[1]), Path(argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, required=True)
    parser.add_argument("--sources", type=int, default=None, help="default: one per 40 spans")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes of our build (default: one per CPU)")
    parser.add_argument("--workdir", type=Path, default=HERE / ".corpora", help="where corpora and builds are kept")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference path (it is slow at 1M spans)")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    folder = corpus(args.spans, args.sources, args.seed, args.workdir)
    print(f"corpus: {folder} ({time.perf_counter() - t:.1f} s to generate or find)")
    raw, dist, cache = folder / "raw", folder / "dist", folder / "cache"
    shutil.rmtree(cache, ignore_errors=True)

    ours, wall, rss = _child(["--child-build", str(raw), str(dist), str(cache), str(args.jobs)])
    counts = ours["counts"]
    print(f"rows: {sum(counts.values()):,} ({', '.join(f'{n:,} {k}' for k, n in counts.items())})")
    print("our full build (empty cache), stages from BuildResult.timings:")
    for stage, seconds in ours["timings"].items():
        print(f"  {stage:<44} {seconds:8.2f} s")
    print(f"  {'wall incl. start-up':<44} {wall:8.2f} s")
    print(f"  {'peak memory (ru_maxrss)':<44} {fmt_mb(rss):>10}")

    path, before = _touch_one_source(raw)
    try:
        again, rewall, rerss = _child(["--child-build", str(raw), str(dist), str(cache), str(args.jobs)])
    finally:
        path.write_bytes(before)
    print(f"rebuild after changing {path.name}: {rewall:.2f} s wall ({rewall / wall:.0%} of the full build), "
          f"{again['partitions']}, peak {fmt_mb(rerss)}")

    if args.no_reference:
        print("reference: skipped (--no-reference)")
        return
    # The rebuild wrote dist/ from the changed file; rebuild the unchanged corpus for the reference.
    _child(["--child-build", str(raw), str(dist), str(cache), str(args.jobs)])
    ref, ref_wall, ref_rss = _child(["--child-reference", str(dist), str(folder / "reference")])
    print("reference path on the same dist/:")
    for key, value in ref.items():
        print(f"  {key:<40} {value:8.2f} s" if isinstance(value, float) else f"  {key:<40} {value:>8}")
    ref_total = sum(ref[k] for k in REFERENCE_STEPS)
    print(f"  {'total (validate + turtle + json-ld)':<40} {ref_total:8.2f} s  (wall {ref_wall:.2f} s)")
    print(f"  {'peak memory (ru_maxrss)':<40} {fmt_mb(ref_rss):>10}")
    print(f"speedup vs reference: {ref_total / wall:.1f}x")


if __name__ == "__main__":
    main()
