"""Tests of placing quotes in texts: unicode, repeated quotes, offset drift, nearest matches."""

import pytest

from pipeline.errors import AnchorError
from pipeline.read.anchoring import anchor, context, find_all, nearest_match

TEXT = "The strike began. Café “Ünïon” 😀 joined the strike.\r\nThe strike ended."


def test_offsets_are_code_points_not_bytes():
    start, end = anchor(TEXT, "😀 joined")
    assert TEXT[start:end] == "😀 joined"
    assert start == TEXT.index("😀")


def test_repeated_quote_needs_a_prefix():
    with pytest.raises(AnchorError) as err:
        anchor(TEXT, "The strike")
    assert err.value.code == "quote-ambiguous"
    assert "occurs 2 times" in str(err.value)
    start, end = anchor(TEXT, "The strike", prefix="\r\n")
    assert TEXT[start - 2 : end] == "\r\nThe strike"


def test_suffix_also_disambiguates():
    start, _ = anchor(TEXT, "The strike", suffix=" began")
    assert start == 0


def test_prefix_that_never_precedes_is_reported():
    with pytest.raises(AnchorError) as err:
        anchor(TEXT, "The strike", prefix="nowhere ")
    assert err.value.code == "context-not-found"


def test_given_offsets_must_hold_the_quote():
    assert anchor(TEXT, "strike", start=4, end=10) == (4, 10)
    with pytest.raises(AnchorError) as err:
        anchor(TEXT, "began", start=12, end=17)  # drifted by one
    assert err.value.code == "offsets-mismatch"
    assert "the quote is at 11-16" in str(err.value)


@pytest.mark.parametrize(
    "start,end,code",
    [
        (-1, 3, "offsets-out-of-range"),
        (0, 10_000, "offsets-out-of-range"),
        (9, 4, "offsets-reversed"),
        (4, None, "offsets-incomplete"),
    ],
)
def test_bad_offsets(start, end, code):
    with pytest.raises(AnchorError) as err:
        anchor(TEXT, "strike", start=start, end=end)
    assert err.value.code == code


def test_missing_quote_names_the_nearest_match():
    with pytest.raises(AnchorError) as err:
        anchor(TEXT, 'Cafe "Union" joined')
    assert err.value.code == "quote-not-found"
    assert "nearest match" in str(err.value)


def test_nearest_match_sees_through_typographic_quotes():
    at, near = nearest_match("said “no” twice", 'said "no"')
    assert (at, near) == (0, "said “no”")


def test_find_all_counts_overlaps():
    assert find_all("aaaa", "aa") == [0, 1, 2]


def test_context_is_clipped_at_the_text_edges():
    assert context("abcdef", 0, 2, chars=3) == ("", "cde")
    assert context("abcdef", 4, 6, chars=3) == ("bcd", "")
