"""The fast paths give what the general code gives: EDTF bounds and YAML construction."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import yamlfast, yamlfile
from pipeline.tables import _library_bounds, edtf_bounds
from tests.conftest import FIXTURES, ROOT

_day = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))


@st.composite
def _simple_edtf(draw):
    d = draw(_day)
    form = draw(st.sampled_from(["%Y", "%Y-%m", "%Y-%m-%d"]))
    return d.strftime(form) + draw(st.sampled_from(["", "~", "?", "%"]))


@settings(deadline=None, max_examples=150)  # the library parses slowly; that is why the fast path exists
@given(st.one_of(_simple_edtf(), st.tuples(_simple_edtf(), _simple_edtf()).map("/".join)))
def test_fast_edtf_bounds_equal_the_library(value):
    edtf_bounds.cache_clear()
    try:
        expected = _library_bounds(value)
    except ValueError:
        expected = "invalid"
    try:
        got = edtf_bounds(value)
    except ValueError:
        got = "invalid"
    assert got == expected


def _slow(path):
    """The document as PyYAML's constructors build it, through `_construct_mapping`."""
    loader = yamlfile._LineLoader(path.read_text(encoding="utf-8"))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _same(fast, slow):
    assert fast == slow
    assert type(fast) is type(slow)  # == alone takes 1 for True and 1.0 for 1
    if isinstance(fast, dict):
        assert (fast.line, fast.key_lines) == (slow.line, slow.key_lines)
        for key in fast:
            _same(fast[key], slow[key])
    elif isinstance(fast, list):
        for a, b in zip(fast, slow):
            _same(a, b)


def _fast(text):
    return yamlfast.parse(text, yamlfile.YDict, yamlfile._resolve_plain, yamlfile._CONSTRUCTOR)


def test_fast_yaml_readers_equal_pyyaml(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    generated = generate.generate(tmp_path / "gen", 400, seed=3)
    paths = [p for folder in (ROOT / "raw", FIXTURES / "mini" / "raw", generated) for p in sorted(folder.rglob("*.yaml"))]
    for path in paths:
        fast = _fast(path.read_text(encoding="utf-8"))
        # Hand-written files may use block scalars (note: >-) and go to PyYAML; generated ones not.
        if fast is None:
            assert generated not in path.parents, f"{path} is outside the quick reader's subset"
        else:
            _same(fast, _slow(path))
        data, problems = yamlfile.load_yaml(path, path.name)
        assert not problems
        _same(data, _slow(path))


# Documents at the edge of the quick reader's subset: it must read them as PyYAML does, or decline.
EDGES = [
    "a: 1\nb: no\nc: yes\nd: true\ne: ~\nf: null\ng: 1.5\nh: 0x1F\ni: 1_000\nj: 1:30\nk: .inf\n",
    "a: 1962-06-02\nb: '1962'\nc: \"1962\"\nd: it''s\ne: 'it''s'\n",
    "a:\n  b:\n    c: x\n  d:\ne: y\n",
    "a:\n- 1\n- 2\n", "a:\n  - 1\n  -  2\n  - x: 1\n    y: 2\n  - \"q\"\n",
    "a: b # comment\nc: \"d\" # comment\ne: 'f'  # c\ng: h#i\n",
    "a: \"x\"#no\n", "a: b: c\n", "a: x\n  continued\n", "a: |\n  block\n", "a: [1, 2]\n", "a: {b: 1}\n",
    "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: 1\na: 2\n", "- 1\n- 2\n", "---\na: 1\n", "a: \"multi\n  line\"\n",
    "a:\tb\n", "a: 'x'\r\n", "? a\n: b\n", "a:\n  - - 1\n", "true: 1\nnull: 2\n1: 3\n", "a: -5\nb: -x\nc: - x\n",
    "a: \"back\\\\slash\"\n", "a: \"q\\\"uote\\n\\t\\u00e9\\u263A\"\n", "a: \"\\x41\\/\\ud83d\\ude00\"\n", "a: x\n b: y\n", "  a: 1\n  b: 2\n", "a:\n  b: 1\n c: 2\n", "# only a comment\n", "",
    "a: café “Ünïon” 😀\nb: 'Łódź: x'\n", "a: x:y\nb: http://example.org/a#b\n", "<<: {a: 1}\n", "a: 'unterminated\n",
]


@pytest.mark.parametrize("text", EDGES)
def test_quick_reader_agrees_or_declines(text, tmp_path):
    fast = _fast(text)
    if fast is None:
        return
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    _same(fast, _slow(path))


def test_merge_keys_still_work(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("a:\n  <<: {x: 1}\n  y: 2\n", encoding="utf-8")
    data, problems = yamlfile.load_yaml(path, "m.yaml")
    assert not problems and data == {"a": {"x": 1, "y": 2}}


# Pieces of lines, most inside the quick reader's subset and some just outside it.
_KEY_PIECES = ["a", "b", "span_id", "count", "true", "null", "yes", "1", "x_1", "no"]
_VALUE_PIECES = [
    "", "x", "ev-00040", "1962", "-5", "0x1F", "1.5", "1e3", ".inf", "~", "null", "true", "True", "no", "yes", "on",
    "1962-06-02", "1:30", "<<", "=", "x # c", "x#c", '"q"', '"q" # c', '"a\\"b"', '"\\u00e9"', "'s'", "'it''s'", "'",
    '"', "[1]", "{a: 1}", "&a x", "*a", "!!str 1", "a: b", "x:", "- x", "café 😀", "|", ">-", "@x", "%x", "`x",
]


@st.composite
def _document(draw):
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        indent = " " * draw(st.sampled_from([0, 0, 2, 4, 6, 1, 3]))
        kind = draw(st.sampled_from(["key", "key", "dash-key", "dash", "blank", "comment"]))
        key, value = draw(st.sampled_from(_KEY_PIECES)), draw(st.sampled_from(_VALUE_PIECES))
        sep = ": " + value if value else ":"
        lines.append({"key": f"{indent}{key}{sep}", "dash-key": f"{indent}- {key}{sep}", "dash": f"{indent}- {value}",
                      "blank": "", "comment": f"{indent}# note"}[kind])
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(deadline=None, max_examples=400)
@given(_document())
def test_quick_reader_agrees_with_pyyaml_or_declines(text):
    fast = _fast(text)
    if fast is None:
        return
    loader = yamlfile._LineLoader(text)
    try:
        slow = loader.get_single_data()
    finally:
        loader.dispose()
    _same(fast, slow)
    _same(_fast(text), slow)  # again, now from the remembered scalars


@pytest.mark.parametrize("value", [
    "", "x", "ev-1", "bench-000001-s0000", "1962", "0o17", "-1", "+1", ".5", "~", "null", "Null", "NULL", "true",
    "FALSE", "yes", "no", "on", "off", "y", "n", "Y", "=", "<<", "_x", "Ünïon", "😀", "1:30", "!x", "&x", "*x",
])
def test_plain_scalars_resolve_as_pyyaml_resolves_them(value):
    import yaml

    expected = yaml.resolver.BaseResolver.resolve(yamlfile._RESOLVER, yaml.ScalarNode, value, (True, False))
    assert yamlfile._resolve_plain(value) == expected
