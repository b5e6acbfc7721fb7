"""INCEpTION / WebAnno: UIMA CAS XMI or JSON (read with dkpro-cassis) and WebAnno TSV 3.3."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pipeline.importers.core import META_FIELDS, Document, Link, Mark, Vocabulary, decode, fail, read_limited

SPAN_LAYER = "webanno.custom.RevoltSpan"
LINK_LAYER = "webanno.custom.RevoltLink"
# Features every UIMA annotation has; the span layer's others are the label and our tool fields.
_BUILT_IN = ("begin", "end", "sofa")


def span_features(vocab: Vocabulary) -> tuple[str, ...]:
    """Our span layer's features: the label, span_id, note and every claim field of the tools."""
    return ("label", *META_FIELDS, *vocab.fields)


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def read(path: Path, display: str) -> list[Document]:
    """A `.tsv` (WebAnno TSV 3.3), `.xmi` (with TypeSystem.xml beside it) or `.json` (UIMA CAS JSON)."""
    suffix = path.suffix.lower()
    if suffix == ".tsv":
        return [read_tsv(decode(read_limited(path, display), display), display, path.stem)]
    if suffix == ".xmi":
        return [read_xmi(path, display)]
    if suffix == ".json":
        return [read_cas_json(path, display)]
    raise fail(
        display,
        None,
        "is not .tsv, .xmi or .json; export from INCEpTION as WebAnno TSV 3.3, UIMA CAS XMI or UIMA CAS JSON",
    )


# ---- UIMA CAS -------------------------------------------------------------------------------


def read_xmi(path: Path, display: str) -> Document:
    import cassis

    data = read_limited(path, display)
    if _DOCTYPE.search(data):
        raise fail(
            display,
            None,
            "declares a DOCTYPE or ENTITY; XMI from INCEpTION has none, and external entities are never read",
        )
    ts_path = next((p for p in (path.parent / "TypeSystem.xml", path.parent / "typesystem.xml") if p.is_file()), None)
    if ts_path is None:
        raise fail(
            display,
            None,
            "has no TypeSystem.xml beside it; unpack INCEpTION's 'UIMA CAS XMI' export with its TypeSystem.xml",
        )
    ts_data = read_limited(ts_path, str(ts_path.name))
    if _DOCTYPE.search(ts_data):
        raise fail(str(ts_path.name), None, "declares a DOCTYPE or ENTITY; external entities are never read")
    try:
        typesystem = cassis.load_typesystem(io.BytesIO(ts_data))
        cas = cassis.load_cas_from_xmi(io.BytesIO(data), typesystem=typesystem)
    except Exception as exc:  # cassis raises many kinds for a broken file
        raise fail(
            display,
            None,
            f"cannot be read as UIMA CAS XMI ({type(exc).__name__}: {exc}); export it again from INCEpTION",
        ) from None
    return _from_cas(cas, display, path.stem)


def read_cas_json(path: Path, display: str) -> Document:
    import cassis

    text = decode(read_limited(path, display), display)
    try:
        cas = cassis.load_cas_from_json(io.StringIO(text))
    except Exception as exc:
        raise fail(
            display,
            None,
            f"cannot be read as UIMA CAS JSON ({type(exc).__name__}: {exc}); export it again from INCEpTION",
        ) from None
    return _from_cas(cas, display, path.stem)


def _from_cas(cas, display: str, name: str) -> Document:
    text = cas.sofa_string
    if text is None:
        raise fail(display, None, "has no document text (sofaString)")
    doc = Document(display, name, text)
    type_names = {t.name for t in cas.typesystem.get_types()}
    if SPAN_LAYER not in type_names:
        raise fail(
            display, None, f"has no layer {SPAN_LAYER}; set the project up with annotation-tools/inception-layers.json"
        )
    user = _cas_user(cas, type_names)
    features = [f.name for f in cas.typesystem.get_type(SPAN_LAYER).all_features if f.name not in (*_BUILT_IN, "label")]
    for fs in cas.select(SPAN_LAYER):
        fields = {}
        for feature in features:
            value = _feature(fs, feature)
            if value is not None:
                fields[feature] = value
        # cassis gives code-point offsets: it converts UIMA's UTF-16 offsets while reading.
        doc.marks.append(
            Mark(
                f"{SPAN_LAYER} {fs.xmiID}",
                fs.begin,
                fs.end,
                quote=fs.get_covered_text(),
                label=_feature(fs, "label"),
                fields=fields,
                tool_id=str(fs.xmiID),
                annotator=user,
            )
        )
    if LINK_LAYER in type_names:
        # The relation's label is its one feature beside Governor and Dependent (the role field of our config).
        label_features = [
            f.name
            for f in cas.typesystem.get_type(LINK_LAYER).all_features
            if f.name not in (*_BUILT_IN, "Governor", "Dependent")
        ]
        for fs in cas.select(LINK_LAYER):
            gov, dep = _feature(fs, "Governor"), _feature(fs, "Dependent")
            if gov is None or dep is None:
                raise fail(display, f"{LINK_LAYER} {fs.xmiID}", "lacks its Governor or Dependent")
            label = next((v for v in (_feature(fs, n) for n in label_features) if v is not None), None)
            doc.links.append(Link(f"{LINK_LAYER} {fs.xmiID}", str(gov.xmiID), str(dep.xmiID), label))
    return doc


def _feature(fs, name: str):
    try:
        return fs.get(name)
    except (AttributeError, KeyError):
        return None


def _cas_user(cas, type_names) -> str | None:
    """INCEpTION names the annotator of a CAS in its document metadata (`documentId` of a user's export)."""
    kind = "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.DocumentMetaData"
    if kind not in type_names:
        return None
    for fs in cas.select(kind):
        return (
            _feature(fs, "documentId")
            if _feature(fs, "documentTitle") not in (None, _feature(fs, "documentId"))
            else None
        )
    return None


# ---- WebAnno TSV 3.3 -------------------------------------------------------------------------

_ESCAPES = {
    "\\\\": "\\",
    "\\[": "[",
    "\\]": "]",
    "\\|": "|",
    "\\_": "_",
    "\\-": "-",
    "\\;": ";",
    "\\t": "\t",
    "\\n": "\n",
    "\\*": "*",
}
_UNESCAPE = re.compile(r"\\[\\\[\]|_\-;tn*]")
_STACK = re.compile(r"^(.*?)(?:\[(\d+)\])?$", re.S)


def _unescape(value: str) -> str:
    return _UNESCAPE.sub(lambda m: _ESCAPES[m.group(0)], value)


def _split(cell: str) -> list[str]:
    """The stacked values of a cell (`a[1]|b[2]`), `|` escaped as `\\|` inside values."""
    return re.split(r"(?<!\\)\|", cell)


def read_tsv(content: str, display: str, name: str) -> Document:
    """A WebAnno TSV 3.3 document: tokens (offsets in UTF-16 units) and the columns of each layer."""
    lines = content.split("\n")
    if not lines or lines[0].strip() != "#FORMAT=WebAnno TSV 3.3":
        raise fail(display, "line 1", "is not '#FORMAT=WebAnno TSV 3.3'; export from INCEpTION as WebAnno TSV 3.3")
    columns: list[tuple[str, str, str]] = []  # (kind, layer, feature)
    doc = Document(display, name, None, pieces_units="utf16")
    stacks: dict[tuple[str, str], dict] = {}  # (layer, id) -> {begin, end, features}
    for n, line in enumerate(lines[1:], 2):
        if line.startswith("#T_"):
            kind, spec = line[1:].split("=", 1)
            layer, *features = spec.split("|")
            if kind == "T_SP" and not features:
                features = [""]  # a layer without features still has its column
            for feature in features:
                columns.append((kind, layer, feature))
            continue
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if cells and cells[-1] == "":
            cells = cells[:-1]
        if len(cells) != 3 + len(columns):
            raise fail(display, f"line {n}", f"has {len(cells)} columns, the header declares {3 + len(columns)}")
        position, offsets, token = cells[:3]
        try:
            begin, end = (int(x) for x in offsets.split("-"))
        except ValueError:
            raise fail(display, f"line {n}", f"offsets '{offsets}' are not 'begin-end'") from None
        if "." not in position.split("-", 1)[-1]:
            doc.pieces.append((begin, end, token))
        for (kind, layer, feature), cell in zip(columns, cells[3:], strict=False):
            if layer not in (SPAN_LAYER, LINK_LAYER) or cell in ("_", ""):
                continue
            if layer == LINK_LAYER:
                raise fail(
                    display,
                    f"line {n}",
                    f"holds a {LINK_LAYER} relation, which the TSV reader does not take; export as UIMA CAS JSON or XMI to keep relations",
                )
            for k, part in enumerate(_split(cell)):
                stacked = _STACK.match(part)
                assert stacked is not None  # _STACK matches any text
                value, stack_id = stacked.groups()
                key = (layer, stack_id or f"{position}#{k}" if kind == "T_SP" else f"{position}#{k}")
                entry = stacks.setdefault(key, {"begin": begin, "end": end, "fields": {}, "line": n, "kind": kind})
                entry["begin"], entry["end"] = min(entry["begin"], begin), max(entry["end"], end)
                if value not in ("*", "_", ""):
                    entry["fields"][feature] = _unescape(value)
    for (layer, ident), entry in stacks.items():
        if layer == SPAN_LAYER:
            fields = dict(entry["fields"])
            label = fields.pop("label", None)
            doc.marks.append(
                Mark(
                    f"line {entry['line']} ({layer} {ident})",
                    entry["begin"],
                    entry["end"],
                    label=label,
                    fields=fields,
                    tool_id=ident,
                    units="utf16",
                )
            )
    return doc
