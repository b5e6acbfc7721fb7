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

import yaml

# Characters YAML treats specially anywhere (line breaks, tabs, controls, BOM): leave to PyYAML.
_UNUSUAL_TEXT = re.compile("[\x00-\x08\x09\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029]")
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +(.*)|$)")
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


def _key(name: str, resolve, constructor) -> str:
    key = _KEYS.get(name)
    if key is None:
        key = _scalar(name, resolve, constructor)
        key = key if isinstance(key, str) else str(key)
        if len(_KEYS) < 10_000:
            _KEYS[name] = key
    return key


def _parse(text: str, ydict, resolve, constructor):
    root = None
    stack: list[tuple[int, object]] = []  # (column, open mapping or sequence), innermost last
    pending = None  # (mapping, key, column of the key) whose value starts on a later line

    def new_map(line: int):
        d = ydict()
        d.line = line
        d.key_lines = {}
        return d

    def put(mapping, key: str, col: int, rest: str | None, line: int):
        nonlocal pending
        if key in mapping:
            raise _NotSubset  # PyYAML reports it, with both lines
        mapping.key_lines[key] = line
        if not rest or rest.startswith("#"):
            mapping[key] = None
            pending = (mapping, key, col)
        else:
            mapping[key] = _scalar(rest, resolve, constructor)

    for n, line in enumerate(text.split("\n"), start=1):
        s = line.lstrip(" ")
        if not s or s[0] == "#":
            continue
        col = len(line) - len(s)
        if col == 0 and s.startswith(("---", "...")):
            raise _NotSubset
        dash = s.startswith("- ")
        if dash:
            body = s[2:].lstrip(" ")
            body_col = col + len(s) - len(body)
            if not body or body.startswith("- ") or body[0] == "#":
                raise _NotSubset
        else:
            body, body_col = s, col
            if s == "-":
                raise _NotSubset
        m = _KEY.match(body)
        if m is None and (not dash or ": " in body):
            raise _NotSubset
        if root is None:
            if dash:
                raise _NotSubset
            root = new_map(n)
            stack.append((col, root))
        if pending is not None:
            parent, key, key_col = pending
            pending = None
            if col > key_col:
                child = [] if dash else new_map(n)
                parent[key] = child
                stack.append((col, child))
                if len(stack) > MAX_DEPTH:
                    raise _NotSubset
        while stack and stack[-1][0] > col:
            stack.pop()
        if not stack or stack[-1][0] != col:
            raise _NotSubset
        container = stack[-1][1]
        if dash:
            if not isinstance(container, list):
                raise _NotSubset
            if m is None:
                container.append(_scalar(body, resolve, constructor))
                continue
            item = new_map(n)
            container.append(item)
            stack.append((body_col, item))
            if len(stack) > MAX_DEPTH:
                raise _NotSubset
            container = item
        elif not isinstance(container, dict):
            raise _NotSubset
        put(container, _key(m.group(1), resolve, constructor), body_col, m.group(2), n)
    return root
