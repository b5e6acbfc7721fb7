"""The annotation tools' configurations in annotation-tools/, generated from the claim tables' schemas (fields, categories)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pipeline.importers.core import META_FIELDS, ToolField, vocabulary
from pipeline.importers.inception import LINK_LAYER, SPAN_LAYER, span_features
from pipeline.metadata import Metadata

CONFIG_DIRNAME = "annotation-tools"
HEADER = "generated from schemas/ by `pipeline annotation-configs`; do not edit by hand"


_LAYER_SETTINGS = {
    "enabled": True,
    "built_in": False,
    "readonly": False,
    "allow_stacking": True,
    "cross_sentence": True,
    "show_hover": True,
    "anchoring_mode": "characters",
    "overlap_mode": "any-overlap",
    "validation_mode": "always",
    "lock_to_token_offset": False,
}  # what both INCEpTION layers share


def _labels(meta: Metadata) -> list[tuple[str, str]]:
    schema = meta["spans"]
    definitions = schema.fields["label"].get("enumDefinitions", {})
    return [(v, definitions.get(v, "")) for v in schema.enum("label")]


def _roles(meta: Metadata) -> tuple:
    role = vocabulary(meta).role_field
    return role.enum if role else ()


def _fields(meta: Metadata) -> list[ToolField | str]:
    """span_id and note (free text), then every claim field of the tools, in their order."""
    return [*META_FIELDS, *vocabulary(meta).fields.values()]


def label_studio_xml(meta: Metadata) -> str:
    """A Label Studio labeling config: span labels, per-region claim fields, relations labelled by role."""
    out = [f"<!-- Soviet-bloc revolts: {HEADER}. -->", "<View>", "  <Relations>"]
    out += [f"    <Relation value={quoteattr(v)}/>" for v, _ in _roles(meta)]
    out += ["  </Relations>", '  <Labels name="label" toName="text">']
    out += [f"    <Label value={quoteattr(v)} hint={quoteattr(d)}/>" for v, d in _labels(meta)]
    out += ["  </Labels>", '  <Text name="text" value="$text"/>', '  <View visibleWhen="region-selected">']
    for f in _fields(meta):
        name = getattr(f, "name", f)
        if isinstance(f, ToolField) and f.enum:
            out.append(f'    <Header value="{name}"/>')
            out.append(f'    <Choices name="{name}" toName="text" perRegion="true" choice="single-radio">')
            out += [f"      <Choice value={quoteattr(v)} hint={quoteattr(d)}/>" for v, d in f.enum]
            out.append("    </Choices>")
        elif isinstance(f, ToolField) and f.type == "integer":
            out.append(f'    <Header value="{name}"/>')
            out.append(f'    <Number name="{name}" toName="text" perRegion="true" min="0"/>')
        else:
            out.append(f'    <Header value="{name}"/>')
            out.append(
                f'    <TextArea name="{name}" toName="text" perRegion="true" maxSubmissions="1" editable="true"/>'
            )
    out += ["  </View>", "</View>"]
    return "\n".join(out) + "\n"


def _feature(name: str, meta: Metadata) -> dict:
    field = vocabulary(meta).fields.get(name)
    values = _labels(meta) if name == "label" else (field.enum if field else ())
    feature = {
        "name": name,
        "uiName": name,
        "type": "uima.cas.String",
        "enabled": True,
        "visible": True,
        "include_in_hover": name == "label" or bool(field and field.span_wide),
        "required": name == "label",
        "remember": False,
        "description": f"Our field '{name}' (see README, Annotation tools).",
    }
    if values:
        feature["tag_set"] = {
            "name": f"revolts-{name}",
            "description": f"Values of '{name}' ({HEADER})",
            "language": "en",
            "create_tag": False,
            "tags": [{"tag_name": v, "tag_description": d} for v, d in values],
        }
    return feature


def inception_layers_json(meta: Metadata) -> str:
    """INCEpTION layers (Project settings > Layers > Import): our span layer and the relation layer over it."""
    layers = [
        {
            "name": SPAN_LAYER,
            "uiName": "Revolt span",
            "type": "span",
            "description": f"Spans and claims ({HEADER}).",
            **_LAYER_SETTINGS,
            "multiple_tokens": True,
            "linked_list_behavior": False,
            "features": [_feature(n, meta) for n in span_features(vocabulary(meta))],
        },
        {
            "name": LINK_LAYER,
            "uiName": "Revolt link",
            "type": "relation",
            "description": f"From a span to the span of its event; the role, if any, is the actor's ({HEADER}).",
            **_LAYER_SETTINGS,
            "multiple_tokens": False,
            "linked_list_behavior": False,
            "attach_type": {"name": SPAN_LAYER},
            "features": [_feature(_role_name(meta), meta) | {"required": False}],
        },
    ]
    return json.dumps(layers, indent=2, ensure_ascii=False) + "\n"


def brat_conf(meta: Metadata) -> str:
    """brat annotation.conf: span labels as entities, roles as relations, enum fields as attributes."""
    labels = [v for v, _ in _labels(meta)]
    free = [f.name for f in vocabulary(meta).fields.values() if not f.enum]
    out = [
        f"# Soviet-bloc revolts: {HEADER}.",
        f"# Free-text fields ({', '.join(free)}) go into the annotator note as",
        "# 'key: value; key: value'.",
        "",
        "[entities]",
        "",
        *labels,
        "",
        "[relations]",
        "",
    ]
    out += [f"{v}\tArg1:<ENTITY>, Arg2:<ENTITY>" for v, _ in _roles(meta)]
    out += ["about\tArg1:<ENTITY>, Arg2:<ENTITY>", "", "[events]", "", "[attributes]", ""]
    for f in vocabulary(meta).fields.values():
        if f.enum:
            out.append(f"{f.name}\tArg:<ENTITY>, Value:{'|'.join(v for v, _ in f.enum)}")
    return "\n".join(out) + "\n"


def render(meta: Metadata) -> dict[str, str]:
    """File name -> content of every configuration."""
    return {
        "label-studio.xml": label_studio_xml(meta),
        "inception-layers.json": inception_layers_json(meta),
        "annotation.conf": brat_conf(meta),
    }


def write(folder: Path, meta: Metadata) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(render(meta).items()):
        (folder / name).write_bytes(content.encode("utf-8"))
        written.append(folder / name)
    return written


def _role_name(meta: Metadata) -> str:
    role = vocabulary(meta).role_field
    return role.name if role else "role"


def cas_typesystem(vocab):
    """The UIMA type system of our INCEpTION layers (for CAS exports)."""
    import cassis

    typesystem = cassis.TypeSystem()
    span = typesystem.create_type(SPAN_LAYER, supertypeName="uima.tcas.Annotation")
    for name in span_features(vocab):
        typesystem.create_feature(span, name, "uima.cas.String")
    link = typesystem.create_type(LINK_LAYER, supertypeName="uima.tcas.Annotation")
    typesystem.create_feature(link, "Governor", SPAN_LAYER)
    typesystem.create_feature(link, "Dependent", SPAN_LAYER)
    role = vocab.role_field
    typesystem.create_feature(link, role.name if role else "role", "uima.cas.String")
    return typesystem
