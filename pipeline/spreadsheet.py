"""Spreadsheet formula safety: which text cells a spreadsheet would run, and safe span context.

Input: cell values (strings). Output: a verdict per cell, or context trimmed so that it is safe.
Spreadsheets (Excel, LibreOffice, Google Sheets) read a CSV cell that starts with `=`, `+`, `-`
or `@` as a formula, and some strip a leading tab or carriage return first. Escaping such cells
(the usual leading `'`) would change the data for every program that reads the CSV correctly,
so we never escape: hand-written text must not start that way (the build refuses it and says
what to change), and the context the build computes (span prefix/suffix) is trimmed instead.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_risk(value: object) -> str | None:
    """The character that would make a spreadsheet run `value` as a formula, or None.

    >>> formula_risk("=SUM(A1)"), formula_risk("1962-06-02"), formula_risk("a-b")
    ('=', None, None)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return value[0]
    return None


def describe(char: str) -> str:
    """How to name a formula character in a message."""
    return {"\t": "a tab", "\r": "a carriage return"}.get(char, f"'{char}'")


# Characters no published text cell holds (`pipeline.validate.checks` refuses them): C0 controls
# but tab, line feed and carriage return, DEL, C1 controls, and the bidirectional embeddings,
# overrides and isolates U+202A-202E and U+2066-2069 ("Trojan Source": shown in another order
# than stored).
CONTROL_CHARACTERS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_context(prefix: str, suffix: str) -> tuple[str, str]:
    """The context cut from a source without its control characters: the prefix keeps what follows
    the last one (it still ends right before the quote), the suffix what precedes the first (it
    still begins right after it).

    >>> clean_context("a\u202eb ", " c\x07d")
    ('b ', ' c')
    """
    if CONTROL_CHARACTERS.search(prefix):
        prefix = CONTROL_CHARACTERS.split(prefix)[-1]
    if bad := CONTROL_CHARACTERS.search(suffix):
        suffix = suffix[: bad.start()]
    return prefix, suffix


def safe_prefix(prefix: str) -> str:
    """Drop leading characters until the prefix is safe; what is left still ends right before the quote.

    >>> safe_prefix("-- 12 killed, "), safe_prefix(" - 12 killed, ")
    (' 12 killed, ', ' - 12 killed, ')
    """
    return prefix.lstrip("".join(FORMULA_START))


def safe_suffix(suffix: str) -> str:
    """The suffix, or "" when it starts like a formula.

    A suffix must begin right after the quote, so it cannot be trimmed at its start; it is
    optional in a W3C TextQuoteSelector and `start`/`end` still place the span exactly.

    >>> safe_suffix("; officials said"), safe_suffix("-the strike")
    ('; officials said', '')
    """
    return "" if formula_risk(suffix) else suffix
