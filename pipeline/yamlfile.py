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

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Annotation files are hand-written: a few hundred KiB at most. The limits keep a careless or
# hostile file from exhausting memory or time instead of failing with a clear message.
MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
MAX_BRACKETS = 1000


class YDict(dict):
    """A mapping read from YAML, with the 1-based line of itself and of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlError(Exception):
    """A YAML file that cannot be read; carries its line."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


class _LineLoader(_Base):  # type: ignore[misc, valid-type]
    pass


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
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


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
            raise YamlError(line, f"YAML tags such as '{_show_tag(event.tag)}' are not allowed; remove the tag and write a plain value")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlError(line, f"nesting deeper than {MAX_DEPTH} levels; flatten the structure (spans, then their claims)")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def load_yaml(path: Path, display: str) -> tuple[object, list[Problem]]:
    """Parse one YAML file; return its data (None on failure) and any problems."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(display, 0, "unreadable-file", f"cannot read the file: {exc.strerror}")]
    if len(raw) > MAX_YAML_BYTES:
        return None, [
            Problem(display, 0, "file-too-large", f"file is larger than {MAX_YAML_BYTES // 2**20} MiB; split it into several files")
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Problem(display, line, "bad-encoding", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8")
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    bad_line = _too_many_brackets(text)
    if bad_line:
        return None, [Problem(display, bad_line, "too-deep", f"more than {MAX_BRACKETS} nested brackets; flatten the structure (spans, then their claims)")]
    try:
        loader = _LineLoader(text)
        try:
            _check_events(text)
            node = loader.get_single_node()
            if node is None:
                return None, []
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
        return None, [Problem(display, line, "bad-character", f"the control character U+{exc.character:04X} is not allowed in YAML; remove it")]
    except (yaml.YAMLError, RecursionError) as exc:
        return None, [Problem(display, 1, "yaml-syntax", f"invalid YAML: {exc}; check indentation and quoting")]
    return data, []
