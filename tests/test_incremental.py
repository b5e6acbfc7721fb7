"""The incremental global stage: whatever path a cached rebuild takes, dist/ is a fresh build's bytes.

Every test builds a small generated corpus with a cache, changes raw/ (or dist/, or the cache),
builds again with the same cache and dist_dir, and compares dist/ file by file with a fresh
build of the same raw/ without any cache. `BuildResult.partitions["incremental"]` says which
path ran (1: the delta path, 0: the full path); only the benchmark's own edit asserts the delta
path (`test_fast_path_*`); the other tests print the flag (run with `-s` to see it, and the
summary at the end of the module).

A build that must fail fails with the problems of a fresh build and leaves dist/ as it was.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.engine.build import build
from pipeline.errors import BuildFailed
from pipeline.metadata import load_metadata
from tests.conftest import ROOT, snapshot

DATAPACKAGE = ROOT / "datapackage.json"
N_SOURCES = 24
SPANS_PER_SOURCE = 30
NT = "soviet-bloc-revolts.nt"
SQLITE = "soviet-bloc-revolts.sqlite"

_FLAGS: list[tuple[str, object]] = []  # (what, result.partitions.get("incremental")) for the summary
_COUNTER = itertools.count()


# --------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A generated corpus of 24 annotation files (720 spans) plus entities.yaml, written once per module."""
    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    return generate.generate(
        tmp_path_factory.mktemp("incremental-template"), N_SOURCES * SPANS_PER_SOURCE, N_SOURCES, seed=7
    )


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    if _FLAGS:
        print("\n\nincremental flag per rebuild (1: delta path, 0: full path, None: not reported):")
        for what, flag in _FLAGS:
            print(f"  {flag!s:>5}  {what}")


@dataclass
class Corpus:
    """A writable copy of the template, with the dist/ and cache folders the tests build into."""

    root: Path
    raw: Path
    dist: Path
    cache: Path
    datapackage: Path = DATAPACKAGE

    def ann(self, n: int) -> Path:
        return self.raw / "annotations" / f"bench-{n:06d}.yaml"

    @property
    def entities(self) -> Path:
        return self.raw / "annotations" / "entities.yaml"

    @property
    def sources(self) -> Path:
        return self.raw / "sources.yaml"

    def text(self, n: int) -> Path:
        return self.raw / "texts" / f"bench-{n:06d}.txt"

    def build(self, dist: Path | None = None, cache: Path | None = None):
        """A build with the cache (jobs=1), into self.dist unless told otherwise."""
        return build(self.raw, dist or self.dist, self.datapackage, cache_dir=cache or self.cache, jobs=1)


@pytest.fixture
def corpus(template: Path, tmp_path: Path) -> Corpus:
    raw = tmp_path / "raw"
    shutil.copytree(template, raw)
    (tmp_path / "out").mkdir()
    return Corpus(tmp_path, raw, tmp_path / "out" / "dist", tmp_path / "cache")


@pytest.fixture
def built(corpus: Corpus) -> Corpus:
    """The corpus after a first (full) build with an empty cache."""
    first = corpus.build()
    assert first.partitions.get("built") == N_SOURCES + 1
    assert_no_leftovers(corpus.dist)
    return corpus


# --------------------------------------------------------------------------- comparing


def _first_difference(a: bytes, b: bytes) -> str:
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    line = a.count(b"\n", 0, n) + 1
    column = n - (a.rfind(b"\n", 0, n) + 1)

    def line_at(data: bytes) -> bytes:
        start = data.rfind(b"\n", 0, n) + 1
        end = data.find(b"\n", n)
        return data[start : len(data) if end < 0 else end][:400]

    return (
        f"first difference at byte {n} (line {line}, column {column}); sizes {len(a)} (fresh) vs {len(b)} (dist)\n"
        f"    fresh: {line_at(a)!r}\n"
        f"    dist:  {line_at(b)!r}"
    )


def assert_same_files(expected: Path, actual: Path) -> None:
    """Same file names and the same bytes below both folders; a readable account of the first difference."""
    exp, act = snapshot(expected), snapshot(actual)
    missing = sorted(set(exp) - set(act))
    extra = sorted(set(act) - set(exp))
    differ = sorted(k for k in set(exp) & set(act) if exp[k] != act[k])
    if missing or extra or differ:
        lines = [f"{actual} is not the fresh build {expected}:"]
        if missing:
            lines.append(f"  missing from dist: {missing}")
        if extra:
            lines.append(f"  only in dist: {extra}")
        if differ:
            lines.append(f"  differing files: {differ}")
            lines.append(f"  {differ[0]}: {_first_difference(exp[differ[0]], act[differ[0]])}")
        pytest.fail("\n".join(lines))


def assert_same_as_fresh(raw: Path, dist: Path, datapackage: Path, tmp_path: Path) -> None:
    """Build raw into a new folder with no cache and compare every file (names and bytes) with dist."""
    fresh = tmp_path / "fresh" / f"build-{next(_COUNTER)}"
    build(raw, fresh, datapackage, jobs=1)
    assert_same_files(fresh, dist)
    assert_no_leftovers(dist)


def assert_no_leftovers(dist: Path) -> None:
    """No staging or replaced folder left next to dist (the lock file may stay)."""
    if dist.parent.exists():
        left = [
            p.name
            for p in dist.parent.iterdir()
            if p.name.startswith(f".{dist.name}.") and not p.name.endswith(".lock")
        ]
        assert not left, f"left next to {dist}: {left}"


def flag(result, what: str):
    """The incremental flag of a build, printed and kept for the summary."""
    value = result.partitions.get("incremental")
    print(f"[incremental={value}] {what}  partitions={result.partitions}")
    _FLAGS.append((what, value))
    return value


def rebuild_and_compare(c: Corpus, what: str, dist: Path | None = None):
    """Rebuild with the cache, assert byte identity with a fresh build; the incremental flag."""
    result = c.build(dist)
    assert_same_as_fresh(c.raw, dist or c.dist, c.datapackage, c.root)
    return flag(result, what)


def fresh_problems(c: Corpus) -> list[str]:
    """The problems a fresh build without cache reports for raw/ as it is now."""
    out = c.root / "fresh" / f"failing-{next(_COUNTER)}"
    with pytest.raises(BuildFailed) as failed:
        build(c.raw, out, c.datapackage, jobs=1)
    assert not out.exists()
    return [f"{p.code} | {p}" for p in failed.value.problems]


# --------------------------------------------------------------------------- editing raw/


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def read_spans(path: Path) -> tuple[str, list[str]]:
    """An annotation file as its head (comment, source, `spans:`) and one text block per span."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    head, *blocks = text[:-1].split("\n  - span_id: ")
    return head, ["  - span_id: " + b for b in blocks]


def write_spans(path: Path, head: str, blocks: list[str]) -> None:
    path.write_text("\n".join([head, *blocks]) + "\n", encoding="utf-8")


def span_id(block: str) -> str:
    return re.match(r"  - span_id: (\S+)", block).group(1)


def label(block: str) -> str:
    return re.search(r"^    label: (\S+)$", block, re.M).group(1)


def find_block(c: Corpus, pattern: str, files=range(N_SOURCES), start: int = 0) -> tuple[Path, int, str]:
    """The first span block (file, index, text) matching a regular expression, from file number `start` on."""
    order = [*range(start, N_SOURCES), *range(start)]
    for n in order:
        if n not in files or not c.ann(n).exists():
            continue
        _, blocks = read_spans(c.ann(n))
        for i, block in enumerate(blocks):
            if re.search(pattern, block, re.M):
                return c.ann(n), i, block
    raise AssertionError(f"no span matches {pattern!r}")


def edit_block(path: Path, index: int, new: str) -> None:
    head, blocks = read_spans(path)
    blocks[index] = new
    write_spans(path, head, blocks)


def source_entries(c: Corpus) -> tuple[str, list[str]]:
    text = c.sources.read_text(encoding="utf-8")
    head, *entries = text[:-1].split("\n  - source_id: ")
    return head, ["  - source_id: " + e for e in entries]


def write_source_entries(c: Corpus, head: str, entries: list[str]) -> None:
    c.sources.write_text("\n".join([head, *entries]) + "\n", encoding="utf-8")


def set_text(c: Corpus, n: int, data: bytes) -> None:
    """Replace a source's text and its sha256 in sources.yaml."""
    old = hashlib.sha256(c.text(n).read_bytes()).hexdigest()
    c.text(n).write_bytes(data)
    replace_once(c.sources, old, hashlib.sha256(data).hexdigest())


def enum(table: str, column: str) -> list[str]:
    return load_metadata(DATAPACKAGE)[table].enum(column)


def other_value(values: list[str], old: str, avoid: tuple[str, ...] = ()) -> str:
    return next(v for v in values if v != old and v not in avoid)


def bench_touch(raw: Path) -> tuple[Path, bytes]:
    """bench/run.py's rebuild edit: the first `claimant: ` of the middle source becomes `claimant: revised `."""
    sys.path.insert(0, str(ROOT / "bench"))
    import run

    return run._touch_one_source(raw)


def touch_claimant(path: Path) -> bytes:
    """The benchmark's edit on a given file; its bytes before."""
    before = path.read_bytes()
    after = before.replace(b"claimant: ", b"claimant: revised ", 1)
    assert after != before, path
    path.write_bytes(after)
    return before


# --------------------------------------------------------------------------- 2. and 6. value edits


def _casualty_range(c: Corpus) -> str:
    path, i, block = find_block(c, r"^        count_max: \d+$")
    lo = int(re.search(r"count_min: (\d+)", block).group(1))
    hi = int(re.search(r"count_max: (\d+)", block).group(1))
    new = block.replace(f"count_min: {lo}", f"count_min: {lo + 1}").replace(f"count_max: {hi}", f"count_max: {hi + 7}")
    edit_block(path, i, new)
    return path.name


def _casualty_qualifier(c: Corpus) -> str:
    path, i, block = find_block(c, r"^        qualifier: about$\n        victim_actor_id")
    edit_block(path, i, block.replace("qualifier: about\n        victim", "qualifier: exact\n        victim", 1))
    return path.name


def _actor_role(c: Corpus) -> str:
    path, i, block = find_block(c, r"^        role: \S+$", start=5)
    old = re.search(r"role: (\S+)", block).group(1)
    edit_block(path, i, block.replace(f"role: {old}", f"role: {other_value(enum('event_actors', 'role'), old)}", 1))
    return path.name


def _actor_count(c: Corpus) -> str:
    path, i, block = find_block(c, r"^    actors:\n(.*\n)*        count: \d+$", start=7)
    old = re.search(r"        count: (\d+)", block).group(1)
    edit_block(path, i, block.replace(f"        count: {old}", f"        count: {int(old) + 1}", 1))
    return path.name


def _mention_date(c: Corpus) -> str:
    path, i, block = find_block(c, r'^        date: "\d{4}-\d{2}"$', start=9)
    old = re.search(r'date: "(\d{4})-(\d{2})"', block)
    new_month = "01" if old.group(2) != "01" else "02"
    edit_block(path, i, block.replace(old.group(0), f'date: "{old.group(1)}-{new_month}-15"', 1))
    return path.name


def _demand_text(c: Corpus) -> str:
    path, i, block = find_block(c, r"^        text: ", start=11)
    old = re.search(r'        text: (".*")', block).group(1)
    edit_block(path, i, block.replace(f"text: {old}", 'text: "a new demand – „für alle“, with a comma"', 1))
    return path.name


def _set_claim_value(c: Corpus, find: str, start: int, field: str, new_value) -> str:
    """In the first block matching `find` (from file `start` on), give the claim's first `field` new_value(old value)."""
    path, i, block = find_block(c, find, start=start)
    old = re.search(rf"^        {field}: (\S+)$", block, re.M).group(1)
    edit_block(path, i, block.replace(f"        {field}: {old}", f"        {field}: {new_value(old)}", 1))
    return path.name


def _demand_category(c: Corpus) -> str:
    # A demand with an explicit id (its category has an underscore): the id and its outcome claim stay.
    return _set_claim_value(
        c, r"^        demand_id: ", 2, "category", lambda old: other_value(enum("demands", "category"), old)
    )


def _claimant_needing_csv_quotes(c: Corpus) -> str:
    path, i, block = find_block(c, r"^        claimant: ", start=14)
    new = re.sub(
        r"^        claimant: .*$", r'        claimant: "the \\"Trud\\", 3 June; a, b"', block, count=1, flags=re.M
    )
    edit_block(path, i, new)
    return path.name


def _span_label(c: Corpus) -> str:
    path, i, block = find_block(c, r"^    label: event$\n    quote: .*\n    events:", start=4)
    edit_block(path, i, block.replace("    label: event\n", "    label: outcome\n", 1))
    return path.name


def _span_event(c: Corpus) -> str:
    # The claims of the span move to another event: rows change places and two events' estimates change.
    path, i, block = find_block(c, r"^    event_id: ev-00001$\n    casualties:", start=6)
    edit_block(path, i, block.replace("    event_id: ev-00001\n", "    event_id: ev-00002\n", 1))
    return path.name


def _entity_description(c: Corpus) -> str:
    replace_once(c.entities, "A synthetic event for benchmarks", "A synthetic event, revised, for benchmarks")
    return c.entities.name


def _casualty_count_changes_estimates(c: Corpus) -> str:
    return _set_claim_value(c, r"^        count: \d+$\n        qualifier: exact$", 8, "count", lambda old: 987654)


def _casualty_count_lowers_estimates(c: Corpus) -> str:
    path, i, block = find_block(c, r"^        count_min: \d+$", start=16)
    old = re.search(r"count_min: (\d+)", block).group(1)
    edit_block(path, i, block.replace(f"count_min: {old}", "count_min: 0", 1))
    return path.name


def _demand_outcome_changes_derived_outcome(c: Corpus) -> str:
    return _set_claim_value(
        c,
        r"^    outcomes:$",
        10,
        "outcome",
        lambda old: other_value(enum("demand_outcomes", "outcome"), old, avoid=("unknown",)),
    )


def _span_quote_shrinks(c: Corpus) -> str:
    # The span keeps its row but moves: start, end, quote, its hash and its context all change.
    path, i, block = find_block(c, r'^    quote: "In .*: the events of .*$\n    events:', start=13)
    quote = re.search(r'^    quote: "(.*)"$', block, re.M).group(1)
    part = quote[quote.index("the events of") :]
    edit_block(path, i, block.replace(f'    quote: "{quote}"', f'    quote: "{part}"', 1))
    return path.name


def _casualty_id_sorts_first(c: Corpus) -> str:
    # A key changed in place: the row's place in the sorted table changes.
    path, i, block = find_block(c, r"^        casualty_id: ", start=9)
    own = re.search(r"^        casualty_id: (\S+)$", block, re.M).group(1)
    edit_block(path, i, block.replace(f"casualty_id: {own}", "casualty_id: a-first-casualty", 1))
    return path.name


def _span_id_sorts_elsewhere(c: Corpus) -> str:
    # An event-mention span of file 13 renamed so that it sorts among file 1's spans.
    path, i, block = find_block(c, r"^    events:$", files={13}, start=13)
    edit_block(path, i, block.replace(span_id(block), "bench-000001-s0000a", 1))
    return path.name


def _two_span_ids_swapped(c: Corpus) -> str:
    path = c.ann(15)
    head, blocks = read_spans(path)
    a, b = [i for i, block in enumerate(blocks) if re.search(r"^    events:$", block, re.M)][:2]
    ida, idb = span_id(blocks[a]), span_id(blocks[b])
    blocks[a], blocks[b] = blocks[a].replace(ida, idb, 1), blocks[b].replace(idb, ida, 1)
    write_spans(path, head, blocks)
    return path.name


def _mention_place(c: Corpus) -> str:
    path, i, block = find_block(c, r'^        place: "', start=17)
    edit_block(
        path, i, re.sub(r'^        place: ".*"$', '        place: "Karl-Marx-Stadt"', block, count=1, flags=re.M)
    )
    return path.name


def _victim_actor(c: Corpus) -> str:
    path, i, block = find_block(c, r"^        victim_actor_id: ac-00002$", start=3)
    edit_block(path, i, block.replace("victim_actor_id: ac-00002", "victim_actor_id: ac-00000", 1))
    return path.name


VALUE_EDITS = {
    "span-quote-shrinks": _span_quote_shrinks,
    "casualty-id-sorts-first": _casualty_id_sorts_first,
    "span-id-sorts-among-another-files-spans": _span_id_sorts_elsewhere,
    "two-span-ids-swapped": _two_span_ids_swapped,
    "mention-place": _mention_place,
    "victim-actor": _victim_actor,
    "casualty-count-min-max": _casualty_range,
    "casualty-qualifier": _casualty_qualifier,
    "actor-role": _actor_role,
    "actor-count": _actor_count,
    "mention-date": _mention_date,
    "demand-text": _demand_text,
    "demand-category": _demand_category,
    "claimant-needing-csv-quotes": _claimant_needing_csv_quotes,
    "span-label": _span_label,
    "span-moves-to-another-event": _span_event,
    "entity-description": _entity_description,
}


@pytest.mark.parametrize("edit", VALUE_EDITS)
def test_value_edit_gives_a_fresh_builds_bytes(built: Corpus, edit: str):
    before = snapshot(built.dist)
    changed = VALUE_EDITS[edit](built)
    rebuild_and_compare(built, f"value edit {edit} in {changed}")
    assert snapshot(built.dist) != before, "the edit changed nothing in dist/: not a test"


@pytest.mark.parametrize(
    ("edit", "derived"),
    [
        (_casualty_count_changes_estimates, ["casualty_estimates.csv", "event_summary.csv"]),
        (_casualty_count_lowers_estimates, ["casualty_estimates.csv"]),
        (_demand_outcome_changes_derived_outcome, ["demand_outcomes.csv", "demands.csv"]),
    ],
    ids=["casualty-count-raises-high", "casualty-count-min-lowers-low", "outcome-claim-changes-demand-outcome"],
)
def test_value_edit_that_changes_a_derived_table(built: Corpus, edit, derived: list[str]):
    before = snapshot(built.dist)
    changed = edit(built)
    rebuild_and_compare(built, f"derived: {edit.__name__} in {changed}")
    after = snapshot(built.dist)
    for name in derived:
        assert after[name] != before[name], f"{name} did not change: the edit does not test the derived table"


def test_comment_only_edit(built: Corpus):
    before = snapshot(built.dist)
    with open(built.ann(6), "a", encoding="utf-8") as fh:
        fh.write("# a comment added between two builds\n")
    rebuild_and_compare(built, "comment-only edit")
    assert snapshot(built.dist) == before


def test_value_edit_that_breaks_a_sources_quoting_terms(corpus: Corpus):
    """A span's quote moved onto the one unquoted sentence joins two passages, over quote_max_passage."""
    ann = corpus.ann(5)
    head, blocks = read_spans(ann)
    gap = next(i for i, b in enumerate(blocks) if label(b) == "casualty")
    unquoted = re.search(r"^    quote: (\".*\")$", blocks[gap], re.M).group(1)
    del blocks[gap]
    write_spans(ann, head, blocks)
    # The longest passage as it is, made the source's limit.
    probe = corpus.root / "fresh" / "probe"
    build(corpus.raw, probe, DATAPACKAGE, jobs=1)
    row = next(
        line
        for line in (probe / "sources.csv").read_text(encoding="utf-8").splitlines()
        if line.startswith("bench-000005,")
    )
    longest = int(row.rsplit(",", 1)[1])
    text = corpus.sources.read_text(encoding="utf-8")
    at = text.index("quote_max_passage: ", text.index("source_id: bench-000005\n"))
    end = text.index("\n", at)
    corpus.sources.write_text(text[:at] + f"quote_max_passage: {longest}" + text[end:], encoding="utf-8")
    corpus.build()
    good = _raw_state(corpus)
    head, blocks = read_spans(ann)
    last = max(i for i, b in enumerate(blocks) if re.search(r"^    events:$", b, re.M) and "prefix:" not in b)
    blocks[last] = re.sub(r"^    quote: \".*\"$", f"    quote: {unquoted}", blocks[last], count=1, flags=re.M)
    write_spans(ann, head, blocks)
    assert_fails_like_a_fresh_build(corpus, "over quote_max_passage")
    _put_back(corpus, good)
    rebuild_and_compare(corpus, "back within the quoting terms")


def test_value_edit_of_the_same_size_with_the_old_mtime(built: Corpus):
    """A stat check on raw/ would take the edited file for unchanged."""
    path, i, block = find_block(built, r"^        count: \d*[0-8]$", start=12)
    stat = path.stat()
    old = re.search(r"^        count: (\d+)$", block, re.M).group(1)
    edit_block(path, i, block.replace(f"        count: {old}\n", f"        count: {old[:-1]}{int(old[-1]) + 1}\n", 1))
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    before = snapshot(built.dist)
    rebuild_and_compare(built, f"same-size edit of {path.name} with its old mtime")
    assert snapshot(built.dist) != before


def test_many_consecutive_value_edits(built: Corpus):
    for n in (1, 5, 5, 20, 1):
        touch_claimant(built.ann(n))
        rebuild_and_compare(built, f"consecutive claimant edit of bench-{n:06d}")


def test_unchanged_rebuild(built: Corpus):
    before = snapshot(built.dist)
    rebuild_and_compare(built, "nothing changed")
    assert snapshot(built.dist) == before


# --------------------------------------------------------------------------- 3. structural edits


def _add_span(c: Corpus) -> None:
    # A copy of a casualty span under a new id, with its claims (their ids follow the span's).
    path, i, block = find_block(c, r"^    label: casualty$\n    quote: .*\n    event_id: \S+\n    casualties:", start=9)
    head, blocks = read_spans(path)
    old = span_id(block)
    blocks.insert(i + 1, block.replace(old, old[:-4] + "9000"))
    write_spans(path, head, blocks)


def _add_span_in_a_new_place(c: Corpus) -> None:
    # A span quoting part of a sentence no span covers yet would exceed no terms: quote a sub-part of a quoted sentence.
    path, i, block = find_block(c, r"^    label: demand$", start=3)
    head, blocks = read_spans(path)
    quote = re.search(r'^    quote: "They demanded (.*?) –', block, re.M).group(1)
    new = f'  - span_id: {span_id(block)[:-4]}8000\n    label: demand\n    quote: "{quote}"\n    event_id: ev-00002'
    text = c.text(int(path.stem.split("-")[1])).read_text(encoding="utf-8")
    if text.count(quote) != 1:
        pytest.skip("the demand text occurs more than once in its source")
    blocks.append(new)
    write_spans(path, head, blocks)


def _remove_span(c: Corpus) -> None:
    path, i, _ = find_block(c, r"^    label: casualty$", start=7)
    head, blocks = read_spans(path)
    del blocks[i]
    write_spans(path, head, blocks)


def _remove_demand_span_and_its_outcome(c: Corpus) -> None:
    path, i, _ = find_block(c, r"^    outcomes:$", start=19)
    head, blocks = read_spans(path)
    del blocks[i]
    write_spans(path, head, blocks)


def _remove_source(c: Corpus, n: int) -> None:
    c.ann(n).unlink()
    c.text(n).unlink()
    head, entries = source_entries(c)
    write_source_entries(c, head, [e for e in entries if not e.startswith(f"  - source_id: bench-{n:06d}\n")])


def _remove_a_whole_source(c: Corpus) -> None:
    _remove_source(c, 13)


def _remove_the_last_source(c: Corpus) -> None:
    _remove_source(c, N_SOURCES - 1)


def _copy_a_source_under_new_ids(c: Corpus) -> None:
    for src, dst in ((c.ann(4), c.ann(99)), (c.text(4), c.text(99))):
        dst.write_text(src.read_text(encoding="utf-8").replace("bench-000004", "bench-000099"), encoding="utf-8")
    head, entries = source_entries(c)
    entry = next(e for e in entries if e.startswith("  - source_id: bench-000004\n"))
    old_sha = re.search(r"sha256: (\w+)", entry).group(1)
    new_sha = hashlib.sha256(c.text(99).read_bytes()).hexdigest()
    entries.append(
        entry.replace("bench-000004", "bench-000099").replace(old_sha, new_sha).replace("article 4", "article 99")
    )
    write_source_entries(c, head, entries)


def _two_files_at_once(c: Corpus) -> None:
    touch_claimant(c.ann(2))
    _remove_span(c)


def _entities_event_name(c: Corpus) -> None:
    replace_once(c.entities, 'name: "Revolt 1 at', 'name: "The revolt 1 at')


def _entities_new_event_cited_by_a_span(c: Corpus) -> None:
    text = c.entities.read_text(encoding="utf-8")
    new_event = (
        '  - event_id: "ev-00077"\n    name: "A new revolt"\n    event_type: "riot"\n    start_date: "1962-06"\n'
        '    place: "Temirtau"\n    country: "SU"\n    description: "Added between two builds."\n'
    )
    c.entities.write_text(text.replace("actors:\n", new_event + "actors:\n", 1), encoding="utf-8")
    path, i, block = find_block(c, r"^    event_id: ev-00000$\n    demands:", start=15)
    edit_block(path, i, block.replace("    event_id: ev-00000\n", "    event_id: ev-00077\n", 1))


def _sources_title(c: Corpus) -> None:
    replace_once(c.sources, 'title: "Synthetic article 6 ', 'title: "Synthetic article six ')


def _source_text_shifts_every_span(c: Corpus) -> None:
    # One more character before every quote: every span of the source moves, its file does not change.
    data = c.text(8).read_bytes()
    set_text(c, 8, data.replace(b"Synthetic article bench-000008.", b"Synthetic  article bench-000008.", 1))


def _source_text_same_length(c: Corpus) -> None:
    data = c.text(17).read_bytes()
    set_text(c, 17, data.replace(b"Synthetic article", b"Synthetic Article", 1))


def _outcome_claim_from_another_file(c: Corpus) -> None:
    # File 21 states an outcome of a demand of file 5 that disagrees with file 5's own claim.
    _, _, target = find_block(c, r"^    outcomes:$", files={5}, start=5)
    demand = re.search(r"^      - demand_id: (\S+)$", target, re.M).group(1)
    old = re.search(r"^        outcome: (\S+)$", target, re.M).group(1)
    new = other_value(enum("demand_outcomes", "outcome"), old, avoid=("unknown",))
    path, i, block = find_block(c, r"^    outcomes:$", files={21}, start=21)
    edit_block(path, i, block + f"\n      - demand_id: {demand}\n        outcome: {new}")


def _rename_an_annotation_file(c: Corpus) -> None:
    c.ann(10).rename(c.raw / "annotations" / "zz-renamed-bench-000010.yaml")


def _reorder_spans_in_a_file(c: Corpus) -> None:
    head, blocks = read_spans(c.ann(11))
    write_spans(c.ann(11), head, blocks[::-1])


STRUCTURAL_EDITS = {
    "add-span-with-claims": _add_span,
    "add-span-quoting-a-new-place": _add_span_in_a_new_place,
    "remove-span": _remove_span,
    "remove-demand-span-and-its-outcome": _remove_demand_span_and_its_outcome,
    "remove-a-whole-source": _remove_a_whole_source,
    "remove-the-last-source": _remove_the_last_source,
    "add-a-copied-source-under-new-ids": _copy_a_source_under_new_ids,
    "two-files-at-once": _two_files_at_once,
    "entities-event-name": _entities_event_name,
    "entities-new-event-cited-by-a-span": _entities_new_event_cited_by_a_span,
    "sources-title": _sources_title,
    "source-text-shifts-every-span": _source_text_shifts_every_span,
    "source-text-same-length": _source_text_same_length,
    "outcome-claim-from-another-file": _outcome_claim_from_another_file,
    "rename-an-annotation-file": _rename_an_annotation_file,
    "reorder-spans-in-a-file": _reorder_spans_in_a_file,
}


@pytest.mark.parametrize("edit", STRUCTURAL_EDITS)
def test_structural_edit_gives_a_fresh_builds_bytes(built: Corpus, edit: str):
    before = snapshot(built.dist)
    STRUCTURAL_EDITS[edit](built)
    rebuild_and_compare(built, f"structural edit {edit}")
    if edit not in ("rename-an-annotation-file", "reorder-spans-in-a-file"):
        assert snapshot(built.dist) != before, "the edit changed nothing in dist/: not a test"


def test_a_source_added_between_two_builds(corpus: Corpus):
    """The middle source is hidden for the first build, then comes back (annotations, text and entry)."""
    hidden = corpus.root / "hidden"
    hidden.mkdir()
    n = N_SOURCES // 2
    sources_before = corpus.sources.read_bytes()
    shutil.move(corpus.ann(n), hidden / "ann.yaml")
    shutil.move(corpus.text(n), hidden / "text.txt")
    _remove_source_entry_only(corpus, n)
    corpus.build()
    shutil.move(hidden / "ann.yaml", corpus.ann(n))
    shutil.move(hidden / "text.txt", corpus.text(n))
    corpus.sources.write_bytes(sources_before)
    rebuild_and_compare(corpus, "a source added back in the middle")


def _remove_source_entry_only(c: Corpus, n: int) -> None:
    head, entries = source_entries(c)
    write_source_entries(c, head, [e for e in entries if not e.startswith(f"  - source_id: bench-{n:06d}\n")])


def test_structural_then_value_edits(built: Corpus):
    """A value edit right after a structural one: the snapshot must be that of the structural build."""
    _remove_span(built)
    rebuild_and_compare(built, "remove a span")
    touch_claimant(built.ann(7))
    rebuild_and_compare(built, "then a value edit of the same file")
    _add_span(built)
    rebuild_and_compare(built, "then add a span")
    touch_claimant(built.ann(9))
    rebuild_and_compare(built, "then a value edit of the file that got the span")


def test_a_changed_descriptor(built: Corpus, tmp_path: Path):
    """The same raw/ under another datapackage.json (its own copy, with a changed title)."""
    meta = tmp_path / "meta"
    meta.mkdir()
    shutil.copy(DATAPACKAGE, meta / "datapackage.json")
    shutil.copytree(ROOT / "schemas", meta / "schemas")
    text = (meta / "datapackage.json").read_text(encoding="utf-8")
    title = re.search(r'"title": "([^"]*)"', text).group(1)
    (meta / "datapackage.json").write_text(text.replace(title, title + " (revised)", 1), encoding="utf-8")
    built.datapackage = meta / "datapackage.json"
    touch_claimant(built.ann(3))
    rebuild_and_compare(built, "another descriptor, and a value edit")


# --------------------------------------------------------------------------- 4. trust


def _keep_stat(path: Path, change) -> None:
    """Change a file's bytes keeping its size and mtime."""
    stat = path.stat()
    data = bytearray(path.read_bytes())
    change(data)
    assert len(data) == stat.st_size
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _flip_middle_byte(data: bytearray) -> None:
    i = len(data) // 2
    data[i] = ord("X") if data[i] != ord("X") else ord("Y")


def _flip_letter(needle: bytes):
    def change(data: bytearray) -> None:
        i = data.index(needle)
        data[i] = needle[0] ^ 0x20  # the same letter in the other case

    return change


def _tamper_append_spans(dist: Path) -> None:
    with open(dist / "spans.csv", "ab") as fh:
        fh.write(b"tampered,by,hand\n")


def _tamper_nt(dist: Path) -> None:
    _keep_stat(dist / NT, _flip_middle_byte)


def _tamper_events_csv(dist: Path) -> None:
    # A file the value edit does not touch: carried over, it would keep the hand edit.
    _keep_stat(dist / "events.csv", _flip_letter(b"Revolt"))


def _tamper_sources_csv(dist: Path) -> None:
    _keep_stat(dist / "sources.csv", _flip_letter(b"Synthetic"))


def _tamper_sqlite(dist: Path) -> None:
    _keep_stat(dist / SQLITE, _flip_letter(b"Revolt"))


def _tamper_parquet(dist: Path) -> None:
    _keep_stat(dist / "events.parquet", _flip_middle_byte)


def _tamper_casualties_csv_same_size(dist: Path) -> None:
    # The file the value edit changes, edited by hand the same way (so it already looks right).
    _keep_stat(dist / "casualties.csv", _flip_letter(b"the article"))


def _tamper_delete_a_file(dist: Path) -> None:
    (dist / "events.csv").unlink()


def _tamper_stray_file(dist: Path) -> None:
    (dist / "notes.txt").write_text("left by hand\n", encoding="utf-8")


def _tamper_delete_dist(dist: Path) -> None:
    shutil.rmtree(dist)


def _tamper_descriptor(dist: Path) -> None:
    # (Emptied, the folder would be refused as one no build wrote: see check_output_dir.)
    _keep_stat(dist / "datapackage.json", _flip_letter(b"Events, casualty claims"))


DIST_TAMPERING = {
    "append-a-line-to-spans-csv": _tamper_append_spans,
    "flip-a-byte-of-the-nt-file-same-size-and-mtime": _tamper_nt,
    "flip-a-letter-of-events-csv-same-size-and-mtime": _tamper_events_csv,
    "flip-a-letter-of-sources-csv-same-size-and-mtime": _tamper_sources_csv,
    "flip-a-letter-of-the-sqlite-file-same-size-and-mtime": _tamper_sqlite,
    "flip-a-byte-of-a-parquet-file-same-size-and-mtime": _tamper_parquet,
    "flip-a-letter-of-casualties-csv-same-size-and-mtime": _tamper_casualties_csv_same_size,
    "delete-a-file": _tamper_delete_a_file,
    "add-a-stray-file": _tamper_stray_file,
    "delete-dist": _tamper_delete_dist,
    "flip-a-letter-of-the-descriptor-same-size-and-mtime": _tamper_descriptor,
}


@pytest.mark.parametrize("tamper", DIST_TAMPERING)
def test_dist_edited_by_hand_between_two_builds(built: Corpus, tamper: str):
    bench_touch(built.raw)
    DIST_TAMPERING[tamper](built.dist)
    rebuild_and_compare(built, f"dist/ tampered: {tamper}")


def test_dist_edited_by_hand_and_nothing_else_changed(built: Corpus):
    _tamper_events_csv(built.dist)
    _tamper_nt(built.dist)
    rebuild_and_compare(built, "dist/ tampered, raw/ unchanged")


def test_dist_replaced_by_an_older_build(built: Corpus):
    """dist/ put back as the first build wrote it (same mtimes), after a second build the cache remembers."""
    old = built.root / "old-dist"
    shutil.copytree(built.dist, old)  # copy2: the mtimes stay
    touch_claimant(built.ann(2))
    rebuild_and_compare(built, "value edit of bench-000002")
    shutil.rmtree(built.dist)
    shutil.copytree(old, built.dist)
    touch_claimant(built.ann(4))
    rebuild_and_compare(built, "value edit of bench-000004 onto the older dist/")


def _cache_groups(cache: Path) -> list[Path]:
    """The top-level entries of the cache (partitions, the exports' caches, and whatever the snapshot adds)."""
    return sorted(cache.iterdir())


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def _delete(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _corrupt_keeping_stat(path: Path) -> None:
    if path.stat().st_size:
        _keep_stat(path, _flip_middle_byte)


def _garbage(path: Path) -> None:
    path.write_bytes(b'{"not": "what you stored"}\n')


CACHE_DAMAGE = {
    "delete": _delete,
    "truncate": _truncate,
    "corrupt-same-size-and-mtime": _corrupt_keeping_stat,
    "garbage": _garbage,
}


def _save(c: Corpus) -> Path:
    saved = c.root / "saved"
    shutil.copytree(c.dist, saved / "dist")
    shutil.copytree(c.cache, saved / "cache")
    return saved


def _restore(c: Corpus, saved: Path) -> None:
    for name, dest in (("dist", c.dist), ("cache", c.cache)):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(saved / name, dest)


@pytest.mark.parametrize("damage", CACHE_DAMAGE)
def test_cache_damaged_between_two_builds(built: Corpus, damage: str):
    """Each top-level part of the cache damaged in turn (every file in it), after a value edit."""
    bench_touch(built.raw)
    saved = _save(built)
    fresh = built.root / "fresh" / "expected"
    build(built.raw, fresh, DATAPACKAGE, jobs=1)
    groups = _cache_groups(built.cache)
    assert groups
    for group in groups:
        _restore(built, saved)
        for path in _files(built.cache / group.name):
            CACHE_DAMAGE[damage](path)
        result = built.build()
        flag(result, f"cache damaged ({damage}): every file of {group.name}/")
        assert_same_files(fresh, built.dist)
        assert_no_leftovers(built.dist)


def test_cache_files_corrupted_one_at_a_time(built: Corpus):
    """Every cache file that is not a content-addressed entry, corrupted alone (same size and mtime)."""
    bench_touch(built.raw)
    saved = _save(built)
    fresh = built.root / "fresh" / "expected"
    build(built.raw, fresh, DATAPACKAGE, jobs=1)
    content_addressed = {"partitions", "parquet", "linked-data"}
    files = [
        rel
        for rel in (p.relative_to(built.cache) for p in _files(built.cache))
        if rel.parts[0] not in content_addressed
    ]
    assert files
    for rel in files:
        _restore(built, saved)
        _corrupt_keeping_stat(built.cache / rel)
        result = built.build()
        flag(result, f"cache file corrupted alone: {rel}")
        assert_same_files(fresh, built.dist)


# Once a crash: sealed.file_sha256 remembered a digest by size and mtime only, so a second build
# in the same process trusted the changed file.
KNOWN_BAD = Path("sqlite") / "last.sqlite"


def test_sqlite_cache_corrupted_in_place_with_its_old_mtime(built: Corpus):
    bench_touch(built.raw)
    db = built.cache / KNOWN_BAD
    assert db.is_file()

    def scramble(data: bytearray) -> None:
        for i in range(100, len(data), 97):
            data[i] ^= 0x55

    _keep_stat(db, scramble)
    rebuild_and_compare(built, "cached SQLite database corrupted in place, size and mtime kept")


def test_cache_deleted_between_two_builds(built: Corpus):
    bench_touch(built.raw)
    shutil.rmtree(built.cache)
    rebuild_and_compare(built, "cache deleted")


def test_same_cache_another_dist_dir(built: Corpus):
    bench_touch(built.raw)
    rebuild_and_compare(built, "same cache, a new dist_dir", dist=built.root / "out" / "other")
    # The first dist/ is still the first build's, and a rebuild into it catches up.
    touch_claimant(built.ann(5))
    rebuild_and_compare(built, "back to the first dist_dir, two edits behind")


def test_same_cache_another_dist_dir_holding_stale_files(built: Corpus):
    other = built.root / "out" / "other"
    shutil.copytree(built.dist, other)
    touch_claimant(built.ann(5))
    rebuild_and_compare(built, "value edit")
    touch_claimant(built.ann(6))
    rebuild_and_compare(built, "value edit into a copy of the first build's dist/", dist=other)


def test_two_dist_dirs_alternating_on_one_cache(built: Corpus):
    a, b = built.dist, built.root / "out" / "b"
    for step, (n, dist) in enumerate([(1, b), (2, a), (3, b), (4, a), (4, b), (9, a)]):
        touch_claimant(built.ann(n))
        rebuild_and_compare(built, f"alternating step {step}: edit bench-{n:06d}, into {dist.name}", dist=dist)


def test_cache_moved_to_another_folder(built: Corpus):
    moved = built.root / "moved-cache"
    shutil.copytree(built.cache, moved)
    shutil.rmtree(built.cache)
    built.cache = moved
    bench_touch(built.raw)
    rebuild_and_compare(built, "cache moved, then a value edit")


def test_another_raw_dir_sharing_dist_and_cache(built: Corpus, template: Path):
    """A second checkout of the corpus (another raw/ path) built into the same dist/ with the same cache."""
    second = built.root / "second" / "raw"
    shutil.copytree(template, second)
    touch_claimant(built.ann(3))  # the first raw/ moves on...
    built.build()
    built.raw = second  # ...and the second, still at the start, is built into the same dist/
    touch_claimant(built.ann(8))
    rebuild_and_compare(built, "another raw/ into the same dist/ and cache")


def test_a_build_with_another_cache_in_between(built: Corpus):
    """Another cache's build into the same dist/ between two builds with the first cache."""
    touch_claimant(built.ann(2))
    built.build(cache=built.root / "other-cache")
    touch_claimant(built.ann(3))
    rebuild_and_compare(built, "value edit after another cache's build into the same dist/")


def test_a_build_without_cache_in_between(built: Corpus):
    """A no-cache build into the same dist/ between two cached ones: the snapshot no longer describes dist/."""
    touch_claimant(built.ann(2))
    build(built.raw, built.dist, DATAPACKAGE, jobs=1)
    touch_claimant(built.ann(3))
    rebuild_and_compare(built, "value edit after a no-cache build into the same dist/")


# --------------------------------------------------------------------------- 5. failures


def _quote_not_found(c: Corpus) -> None:
    path, i, block = find_block(c, r"^    label: casualty$", start=6)
    edit_block(
        path, i, re.sub(r'^    quote: ".*"$', '    quote: "This sentence is in no text."', block, count=1, flags=re.M)
    )


def _duplicate_span_id_across_files(c: Corpus) -> None:
    # An event-mention span of file 14 takes the id of a span of file 3, which is left as it is.
    _, _, taken = find_block(c, r"^    events:$", files={3}, start=3)
    path, i, block = find_block(c, r"^    events:$", files={14}, start=14)
    edit_block(path, i, block.replace(span_id(block), span_id(taken), 1))


def _duplicate_casualty_id_across_files(c: Corpus) -> None:
    # An explicit casualty id that a claim of another, unchanged file already has.
    first, _, taken = find_block(c, r"^        casualty_id: ", start=2)
    taken_id = re.search(r"^        casualty_id: (\S+)$", taken, re.M).group(1)
    later = int(first.stem.split("-")[1]) + 1
    path, i, block = find_block(c, r"^        casualty_id: ", files=range(later, N_SOURCES), start=later)
    own = re.search(r"^        casualty_id: (\S+)$", block, re.M).group(1)
    edit_block(path, i, block.replace(f"casualty_id: {own}", f"casualty_id: {taken_id}", 1))


def _duplicate_event_in_entities(c: Corpus) -> None:
    replace_once(c.entities, '- event_id: "ev-00002"', '- event_id: "ev-00001"')


def _unknown_event(c: Corpus) -> None:
    path, i, block = find_block(c, r"^    event_id: ev-00001$", start=12)
    edit_block(path, i, block.replace("    event_id: ev-00001\n", "    event_id: ev-99999\n", 1))


def _unknown_actor(c: Corpus) -> None:
    path, i, block = find_block(c, r"^        victim_actor_id: ", start=4)
    edit_block(path, i, re.sub(r"victim_actor_id: \S+", "victim_actor_id: ac-99999", block, count=1))


def _unknown_category(c: Corpus) -> None:
    path, i, block = find_block(c, r"^        role: \S+$", start=8)
    edit_block(path, i, re.sub(r"role: \S+", "role: astronaut", block, count=1))


def _outcome_of_an_unknown_demand(c: Corpus) -> None:
    path, i, block = find_block(c, r"^      - demand_id: ", start=13)
    edit_block(
        path, i, re.sub(r"^      - demand_id: \S+$", "      - demand_id: no-such-demand", block, count=1, flags=re.M)
    )


def _annotation_file_deleted(c: Corpus) -> None:
    c.ann(15).unlink()


def _yaml_syntax_error(c: Corpus) -> None:
    with open(c.ann(16), "a", encoding="utf-8") as fh:
        fh.write("  - span_id: [unclosed\n")


def _text_changed_without_its_hash(c: Corpus) -> None:
    c.text(19).write_bytes(c.text(19).read_bytes().replace(b"Synthetic article", b"Synthetic Article", 1))


def _count_min_over_count_max(c: Corpus) -> None:
    path, i, block = find_block(c, r"^        count_max: \d+$", start=10)
    hi = int(re.search(r"count_max: (\d+)", block).group(1))
    edit_block(path, i, re.sub(r"count_min: \d+", f"count_min: {hi + 100}", block, count=1))


FAILING_EDITS = {
    "quote-not-found": _quote_not_found,
    "duplicate-span-id-across-files": _duplicate_span_id_across_files,
    "duplicate-casualty-id-across-files": _duplicate_casualty_id_across_files,
    "duplicate-event-in-entities": _duplicate_event_in_entities,
    "unknown-event": _unknown_event,
    "unknown-actor": _unknown_actor,
    "unknown-category-value": _unknown_category,
    "outcome-of-an-unknown-demand": _outcome_of_an_unknown_demand,
    "annotation-file-deleted": _annotation_file_deleted,
    "yaml-syntax-error": _yaml_syntax_error,
    "text-changed-without-its-hash": _text_changed_without_its_hash,
    "count-min-over-count-max": _count_min_over_count_max,
}


def _raw_state(c: Corpus) -> dict[str, bytes]:
    return snapshot(c.raw)


def _put_back(c: Corpus, state: dict[str, bytes]) -> None:
    for p in [p for p in c.raw.rglob("*") if p.is_file()]:
        if str(p.relative_to(c.raw)) not in state:
            p.unlink()
    for rel, data in state.items():
        path = c.raw / rel
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)


def assert_fails_like_a_fresh_build(c: Corpus, what: str) -> None:
    """The cached rebuild fails with a fresh build's problems and leaves dist/ as it was."""
    before = snapshot(c.dist)
    expected = fresh_problems(c)
    with pytest.raises(BuildFailed) as failed:
        c.build()
    got = [f"{p.code} | {p}" for p in failed.value.problems]
    assert got == expected, f"{what}: the cached rebuild's problems differ from a fresh build's"
    assert (
        str(failed.value).splitlines()[-1]
        == f"build failed: {len(expected)} problem{'s' if len(expected) != 1 else ''}; dist/ was not changed"
    )
    assert snapshot(c.dist) == before, f"{what}: dist/ changed by a failed build"
    assert_no_leftovers(c.dist)


@pytest.mark.parametrize("edit", FAILING_EDITS)
def test_failing_edit_fails_as_fresh_and_keeps_dist(built: Corpus, edit: str):
    good = _raw_state(built)
    FAILING_EDITS[edit](built)
    assert_fails_like_a_fresh_build(built, edit)
    _put_back(built, good)
    rebuild_and_compare(built, f"fixed after failing edit {edit}")


@pytest.mark.parametrize("edit", ["duplicate-span-id-across-files", "unknown-event", "quote-not-found"])
def test_failing_edit_after_a_delta_rebuild(built: Corpus, edit: str):
    """Value edit (delta path), then a failing edit, then the fix together with another value edit."""
    touch_claimant(built.ann(1))
    rebuild_and_compare(built, "value edit before a failing one")
    good = _raw_state(built)
    FAILING_EDITS[edit](built)
    touch_claimant(built.ann(20))  # a good value edit in the same failing build
    assert_fails_like_a_fresh_build(built, edit)
    _put_back(built, good)
    touch_claimant(built.ann(22))
    rebuild_and_compare(built, f"fixed after {edit}, with another value edit")


def test_failing_edit_fails_again_when_built_twice(built: Corpus):
    """Two failing builds in a row (the second may find a cache the first left) and then the fix."""
    good = _raw_state(built)
    _duplicate_span_id_across_files(built)
    assert_fails_like_a_fresh_build(built, "first failing build")
    assert_fails_like_a_fresh_build(built, "second failing build")
    _put_back(built, good)
    rebuild_and_compare(built, "fixed after two failing builds")


def test_duplicate_span_id_fixed_another_way(built: Corpus):
    """The failing edit is not reverted but fixed with a third id: the span keeps its new contents."""
    _, _, taken = find_block(built, r"^    events:$", files={3}, start=3)
    path, i, block = find_block(built, r"^    events:$", files={14}, start=14)
    edit_block(path, i, block.replace(span_id(block), span_id(taken), 1))
    assert_fails_like_a_fresh_build(built, "duplicate span id")
    _, blocks = read_spans(path)
    edit_block(path, i, blocks[i].replace(span_id(taken), "bench-000014-s7777", 1))
    rebuild_and_compare(built, "duplicate span id renamed to a third id")


# --------------------------------------------------------------------------- 1. the fast path (last, so that `-x` reports byte identity first)


def test_fast_path_for_the_benchmarks_edit_then_another_file_then_a_revert(built: Corpus):
    flags = []
    path, before = bench_touch(built.raw)
    assert path == built.ann(N_SOURCES // 2)
    flags.append(rebuild_and_compare(built, f"bench edit of {path.name}"))
    other = built.ann(3)
    touch_claimant(other)
    flags.append(rebuild_and_compare(built, f"second value edit, of {other.name}"))
    path.write_bytes(before)
    flags.append(rebuild_and_compare(built, f"revert of {path.name}"))
    # Byte identity of every step is checked above; only then the path each rebuild took.
    assert flags == [1, 1, 1], f"the value edits did not take the delta path: {flags}"


def test_fast_path_after_a_full_rebuild_with_a_warm_cache(built: Corpus):
    """A rebuild with nothing changed, then the benchmark's edit: still the delta path."""
    unchanged = rebuild_and_compare(built, "nothing changed")
    bench_touch(built.raw)
    touched = rebuild_and_compare(built, "bench edit after an unchanged rebuild")
    assert touched == 1, f"unchanged rebuild: {unchanged}, then the bench edit: {touched}"


# --------------------------------------------------------------------------- the real corpus


def test_the_real_corpus_splices_a_claim_edited_in_a_file_that_defines_its_own_events(tmp_path: Path):
    """raw/'s files define their events and actors beside their claims; a claim edit keeps them and takes the splice."""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    dist, cache = tmp_path / "dist", tmp_path / "cache"
    build(raw, dist, DATAPACKAGE, cache_dir=cache, jobs=1)
    path = raw / "annotations" / "soviet-miners-strike-anniversary-2009.yaml"
    replace_once(path, "claimant: ", "claimant: revised ")
    result = build(raw, dist, DATAPACKAGE, cache_dir=cache, jobs=1)
    assert_same_as_fresh(raw, dist, DATAPACKAGE, tmp_path)
    assert flag(result, "real corpus: claim edit in a file with its own events") == 1
    # An edit of an event that file defines goes the full way, and still gives a fresh build's bytes.
    replace_once(path, "name: ", "name: Renamed ")
    result = build(raw, dist, DATAPACKAGE, cache_dir=cache, jobs=1)
    assert_same_as_fresh(raw, dist, DATAPACKAGE, tmp_path)
    assert flag(result, "real corpus: an event edited in that file") == 0


def test_an_edit_of_the_first_file_replaces_the_first_fragment_without_its_separator(built: Corpus):
    """The first fragment of the JSON-LD file drops its leading comma; a splice of the first file must too."""
    touch_claimant(built.ann(0))
    assert rebuild_and_compare(built, "claimant edit of the first file") == 1


def test_a_dist_replaced_between_the_check_and_the_splice_is_not_spliced(built: Corpus, monkeypatch):
    """Another build may swap in its dist/ after this one checked the record: the splice looks again under the lock."""
    from pipeline.engine import incremental

    checked = incremental.check

    def check_then_touch_dist(*args, **kwargs):
        delta = checked(*args, **kwargs)
        os.utime(built.dist / "spans.csv")  # as if another build had written it meanwhile
        return delta

    monkeypatch.setattr(incremental, "check", check_then_touch_dist)
    touch_claimant(built.ann(2))
    assert rebuild_and_compare(built, "dist/ touched between the check and the splice") == 0


def test_a_sealed_record_that_does_not_fit_costs_a_full_build(built: Corpus):
    """A record with a valid seal but missing a table's index (as a tool might write it): the full way, the same bytes."""
    from pipeline.engine import incremental

    last = incremental.load(built.cache)
    del last.tables["spans"]
    incremental.save(last, built.cache)
    touch_claimant(built.ann(4))
    assert rebuild_and_compare(built, "a sealed record without the spans' index") == 0
