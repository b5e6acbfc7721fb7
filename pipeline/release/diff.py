"""Compares two builds or release archives table by table, matching rows by their primary keys.

Input: two dist/ folders or release archives (or paths of their datapackage.json). Output: a
`PackageDiff`: metadata changed, tables and columns added or removed, and per table the rows
added, removed and changed (each changed field old -> new); rendered as text or as JSON. Cells are
compared as the CSV files write them, so a diff shows exactly what a user of the CSV sees change.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.read.safefile import NotAFile, read_bounded
from pipeline.release.archive import Limits, read_archive
from pipeline.release.descriptor import check_descriptor

BUMPS = ("patch", "minor", "major")
# A build's descriptor holds the inline schemas: a few hundred KiB.
MAX_DESCRIPTOR_BYTES = 16 * 1024 * 1024


@dataclass
class Snapshot:
    """A data package to compare: its descriptor and a way to read its files."""

    label: str
    descriptor: dict
    files: dict[str, bytes] | None = None
    folder: Path | None = None

    def read(self, name: str) -> bytes:
        if self.files is not None:
            if name not in self.files:
                raise PipelineError(f"{self.label}: {name} is listed in datapackage.json but missing")
            return self.files[name]
        assert self.folder is not None, "a package to compare has its files or its folder"
        path = self.folder / name
        # Inside the folder even through links, a regular file, and read with a bound.
        real, root = os.path.realpath(path), os.path.realpath(self.folder)
        if not real.startswith(root + os.sep):
            raise PipelineError(f"{path}: is a link to a file outside {self.folder}; refusing to read it")
        try:
            return read_bounded(path, Limits().max_total_bytes)
        except NotAFile as exc:
            what = (
                f"is {exc.kind}, not a regular file" if exc.kind else f"is larger than {Limits().max_total_bytes} bytes"
            )
            raise PipelineError(f"{path}: {what}; refusing to read it") from exc
        except OSError as exc:
            raise PipelineError(f"{path}: cannot read: {exc.strerror}") from exc

    @property
    def version(self) -> str:
        return str(self.descriptor.get("version", "?"))


def _descriptor(data: bytes, where: str) -> dict:
    try:
        desc = json.loads(data.decode("utf-8"))
    except RecursionError as exc:
        raise PipelineError(f"{where}: datapackage.json is nested too deeply to be a descriptor") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PipelineError(f"{where}: datapackage.json is not valid JSON: {exc}") from exc
    if not isinstance(desc, dict) or not isinstance(desc.get("resources"), list):
        raise PipelineError(f"{where}: datapackage.json has no list of resources")
    check_descriptor(desc, where)
    return desc


def load_snapshot(path: Path) -> Snapshot:
    """A build folder, its datapackage.json, or a release archive (opened safely and verified)."""
    path = Path(path)
    if path.is_file() and path.name.endswith(".json"):
        path = path.parent
    if path.is_dir():
        desc_path = path / "datapackage.json"
        if not desc_path.is_file():
            raise PipelineError(f"{path}: no datapackage.json; is this a build folder (run `pipeline build`)?")
        try:
            data = read_bounded(desc_path, MAX_DESCRIPTOR_BYTES)
        except NotAFile as exc:
            raise PipelineError(
                f"{desc_path}: is larger than {MAX_DESCRIPTOR_BYTES // 2**20} MiB; it is not a build's descriptor"
            ) from exc
        except OSError as exc:
            raise PipelineError(f"{desc_path}: cannot read: {exc.strerror}") from exc
        return Snapshot(label=str(path), descriptor=_descriptor(data, str(path)), folder=path)
    if path.is_file():
        archive = read_archive(path)
        if "datapackage.json" not in archive.files:
            raise PipelineError(f"{path}: the archive has no datapackage.json at its root")
        return Snapshot(
            label=str(path), descriptor=_descriptor(archive.files["datapackage.json"], str(path)), files=archive.files
        )
    if path.exists():
        from pipeline.read.safefile import kind_of

        raise PipelineError(
            f"{path}: is {kind_of(path.stat().st_mode)}, not a build folder or archive; give a dist/ folder or a release .zip file"
        )
    raise PipelineError(f"{path}: no such build folder or archive")


@dataclass
class RowChange:
    key: dict
    changes: list[tuple[str, str, str]]


@dataclass
class TableDiff:
    """How one table present in both packages changed."""

    name: str
    primary_key: list[str]
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    fields_added: list[str] = field(default_factory=list)
    fields_removed: list[str] = field(default_factory=list)
    fields_retyped: list[tuple[str, str, str]] = field(default_factory=list)
    key_changed: tuple[list[str], list[str]] | None = None
    schema_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.fields_added
            or self.fields_removed
            or self.fields_retyped
            or self.key_changed
            or self.schema_changed
        )


@dataclass
class PackageDiff:
    old: Snapshot
    new: Snapshot
    metadata: list[tuple[str, object, object]] = field(default_factory=list)
    tables_added: list[str] = field(default_factory=list)
    tables_removed: list[str] = field(default_factory=list)
    tables: list[TableDiff] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.metadata or self.tables_added or self.tables_removed or any(not t.empty for t in self.tables))

    def required_bump(self) -> str | None:
        """The smallest semantic-version bump these changes need (None: nothing changed).

        major: a table or column removed, a column's type or a table's key changed; minor: tables,
        columns or rows added or removed; patch: cells changed (a correction is a change too),
        metadata and descriptions. Whether changed cells are corrections (patch) or new content
        (minor) only the maintainer can tell, so this is a lower bound.
        """
        if self.tables_removed or any(t.fields_removed or t.fields_retyped or t.key_changed for t in self.tables):
            return "major"
        if self.tables_added or any(t.fields_added or t.added or t.removed for t in self.tables):
            return "minor"
        return None if self.empty else "patch"

    def to_json(self) -> dict:
        return {
            "old": {"path": self.old.label, "name": self.old.descriptor.get("name"), "version": self.old.version},
            "new": {"path": self.new.label, "name": self.new.descriptor.get("name"), "version": self.new.version},
            "required_bump": self.required_bump(),
            "metadata": [{"property": k, "old": o, "new": n} for k, o, n in self.metadata],
            "tables_added": self.tables_added,
            "tables_removed": self.tables_removed,
            "tables": {
                t.name: {
                    "primary_key": t.primary_key,
                    "added": t.added,
                    "removed": t.removed,
                    "changed": [
                        {"key": c.key, "fields": {f: {"old": o, "new": n} for f, o, n in c.changes}} for c in t.changed
                    ],
                    "fields_added": t.fields_added,
                    "fields_removed": t.fields_removed,
                    "fields_retyped": [{"field": f, "old": o, "new": n} for f, o, n in t.fields_retyped],
                    "primary_key_changed": list(t.key_changed) if t.key_changed else None,
                    "schema_changed": t.schema_changed,
                }
                for t in self.tables
                if not t.empty
            },
        }

    def text(self) -> str:
        """Readable, one line per changed row: `+ key`, `- key`, `~ key: field "old" -> "new"; ...`."""
        lines = [
            f"{self.old.descriptor.get('name')} {self.old.version} -> {self.new.descriptor.get('name')} {self.new.version}"
        ]
        for key, old, new in self.metadata:
            lines.append(f"metadata: {key} {_show(old)} -> {_show(new)}")
        for name in self.tables_added:
            lines.append(f"table added: {name}")
        for name in self.tables_removed:
            lines.append(f"table removed: {name}")
        unchanged = []
        for t in self.tables:
            if t.empty:
                unchanged.append(t.name)
                continue
            lines.append(f"{t.name}: {len(t.added)} added, {len(t.removed)} removed, {len(t.changed)} changed")
            lines += [f"  column added: {f}" for f in t.fields_added]
            lines += [f"  column removed: {f}" for f in t.fields_removed]
            lines += [f"  column {f}: type {o} -> {n}" for f, o, n in t.fields_retyped]
            if t.key_changed:
                lines.append(f"  primary key {t.key_changed[0]} -> {t.key_changed[1]}")
            if t.schema_changed:
                lines.append("  schema: descriptions or constraints changed")
            lines += [f"  + {_key_text(k)}" for k in t.added]
            lines += [f"  - {_key_text(k)}" for k in t.removed]
            lines += [
                f"  ~ {_key_text(c.key)}: " + "; ".join(f"{f} {_show(o)} -> {_show(n)}" for f, o, n in c.changes)
                for c in t.changed
            ]
        if unchanged:
            lines.append("unchanged: " + ", ".join(unchanged))
        if self.empty:
            lines.append("no differences")
        return "\n".join(lines) + "\n"


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _key_text(key: dict) -> str:
    return ", ".join(str(v) for v in key.values())


def _primary_key(resource: dict) -> list[str]:
    pk = (resource.get("schema") or {}).get("primaryKey") or []
    return [pk] if isinstance(pk, str) else list(pk)


def _fields(resource: dict) -> dict[str, dict]:
    return {f["name"]: f for f in (resource.get("schema") or {}).get("fields", [])}


def _rows(snap: Snapshot, resource: dict, key_fields: list[str]) -> dict[tuple, dict]:
    data = snap.read(resource["path"])
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PipelineError(f"{snap.label}: {resource['path']} is not a readable UTF-8 CSV file: {exc}") from exc
    out = {}
    for row in rows:
        key = tuple((k, row.get(k, "")) for k in key_fields) if key_fields else tuple(sorted(row.items()))
        if key in out:
            raise PipelineError(f"{snap.label}: {resource['path']} has the key {dict(key)} twice")
        out[key] = row
    return out


def _schema_without_fields(resource: dict) -> dict:
    schema = dict(resource.get("schema") or {})
    schema["fields"] = [{k: v for k, v in f.items() if k not in ("name", "type")} for f in schema.get("fields", [])]
    return {**{k: v for k, v in resource.items() if k not in ("schema", "bytes", "hash", "path")}, "schema": schema}


def diff_tables(old: Snapshot, old_res: dict, new: Snapshot, new_res: dict) -> TableDiff:
    old_fields, new_fields = _fields(old_res), _fields(new_res)
    old_pk, new_pk = _primary_key(old_res), _primary_key(new_res)
    t = TableDiff(name=new_res["name"], primary_key=new_pk)
    t.fields_added = [f for f in new_fields if f not in old_fields]
    t.fields_removed = [f for f in old_fields if f not in new_fields]
    t.fields_retyped = [
        (f, old_fields[f].get("type", "string"), new_fields[f].get("type", "string"))
        for f in new_fields
        if f in old_fields and old_fields[f].get("type") != new_fields[f].get("type")
    ]
    if old_pk != new_pk:
        t.key_changed = (old_pk, new_pk)
    common = [f for f in new_fields if f in old_fields]
    if not t.fields_added and not t.fields_removed:
        t.schema_changed = _schema_without_fields(old_res) != _schema_without_fields(new_res)
    if "path" not in new_res or "path" not in old_res or not new_fields:
        return t
    # Rows are matched on the new key where both have it; a changed key compares whole rows.
    key_fields = new_pk if new_pk == old_pk else []
    old_rows, new_rows = _rows(old, old_res, key_fields), _rows(new, new_res, key_fields)
    for key in sorted(new_rows.keys() - old_rows.keys()):
        t.added.append(dict(key) if key_fields else {k: new_rows[key].get(k, "") for k in new_pk or common})
    for key in sorted(old_rows.keys() - new_rows.keys()):
        t.removed.append(dict(key) if key_fields else {k: old_rows[key].get(k, "") for k in old_pk or common})
    for key in sorted(old_rows.keys() & new_rows.keys()):
        changes = [
            (f, old_rows[key].get(f, ""), new_rows[key].get(f, ""))
            for f in common
            if old_rows[key].get(f, "") != new_rows[key].get(f, "")
        ]
        if changes:
            t.changed.append(RowChange(key=dict(key), changes=changes))
    return t


def diff_snapshots(old: Snapshot, new: Snapshot) -> PackageDiff:
    d = PackageDiff(old=old, new=new)
    meta_keys = sorted((set(old.descriptor) | set(new.descriptor)) - {"resources"})
    d.metadata = [
        (k, old.descriptor.get(k), new.descriptor.get(k))
        for k in meta_keys
        if old.descriptor.get(k) != new.descriptor.get(k)
    ]
    old_res = {r["name"]: r for r in old.descriptor["resources"]}
    new_res = {r["name"]: r for r in new.descriptor["resources"]}
    d.tables_added = [n for n in new_res if n not in old_res]
    d.tables_removed = [n for n in old_res if n not in new_res]
    d.tables = [diff_tables(old, old_res[n], new, new_res[n]) for n in new_res if n in old_res]
    return d


def diff_paths(old: Path, new: Path) -> PackageDiff:
    """Compare two builds or release archives (any mix)."""
    return diff_snapshots(load_snapshot(old), load_snapshot(new))
