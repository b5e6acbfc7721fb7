"""Stage 3, validate: checks the built tables against their Table Schemas and the contract's rules.

Input: `Tables` and `Metadata`. Output: a list of `Problem`s (empty when valid), each naming the
annotation file and line the bad row came from where it has one, else the table and row key.
Values are normalised in place first (YAML numbers in text columns become text), so that what
is written is exactly what was checked.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import itertools
import operator
import re
from dataclasses import dataclass

from pipeline.errors import Problem
from pipeline.metadata import Metadata, TableSchema
from pipeline.read.yamlfile import Yaml11Number, yaml11_message
from pipeline.rows.tables import Tables
from pipeline.spreadsheet import CONTROL_CHARACTERS, FORMULA_START, describe, formula_risk
from pipeline.types import TYPES, BadValue

_DIGITS = re.compile(r"[0-9]+\Z")
_INVALID = object()
# NUL breaks many CSV readers; lone surrogates (from YAML escapes) cannot be written as UTF-8.
_UNWRITABLE = re.compile("[\x00\ud800-\udfff]")
# Never in a published text cell: C0 controls but tab, line feed and carriage return, DEL, C1
# controls, and the bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069),
# which make a cell display in another order than it is stored ("Trojan Source").
_CONTROL = CONTROL_CHARACTERS
# Tab, line feed and carriage return: only in the columns cut from a source's text, as it has
# them; ids and every hand-written text (names, descriptions, claimants, ...) are one line.
_LINE_BREAKS = re.compile("[\t\n\r]")
_SOURCE_TEXT = {"spans": frozenset({"quote", "prefix", "suffix"})}


def _suggest(value: str, allowed) -> str:
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    if not close:
        close = [
            a for a in map(str, allowed) if str(value).lower().startswith(a.lower()) or a.lower() in str(value).lower()
        ][:1]
    return f"did you mean '{close[0]}'?" if close else "use one of: " + ", ".join(map(str, allowed))


class _Checker:
    """Checks one table's rows; collects problems."""

    def __init__(
        self, schema: TableSchema, tables: Tables, problems: list[Problem], values: _ColumnValues | None = None
    ):
        self.schema = schema
        self.values = values if values is not None else _ColumnValues()
        self.name = schema.name
        # A table without rows (no places in a corpus, say) may be missing from a Tables made by hand.
        self.rows = tables.rows.get(schema.name, [])
        self.origins = tables.origins.get(schema.name, [])
        self.problems = problems
        self.patterns = {
            n: re.compile(c["pattern"]) for n in schema.field_names if "pattern" in (c := schema.constraints(n))
        }

    def key_of(self, row: dict) -> str:
        return ",".join(str(row.get(k)) for k in self.schema.primary_key)

    def add(self, i: int, code: str, field: str, message: str) -> None:
        origin = self.origins[i] if i < len(self.origins) else None
        row = self.rows[i]
        prefix = f"{self.name} '{self.key_of(row)}'"
        if origin is not None:
            self.problems.append(
                Problem(
                    origin.file, origin.line_of(field), code, f"{prefix}: {message}", self.name, self.key_of(row), field
                )
            )
        else:
            self.problems.append(Problem("", 0, code, f"{message}", self.name, self.key_of(row), field))

    def normalise(self, i: int, row: dict, name: str, ftype: str):
        """The value in its column's type, None if empty, or _INVALID (problem reported)."""
        value = row[name]
        if value is None:
            return None
        if value.__class__ is Yaml11Number:
            if ftype in ("string", "date"):
                value = str(value)  # the text as written, not YAML 1.1's number
            elif value.form:
                self.add(i, "yaml11-number", name, yaml11_message(name, value))
                return _INVALID
            else:
                value = value.number  # `1_000`, `+5`: the decimal number written
        if ftype == "string":
            if isinstance(value, (bool, list, dict)):
                self.add(
                    i, "type-error", name, f"{name} must be text, not a {type(value).__name__}; write it in quotes"
                )
                return _INVALID
            if not isinstance(value, str):
                value = str(value)
            if bad := _UNWRITABLE.search(value):
                self.add(
                    i,
                    "bad-character",
                    name,
                    f"{name} contains the character U+{ord(bad.group()):04X} at position {bad.start()}, which cannot be published; remove it",
                )
                return _INVALID
            source_text = name in _SOURCE_TEXT.get(self.name, ())
            # A leading tab or carriage return is reported as a formula risk, and any control
            # character in an id, date or code by its pattern or category, further on.
            bad = _CONTROL.search(value) or (None if source_text else _LINE_BREAKS.search(value))
            if (
                bad
                and not (bad.start() == 0 and formula_risk(value))
                and name not in self.patterns
                and "enum" not in self.schema.constraints(name)
            ):
                self.add(i, "control-character", name, _control_message(name, bad, source_text))
                return _INVALID
        else:
            check = TYPES[ftype].check
            assert check is not None  # only text has no check, and text was handled above
            try:
                value = check(value)
            except BadValue as exc:
                self.add(i, "type-error", name, f"{name} {value!r} {exc}")
                return _INVALID
        row[name] = value
        return value

    def check_cells(self) -> None:
        self.values.forget(self.rows)  # the values are normalised below
        schema = self.schema
        specs = [(n, schema.fields[n]["type"], schema.constraints(n), schema.required(n)) for n in schema.field_names]
        for i, row in enumerate(self.rows):
            for name, ftype, cons, required in specs:
                value = self.normalise(i, row, name, ftype)
                if value is _INVALID:
                    row[name] = None
                    continue
                if value is None or value == "":
                    row[name] = None
                    if required:
                        self.add(i, "missing-value", name, f"{name} is required but missing; add it")
                    continue
                if "enum" in cons and value not in cons["enum"]:
                    self.add(
                        i,
                        "unknown-category",
                        name,
                        f"{name} '{value}' is not a known category; {_suggest(value, cons['enum'])}",
                    )
                if "minimum" in cons and isinstance(value, (int, float)) and value < cons["minimum"]:
                    self.add(
                        i,
                        "below-minimum",
                        name,
                        f"{name} {value} is below the minimum {cons['minimum']}; fix the figure",
                    )
                if "maximum" in cons and isinstance(value, (int, float)) and value > cons["maximum"]:
                    self.add(
                        i,
                        "above-maximum",
                        name,
                        f"{name} {value} is above the maximum {cons['maximum']}; fix the figure",
                    )
                if isinstance(value, str):
                    if "maxLength" in cons and len(value) > cons["maxLength"]:
                        self.add(
                            i,
                            "too-long",
                            name,
                            f"{name} is {len(value)} characters long; at most {cons['maxLength']} allowed",
                        )
                    if "minLength" in cons and len(value) < cons["minLength"]:
                        self.add(i, "too-short", name, f"{name} is shorter than {cons['minLength']} characters")
                    if char := formula_risk(value):
                        self.add(
                            i,
                            "formula-risk",
                            name,
                            f"{name} starts with {describe(char)}, which spreadsheets run as a formula; {_FORMULA_HINT.get(name, _FORMULA_HINT[''])}",
                        )
                    if name in self.patterns and not self.patterns[name].fullmatch(value):
                        self.add(
                            i,
                            "bad-format",
                            name,
                            f"{name} '{value}' does not have the expected form ({_form(name, cons['pattern'])})",
                        )
                    if schema.fields[name].get("format") == "uri" and not _URI.fullmatch(value):
                        self.add(i, "bad-format", name, f"{name} '{value}' is not an http(s) URL")
            lo, hi = row.get("count_min"), row.get("count_max")
            if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
                self.add(i, "count-order", "count_min", f"count_min {lo} is above count_max {hi}; swap them or fix one")
            if (
                self.name == "spans"
                and isinstance(row.get("start"), int)
                and isinstance(row.get("end"), int)
                and row["end"] <= row["start"]
            ):
                self.add(i, "offsets-reversed", "end", f"end {row['end']} is not after start {row['start']}")

    def check_keys(self) -> None:
        pk = self.schema.primary_key
        # One column: its plain values (no 1-tuples) decide it just as well.
        distinct = self.values.of(self.rows, pk[0]) if len(pk) == 1 else set(_distinct(self.rows, pk))
        if len(distinct) == len(self.rows):
            return  # every key distinct: the usual case, without the bookkeeping below
        seen: dict[tuple, int] = {}
        for i, row in enumerate(self.rows):
            key = tuple(row.get(k) for k in pk)
            if None in key:
                continue
            if key in seen:
                first = self.origins[seen[key]]
                where = f" (first at {first.file}:{first.line})" if first else ""
                what = "defined twice" if len(pk) == 1 else "repeated"
                self.add(
                    i,
                    "duplicate-id",
                    pk[0],
                    f"{'/'.join(pk)} '{self.key_of(row)}' is {what}{where}; keep one or rename the other",
                )
            else:
                seen[key] = i


def _control_message(name: str, bad: re.Match, source_text: bool) -> str:
    code = ord(bad.group())
    kind = "bidirectional control" if code >= 0x202A else "control character"
    what = f"{name} contains the {kind} U+{code:04X} at position {bad.start()}"
    if source_text:
        return f"{what}, as the source text does; withhold the quote (withhold_quote: true) or shorten it to leave the character out"
    if code >= 0x202A:
        return f"{what}, which can make the text display in another order than it is stored; remove it"
    return f"{what}; remove it (ids and hand-written texts are one line of printable characters)"


_FORMULA_HINT = {
    "quote": "start the quote after that character (the build finds the new offsets)",
    "": "start the text with a letter, digit or quotation mark instead",
}


def _reference_hint(value, pool: list[str], resource: str) -> str:
    close = difflib.get_close_matches(str(value), pool, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"define it under '{resource}:' in an annotation file, or fix the id"


class _ColumnValues:
    """The distinct values of a table's column, taken once per validation: several checks ask for the same ones.

    Kept by the identity of the table's list of rows; `forget` drops a table's when its cells change.
    """

    def __init__(self) -> None:
        self._sets: dict[tuple[int, str], set] = {}

    def of(self, rows: list[dict], name: str) -> set:
        """The set of the rows' values in column name (None where absent); not to be changed by the caller."""
        key = (id(rows), name)
        found = self._sets.get(key)
        if found is None:
            try:
                found = set(map(operator.itemgetter(name), rows))
            except KeyError:
                found = {row.get(name) for row in rows}
            self._sets[key] = found
        return found

    def forget(self, rows: list[dict]) -> None:
        self._sets = {key: found for key, found in self._sets.items() if key[0] != id(rows)}


def _distinct(rows: list[dict], columns) -> list:
    """Each row's values in `columns` as a tuple (None where absent), in row order."""
    try:
        if len(columns) == 1:
            return [(v,) for v in map(operator.itemgetter(columns[0]), rows)]
        return list(map(operator.itemgetter(*columns), rows))
    except KeyError:  # rows lacking a column: the general way
        return [tuple(row.get(c) for c in columns) for row in rows]


def _form(name: str, pattern: str) -> str:
    if "EDTF" in pattern or "XX" in pattern:
        return "an EDTF date such as 1962-06-02, 1953-07, 1989-07~ or 1962-06-01/1962-06-03"
    if pattern.startswith("^[a-z0-9]+"):
        return "a slug: lower-case letters, digits and single hyphens"
    return f"pattern {pattern}"


def _check_foreign_keys(meta: Metadata, tables: Tables, checkers: dict[str, _Checker]) -> None:
    index: dict[tuple[str, tuple], set] = {}
    for name, schema in meta.tables.items():
        checker = checkers[name]
        for fk in schema.foreign_keys:
            if _resolves(tables, checker.rows, fk, index, checker.values):
                continue  # every reference resolves: the usual case, decided on sets
            known = _keys(tables, fk.resource, fk.reference_fields, index)
            for i, row in enumerate(checker.rows):
                values = tuple(row.get(c) for c in fk.fields)
                if None in values or values in known:
                    continue
                target = fk.resource.removesuffix("s")
                pool = [k[0] for k in known if k and isinstance(k[0], str)]
                checker.add(
                    i,
                    "unknown-reference",
                    fk.fields[0],
                    f"{fk.fields[0]} '{values[0]}' is not a known {target}; {_reference_hint(values[0], pool, fk.resource)}",
                )


def _keys(
    tables: Tables,
    resource: str,
    columns: tuple[str, ...],
    index: dict,
    plain: bool = False,
    values: _ColumnValues | None = None,
) -> set:
    """The distinct values of columns in resource's rows, as tuples (as plain values with `plain` and one column)."""
    key = (resource, columns, plain)
    if key not in index:
        rows = tables.rows.get(resource, [])
        index[key] = (values or _ColumnValues()).of(rows, columns[0]) if plain else set(_distinct(rows, columns))
    return index[key]


def _resolves(tables: Tables, rows: list[dict], fk, index: dict, values: _ColumnValues) -> bool:
    """Whether every reference of rows through fk without an empty part is known (decided on sets)."""
    if len(fk.fields) == 1 and len(fk.reference_fields) == 1:
        unknown = values.of(rows, fk.fields[0]) - _keys(
            tables, fk.resource, fk.reference_fields, index, plain=True, values=values
        )
        return not unknown or unknown == {None}
    known = _keys(tables, fk.resource, fk.reference_fields, index)
    return all(None in v for v in set(_distinct(rows, fk.fields)) - known)


# Tables whose ids name things a reader refers to by id alone; one id must name one thing.
ID_SPACES = (
    ("sources", "source_id"),
    ("spans", "span_id"),
    ("events", "event_id"),
    ("actors", "actor_id"),
    ("places", "place_id"),
)


def _check_overlapping_ids(checkers: dict[str, _Checker]) -> None:
    """Refuse an id used for two kinds of thing (say an event and an actor both `vorkuta-1953`).

    Each table's own duplicates are `check_keys`' business; this is about ids across tables,
    which readers, the codebook and linked-data exports treat as one namespace.
    """
    present = [(t, c) for t, c in ID_SPACES if t in checkers]
    ids = [checkers[t].values.of(checkers[t].rows, c) for t, c in present]
    if not any(a & b for i, a in enumerate(ids) for b in ids[i + 1 :]):
        return  # no id shared by two tables: the usual case, decided on sets of ids
    owner: dict[str, tuple[str, int]] = {}
    for table, id_col in present:
        checker = checkers[table]
        for i, row in enumerate(checker.rows):
            value = row.get(id_col)
            if not isinstance(value, str) or not value:
                continue
            if value in owner and owner[value][0] != table:
                first_table, j = owner[value]
                first = checkers[first_table].origins[j]
                where = f" at {first.file}:{first.line}" if first else ""
                kind = first_table[:-1]
                checker.add(
                    i,
                    "overlapping-id",
                    id_col,
                    f"'{value}' is already the id of a {kind}{where}; one id must name one thing: rename one of them",
                )
            owner.setdefault(value, (table, i))


# A column `<name>_checked_in` says where the external id in column `<name>_id` was checked.
CHECKED_SUFFIX = "_checked_in"


def _check_provenance(checkers: dict[str, _Checker]) -> None:
    """An external id is published only with where it was checked, and a check only with its id."""
    for checker in checkers.values():
        fields = checker.schema.fields
        pairs = [
            (c[: -len(CHECKED_SUFFIX)] + "_id", c)
            for c in fields
            if c.endswith(CHECKED_SUFFIX) and c[: -len(CHECKED_SUFFIX)] + "_id" in fields
        ]
        for id_col, checked_col in pairs:
            for i, row in enumerate(checker.rows):
                has_id, has_check = row.get(id_col) is not None, row.get(checked_col) is not None
                if has_id and not has_check:
                    checker.add(
                        i,
                        "unchecked-id",
                        id_col,
                        f"{id_col} '{row[id_col]}' has no {checked_col}; add the public page (or gazetteer and version) that shows it, or remove the id",
                    )
                elif has_check and not has_id:
                    checker.add(
                        i,
                        "check-without-id",
                        checked_col,
                        f"{checked_col} is given but {id_col} is empty; add the id it checked or remove {checked_col}",
                    )


def _check_reachability(meta: Metadata, tables: Tables, checkers: dict[str, _Checker]) -> None:
    """Every entity (event, actor, ...) must be reachable from at least one span (the contract's rule).

    What reaches an entity table is read from the schemas: every foreign key of a claim table into it.
    """
    for table in meta.claimed_tables:
        (id_col,) = meta[table].primary_key
        reached: set = set()
        for claim_table in meta.claim_tables.values():
            for fk in meta[claim_table].foreign_keys:
                if fk.resource == table and len(fk.fields) == 1:
                    reached |= checkers[claim_table].values.of(tables.rows[claim_table], fk.fields[0])
        checker = checkers[table]
        for i, row in enumerate(checker.rows):
            if row.get(id_col) and row[id_col] not in reached:
                checker.add(
                    i,
                    "unsupported",
                    id_col,
                    f"{id_col} '{row[id_col]}' is not supported by any span; cite it from a span or remove it",
                )


def _check_cells(checker: _Checker) -> None:
    """`checker.check_cells()`, skipped where `_clean` finds the rows clean at C speed."""
    if checker.rows and not _clean(checker.schema, checker.rows):
        checker.check_cells()


def check_cells(tables: Tables, meta: Metadata) -> list[Problem]:
    """The row-local checks (types, categories, constraints) of the tables present in `tables`.

    Rows depend on no other row here, so a partition of the corpus can be checked on its own;
    `validate_tables(..., checked=...)` then skips these tables' cells.
    """
    problems: list[Problem] = []
    for name, schema in meta.tables.items():
        rows = tables.rows.get(name)
        if rows and not schema.derived_from and not _clean(schema, rows):
            _Checker(schema, tables, problems).check_cells()
    return problems


_URI = re.compile(r"^https?://\S+$")  # as _Checker.check_cells matches format "uri"
_NOT_NONE = functools.partial(operator.is_not, None)
# The types a column's values may have for `_clean` to judge it; anything else (text in an
# integer column, a number in a text column, ...) goes to `_Checker`, which converts or reports it.
_CLEAN_TYPES: dict[str, set[type]] = {
    "string": {str},
    "date": {str},
    "integer": {int},
    "boolean": {bool},
    "number": {int, float},
}
# A text value starting like a formula, found in all text values of a table joined by "\n" (see
# `_clean`): a value's first character follows a "\n" (or starts the join).
_FORMULA_AFTER_NEWLINE = re.compile("\n[" + re.escape("".join(FORMULA_START)) + "]")
assert all(len(c) == 1 for c in FORMULA_START), "_FORMULA_AFTER_NEWLINE matches single characters"


@dataclass(frozen=True)
class _ColumnSpec:
    """What `_clean` checks in one column, read from its schema once."""

    name: str
    types: set
    required: bool
    enum: frozenset | None
    minimum: int | float | None  # applies to integers (and booleans, which Python counts as ints) and numbers
    date: bool
    text: bool  # its valid values are str: length, pattern, format and the text scan apply
    max_length: int | None
    min_length: int | None
    pattern: re.Pattern | None
    uri: bool
    maximum: int | float | None = None  # applies to integers (counts, offsets: 2**53 - 1) and numbers (coordinates)
    source_text: bool = False  # cut from a source's text: may hold its tabs and line breaks


_SPECS: dict[int, tuple[TableSchema, list[_ColumnSpec] | None]] = {}


def _column_specs(schema: TableSchema) -> list[_ColumnSpec] | None:
    """The schema's columns for `_clean`, None if a type is not one `_clean` knows; cached."""
    cached = _SPECS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    specs: list[_ColumnSpec] = []
    known = True
    for name in schema.field_names:
        ftype, cons = schema.fields[name]["type"], schema.constraints(name)
        if ftype not in _CLEAN_TYPES:
            known = False
            break
        text = _CLEAN_TYPES[ftype] == {str}
        specs.append(
            _ColumnSpec(
                name,
                _CLEAN_TYPES[ftype],
                schema.required(name),
                frozenset(cons["enum"]) if "enum" in cons else None,
                cons.get("minimum") if ftype in ("integer", "boolean", "number") else None,
                ftype == "date",
                text,
                cons.get("maxLength") if text else None,
                cons.get("minLength") if text else None,
                re.compile(cons["pattern"]) if text and "pattern" in cons else None,
                text and schema.fields[name].get("format") == "uri",
                cons.get("maximum") if ftype in ("integer", "number") else None,
                name in _SOURCE_TEXT.get(schema.name, ()),
            )
        )
    result = specs if known else None
    _SPECS[id(schema)] = (schema, result)
    return result


# Inlined on purpose (one pass of C-level checks per column): this judges every table of every build.
def _clean(schema: TableSchema, rows: list[dict]) -> bool:  # noqa: C901, PLR0911, PLR0912 (hot path, see above)
    """True if `_Checker.check_cells` would find no problem in rows and change none of them.

    The same checks, a column at a time over all rows with C-level builtins (map, set, join)
    instead of a Python call per cell: several times faster. It only ever answers True or "not
    sure"; on False the table goes through `_Checker` as before, which then reports, in the same
    order and words, whatever is wrong. tests/test_fast_paths.py compares both.
    """
    specs = _column_specs(schema)
    if specs is None or set(map(len, rows)) != {len(specs)}:
        return False  # rows with other keys than the columns, or a type we leave to _Checker
    try:
        values = {spec.name: list(map(operator.itemgetter(spec.name), rows)) for spec in specs}
    except KeyError:
        return False
    text_columns: list[list[str]] = []
    one_line_columns: list[list[str]] = []
    for spec in specs:
        column = values[spec.name]
        if None in column:
            if spec.required:
                return False
            column = list(filter(_NOT_NONE, column))
            if not column:
                continue
        if not set(map(type, column)) <= spec.types:
            return False
        if spec.enum is not None and not spec.enum.issuperset(column):
            return False
        if spec.minimum is not None and min(column) < spec.minimum:
            return False
        if spec.maximum is not None and max(column) > spec.maximum:
            return False
        if float in spec.types and any(v != v for v in column):
            return False  # NaN, which _Checker refuses
        if spec.date:
            try:
                for value in set(column):
                    dt.date.fromisoformat(value)
            except ValueError:
                return False
        if spec.text:
            text_columns.append(column)
            if not spec.source_text:
                one_line_columns.append(column)
            if spec.max_length is not None and max(map(len, column)) > spec.max_length:
                return False
            if spec.min_length is not None and min(map(len, column)) < spec.min_length:
                return False
            if spec.pattern is not None and not all(map(spec.pattern.fullmatch, column)):
                return False
            if spec.uri and not all(map(_URI.fullmatch, column)):
                return False
    texts = list(itertools.chain.from_iterable(text_columns))
    if "" in texts:
        return False  # becomes None, and may be missing
    # All text values at once: each value starts the join or a line of it, so no bad value is
    # missed; one with such a line inside it only sends the table the slow way, which judges
    # exactly. Unwritable characters are NUL and lone surrogates (_UNWRITABLE), and UTF-8
    # refuses exactly the surrogates: that is ten times quicker than the regex over the join.
    joined = "\n".join(texts)
    if joined.startswith(FORMULA_START) or _FORMULA_AFTER_NEWLINE.search(joined) or "\x00" in joined:
        return False
    if _CONTROL.search(joined) or "\t" in joined or "\r" in joined:
        return False
    # A line break inside a value is allowed only in the columns cut from a source's text.
    one_line = list(itertools.chain.from_iterable(one_line_columns))
    if one_line and "\n".join(one_line).count("\n") != len(one_line) - 1:
        return False
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    # The row-level checks: count_min <= count_max, and a span's end after its start.
    if (
        "count_min" in values
        and "count_max" in values
        and _ordered(schema, values, "count_min", "count_max", operator.gt)
    ):
        return False
    return not (
        schema.name == "spans"
        and "start" in values
        and "end" in values
        and _ordered(schema, values, "start", "end", operator.ge)
    )


def _ordered(schema: TableSchema, values: dict[str, list], a: str, b: str, wrong) -> bool:
    """Whether some row has integers in columns a and b with wrong(a, b)."""
    if schema.fields[a]["type"] == schema.fields[b]["type"] == "integer":
        # `_clean` saw ints (no bools) or None only: compare the rows that have both at C speed.
        both = (
            [(x, y) for x, y in zip(values[a], values[b], strict=False) if x is not None and y is not None]
            if None in values[a] or None in values[b]
            else zip(values[a], values[b], strict=False)
        )
        return any(itertools.starmap(wrong, both))
    return any(
        isinstance(x, int) and isinstance(y, int) and wrong(x, y) for x, y in zip(values[a], values[b], strict=False)
    )


def validate_tables(
    tables: Tables,
    meta: Metadata,
    partial: bool = False,
    checked: frozenset[str] = frozenset(),
    cell_problems: bool = False,
) -> list[Problem]:
    """Check every table; return all problems found (none means valid).

    `partial` says earlier stages already dropped broken records; then entities that only
    those records supported are not reported again as unsupported. `checked` names tables
    whose cells `check_cells` checked already, and `cell_problems` says whether it found any.
    """
    problems: list[Problem] = []
    values = _ColumnValues()
    checkers = {name: _Checker(schema, tables, problems, values) for name, schema in meta.tables.items()}
    derived = [name for name, schema in meta.tables.items() if schema.derived_from]
    for name, checker in checkers.items():
        if name not in derived:
            if name not in checked:
                _check_cells(checker)
            checker.check_keys()
    _check_overlapping_ids(checkers)
    _check_provenance({n: c for n, c in checkers.items() if n not in derived})
    _check_foreign_keys(meta, tables, checkers)
    # Derived tables only repeat their inputs' problems; check them once the inputs are sound.
    if not problems and not cell_problems and not partial:
        for name in derived:
            _check_cells(checkers[name])
            checkers[name].check_keys()
    if not partial and {*meta.claimed_tables, *meta.claim_tables.values()} <= set(tables.rows):
        _check_reachability(meta, tables, checkers)
    return problems
