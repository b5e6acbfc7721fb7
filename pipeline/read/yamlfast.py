"""A quick reader for the plain block YAML our annotation files are written in; None for anything else.

Input: the text of one YAML file. Output: the same `YDict` tree (values, lines of mappings and
keys) that `yamlfile.load_yaml` builds with PyYAML, or None when the text uses anything beyond
the narrow subset read here: block mappings and sequences, one `- ` per line, plain
identifier keys, single-line double-quoted (only the escapes JSON shares: backslash, quote, n, t, uXXXX), single-quoted and plain
scalars, comments. Then PyYAML reads it, and reports any error. Plain scalars resolve through
the same resolver and constructors as PyYAML's, so `1962` stays an int and `no` a string.
Reading the subset line by line is several times faster than libyaml's event and node objects.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# Characters YAML treats specially anywhere (line breaks, tabs, controls, BOM): leave to PyYAML.
_UNUSUAL_TEXT = re.compile("[\x00-\x08\x09\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029]")
# Every line, one match each (the lines of text.split("\n"): no part matches a line break, and
# the last alternative matches anything), so findall numbers lines too: indentation, the dash
# with its spaces, then key and value of a `key: value` line, or else the rest of the line
# ("" for what a line lacks). Splitting, matching and taking groups line by line cost more.
_LINES = re.compile(r"^( *)(- +)?(?:([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?|(.*))$", re.MULTILINE)
_DOUBLE = re.compile(r'"((?:[^"\\]|\\["\\nt]|\\u[0-9a-fA-F]{4})*)"(?:[ ]+#.*)?[ ]*$')
# The escapes JSON and YAML share, with the same meaning; any other escape goes to PyYAML.
_ESCAPE = re.compile(r'\\(["\\nt]|u[0-9a-fA-F]{4})')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def _unescape(m: re.Match) -> str:
    e = m.group(1)
    if e[0] != "u":
        return _ESCAPES[e]
    code = int(e[1:], 16)
    if 0xD800 <= code <= 0xDFFF:
        raise _NotSubset  # surrogates: PyYAML's business
    return chr(code)


_SINGLE = re.compile(r"'((?:[^']|'')*)'(?:[ ]+#.*)?[ ]*$")
_PLAIN_FIRST = set("-?:,[]{}#&*!|>'\"%@`")
_CONSTRUCTED = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
MAX_DEPTH = 30


class _NotSubset(Exception):
    pass


def parse(text: str, ydict, resolve, constructor):
    """The document as `ydict` mappings, or None if it is not in the subset (see the docstring).

    `resolve(value)` gives a plain scalar's tag and `constructor` builds non-string values, both
    PyYAML's own, so that both readers agree.
    """
    if _UNUSUAL_TEXT.search(text) or "\r" in text:
        return None
    try:
        return _parse(text, ydict, resolve, constructor)
    except _NotSubset:
        return None


def _scalar(s: str, resolve, constructor):
    c = s[0]
    if c == '"':
        if s[-1] == '"' and s.count('"') == 2 and "\\" not in s:
            return s[1:-1]  # the usual quote: no escapes, nothing after it
        m = _DOUBLE.match(s)
        if m is None:
            raise _NotSubset
        value = m.group(1)
        return _ESCAPE.sub(_unescape, value) if "\\" in value else value
    if c == "'":
        m = _SINGLE.match(s)
        if m is None:
            raise _NotSubset
        return m.group(1).replace("''", "'")
    s = s.split(" #", 1)[0].rstrip(" ")
    if c in _PLAIN_FIRST or ": " in s or s.endswith(":"):
        raise _NotSubset
    tag = resolve(s)
    if tag == "tag:yaml.org,2002:str":
        return s
    if tag not in _CONSTRUCTED:
        raise _NotSubset
    return constructor.yaml_constructors[tag](constructor, yaml.ScalarNode(tag, s))


_KEYS: dict[str, str] = {}  # keys repeat in every span: resolve each name once
# Values repeat too (labels, categories, roles, qualifiers, places): remember what the text of
# each short one became. Values are immutable (str, int, float, bool, None), so sharing them is
# safe; like _KEYS this assumes the one resolver and constructor yamlfile passes in.
_SCALARS: dict[str, object] = {}
_SCALARS_MAX = 50_000
_SCALAR_CACHED_LEN = 64


def _key(name: str, resolve, constructor) -> str:
    key = _KEYS.get(name)
    if key is None:
        key = _scalar(name, resolve, constructor)
        key = key if isinstance(key, str) else str(key)
        if len(_KEYS) < 10_000:
            _KEYS[name] = key
    return key


def _value(s: str, resolve, constructor):
    """The value of a non-empty scalar after `key: ` or `- `, remembered in _SCALARS if short."""
    value = _SCALARS.get(s, _SCALARS)  # the dict itself: no scalar's value is it
    if value is _SCALARS:
        value = _scalar(s, resolve, constructor)
        if len(s) < _SCALAR_CACHED_LEN and len(_SCALARS) < _SCALARS_MAX:
            _SCALARS[s] = value
    return value


def _parse(text: str, ydict, resolve, constructor):  # noqa: C901, PLR0912 (per-line work inlined, see below)
    # One pass over the lines. The per-line work is inlined (no helper calls for the usual
    # `key: value` line) because this loop runs for every line of every annotation file.
    root = None
    # (column, open mapping or sequence, its key_lines or None for a sequence), innermost last;
    # the container is a ydict when key_lines is a dict and a list when it is None.
    stack: list[tuple[int, Any, dict | None]] = []
    # (mapping, key, column of the key) whose value starts on a later line
    pending: tuple[Any, object, int] | None = None
    keys, scalars = _KEYS, _SCALARS

    # _LINES yields every line's pieces at once: (indent, dash, key, value, rest of any other line).
    for n, (indent, dash, name, rest, other) in enumerate(_LINES.findall(text), start=1):
        if name:
            # The usual line, `key: value` or `- key: value`: one regex said all.
            col = len(indent)
            body_col = col + len(dash)
        else:
            s = dash + other
            if not s or s[0] == "#":
                continue
            col = len(indent)
            if col == 0 and s.startswith(("---", "...")):
                raise _NotSubset
            # Left: a sequence item that is a scalar (`- value`); anything else is not ours.
            if not s.startswith("- "):
                raise _NotSubset
            body = s[2:].lstrip(" ")
            if not body or body.startswith("- ") or body[0] == "#" or ": " in body:
                raise _NotSubset
            name = None
        if root is None:
            if dash:
                raise _NotSubset
            root = ydict()
            root.line = n
            root.key_lines = {}
            stack.append((col, root, root.key_lines))
        if pending is not None:
            parent, key, key_col = pending
            pending = None
            if col > key_col:
                child: Any  # a list, or a ydict (the caller's mapping type)
                if dash:
                    child = []
                    stack.append((col, child, None))
                else:
                    child = ydict()
                    child.line = n
                    child.key_lines = {}
                    stack.append((col, child, child.key_lines))
                parent[key] = child
                if len(stack) > MAX_DEPTH:
                    raise _NotSubset
        top_col, container, key_lines = stack[-1]
        if top_col > col:
            while stack and stack[-1][0] > col:
                stack.pop()
            if not stack:
                raise _NotSubset
            top_col, container, key_lines = stack[-1]
        if top_col != col:
            raise _NotSubset
        if dash:
            if key_lines is not None:
                raise _NotSubset  # a `- ` item where a mapping's key belongs
            if name is None:
                container.append(_value(body, resolve, constructor))
                continue
            item = ydict()
            item.line = n
            item.key_lines = key_lines = {}
            container.append(item)
            stack.append((body_col, item, key_lines))
            if len(stack) > MAX_DEPTH:
                raise _NotSubset
            container = item
        elif key_lines is None:
            raise _NotSubset  # a key where a sequence's `- ` item belongs
        key = keys.get(name)
        if key is None:
            key = _key(name, resolve, constructor)
        if key in container:
            raise _NotSubset  # PyYAML reports it, with both lines
        key_lines[key] = n
        if not rest or rest[0] == "#":
            container[key] = None
            pending = (container, key, body_col)
        else:
            value = scalars.get(rest, scalars)  # _value's first step, inlined
            container[key] = _value(rest, resolve, constructor) if value is scalars else value
    return root
