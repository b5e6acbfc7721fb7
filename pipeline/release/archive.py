"""Release archives: writes deterministic zip files and reads them back safely, checking SHA256SUMS.

Input: files as name -> bytes (writing) or the path of an archive (reading). Output: zip bytes
with fixed timestamps, permissions and member order; or a `ReleaseArchive` whose members passed
the safety checks (no absolute or `..` paths, no links, limits on count, size and compression
ratio) and match SHA256SUMS, else `ArchiveInvalid` naming every problem found.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipeline.errors import PipelineError, Problem
from pipeline.read.safefile import kind_of

SUMS_FILENAME = "SHA256SUMS"
_SUMS_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


@dataclass(frozen=True)
class Limits:
    """What a release archive may contain at most; far above any real release of this dataset."""

    max_members: int = 10_000
    max_total_bytes: int = 2 << 30
    max_ratio: float = 200.0
    # Small members cannot blow up memory whatever their ratio (a few zeros compress 1000:1).
    ratio_floor_bytes: int = 1 << 20


class ArchiveInvalid(PipelineError):
    """The archive is unsafe, corrupted or does not match its checksums; `problems` lists why."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = str(path)
        self.problems = sorted(problems)
        n = len(self.problems)
        lines = [str(p) for p in self.problems]
        lines.append(f"{self.path}: verification failed: {n} problem{'s' if n != 1 else ''}")
        super().__init__("\n".join(lines))


@dataclass
class ReleaseArchive:
    """The verified members of an archive, by name."""

    path: Path
    files: dict[str, bytes] = field(default_factory=dict)


# ---- writing -----------------------------------------------------------------------------------


def sha256sums(files: dict[str, bytes]) -> bytes:
    """A SHA256SUMS file in the format `sha256sum -c` reads: `<hex>  <name>`, sorted by name."""
    return "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files)).encode("utf-8")


def zip_bytes(files: dict[str, bytes], date_time: tuple[int, int, int, int, int, int]) -> bytes:
    """Zip the files deterministically: sorted names, one fixed timestamp, mode 0644, no extra fields."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the mode below is honoured by unzip
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()


# ---- reading -----------------------------------------------------------------------------------


def _unsafe_name(name: str) -> str | None:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if "\\" in name:
        return "has a backslash in its path"
    if ".." in PurePosixPath(name).parts:
        return "has '..' in its path (it would be written outside the folder it is unpacked into)"
    if "\x00" in name:
        return "has a NUL byte in its path"
    return None


def _member_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    why = _unsafe_name(info.filename)
    if why:
        return why
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        return "is a symbolic link"
    # Many zip writers store permission bits only (no file type); those are plain files.
    if info.create_system == 3 and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "is not a regular file"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return f"expands {info.file_size / max(info.compress_size, 1):.0f} times (limit {limits.max_ratio:.0f}): a zip bomb?"
    return None


def declared_members(path: Path) -> int | None:
    """The member count the zip's end record declares (0xFFFF and up for zip64), or None if it has none."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            tail_len = min(size, 22 + 0xFFFF)
            fh.seek(size - tail_len)
            tail = fh.read(tail_len)
    except OSError:
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    (count,) = struct.unpack("<H", tail[at + 10 : at + 12])
    return count


def _corrupt(path: Path, message: str) -> ArchiveInvalid:
    return ArchiveInvalid(path, [Problem(file=str(path), code="archive-corrupt", message=message)])


def _read_members(path: Path, zf: zipfile.ZipFile, limits: Limits) -> dict[str, bytes]:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveInvalid(
            path, [Problem(str(path), 0, "archive-limit", f"has {len(infos)} members (limit {limits.max_members})")]
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        raise ArchiveInvalid(
            path,
            [Problem(str(path), 0, "archive-limit", f"would unpack to {total} bytes (limit {limits.max_total_bytes})")],
        )
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for info in infos:
        why = _member_problem(info, limits)
        # `./a`, `a`, `A` and the NFC and NFD spellings of a name unpack to one file on some systems.
        same = unicodedata.normalize(
            "NFC", "/".join(p for p in info.filename.split("/") if p not in ("", "."))
        ).casefold()
        if same in seen:
            why = (
                "occurs twice"
                if seen[same] == info.filename
                else f"is the same file as '{seen[same]}' once unpacked (case, './' or Unicode normalisation)"
            )
        seen.setdefault(same, info.filename)
        if why:
            problems.append(
                Problem(str(path), 0, "archive-unsafe", f"member '{info.filename}' {why}; refusing the archive")
            )
    if problems:
        raise ArchiveInvalid(path, problems)
    files = {}
    for info in infos:
        if info.is_dir():
            continue
        try:
            # zipfile never returns more than the declared file_size and checks the CRC at the end,
            # so the limits checked above on the declared sizes hold while reading.
            files[info.filename] = zf.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
            problems.append(Problem(str(path), 0, "archive-corrupt", f"member '{info.filename}' is corrupted: {exc}"))
    if problems:
        raise ArchiveInvalid(path, problems)
    return files


def check_sums(path: Path | str, files: dict[str, bytes]) -> list[Problem]:
    """Problems of the files against the SHA256SUMS among them (every other file must be listed)."""
    where = str(path)
    if SUMS_FILENAME not in files:
        return [Problem(where, 0, "checksum-missing", f"has no {SUMS_FILENAME}; it is not a release archive")]
    problems, listed = [], {}
    for n, line in enumerate(files[SUMS_FILENAME].decode("utf-8", "replace").splitlines(), 1):
        m = _SUMS_LINE.match(line)
        if not m:
            problems.append(
                Problem(
                    where, 0, "checksum-format", f"{SUMS_FILENAME} line {n} is not '<sha256>  <file>': {line[:80]!r}"
                )
            )
            continue
        listed[m.group(2)] = m.group(1)
    for name, expected in sorted(listed.items()):
        if name not in files:
            problems.append(
                Problem(where, 0, "checksum-missing-file", f"{name}: listed in {SUMS_FILENAME} but not in the archive")
            )
            continue
        actual = hashlib.sha256(files[name]).hexdigest()
        if actual != expected:
            problems.append(
                Problem(
                    where,
                    0,
                    "checksum-mismatch",
                    f"{name}: checksum mismatch: {SUMS_FILENAME} says {expected[:12]}..., the file has {actual[:12]}...",
                )
            )
    for name in sorted(set(files) - set(listed) - {SUMS_FILENAME}):
        problems.append(Problem(where, 0, "checksum-unlisted", f"{name}: not listed in {SUMS_FILENAME}"))
    return problems


def read_archive(path: Path, limits: Limits = Limits(), verify: bool = True) -> ReleaseArchive:
    """Open a release archive safely and (by default) verify its SHA256SUMS; raise ArchiveInvalid."""
    path = Path(path)
    try:
        kind = kind_of(os.stat(path).st_mode)
    except OSError:
        raise PipelineError(f"{path}: no such archive") from None
    if kind:
        raise PipelineError(f"{path}: is {kind}, not an archive; give the path of a release .zip file")
    declared = declared_members(path)
    if declared is not None and declared > limits.max_members:
        # Counted from the end record before zipfile reads the whole central directory into memory.
        raise ArchiveInvalid(
            path, [Problem(str(path), 0, "archive-limit", f"has {declared} members (limit {limits.max_members})")]
        )
    try:
        with zipfile.ZipFile(path) as zf:
            files = _read_members(path, zf, limits)
    except zipfile.BadZipFile as exc:
        raise _corrupt(path, f"not a zip archive or corrupted: {exc}") from exc
    except OSError as exc:
        raise PipelineError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if verify:
        problems = check_sums(path, files)
        if problems:
            raise ArchiveInvalid(path, problems)
    return ReleaseArchive(path=path, files=files)
