"""The cache's entry-file format: a partition as plain JSON plus its fragments, sealed by a SHA-256.

A cache folder may come from anywhere (a restored CI cache, a shared disk), so nothing read
from it may run code (no pickle) and nothing in it is trusted: the file starts with a magic
line, the key of the inputs it was built from, and the SHA-256 of everything after the header.
Any difference (a planted file, a flipped byte, a file cut short or built from other inputs)
makes the entry unreadable, and the build rebuilds that partition.

    MAGIC  key (64 hex)  sha256 (64 hex)  json length (20 digits) "\n"  json  fragments...
"""

from __future__ import annotations

import hashlib
import json
import os

MAGIC = b"pipeline-partition/2 "
_KEY_LEN = 64
_LEN_DIGITS = 20
HEADER_SIZE = len(MAGIC) + _KEY_LEN + 1 + 64 + 1 + _LEN_DIGITS + 1
# A partition is the rows of one annotation file (at most 8 MiB of YAML): its JSON stays far below this.
MAX_JSON_BYTES = 1 << 30
NO_KEY = "0" * _KEY_LEN


class EntryError(ValueError):
    """The entry file is not one this code wrote for these inputs, or was changed since."""


def _reject(value):
    # Only plain JSON values are stored; anything else (a tuple, a date) means the rows are not ours.
    raise TypeError(f"{type(value).__name__} is not stored in the cache")


def encode(fields: dict) -> bytes:
    """The JSON of a partition's fields (plain values only; raises TypeError otherwise)."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=_reject, allow_nan=False).encode(
        "utf-8"
    )


def header(key: str | None, data: bytes, fragments: list[bytes]) -> bytes:
    """The header sealing data and fragments, built from the inputs of `key`."""
    key = key or NO_KEY
    if len(key) != _KEY_LEN or len(data) >= 10**_LEN_DIGITS:
        raise ValueError("bad key or size")
    digest = hashlib.sha256(data)
    for fragment in fragments:
        digest.update(fragment)
    return MAGIC + key.encode("ascii") + b" " + digest.hexdigest().encode("ascii") + b" " + b"%020d\n" % len(data)


def read_header(fh) -> tuple[str, str, int]:
    """(key, sha256, json length) from the open entry file; raises EntryError."""
    head = fh.read(HEADER_SIZE)
    if len(head) != HEADER_SIZE or not head.startswith(MAGIC) or not head.endswith(b"\n"):
        raise EntryError("not an entry file")
    rest = head[len(MAGIC) : -1].split(b" ")
    if len(rest) != 3 or not rest[2].isdigit():
        raise EntryError("bad header")
    try:
        key, digest = rest[0].decode("ascii"), rest[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise EntryError("bad header") from exc
    length = int(rest[2])
    if length > MAX_JSON_BYTES:
        raise EntryError("too large")
    return key, digest, length


def read_sealed(path: str, key: str | None) -> tuple[dict, int, int]:
    """The fields stored at path, the offset of its fragments and their total length.

    Raises OSError or EntryError unless the file is a regular file, was built from the inputs of
    `key` (if given), and its content matches its checksum.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        import stat

        if not stat.S_ISREG(info.st_mode):
            raise EntryError("not a regular file")
        stored_key, digest, length = read_header(fh)
        if key is not None and stored_key != key:
            raise EntryError("built from other inputs")
        if info.st_size < HEADER_SIZE + length:
            raise EntryError("cut short")
        data = fh.read(length)
        check = hashlib.sha256(data)
        remaining = info.st_size - HEADER_SIZE - length
        for block in iter(lambda: fh.read(1 << 20), b""):
            check.update(block)
            remaining -= len(block)
        if remaining != 0 or check.hexdigest() != digest:
            raise EntryError("content does not match its checksum")
    try:
        fields = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise EntryError("not JSON") from exc
    if not isinstance(fields, dict):
        raise EntryError("not a partition")
    return fields, HEADER_SIZE + length, info.st_size - HEADER_SIZE - length
