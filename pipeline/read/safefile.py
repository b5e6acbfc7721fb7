"""Bounded reads of input files: regular files only, kind and size checked before a byte is read.

A FIFO among the inputs would block a read forever, a device (/dev/zero, /dev/urandom) or a
sparse file of terabytes would fill memory. So the kind and size are checked from `stat` first,
the file is opened without blocking and checked again through its descriptor (it may have been
swapped meanwhile), and at most `limit + 1` bytes are read, whatever the size claimed.
"""

from __future__ import annotations

import os
import stat

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class NotAFile(OSError):
    """The path is not a regular file (its kind in `kind`), or it is larger than the limit (`too_large`)."""

    def __init__(self, kind: str = "", too_large: bool = False):
        self.kind = kind
        self.too_large = too_large
        super().__init__(f"is {kind}, not a regular file" if kind else "is too large")


def kind_of(mode: int) -> str:
    """What a file of this mode is, for messages ('' for a regular file)."""
    if stat.S_ISREG(mode):
        return ""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_file(path, limit: int) -> int:
    """The size of path if it is a regular file of at most limit bytes; raises NotAFile or OSError."""
    info = os.stat(path)
    kind = kind_of(info.st_mode)
    if kind:
        raise NotAFile(kind)
    if info.st_size > limit:
        raise NotAFile(too_large=True)
    return info.st_size


def read_bounded(path, limit: int) -> bytes:
    """The bytes of a regular file of at most limit bytes; raises NotAFile (wrong kind, too large) or OSError."""
    check_file(path, limit)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        kind = kind_of(os.fstat(fd).st_mode)
        if kind:
            raise NotAFile(kind)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise NotAFile(too_large=True)
    return b"".join(chunks)
