"""Loads a release zip or a build folder into typed pandas DataFrames, one per table (`pipeline.load`).

Input: the path of a release archive (`soviet-bloc-revolts-<version>.zip`), of a build folder
(`dist/`) or of its `datapackage.json`. Output: a dict of DataFrames by table name, typed by the
Table Schemas inlined in that `datapackage.json`: coded columns (those with an `enum`) become
categoricals with the schema's categories, integers nullable `Int64`, booleans `boolean`, numbers
`Float64`, `date` columns (the EDTF bounds `earliest_date`/`latest_date`, ...) datetimes, text
`string`; an empty cell is missing (`pd.NA`/`NaT`). A table with a one-column primary key is
indexed by it. Archives are read through `archive.read_archive` (no paths outside the archive,
size and ratio limits, SHA256SUMS checked); a folder only yields files directly inside it.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from pipeline.errors import PipelineError

DESCRIPTOR = "datapackage.json"


def load(path: str | os.PathLike, verify: bool = True) -> dict:
    """The tables of a release zip or build folder as typed DataFrames, by table name.

    `verify=False` skips checking an archive's SHA256SUMS (its safety checks still run).
    """
    files = _reader(Path(path), verify)
    try:
        descriptor = json.loads(files(DESCRIPTOR))
    except ValueError as exc:
        raise PipelineError(f"{path}: {DESCRIPTOR} is not valid JSON: {exc}") from exc
    tables = {}
    for resource in descriptor.get("resources", []):
        name, member = resource.get("name"), resource.get("path")
        if not isinstance(member, str) or not _plain_name(member):
            raise PipelineError(
                f"{path}: resource '{name}' has path {member!r}; only a file name inside the package is read"
            )
        schema = resource.get("schema")
        if not isinstance(schema, dict):
            raise PipelineError(
                f"{path}: resource '{name}' has no inline schema; load a build or release, not the root datapackage.json"
            )
        tables[name] = typed_frame(files(member), schema, f"{path}: {member}")
    return tables


def _plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\x00" not in name


def _reader(path: Path, verify: bool):
    """A function from a member's name to its bytes, for an archive, a folder or a datapackage.json."""
    if path.is_file() and path.suffix == ".zip":
        from pipeline.release.archive import read_archive

        members = read_archive(path, verify=verify).files

        def from_archive(name: str) -> bytes:
            if name not in members:
                raise PipelineError(f"{path}: the archive has no {name}; is it a release of this dataset?")
            return members[name]

        return from_archive
    folder = path.parent if path.is_file() and path.name == DESCRIPTOR else path
    if not folder.is_dir():
        raise PipelineError(f"{path}: not a release zip, a build folder or its {DESCRIPTOR}")
    root = folder.resolve()

    def from_folder(name: str) -> bytes:
        member = (folder / name).resolve()
        # A link inside the folder could still point elsewhere: read only what lies in it.
        if member.parent != root:
            raise PipelineError(f"{folder / name}: points outside {folder}; copy the file into the folder")
        try:
            return member.read_bytes()
        except OSError as exc:
            raise PipelineError(f"{folder / name}: cannot read: {exc.strerror or exc}") from exc

    return from_folder


def typed_frame(data: bytes, schema: dict, where: str = "table"):
    """One CSV table (as the build writes it) as a DataFrame typed by its Table Schema."""
    import pandas as pd

    fields = schema.get("fields", [])
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    names = [f["name"] for f in fields]
    if list(frame.columns) != names:
        raise PipelineError(f"{where}: columns {list(frame.columns)} do not match its schema's {names}")
    for spec in fields:
        name = spec["name"]
        try:
            frame[name] = _typed(frame[name], spec)
        except (ValueError, TypeError) as exc:
            raise PipelineError(
                f"{where}: column {name} does not hold {spec.get('type', 'string')} values: {exc}"
            ) from exc
    key = schema.get("primaryKey") or []
    key = [key] if isinstance(key, str) else list(key)
    if len(key) == 1:
        frame = frame.set_index(key[0])
    return frame


def _typed(column, spec: dict):
    import pandas as pd

    ftype = spec.get("type", "string")
    enum = spec.get("constraints", {}).get("enum")
    missing = column == ""
    if enum and ftype == "string":
        unknown = sorted(set(column[~missing]) - set(enum))
        if unknown:
            # pandas would turn them into missing values without a word.
            raise ValueError(f"{unknown[0]!r} is not one of its categories")
        return pd.Categorical(column.where(~missing, None), categories=list(enum))
    if ftype == "integer":
        return pd.to_numeric(column.where(~missing, None)).astype("Int64")
    if ftype == "number":
        return pd.to_numeric(column.where(~missing, None)).astype("Float64")
    if ftype == "boolean":
        values = column.map({"true": True, "false": False, "": None})
        if values.isna().sum() != missing.sum():
            raise ValueError("expected true or false")
        return values.astype("boolean")
    if ftype == "date":
        return pd.to_datetime(column.where(~missing, None), format="%Y-%m-%d")
    return column.where(~missing, None).astype("string")
