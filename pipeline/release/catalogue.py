"""Catalogue metadata of a build: MLCommons Croissant 1.1 (`croissant.json`) and Zenodo's `.zenodo.json`.

Input: the built datapackage.json (with each table's inline schema and SHA-256). Output:
`croissant.json` (a schema.org Dataset with one `cr:FileObject` per CSV file and one
`cr:RecordSet` per table, every column a `cr:Field` extracted from its CSV column, foreign keys as
`references`; added to each release with datasette.json), and the text of `.zenodo.json`, which Zenodo reads instead of CITATION.cff, so both
are made from the same descriptor. `pipeline citation` writes `.zenodo.json` with CITATION.cff.
"""

from __future__ import annotations

import json

CROISSANT_FILENAME = "croissant.json"
ZENODO_FILENAME = ".zenodo.json"
CROISSANT_VERSION = "http://mlcommons.org/croissant/1.1"
# The standard @context of Croissant 1.1, as mlcroissant's `make_context` writes it for 1.1 files.
CROISSANT_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "name": {"@container": "@language"},
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
_DATA_TYPES = {
    "string": "sc:Text",
    "integer": "sc:Integer",
    "number": "sc:Float",
    "boolean": "sc:Boolean",
    "date": "sc:Date",
    "datetime": "sc:DateTime",
    "year": "sc:Integer",
}


def _creators(descriptor: dict) -> list[dict]:
    return [c for c in descriptor.get("contributors", []) if "creator" in c.get("roles", []) and c.get("title")]


def _licence(descriptor: dict) -> dict:
    return next(iter(descriptor.get("licenses", [])), {})


def croissant(descriptor: dict, base_url: str = "") -> dict:
    """The Croissant 1.1 description of a built data package (CSV resources with inline schemas)."""
    from pipeline.site.schemaorg import citation_text

    tables = [
        r
        for r in descriptor.get("resources", [])
        if str(r.get("path", "")).endswith(".csv") and isinstance(r.get("schema"), dict)
    ]
    files, record_sets = [], []
    for resource in tables:
        files.append(
            {
                "@type": "cr:FileObject",
                "@id": resource["path"],
                "name": resource["path"],
                "description": resource.get("title", resource["name"]),
                "contentUrl": base_url + resource["path"],
                "encodingFormat": "text/csv",
                "sha256": str(resource.get("hash", "")).removeprefix("sha256:"),
            }
        )
        schema = resource["schema"]
        fields = []
        for field in schema.get("fields", []):
            entry = {
                "@type": "cr:Field",
                "@id": f"{resource['name']}/{field['name']}",
                "name": field["name"],
                "description": field.get("description", ""),
                "dataType": _DATA_TYPES.get(field.get("type", "string"), "sc:Text"),
                "source": {"fileObject": {"@id": resource["path"]}, "extract": {"column": field["name"]}},
            }
            for fk in schema.get("foreignKeys", []):
                names = fk["fields"] if isinstance(fk["fields"], list) else [fk["fields"]]
                refs = fk["reference"]["fields"]
                refs = refs if isinstance(refs, list) else [refs]
                target = fk["reference"].get("resource") or resource["name"]
                # A table referring to itself (events.parent_event_id) would make mlcroissant's
                # record graph cyclic; the codebook and datapackage.json still say it.
                if field["name"] in names and len(names) == 1 and target != resource["name"]:
                    entry["references"] = {"field": {"@id": f"{target}/{refs[0]}"}}
            fields.append(entry)
        record = {
            "@type": "cr:RecordSet",
            "@id": resource["name"],
            "name": resource["name"],
            "description": schema.get("description") or resource.get("title", ""),
            "field": fields,
        }
        key = schema.get("primaryKey")
        if key:
            keys = key if isinstance(key, list) else [key]
            record["key"] = [{"@id": f"{resource['name']}/{k}"} for k in keys]
        record_sets.append(record)
    licence = _licence(descriptor)
    out = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CROISSANT_VERSION,
        "name": descriptor.get("name", ""),
        "alternateName": descriptor.get("title", ""),
        "description": descriptor.get("description", ""),
        "version": str(descriptor.get("version", "")),
        "datePublished": str(descriptor.get("created", ""))[:10],
        "license": licence.get("path", licence.get("name", "")),
        "creator": [{"@type": "sc:Organization", "name": c["title"]} for c in _creators(descriptor)],
        "keywords": descriptor.get("keywords", []),
        "citeAs": citation_text(descriptor),
        "temporalCoverage": descriptor.get("temporalCoverage", ""),
        "distribution": files,
        "recordSet": record_sets,
    }
    if descriptor.get("homepage") or base_url:
        out["url"] = descriptor.get("homepage") or base_url
    return out


def croissant_bytes(descriptor: dict) -> bytes:
    return (json.dumps(croissant(descriptor), indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def zenodo(descriptor: dict) -> dict:
    """Zenodo deposit metadata agreeing with datapackage.json (and so with CITATION.cff, made from it too)."""
    licence = _licence(descriptor)
    return {
        "upload_type": "dataset",
        "title": descriptor.get("title", ""),
        "description": descriptor.get("description", ""),
        "version": str(descriptor.get("version", "")),
        "publication_date": str(descriptor.get("created", ""))[:10],
        "license": licence.get("name", "").lower(),
        "creators": [{"name": c["title"]} for c in _creators(descriptor)],
        "keywords": list(descriptor.get("keywords", [])),
        "access_right": "open",
    }


def zenodo_text(descriptor: dict) -> str:
    return json.dumps(zenodo(descriptor), indent=2, ensure_ascii=False) + "\n"


def release_files(descriptor: dict, files: dict[str, bytes]) -> dict[str, bytes]:
    """The files a release adds beside the build's: croissant.json, datasette.json and the Excel workbook.

    The metadata files are made at release time, not by the build, because every other JSON file
    in dist/ would be taken for the linked-data export by the tools that check it; the workbook,
    because it is for a release's spreadsheet users and would cost every large build dearly.
    """
    from pipeline.write.workbook import workbook_bytes, workbook_filename

    return {**release_metadata(descriptor), workbook_filename(descriptor): workbook_bytes(descriptor, files)}


def release_metadata(descriptor: dict) -> dict[str, bytes]:
    """croissant.json and datasette.json of a built descriptor."""
    from pipeline.release.datasette import DATASETTE_FILENAME, datasette_bytes

    return {CROISSANT_FILENAME: croissant_bytes(descriptor), DATASETTE_FILENAME: datasette_bytes(descriptor)}
