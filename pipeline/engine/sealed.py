"""Cached output files sealed with the SHA-256 of their bytes, so that a changed or cut copy is never published.

The Parquet files, the last SQLite database and the corpus-wide RDF kept in `.cache/` are
copied into dist/ as they are. Each gets a sidecar `<name>.sha256`; a file whose sidecar is
missing or disagrees is treated as absent, and the build makes it again.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

SUFFIX = ".sha256"


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a regular file's bytes (links are not followed); None if it is not one or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        # One build checks the SQLite cache twice (before and after the rows are checked): the
        # same unchanged file is hashed once. The change time too: a write that puts the old
        # size and modification time back (utime) cannot put it back.
        seen = (str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if seen in _HASHED:
            return _HASHED[seen]
        digest = hashlib.sha256()
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        except OSError:
            return None
    if len(_HASHED) > 1000:
        _HASHED.clear()
    _HASHED[seen] = digest.hexdigest()
    return _HASHED[seen]


_HASHED: dict[tuple, str] = {}


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def seal(path: Path, digest: str | None = None) -> None:
    """Record the SHA-256 of path's bytes next to it; an unwritable cache only costs time."""
    digest = digest or file_sha256(path)
    if digest is None:
        return
    side = sidecar(path)
    tmp = side.with_name(f".{side.name}.{os.getpid()}")
    try:
        tmp.write_text(digest + "\n", encoding="ascii")
        os.replace(tmp, side)
    except OSError:
        pass


def intact(path: Path) -> bool:
    """True if path is a regular file whose bytes match its recorded SHA-256."""
    try:
        recorded = sidecar(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return len(recorded) == 64 and file_sha256(path) == recorded
