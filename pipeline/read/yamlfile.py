"""Safe YAML loading that remembers the line of every mapping and key.

Only plain data is built (no Python objects), dates stay strings (EDTF is ours to parse, not
YAML 1.1's), `yes`/`no` stay strings. Aliases, anchors and explicit tags (`!!python/object`,
`!!timestamp`, ...) are refused, so that a small file cannot expand into a huge one or ask for
anything but plain data, and size and nesting are capped before libyaml builds anything.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pipeline.errors import Problem
from pipeline.read import yamlfast
from pipeline.read.safefile import NotAFile, read_bounded

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Yaml11Number(str):
    """A plain scalar YAML 1.1 reads as a number in a form few mean: `017` (octal 15), `0x1F`,
    `0b101`, `1:30` (base 60: 90), `1_000`, `+5`. It stays the text written (a text or id column
    keeps it as is); `number` is YAML 1.1's reading and `form` names it, so that a number column
    can refuse it (`pipeline.validate.checks`) instead of publishing a value nobody wrote.
    """

    number: int | float
    form: str  # "octal", "hexadecimal", "binary", "base-60", "" (only `_` or `+`: decimal after all)


def yaml11_message(name: str, value: Yaml11Number) -> str:
    """The one line refusing `value` where a number belongs, e.g. `count_min 017 is read ... as the octal number 15`."""
    if value.form == "octal":
        return f"{name} {value} is read by YAML 1.1 as the octal number {value.number}, not {value.lstrip('+-0') or 0}; write the number in decimal, without the leading zero"
    return f"{name} {value} is read by YAML 1.1 as the {value.form} number {value.number}; write the number in decimal"


_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


def _yaml11_form(text: str) -> str:
    digits = text.lstrip("+-")
    if ":" in digits:
        return "base-60"
    if digits.startswith(("0x", "0X")):
        return "hexadecimal"
    if digits.startswith(("0b", "0B")):
        return "binary"
    if len(digits.replace("_", "")) > 1 and digits.startswith("0") and "." not in digits:
        return "octal"
    return ""


def _construct_int(constructor, node):
    number = yaml.constructor.SafeConstructor.construct_yaml_int(constructor, node)
    if _PLAIN_DECIMAL.match(node.value):
        return number
    value = Yaml11Number(node.value)
    value.number, value.form = number, _yaml11_form(node.value)
    return value


def _construct_float(constructor, node):
    number = yaml.constructor.SafeConstructor.construct_yaml_float(constructor, node)
    if ":" not in node.value and "_" not in node.value:
        return number
    value = Yaml11Number(node.value)
    value.number, value.form = number, _yaml11_form(node.value)
    return value


# Annotation files are hand-written: a few hundred KiB at most. The limits keep a careless or
# hostile file from exhausting memory or time instead of failing with a clear message.
MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
MAX_BRACKETS = 1000


class YDict(dict):
    """A mapping read from YAML, with the 1-based line of itself and of each key."""

    # Slots, not an attribute dict per mapping: one per span and claim, set by every reader here.
    __slots__ = ("line", "key_lines")
    line: int
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlError(Exception):
    """A YAML file that cannot be read; carries its line."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Plain scalars repeat a lot (keys, ids, categories): remember how each short one resolved.
_RESOLVED: dict[str, str] = {}
_RESOLVED_MAX = 200_000


# The base class is picked at run time (libyaml's CSafeLoader when present), which mypy cannot follow.
class _LineLoader(_Base):  # type: ignore[misc, valid-type]
    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0] and len(value) < 64:
            tag = _RESOLVED.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_RESOLVED) < _RESOLVED_MAX:
                    _RESOLVED[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


# YAML 1.1 would turn 1962-06-01 into a date and `no` into False; we want the text as written.
_LineLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader, node, depth=0):
    loader.flatten_mapping(node)
    result = YDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise YamlError(
                key_node.start_mark.line + 1,
                f"duplicate key '{key}' (first at line {result.key_lines[key]}); keep one",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_LineLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def _too_many_brackets(text: str) -> int:
    """Line where flow brackets nest absurdly deep, else 0.

    libyaml's scanner is quadratic in flow depth and its composer recurses in C (a crash, not an
    exception), so this plain count runs before YAML sees the text. Brackets inside quoted text
    count too; that only matters past MAX_BRACKETS, far beyond any honest file.
    """
    depth = 0
    for m in re.finditer(r"[\[\]{}]", text):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_BRACKETS:
            return text.count("\n", 0, m.start()) + 1
    return 0


def _show_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _check_events(text: str) -> None:
    """Refuse aliases, explicit tags and deep nesting, streaming, before any node is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_LineLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise YamlError(line, "YAML aliases (*name) are not allowed; write the value out in full")
        if getattr(event, "anchor", None):
            raise YamlError(line, f"YAML anchors (&{event.anchor}) are not allowed; remove the anchor")
        if getattr(event, "tag", None):
            raise YamlError(
                line,
                f"YAML tags such as '{_show_tag(event.tag)}' are not allowed; remove the tag and write a plain value",
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlError(
                    line, f"nesting deeper than {MAX_DEPTH} levels; flatten the structure (spans, then their claims)"
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _resolve_plain(value: str) -> str:
    """The tag PyYAML gives a plain scalar, through the same resolvers and memo as `_LineLoader`."""
    if _BY_FIRST_CHARACTER and value and value[0] not in _CLAIMED_FIRST:
        # No implicit resolver is registered for that first character, so BaseResolver.resolve
        # (which looks them up by it) would say str: ids and words, mostly seen once, need no memo.
        return _STR_TAG
    tag = _RESOLVED.get(value)
    if tag is None:
        tag = yaml.resolver.BaseResolver.resolve(_RESOLVER, yaml.ScalarNode, value, (True, False))
        if len(value) < 64 and len(_RESOLVED) < _RESOLVED_MAX:
            _RESOLVED[value] = tag
    return tag


_RESOLVER = yaml.resolver.Resolver()
_RESOLVER.yaml_implicit_resolvers = _LineLoader.yaml_implicit_resolvers
# First characters of plain scalars that some implicit resolver may turn into another type than
# str. That decides alone unless resolvers for any first character (None) or path resolvers exist.
_CLAIMED_FIRST = frozenset(k for k, v in _RESOLVER.yaml_implicit_resolvers.items() if v)
_BY_FIRST_CHARACTER = not _RESOLVER.yaml_implicit_resolvers.get(None) and not _RESOLVER.yaml_path_resolvers


class _Constructor(yaml.constructor.SafeConstructor):
    """PyYAML's safe constructors, with YAML 1.1's surprising numbers kept as `Yaml11Number`."""


_Constructor.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _construct_float)
_CONSTRUCTOR = _Constructor()


class _Unusual(Exception):
    """The document has something `_build` leaves to PyYAML's constructors (merge keys)."""


def _build(loader, node, depth=0):
    """Construct plain data from a node tree, as `_construct_mapping` would, in one quick walk.

    Strings, lists and mappings are built directly; other scalars (int, bool, null, float) and
    explicitly tagged nodes go through PyYAML's own constructors, so the values are the same.
    """
    if depth > MAX_DEPTH:
        raise YamlError(node.start_mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels")
    tag = node.tag
    if tag == _STR_TAG and node.__class__ is yaml.ScalarNode:
        return node.value
    if tag == _MAP_TAG:
        result = YDict()
        result.line = node.start_mark.line + 1
        result.key_lines = lines = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise _Unusual
            key = _build(loader, key_node, depth + 1)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise YamlError(
                    key_node.start_mark.line + 1, f"duplicate key '{key}' (first at line {lines[key]}); keep one"
                )
            result[key] = _build(loader, value_node, depth + 1)
            lines[key] = key_node.start_mark.line + 1
        return result
    if tag == _SEQ_TAG:
        return [_build(loader, v, depth + 1) for v in node.value]
    return loader.construct_object(node, deep=True)


def _read_text(path: Path, display: str) -> tuple[str | None, list[Problem]]:
    """The file's text without a byte-order mark (None on failure), and any problems."""
    try:
        raw = read_bounded(path, MAX_YAML_BYTES)
    except NotAFile as exc:
        if exc.too_large:
            return None, [
                Problem(
                    display,
                    0,
                    "file-too-large",
                    f"file is larger than {MAX_YAML_BYTES // 2**20} MiB; split it into several files",
                )
            ]
        return None, [
            Problem(display, 0, "not-a-file", f"is {exc.kind}, not a regular file; put the file itself there")
        ]
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and path.is_symlink():
            return None, [
                Problem(
                    display, 0, "dangling-link", "is a link to a file that does not exist; put the file itself there"
                )
            ]
        return None, [Problem(display, 0, "unreadable-file", f"cannot read the file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Problem(
                display, line, "bad-encoding", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
            )
        ]
    return text.removeprefix("\ufeff"), []


def load_yaml(path: Path, display: str) -> tuple[object, list[Problem]]:
    """Parse one YAML file; return its data (None on failure) and any problems."""
    text, problems = _read_text(path, display)
    if text is None:
        return None, problems
    bad_line = _too_many_brackets(text)
    if bad_line:
        return None, [
            Problem(
                display,
                bad_line,
                "too-deep",
                f"more than {MAX_BRACKETS} nested brackets; flatten the structure (spans, then their claims)",
            )
        ]
    data = yamlfast.parse(text, YDict, _resolve_plain, _CONSTRUCTOR)
    if data is not None:
        return data, []
    try:
        loader = _LineLoader(text)
        try:
            _check_events(text)
            node = loader.get_single_node()
            if node is None:
                return None, []
            try:
                data = _build(loader, node)
            except _Unusual:
                data = loader.construct_document(node)
        finally:
            loader.dispose()
    except YamlError as exc:
        return None, [Problem(display, exc.line, "yaml-syntax", str(exc))]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = exc.problem or "invalid YAML"
        return None, [Problem(display, line, "yaml-syntax", f"invalid YAML: {what}; check indentation and quoting")]
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        return None, [
            Problem(
                display,
                line,
                "bad-character",
                f"the control character U+{exc.character:04X} is not allowed in YAML; remove it",
            )
        ]
    except (yaml.YAMLError, RecursionError) as exc:
        return None, [Problem(display, 1, "yaml-syntax", f"invalid YAML: {exc}; check indentation and quoting")]
    return data, []
