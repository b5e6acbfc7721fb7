"""The pipeline's exceptions and the problem records that validation collects."""

from __future__ import annotations

from dataclasses import dataclass


class PipelineError(Exception):
    """Any failure the CLI reports as a one-line `Error: ...` and exit code 1."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can.

    `code` is a stable slug (e.g. `quote-not-found`) that tests and tools can match on.
    """

    file: str = ""
    line: int = 0
    code: str = ""
    message: str = ""
    table: str = ""
    row: str = ""
    field: str = ""

    def __str__(self) -> str:
        return _one_line(self._text())

    def _text(self) -> str:
        where = self.file
        if where and self.line:
            where = f"{where}:{self.line}"
        if not where and self.table:
            where = self.table + (f" {self.row}" if self.row else "")
        return f"{where}: {self.message}" if where else self.message


# Control characters a value may carry into a message (a trailing newline in an id, a bidi
# override): shown escaped, so that every problem stays one line and shows what is really there.
_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_ESCAPES.update({c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]})


def _one_line(text: str) -> str:
    return text.translate(_ESCAPES)


class BuildFailed(PipelineError):
    """The input has problems; `problems` lists all of them, sorted by place."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (not p.file, p.file, p.line, p.table, p.row, p.message))
        lines = [str(p) for p in self.problems]
        n = len(self.problems)
        lines.append(f"build failed: {n} problem{'s' if n != 1 else ''}; dist/ was not changed")
        super().__init__("\n".join(lines))


class AnchorError(PipelineError):
    """A quote could not be placed in its source text."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


class ShapesViolated(PipelineError):
    """The linked-data export does not conform to the SHACL shapes; `problems` lists every violation."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        n = len(problems)
        lines = [str(p) for p in problems]
        lines.append(f"validate failed: {n} SHACL violation{'s' if n != 1 else ''}")
        super().__init__("\n".join(lines))
