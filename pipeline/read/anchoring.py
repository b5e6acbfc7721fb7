"""Places a quote in its source text: finds its offsets, or checks the offsets it was given.

Offsets are Unicode code points, 0-based, end-exclusive (W3C TextPositionSelector); the quote
with its prefix and suffix is the TextQuoteSelector. Nothing here reads files.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from pipeline.errors import AnchorError

CONTEXT_CHARS = 32

_LOOKALIKES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "\u2026": "...",
    }
)


def _show(s: str, limit: int = 60) -> str:
    s = s.replace("\n", "\\n")
    return s if len(s) <= limit else s[: limit - 3] + "..."


def find_all(text: str, quote: str) -> list[int]:
    """Every start offset of `quote` in `text` (overlapping ones included)."""
    hits, i = [], text.find(quote)
    while i >= 0:
        hits.append(i)
        i = text.find(quote, i + 1)
    return hits


def nearest_match(text: str, quote: str) -> tuple[int, str]:
    """The stretch of `text` most like `quote`, as (offset, text), for error messages."""
    norm_text = unicodedata.normalize("NFC", text).translate(_LOOKALIKES).casefold()
    norm_quote = unicodedata.normalize("NFC", quote).translate(_LOOKALIKES).casefold()
    i = norm_text.find(norm_quote)
    if i >= 0 and len(norm_text) == len(text):
        return i, text[i : i + len(quote)]
    # Vote for the start offset implied by every short n-gram the quote shares with the text.
    n = 4 if len(quote) >= 8 else 2
    votes: Counter[int] = Counter()
    index: dict[str, list[int]] = {}
    for i in range(len(text) - n + 1):
        index.setdefault(text[i : i + n], []).append(i)
    for j in range(len(quote) - n + 1):
        for p in index.get(quote[j : j + n], ()):
            votes[p - j] += 1
    if not votes:
        return -1, ""
    start = max(0, min(votes, key=lambda s: (-votes[s], s)))
    return start, text[start : start + len(quote)]


def anchor(
    text: str,
    quote: str,
    prefix: str | None = None,
    suffix: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> tuple[int, int]:
    """Return (start, end) of `quote` in `text`, or raise AnchorError saying what is wrong.

    Given offsets must hold the quote exactly. Without offsets the quote must occur exactly
    once, or exactly once right after `prefix` / right before `suffix`.

    >>> anchor("a strike, a strike", "strike", prefix="a strike, a ")
    (12, 18)
    """
    if not quote:
        raise AnchorError("empty-quote", "the quote is empty; copy the exact words from the source")
    if start is not None or end is not None:
        if start is None or end is None:
            raise AnchorError("offsets-incomplete", "give both start and end, or neither")
        if start < 0 or end > len(text):
            raise AnchorError(
                "offsets-out-of-range",
                f"offsets {start}-{end} lie outside the text (0-{len(text)}); fix them or remove them and let the build find the quote",
            )
        if end <= start:
            raise AnchorError("offsets-reversed", f"end {end} is not after start {start}; swap or fix them")
        if text[start:end] != quote:
            hits = find_all(text, quote)
            where = f"; the quote is at {hits[0]}-{hits[0] + len(quote)}" if len(hits) == 1 else ""
            raise AnchorError(
                "offsets-mismatch",
                f"offsets {start}-{end} do not hold the quote: the text there reads '{_show(text[start:end])}'{where}; fix the offsets or remove them",
            )
        return start, end
    hits = find_all(text, quote)
    if prefix is not None:
        hits = [h for h in hits if text.endswith(prefix, 0, h)]  # without copying text[:h]
    if suffix is not None:
        hits = [h for h in hits if text.startswith(suffix, h + len(quote))]
    if len(hits) == 1:
        return hits[0], hits[0] + len(quote)
    if not hits:
        if prefix is not None or suffix is not None:
            bare = find_all(text, quote)
            if bare:
                raise AnchorError(
                    "context-not-found",
                    f"the quote occurs {len(bare)} time(s) but never with the given prefix/suffix; copy the words right before it as prefix",
                )
        at, near = nearest_match(text, quote)
        hint = f"; nearest match at {at}: '{_show(near)}'" if at >= 0 else ""
        raise AnchorError(
            "quote-not-found",
            f"quote '{_show(quote)}' not found in the source{hint}; copy the words exactly from the source text",
        )
    raise AnchorError(
        "quote-ambiguous",
        f"quote '{_show(quote)}' occurs {len(hits)} times (at {', '.join(map(str, hits[:5]))}); add a prefix with the words right before the one you mean",
    )


def context(text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[str, str]:
    """The prefix and suffix around a span, `chars` code points each."""
    return text[max(0, start - chars) : start], text[end : end + chars]
