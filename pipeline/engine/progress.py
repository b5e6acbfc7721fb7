"""Progress of a long build on a terminal: stage name and count on stderr, rewritten in place.

Input: calls from `build.py` as stages start and advance. Output: one status line on stderr,
only when stderr is a terminal and not in CI (CI set), so logs and pipes stay clean.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

# Redraw at most this often: a terminal write per file would cost more than the work itself.
INTERVAL = 0.2


class Progress:
    """`stage(name, total)` starts a stage, `advance(n)` counts, `close()` clears the line."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)()) and not os.environ.get("CI")
        self.enabled = enabled
        self.name, self.total, self.done, self.last = "", 0, 0, 0.0

    def stage(self, name: str, total: int = 0) -> None:
        self.name, self.total, self.done = name, total, 0
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw(force=self.done == self.total)

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < INTERVAL:
            return
        self.last = now
        count = f" {self.done}/{self.total}" if self.total else ""
        self.stream.write(f"\r\033[K{self.name}{count}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
