"""End-to-end builds: determinism, the real corpus, the committed dist/, and frictionless' verdict."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest
from frictionless import Package

from pipeline.engine.build import build
from pipeline.errors import BuildFailed
from tests.conftest import ROOT, snapshot


def test_two_builds_are_byte_identical(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "a")
    build(mini_raw, tmp_path / "b")
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_build_does_not_modify_raw(mini_raw, tmp_path):
    before = snapshot(mini_raw)
    build(mini_raw, tmp_path / "dist")
    assert snapshot(mini_raw) == before


def test_output_is_lf_utf8_with_sorted_rows(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "dist")
    for path in (tmp_path / "dist").glob("*.csv"):
        data = path.read_bytes()
        assert b"\r\n" not in data.replace(b'"\r\n', b"")  # only inside quoted cells, if ever
        data.decode("utf-8")
    spans = (tmp_path / "dist" / "spans.csv").read_text(encoding="utf-8")
    ids = [line.split(",")[0] for line in spans.splitlines()[1:] if line.startswith("mini-")]
    assert ids == sorted(ids)


def test_frictionless_finds_the_mini_package_valid(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "dist")
    report = Package(str(tmp_path / "dist" / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "note"])


def test_conflicting_claims_stay_side_by_side(mini_raw, tmp_path):
    result = build(mini_raw, tmp_path / "dist")
    killed = [r for r in result.tables.rows["casualties"] if r["category"] == "killed"]
    assert {(r["count_min"], r["qualifier"], r["claimant"]) for r in killed} == {
        (12, "at_least", "the article"),
        (3, "exact", "official figures"),
    }
    (est,) = result.tables.rows["casualty_estimates"]
    assert (est["low"], est["high"], est["open_ended"], est["n_claims"]) == (3, 12, True, 2)


def _ignored_by_git(names: list[str]) -> set[str]:
    """The dist/ files git does not track (the binary exports, see .gitignore)."""
    result = subprocess.run(
        ["git", "check-ignore", "--stdin"],
        cwd=ROOT,
        input="\n".join(f"dist/{n}" for n in names),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        pytest.skip(f"not a git checkout: {result.stderr.strip()}")
    return {line.removeprefix("dist/") for line in result.stdout.splitlines()}


def test_two_builds_write_binary_exports_identically(mini_raw, tmp_path):
    build(mini_raw, tmp_path / "a")
    build(mini_raw, tmp_path / "b")
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert {"soviet-bloc-revolts.sqlite", "events.parquet", "codebook.md"} <= names
    for name in sorted(names):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_committed_dist_equals_a_fresh_build(tmp_path):
    build(ROOT / "raw", tmp_path / "dist")
    fresh = snapshot(tmp_path / "dist")
    ignored = _ignored_by_git(sorted(fresh))
    assert {n.rsplit(".", 1)[-1] for n in ignored} == {"parquet", "sqlite"}
    fresh = {k: v for k, v in fresh.items() if k not in ignored}
    committed = {k: v for k, v in snapshot(ROOT / "dist").items() if k in fresh}
    assert set(committed) == set(fresh), "dist/ lacks files a fresh build writes: run `pipeline build`"
    stale = sorted(k for k in fresh if fresh[k] != committed[k])
    assert not stale, f"dist/ is stale in {stale}: run `pipeline build` and commit dist/"


def test_failed_build_leaves_no_staging_folder(mini_raw, tmp_path):
    (mini_raw / "annotations" / "mini-news.yaml").write_text("spans: [", encoding="utf-8")
    with pytest.raises(BuildFailed):
        build(mini_raw, tmp_path / "dist")
    assert not any(p.name.startswith(".dist.tmp") for p in tmp_path.iterdir())
    assert not (tmp_path / "dist").exists()


def _fingerprint(folder: Path) -> dict[str, tuple]:
    """Path -> (sha256, mtime_ns, mode) of everything below folder, folders included."""
    import hashlib

    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.stat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(folder))] = (digest, st.st_mtime_ns, st.st_mode)
    return out


def test_raw_is_never_modified_by_a_build_good_or_bad(mini_raw, tmp_path):
    before = _fingerprint(mini_raw)
    build(mini_raw, tmp_path / "dist")
    assert _fingerprint(mini_raw) == before
    (mini_raw / "annotations" / "mini-news.yaml").write_text("spans: [", encoding="utf-8")
    before = _fingerprint(mini_raw)
    with contextlib.suppress(BuildFailed):
        build(mini_raw, tmp_path / "dist")
    assert _fingerprint(mini_raw) == before
