"""The column types: for each Table Schema type, how a value is checked and what it becomes in Arrow, SQLite and RDF.

Every stage that needs a type's form looks it up here, so that a schema using a type this table
lacks is refused once, when the metadata is read, not by the first writer that meets it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

XSD = "http://www.w3.org/2001/XMLSchema#"
_DIGITS = re.compile(r"[0-9]+\Z")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


class BadValue(ValueError):
    """A value that is not of its column's type; the message says what to write instead."""


def _integer(value: Any) -> int:
    if isinstance(value, str) and _DIGITS.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue("is not a whole number; write digits only")
    return value


def _number(value: Any) -> int | float:
    if isinstance(value, str) and _DECIMAL.match(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadValue("is not a number; write digits with an optional decimal point, e.g. 47.42")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue("is not true or false; write true or false")
    return value


def _date(value: Any) -> str:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        raise BadValue("is not a date (YYYY-MM-DD)") from None
    return str(value)


def _year(value: Any) -> int:
    year = _integer(value)
    if not 0 <= year <= 9999:
        raise BadValue("is not a year; write four digits")
    return year


@dataclass(frozen=True)
class ColumnType:
    """One Table Schema type: its check (None for text, checked by the string rules) and its forms elsewhere."""

    name: str
    check: Callable[[Any], Any] | None
    arrow: str  # a pyarrow type factory's name, e.g. "int64"
    sqlite: str
    xsd: str | None  # the literal's datatype in RDF, None for plain text


TYPES: dict[str, ColumnType] = {
    t.name: t
    for t in (
        ColumnType("string", None, "string", "TEXT", None),
        ColumnType("integer", _integer, "int64", "INTEGER", XSD + "integer"),
        ColumnType("number", _number, "float64", "REAL", XSD + "decimal"),
        ColumnType("boolean", _boolean, "bool_", "INTEGER", XSD + "boolean"),
        ColumnType("date", _date, "date32", "TEXT", XSD + "date"),
        ColumnType("year", _year, "int64", "INTEGER", XSD + "gYear"),
    )
}


def column_type(name: str) -> ColumnType:
    """The entry for a Table Schema type; KeyError for one this table lacks."""
    return TYPES[name]


def arrow_type(name: str):
    """The pyarrow type of a Table Schema type."""
    import pyarrow as pa

    return getattr(pa, TYPES[name].arrow)()
