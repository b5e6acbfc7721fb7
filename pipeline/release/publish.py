"""Cuts a versioned release: the current build becomes `<dataset-name>-<version>.zip` with checksums.

Input: a built dist/ folder, the root datapackage.json (whose `version` and `created` name the
release), CHANGELOG.md, CITATION.cff and the previous release archive. Output: the archive
(every file of dist/, CITATION.cff, CHANGELOG.md, croissant.json, datasette.json and SHA256SUMS, zipped deterministically), a
`.sha256` file next to it, and CHANGELOG.md with the new entry that `pipeline diff` against the
previous release produced. A released version is never overwritten.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.release.archive import SUMS_FILENAME, read_archive, sha256sums, zip_bytes
from pipeline.release.catalogue import release_files
from pipeline.release.citation import CITATION_FILENAME, citation_cff
from pipeline.release.diff import BUMPS, PackageDiff, Snapshot, diff_snapshots, load_snapshot
from pipeline.rows.summary import COMPUTED_DESCRIPTOR_KEYS

CHANGELOG_FILENAME = "CHANGELOG.md"
CHANGELOG_HEADER = """# Changelog

Every release of the dataset, newest first. Each entry is written by `pipeline release` from
`pipeline diff` against the previous release; never edit entries by hand. Versions follow
semantic versioning for data: major when a table or column of the published contract changes,
minor when rows are added or changed, patch for corrections of typos and metadata.
"""
_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_ENTRY = re.compile(r"^## \[([^\]]+)\]", re.MULTILINE)
# Notes written by hand for the next release (an IRI change, say), under "## Unreleased" above
# the entries; `pipeline release` moves them into the new entry.
_UNRELEASED = re.compile(r"^## \[?Unreleased\]?[ \t]*\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL | re.IGNORECASE)
_FINGERPRINT = re.compile(r"<!-- datapackage\.json sha256: ([0-9a-f]{64}) -->")
HOW_TO_BUMP = (
    'set "version" (and "created", the release date) in datapackage.json, run `pipeline citation` '
    "and `pipeline build`, then `pipeline release`"
)


def _real_date(date: str) -> bool:
    import datetime as dt

    try:
        # Zip timestamps start in 1980: an earlier date cannot be written into the archive.
        return dt.date.fromisoformat(date).year >= 1980
    except ValueError:
        return False


def parse_version(version: str) -> tuple[int, int, int]:
    m = _VERSION.fullmatch(str(version))
    if not m:
        raise PipelineError(f"version {str(version)!r} in datapackage.json is not MAJOR.MINOR.PATCH (e.g. 1.2.0)")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def bumped(version: str, kind: str) -> str:
    major, minor, patch = parse_version(version)
    return {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0", "patch": f"{major}.{minor}.{patch + 1}"}[
        kind
    ]


def bump_kind(old: str, new: str) -> str:
    """Which part of the version went up from old to new (new must be greater)."""
    o, n = parse_version(old), parse_version(new)
    if n <= o:
        raise PipelineError(f"version {new} is not greater than the previous release {old}: {HOW_TO_BUMP}")
    return "major" if n[0] != o[0] else "minor" if n[1] != o[1] else "patch"


def _bump_advice(version: str) -> str:
    return ", ".join(f"{bumped(version, k)} ({k})" for k in reversed(BUMPS))


def changelog_entries(text: str) -> dict[str, str]:
    """The entries of a changelog by version, each with its heading."""
    starts = [(m.group(1), m.start()) for m in _ENTRY.finditer(text)]
    return {v: text[s : starts[i + 1][1] if i + 1 < len(starts) else len(text)] for i, (v, s) in enumerate(starts)}


def _row_counts(snap: Snapshot) -> list[tuple[str, int]]:
    out = []
    for res in snap.descriptor["resources"]:
        if res.get("path", "").endswith(".csv"):
            out.append(
                (res["name"], sum(1 for _ in csv.reader(io.StringIO(snap.read(res["path"]).decode("utf-8")))) - 1)
            )
    return out


def take_unreleased(changelog: str) -> tuple[str, str]:
    r"""The changelog without its "## Unreleased" section, and that section's notes ("" if none).

    >>> take_unreleased("# Changelog\n\n## Unreleased\n\n- New IRIs.\n\n## [0.1.0] - 2026-11-23\n")
    ('# Changelog\n\n## [0.1.0] - 2026-11-23\n', '- New IRIs.')
    """
    m = _UNRELEASED.search(changelog)
    if m is None:
        return changelog, ""
    return changelog[: m.start()] + changelog[m.end() :], m.group(1).strip("\n")


def changelog_entry(
    version: str, date: str, fingerprint: str, snap: Snapshot, diff: PackageDiff | None, notes: str = ""
) -> str:
    lines = [f"## [{version}] - {date}", "", f"<!-- datapackage.json sha256: {fingerprint} -->", ""]
    if notes:
        lines += [notes, ""]
    if diff is None:
        counts = _row_counts(snap)
        lines.append(
            f"First release: {sum(n for _, n in counts)} rows in {len(counts)} tables ("
            + ", ".join(f"{name} {n}" for name, n in counts)
            + ")."
        )
    else:
        lines += [
            f"Changes since {diff.old.version} (`pipeline diff`; a {bump_kind(diff.old.version, version)} release):",
            "",
            "```text",
            diff.text().rstrip("\n"),
            "```",
        ]
    return "\n".join(lines) + "\n\n"


def _insert_entry(changelog: str, entry: str) -> str:
    m = _ENTRY.search(changelog)
    if m:
        return changelog[: m.start()] + entry + changelog[m.start() :]
    return changelog.rstrip("\n") + "\n\n" + entry


@dataclass
class ReleaseResult:
    archive: Path
    sha256: str
    version: str
    files: list[str]
    entry: str
    diff: PackageDiff | None


def _dist_files(dist_dir: Path) -> dict[str, bytes]:
    """Every file of the build, whatever produced it (tables, exports, linked data, codebook)."""
    files = {}
    for path in sorted(dist_dir.rglob("*")):
        rel = path.relative_to(dist_dir).as_posix()
        if path.is_symlink():
            raise PipelineError(f"{path}: dist/ holds a symbolic link; a release packs regular files only")
        if path.is_file():
            files[rel] = path.read_bytes()
    return files


def _check_dist(dist: Snapshot, files: dict[str, bytes], root_descriptor: dict, dist_dir: Path) -> None:
    skip = {"resources", *COMPUTED_DESCRIPTOR_KEYS}
    own = {k: v for k, v in root_descriptor.items() if k not in skip}
    built = {k: v for k, v in dist.descriptor.items() if k not in skip}
    if own != built:
        changed = sorted(k for k in own.keys() | built.keys() if own.get(k) != built.get(k))
        raise PipelineError(
            f"{dist_dir} was built from other metadata than datapackage.json ({', '.join(changed)} differ): "
            "run `pipeline build` first"
        )
    for res in dist.descriptor["resources"]:
        data = files.get(res.get("path", ""))
        if data is None:
            raise PipelineError(f"{dist_dir}/{res.get('path')} is missing: run `pipeline build`")
        if res.get("hash") and res["hash"] != "sha256:" + hashlib.sha256(data).hexdigest():
            raise PipelineError(f"{dist_dir}/{res['path']} was changed after the build: run `pipeline build`")


def _write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet; a concurrent release of the same version loses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a release is for everyone
        os.link(tmp, path)
    except FileExistsError as exc:
        raise PipelineError(f"{path} already exists") from exc
    finally:
        os.unlink(tmp)


def _replace(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


# Tests set this to a step name ("archive", "sums", "changelog"): the release then kills itself
# (SIGKILL, no clean-up) right after that step, so that a test can rerun it from there. Unset in real runs.
KILL_ENV = "PIPELINE_TEST_KILL_RELEASE_AFTER"


def _kill_for_tests(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_stale_temporaries(archive: Path) -> None:
    """Delete what a killed release left half-written: `.<name>.*` temporaries of its own files only."""
    if not archive.parent.is_dir():
        return
    for name in (archive.name, archive.name + ".sha256"):
        for stale in archive.parent.glob(f".{glob_escape(name)}.*"):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def _release_complete(archive: Path, changelog_path: Path, version: str) -> bool:
    """True if an earlier release of version finished: archive, its .sha256 and the changelog entry all there."""
    sums = archive.with_name(archive.name + ".sha256")
    try:
        recorded = sums.read_text(encoding="utf-8").split("  ")[0]
        entries = changelog_entries(changelog_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False
    return version in entries and recorded == _file_sha256(archive)


def release(
    dist_dir: Path,
    out_dir: Path,
    datapackage: Path,
    changelog_path: Path,
    citation_path: Path,
    previous: Path | None = None,
) -> ReleaseResult:
    """Cut the release of the build in dist_dir into out_dir and add its entry to the changelog."""
    try:
        root_descriptor = json.loads(datapackage.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PipelineError(f"{datapackage}: cannot read the dataset descriptor: {exc}") from exc
    if not (dist_dir / "datapackage.json").is_file():
        raise PipelineError(f"{dist_dir} holds no build: run `pipeline build` first")
    dist = load_snapshot(dist_dir)
    files = _dist_files(dist_dir)
    _check_dist(dist, files, root_descriptor, dist_dir)
    name, version = dist.descriptor.get("name"), str(dist.descriptor.get("version"))
    parse_version(version)
    date = str(dist.descriptor.get("created", ""))[:10]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) or not _real_date(date):
        raise PipelineError(
            f'datapackage.json needs "created" (the release date, e.g. 2026-11-23T00:00:00Z), a real date from 1980 on; it has {dist.descriptor.get("created")!r}'
        )
    archive = out_dir / f"{name}-{version}.zip"
    _remove_stale_temporaries(archive)
    if archive.exists() and _release_complete(archive, changelog_path, version):
        raise PipelineError(
            f"{archive} already exists: version {version} is released and is never overwritten; "
            f"for a new release choose {_bump_advice(version)}: {HOW_TO_BUMP}"
        )

    cff = citation_cff(dist.descriptor)
    if not citation_path.is_file() or citation_path.read_text(encoding="utf-8") != cff:
        raise PipelineError(f"{citation_path} disagrees with datapackage.json: run `pipeline citation` and commit it")

    changelog = changelog_path.read_text(encoding="utf-8") if changelog_path.is_file() else CHANGELOG_HEADER
    entries = changelog_entries(changelog)
    fingerprint = hashlib.sha256(files["datapackage.json"]).hexdigest()
    diff = None
    if version in entries:
        # Re-cutting a release from a fresh clone: the committed entry says which data it was.
        m = _FINGERPRINT.search(entries[version])
        if not m or m.group(1) != fingerprint:
            raise PipelineError(
                f"{changelog_path.name} has an entry for {version} made from other data: "
                f"choose {_bump_advice(version)}: {HOW_TO_BUMP}"
            )
        entry = entries[version]
    else:
        released = sorted(entries, key=parse_version)
        if released and parse_version(released[-1]) >= parse_version(version):
            raise PipelineError(
                f"version {version} is not greater than the last release {released[-1]} "
                f"in {changelog_path.name}: choose {_bump_advice(released[-1])}: {HOW_TO_BUMP}"
            )
        if previous is None and released:
            previous = out_dir / f"{name}-{released[-1]}.zip"
            if not previous.is_file():
                raise PipelineError(
                    f"the previous release {released[-1]} is not in {out_dir}: put its archive there "
                    "or pass --previous path/to/archive.zip, so that the changelog can say what changed"
                )
        if previous is not None:
            old = load_snapshot(previous)
            if released and old.version != released[-1]:
                raise PipelineError(
                    f"{previous} is version {old.version}, but the last release in {changelog_path.name} is {released[-1]}"
                )
            diff = diff_snapshots(old, dist)
            kind = bump_kind(old.version, version)
            needed = diff.required_bump()
            if needed is None:
                raise PipelineError(f"nothing changed since {old.version}: there is nothing to release")
            if BUMPS.index(kind) < BUMPS.index(needed):
                raise PipelineError(
                    f"{version} is a {kind} release, but the changes since {old.version} need at least "
                    f"a {needed} release (see `pipeline diff`): use {bumped(old.version, needed)}; {HOW_TO_BUMP}"
                )
        changelog, notes = take_unreleased(changelog)
        entry = changelog_entry(version, date, fingerprint, dist, diff, notes)
        changelog = _insert_entry(changelog, entry)

    extra = {CITATION_FILENAME: cff.encode("utf-8"), CHANGELOG_FILENAME: changelog.encode("utf-8")}
    extra.update(release_files(dist.descriptor, files))  # croissant.json, datasette.json, the workbook
    clash = sorted(set(files) & (set(extra) | {SUMS_FILENAME}))
    if clash:
        raise PipelineError(f"{dist_dir} holds {', '.join(clash)}, which the release writes itself")
    files.update(extra)
    files[SUMS_FILENAME] = sha256sums(files)
    y, mo, d = (int(x) for x in date.split("-"))
    data = zip_bytes(files, (y, mo, d, 0, 0, 0))
    digest = hashlib.sha256(data).hexdigest()
    resumed = archive.exists()
    if resumed and _file_sha256(archive) != digest:
        # A release killed half-way left this archive; only the very same bytes may be completed.
        raise PipelineError(
            f"{archive} already exists with other contents than this build gives: version {version} "
            f"is released and is never overwritten; for a new release choose {_bump_advice(version)}: {HOW_TO_BUMP}"
        )
    if not resumed:
        _write_new(archive, data)
    _kill_for_tests("archive")
    try:
        read_archive(archive)
        _replace(archive.with_name(archive.name + ".sha256"), f"{digest}  {archive.name}\n".encode())
        _kill_for_tests("sums")
        if not changelog_path.is_file() or changelog_path.read_text(encoding="utf-8") != changelog:
            _replace(changelog_path, changelog.encode("utf-8"))
        _kill_for_tests("changelog")
    except BaseException:
        if not resumed:
            archive.unlink(missing_ok=True)
        raise
    return ReleaseResult(archive=archive, sha256=digest, version=version, files=sorted(files), entry=entry, diff=diff)
