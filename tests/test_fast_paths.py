"""The fast paths give what the general code gives: EDTF bounds, YAML, cell checks and CSV lines."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.read import yamlfast, yamlfile
from pipeline.rows.tables import _library_bounds, edtf_bounds
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
        for a, b in zip(fast, slow, strict=False):
            _same(a, b)


def _fast(text):
    return yamlfast.parse(text, yamlfile.YDict, yamlfile._resolve_plain, yamlfile._CONSTRUCTOR)


def test_fast_yaml_readers_equal_pyyaml(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    generated = generate.generate(tmp_path / "gen", 400, seed=3)
    paths = [
        p for folder in (ROOT / "raw", FIXTURES / "mini" / "raw", generated) for p in sorted(folder.rglob("*.yaml"))
    ]
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


# Documents at the edge of the quick reader's subset, each with what it must do: read it exactly
# as PyYAML does ("agree") or leave it to PyYAML ("decline", with the construct that is outside).
AGREE = [
    "a: 1\nb: no\nc: yes\nd: true\ne: ~\nf: null\ng: 1.5\nh: 0x1F\ni: 1_000\nj: 1:30\nk: .inf\n",
    "a: 1962-06-02\nb: '1962'\nc: \"1962\"\nd: it''s\ne: 'it''s'\n",
    "a:\n  b:\n    c: x\n  d:\ne: y\n",
    'a:\n  - 1\n  -  2\n  - x: 1\n    y: 2\n  - "q"\n',
    "a: b # comment\nc: \"d\" # comment\ne: 'f'  # c\ng: h#i\n",
    'a: "back\\\\slash"\n',
    'a: "q\\"uote\\n\\t\\u00e9\\u263A"\n',
    "  a: 1\n  b: 2\n",
    "a: café “Ünïon” 😀\nb: 'Łódź: x'\n",
    "a: x:y\nb: http://example.org/a#b\n",
]
DECLINE = {
    "a:\n- 1\n- 2\n": "a sequence at its key's column",
    'a: "x"#no\n': "text after a closing quote",
    "a: b: c\n": "': ' inside a plain value",
    "a: x\n  continued\n": "a plain value over two lines",
    "a: |\n  block\n": "a block scalar",
    "a: [1, 2]\n": "a flow sequence",
    "a: {b: 1}\n": "a flow mapping",
    "a: &x 1\nb: *x\n": "an anchor and an alias",
    "a: !!str 1\n": "a tag",
    "a: 1\na: 2\n": "a duplicate key (PyYAML reports it with both lines)",
    "- 1\n- 2\n": "a sequence at the top",
    "---\na: 1\n": "a document marker",
    'a: "multi\n  line"\n': "a quoted value over two lines",
    "a:\tb\n": "a tab",
    "a: 'x'\r\n": "a carriage return",
    "? a\n: b\n": "an explicit key",
    "a:\n  - - 1\n": "a sequence in a sequence",
    "true: 1\nnull: 2\n1: 3\n": "keys that are not text",
    "a: -5\nb: -x\nc: - x\n": "a plain value starting with '-'",
    'a: "\\x41\\/\\ud83d\\ude00"\n': "escapes JSON does not share, surrogates",
    "a: x\n b: y\n": "a key indented under a scalar",
    "a:\n  b: 1\n c: 2\n": "indentation that matches no open mapping",
    "# only a comment\n": "no mapping at all",
    "": "an empty document",
    "<<: {a: 1}\n": "a merge key with a flow mapping",
    "a: 'unterminated\n": "an unterminated quote",
}


def _pyyaml(text):
    loader = yamlfile._LineLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


@pytest.mark.parametrize("text", AGREE)
def test_quick_reader_reads_its_subset_as_pyyaml_does(text):
    fast = _fast(text)
    assert fast is not None, "the quick reader declined a document of its subset"
    _same(fast, _pyyaml(text))


@pytest.mark.parametrize("text", sorted(DECLINE))
def test_quick_reader_declines_what_lies_outside_its_subset(text):
    assert _fast(text) is None, f"the quick reader read a document with {DECLINE[text]}"


def test_merge_keys_still_work(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("a:\n  <<: {x: 1}\n  y: 2\n", encoding="utf-8")
    data, problems = yamlfile.load_yaml(path, "m.yaml")
    assert not problems and data == {"a": {"x": 1, "y": 2}}


# Documents inside the subset: block mappings and indented sequences, identifier keys, and
# scalars of every kind the quick reader resolves itself. It must read every one of them.
_SUBSET_KEYS = ["a", "b", "span_id", "quote", "count", "x_1", "Event_type"]
_SUBSET_SCALARS = [
    "x",
    "ev-00040",
    "1962",
    "0",
    "1.5",
    "1e3",
    ".inf",
    "~",
    "null",
    "true",
    "True",
    "false",
    "no",
    "yes",
    "on",
    "off",
    "0x1F",
    "1_000",
    "1:30",
    "x#c",
    "x # c",
    "x:y",
    "http://example.org/a#b",
    "café “Ünïon” 😀",
    "Łódź",
    "a b  c",
    '"q"',
    '"q" # c',
    '"a\\"b"',
    '"\\u00e9\\t"',
    '"back\\\\slash"',
    "''",
    "'s'",
    "'it''s'",
    "'Łódź: x'",
    '""',
]

# A `- value` item with ': ' inside, even quoted, is left to PyYAML (it could start a mapping).
_SUBSET_ITEMS = [s for s in _SUBSET_SCALARS if ": " not in s]


@st.composite
def _subset_value(draw, indent: int, depth: int):
    kind = draw(st.sampled_from(["scalar", "scalar", "mapping", "sequence"] if depth < 4 else ["scalar"]))
    if kind == "scalar":
        return " " + draw(st.sampled_from(_SUBSET_SCALARS)), None
    if kind == "mapping":
        return "", draw(_subset_mapping(indent + 2, depth + 1))
    items = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            items.append(" " * (indent + 2) + "- " + draw(st.sampled_from(_SUBSET_ITEMS)))
        else:
            body = draw(_subset_mapping(indent + 4, depth + 1)).split("\n")
            items.append(" " * (indent + 2) + "- " + body[0].lstrip(" "))
            items.extend(body[1:])
    return "", "\n".join(items)


@st.composite
def _subset_mapping(draw, indent: int = 0, depth: int = 0):
    keys = draw(st.lists(st.sampled_from(_SUBSET_KEYS), min_size=1, max_size=4, unique=True))
    lines = []
    for key in keys:
        inline, block = draw(_subset_value(indent, depth))
        lines.append(" " * indent + key + ":" + inline)
        if block:
            lines.append(block)
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["", " " * indent + "# note"])))
    return "\n".join(lines)


@settings(deadline=None, max_examples=300)
@given(_subset_mapping())
def test_quick_reader_reads_every_document_of_its_subset(text):
    text += "\n"
    fast = _fast(text)
    assert fast is not None, "the quick reader declined a document of its subset"
    slow = _pyyaml(text)
    _same(fast, slow)
    _same(_fast(text), slow)  # again, now from the remembered scalars


# Pieces of lines, most inside the quick reader's subset and some just outside it.
_KEY_PIECES = ["a", "b", "span_id", "count", "true", "null", "yes", "1", "x_1", "no"]
_VALUE_PIECES = [
    "",
    "x",
    "ev-00040",
    "1962",
    "-5",
    "0x1F",
    "1.5",
    "1e3",
    ".inf",
    "~",
    "null",
    "true",
    "True",
    "no",
    "yes",
    "on",
    "1962-06-02",
    "1:30",
    "<<",
    "=",
    "x # c",
    "x#c",
    '"q"',
    '"q" # c',
    '"a\\"b"',
    '"\\u00e9"',
    "'s'",
    "'it''s'",
    "'",
    '"',
    "[1]",
    "{a: 1}",
    "&a x",
    "*a",
    "!!str 1",
    "a: b",
    "x:",
    "- x",
    "café 😀",
    "|",
    ">-",
    "@x",
    "%x",
    "`x",
]


@st.composite
def _document(draw):
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        indent = " " * draw(st.sampled_from([0, 0, 2, 4, 6, 1, 3]))
        kind = draw(st.sampled_from(["key", "key", "dash-key", "dash", "blank", "comment"]))
        key, value = draw(st.sampled_from(_KEY_PIECES)), draw(st.sampled_from(_VALUE_PIECES))
        sep = ": " + value if value else ":"
        lines.append(
            {
                "key": f"{indent}{key}{sep}",
                "dash-key": f"{indent}- {key}{sep}",
                "dash": f"{indent}- {value}",
                "blank": "",
                "comment": f"{indent}# note",
            }[kind]
        )
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(deadline=None, max_examples=400)
@given(_document())
def test_quick_reader_never_reads_a_line_mix_differently_from_pyyaml(text):
    # Mostly outside the subset: what the quick reader does read, it must read as PyYAML does.
    fast = _fast(text)
    if fast is not None:
        slow = _pyyaml(text)
        _same(fast, slow)
        _same(_fast(text), slow)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x",
        "ev-1",
        "bench-000001-s0000",
        "1962",
        "0o17",
        "-1",
        "+1",
        ".5",
        "~",
        "null",
        "Null",
        "NULL",
        "true",
        "FALSE",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Y",
        "=",
        "<<",
        "_x",
        "Ünïon",
        "😀",
        "1:30",
        "!x",
        "&x",
        "*x",
    ],
)
def test_plain_scalars_resolve_as_pyyaml_resolves_them(value):
    import yaml

    expected = yaml.resolver.BaseResolver.resolve(yamlfile._RESOLVER, yaml.ScalarNode, value, (True, False))
    assert yamlfile._resolve_plain(value) == expected


# ---- cell checks: `check_cells` judges clean tables a column at a time, else as `_Checker` does ----


def _partition_tables(raw):
    from pipeline.metadata import load_metadata
    from pipeline.read.annotations import Corpus, annotation_paths, read_annotation_file, read_sources
    from pipeline.rows.tables import partition_tables

    meta = load_metadata(ROOT / "datapackage.json")
    corpus = Corpus()
    read_sources(raw, meta, corpus)
    out = []
    for path in annotation_paths(raw, corpus.problems):
        part = Corpus(sources=corpus.sources, broken_sources=corpus.broken_sources)
        read_annotation_file(path, raw, meta, part)
        out.append(partition_tables(part, meta))
    return meta, out


@pytest.fixture(scope="module")
def generated_tables(tmp_path_factory):
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    raw = generate.generate(tmp_path_factory.mktemp("cells"), 600, seed=5)
    meta, parts = _partition_tables(raw)
    _, mini = _partition_tables(FIXTURES / "mini" / "raw")
    return meta, parts + mini


def _slow_check_cells(tables, meta):
    from pipeline.validate.checks import _Checker

    problems = []
    for name, schema in meta.tables.items():
        if tables.rows.get(name) and not schema.derived_from:
            _Checker(schema, tables, problems).check_cells()
    return problems


def _typed(rows):
    return [[(k, type(v).__name__, v) for k, v in row.items()] for row in rows]


def test_built_tables_take_the_column_check(generated_tables):
    from pipeline.validate.checks import _clean

    meta, parts = generated_tables
    for tables in parts:
        for name, rows in tables.rows.items():
            assert _clean(meta[name], rows), name


# Values an annotator's mistakes (or YAML's typing) can put into a cell.
_ODD_VALUES = [
    None,
    "",
    " ",
    "x",
    "=1+1",
    "+x",
    "-x",
    "@x",
    "\tx",
    "\rx",
    "a\n-b",
    "a\r\nb",
    "killed",
    "Killed",
    "exact",
    "strike",
    "Bad Id",
    "ok-id",
    "q1",
    "Q42",
    "1962-06-02",
    "1962-13-45",
    "1962",
    "2020-02-30",
    "x" * 501,
    "x" * 33,
    "\x00",
    "a\ud800",
    "http://example.org/a",
    "ftp://x",
    "https://",
    0,
    1,
    -1,
    5,
    17765,
    True,
    False,
    1.5,
    [1],
    {"a": 1},
    "12",
    "-3",
]


@pytest.mark.parametrize("seed", range(60))
def test_check_cells_finds_what_the_cell_by_cell_check_finds(generated_tables, seed):
    import copy
    import random

    from pipeline.validate.checks import check_cells

    meta, parts = generated_tables
    rng = random.Random(seed)
    tables = copy.deepcopy(rng.choice(parts))
    for _ in range(rng.choice([0, 1, 1, 2, 5])):
        name = rng.choice([n for n, rows in tables.rows.items() if rows])
        row = rng.choice(tables.rows[name])
        column = rng.choice(list(row))
        row[column] = rng.choice(_ODD_VALUES)
        if rng.random() < 0.1:
            row["extra"] = "x"  # a key no column has
    slow = copy.deepcopy(tables)
    assert check_cells(tables, meta) == _slow_check_cells(slow, meta)
    for name in tables.rows:
        assert _typed(tables.rows[name]) == _typed(slow.rows[name])


def test_the_column_check_never_passes_what_the_cell_check_refuses(generated_tables):
    import copy
    import itertools

    from pipeline.rows.tables import Tables
    from pipeline.validate.checks import _clean

    meta, parts = generated_tables
    seen = {True: 0, False: 0}
    for name in ("spans", "events", "actors", "event_actors", "event_mentions", "casualties", "demands"):
        rows = next(t.rows[name] for t in parts if t.rows.get(name))
        for column, value, index in itertools.product(meta[name].field_names, _ODD_VALUES, (0, -1)):
            broken = [dict(r) for r in rows]
            broken[index][column] = value
            tables = Tables(rows={name: copy.deepcopy(broken)}, origins={name: [None] * len(broken)})
            problems = _slow_check_cells(tables, meta)
            clean = _clean(meta[name], broken)
            seen[clean] += 1
            if clean:
                assert not problems and _typed(tables.rows[name]) == _typed(broken), (name, column, value)
    assert seen[True] and seen[False]


# ---- CSV lines: a column at a time through csv.writer, as `_csv_lines_per_cell` writes them ----

_CSV_VALUES = [
    None,
    "",
    "x",
    "a,b",
    'say "no"',
    "two\nlines",
    "cr\rhere",
    "crlf\r\n",
    " lead",
    "café 😀",
    0,
    -7,
    12345678901234567890,
    True,
    False,
    1.5,
    1e100,
    float("nan"),
]


@settings(deadline=None, max_examples=300)
@given(
    st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from(_CSV_VALUES)), max_size=6),
    st.sampled_from([["a"], ["a", "b"], ["c", "a", "b"], []]),
)
def test_csv_lines_equal_the_cell_by_cell_writer(rows, columns):
    from pipeline.write.package import _csv_lines_per_cell, csv_lines

    assert csv_lines(rows, columns) == _csv_lines_per_cell(rows, columns, [])


@pytest.mark.parametrize(
    "values", [["=x"], ["ok", "@x"], ["ok", "\tx"], ["\x00"], ["ok", "a\ud800"], [""], ["ok", 1], ["ok", None]]
)
def test_the_column_check_refuses_any_bad_text_value(values):
    from pipeline.metadata import TableSchema
    from pipeline.validate.checks import _clean

    schema = TableSchema(
        "notes", "notes.csv", {"fields": [{"name": "note", "type": "string", "constraints": {"required": True}}]}
    )
    assert _clean(schema, [{"note": "fine"}])
    assert not _clean(schema, [{"note": v} for v in values])


def test_column_values_are_taken_once_and_forgotten_when_a_table_changes():
    from pipeline.validate.checks import _ColumnValues

    rows, other = [{"id": "a"}, {"id": "b"}, {}], [{"id": "a"}]
    values = _ColumnValues()
    first = values.of(rows, "id")
    assert first == {"a", "b", None} and values.of(rows, "id") is first
    rows[0]["id"] = "c"  # as check_cells normalises a value
    kept = values.of(other, "id")
    values.forget(rows)
    assert values.of(rows, "id") == {"c", "b", None} and values.of(other, "id") is kept
