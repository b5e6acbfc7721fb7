"""Descriptors of builds and releases read as hostile: every resource a plain file inside the package.

A datapackage.json in a downloaded archive or a folder someone handed over may point a
resource at `../../etc/passwd`, `/etc/shadow` or an `http://` URL. `pipeline diff` would then print
the outside file and `frictionless validate` fetch the URL; here such a descriptor is refused
before any resource is read, and nothing is ever fetched.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from pipeline.errors import PipelineError

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
MAX_RESOURCES = 1000


def resource_path_problem(path) -> str | None:
    """Why a resource path is not a plain relative path inside the package, or None."""
    if not isinstance(path, str) or not path:
        return "is not a file name (a list of parts or an empty path is not read)"
    if _SCHEME.match(path) or path.startswith("//"):
        return "is a URL; resources must be files inside the package, and URLs are never fetched"
    if path.startswith(("/", "\\")) or "\\" in path:
        return "is an absolute path or has a backslash; give a path relative to datapackage.json"
    if ".." in PurePosixPath(path).parts:
        return "has '..' in it and points outside the package"
    if any(unicodedata.category(c)[0] == "C" for c in path):
        return "holds a control character"
    return None


def check_descriptor(desc: dict, where: str) -> None:
    """Raise PipelineError unless every resource has a name and a plain relative path, and names are unique."""
    resources = desc["resources"]
    if len(resources) > MAX_RESOURCES:
        raise PipelineError(
            f"{where}: datapackage.json lists {len(resources)} resources (limit {MAX_RESOURCES}); it is not a build of this pipeline"
        )
    names, paths = set(), set()
    for i, res in enumerate(resources):
        if not isinstance(res, dict):
            raise PipelineError(f"{where}: datapackage.json resource {i + 1} is not an object; rebuild the package")
        name, path = res.get("name"), res.get("path")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PipelineError(
                f"{where}: datapackage.json resource {i + 1} has no valid name ({name!r}); rebuild the package"
            )
        why = resource_path_problem(path)
        if why:
            raise PipelineError(
                f"{where}: datapackage.json resource '{name}' path {path!r} {why}; refusing the package"
            )
        assert isinstance(path, str)  # resource_path_problem refuses anything else
        key = unicodedata.normalize("NFC", str(PurePosixPath(path))).casefold()
        if name in names or key in paths:
            raise PipelineError(
                f"{where}: datapackage.json lists resource '{name}' ({path}) twice; refusing the package"
            )
        names.add(name)
        paths.add(key)
        schema = res.get("schema")
        if schema is not None and not isinstance(schema, dict):
            raise PipelineError(
                f"{where}: datapackage.json resource '{name}' has a schema that is not inline; refusing the package (schemas are never fetched)"
            )
