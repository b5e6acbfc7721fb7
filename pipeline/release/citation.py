"""Writes CITATION.cff (Citation File Format 1.2.0) from a data package descriptor.

Input: the descriptor (root datapackage.json or a build's dist/datapackage.json). Output: the
CITATION.cff text with title, version, release date, licence, authors and keywords. The root
CITATION.cff and the one in every release archive are generated, so neither can disagree with
the descriptor; `citation_problem` tells when the committed file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import PipelineError

CITATION_FILENAME = "CITATION.cff"
# Contributors cited as authors; the rest (e.g. funders) are not authors of the dataset.
AUTHOR_ROLES = {"creator", "author", "contributor"}


def _yaml_str(value: str) -> str:
    """A YAML double-quoted scalar; JSON strings are valid YAML and escape everything needed."""
    return json.dumps(str(value), ensure_ascii=False)


def _authors(descriptor: dict) -> list[dict]:
    authors = []
    for person in descriptor.get("contributors", []):
        roles = set(person.get("roles") or [person.get("role", "contributor")])
        if not roles & AUTHOR_ROLES:
            continue
        if person.get("familyName"):
            entry = {"family-names": person["familyName"]}
            if person.get("givenName"):
                entry["given-names"] = person["givenName"]
        else:
            entry = {"name": person.get("title", "")}
        if person.get("email"):
            entry["email"] = person["email"]
        if person.get("organization"):
            entry["affiliation"] = person["organization"]
        authors.append(entry)
    return authors


def citation_cff(descriptor: dict) -> str:
    """The CITATION.cff text for a descriptor; raises PipelineError when a required part is missing."""
    missing = [k for k in ("title", "version", "created", "licenses") if not descriptor.get(k)]
    authors = _authors(descriptor)
    if not authors:
        missing.append("contributors with role creator or author")
    if missing:
        raise PipelineError(f"datapackage.json lacks what a citation needs: {', '.join(missing)}")
    lines = [
        "# Generated from datapackage.json by `pipeline citation`; never edit it by hand.",
        "cff-version: 1.2.0",
        'message: "If you use this dataset, please cite it as below."',
        "type: dataset",
        f"title: {_yaml_str(descriptor['title'])}",
        f"version: {_yaml_str(descriptor['version'])}",
        f"date-released: {_yaml_str(str(descriptor['created'])[:10])}",
        f"license: {_yaml_str(descriptor['licenses'][0]['name'])}"
        if len(descriptor["licenses"]) == 1
        else "license:\n" + "\n".join(f"  - {_yaml_str(lic['name'])}" for lic in descriptor["licenses"]),
        "authors:",
    ]
    for author in authors:
        first = True
        for key, value in author.items():
            lines.append(f"  {'- ' if first else '  '}{key}: {_yaml_str(value)}")
            first = False
    if descriptor.get("description"):
        lines.append(f"abstract: {_yaml_str(descriptor['description'])}")
    if descriptor.get("homepage"):
        lines.append(f"url: {_yaml_str(descriptor['homepage'])}")
    if descriptor.get("keywords"):
        lines.append("keywords:")
        lines += [f"  - {_yaml_str(k)}" for k in descriptor["keywords"]]
    return "\n".join(lines) + "\n"


def citation_problem(descriptor: dict, path: Path) -> str | None:
    """Why the CITATION.cff at path does not match the descriptor, or None when it does."""
    expected = citation_cff(descriptor)
    try:
        actual = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path.name} is missing: run `pipeline citation`"
    if actual != expected:
        return f"{path.name} disagrees with datapackage.json (version {descriptor.get('version')}): run `pipeline citation` and commit it"
    return None
