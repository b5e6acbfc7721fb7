"""The landing page's schema.org `Dataset` JSON-LD, the description that Google Dataset Search reads.

Input: a build's descriptor, its files and events. Output: a JSON-LD dict with what Dataset Search
requires (name, description) and recommends (license, creator, distribution, temporal and spatial
coverage, version, variableMeasured, citation, identifier, keywords, url).
"""

from __future__ import annotations

from pipeline.site.data import SiteData
from pipeline.write.linked.graph import MEDIA_TYPES as LINKED_DATA_MEDIA_TYPES

REQUIRED = ("name", "description")
RECOMMENDED = (
    "license",
    "creator",
    "distribution",
    "temporalCoverage",
    "spatialCoverage",
    "version",
    "variableMeasured",
    "citation",
    "identifier",
    "keywords",
    "url",
)
# The linked data's media types of the build's files, and the release archive's.
MEDIA_TYPES = {**LINKED_DATA_MEDIA_TYPES, ".zip": "application/zip"}
# The tables whose columns are the dataset's measured variables (the rest are provenance).
_MEASURED = ("events", "casualties", "demands", "event_actors")


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(name[name.rfind(".") :], "application/octet-stream")


def citation_text(descriptor: dict) -> str:
    """One-line citation: authors (year). Title. Version. Licence."""
    authors = "; ".join(
        c.get("title", "") for c in descriptor.get("contributors", []) if "creator" in c.get("roles", [])
    )
    year = str(descriptor.get("created", ""))[:4]
    return f"{authors} ({year}). {descriptor.get('title', '')}. Version {descriptor.get('version', '')}."


def dataset_jsonld(data: SiteData, base_url: str, downloads: list[tuple[str, str]]) -> dict:
    """schema.org Dataset of the build; `downloads` are (file name, URL relative to the landing page)."""
    d = data.descriptor
    url = base_url or d.get("homepage") or ""
    absolute = (lambda rel: url.rstrip("/") + "/" + rel) if url else (lambda rel: rel)
    licence = next((lic.get("path") for lic in d.get("licenses", []) if lic.get("path")), "")
    creators = [
        {"@type": "Organization", "name": c["title"]}
        for c in d.get("contributors", [])
        if "creator" in c.get("roles", []) and c.get("title")
    ]
    measured = []
    for table in _MEASURED:
        for f in data.schemas.get(table, {}).get("fields", []):
            if f["name"].endswith("_id"):
                continue
            measured.append(
                {"@type": "PropertyValue", "name": f"{table}.{f['name']}", "description": f.get("description", "")}
            )
    # An event has both coordinates or neither (site/data.py `_coordinates`).
    located = [(e.lat, e.lon) for e in data.events if e.lat is not None and e.lon is not None]
    place: dict = {"@type": "Place", "name": "The Soviet Union and the states of the Soviet bloc in Europe"}
    if located:
        lats, lons = [lat for lat, _ in located], [lon for _, lon in located]
        place["geo"] = {"@type": "GeoShape", "box": f"{min(lats):.4f} {min(lons):.4f} {max(lats):.4f} {max(lons):.4f}"}
    out = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": d.get("title", d.get("name", "")),
        "alternateName": d.get("name", ""),
        "description": d.get("description", ""),
        "version": str(d.get("version", "")),
        "datePublished": str(d.get("created", ""))[:10],
        "identifier": f"{d.get('name', '')}-{d.get('version', '')}",
        "license": licence,
        "isAccessibleForFree": True,
        "creator": creators,
        "keywords": d.get("keywords", []),
        "temporalCoverage": d.get("temporalCoverage", ""),
        "spatialCoverage": place,
        "variableMeasured": measured,
        "citation": citation_text(d),
        "distribution": [
            {"@type": "DataDownload", "name": name, "contentUrl": absolute(rel), "encodingFormat": media_type(name)}
            for name, rel in downloads
        ],
    }
    if url:
        out["url"] = url
    return out


def missing_properties(jsonld: dict) -> list[str]:
    """The required and recommended properties a Dataset lacks (empty values count as missing).

    >>> missing_properties({"name": "x", "description": "y"})[:3]
    ['license', 'creator', 'distribution']
    """
    return [p for p in REQUIRED + RECOMMENDED if not jsonld.get(p)]
