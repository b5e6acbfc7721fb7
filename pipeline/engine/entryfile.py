"""The cache's entry-file format: a partition as plain JSON plus its fragments, sealed by SHA-256 digests.

A cache folder may come from anywhere (a restored CI cache, a shared disk), so nothing read
from it may run code (no pickle) and nothing in it is trusted: the file starts with a magic
line, the key of the inputs it was built from, the SHA-256 of the JSON and that of the fragments
after it. Any difference (a planted file, a flipped byte, a file cut short or built from other
inputs) makes the entry unreadable, and the build rebuilds that partition. The JSON has its own
digest so that a reader of the rows alone (the SQLite child) need not hash the fragments, which
are most of the file.

    MAGIC  key (64 hex)  json sha256 (64 hex)  fragments sha256 (64 hex)  json length (20 digits) "\n"  json  fragments...
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

MAGIC = b"pipeline-partition/3 "
_KEY_LEN = 64
_DIGEST_LEN = 64
_LEN_DIGITS = 20
HEADER_SIZE = len(MAGIC) + _KEY_LEN + 1 + _DIGEST_LEN + 1 + _DIGEST_LEN + 1 + _LEN_DIGITS + 1
# A partition is the rows of one annotation file (at most 8 MiB of YAML): its JSON stays far below this.
MAX_JSON_BYTES = 1 << 30
NO_KEY = "0" * _KEY_LEN


class EntryError(ValueError):
    """The entry file is not one this code wrote for these inputs, or was changed since."""


def _reject(value):
    # Only plain JSON values are stored; anything else (a tuple, a date) means the rows are not ours.
    raise TypeError(f"{type(value).__name__} is not stored in the cache")


def encode(fields: dict) -> bytes:
    """The JSON of a partition's fields (plain values only; raises TypeError otherwise).

    ASCII with escapes: both encoding and decoding it measured faster than UTF-8 text.
    """
    return json.dumps(fields, separators=(",", ":"), default=_reject, allow_nan=False).encode("ascii")


def _digest(parts) -> bytes:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest().encode("ascii")


def header(key: str | None, data: bytes, fragments: list[bytes]) -> bytes:
    """The header sealing data and fragments, built from the inputs of `key`."""
    key = key or NO_KEY
    if len(key) != _KEY_LEN or len(data) >= 10**_LEN_DIGITS:
        raise ValueError("bad key or size")
    return b"%s%s %s %s %020d\n" % (MAGIC, key.encode("ascii"), _digest([data]), _digest(fragments), len(data))


def write_sealed(path: str, key: str | None, data: bytes, fragments: list[bytes]) -> None:
    """Write the entry of data and fragments to path (a new file; raises OSError)."""
    pieces = [header(key, data, fragments), data, *fragments]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
    try:
        # One system call for the whole entry (writev writes regular files whole but on errors).
        todo = sum(map(len, pieces))
        done = os.writev(fd, pieces)
        while done < todo:
            done += os.write(fd, b"".join(pieces)[done:])
    finally:
        os.close(fd)


def seal_in_place(fd: int, key: str | None, length: int) -> None:
    """Write the header of an entry whose JSON (`length` bytes, no fragments) is at HEADER_SIZE of fd already.

    For JSON written a piece at a time (the record of the last build): the pieces are hashed by
    reading them back, which the page cache makes cheap, instead of holding them all.
    """
    digest = hashlib.sha256()
    offset, end = HEADER_SIZE, HEADER_SIZE + length
    while offset < end:
        block = os.pread(fd, min(1 << 20, end - offset), offset)
        if not block:
            raise OSError("the entry is shorter than written")
        digest.update(block)
        offset += len(block)
    if len(key or NO_KEY) != _KEY_LEN or length >= 10**_LEN_DIGITS:
        raise ValueError("bad key or size")
    head = b"%s%s %s %s %020d\n" % (
        MAGIC,
        (key or NO_KEY).encode("ascii"),
        digest.hexdigest().encode("ascii"),
        _digest([]),
        length,
    )
    os.pwrite(fd, head, 0)


def _parse_header(head: bytes) -> tuple[str, bytes, bytes, int]:
    """(key, json sha256, fragments sha256, json length) from the header bytes; raises EntryError."""
    if len(head) != HEADER_SIZE or not head.startswith(MAGIC) or not head.endswith(b"\n"):
        raise EntryError("not an entry file")
    rest = head[len(MAGIC) : -1].split(b" ")
    if len(rest) != 4 or not rest[3].isdigit():
        raise EntryError("bad header")
    try:
        key = rest[0].decode("ascii")
    except UnicodeDecodeError as exc:
        raise EntryError("bad header") from exc
    length = int(rest[3])
    if length > MAX_JSON_BYTES:
        raise EntryError("too large")
    return key, rest[1], rest[2], length


def read_verified(path: str, key: str | None, fragments: bool = True) -> tuple[bytes, int, int]:
    """The JSON stored at path, the offset of its fragments and their total length.

    Raises OSError or EntryError unless the file is a regular file, was built from the inputs of
    `key` (if given), and its JSON and (with `fragments`) its fragments match their checksums.
    Reading and hashing let other threads run: this is the part of reading an entry worth a thread.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise EntryError("not a regular file")
        stored_key, json_digest, fragments_digest, length = _parse_header(fh.read(HEADER_SIZE))
        if key is not None and stored_key != key:
            raise EntryError("built from other inputs")
        end = info.st_size - HEADER_SIZE
        if end < length:
            raise EntryError("cut short")
        # The rest in one read if the fragments are checked too: they are most of the file.
        size = end if fragments else length
        body = fh.read(size)
        if len(body) != size:
            raise EntryError("cut short")
    view = memoryview(body)
    if _digest([view[:length]]) != json_digest or (fragments and _digest([view[length:]]) != fragments_digest):
        raise EntryError("content does not match its checksum")
    return (body if size == length else view[:length].tobytes()), HEADER_SIZE + length, end - length


def decode(data: bytes) -> dict:
    """The fields in an entry's JSON (`read_verified`); raises EntryError."""
    try:
        fields = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise EntryError("not JSON") from exc
    if not isinstance(fields, dict):
        raise EntryError("not a partition")
    return fields


def read_sealed(path: str, key: str | None, fragments: bool = True) -> tuple[dict, int, int]:
    """The fields stored at path, the offset of its fragments and their total length (raises as `read_verified`)."""
    data, offset, length = read_verified(path, key, fragments)
    return decode(data), offset, length
